/** Secrets for the CLI come from piped stdin (one per line) or a terminal prompt without echo. */
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { createSecretReader } from '../../../cli/secret-input';

it('reads one secret per line from piped stdin, in order, and never prompts', async () => {
  const prompts: string[] = [];
  const read = createSecretReader(Readable.from(['seq-secret\r\nsph_', 'key\n']), (t) => prompts.push(t));
  await expect(read('Sequence client secret: ')).resolves.toBe('seq-secret');
  await expect(read('Sphere API key: ')).resolves.toBe('sph_key');
  await expect(read('Another: ')).rejects.toThrow('No value on stdin for Another');
  expect(prompts).toEqual([]);
});

it('fails clearly when stdin is empty', async () => {
  await expect(createSecretReader(Readable.from([]), () => undefined)('Sphere API key: ')).rejects.toThrow('No value on stdin for Sphere API key');
});

it('prompts on a terminal and reads without echo (raw mode, backspace honoured, raw mode restored)', async () => {
  const tty = Object.assign(new EventEmitter(), {
    isTTY: true,
    rawModes: [] as boolean[],
    setRawMode(mode: boolean) {
      this.rawModes.push(mode);
    },
    resume: () => undefined,
    pause: () => undefined,
  });
  const written: string[] = [];
  const read = createSecretReader(tty as unknown as Readable, (t) => written.push(t));
  const pending = read('Sphere API key: ');
  tty.emit('data', Buffer.from('sph_x'));
  tty.emit('data', Buffer.from('\u007fy\r'));
  await expect(pending).resolves.toBe('sph_y');
  expect(written).toEqual(['Sphere API key: ', '\n']);
  expect(tty.rawModes).toEqual([true, false]);
});
