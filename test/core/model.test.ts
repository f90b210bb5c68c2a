import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseModule } from '../../core/parse.ts';
import { buildPipeline } from '../../core/model.ts';
import { InputError } from '../../core/errors.ts';
import type { Pipeline, PodSpec, Quantity } from '../../core/types.ts';
import { check } from '../../cmd/check.ts';

function pipelineOf(lines: string[]): Pipeline {
  return buildPipeline(parseModule(`${lines.join('\n')}\n`, 'pipeline.py'));
}

/** Returns the problems buildPipeline reports for a module, as `line:column: message`. */
function problemsOf(lines: string[]): string[] {
  try {
    pipelineOf(lines);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return error.problems.map((problem) => `${problem.location?.line}:${problem.location?.column}: ${problem.message}`);
  }
  throw new Error('expected an InputError');
}

/** Builds a pod whose containers each run the listed tasks, with no requests or limits. */
function pod(name: string, containers: Record<string, string[]>, replicas = 1): PodSpec {
  return {
    name,
    kubeName: name,
    replicas,
    containers: Object.entries(containers).map(([container, tasks]) => ({ name: container, kubeName: container, tasks, resources: {} })),
  };
}

function quantity(text: string, value: number): Quantity {
  return { text, value };
}

// Edges.

test('input= matches returned names', () => {
  const pipeline = pipelineOf([
    'from ptk import task',
    '',
    "@task(name='download')",
    'def download_images():',
    '    images = [1]',
    '    return images',
    '',
    "@task(name='labels')",
    'def load_labels():',
    '    labels = [0]',
    '    return labels',
    '',
    "@task(name='prepare', input={'download', 'labels'})",
    'def prepare_data(labels, images):',
    '    return len(images) + len(labels)',
  ]);
  assert.equal(pipeline.edges, [
    { from: 'download', to: 'prepare', parameter: 'images' },
    { from: 'labels', to: 'prepare', parameter: 'labels' },
  ]);
  assert.equal(pipeline.tasks.find((task) => task.name === 'prepare')!.inputs, ['download', 'labels']);
});

test('input= as a string naming a function', () => {
  const pipeline = pipelineOf([
    'from ptk import pod',
    '',
    "@pod(name='main-dag', output={'type': 'IPC'})",
    'def download_data():',
    '    result = [1]',
    '    return result',
    '',
    "@pod(name='main-dag', input='download_data')",
    'def prepare_data(download_result):',
    '    return download_result',
  ]);
  assert.equal(pipeline.edges, [{ from: 'download_data', to: 'prepare_data', parameter: 'download_result' }]);
});

test('edges from main()', () => {
  const pipeline = pipelineOf([
    'from ptk import task',
    '',
    '@task',
    'def download():',
    '    return 1',
    '',
    '@task',
    'def prepare(raw, scale=2):',
    '    return raw',
    '',
    '@task',
    'def train(features, labels):',
    '    return features',
    '',
    'def main():',
    '    raw = download()',
    '    clean = prepare(raw)',
    '    train(labels=raw, features=clean)',
  ]);
  assert.equal(pipeline.edges, [
    { from: 'download', to: 'prepare', parameter: 'raw' },
    { from: 'download', to: 'train', parameter: 'labels' },
    { from: 'prepare', to: 'train', parameter: 'features' },
  ]);
});

test('nested calls in the main block', () => {
  const pipeline = pipelineOf([
    'from ptk import task',
    '',
    '@task',
    'def evaluate(model):',
    '    return model',
    '',
    '@task',
    'def train(features):',
    '    return features',
    '',
    '@task',
    'def prepare(raw):',
    '    return raw',
    '',
    '@task',
    'def download():',
    '    return 1',
    '',
    'if __name__ == "__main__":',
    '    evaluate(train(prepare(download())))',
  ]);
  assert.equal(pipeline.edges, [
    { from: 'train', to: 'evaluate', parameter: 'model' },
    { from: 'prepare', to: 'train', parameter: 'features' },
    { from: 'download', to: 'prepare', parameter: 'raw' },
  ]);
  assert.equal(
    pipeline.tasks.map((task) => task.name),
    ['download', 'prepare', 'train', 'evaluate'],
  );
});

test('input= agreeing with the driver code', () => {
  const pipeline = pipelineOf([
    'from ptk import task',
    '',
    '@task',
    'def first():',
    '    a = 1',
    '    return a',
    '',
    '@task',
    'def second():',
    '    b = 2',
    '    return b',
    '',
    "@task(input={'second'})",
    'def use(b):',
    '    return b',
    '',
    'def main():',
    '    first()',
    '    use(second())',
  ]);
  assert.equal(pipeline.edges, [{ from: 'second', to: 'use', parameter: 'b' }]);
});

// Order.

test('tasks in dependency order', () => {
  const pipeline = pipelineOf([
    'from ptk import task',
    '',
    "@task(input={'b'})",
    'def c(b_out):',
    '    return b_out',
    '',
    "@task(input={'a'})",
    'def b(a_out):',
    '    b_out = a_out',
    '    return b_out',
    '',
    '@task',
    'def a():',
    '    a_out = 1',
    '    return a_out',
    '',
    '@task',
    'def alone():',
    '    return 0',
  ]);
  assert.equal(
    pipeline.tasks.map((task) => task.name),
    ['a', 'b', 'c', 'alone'],
  );
});

// Grouping.

test('@task alone gets its own pod', () => {
  const pipeline = pipelineOf(['from ptk import task', '', '@task', 'def a():', '    return 1', '', "@task(name='b_step')", 'def b():', '    return 2']);
  assert.equal(pipeline.annotated, {
    kind: 'annotated',
    pods: [
      pod('a', { a: ['a'] }),
      { name: 'b_step', kubeName: 'b-step', replicas: 1, containers: [{ name: 'b_step', kubeName: 'b-step', tasks: ['b_step'], resources: {} }] },
    ],
  });
});

test('same @container name shares one container', () => {
  const pipeline = pipelineOf([
    'from ptk import container',
    '',
    "@container(name='etl', cpu_requests=0.5, memory_limits='1Gi')",
    'def extract():',
    '    return 1',
    '',
    "@container(name='etl', cpu_requests=2, memory_limits='2Gi')",
    'def load():',
    '    return 2',
  ]);
  assert.equal(pipeline.annotated, {
    kind: 'annotated',
    pods: [
      {
        name: 'etl',
        kubeName: 'etl',
        replicas: 1,
        containers: [{ name: 'etl', kubeName: 'etl', tasks: ['extract', 'load'], resources: { cpuRequest: quantity('2', 2), memoryLimit: quantity('2Gi', 2 ** 31) } }],
      },
    ],
  });
});

test('same @pod name gives a container per function', () => {
  const pipeline = pipelineOf([
    'from ptk import pod',
    '',
    "@pod(name='dag')",
    'def extract():',
    '    return 1',
    '',
    "@pod(name='dag')",
    'def load():',
    '    return 2',
  ]);
  assert.equal(pipeline.annotated, { kind: 'annotated', pods: [pod('dag', { extract: ['extract'], load: ['load'] })] });
});

test('@container without @pod gets its own pod', () => {
  const pipeline = pipelineOf([
    'from ptk import container',
    '',
    "@container(name='one')",
    'def extract():',
    '    return 1',
    '',
    "@container(name='two')",
    'def load():',
    '    return 2',
  ]);
  assert.equal(pipeline.annotated, { kind: 'annotated', pods: [pod('one', { one: ['extract'] }), pod('two', { two: ['load'] })] });
});

test('container takes the pod one function declares', () => {
  const pipeline = pipelineOf([
    'from ptk import container, pod',
    '',
    "@container(name='shared')",
    'def extract():',
    '    return 1',
    '',
    "@pod(name='dag')",
    "@container(name='shared')",
    'def transform():',
    '    return 2',
    '',
    "@pod(name='dag')",
    'def load():',
    '    return 3',
  ]);
  assert.equal(pipeline.annotated, { kind: 'annotated', pods: [pod('dag', { shared: ['extract', 'transform'], load: ['load'] })] });
});

test('@pod num_replicas covers the whole pod', () => {
  const pipeline = pipelineOf([
    'from ptk import pod',
    '',
    "@pod(name='workers', num_replicas=3)",
    'def shard():',
    '    return 1',
    '',
    "@pod(name='workers')",
    'def merge():',
    '    return 2',
  ]);
  assert.equal(pipeline.annotated, { kind: 'annotated', pods: [pod('workers', { shard: ['shard'], merge: ['merge'] }, 3)] });
  assert.equal(
    pipeline.tasks.map((task) => [task.name, task.replicas]),
    [
      ['shard', 3],
      ['merge', 3],
    ],
  );
});

test('@task num_replicas differing in a pod', () => {
  const problems = problemsOf([
    'from ptk import pod, task',
    '',
    "@task(num_replicas=2)",
    "@pod(name='workers')",
    'def shard():',
    '    return 1',
    '',
    "@pod(name='workers')",
    'def merge():',
    '    return 2',
  ]);
  assert.equal(problems, [
    "3:20: pod 'workers' contains tasks with different num_replicas (shard=2, merge=1); Kubernetes replicates a whole pod: give them one count, or put them in separate pods",
  ]);
});

// Resources and problems.

test('@task and @container requests merge', () => {
  const pipeline = pipelineOf([
    'from ptk import container, task',
    '',
    "@task(cpu_requests=1, gpu_requests=1, gpu_limits=1)",
    "@container(name='gpu', memory_requests='4Gi', memory_limits='8Gi')",
    'def train():',
    '    return 1',
  ]);
  const resources = pipeline.tasks[0]!.resources;
  assert.equal(
    Object.fromEntries(Object.entries(resources).map(([field, value]) => [field, value!.text])),
    { cpuRequest: '1', gpuRequest: '1', gpuLimit: '1', memoryRequest: '4Gi', memoryLimit: '8Gi' },
  );
});

test('problems come together in line order', () => {
  const problems = problemsOf([
    'from ptk import task',
    '',
    "@task(name='b', input={'missing'})",
    'def second(value):',
    '    return value',
    '',
    "@task(name='a', cpu_requests=2, cpu_limits=1)",
    'def first():',
    '    return 1',
  ]);
  assert.equal(problems, [
    "3:23: input 'missing' of second is not a task; tasks are: b, a",
    '7:30: cpu_requests 2 is above cpu_limits 1 for first; Kubernetes rejects a request above its limit: raise the limit or lower the request',
  ]);
});

test('None means the argument is not set', () => {
  const pipeline = pipelineOf(['from ptk import task', '', '@task(name=None, cpu_limits=None, output=None)', 'def step():', '    return 1']);
  assert.equal(
    pipeline.tasks.map((task) => ({ name: task.name, resources: task.resources, output: task.output })),
    [{ name: 'step', resources: {}, output: undefined }],
  );
});

// The JSON that `ptk check --json` prints.

test('check --json for the leaf sample', async () => {
  const result = await check({ file: 'samples/leaf/pipeline.py', cwd: process.cwd(), json: true });
  const gib = 2 ** 30;
  const mib = 2 ** 20;
  const leafTask = (name: string, functionName: string, parameter: string | undefined, producer: string | undefined, output: object | undefined, resources: object) => ({
    name,
    functionName,
    kubeName: name,
    parameters: parameter ? [parameter] : [],
    inputs: producer ? [producer] : [],
    ...(output ? { output } : {}),
    resources,
    replicas: 1,
  });
  const pvc = (text: string, value: number) => ({ type: 'PVC', size: quantity(text, value) });
  const download = { cpuRequest: quantity('0.1', 0.1), memoryRequest: quantity('256Mi', 256 * mib) };
  const prepare = { cpuRequest: quantity('0.2', 0.2), memoryRequest: quantity('512Mi', 512 * mib) };
  const train = { cpuRequest: quantity('0.2', 0.2), memoryRequest: quantity('1Gi', gib), gpuRequest: quantity('1', 1), gpuLimit: quantity('1', 1) };
  const evaluate = { cpuRequest: quantity('0.2', 0.2), memoryRequest: quantity('384Mi', 384 * mib) };
  const podOf = (name: string, resources: object) => ({ name, kubeName: name, replicas: 1, containers: [{ name, kubeName: name, tasks: [name], resources }] });

  assert.is(result.exitCode, 0);
  assert.equal(JSON.parse(result.stdout), {
    file: 'samples/leaf/pipeline.py',
    tasks: [
      leafTask('download', 'download_data', undefined, undefined, pvc('20Gi', 20 * gib), download),
      leafTask('prepare', 'prepare_data', 'download_result', 'download', pvc('20Gi', 20 * gib), prepare),
      leafTask('preprocess', 'preprocess_data', 'prepare_results', 'prepare', pvc('10Gi', 10 * gib), prepare),
      leafTask('train', 'train_data', 'preprocess_results', 'preprocess', pvc('1Gi', gib), train),
      leafTask('evaluate', 'eval_data', 'train_results', 'train', undefined, evaluate),
    ],
    edges: [
      { from: 'download', to: 'prepare', parameter: 'download_result' },
      { from: 'prepare', to: 'preprocess', parameter: 'prepare_results' },
      { from: 'preprocess', to: 'train', parameter: 'preprocess_results' },
      { from: 'train', to: 'evaluate', parameter: 'train_results' },
    ],
    annotated: {
      kind: 'annotated',
      pods: [podOf('download', download), podOf('prepare', prepare), podOf('preprocess', prepare), podOf('train', train), podOf('evaluate', evaluate)],
    },
  });
});

test.run();
