import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../cmd/run.ts';
import { profile } from '../../cmd/profile.ts';
import { plan } from '../../cmd/plan.ts';
import { apply } from '../../cmd/apply.ts';
import { parseProfile } from '../../core/profile.ts';
import type { RunRecord } from '../../core/local.ts';

const repository = process.cwd();
const folders: string[] = [];

/** Makes a temporary folder that is removed after the suite, whether its test passed or not. */
function temporaryFolder(prefix: string): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  folders.push(folder);
  return folder;
}

test.after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});
const python = process.env.PTK_PYTHON ?? 'python3';

/** Finds an interpreter with scikit-learn: python3 on PATH, then Debian's /usr/bin/python3. */
function pythonWithSklearn(): string | undefined {
  for (const candidate of [python, '/usr/bin/python3']) {
    const probe = spawnSync(candidate, ['-c', 'import sklearn'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

function sampleFolder(name: string): string {
  const folder = temporaryFolder(`ptk-local-${name}-`);
  cpSync(join(repository, 'samples', name), join(folder, name), { recursive: true });
  return folder;
}

function readRecord(folder: string): RunRecord {
  const runs = join(folder, '.ptk', 'runs');
  const spawned = spawnSync('ls', [runs], { encoding: 'utf8' });
  const latest = spawned.stdout.trim().split('\n').sort().pop()!;
  return JSON.parse(readFileSync(join(runs, latest, 'run.json'), 'utf8')) as RunRecord;
}

test('channels sample runs every channel', async () => {
  const folder = sampleFolder('channels');
  const result = await run({ file: 'channels/pipeline.py', cwd: folder, python });
  assert.is(result.stderr ?? '', '');
  assert.is(result.exitCode, 0);
  assert.match(result.stdout, /total: \{'replicas': \[0, 1, 2\], 'sum_of_squares': 333383335000, 'expected': 333383335000\}/);
  assert.not.match(result.stdout, /summarize:/, 'a value passed directly to the next task is not a result');

  const record = readRecord(folder);
  assert.is(record.status, 'succeeded');
  assert.is(record.tasks.filter((task) => task.task === 'partial_sum').length, 3);
  assert.ok(record.tasks.every((task) => task.status === 'ok'));
  assert.is(existsSync(join('/dev/shm', `ptk-${record.run_id}`)), false, 'IPC folder removed');
});

test('failed task names itself and stops consumers', async () => {
  const folder = temporaryFolder('ptk-local-fail-');
  writeFileSync(
    join(folder, 'pipeline.py'),
    [
      'from ptk import task',
      '',
      "@task(name='load')",
      'def load():',
      "    raise ValueError('the input file is empty')",
      '',
      "@task(name='use', input='load')",
      'def use(load):',
      '    return load',
      '',
    ].join('\n'),
  );
  const started = Date.now();
  const result = await run({ file: 'pipeline.py', cwd: folder, python });
  assert.is(result.exitCode, 1);
  assert.ok(Date.now() - started < 30_000, 'the consumer failed fast');
  const record = readRecord(folder);
  assert.is(record.status, 'failed');
  const load = record.tasks.find((task) => task.task === 'load')!;
  assert.is(load.status, 'failed');
  assert.match(load.error ?? '', /ValueError: the input file is empty/);
  assert.match(result.stderr ?? '', /ptk: task load failed: .*ValueError: the input file is empty/);
  assert.match(readFileSync(load.log, 'utf8'), /ValueError: the input file is empty/);
});

test('killed producer fails its consumers', async () => {
  const folder = temporaryFolder('ptk-local-killed-');
  writeFileSync(
    join(folder, 'pipeline.py'),
    [
      'import os',
      'import signal',
      'from ptk import task',
      '',
      "@task(name='hard')",
      'def hard():',
      '    os.kill(os.getpid(), signal.SIGKILL)',
      '    return 1',
      '',
      "@task(name='after', input='hard')",
      'def after(hard):',
      '    return hard',
      '',
    ].join('\n'),
  );
  const started = Date.now();
  const result = await run({ file: 'pipeline.py', cwd: folder, python });
  assert.is(result.exitCode, 1);
  assert.ok(Date.now() - started < 30_000, 'the consumer did not wait for its input timeout');
  const messages = (result.stderr ?? '').split('\n');
  assert.match(messages[0]!, /^ptk: container hard of pod hard was killed by SIGKILL before finishing hard \(log: /);
  assert.match(messages[1]!, /^ptk: task after failed: .*container hard of pod hard was killed by SIGKILL before task hard stored its output/);
  const record = readRecord(folder);
  assert.is(record.tasks.find((task) => task.task === 'hard')!.status, 'unfinished');
  assert.is(record.tasks.find((task) => task.task === 'after')!.status, 'failed');
});

test('interrupted run stops every process', async () => {
  const folder = temporaryFolder('ptk-local-stop-');
  writeFileSync(
    join(folder, 'pipeline.py'),
    ['import time', 'from ptk import task', '', "@task(name='slow')", 'def slow():', '    time.sleep(60)', '    return 1', ''].join('\n'),
  );
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 1500);
  const started = Date.now();
  const result = await run({ file: 'pipeline.py', cwd: folder, python, signal: controller.signal });
  assert.is(result.exitCode, 130);
  assert.ok(Date.now() - started < 20_000, 'stopped well before the task would end');
  assert.match(result.stderr ?? '', /^ptk: interrupted; every process of the run was stopped\. Finished: none\. Unfinished: slow \(running\)\.$/);
  const record = readRecord(folder);
  assert.is(record.status, 'interrupted');
  const survivors = spawnSync('pgrep', ['-f', record.run_id], { encoding: 'utf8' }).stdout.trim();
  assert.is(survivors, '', 'no process of the run is left');
});

test('profile then plan then apply locally', async () => {
  const folder = temporaryFolder('ptk-local-profile-');
  writeFileSync(
    join(folder, 'pipeline.py'),
    [
      'import time',
      'from ptk import task',
      '',
      "@task(name='make')",
      'def make():',
      '    time.sleep(0.3)',
      '    numbers = list(range(1000))',
      '    return numbers',
      '',
      "@task(name='add', input='make')",
      'def add(numbers):',
      '    time.sleep(0.2)',
      '    return sum(numbers)',
      '',
    ].join('\n'),
  );
  const profiled = await profile({ file: 'pipeline.py', cwd: folder, runs: '2', python });
  assert.is(profiled.exitCode, 0, profiled.stderr);
  const written = parseProfile(readFileSync(join(folder, 'ptk.profile.json'), 'utf8'), 'ptk.profile.json');
  const make = written.tasks.make!.samples[0]!;
  assert.is(make.machine_type, 'local');
  assert.is(make.where, 'local');
  assert.is(make.wall_s.length, 2);
  assert.ok(make.wall_s.every((seconds) => seconds >= 0.3 && seconds < 5), `make took ${make.wall_s}`);
  assert.ok(written.tasks.add!.samples[0]!.wall_s.every((seconds) => seconds >= 0.2 && seconds < 5));
  assert.ok(written.overheads.container_start_s > 0);
  assert.ok((make.output_bytes ?? 0) > 0);

  const planned = await plan({ file: 'pipeline.py', cwd: folder, catalog: 'local' });
  assert.is(planned.exitCode, 0);
  const applied = await apply({ plan: 'ptk.plan.json', cwd: folder, local: true, python, workload: 'job', namespace: 'default', image: 'python:3.12-slim' });
  assert.is(applied.exitCode, 0, applied.stderr);
  assert.match(applied.stdout, /add: 499500/);
});

const sklearnPython = pythonWithSklearn();
if (!sklearnPython) {
  console.warn('SKIPPED digits groupings: no Python with scikit-learn (tried python3 and /usr/bin/python3); install python3-sklearn');
}

test('digits groupings give the same accuracy', async () => {
  if (!sklearnPython) return;
  const folder = sampleFolder('digits');
  const accuracies: string[] = [];
  for (const grouping of ['pod-per-task', 'one-pod', 'one-container']) {
    const result = await run({ file: 'digits/pipeline.py', cwd: folder, python: sklearnPython, grouping });
    assert.is(result.exitCode, 0, `${grouping}: ${result.stderr}`);
    const accuracy = /evaluate: \{'accuracy': ([0-9.]+)/.exec(result.stdout)?.[1];
    assert.ok(accuracy, `${grouping} printed no accuracy`);
    accuracies.push(accuracy!);
  }
  assert.equal(accuracies, [accuracies[0], accuracies[0], accuracies[0]]);
  assert.ok(Number(accuracies[0]) > 0.9, `accuracy ${accuracies[0]}`);
});

test.run();
