// Times the runtime's fixed cost per container: `python -m ptk.run` on a spec with one task that returns
// None (no inputs, no output, no logs, no record) against `python -c pass`, the interpreter's own start-up.
// The runtime runs from a copy of runtime/ptk in a temp folder, once with its bytecode compiled beforehand
// (as an installed package or a warm __pycache__ has it) and once compiled at every start (as a read-only
// ConfigMap or PYTHONDONTWRITEBYTECODE=1 has it). Each pair also runs with `python -S`, which skips the
// site module: on machines whose site-packages import many modules at start-up (.pth files), the plain
// interpreter hides the cost of modules that the runtime imports. The commands run in turn, round after
// round, and the table gives each one's min, median and max wall time and its median minus its baseline's.
//
// Usage: node bench/task-overhead.mjs [--runs N] [--warmup N] [--python PATH]
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { failureFor, median, readBenchOptions, timeOnce } from './common.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const usage = 'usage: node bench/task-overhead.mjs [--runs N] [--warmup N] [--python PATH]';
const fail = failureFor('task-overhead');

/**
 * Returns the interpreter's real executable and version. A launcher such as a pyenv shim starts a shell
 * before Python, which would add its own time to every run.
 */
function resolvePython(python) {
  const probe = spawnSync(python, ['-c', 'import sys; print(sys.executable); print(sys.version.split()[0])'], { encoding: 'utf8' });
  if (probe.status !== 0) fail(`cannot run ${python}: ${probe.error?.message ?? probe.stderr.trim()}`);
  const [executable, version] = probe.stdout.trim().split('\n');
  return { executable, version };
}

/** Copies runtime/ptk twice into the work folder: one copy with compiled bytecode, one without. */
function prepareRuntime(workDir, executable) {
  const compiled = path.join(workDir, 'compiled');
  const source = path.join(workDir, 'source');
  for (const target of [compiled, source]) {
    cpSync(path.join(root, 'runtime', 'ptk'), path.join(target, 'ptk'), { recursive: true, filter: (file) => !file.includes('__pycache__') });
  }
  const compile = spawnSync(executable, ['-m', 'compileall', '-q', path.join(compiled, 'ptk')], { encoding: 'utf8' });
  if (compile.status !== 0) fail(`compileall failed: ${compile.stderr}`);
  return { compiled, source };
}

function listCommands(workDir, executable, runtime) {
  const module = path.join(workDir, 'pipeline.py');
  writeFileSync(module, 'from ptk import task\n\n\n@task\ndef nothing():\n    return None\n');
  const spec = {
    version: 1,
    run_id: 'bench',
    module,
    pod: 'p',
    container: 'c',
    replicas: 1,
    input_timeout_s: 60,
    log_dir: null,
    record: null,
    results_dir: null,
    tasks: [{ name: 'nothing', function: 'nothing', inputs: [], output: null }],
  };

  const base = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PTK_') && key !== 'PYTHONPATH') base[key] = value;
  }
  // Nothing writes bytecode during the runs, so the uncompiled copy stays uncompiled.
  base.PYTHONDONTWRITEBYTECODE = '1';
  const run = (label, flags, runtimeDir) => ({
    label,
    argv: [executable, ...flags, '-m', 'ptk.run'],
    env: { ...base, PYTHONPATH: runtimeDir, PTK_SPEC: JSON.stringify(spec) },
  });
  return [
    { label: 'python -c pass', argv: [executable, '-c', 'pass'], env: base, baseline: true },
    run('python -m ptk.run (compiled)', [], runtime.compiled),
    run('python -m ptk.run (from source)', [], runtime.source),
    { label: 'python -S -c pass', argv: [executable, '-S', '-c', 'pass'], env: base, baseline: true },
    run('python -S -m ptk.run (compiled)', ['-S'], runtime.compiled),
    run('python -S -m ptk.run (from source)', ['-S'], runtime.source),
  ];
}

function printTable(commands, timings, options, python) {
  const cpus = os.cpus();
  console.log(`ptk.run fixed cost: ${options.runs} runs of each command in turn, after ${options.warmup} warm-up rounds`);
  console.log(`Python ${python.version} (${python.executable}), ${os.platform()} ${os.arch()}, ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'})`);
  console.log(`load average ${options.loadBefore} at the start, ${os.loadavg().map((value) => value.toFixed(2)).join(' ')} at the end (other processes share the CPUs)`);
  const width = Math.max(...commands.map((command) => command.label.length));
  console.log(`${'command'.padEnd(width)}  ${'min ms'.padStart(8)}  ${'median ms'.padStart(9)}  ${'max ms'.padStart(8)}  median - baseline ms`);
  let baseline = 0;
  for (const [index, command] of commands.entries()) {
    const sorted = timings[index];
    if (command.baseline) baseline = median(sorted);
    const cells = [
      command.label.padEnd(width),
      sorted[0].toFixed(1).padStart(8),
      median(sorted).toFixed(1).padStart(9),
      sorted[sorted.length - 1].toFixed(1).padStart(8),
      command.baseline ? '(baseline)'.padStart(20) : (median(sorted) - baseline).toFixed(1).padStart(20),
    ];
    console.log(cells.join('  '));
  }
}

const options = readBenchOptions({
  name: 'task-overhead',
  usage,
  counts: { runs: { default: 25, min: 1, max: 1000 }, warmup: { default: 3, min: 0, max: 100 } },
  strings: { python: process.env.PTK_PYTHON ?? 'python3' },
});
options.loadBefore = os.loadavg().map((value) => value.toFixed(2)).join(' ');
const python = resolvePython(options.python);
const workDir = mkdtempSync(path.join(os.tmpdir(), 'ptk-bench-overhead-'));
try {
  const commands = listCommands(workDir, python.executable, prepareRuntime(workDir, python.executable));
  const timings = commands.map(() => []);
  // Each round starts at a different command, so that no command always runs right after the same one.
  for (let round = 0; round < options.warmup + options.runs; round++) {
    for (let step = 0; step < commands.length; step++) {
      const index = (round + step) % commands.length;
      const elapsedMs = timeOnce(commands[index], { timeoutMs: 60_000 });
      if (round >= options.warmup) timings[index].push(elapsedMs);
    }
  }
  for (const list of timings) list.sort((a, b) => a - b);
  printTable(commands, timings, options, python);
} catch (error) {
  process.stderr.write(`task-overhead: ${error.message}\n`);
  process.exitCode = 1;
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
