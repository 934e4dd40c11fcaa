/** CLI output helpers and argument handling that needs no server (usage errors exit 2, help exits 0). */
import { type CliIo, USAGE, runCli } from '../../../cli/commands';
import { keyValues, progressBar, redact, table } from '../../../cli/format';

function fakeIo(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env, isTTY: false, sleep: async () => undefined };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

describe('format', () => {
  it('draws a padded table with a rule, and (none) when empty', () => {
    const text = table([{ a: 'x', b: 1 }, { a: 'longer', b: 22 }], [
      { header: 'A', value: (r) => r.a },
      { header: 'BEE', value: (r) => r.b },
    ]);
    expect(text).toBe('A       BEE\n------  ---\nx       1\nlonger  22\n');
    expect(table([], [{ header: 'A', value: () => '' }])).toContain('(none)');
  });

  it('draws key/value blocks', () => {
    expect(keyValues([['id', 'c1'], ['status', 'ACTIVE']])).toBe('id      c1\nstatus  ACTIVE\n');
  });

  it.each([
    [0, 10, '[------------------------------]   0%  0/10'],
    [5, 10, '[###############---------------]  50%  5/10'],
    [10, 10, '[##############################] 100%  10/10'],
    [3, 0, '[------------------------------]   ?%  3/?'],
    [12, 10, '[##############################] 100%  12/10'],
  ])('progress %i/%i', (done, total, expected) => {
    expect(progressBar(done, total)).toBe(expected);
  });

  it('redacts secret-looking fields at any depth', () => {
    expect(redact({ id: 'c1', sequence: { clientSecret: 's', clientId: 'id' }, sphere: { apiKey: 'k' }, list: [{ token: 't' }] })).toEqual({
      id: 'c1',
      sequence: { clientSecret: '[redacted]', clientId: 'id' },
      sphere: { apiKey: '[redacted]' },
      list: [{ token: '[redacted]' }],
    });
  });
});

describe('runCli usage', () => {
  it('prints help and exits 0 with --help; 2 with no command', async () => {
    const help = fakeIo();
    expect(await runCli(['--help'], help.io)).toBe(0);
    expect(help.out()).toBe(USAGE);
    expect(await runCli([], fakeIo().io)).toBe(2);
  });

  it.each([
    [['bogus'], /Unknown command "bogus"/],
    [['list', '--nope'], /Unknown option '--nope'/],
    [['status'], /Missing <id>/],
    [['retry', 'c1'], /either --all or --resource-type/],
    [['retry', 'c1', '--all', '--resource-id', 'x'], /either --all or --resource-type/],
    [['connect', '--name', 'n'], /connect needs --sequence-client-id, --sequence-client-secret \(or SEQUENCE_CLIENT_SECRET\), --sphere-api-key \(or SPHERE_API_KEY\)/],
    [['list', '--url', 'not a url'], /--url must be an absolute URL/],
    [['list', '--aws', '--url', 'http://127.0.0.1:1'], /--aws needs a region/],
    [['audit', 'c1', '--limit', 'x'], /--limit must be a positive integer/],
  ])('%j → exit 2 with a message', async (argv, message) => {
    const { io, err } = fakeIo();
    expect(await runCli(argv, io)).toBe(2);
    expect(err()).toMatch(message);
  });
});
