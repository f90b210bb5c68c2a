// Per-task log files (child processes included), the JSONL event record, and --idle-after-finish.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  containerSpec,
  directInput,
  folderInput,
  makeFolder,
  readJson,
  removeFolders,
  runContainer,
  sleep,
  startPython,
  waitFor,
  writeModule,
} from './python.ts';

const pipeline = `import os
import subprocess
import sys
import time
from ptk import task


@task
def make():
    print("make: to stdout")
    print("make: to stderr", file=sys.stderr)
    subprocess.run(["sh", "-c", "echo 'child: to stdout'; echo 'child: to stderr' >&2"], check=True)
    return list(range(10))


@task
def busy(numbers):
    # About 0.2 s of CPU time in a child process, which cpu_s counts once the child is reaped.
    subprocess.run([sys.executable, "-c", "import time\\nend = time.process_time() + 0.2\\nwhile time.process_time() < end: pass"], check=True)
    print("busy:", sum(numbers))
    return sum(numbers)


@task
def fail(numbers):
    print("fail: before raising")
    raise RuntimeError("out of range")


@task
def wait_for(numbers):
    return len(numbers)
`;

test.after.each(removeFolders);

test('task output goes to its log file', () => {
  const folder = makeFolder('logs');
  const module = writeModule(folder, pipeline);
  const logs = join(folder, 'logs');
  const spec = containerSpec(module, [{ name: 'make' }, { name: 'fail', inputs: [directInput('numbers', 'make')] }], { log_dir: logs });

  const run = runContainer(spec);

  const failure = "ptk.run: task 'fail' (function fail) raised RuntimeError: out of range — fix the error that the traceback shows\n";
  const traceback = [
    'Traceback (most recent call last):',
    `  File "${module}", line 27, in fail`,
    '    raise RuntimeError("out of range")',
    'RuntimeError: out of range',
    '',
  ].join('\n');
  assert.is(run.stdout, '');
  assert.is(run.stderr, failure + traceback);
  assert.is(run.status, 1);
  assert.equal(readdirSync(logs).sort(), ['fail.log', 'make.log']);
  assert.is(readFileSync(join(logs, 'make.log'), 'utf8'), 'make: to stdout\nmake: to stderr\nchild: to stdout\nchild: to stderr\n');
  assert.is(readFileSync(join(logs, 'fail.log'), 'utf8'), `fail: before raising\n${failure}${traceback}`);
});

test('replicated container names logs by replica', () => {
  const folder = makeFolder('replica-logs');
  const module = writeModule(folder, pipeline);
  const logs = join(folder, 'logs');
  const spec = containerSpec(module, [{ name: 'make' }], { log_dir: logs, replicas: 2 });

  const first = runContainer(spec, { env: { PTK_REPLICA_INDEX: '0' } });
  const second = runContainer(spec, { env: { PTK_REPLICA_INDEX: '1' } });

  assert.is(first.status, 0);
  assert.is(second.status, 0);
  assert.equal(readdirSync(logs).sort(), ['make.0.log', 'make.1.log']);
});

test('event record has start and end', () => {
  const folder = makeFolder('events');
  const module = writeModule(folder, pipeline);
  const record = join(folder, 'run', 'events.jsonl');
  const data = join(folder, 'data', 'busy');
  const producer = containerSpec(
    module,
    [
      { name: 'make' },
      { name: 'busy', inputs: [directInput('numbers', 'make')], output: { channel: 'Volume', path: data } },
    ],
    { record, pod: 'first', container: 'producer' },
  );
  const consumer = containerSpec(module, [{ name: 'wait_for', inputs: [folderInput('numbers', 'busy', 'Volume', data)] }], {
    record,
    pod: 'second',
    container: 'consumer',
    input_timeout_s: 0.3,
  });

  const before = Date.now() / 1000;
  const produced = runContainer(producer);
  const consumed = runContainer(consumer);
  const after = Date.now() / 1000;

  assert.is(produced.status, 0);
  assert.is(consumed.status, 1, 'busy returns an int: len() raises');
  const allEvents = readFileSync(record, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
  // An "inputs" event follows each start once the task's inputs are loaded.
  assert.equal(
    allEvents.filter((event) => event.event === 'inputs').map((event) => [event.task, Object.keys(event)]),
    ['make', 'busy', 'wait_for'].map((task) => [task, ['event', 'task', 'pod', 'container', 'replica', 'time']]),
  );
  assert.equal(
    allEvents.map((event) => event.event),
    ['start', 'inputs', 'end', 'start', 'inputs', 'end', 'start', 'inputs', 'end'],
  );
  const events = allEvents.filter((event) => event.event !== 'inputs');
  assert.equal(
    events.map((event) => [event.event, event.task, event.pod, event.container, event.replica, event.status]),
    [
      ['start', 'make', 'first', 'producer', 0, undefined],
      ['end', 'make', 'first', 'producer', 0, 'ok'],
      ['start', 'busy', 'first', 'producer', 0, undefined],
      ['end', 'busy', 'first', 'producer', 0, 'ok'],
      ['start', 'wait_for', 'second', 'consumer', 0, undefined],
      ['end', 'wait_for', 'second', 'consumer', 0, 'failed'],
    ],
  );
  assert.equal(Object.keys(events[0]), ['event', 'task', 'pod', 'container', 'replica', 'time']);
  const endKeys = ['event', 'task', 'pod', 'container', 'replica', 'time', 'status', 'wall_s', 'cpu_s', 'bytes_in', 'bytes_out', 'input_wait_s'];
  assert.equal(Object.keys(events[1]), endKeys);
  assert.equal(Object.keys(events[5]), [...endKeys, 'error']);

  const times = allEvents.map((event) => event.time);
  assert.equal(times, [...times].sort((a, b) => a - b));
  assert.ok(times[0] >= before, `first event at ${times[0]}, before the run started at ${before}`);
  assert.ok(times[times.length - 1] <= after, `last event at ${times[times.length - 1]}, after the run ended at ${after}`);
  const busy = events[3];
  const dataBytes = readJson(join(data, 'COMPLETE')).bytes;
  assert.ok(busy.cpu_s >= 0.19, `busy cpu_s ${busy.cpu_s} should count its child's 0.2 s`);
  assert.ok(busy.wall_s >= busy.cpu_s - 0.05, `busy wall_s ${busy.wall_s} below cpu_s ${busy.cpu_s}`);
  assert.equal([busy.bytes_in, busy.bytes_out, busy.input_wait_s], [0, dataBytes, 0]);
  assert.equal([events[1].bytes_in, events[1].bytes_out], [0, 0]);

  const failed = events[5];
  assert.equal([failed.bytes_in, failed.bytes_out], [dataBytes, 0]);
  assert.ok(failed.input_wait_s >= 0, `input_wait_s ${failed.input_wait_s}`);
  assert.ok(failed.input_wait_s < 0.3, `input_wait_s ${failed.input_wait_s} for an input that was there`);
  assert.is(failed.error, "task 'wait_for' (function wait_for) raised TypeError: object of type 'int' has no len() — fix the error that the traceback shows");
});

test('input_wait_s counts a late producer', async () => {
  const folder = makeFolder('wait');
  const module = writeModule(folder, pipeline);
  const record = join(folder, 'events.jsonl');
  const data = join(folder, 'data', 'make');
  const consumer = startPython('ptk.run', {
    spec: containerSpec(module, [{ name: 'wait_for', inputs: [folderInput('numbers', 'make', 'PVC', data)] }], { record }),
  });

  await sleep(600);
  const produced = runContainer(containerSpec(module, [{ name: 'make', output: { channel: 'PVC', path: data } }]));
  const consumed = await consumer.done;

  assert.is(produced.status, 0);
  assert.is(consumed.stderr, '');
  assert.is(consumed.status, 0);
  const [, , endLine] = readFileSync(record, 'utf8').trimEnd().split('\n');
  const end = JSON.parse(endLine ?? 'null');
  assert.is(end.event, 'end');
  assert.ok(end.input_wait_s >= 0.5, `input_wait_s ${end.input_wait_s} for a producer that came 0.6 s late`);
  assert.ok(end.input_wait_s <= end.wall_s, `input_wait_s ${end.input_wait_s} above wall_s ${end.wall_s}`);
});

test('--idle-after-finish keeps running after success', async () => {
  const folder = makeFolder('idle');
  const module = writeModule(folder, pipeline);
  const record = join(folder, 'events.jsonl');
  const results = join(folder, 'results');
  const idle = startPython('ptk.run', {
    spec: containerSpec(module, [{ name: 'make' }], { record, results_dir: results, log_dir: join(folder, 'logs') }),
    args: ['--idle-after-finish'],
  });

  await waitFor('the end event', () => existsSync(record) && readFileSync(record, 'utf8').includes('"end"'));
  await sleep(300);
  const stillRunning = idle.child.exitCode === null && idle.child.signalCode === null;
  idle.child.kill('SIGTERM');
  const ended = await idle.done;

  assert.ok(stillRunning, 'the runtime exited after its last task');
  assert.is(ended.signal, 'SIGTERM');
  assert.ok(existsSync(join(results, 'make', 'COMPLETE')));
});

test('--idle-after-finish still exits on failure', () => {
  const folder = makeFolder('idle-fail');
  const module = writeModule(folder, pipeline);
  const spec = containerSpec(module, [{ name: 'make' }, { name: 'fail', inputs: [directInput('numbers', 'make')] }], { log_dir: join(folder, 'logs') });

  const run = runContainer(spec, { args: ['--idle-after-finish'], timeoutMs: 10_000 });

  assert.is(run.status, 1);
  assert.is(run.signal, null);
});

test.run();
