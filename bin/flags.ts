/**
 * The command line of `npm start` and `npm run demo`: only the flags a script names, `--help`/`-h`
 * printing its usage (exit 0), anything else refused (exit 2).
 */
export function commandFlags<F extends string>(usage: string, known: readonly F[], args: readonly string[] = process.argv.slice(2)): Set<F> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    process.exit(0);
  }
  const unknown = args.filter((a) => !(known as readonly string[]).includes(a));
  if (unknown.length > 0) {
    console.error(`Unknown argument(s): ${unknown.join(' ')} (try --help)`);
    process.exit(2);
  }
  return new Set(args as F[]);
}
