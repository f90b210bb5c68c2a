import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const repository = process.cwd();
const python = process.env.PTK_PYTHON ?? 'python3';

test('leaf sample runs as plain Python', () => {
  const run = spawnSync(python, ['samples/leaf/pipeline.py'], {
    cwd: repository,
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: join(repository, 'runtime') },
  });
  assert.is(run.stderr, '');
  assert.is(run.status, 0);
  assert.match(run.stdout, /^accuracy 0\.\d{3} on 80 test images\n$/);
});

test('decorators return the function unchanged', () => {
  const script = [
    'from ptk import task, container, pod',
    'def f(x):',
    '    return x + 1',
    'assert task(name="a", cpu_requests=1)(f) is f',
    'assert container(name="c")(f) is f',
    'assert pod(name="p", num_replicas=2)(f) is f',
    'assert task(f) is f',
    'print("ok")',
  ].join('\n');
  const run = spawnSync(python, ['-c', script], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: join(repository, 'runtime') } });
  assert.is(run.stderr, '');
  assert.is(run.stdout, 'ok\n');
});

test.run();
