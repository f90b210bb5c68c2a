import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

/** WebAssembly files that ptk loads at run time, by asset name. */
const assetModules = {
  'highs.wasm': 'highs/runtime',
} as const;

export type AssetName = keyof typeof assetModules;

/**
 * Reads a WebAssembly asset: from the single executable's embedded assets when ptk runs as one,
 * else from the installed npm package.
 */
export async function readAsset(name: AssetName): Promise<Uint8Array> {
  const sea = await loadSeaModule();
  if (sea?.isSea()) return new Uint8Array(sea.getAsset(name));

  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve(assetModules[name]));
}

interface SeaModule {
  isSea(): boolean;
  getAsset(key: string): ArrayBuffer;
}

async function loadSeaModule(): Promise<SeaModule | undefined> {
  try {
    return (await import('node:sea')) as unknown as SeaModule;
  } catch {
    return undefined;
  }
}
