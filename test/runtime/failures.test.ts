// How the runtime fails: a task that raises, an input that never comes, a value that cannot be pickled, a
// producer killed while it writes, and an invalid spec, module or command line. Messages are checked in full.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  containerSpec,
  folderInput,
  makeFolder,
  readJson,
  removeFolders,
  runContainer,
  startPython,
  waitFor,
  writeModule,
} from './python.ts';

const pipeline = `import time
from ptk import task


@task
def crash():
    time.sleep(0.3)
    raise ValueError("no data for 2024")


@task
def consume(data):
    print("got", data)


@task
def generator():
    return {"rows": (n for n in range(3))}


class Slow:
    def __reduce__(self):
        time.sleep(60)
        return (Slow, ())


@task
def large_then_slow():
    return [b"x" * (300 << 20), Slow()]


@task
def small():
    return "small"
`;

test.after.each(removeFolders);

function setUp(name: string) {
  const folder = makeFolder(name);
  return { folder, module: writeModule(folder, pipeline) };
}

test('producer crash fails its consumer fast', async () => {
  const { folder, module } = setUp('crash');
  const data = join(folder, 'data', 'crash');
  const later = join(folder, 'data', 'small');
  const consumer = startPython('ptk.run', {
    spec: containerSpec(module, [{ name: 'consume', inputs: [folderInput('data', 'crash', 'PVC', data)] }], { input_timeout_s: 30 }),
  });

  const producer = runContainer(
    containerSpec(module, [
      { name: 'crash', output: { channel: 'PVC', path: data } },
      { name: 'small', output: { channel: 'PVC', path: later } },
    ]),
  );
  const consumed = await consumer.done;

  const problem = "task 'crash' (function crash) raised ValueError: no data for 2024";
  const traceback = [
    'Traceback (most recent call last):',
    `  File "${module}", line 8, in crash`,
    '    raise ValueError("no data for 2024")',
    'ValueError: no data for 2024',
    '',
  ].join('\n');
  assert.is(producer.stderr, `ptk.run: ${problem} — fix the error that the traceback shows\n${traceback}`);
  assert.is(producer.status, 1);
  assert.equal(readJson(join(data, 'FAILED')), { run_id: 'r1', producer: 'crash', error: problem, traceback });
  assert.equal(readJson(join(later, 'FAILED')), {
    run_id: 'r1',
    producer: 'small',
    error: `task 'small' did not run because task 'crash' failed: ${problem}`,
    traceback,
  });
  assert.equal(readdirSync(data), ['FAILED']);

  assert.is(
    consumed.stderr,
    `ptk.run: input 'data' of task 'consume' failed in producer 'crash': ${problem} — ` +
      `fix task 'crash' and run the pipeline again (its traceback is in ${join(data, 'FAILED')})\n`,
  );
  assert.is(consumed.stdout, '');
  assert.is(consumed.status, 1);
  assert.ok(consumed.elapsedMs < 5000, `the consumer took ${consumed.elapsedMs} ms to fail; its timeout is 30 s`);
});

test('missing input times out naming it', () => {
  const { folder, module } = setUp('missing');
  const data = join(folder, 'data', 'crash');

  const run = runContainer(containerSpec(module, [{ name: 'consume', inputs: [folderInput('data', 'crash', 'Volume', data)] }], { input_timeout_s: 0.5 }));

  assert.is(
    run.stderr,
    `ptk.run: input 'data' of task 'consume' timed out after 0.5 s: producer 'crash' wrote no COMPLETE in ${data} — ` +
      "check that task 'crash' runs and succeeds, or raise input_timeout_s\n",
  );
  assert.is(run.stdout, '');
  assert.is(run.status, 1);
  assert.ok(run.elapsedMs >= 500, `timed out after ${run.elapsedMs} ms`);
});

test('unpicklable value fails producer and consumer', () => {
  const { folder, module } = setUp('unpicklable');
  const data = join(folder, 'data', 'generator');

  const producer = runContainer(containerSpec(module, [{ name: 'generator', output: { channel: 'IPC', path: data } }]));
  const consumer = runContainer(containerSpec(module, [{ name: 'consume', inputs: [folderInput('data', 'generator', 'IPC', data)] }], { input_timeout_s: 30 }));

  const problem = "task 'generator' returned a value that cannot be pickled: dict (TypeError: cannot pickle 'generator' object)";
  assert.is(producer.stderr, `ptk.run: ${problem} — return plain data such as lists, dicts or numpy arrays\n`);
  assert.is(producer.status, 1);
  // No COMPLETE, no data.pkl and no temporary file: only the marker.
  assert.equal(readdirSync(data), ['FAILED']);
  assert.equal(readJson(join(data, 'FAILED')), { run_id: 'r1', producer: 'generator', error: problem, traceback: '' });
  assert.is(
    consumer.stderr,
    `ptk.run: input 'data' of task 'consume' failed in producer 'generator': ${problem} — ` +
      `fix task 'generator' and run the pipeline again (its traceback is in ${join(data, 'FAILED')})\n`,
  );
  assert.is(consumer.status, 1);
  assert.ok(consumer.elapsedMs < 5000, `the consumer took ${consumer.elapsedMs} ms`);
});

test('killed producer leaves no COMPLETE', async () => {
  const { folder, module } = setUp('killed');
  const data = join(folder, 'data', 'large');
  const producerSpec = (function_: string) => containerSpec(module, [{ name: 'large', function: function_, output: { channel: 'PVC', path: data } }]);
  const consumer = containerSpec(module, [{ name: 'consume', inputs: [folderInput('data', 'large', 'PVC', data)] }], { input_timeout_s: 0.5 });

  // The task's value pickles 300 MiB into data.pkl, then blocks in the next object: kill it there.
  const producer = startPython('ptk.run', { spec: producerSpec('large_then_slow') });
  const partial = join(data, `.tmp-data.pkl-${producer.child.pid}`);
  await waitFor('300 MiB of data.pkl', () => existsSync(partial) && statSync(partial).size > 300 << 20, 20_000);
  producer.child.kill('SIGKILL');
  const killed = await producer.done;
  const reader = runContainer(consumer);

  assert.is(killed.signal, 'SIGKILL');
  assert.equal(readdirSync(data), [`.tmp-data.pkl-${producer.child.pid}`]);
  assert.is(
    reader.stderr,
    `ptk.run: input 'data' of task 'consume' timed out after 0.5 s: producer 'large' wrote no COMPLETE in ${data} — ` +
      "check that task 'large' runs and succeeds, or raise input_timeout_s\n",
  );
  assert.is(reader.status, 1);

  // A retry of the producer removes the partial file and writes the value.
  const retry = runContainer(producerSpec('small'));
  const second = runContainer(consumer);
  assert.is(retry.status, 0);
  assert.equal(readdirSync(data).sort(), ['COMPLETE', 'data.pkl']);
  assert.is(second.stdout, 'got small\n');
  assert.is(second.status, 0);
});

test('invalid spec lists every problem', () => {
  const spec = {
    version: 2,
    run_id: '',
    module: '/x.py',
    pod: 'p',
    replicas: 0,
    input_timeout_s: -1,
    extra: 1,
    tasks: [
      {
        name: 'a/b',
        function: '1x',
        inputs: [
          { parameter: 'd', producer: 'z', channel: 'direct', path: '/p' },
          { parameter: 'd', producer: 'z', channel: 'IPC' },
        ],
        output: { channel: 'direct', path: '' },
      },
    ],
  };

  const run = runContainer(spec);

  assert.is(
    run.stderr,
    [
      'ptk.run: invalid container spec in PTK_SPEC (15 problems). Fix these fields, or write the spec again with the ptk version that matches this runtime:',
      '  extra: unknown field (expected one of version, run_id, module, pod, container, replicas, input_timeout_s, log_dir, record, results_dir, tasks)',
      '  container: missing',
      '  version: expected 1, got 2 (this runtime reads version 1 only)',
      '  run_id: expected a non-empty string, got ""',
      '  replicas: expected a whole number of 1 or more, got 0',
      '  input_timeout_s: expected a number of seconds above 0, got -1',
      `  tasks[0].name: "a/b" cannot be used as a file name (it names the task's log and results)`,
      '  tasks[0].function: expected a Python identifier, got "1x"',
      "  tasks[0].inputs[0].path: not allowed with channel 'direct'",
      '  tasks[0].inputs[0].producer: "z" is not an earlier task of this container, which a direct input needs',
      "  tasks[0].inputs[1].path: missing (channel 'IPC' needs it)",
      "  tasks[0].inputs[1].replicas: missing (channel 'IPC' needs it)",
      '  tasks[0].inputs[1].parameter: duplicate parameter "d"',
      '  tasks[0].output.channel: expected one of IPC, Volume, PVC, got "direct"',
      '  tasks[0].output.path: expected a non-empty string, got ""',
      '',
    ].join('\n'),
  );
  assert.is(run.stdout, '');
  assert.is(run.status, 2);
});

test('bad JSON, flags or index exit 2', () => {
  const { folder, module } = setUp('flags');
  const spec = containerSpec(module, [{ name: 'small' }]);
  const specFile = join(folder, 'spec.json');
  writeFileSync(specFile, JSON.stringify(spec));

  const cases: [string, ReturnType<typeof runContainer>, string][] = [
    ['bad JSON', runContainer(null, { env: { PTK_SPEC: '{"version": 1,' } }), 'ptk.run: invalid container spec in PTK_SPEC: not valid JSON (Expecting property name enclosed in double quotes: line 1 column 15 (char 14))\n'],
    ['no spec', runContainer(spec, { env: { PTK_SPEC: '' }, args: ['--spec', join(folder, 'absent.json')] }), `ptk.run: cannot read the spec file --spec ${join(folder, 'absent.json')}: No such file or directory\n`],
    ['unknown flag', runContainer(spec, { args: ['--pods', 'p'] }), "ptk.run: unknown argument '--pods'\nusage: python -m ptk.run [--spec FILE] [--module FILE] [--pod NAME] [--container NAME] [--idle-after-finish]\n"],
    ['flag without value', runContainer(spec, { args: ['--pod'] }), 'ptk.run: option --pod needs a value\nusage: python -m ptk.run [--spec FILE] [--module FILE] [--pod NAME] [--container NAME] [--idle-after-finish]\n'],
    [
      'flags differ',
      runContainer(spec, { args: ['--spec', specFile, '--pod', 'q', '--container=c', '--module', join(folder, 'other.py')] }),
      `ptk.run: the flags do not match the container spec in ${specFile}: --module is '${join(folder, 'other.py')}' but the spec's module is '${module}'; ` +
        "--pod is 'q' but the spec's pod is 'p'. Pass the flags and the spec of the same container\n",
    ],
    [
      'replica index',
      runContainer({ ...spec, replicas: 2 }, { env: { JOB_COMPLETION_INDEX: '2' } }),
      "ptk.run: invalid replica index: JOB_COMPLETION_INDEX is '2', but the spec's replicas is 2. Set it to a whole number from 0 to 1\n",
    ],
  ];

  for (const [name, run, expected] of cases) {
    assert.is(run.stderr, expected, name);
    assert.is(run.status, 2, name);
  }
  const matching = runContainer(spec, { args: ['--spec', specFile, '--pod', 'p', '--container', 'c', '--module', module], env: { PTK_SPEC: 'ignored' } });
  assert.is(matching.stderr, '');
  assert.is(matching.status, 0);
});

test('unimportable module exits 2', () => {
  const folder = makeFolder('import');
  const module = writeModule(folder, 'import ptk\nimport no_such_module_for_ptk\n');
  const data = join(folder, 'data', 'make');

  const run = runContainer(containerSpec(module, [{ name: 'make', output: { channel: 'PVC', path: data } }]));

  const problem = `cannot import module ${module}: ModuleNotFoundError: No module named 'no_such_module_for_ptk'`;
  const traceback = [
    'Traceback (most recent call last):',
    `  File "${module}", line 2, in <module>`,
    '    import no_such_module_for_ptk',
    "ModuleNotFoundError: No module named 'no_such_module_for_ptk'",
    '',
  ].join('\n');
  assert.is(run.stderr, `ptk.run: ${problem} — fix the error that the traceback shows\n${traceback}`);
  assert.is(run.status, 2);
  assert.equal(readJson(join(data, 'FAILED')), { run_id: 'r1', producer: 'make', error: `task 'make' did not run: ${problem}`, traceback });
});

test('missing function or parameter exits 2', () => {
  const { module } = setUp('functions');

  const missing = runContainer(containerSpec(module, [{ name: 'make', function: 'nothing_here' }]));
  const notFunction = runContainer(containerSpec(module, [{ name: 'make', function: 'time' }]));
  const wrongInputs = runContainer(
    containerSpec(module, [{ name: 'small' }, { name: 'consume', inputs: [{ parameter: 'wrong', producer: 'small', channel: 'direct' }] }]),
  );

  assert.is(missing.stderr, `ptk.run: task 'make' calls nothing_here, which is not defined in module ${module} — check the spec's function names against the module\n`);
  assert.is(missing.status, 2);
  assert.is(notFunction.stderr, `ptk.run: task 'make' calls time, which is not a function in module ${module} — check the spec's function names against the module\n`);
  assert.is(notFunction.status, 2);
  assert.is(
    wrongInputs.stderr,
    `ptk.run: function consume in ${module} does not match the inputs of task 'consume' (wrong): ` +
      "it has no parameter 'wrong'; parameter 'data' has no input and no default — make the function's parameters match the names of the task's inputs\n",
  );
  assert.is(wrongInputs.stdout, '');
  assert.is(wrongInputs.status, 2);
});

test('runtime error keeps a stored value', () => {
  const folder = makeFolder('runtime-error');
  // The task closes the runtime's event record, so writing the end event fails after the value is stored.
  const module = writeModule(folder, 'import os\nfrom ptk import task\n\n@task\ndef closer():\n    os.closerange(3, 256)\n    return 1\n');
  const data = join(folder, 'data', 'closer');

  const run = runContainer(containerSpec(module, [{ name: 'closer', output: { channel: 'PVC', path: data } }], { record: join(folder, 'events.jsonl') }));

  const [line, ...traceback] = run.stderr.split('\n');
  assert.is(
    line,
    "ptk.run: task 'closer' failed in the ptk runtime: OSError: [Errno 9] Bad file descriptor — " +
      "check the traceback below, and report it to ptk if it ends in ptk's own files",
  );
  assert.is(traceback[0], 'Traceback (most recent call last):');
  assert.is(traceback.slice(-2).join('\n'), 'OSError: [Errno 9] Bad file descriptor\n');
  assert.is(run.status, 1);
  assert.equal(readdirSync(data).sort(), ['COMPLETE', 'data.pkl']);
});

test.run();
