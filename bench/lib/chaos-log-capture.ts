/**
 * Capture everything the process logs (process.stdout/stderr writes and console.*, which is where
 * Powertools' logger writes in both its Lambda JSON mode and its dev mode) so a run can be scanned
 * for secret values afterwards. Used by the chaos and fuzz suites (benches and their reduced tests).
 */
import { format } from 'node:util';

export interface LogCapture {
  /** Every captured chunk, in order. */
  readonly lines: string[];
  /** Bytes captured so far. */
  bytes(): number;
  /** Also add a line from elsewhere (the front door's log callback, the simulators). */
  push(line: string): void;
  /** Write to the real stdout, bypassing the capture (progress output of the benches). */
  print(text: string): void;
  stop(): void;
}

export interface LogCaptureOptions {
  /** Pass captured output through to the terminal as well (default false). */
  passThrough?: boolean;
}

type Write = typeof process.stdout.write;

export function captureLogs(options: LogCaptureOptions = {}): LogCapture {
  const lines: string[] = [];
  let size = 0;
  const add = (text: string) => {
    lines.push(text);
    size += text.length;
  };
  const originals: { stream: NodeJS.WriteStream; write: Write }[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream) as Write;
    originals.push({ stream, write: stream.write });
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      add(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      if (options.passThrough) return (original as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
      const callback = rest.find((r): r is () => void => typeof r === 'function');
      callback?.();
      return true;
    }) as Write;
  }
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const consoleOriginals = methods.map((m) => [m, console[m]] as const);
  for (const m of methods) {
    console[m] = (...args: unknown[]) => {
      add(format(...args));
    };
  }
  const realStdout = originals[0]!.write.bind(process.stdout) as Write;
  return {
    lines,
    bytes: () => size,
    push: add,
    print: (text: string) => {
      realStdout(text);
    },
    stop: () => {
      for (const { stream, write } of originals) stream.write = write;
      for (const [m, fn] of consoleOriginals) console[m] = fn;
    },
  };
}

/** Count the captured lines containing any of the secret values (each secret checked raw). */
export function secretHits(lines: readonly string[], secrets: readonly string[]): { total: number; bySecret: Record<string, number>; samples: string[] } {
  const bySecret: Record<string, number> = {};
  const samples: string[] = [];
  let total = 0;
  const usable = secrets.filter((s) => s.length >= 6);
  usable.forEach((_, i) => (bySecret[`secret#${i + 1}`] = 0));
  for (const line of lines) {
    usable.forEach((secret, i) => {
      if (line.includes(secret)) {
        total += 1;
        bySecret[`secret#${i + 1}`]! += 1;
        // Redact before keeping a sample: the report must not leak what it found.
        if (samples.length < 5) samples.push(line.split(secret).join('«REDACTED»').slice(0, 300));
      }
    });
  }
  return { total, bySecret, samples };
}
