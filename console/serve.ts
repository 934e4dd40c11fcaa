/**
 * Serves the operator console (console/app) under `/console/`: the local front door (`npm start`)
 * and `sphere-connector console` both use this. The TypeScript is bundled once per process with the
 * project's esbuild, in memory (nothing written to disk, nothing to build before `npm start`).
 */
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';

const APP_DIR = path.join(__dirname, 'app');

/** The page may only load its own files and call its own origin. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export interface ConsoleServeOptions {
  /** `token`: the page asks for the admin token. `session`: the console server adds credentials itself. */
  auth: 'token' | 'session';
  sessionToken?: string;
  /** Where the admin API is, shown in the page header. */
  target: string;
}

let bundle: Promise<string> | undefined;

/** The console's JavaScript, built once (minified IIFE for current browsers). */
export function consoleBundle(): Promise<string> {
  bundle ??= import('esbuild')
    .then((esbuild) =>
      esbuild.build({
        entryPoints: [path.join(APP_DIR, 'main.ts')],
        bundle: true,
        write: false,
        format: 'iife',
        platform: 'browser',
        target: ['es2022'],
        minify: true,
        legalComments: 'none',
        logLevel: 'silent',
      }),
    )
    .then((result) => result.outputFiles[0]!.text)
    .catch((error: unknown) => {
      bundle = undefined; // let the next request try again (e.g. after fixing a syntax error)
      throw error;
    });
  return bundle;
}

/** Is this request for the console (GET/HEAD under /console)? */
export function isConsolePath(method: string, rawPath: string): boolean {
  return (method === 'GET' || method === 'HEAD') && (rawPath === '/console' || rawPath.startsWith('/console/'));
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...SECURITY_HEADERS, ...extra });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

/** Answer a console request (call only when isConsolePath is true). */
export async function serveConsole(rawPath: string, res: http.ServerResponse, options: ConsoleServeOptions): Promise<void> {
  // The page's URLs are relative: it must be loaded from the directory, never from `/console`.
  if (rawPath === '/console') return send(res, 308, 'text/plain', '', { location: '/console/' });
  switch (rawPath.slice('/console/'.length)) {
    case '':
      return send(res, 200, 'text/html; charset=utf-8', readFileSync(path.join(APP_DIR, 'index.html')));
    case 'style.css':
      return send(res, 200, 'text/css; charset=utf-8', readFileSync(path.join(APP_DIR, 'style.css')));
    case 'app.js':
      try {
        return send(res, 200, 'text/javascript; charset=utf-8', await consoleBundle());
      } catch (error) {
        return send(res, 500, 'application/json', JSON.stringify({ error: { code: 'console_build_failed', message: `The console could not be built: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` } }));
      }
    case 'config.json':
      return send(res, 200, 'application/json', JSON.stringify({ auth: options.auth, target: options.target, ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}) }));
    default:
      return send(res, 404, 'application/json', JSON.stringify({ error: { code: 'not_found', message: `No console file ${rawPath}` } }));
  }
}
