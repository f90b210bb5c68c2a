// The files of a data folder: CRC-32s per 32 MiB chunk, buffers loaded as copy-on-write mappings, empty
// buffers, corrupt chunks and invalid chunk lists, and the file descriptors that mappings hold.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  containerSpec,
  folderInput,
  makeFolder,
  numpyMissing,
  pythonOutput,
  readJson,
  removeFolders,
  runContainer,
  skipBecause,
  writeModule,
} from './python.ts';

const CHUNK = 32 << 20;

// numpy is imported inside the tasks that use it, so that the other tasks run without it.
const pipeline = `
from ptk import task


def owner(array):
    # The object at the end of an array's base chain: for a loaded array, the mmap behind its memoryview.
    import numpy as np

    while isinstance(array, np.ndarray):
        array = array.base
    return type(array.obj if isinstance(array, memoryview) else array).__name__


@task
def make_array():
    import numpy as np

    # 40 MiB: two chunks, checksummed by the pool threads.
    return np.arange(5 << 20, dtype=np.float64)


@task
def change(array):
    print(array.flags.writeable, owner(array))
    array += 1
    print(float(array[0]), float(array[-1]))


@task
def check(array):
    print(float(array[0]), float(array[-1]), owner(array))


@task
def make_buffer():
    # 72 MiB out of band: chunks of 32, 32 and 8 MiB.
    return memoryview(bytearray(range(256)) * (72 << 12))


@task
def make_bytes():
    # bytes stay in data.pkl, so data.pkl itself spans two chunks.
    return b"ptk" + bytes(range(256)) * (40 << 12)


@task
def show(data):
    print(type(data).__name__, len(data), data[:4])
`;

test.after.each(removeFolders);

/** Returns the CRC-32 of each chunk of `bytes`, as a writer computes them. */
function chunkCrcs(bytes: Buffer, chunk = CHUNK): number[] {
  const crcs = [];
  for (let start = 0; start < bytes.length; start += chunk) crcs.push(crc32(bytes.subarray(start, start + chunk)));
  return crcs;
}

const hex = (value: number) => value.toString(16).padStart(8, '0');

function setUp(name: string) {
  const folder = makeFolder(name);
  return { folder, module: writeModule(folder, pipeline) };
}

test('consumer writes do not reach the file', () => {
  if (numpyMissing) return skipBecause('consumer writes do not reach the file', numpyMissing);
  const { folder, module } = setUp('copy-on-write');
  const data = join(folder, 'data', 'make');
  const input = [folderInput('array', 'make', 'PVC', data)];

  const produced = runContainer(containerSpec(module, [{ name: 'make', function: 'make_array', output: { channel: 'PVC', path: data } }]));
  const changed = runContainer(containerSpec(module, [{ name: 'change', inputs: input }]));
  const checked = runContainer(containerSpec(module, [{ name: 'check', inputs: input }]));

  assert.is(produced.stderr, '');
  assert.is(produced.status, 0);
  assert.is(changed.stderr, '');
  assert.is(changed.stdout, 'True mmap\n1.0 5242880.0\n');
  assert.is(changed.status, 0);
  // A second consumer of the same file sees the values that the producer stored.
  assert.is(checked.stdout, '0.0 5242879.0 mmap\n');
  assert.is(checked.status, 0);

  const bytes = readFileSync(join(data, 'buffer-0.bin'));
  const expected = Buffer.from(Float64Array.from({ length: 5 << 20 }, (_, index) => index).buffer);
  assert.ok(bytes.equals(expected), 'buffer-0.bin no longer holds the stored array');
  const entry = readJson(join(data, 'COMPLETE')).files[1];
  assert.equal(entry, { name: 'buffer-0.bin', size: 40 << 20, chunk_size: CHUNK, crc32: chunkCrcs(bytes) });
});

test('mapping lives as long as its arrays', () => {
  if (numpyMissing) return skipBecause('mapping lives as long as its arrays', numpyMissing);
  const folder = join(makeFolder('lifetime'), 'value');
  const output = pythonOutput(`
import gc
import weakref
import numpy as np
from ptk import _folder

folder = ${JSON.stringify(folder)}
_folder.store({"array": np.arange(1 << 18, dtype=np.float64)}, folder, "r1", "make")
state, marker = _folder.read_marker(folder, "r1")
value, size = _folder.load(folder, marker)

owner = value["array"]
while isinstance(owner, np.ndarray):
    owner = owner.base
mapping = weakref.ref(owner.obj)
print(type(owner.obj).__name__)

tail = value["array"][-2:]
del value, owner
gc.collect()
print(mapping() is not None, tail.tolist())
del tail
gc.collect()
print(mapping() is None)
`);

  assert.is(output, 'mmap\nTrue [262142.0, 262143.0]\nTrue\n');
});

test('empty buffers get empty files', () => {
  const folder = join(makeFolder('empty'), 'value');
  // The runtime keeps buffers under 1 MiB in data.pkl. With no minimum, empty buffers get files of their
  // own, which cannot be mapped.
  pythonOutput(`
from ptk import _folder

_folder.OUT_OF_BAND_MIN_BYTES = 0
value = {"view": memoryview(b""), "writable": memoryview(bytearray()), "filled": memoryview(bytearray(b"ptk"))}
_folder.store(value, ${JSON.stringify(folder)}, "r1", "make")
`);
  const loaded = pythonOutput(`
from ptk import _folder

folder = ${JSON.stringify(folder)}
state, marker = _folder.read_marker(folder, "r1")
value, size = _folder.load(folder, marker)
print(value["view"].nbytes, value["view"].readonly, value["writable"].nbytes, value["writable"].readonly)
print(bytes(value["filled"]), size)
`);

  const files = readJson(join(folder, 'COMPLETE')).files;
  assert.equal(
    files.slice(1).map((file: { size: number; crc32: number[] }) => [file.size, file.crc32]),
    [[0, []], [0, []], [3, [crc32(Buffer.from('ptk'))]]],
  );
  assert.is(loaded, `0 True 0 False\nb'ptk' ${files[0].size + 3}\n`);
});

test('corrupt chunk is named in the error', () => {
  const { folder, module } = setUp('chunk');
  const data = join(folder, 'data', 'make');
  const buffer = join(data, 'buffer-0.bin');
  assert.is(runContainer(containerSpec(module, [{ name: 'make', function: 'make_buffer', output: { channel: 'PVC', path: data } }])).status, 0);
  const bytes = readFileSync(buffer);
  const recorded = readJson(join(data, 'COMPLETE')).files[1].crc32;
  assert.equal(recorded, chunkCrcs(bytes));
  assert.is(recorded.length, 3);

  bytes.writeUInt8(bytes.readUInt8(40 << 20) ^ 0x01, 40 << 20);
  writeFileSync(buffer, bytes);
  const run = runContainer(containerSpec(module, [{ name: 'show', inputs: [folderInput('data', 'make', 'PVC', data)] }]));

  const actual = crc32(bytes.subarray(CHUNK, 2 * CHUNK));
  assert.is(
    run.stderr,
    `ptk.run: input 'data' of task 'show' from producer 'make' is corrupt: ${buffer} has CRC-32 ${hex(actual)} ` +
      `in chunk 1 (bytes 33554432 to 67108863), but COMPLETE records ${hex(recorded[1])} — run task 'make' again to write its value again\n`,
  );
  assert.is(run.stdout, '');
  assert.is(run.status, 1);
});

test('large data.pkl gets chunk CRC-32s', () => {
  const { folder, module } = setUp('large-pickle');
  const data = join(makeFolder('large-pickle-ipc', '/dev/shm'), 'make');

  const produced = runContainer(containerSpec(module, [{ name: 'make', function: 'make_bytes', output: { channel: 'IPC', path: data } }]));
  const consumed = runContainer(containerSpec(module, [{ name: 'show', inputs: [folderInput('data', 'make', 'IPC', data)] }]));

  assert.is(produced.status, 0);
  const pickle = readFileSync(join(data, 'data.pkl'));
  assert.equal(readJson(join(data, 'COMPLETE')).files, [{ name: 'data.pkl', size: pickle.length, chunk_size: CHUNK, crc32: chunkCrcs(pickle) }]);
  assert.is(chunkCrcs(pickle).length, 2);
  assert.is(consumed.stderr, '');
  assert.is(consumed.stdout, `bytes ${3 + (40 << 20)} b'ptk\\x00'\n`);
  assert.is(consumed.status, 0);
});

test('invalid chunk list fails the reader', () => {
  const { folder, module } = setUp('chunk-list');
  const data = join(folder, 'data', 'make');
  const complete = join(data, 'COMPLETE');
  const consumer = containerSpec(module, [{ name: 'show', inputs: [folderInput('data', 'make', 'PVC', data)] }]);
  assert.is(runContainer(containerSpec(module, [{ name: 'make', function: 'make_buffer', output: { channel: 'PVC', path: data } }])).status, 0);
  const marker = readJson(complete);
  const [pickle, buffer] = marker.files;

  const prefix = "ptk.run: input 'data' of task 'show' from producer 'make' is corrupt:";
  const fix = " — run task 'make' again to write its value again\n";
  const listing = `${complete} does not list data.pkl and buffer-0.bin … buffer-<n>.bin, each with its size, chunk_size and crc32 (a list of one CRC-32 per chunk)`;
  const cases: [string, unknown, string][] = [
    ['one CRC-32 missing', { ...buffer, crc32: buffer.crc32.slice(0, 2) }, `${complete} has the wrong number of CRC-32s for buffer-0.bin: 75497472 bytes in chunks of 33554432 bytes need 3, it lists 2`],
    ['other chunk size', { ...buffer, chunk_size: 64 << 20 }, `${complete} has the wrong number of CRC-32s for buffer-0.bin: 75497472 bytes in chunks of 67108864 bytes need 2, it lists 3`],
    ['one whole-file CRC-32', { name: buffer.name, size: buffer.size, crc32: crc32(readFileSync(join(data, 'buffer-0.bin'))) }, listing],
    ['chunk size 0', { ...buffer, chunk_size: 0 }, listing],
    ['CRC-32 above 32 bits', { ...buffer, crc32: [2 ** 32, ...buffer.crc32.slice(1)] }, listing],
  ];

  for (const [name, entry, problem] of cases) {
    writeFileSync(complete, JSON.stringify({ ...marker, files: [pickle, entry] }));
    const run = runContainer(consumer);
    assert.is(run.stderr, `${prefix} ${problem}${fix}`, name);
    assert.is(run.status, 1, name);
  }
});

test('mappings leave file descriptors free', () => {
  const folder = join(makeFolder('descriptors', '/dev/shm'), 'value');
  // 60 buffers of 1 MiB under a limit of 48 open files. Before Python 3.13 each mapping holds a file
  // descriptor, so the reader maps only some of them and reads the others into memory.
  const output = pythonOutput(`
import os
import resource
from ptk import _folder

folder = ${JSON.stringify(folder)}
_folder.store([memoryview(bytes([index]) * (1 << 20)) for index in range(60)], folder, "r1", "make")
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (48, hard))

state, marker = _folder.read_marker(folder, "r1")
views, size = _folder.load(folder, marker)
print(all(view.nbytes == 1 << 20 and view[0] == view[-1] == index for index, view in enumerate(views)))
print(sum(type(view.obj).__name__ == "mmap" for view in views) > 0)
files = [open(os.devnull) for _ in range(16)]
print(len(files))
`);

  assert.is(output, 'True\nTrue\n16\n');
});

test.run();
