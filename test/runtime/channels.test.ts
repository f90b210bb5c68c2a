// The runtime moves task values through every channel kind with exact values: direct (in one process),
// IPC (a folder under /dev/shm), Volume and PVC (plain folders), replicated producers, results folders.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  containerSpec,
  directInput,
  folderInput,
  loadFolder,
  makeFolder,
  numpyMissing,
  pythonOutput,
  readJson,
  removeFolders,
  runContainer,
  skipBecause,
  writeModule,
} from './python.ts';

const pipeline = `
import ptk
from ptk import task

RETURNED = []

@task
def make():
    value = {"numbers": [1, 2.5, -3], "text": "héllo", "nested": {"pair": (1, None)}, "flag": True}
    RETURNED.append(value)
    return value

@task
def show(data):
    print(repr(data))
    print("same object:", bool(RETURNED) and data is RETURNED[0])

@task
def replica_value():
    index, count = ptk.replica()
    return {"index": index, "count": count, "square": index * index}

@task
def show_list(parts):
    print(repr(parts))

@task
def long_text():
    return "x" * 5000

if __name__ == "__main__":
    print("the main block must not run")
`;

const expectedRepr = "{'numbers': [1, 2.5, -3], 'text': 'héllo', 'nested': {'pair': (1, None)}, 'flag': True}";

test.after.each(removeFolders);

test('direct input passes the object itself', () => {
  const folder = makeFolder('direct');
  const module = writeModule(folder, pipeline);
  const data = join(folder, 'data', 'make');
  // make's value goes both to show, directly, and to a folder for other containers.
  const spec = containerSpec(module, [{ name: 'make', output: { channel: 'PVC', path: data } }, { name: 'show', inputs: [directInput('data', 'make')] }]);

  const run = runContainer(spec);

  assert.is(run.stderr, '');
  assert.is(run.stdout, `${expectedRepr}\nsame object: True\n`);
  assert.is(run.status, 0);
  assert.is(loadFolder(data), expectedRepr);
});

const folderChannels: [string, () => string][] = [
  ['IPC', () => makeFolder('ipc', '/dev/shm')],
  ['Volume', () => makeFolder('volume')],
  ['PVC', () => makeFolder('pvc')],
];

for (const [channel, makeDataFolder] of folderChannels) {
  test(`${channel} channel passes exact values`, () => {
    const folder = makeFolder('code');
    const module = writeModule(folder, pipeline);
    const data = join(makeDataFolder(), 'make');
    const producer = containerSpec(module, [{ name: 'make', output: { channel, path: data } }], { container: 'producer' });
    const consumer = containerSpec(module, [{ name: 'show', inputs: [folderInput('data', 'make', channel, data)] }], { container: 'consumer' });

    const produced = runContainer(producer);
    const consumed = runContainer(consumer);

    assert.is(produced.stderr, '');
    assert.is(produced.status, 0);
    assert.equal(readdirSync(data).sort(), ['COMPLETE', 'data.pkl']);
    assert.is(consumed.stderr, '');
    assert.is(consumed.stdout, `${expectedRepr}\nsame object: False\n`);
    assert.is(consumed.status, 0);
  });
}

test('COMPLETE lists sizes and chunk CRC-32s', () => {
  const folder = makeFolder('complete');
  const module = writeModule(folder, pipeline);
  const data = join(folder, 'data', 'make');
  const before = Date.now() / 1000;

  const run = runContainer(containerSpec(module, [{ name: 'make', output: { channel: 'PVC', path: data } }], { run_id: 'run-7' }));

  assert.is(run.status, 0);
  const marker = readJson(join(data, 'COMPLETE'));
  const pickle = readFileSync(join(data, 'data.pkl'));
  assert.equal(Object.keys(marker), ['run_id', 'producer', 'files', 'bytes', 'finished_at']);
  assert.is(marker.run_id, 'run-7');
  assert.is(marker.producer, 'make');
  // A file smaller than one chunk has a single CRC-32, of the whole file.
  assert.equal(marker.files, [{ name: 'data.pkl', size: pickle.length, chunk_size: 32 << 20, crc32: [crc32(pickle)] }]);
  assert.is(marker.bytes, pickle.length);
  assert.ok(marker.finished_at >= before, `finished_at ${marker.finished_at} before the run at ${before}`);
  assert.ok(marker.finished_at <= Date.now() / 1000, `finished_at ${marker.finished_at} in the future`);
});

const bufferPipeline = `
from ptk import task

@task
def make():
    # 2 MiB: above the 1 MiB from which buffers leave data.pkl.
    return {"view": memoryview(bytearray(range(256)) * 8192), "small": memoryview(b"abc"), "raw": b"x" * 100}

@task
def show(data):
    view = data["view"]
    print(type(view).__name__, view.nbytes, view[:4].tolist(), view[-1], view.readonly)
    print(type(data["small"]).__name__, bytes(data["small"]), data["raw"] == b"x" * 100)
`;

test('large memoryview travels out of band', () => {
  const folder = makeFolder('buffers');
  const module = writeModule(folder, bufferPipeline);
  const data = join(folder, 'data', 'make');

  const produced = runContainer(containerSpec(module, [{ name: 'make', output: { channel: 'Volume', path: data } }]));
  const consumed = runContainer(containerSpec(module, [{ name: 'show', inputs: [folderInput('data', 'make', 'Volume', data)] }]));

  assert.is(produced.status, 0);
  assert.equal(readdirSync(data).sort(), ['COMPLETE', 'buffer-0.bin', 'data.pkl']);
  assert.is(statSync(join(data, 'buffer-0.bin')).size, 2 << 20);
  assert.is(consumed.stderr, '');
  assert.is(consumed.stdout, "memoryview 2097152 [0, 1, 2, 3] 255 False\nmemoryview b'abc' True\n");
  assert.is(consumed.status, 0);
});

const numpyPipeline = `
import numpy as np
from ptk import task

@task
def make():
    frozen = np.arange(300_000, dtype=np.int64)
    frozen.setflags(write=False)
    return {
        "matrix": np.arange(600_000, dtype=np.float64).reshape(1000, 600) / 7,
        "fortran": np.asfortranarray(np.ones((1000, 300), dtype=np.float32)),
        "frozen": frozen,
        "tiny": np.array([1, 2, 3], dtype=np.uint8),
    }

@task
def show(data):
    matrix = data["matrix"]
    expected = np.arange(600_000, dtype=np.float64).reshape(1000, 600) / 7
    print(matrix.dtype, matrix.shape, bool((matrix == expected).all()), matrix.flags.writeable)
    print(data["fortran"].dtype, data["fortran"].flags.f_contiguous, float(data["fortran"].sum()))
    print(data["frozen"].flags.writeable, int(data["frozen"].sum()))
    print(data["tiny"].tolist())
`;

test('numpy arrays round-trip exactly', () => {
  if (numpyMissing) return skipBecause('numpy arrays round-trip exactly', numpyMissing);
  const folder = makeFolder('numpy');
  const module = writeModule(folder, numpyPipeline);
  const data = join(makeFolder('numpy-ipc', '/dev/shm'), 'make');

  const produced = runContainer(containerSpec(module, [{ name: 'make', output: { channel: 'IPC', path: data } }]));
  const consumed = runContainer(containerSpec(module, [{ name: 'show', inputs: [folderInput('data', 'make', 'IPC', data)] }]));

  assert.is(produced.stderr, '');
  assert.is(produced.status, 0);
  // The matrix, the Fortran-ordered array and the read-only array leave data.pkl; the tiny one stays.
  assert.equal(readdirSync(data).sort(), ['COMPLETE', 'buffer-0.bin', 'buffer-1.bin', 'buffer-2.bin', 'data.pkl']);
  assert.equal(
    readJson(join(data, 'COMPLETE')).files.slice(1).map((file: { size: number }) => file.size),
    [4_800_000, 1_200_000, 2_400_000],
  );
  assert.is(consumed.stderr, '');
  assert.is(consumed.stdout, 'float64 (1000, 600) True True\nfloat32 True 300000.0\nFalse 44999850000\n[1, 2, 3]\n');
  assert.is(consumed.status, 0);
});

test('replicated producer gives ordered list', () => {
  const folder = makeFolder('replicas');
  const module = writeModule(folder, pipeline);
  const data = join(folder, 'data', 'replica_value');
  const producer = containerSpec(module, [{ name: 'replica_value', output: { channel: 'PVC', path: data } }], { pod: 'workers', replicas: 3 });
  const consumer = containerSpec(module, [{ name: 'show_list', inputs: [folderInput('parts', 'replica_value', 'PVC', data, 3)] }]);

  // Replicas finish in any order; JOB_COMPLETION_INDEX is what an Indexed Job sets.
  const runs = [
    runContainer(producer, { env: { PTK_REPLICA_INDEX: '2' } }),
    runContainer(producer, { env: { JOB_COMPLETION_INDEX: '0' } }),
    runContainer(producer, { env: { PTK_REPLICA_INDEX: '1', JOB_COMPLETION_INDEX: '0' } }),
  ];
  const consumed = runContainer(consumer);

  for (const run of runs) {
    assert.is(run.stderr, '');
    assert.is(run.status, 0);
  }
  assert.equal(readdirSync(data).sort(), ['replica-0', 'replica-1', 'replica-2']);
  assert.is(consumed.stderr, '');
  assert.is(
    consumed.stdout,
    "[{'index': 0, 'count': 3, 'square': 0}, {'index': 1, 'count': 3, 'square': 1}, {'index': 2, 'count': 3, 'square': 4}]\n",
  );
  assert.is(consumed.status, 0);
});

test('replica() outside ptk is (0, 1)', () => {
  assert.is(pythonOutput('import ptk\nprint(ptk.replica())'), '(0, 1)\n');
});

test('results_dir stores final values', () => {
  const folder = makeFolder('results');
  const module = writeModule(folder, pipeline);
  const results = join(folder, 'results');
  const data = join(folder, 'data', 'make');
  const spec = containerSpec(module, [{ name: 'make', output: { channel: 'PVC', path: data } }, { name: 'replica_value' }, { name: 'long_text' }], {
    results_dir: results,
    replicas: 2,
  });

  const run = runContainer(spec, { env: { PTK_REPLICA_INDEX: '1' } });

  assert.is(run.stderr, '');
  assert.is(run.status, 0);
  // A task with an output stores its value there only; the others store it in the results folder.
  assert.equal(readdirSync(results).sort(), ['long_text', 'replica_value']);
  assert.equal(readdirSync(join(results, 'replica_value', 'replica-1')).sort(), ['COMPLETE', 'data.pkl', 'repr.txt']);
  assert.is(loadFolder(join(results, 'replica_value', 'replica-1')), "{'index': 1, 'count': 2, 'square': 1}");
  assert.is(readFileSync(join(results, 'replica_value', 'replica-1', 'repr.txt'), 'utf8'), "{'index': 1, 'count': 2, 'square': 1}");
  assert.is(readFileSync(join(results, 'long_text', 'replica-1', 'repr.txt'), 'utf8'), `'${'x'.repeat(3997)} …`);
  assert.equal(readdirSync(join(data, 'replica-1')).sort(), ['COMPLETE', 'data.pkl']);
});

test('COMPLETE of another run is ignored', () => {
  const folder = makeFolder('leftover');
  const module = writeModule(folder, pipeline);
  const data = join(folder, 'data', 'make');
  const producer = (runId: string) => containerSpec(module, [{ name: 'make', output: { channel: 'PVC', path: data } }], { run_id: runId });
  const consumer = containerSpec(module, [{ name: 'show', inputs: [folderInput('data', 'make', 'PVC', data)] }], {
    run_id: 'new',
    input_timeout_s: 0.3,
  });

  assert.is(runContainer(producer('old')).status, 0);
  const early = runContainer(consumer);
  assert.is(runContainer(producer('new')).status, 0);
  const late = runContainer(consumer);

  assert.is(
    early.stderr,
    `ptk.run: input 'data' of task 'show' timed out after 0.3 s: producer 'make' wrote no COMPLETE in ${data} ` +
      "(the marker there is from run old) — check that task 'make' runs and succeeds, or raise input_timeout_s\n",
  );
  assert.is(early.status, 1);
  assert.is(late.stderr, '');
  assert.is(late.stdout, `${expectedRepr}\nsame object: False\n`);
});

test('corrupt buffer file fails the reader', () => {
  const folder = makeFolder('corrupt');
  const module = writeModule(folder, bufferPipeline);
  const data = join(folder, 'data', 'make');
  const buffer = join(data, 'buffer-0.bin');
  assert.is(runContainer(containerSpec(module, [{ name: 'make', output: { channel: 'PVC', path: data } }])).status, 0);
  const [recorded] = readJson(join(data, 'COMPLETE')).files[1].crc32;

  const bytes = readFileSync(buffer);
  bytes.writeUInt8(bytes.readUInt8(1_000_000) ^ 0xff, 1_000_000);
  writeFileSync(buffer, bytes);
  const run = runContainer(containerSpec(module, [{ name: 'show', inputs: [folderInput('data', 'make', 'PVC', data)] }]));

  const hex = (value: number) => value.toString(16).padStart(8, '0');
  assert.is(
    run.stderr,
    `ptk.run: input 'data' of task 'show' from producer 'make' is corrupt: ${buffer} has CRC-32 ${hex(crc32(bytes))} ` +
      `in chunk 0 (bytes 0 to 2097151), but COMPLETE records ${hex(recorded)} — run task 'make' again to write its value again\n`,
  );
  assert.is(run.stdout, '');
  assert.is(run.status, 1);
});

test('truncated or missing file fails', () => {
  const folder = makeFolder('truncated');
  const module = writeModule(folder, bufferPipeline);
  const data = join(folder, 'data', 'make');
  const buffer = join(data, 'buffer-0.bin');
  const producer = containerSpec(module, [{ name: 'make', output: { channel: 'PVC', path: data } }]);
  const consumer = containerSpec(module, [{ name: 'show', inputs: [folderInput('data', 'make', 'PVC', data)] }]);

  assert.is(runContainer(producer).status, 0);
  writeFileSync(buffer, readFileSync(buffer).subarray(0, 1000));
  const truncated = runContainer(consumer);
  assert.is(runContainer(producer).status, 0);
  unlinkSync(buffer);
  const missing = runContainer(consumer);

  const prefix = "ptk.run: input 'data' of task 'show' from producer 'make' is corrupt:";
  const fix = " — run task 'make' again to write its value again\n";
  assert.is(truncated.stderr, `${prefix} ${buffer} is 1000 bytes, but COMPLETE records 2097152${fix}`);
  assert.is(truncated.status, 1);
  assert.is(missing.stderr, `${prefix} ${buffer} is missing, but COMPLETE lists it${fix}`);
  assert.is(missing.status, 1);
});

test.run();
