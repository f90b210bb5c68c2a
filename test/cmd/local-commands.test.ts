import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../cmd/run.ts';
import { profile } from '../../cmd/profile.ts';
import { apply } from '../../cmd/apply.ts';
import { choosePython } from '../../cmd/local-run.ts';
import { InputError } from '../../core/errors.ts';
import { inputErrorOf } from '../support/errors.ts';

const messageOf = async (work: Promise<unknown>) => (await inputErrorOf(work)).message;

const folder = mkdtempSync(join(tmpdir(), 'ptk-local-commands-'));
writeFileSync(join(folder, 'pipeline.py'), ['from ptk import task', '', "@task(name='one')", 'def one():', '    return 1', ''].join('\n'));
test.after(() => rmSync(folder, { recursive: true, force: true }));

test('run rejects an unknown grouping', async () => {
  assert.is(
    await messageOf(run({ file: 'pipeline.py', cwd: folder, grouping: 'two-pods' })),
    '--grouping two-pods is not a grouping; use one of annotated, pod-per-task, one-pod, one-container',
  );
});

test('python that cannot run is named', () => {
  try {
    choosePython('/nonexistent/python3');
    assert.unreachable('choosePython accepted a missing interpreter');
  } catch (error) {
    assert.instance(error, InputError);
    assert.is(
      (error as Error).message,
      'Python interpreter /nonexistent/python3 (--python) cannot be run; install Python 3.9 or later, or name one with --python PATH or PTK_PYTHON',
    );
  }
});

test('profile rejects invalid runs', async () => {
  assert.is(await messageOf(profile({ file: 'pipeline.py', cwd: folder, runs: '0' })), '--runs 0 is not a whole number from 1 to 100; write --runs 3');
});

test('profile rejects invalid cpus', async () => {
  const cores = availableParallelism();
  assert.is(
    await messageOf(profile({ file: 'pipeline.py', cwd: folder, cpus: `1,${cores + 1}` })),
    `--cpus 1,${cores + 1} must list core counts from 1 to ${cores} (the cores this machine has), such as --cpus 1,${cores}`,
  );
});

test('apply local and out exclude each other', async () => {
  assert.is(
    await messageOf(apply({ plan: 'ptk.plan.json', cwd: folder, local: true, out: 'k8s', workload: 'job', namespace: 'default', image: 'python:3.12-slim' })),
    '--local and --out exclude each other: --local runs the plan on this machine, --out writes its manifests',
  );
});

test.run();
