/**
 * The flags of a small script (`npm start -- --fresh`, `npm run demo -- --in-process`): `--help` or
 * `-h` prints the usage and exits 0; any other argument it does not know exits 2, naming it.
 */
export function scriptFlags(argv: string[], known: string[], usage: string): Set<string> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    process.exit(0);
  }
  const unknown = argv.filter((a) => !known.includes(a));
  if (unknown.length > 0) {
    console.error(`Unknown argument(s): ${unknown.join(' ')} (try --help)`);
    process.exit(2);
  }
  return new Set(argv);
}
