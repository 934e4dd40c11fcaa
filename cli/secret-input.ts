/**
 * Reading secrets for the CLI without putting them on the command line (where they would land in
 * shell history and in `ps` output):
 *  - piped stdin: one secret per line, in the order the command asks for them
 *    (`printf '%s\n' "$KEY" | sphere-connector update <id> --sphere-api-key-stdin`);
 *  - a terminal: a prompt on stderr and the typed characters not echoed.
 */
import type { Readable } from 'node:stream';

export type SecretReader = (prompt: string) => Promise<string>;

type Input = Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };

export function createSecretReader(input: Input, promptOut: (text: string) => void): SecretReader {
  let piped: Promise<string[]> | undefined;
  const readAll = async (): Promise<string[]> => {
    let text = '';
    for await (const chunk of input) text += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    return text.split(/\r?\n/);
  };

  return async (prompt) => {
    if (!input.isTTY || !input.setRawMode) {
      piped ??= readAll();
      const lines = await piped;
      const line = lines.shift();
      if (line === undefined || line === '') throw new Error(`No value on stdin for ${prompt.replace(/:\s*$/, '')}`);
      return line;
    }
    promptOut(prompt);
    try {
      return await readHidden(input);
    } finally {
      promptOut('\n'); // the Enter the user typed was not echoed
    }
  };
}

/** One line from a terminal in raw mode, without echo; Ctrl-C aborts. */
function readHidden(input: Input): Promise<string> {
  return new Promise((resolve, reject) => {
    let value = '';
    input.setRawMode!(true);
    input.resume();
    const done = (error?: Error) => {
      input.off('data', onData);
      input.setRawMode!(false);
      input.pause();
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('Cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    input.on('data', onData);
  });
}
