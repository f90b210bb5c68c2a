import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { RunError } from './errors.ts';

/**
 * WebAssembly files that ptk loads at run time, by asset name, each with the package export that resolves
 * to the file. build.mjs embeds every entry in the single executable and copies it next to the bundle.
 */
export const assetModules = {
  'highs.wasm': 'highs/runtime',
} as const;

export type AssetName = keyof typeof assetModules;

/**
 * Reads a WebAssembly asset: from the single executable's embedded assets when ptk runs as one, else from
 * a copy next to the running script (build.mjs puts one next to dist/ptk.cjs), else from the installed npm
 * package.
 */
export async function readAsset(name: AssetName): Promise<Uint8Array> {
  // A synchronous require works in all three modes. A single executable's script is CommonJS and, on
  // Node 20, cannot use import(), so `await import('node:sea')` would fail there.
  const require = createRequire(import.meta.url);
  const sea = loadSeaModule(require);
  if (sea?.isSea()) return new Uint8Array(sea.getAsset(name));

  const besideScript = fileURLToPath(new URL(name, import.meta.url));
  if (existsSync(besideScript)) return readFileSync(besideScript);

  let packageFile: string;
  try {
    packageFile = require.resolve(assetModules[name]);
  } catch {
    throw new RunError(
      `${name} not found: ptk looked for it next to ${fileURLToPath(import.meta.url)} and in the installed ` +
        `package ${assetModules[name]}. Reinstall ptk, or keep ${name} next to the bundle as npm run build leaves it.`,
    );
  }
  return readFileSync(packageFile);
}

/** Loads `node:sea`, or returns undefined on a Node version without it (its API came in 20.12). */
function loadSeaModule(require: NodeJS.Require): typeof import('node:sea') | undefined {
  try {
    return require('node:sea') as typeof import('node:sea');
  } catch {
    return undefined;
  }
}

/**
 * Emscripten loader options that hand a module its WebAssembly code: the bytes, for loaders that read
 * `wasmBinary`, and a callback that instantiates the compiled module, for loaders that only call
 * `instantiateWasm`.
 */
export interface WasmLoaderOptions {
  wasmBinary: Uint8Array<ArrayBuffer>;
  instantiateWasm(
    imports: WebAssembly.Imports,
    receiveInstance: (instance: WebAssembly.Instance, module?: WebAssembly.Module) => unknown,
  ): unknown;
}

/**
 * Compiles a WebAssembly asset and returns the loader options that hand it to its module, for example
 * `highsLoader(await wasmLoaderOptions('highs.wasm'))`. `{ wasmBinary }` alone is not enough: highs 1.15.3
 * declares that option in its types, but its loader never reads it and opens `highs.wasm` beside the
 * loader script instead, a file that a single executable does not have.
 */
export async function wasmLoaderOptions(name: AssetName): Promise<WasmLoaderOptions> {
  // readAsset's bytes never live in a SharedArrayBuffer, which is what BufferSource's type rules out.
  const bytes = (await readAsset(name)) as Uint8Array<ArrayBuffer>;
  // Compiling before the loader runs makes an invalid file reject here. The loader waits on instantiateWasm
  // through a promise that it never rejects, so an asynchronous failure inside the callback would hang.
  const module = await WebAssembly.compile(bytes);
  return {
    wasmBinary: bytes,
    instantiateWasm(imports, receiveInstance) {
      return receiveInstance(new WebAssembly.Instance(module, imports), module);
    },
  };
}
