#!/usr/bin/env node
/* global require, process */
// The admin CLI's executable (package.json "bin": {"sphere-connector": "bin/sphere-connector.cjs"}):
// registers tsx so the TypeScript sources run as they are, then runs bin/cli.ts.
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports */
require('tsx/cjs');
const { main } = require('./cli.ts');
/* eslint-enable @typescript-eslint/no-require-imports */

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
