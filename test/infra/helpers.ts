import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { buildConnectorApp, type ConnectorStacks } from '../../lib/connector-app';
import type { Stage } from '../../lib/stage-config';

/** Context key `aws:cdk:bundling-stacks` (cx-api BUNDLING_STACKS): `[]` skips esbuild in assertions. */
export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };

export const FIXTURE_HANDLER = path.join(__dirname, 'fixtures', 'echo', 'handler.ts');

/** The real connector app for a stage, with bundling skipped. */
export function connectorApp(stage: Stage, extraContext: Record<string, unknown> = {}): { app: App } & ConnectorStacks {
  const app = new App({ context: { ...NO_BUNDLING, stage, ...extraContext } });
  return { app, ...buildConnectorApp(app) };
}

/** A throwaway app + stack for construct tests. */
export function testStack(): { app: App; stack: Stack } {
  const app = new App({ context: NO_BUNDLING });
  return { app, stack: new Stack(app, 'TestStack') };
}
