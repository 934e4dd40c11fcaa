/**
 * fauxqs ships ESM only (its package.json exports only the "import" condition). Under tsx/node a
 * dynamic import works. Under jest (CommonJS, its own module registry, no vm-modules flag) both
 * `import()` and `require()` fail, so we fall back to Node's own loader (`Module._load`), which on
 * Node >= 20.19 can require an ES module without top-level await, like fauxqs.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import path from 'node:path';
import type * as Fauxqs from 'fauxqs';

interface NodeModuleInternals {
  _load(request: string, parent: unknown, isMain: boolean): unknown;
  _nodeModulePaths(from: string): string[];
}

function resolveImportEntry(pkg: string): string {
  const internals = (nodeModule as unknown as { Module: NodeModuleInternals }).Module;
  for (const dir of internals._nodeModulePaths(__dirname)) {
    const manifest = path.join(dir, pkg, 'package.json');
    if (!existsSync(manifest)) continue;
    const json = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: unknown; main?: string; module?: string };
    const root = (json.exports as Record<string, unknown> | undefined)?.['.'] as Record<string, unknown> | string | undefined;
    const importEntry = typeof root === 'string' ? root : (root?.import as Record<string, unknown> | string | undefined);
    const entry = typeof importEntry === 'string' ? importEntry : ((importEntry?.default as string | undefined) ?? json.module ?? json.main ?? 'index.js');
    return path.join(dir, pkg, entry);
  }
  throw new Error(`Cannot find package ${pkg} in node_modules`);
}

function nativeRequire(file: string): unknown {
  const internals = (nodeModule as unknown as { Module: NodeModuleInternals }).Module;
  return internals._load(file, null, false);
}

let fauxqsModule: Promise<typeof Fauxqs> | undefined;

export function loadFauxqs(): Promise<typeof Fauxqs> {
  fauxqsModule ??= (async () => {
    if (!process.env.JEST_WORKER_ID) {
      try {
        return (await import('fauxqs')) as typeof Fauxqs;
      } catch {
        // fall through to the native loader
      }
    }
    return nativeRequire(resolveImportEntry('fauxqs')) as typeof Fauxqs;
  })();
  return fauxqsModule;
}
