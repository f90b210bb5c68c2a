// The pod launcher `python -m ptk.pod`: starts containers together, writes the status file, stops them on
// SIGTERM (SIGKILL after grace_s), and restricts them to the pod's CPUs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { containerSpec, makeFolder, python, pythonOutput, readJson, removeFolders, startPython, waitFor, writeModule } from './python.ts';

test.after.each(removeFolders);

interface ContainerJson {
  name: string;
  argv: string[];
  env?: Record<string, string>;
  log?: string | null;
}

function podSpec(folder: string, containers: ContainerJson[], fields: Record<string, unknown> = {}) {
  return { pod: 'pod-a', cpus: null, status: join(folder, 'status', 'pod-a.json'), grace_s: 5, containers, ...fields };
}

function startPod(spec: unknown) {
  return startPython('ptk.pod', { env: { PTK_POD_SPEC: JSON.stringify(spec) } });
}

/** `python -c CODE` as a container's argv. */
function pythonArgv(code: string): string[] {
  return [python, '-c', code];
}

test('status file records every container', async () => {
  const folder = makeFolder('pod-status');
  const spec = podSpec(folder, [
    { name: 'ok', argv: pythonArgv('import os\nprint("ok sees", os.environ["GREETING"], os.environ["PATH"] != "")'), env: { GREETING: 'hello' }, log: join(folder, 'logs', 'ok.log') },
    { name: 'exit-3', argv: ['sh', '-c', 'echo "exit-3 sees $GREETING" >&2; exit 3'], env: { GREETING: 'other' }, log: join(folder, 'logs', 'exit-3.log') },
    { name: 'absent', argv: [join(folder, 'no-such-program')], log: join(folder, 'logs', 'absent.log') },
  ]);
  const before = Date.now() / 1000;

  const pod = await startPod(spec).done;

  const after = Date.now() / 1000;
  const cannotStart = `ptk.pod: cannot start container 'absent' (${join(folder, 'no-such-program')}): No such file or directory\n`;
  assert.is(pod.stderr, cannotStart);
  assert.is(pod.stdout, '');
  assert.is(pod.status, 1);
  assert.is(readFileSync(join(folder, 'logs', 'ok.log'), 'utf8'), 'ok sees hello True\n');
  assert.is(readFileSync(join(folder, 'logs', 'exit-3.log'), 'utf8'), 'exit-3 sees other\n');
  assert.is(readFileSync(join(folder, 'logs', 'absent.log'), 'utf8'), cannotStart);

  const status = readJson(spec.status);
  assert.equal(Object.keys(status), ['pod', 'containers']);
  assert.is(status.pod, 'pod-a');
  assert.equal(
    status.containers.map((entry: Record<string, unknown>) => [entry.name, entry.exit_code, entry.signal]),
    [['ok', 0, null], ['exit-3', 3, null], ['absent', 127, null]],
  );
  for (const entry of status.containers) {
    assert.equal(Object.keys(entry), ['name', 'exit_code', 'signal', 'started_at', 'finished_at', 'cpu_s', 'max_rss_bytes']);
    assert.ok(entry.started_at >= before, `${entry.name} started at ${entry.started_at}, before the pod at ${before}`);
    assert.ok(entry.started_at <= entry.finished_at, `${entry.name} finished at ${entry.finished_at}, before it started`);
    assert.ok(entry.finished_at <= after, `${entry.name} finished at ${entry.finished_at}, after the pod at ${after}`);
  }
  const [ok] = status.containers;
  assert.ok(ok.cpu_s > 0, `cpu_s ${ok.cpu_s}`);
  assert.ok(ok.cpu_s < 5, `cpu_s ${ok.cpu_s} for python -c`);
  assert.ok(ok.max_rss_bytes > 1 << 20, `max_rss_bytes ${ok.max_rss_bytes}`);
  assert.ok(ok.max_rss_bytes < 1 << 30, `max_rss_bytes ${ok.max_rss_bytes} for python -c`);
  assert.equal(readdirSync(join(folder, 'status')), ['pod-a.json'], 'no temporary file is left');
});

test('exit 0 when every container succeeds', async () => {
  const folder = makeFolder('pod-ok');
  const spec = podSpec(folder, [
    { name: 'a', argv: ['true'] },
    { name: 'b', argv: pythonArgv('pass'), log: null },
  ]);

  const pod = await startPod(spec).done;

  assert.is(pod.stderr, '');
  assert.is(pod.status, 0);
  assert.equal(readJson(spec.status).containers.map((entry: { exit_code: number }) => entry.exit_code), [0, 0]);
});

test('SIGTERM stops every container', async () => {
  const folder = makeFolder('pod-term');
  const sleeper = (name: string) => ({
    name,
    argv: pythonArgv('import time\nprint("ready", flush=True)\ntime.sleep(30)'),
    log: join(folder, `${name}.log`),
  });
  const spec = podSpec(folder, [sleeper('first'), sleeper('second')]);
  const pod = startPod(spec);

  await waitFor('both containers', () => ['first', 'second'].every((name) => existsSync(join(folder, `${name}.log`)) && readFileSync(join(folder, `${name}.log`), 'utf8') === 'ready\n'));
  pod.child.kill('SIGTERM');
  const ended = await pod.done;

  assert.is(ended.status, 1);
  assert.ok(ended.elapsedMs < 10_000, `the pod took ${ended.elapsedMs} ms`);
  assert.equal(
    readJson(spec.status).containers.map((entry: Record<string, unknown>) => [entry.name, entry.exit_code, entry.signal]),
    [['first', null, 'SIGTERM'], ['second', null, 'SIGTERM']],
  );
});

test('SIGKILL after grace_s', async () => {
  const folder = makeFolder('pod-kill');
  const stubborn = 'import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint("ready", flush=True)\ntime.sleep(30)';
  const spec = podSpec(folder, [{ name: 'stubborn', argv: pythonArgv(stubborn), log: join(folder, 'stubborn.log') }], { grace_s: 0.5 });
  const pod = startPod(spec);

  await waitFor('the container', () => existsSync(join(folder, 'stubborn.log')) && readFileSync(join(folder, 'stubborn.log'), 'utf8') === 'ready\n');
  const signalled = performance.now();
  pod.child.kill('SIGINT');
  const ended = await pod.done;
  const stoppedMs = performance.now() - signalled;

  assert.is(ended.status, 1);
  assert.ok(stoppedMs >= 450, `stopped ${stoppedMs} ms after SIGINT, before grace_s`);
  assert.ok(stoppedMs < 5000, `stopped ${stoppedMs} ms after SIGINT`);
  const [entry] = readJson(spec.status).containers;
  assert.equal([entry.exit_code, entry.signal], [null, 'SIGKILL']);
});

test('cpus restricts the containers', async () => {
  const cpu = cpus().length > 1 ? 1 : 0;
  const folder = makeFolder('pod-cpus');
  const module = writeModule(folder, 'import os\nfrom ptk import task\n\n@task\ndef affinity():\n    print(sorted(os.sched_getaffinity(0)))\n');
  const container = {
    name: 'runtime',
    argv: [python, '-m', 'ptk.run'],
    env: { PTK_SPEC: JSON.stringify(containerSpec(module, [{ name: 'affinity' }])) },
    log: join(folder, 'runtime.log'),
  };
  const spec = podSpec(folder, [container], { cpus: [cpu] });

  const pod = await startPod(spec).done;

  assert.is(pod.stderr, '');
  assert.is(pod.status, 0);
  assert.is(readFileSync(container.log, 'utf8'), `[${cpu}]\n`);
});

test('invalid pod spec exits 2', async () => {
  const folder = makeFolder('pod-invalid');
  const spec = {
    pod: '',
    cpus: [],
    grace_s: -1,
    extra: true,
    containers: [{ name: 'a', argv: [], env: { X: 1 } }, { name: 'a', argv: ['true'], log: 5 }],
  };

  const invalid = await startPod(spec).done;
  const missing = await startPython('ptk.pod').done;
  const badCpu = await startPod(podSpec(folder, [{ name: 'a', argv: ['true'] }], { cpus: [4096] })).done;

  assert.is(
    invalid.stderr,
    [
      'ptk.pod: invalid pod spec in PTK_POD_SPEC (9 problems):',
      '  extra: unknown field (expected one of pod, cpus, status, grace_s, containers)',
      '  status: missing',
      '  pod: expected a non-empty string, got ""',
      '  cpus: expected null or a non-empty list of CPU numbers, got []',
      '  grace_s: expected a number of seconds of 0 or more, got -1',
      '  containers[0].argv: expected a non-empty list of strings, got []',
      '  containers[0].env: expected an object of strings, got {"X": 1}',
      '  containers[1].log: expected null or a non-empty string, got 5',
      '  containers[1].name: duplicate container name "a"',
      '',
    ].join('\n'),
  );
  assert.is(invalid.status, 2);
  assert.is(missing.stderr, "ptk.pod: PTK_POD_SPEC is not set: set it to the pod spec's JSON\n");
  assert.is(missing.status, 2);
  const usable = pythonOutput('import os\nprint(sorted(os.sched_getaffinity(0)))').trim();
  assert.is(badCpu.stderr, `ptk.pod: cpus: cannot restrict the pod to CPUs [4096]: Invalid argument. Choose among the CPUs this process may use: ${usable}\n`);
  assert.is(badCpu.status, 2);
  assert.not.ok(existsSync(join(folder, 'status')));
});

test.run();
