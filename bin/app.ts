#!/usr/bin/env node
/**
 * CDK app: `npx cdk synth [-c stage=sandbox|production] [-c alarmEmail=ops@example.com]`.
 * Stacks are environment-agnostic (no account/region lookups), so synth works offline without credentials;
 * `cdk deploy` takes the account and region from the caller's AWS profile.
 */
import { App } from 'aws-cdk-lib';
import { buildConnectorApp } from '../lib/connector-app';

const app = new App();
buildConnectorApp(app);
app.synth();
