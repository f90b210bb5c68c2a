// Helpers for the runtime tests: they run the real `python -m ptk.run` and `python -m ptk.pod` on specs and
// data folders that each test builds in its own temp folder.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const python = process.env.PTK_PYTHON ?? 'python3';
export const runtimeFolder = join(process.cwd(), 'runtime');

/** Why the numpy tests are skipped, or null when `import numpy` works in the interpreter under test. */
export const numpyMissing: string | null = (() => {
  const probe = spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' });
  return probe.status === 0 ? null : `import numpy failed in ${python}: ${probe.stderr.trim().split('\n').pop()}`;
})();

/** Logs a loud skip line for a test that cannot run here. */
export function skipBecause(name: string, reason: string): void {
  console.log(`\n  SKIPPED ${name}: ${reason}\n`);
}

/** Creates a temp folder under the system's temp dir (or /dev/shm) and registers it for `removeFolders`. */
export function makeFolder(prefix: string, root = tmpdir()): string {
  const folder = mkdtempSync(join(root, `ptk-${prefix}-`));
  created.push(folder);
  return folder;
}

const created: string[] = [];

/** Removes every folder that `makeFolder` created. */
export function removeFolders(): void {
  for (const folder of created.splice(0)) rmSync(folder, { recursive: true, force: true });
}

/** Writes a pipeline module in `folder` and returns its path. */
export function writeModule(folder: string, source: string, name = 'pipeline.py'): string {
  const path = join(folder, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(path, source);
  return path;
}

export interface TaskJson {
  name: string;
  function?: string;
  inputs?: unknown[];
  output?: { channel: string; path: string } | null;
}

/** Builds a version 1 container spec with defaults: run r1, pod p, container c, one replica, no logs. */
export function containerSpec(module: string, tasks: TaskJson[], fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    run_id: 'r1',
    module,
    pod: 'p',
    container: 'c',
    replicas: 1,
    input_timeout_s: 10,
    log_dir: null,
    record: null,
    results_dir: null,
    tasks: tasks.map((task) => ({ name: task.name, function: task.function ?? task.name, inputs: task.inputs ?? [], output: task.output ?? null })),
    ...fields,
  };
}

/** Builds a folder input: the value of `producer` read from `path`. */
export function folderInput(parameter: string, producer: string, channel: string, path: string, replicas = 1) {
  return { parameter, producer, channel, path, replicas };
}

/** Builds a direct input: the value of an earlier task of the same container. */
export function directInput(parameter: string, producer: string) {
  return { parameter, producer, channel: 'direct' };
}

export interface RunResult {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

interface RunOptions {
  env?: Record<string, string>;
  args?: string[];
  timeoutMs?: number;
}

function environment(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('PTK_') && key !== 'JOB_COMPLETION_INDEX') env[key] = value;
  }
  return { ...env, PYTHONPATH: runtimeFolder, ...extra };
}

/** Runs `python -m ptk.run` on a spec given in PTK_SPEC and waits for it. */
export function runContainer(spec: unknown, options: RunOptions = {}): RunResult {
  const start = performance.now();
  const result = spawnSync(python, ['-m', 'ptk.run', ...(options.args ?? [])], {
    encoding: 'utf8',
    env: environment({ PTK_SPEC: JSON.stringify(spec), ...options.env }),
    timeout: options.timeoutMs ?? 30_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr, elapsedMs: performance.now() - start };
}

/** Starts `python -m <module>` without waiting; `done` resolves when it exits. */
export function startPython(module: string, options: RunOptions & { spec?: unknown } = {}) {
  const extra: Record<string, string> = options.spec === undefined ? {} : { PTK_SPEC: JSON.stringify(options.spec) };
  const start = performance.now();
  const child = spawn(python, ['-m', module, ...(options.args ?? [])], {
    env: environment({ ...extra, ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr, elapsedMs: performance.now() - start }));
  });
  return { child, done };
}

/** Runs Python code with the runtime on the path and returns its standard output; throws on failure. */
export function pythonOutput(code: string, env: Record<string, string> = {}): string {
  const result = spawnSync(python, ['-c', code], { encoding: 'utf8', env: environment(env) });
  if (result.status !== 0) throw new Error(`python failed with status ${result.status}:\n${result.stderr}`);
  return result.stdout;
}

/** Loads a data folder's value with the runtime's own reader and returns `repr(value)`. */
export function loadFolder(folder: string, runId = 'r1'): string {
  const code = [
    'import sys',
    'from ptk import _folder',
    'state, marker = _folder.read_marker(sys.argv[1], sys.argv[2])',
    'assert state == "complete", (state, marker)',
    'value, size = _folder.load(sys.argv[1], marker)',
    'print(repr(value))',
  ].join('\n');
  const result = spawnSync(python, ['-c', code, folder, runId], { encoding: 'utf8', env: environment() });
  if (result.status !== 0) throw new Error(`loading ${folder} failed:\n${result.stderr}`);
  return result.stdout.trimEnd();
}

/** Reads a JSON file. */
export function readJson(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Sleeps for `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 10 ms until it returns true; throws after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
