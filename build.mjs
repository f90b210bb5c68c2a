// Builds ptk into dist/: `dist/ptk.cjs`, one CommonJS bundle that runs with `node dist/ptk.cjs`, and `dist/ptk`,
// a Node single executable application (SEA) that carries that bundle and the WebAssembly assets.
// Run it with `npm run build`. Steps: esbuild bundle, assets copied next to the bundle, SEA blob, copy of the
// running node binary, blob injected with postject.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';
import { inject } from 'postject';
import { tsImport } from 'tsx/esm/api';

const root = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(root, 'dist');
const bundlePath = path.join(dist, 'ptk.cjs');
const executablePath = path.join(dist, 'ptk');
const blobPath = path.join(dist, 'ptk.blob');
const seaConfigPath = path.join(dist, 'sea-config.json');

// The fuse string that Node's binary contains once and that postject flips to mark a blob as injected
// (POSTJECT_SENTINEL_FUSE in Node's src/node_sea.cc).
const seaFuse = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** Bundles cmd/sea-entry.ts and every package it imports into dist/ptk.cjs. */
async function bundle() {
  await build({
    entryPoints: [path.join(root, 'cmd/sea-entry.ts')],
    outfile: bundlePath,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // CommonJS has no import.meta, so every `import.meta.url` (ptk's and the highs loader's) reads the
    // bundle's own file URL. In a single executable, __filename is the executable's path.
    banner: { js: 'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: { 'import.meta.url': '__bundleUrl' },
    // A single executable's script cannot use import() on Node 20 ("A dynamic import callback was not
    // specified"), so esbuild rewrites every import(), such as the highs loader's import("node:module"), to
    // require().
    supported: { 'dynamic-import': false },
    logLevel: 'warning',
  });
}

/** Resolves each asset that core/assets.ts lists to its file in node_modules. */
async function resolveAssets() {
  const { assetModules } = await tsImport('./core/assets.ts', import.meta.url);
  const require = createRequire(import.meta.url);
  return Object.fromEntries(Object.entries(assetModules).map(([name, specifier]) => [name, require.resolve(specifier)]));
}

/** Builds dist/ptk from the bundle: SEA blob, then a copy of this node binary with the blob injected. */
async function buildExecutable(assets) {
  const seaConfig = {
    main: bundlePath,
    output: blobPath,
    disableExperimentalSEAWarning: true,
    // Stores V8's code cache of the bundle in the blob, so that start-up compiles less of it.
    useCodeCache: true,
    assets,
  };
  writeFileSync(seaConfigPath, `${JSON.stringify(seaConfig, null, 2)}\n`);
  execFileSync(process.execPath, ['--experimental-sea-config', seaConfigPath], { stdio: 'inherit' });

  rmSync(executablePath, { force: true });
  copyFileSync(process.execPath, executablePath);
  chmodSync(executablePath, 0o755);
  await injectQuietly(executablePath, readFileSync(blobPath));
  rmSync(blobPath);
}

/**
 * Injects the SEA blob into the executable. postject's ELF library warns "Can't find string offset for section
 * name" for each of node's .note sections, which is harmless, so those lines are dropped and others printed.
 */
async function injectQuietly(file, blob) {
  const warn = console.warn;
  console.warn = (...args) => {
    if (!/^warning: Can't find string offset for section name/.test(String(args[0]))) warn(...args);
  };
  try {
    await inject(file, 'NODE_SEA_BLOB', blob, { sentinelFuse: seaFuse });
  } finally {
    console.warn = warn;
  }
}

/**
 * Lists the Python runtime's files as single-executable assets (`runtime/ptk/run.py`, …) plus
 * `runtime/index.json`, the list that core/runtime-files.ts reads to unpack them.
 */
function runtimeAssets() {
  const runtimeRoot = path.join(root, 'runtime');
  const files = readdirSync(path.join(runtimeRoot, 'ptk'))
    .filter((name) => name.endsWith('.py'))
    .sort()
    .map((name) => `ptk/${name}`);
  const indexPath = path.join(dist, 'runtime-index.json');
  writeFileSync(indexPath, JSON.stringify(files));
  return Object.fromEntries([['runtime/index.json', indexPath], ...files.map((file) => [`runtime/${file}`, path.join(runtimeRoot, file)])]);
}

/** Runs `dist/ptk --version` with the temp folder as working directory, to check that the executable starts. */
function smokeTest() {
  const output = execFileSync(executablePath, ['--version'], { cwd: tmpdir(), encoding: 'utf8' });
  if (!output.includes('ptk')) throw new Error(`dist/ptk --version printed an unexpected output: ${JSON.stringify(output)}`);
}

function megabytes(file) {
  return `${(statSync(file).size / 1024 / 1024).toFixed(1)} MiB`;
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

try {
  await bundle();
} catch (error) {
  // esbuild has already printed each error with its file and line.
  console.error(`build failed: esbuild reported ${error.errors?.length ?? 'an'} error(s), listed above`);
  process.exit(1);
}
const assets = await resolveAssets();
for (const [name, file] of Object.entries(assets)) copyFileSync(file, path.join(dist, name));
console.log(`built dist/ptk.cjs (${megabytes(bundlePath)}) and copied ${Object.keys(assets).join(', ')} next to it`);

await buildExecutable({ ...assets, ...runtimeAssets() });
smokeTest();
console.log(`built dist/ptk (${megabytes(executablePath)}), a single executable of node ${process.version}`);
