// Measures how fast the runtime passes a large numpy array between two containers, next to what the
// machine does without ptk, in one run with the measurements interleaved round after round:
//
//   disk:     one `python -m ptk.run` container stores a 1 GiB float64 array in a folder on the temp disk
//             and another loads it, against `cp` of a 1 GiB file on the same disk, and against a plain
//             Python process that writes 1 GiB from a numpy array there with one write() and reads it
//             back with read();
//   /dev/shm: the same through a folder in /dev/shm (the IPC channel), against the plain Python process.
//
// Store time is from the producer task's return to its end event (pickling, writing, CRC-32, COMPLETE);
// load time is from the consumer's start event to the first line of its task (waiting, mapping the buffer
// file, checking its CRC-32s, unpickling). Creating the array and starting the interpreters are left out on
// both sides. The table gives min, median and max of each, and the rate ratio ptk / baseline per round,
// where the baseline moves the same bytes once (cp: read and write in the kernel with copy_file_range;
// plain Python: write and read). The loaded array is a copy-on-write mapping of the file, so the consumer
// pays for a private copy of each page that it writes: the row "consumer writes every element" times
// `array += 1` in the consumer, which the ratios leave out (the plain Python read pays its page faults
// when it reads).
//
// Usage: node bench/data-passing.mjs [--rounds N] [--size-mib N] [--python PATH]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { failureFor, readBenchOptions, summary } from './common.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const usage = 'usage: node bench/data-passing.mjs [--rounds N] [--size-mib N] [--python PATH]';
const fail = failureFor('data-passing');

/** Returns the real executable behind `python` (not a launcher script), its version and numpy's. */
function resolvePython(python) {
  const code = 'import sys\nimport numpy\nprint(sys.executable)\nprint(sys.version.split()[0])\nprint(numpy.__version__)';
  const probe = spawnSync(python, ['-c', code], { encoding: 'utf8' });
  if (probe.status !== 0) fail(`${python} cannot import numpy, which this benchmark needs: ${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}`);
  const [executable, version, numpy] = probe.stdout.trim().split('\n');
  return { executable, version, numpy };
}

/** Returns the commit of the checkout, with "+ changes" when runtime/ or bench/ differ from it. */
function describeCommit() {
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  if (commit.status !== 0) return 'unknown commit';
  const changes = spawnSync('git', ['status', '--porcelain', '--', 'runtime', 'bench'], { cwd: root, encoding: 'utf8' });
  return `commit ${commit.stdout.trim()}${changes.stdout.trim() ? ' + changes in runtime/ or bench/' : ''}`;
}

function baseEnvironment() {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PTK_') && key !== 'JOB_COMPLETION_INDEX') env[key] = value;
  }
  return { ...env, PYTHONPATH: path.join(root, 'runtime') };
}

/** Runs a command to completion; returns its stdout and wall time. Throws when it fails. */
function run(label, argv, env) {
  const start = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.error) throw new Error(`${label} failed to run: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${label} exited with status ${result.status}:\n${result.stderr.trimEnd()}`);
  return { stdout: result.stdout, seconds };
}

const pipelineSource = (elements) => `import time
import numpy as np
from ptk import task


@task
def produce():
    array = np.arange(${elements}, dtype=np.float64)
    print(repr(time.time()), flush=True)
    return array


@task
def consume(array):
    print(repr(time.time()), flush=True)
    assert array.shape == (${elements},) and array[-1] == ${elements - 1}
    start = time.perf_counter()
    array += 1
    print(repr(time.perf_counter() - start), flush=True)
`;

const plainSource = (elements, file) => `import time
import numpy as np
array = np.arange(${elements}, dtype=np.float64)
start = time.perf_counter()
with open(${JSON.stringify(file)}, "wb") as out:
    out.write(memoryview(array).cast("B"))
written = time.perf_counter()
with open(${JSON.stringify(file)}, "rb") as source:
    data = source.read()
done = time.perf_counter()
assert len(data) == array.nbytes
print(written - start, done - written)
`;

/** Passes the array once through `folder` with two runtime containers. Returns the seconds of the store, the load and the consumer's `array += 1`. */
function passThroughRuntime(work, python, folder, channel) {
  const data = path.join(folder, 'produce');
  const record = path.join(work.dir, 'events.jsonl');
  rmSync(record, { force: true });
  const spec = (tasks, container) => ({
    version: 1,
    run_id: `bench-${channel}`,
    module: work.module,
    pod: 'bench',
    container,
    replicas: 1,
    input_timeout_s: 600,
    log_dir: null,
    record,
    results_dir: null,
    tasks,
  });
  const producer = spec([{ name: 'produce', function: 'produce', inputs: [], output: { channel, path: data } }], 'producer');
  const consumer = spec([{ name: 'consume', function: 'consume', inputs: [{ parameter: 'array', producer: 'produce', channel, path: data, replicas: 1 }], output: null }], 'consumer');

  try {
    const returned = Number(run('producer container', [python, '-m', 'ptk.run'], { ...work.env, PTK_SPEC: JSON.stringify(producer) }).stdout);
    const [entered, writeAll] = run('consumer container', [python, '-m', 'ptk.run'], { ...work.env, PTK_SPEC: JSON.stringify(consumer) }).stdout.trim().split('\n').map(Number);
    const events = readFileSync(record, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
    const producerEnd = events.find((event) => event.task === 'produce' && event.event === 'end');
    const consumerStart = events.find((event) => event.task === 'consume' && event.event === 'start');
    return { store: producerEnd.time - returned, load: entered - consumerStart.time, writeAll };
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
}

function copyWithCp(work) {
  const target = path.join(work.disk, 'cp-target.bin');
  try {
    return run('cp', ['cp', work.cpSource, target], work.env).seconds;
  } finally {
    rmSync(target, { force: true });
  }
}

function plainPython(work, python, folder) {
  const file = path.join(folder, 'plain.bin');
  try {
    const [write, read] = run('plain Python', [python, '-c', plainSource(work.elements, file)], work.env).stdout.trim().split(' ').map(Number);
    return { write, read };
  } finally {
    rmSync(file, { force: true });
  }
}

function printRow(label, values, unit, digits) {
  const { min, median, max } = summary(values);
  const cells = [min, median, max].map((value) => value.toFixed(digits).padStart(8));
  console.log(`  ${label.padEnd(47)} ${cells.join('  ')}  ${unit}`);
}

const parsed = readBenchOptions({
  name: 'data-passing',
  usage,
  counts: { rounds: { default: 5, min: 1, max: 100 }, 'size-mib': { default: 1024, min: 8, max: 8192 } },
  strings: { python: process.env.PTK_PYTHON ?? 'python3' },
});
const options = { rounds: parsed.rounds, sizeMib: parsed['size-mib'], python: parsed.python };
const python = resolvePython(options.python);
const loadBefore = os.loadavg().map((value) => value.toFixed(2)).join(' ');
const bytes = options.sizeMib * 1024 * 1024;
const work = {
  dir: mkdtempSync(path.join(os.tmpdir(), 'ptk-bench-data-')),
  shm: mkdtempSync(path.join('/dev/shm', 'ptk-bench-data-')),
  elements: bytes / 8,
  env: baseEnvironment(),
};
const removeAll = () => {
  rmSync(work.dir, { recursive: true, force: true });
  rmSync(work.shm, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  removeAll();
  process.exit(130);
});

try {
  work.disk = path.join(work.dir, 'disk');
  mkdirSync(work.disk);
  work.module = path.join(work.dir, 'pipeline.py');
  writeFileSync(work.module, pipelineSource(work.elements));
  work.cpSource = path.join(work.disk, 'cp-source.bin');
  run('writing the cp source', [python.executable, '-c', `import numpy as np\nnp.arange(${work.elements}, dtype=np.float64).tofile(${JSON.stringify(work.cpSource)})`], work.env);

  const results = {
    diskStore: [], diskLoad: [], diskWriteAll: [], cp: [], cpRatio: [], diskWrite: [], diskRead: [], diskRatio: [],
    shmStore: [], shmLoad: [], shmWriteAll: [], plainWrite: [], plainRead: [], shmRatio: [],
  };
  const steps = [
    () => {
      const { store, load, writeAll } = passThroughRuntime(work, python.executable, work.disk, 'PVC');
      results.diskStore.push(store);
      results.diskLoad.push(load);
      results.diskWriteAll.push(writeAll);
    },
    () => results.cp.push(copyWithCp(work)),
    () => {
      const { write, read } = plainPython(work, python.executable, work.disk);
      results.diskWrite.push(write);
      results.diskRead.push(read);
    },
    () => {
      const { store, load, writeAll } = passThroughRuntime(work, python.executable, work.shm, 'IPC');
      results.shmStore.push(store);
      results.shmLoad.push(load);
      results.shmWriteAll.push(writeAll);
    },
    () => {
      const { write, read } = plainPython(work, python.executable, work.shm);
      results.plainWrite.push(write);
      results.plainRead.push(read);
    },
  ];
  // One warm-up round, then the counted rounds, each starting at a different step.
  for (let round = 0; round <= options.rounds; round++) {
    for (let step = 0; step < steps.length; step++) steps[(round + step) % steps.length]();
    if (round === 0) for (const list of Object.values(results)) list.length = 0;
    else {
      const last = (list) => list[list.length - 1];
      // Rates are bytes per second, so a ratio of rates is baseline time / ptk time.
      const diskPass = last(results.diskStore) + last(results.diskLoad);
      results.cpRatio.push(last(results.cp) / diskPass);
      results.diskRatio.push((last(results.diskWrite) + last(results.diskRead)) / diskPass);
      results.shmRatio.push((last(results.plainWrite) + last(results.plainRead)) / (last(results.shmStore) + last(results.shmLoad)));
    }
  }

  const cpus = os.cpus();
  const gib = bytes / 1024 ** 3;
  console.log(`data passing of ${options.sizeMib} MiB: ${options.rounds} rounds after 1 warm-up round, min / median / max`);
  console.log(`Python ${python.version} with numpy ${python.numpy}, ${os.platform()} ${os.arch()}, ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, ${describeCommit()}`);
  console.log(`load average ${loadBefore} at the start, ${os.loadavg().map((value) => value.toFixed(2)).join(' ')} at the end (other processes share the CPUs)`);
  console.log(`disk folder under ${os.tmpdir()}`);
  printRow('ptk store (producer)', results.diskStore, 's', 3);
  printRow('ptk load (consumer)', results.diskLoad, 's', 3);
  printRow('ptk store + load', results.diskStore.map((store, index) => store + results.diskLoad[index]), 's', 3);
  printRow('consumer writes every element (copy-on-write)', results.diskWriteAll, 's', 3);
  printRow('cp', results.cp, 's', 3);
  printRow('plain Python write', results.diskWrite, 's', 3);
  printRow('plain Python read', results.diskRead, 's', 3);
  printRow('plain Python write + read', results.diskWrite.map((write, index) => write + results.diskRead[index]), 's', 3);
  printRow('ptk rate / cp rate', results.cpRatio, '', 2);
  printRow('ptk rate / plain Python rate', results.diskRatio, '', 2);
  console.log('/dev/shm folder');
  printRow('ptk store (producer)', results.shmStore, 's', 3);
  printRow('ptk load (consumer)', results.shmLoad, 's', 3);
  printRow('ptk store + load', results.shmStore.map((store, index) => store + results.shmLoad[index]), 's', 3);
  printRow('consumer writes every element (copy-on-write)', results.shmWriteAll, 's', 3);
  printRow('plain Python write', results.plainWrite, 's', 3);
  printRow('plain Python read', results.plainRead, 's', 3);
  printRow('plain Python write + read', results.plainWrite.map((write, index) => write + results.plainRead[index]), 's', 3);
  printRow('ptk rate / plain Python rate', results.shmRatio, '', 2);
  console.log(`(${gib.toFixed(2)} GiB per pass; medians of the ratios are taken per round)`);
} catch (error) {
  process.stderr.write(`data-passing: ${error.message}\n`);
  process.exitCode = 1;
} finally {
  removeAll();
}
