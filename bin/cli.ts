/**
 * Entry of the admin CLI (`npx sphere-connector …`, through bin/sphere-connector.cjs). The commands
 * live in cli/; this file only binds them to the process.
 */
import { type CliIo, runCli } from '../cli/commands';
import { createSecretReader } from '../cli/secret-input';

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  isTTY: Boolean(process.stderr.isTTY),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  readSecret: createSecretReader(process.stdin, (text) => process.stderr.write(text)),
};

export async function main(argv: string[] = process.argv.slice(2), io: CliIo = processIo): Promise<number> {
  return runCli(argv, io);
}
