import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunError } from './errors.ts';

/** Name of the single executable's asset that lists the runtime's files (build.mjs writes it). */
export const runtimeIndexAsset = 'runtime/index.json';

/**
 * Returns the folder that contains the `ptk` Python package, to put on PYTHONPATH. From a checkout this is
 * `runtime/`; a single executable unpacks its embedded copy once into a cache folder named by the
 * files' hash, so two versions of ptk never share one.
 */
export function runtimeDirectory(): string {
  const fromSources = fileURLToPath(new URL('../runtime/', import.meta.url));
  if (existsSync(join(fromSources, 'ptk', 'run.py'))) return fromSources;

  const files = embeddedRuntimeFiles();
  if (!files) throw new RunError(`the ptk Python runtime was not found in ${fromSources}; reinstall ptk`);
  return unpackRuntime(files);
}

/** Reads the Python runtime's files: each path under `runtime/` and its text. */
export function readRuntimeFiles(): { path: string; content: string }[] {
  const embedded = embeddedRuntimeFiles();
  if (embedded) return embedded;

  const root = fileURLToPath(new URL('../runtime/ptk/', import.meta.url));
  return readdirSync(root)
    .filter((name) => name.endsWith('.py'))
    .sort()
    .map((name) => ({ path: `ptk/${name}`, content: readFileSync(join(root, name), 'utf8') }));
}

function embeddedRuntimeFiles(): { path: string; content: string }[] | undefined {
  const require = createRequire(import.meta.url);
  let sea: typeof import('node:sea') | undefined;
  try {
    sea = require('node:sea') as typeof import('node:sea');
  } catch {
    return undefined;
  }
  if (!sea.isSea()) return undefined;

  const index = JSON.parse(sea.getAsset(runtimeIndexAsset, 'utf8')) as string[];
  return index.map((path) => ({ path, content: sea!.getAsset(`runtime/${path}`, 'utf8') }));
}

function unpackRuntime(files: { path: string; content: string }[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(file.path).update('\0').update(file.content).update('\0');
  const base = process.env.XDG_CACHE_HOME ?? (homedir() ? join(homedir(), '.cache') : tmpdir());
  const target = join(base, 'ptk', `runtime-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(join(target, 'ptk', 'run.py'))) return target;

  // Unpack next to the target and rename, so a concurrent ptk never reads a half-written package.
  const staging = `${target}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  for (const file of files) {
    mkdirSync(join(staging, file.path, '..'), { recursive: true });
    writeFileSync(join(staging, file.path), file.content);
  }
  try {
    renameSync(staging, target);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(target, 'ptk', 'run.py'))) throw error;
  }
  return target;
}
