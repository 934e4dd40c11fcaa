/**
 * Bundle connector functions exactly as the stack does: `CONNECTOR_BUNDLING` (the NodejsFunction
 * bundling options of lib/constructs/connector-function.ts) turned into the esbuild build the CDK
 * runs (`esbuild --bundle <entry> --target=… --platform=node --format=esm --outfile=…/index.mjs
 * --minify --sourcemap --sources-content=false --keep-names --banner:js=… --main-fields=…`, no externals). Shared by the
 * bundle integration test (test/integration/bundles) and the cold-start benchmark (bench/cold-start.ts).
 *
 * Bundles are written OUTSIDE the repository (a temp dir), like /var/task on Lambda: a module the
 * bundle failed to include cannot be found in the repo's node_modules at run time.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { CONNECTOR_BUNDLING, PROJECT_ROOT } from '../../lib/constructs/connector-function';

export interface FunctionEntry {
  /** Folder name under functions/ (= the function's name in the stack). */
  name: string;
  /** Absolute path of its handler.ts. */
  entry: string;
}

/** Every `functions/<name>/handler.ts`, sorted by name (read at call time, so new functions are picked up). */
export function discoverFunctions(root: string = PROJECT_ROOT): FunctionEntry[] {
  const dir = path.join(root, 'functions');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, 'handler.ts')))
    .map((d) => ({ name: d.name, entry: path.join(dir, d.name, 'handler.ts') }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The bundling keys this module knows how to translate; anything else in CONNECTOR_BUNDLING is an error. */
const KNOWN_KEYS = new Set(['format', 'target', 'minify', 'sourceMap', 'sourcesContent', 'keepNames', 'mainFields', 'banner', 'externalModules']);

/**
 * The esbuild options for one entry, derived from CONNECTOR_BUNDLING. Throws when CONNECTOR_BUNDLING
 * uses an option not translated here, so the test cannot silently bundle differently from the stack.
 */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  const unknown = Object.keys(CONNECTOR_BUNDLING).filter((key) => !KNOWN_KEYS.has(key));
  if (unknown.length > 0) {
    throw new Error(`CONNECTOR_BUNDLING has option(s) bench/lib/bundle.ts does not translate to esbuild yet: ${unknown.join(', ')}`);
  }
  const b = CONNECTOR_BUNDLING;
  const format = String(b.format);
  if (format !== 'esm' && format !== 'cjs') throw new Error(`Unexpected bundling format ${format}`);
  return {
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format,
    target: b.target,
    minify: b.minify,
    sourcemap: b.sourceMap,
    // CDK passes --sources-content=false only when sourcesContent is false (its default is true).
    sourcesContent: b.sourcesContent,
    keepNames: b.keepNames,
    mainFields: [...b.mainFields],
    banner: { js: b.banner },
    external: [...b.externalModules],
    outfile,
    absWorkingDir: PROJECT_ROOT,
    logLevel: 'silent',
    metafile: true,
  };
}

export interface PackageSize {
  /** npm package name, or `(project)` for the repository's own code. */
  name: string;
  /** Bytes it contributes to the (minified) bundle. */
  bytes: number;
}

export interface BundledFunction {
  ok: true;
  name: string;
  entry: string;
  /** Absolute path of index.mjs (index.js for CJS). */
  outfile: string;
  bytes: number;
  gzipBytes: number;
  /** Size of the source map next to it. */
  sourceMapBytes: number;
  buildMs: number;
  warnings: string[];
  /** Biggest contributors to the bundle, largest first. */
  packages: PackageSize[];
}

export interface FailedBundle {
  ok: false;
  name: string;
  entry: string;
  error: string;
}

export type BundleOutcome = BundledFunction | FailedBundle;

function packageOf(input: string): string {
  const marker = 'node_modules/';
  const at = input.lastIndexOf(marker);
  if (at === -1) return '(project)';
  const rest = input.slice(at + marker.length).split('/');
  return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
}

function packageSizes(metafile: Metafile, outfile: string): PackageSize[] {
  const output = Object.entries(metafile.outputs).find(([file]) => path.resolve(PROJECT_ROOT, file) === outfile)?.[1];
  if (!output) return [];
  const totals = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const name = packageOf(input);
    totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/**
 * Known cold-start regressions, reported as bundle warnings (the bundle test expects none):
 * `import { z } from 'zod'` makes esbuild keep zod's whole `locales` namespace (every translation,
 * ≈270 KiB minified, ≈20 ms of import time); `import * as z from 'zod'` lets it keep English only.
 */
function coldStartWarnings(metafile: Metafile, outfile: string): string[] {
  const output = Object.entries(metafile.outputs).find(([file]) => path.resolve(PROJECT_ROOT, file) === outfile)?.[1];
  if (!output) return [];
  const locales = Object.entries(output.inputs)
    .filter(([input]) => /node_modules\/zod\/v4\/locales\/(?!en\.js$)[^/]+\.js$/.test(input))
    .reduce((sum, [, { bytesInOutput }]) => sum + bytesInOutput, 0);
  return locales > 0
    ? [`zod bundles every locale (${Math.round(locales / 1024)} KiB): import zod as \`import * as z from 'zod'\`, not \`import { z } from 'zod'\` (bench/COLD-START.md)`]
    : [];
}

/** Bundle one function into `<outRoot>/<name>/index.mjs`. Never throws: a failure is returned. */
export async function bundleFunction(fn: FunctionEntry, outRoot: string): Promise<BundleOutcome> {
  const extension = String(CONNECTOR_BUNDLING.format) === 'esm' ? 'mjs' : 'js';
  const outfile = path.join(outRoot, fn.name, `index.${extension}`);
  const started = performance.now();
  try {
    mkdirSync(path.dirname(outfile), { recursive: true });
    const result = await build(esbuildOptions(fn.entry, outfile));
    const code = readFileSync(outfile);
    const mapFile = `${outfile}.map`;
    return {
      ok: true,
      name: fn.name,
      entry: fn.entry,
      outfile,
      bytes: code.length,
      gzipBytes: gzipSync(code, { level: 9 }).length,
      sourceMapBytes: existsSync(mapFile) ? statSync(mapFile).size : 0,
      buildMs: Math.round(performance.now() - started),
      warnings: [
        ...result.warnings.map((w) => `${w.location ? `${w.location.file}:${w.location.line}: ` : ''}${w.text}`),
        ...(result.metafile ? coldStartWarnings(result.metafile, outfile) : []),
      ],
      packages: result.metafile ? packageSizes(result.metafile, outfile) : [],
    };
  } catch (error) {
    const failure = error as { errors?: { text: string; location?: { file: string; line: number } | null }[]; message?: string };
    const detail = failure.errors?.length
      ? failure.errors.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`).join('\n')
      : String(failure.message ?? error);
    return { ok: false, name: fn.name, entry: fn.entry, error: detail };
  }
}

/** Bundle several functions with at most `concurrency` esbuild builds at a time (esbuild is itself multi-threaded). */
export async function bundleAll(functions: readonly FunctionEntry[], outRoot: string, options: { concurrency?: number } = {}): Promise<Map<string, BundleOutcome>> {
  const results = new Map<string, BundleOutcome>();
  const queue = [...functions];
  const workers = Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 2, queue.length)) }, async () => {
    for (let fn = queue.shift(); fn; fn = queue.shift()) results.set(fn.name, await bundleFunction(fn, outRoot));
  });
  await Promise.all(workers);
  return results;
}
