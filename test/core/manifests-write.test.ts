import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InputError, RunError } from '../../core/errors.ts';
import { outputListName, writeFilesAtomically } from '../../core/write-files.ts';

let root = '';

test.before.each(async () => {
  root = await mkdtemp(join(tmpdir(), 'ptk-write-'));
});

test.after.each(async () => {
  await rm(root, { recursive: true, force: true });
});

const files = [
  { name: '00-shared.yaml', content: 'kind: ConfigMap\n' },
  { name: 'train.yaml', content: 'kind: Job\n' },
];

async function rejection(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the write to fail');
}

test('writes a new folder', async () => {
  const folder = join(root, 'k8s');
  await writeFilesAtomically(folder, files);

  assert.equal((await readdir(folder)).sort(), [outputListName, '00-shared.yaml', 'train.yaml']);
  assert.is(await readFile(join(folder, 'train.yaml'), 'utf8'), 'kind: Job\n');
  assert.is(
    await readFile(join(folder, outputListName), 'utf8'),
    '# Files written by ptk. ptk replaces this folder when it writes here again.\n00-shared.yaml\ntrain.yaml\n',
  );
  assert.equal(await readdir(root), ['k8s'], 'no temporary folder is left');
});

test('creates missing parent folders', async () => {
  const folder = join(root, 'deploy', 'k8s');
  await writeFilesAtomically(folder, files);
  assert.equal((await readdir(folder)).length, 3);
});

test('replaces an earlier output', async () => {
  const folder = join(root, 'k8s');
  await writeFilesAtomically(folder, [...files, { name: 'evaluate.yaml', content: 'old\n' }]);
  await writeFilesAtomically(folder, [{ name: 'train.yaml', content: 'new\n' }]);

  assert.equal((await readdir(folder)).sort(), [outputListName, 'train.yaml']);
  assert.is(await readFile(join(folder, 'train.yaml'), 'utf8'), 'new\n');
  assert.equal(await readdir(root), ['k8s'], 'the earlier output is deleted');
});

test('writes into an empty folder', async () => {
  const folder = join(root, 'k8s');
  await mkdir(folder);
  await writeFilesAtomically(folder, files);
  assert.equal((await readdir(folder)).length, 3);
});

test('rejects a folder with user files', async () => {
  const folder = join(root, 'k8s');
  await mkdir(folder);
  await writeFile(join(folder, 'notes.md'), 'mine\n');

  const error = await rejection(writeFilesAtomically(folder, files, 'k8s'));
  assert.instance(error, InputError);
  assert.is(
    error.message,
    'k8s: the folder contains files that ptk did not write (notes.md); give a new or empty folder, or the folder of an earlier ptk apply --out',
  );
  assert.equal(await readdir(folder), ['notes.md'], 'the folder is untouched');
  assert.equal(await readdir(root), ['k8s'], 'no temporary folder is left');
});

test('rejects an output with a user file added', async () => {
  const folder = join(root, 'k8s');
  await writeFilesAtomically(folder, files);
  await writeFile(join(folder, 'extra.yaml'), 'kind: Service\n');

  const error = await rejection(writeFilesAtomically(folder, files, 'k8s'));
  assert.is(
    error.message,
    'k8s: the folder contains files that ptk did not write (extra.yaml); give a new or empty folder, or the folder of an earlier ptk apply --out',
  );
  assert.equal((await readdir(folder)).sort(), [outputListName, '00-shared.yaml', 'extra.yaml', 'train.yaml']);
});

test('rejects a folder with a forged list', async () => {
  const folder = join(root, 'k8s');
  await mkdir(folder);
  await writeFile(join(folder, outputListName), 'notes.md\n');
  await writeFile(join(folder, 'notes.md'), 'mine\n');

  const error = await rejection(writeFilesAtomically(folder, files, 'k8s'));
  assert.is(
    error.message,
    `k8s: the folder contains files that ptk did not write (${outputListName}, notes.md); give a new or empty folder, or the folder of an earlier ptk apply --out`,
  );
});

test('rejects a file in place of the folder', async () => {
  const folder = join(root, 'k8s');
  await writeFile(folder, 'not a folder\n');
  const error = await rejection(writeFilesAtomically(folder, files, 'k8s'));
  assert.instance(error, InputError);
  assert.is(error.message, 'k8s: is a file, not a folder; give a new or empty folder for the manifests');
});

test('failed write leaves no folder', async () => {
  const folder = join(root, 'deploy', 'k8s');
  // The second name is longer than the 255 bytes a file name can have, so writing it fails after the first
  // file is already on disk.
  const error = await rejection(writeFilesAtomically(folder, [files[0]!, { name: `${'x'.repeat(300)}.yaml`, content: '' }], 'deploy/k8s'));

  assert.instance(error, RunError);
  assert.match(error.message, /^writing the manifests into deploy\/k8s failed: ENAMETOOLONG/);
  assert.equal(await readdir(root), [], 'neither the folder, its temporary sibling nor the created parent is left');
});

test('failed write keeps the earlier output', async () => {
  const folder = join(root, 'k8s');
  await writeFilesAtomically(folder, files);
  await rejection(writeFilesAtomically(folder, [{ name: `${'x'.repeat(300)}.yaml`, content: '' }]));

  assert.equal((await readdir(folder)).sort(), [outputListName, '00-shared.yaml', 'train.yaml']);
  assert.equal(await readdir(root), ['k8s']);
});

test('rejects names with folders', async () => {
  const error = await rejection(writeFilesAtomically(join(root, 'k8s'), [{ name: '../escape.yaml', content: '' }]));
  assert.is(error.message, 'invalid output file name "../escape.yaml": a file name without folders is expected');
  assert.equal(await readdir(root), []);
});

test.run();
