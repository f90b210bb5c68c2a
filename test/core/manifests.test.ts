import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { InputError } from '../../core/errors.ts';
import { manifestsToYaml, renderManifests, type ManifestFile, type RenderInput } from '../../core/manifests.ts';
import { formatQuantity } from '../../core/manifest-resources.ts';
import type { Pipeline } from '../../core/types.ts';
import type { Plan } from '../../optimizer/types.ts';
import {
  chainFile,
  chainPipeline,
  chainPlan,
  chainSource,
  quantity,
  type ChainGrouping,
} from '../fixtures/manifests/chain.ts';
import { nameViolations, podTemplateOf, restrictedViolations, validateSchema } from '../fixtures/manifests/kube-checks.ts';

type KubeObject = Record<string, unknown>;

const runId = '20250101-120000-ab12';

function render(pipeline: Pipeline, plan: Plan, overrides: Partial<RenderInput> = {}): ManifestFile[] {
  return renderManifests({
    pipeline,
    plan,
    workload: 'job',
    namespace: 'ml',
    image: 'python:3.12-slim',
    runId,
    files: [{ name: chainFile, content: chainSource }],
    ...overrides,
  });
}

function renderChain(grouping: ChainGrouping, overrides: Partial<RenderInput> = {}): ManifestFile[] {
  const pipeline = chainPipeline();
  return render(pipeline, chainPlan(pipeline, grouping), overrides);
}

function objectsOf(files: ManifestFile[]): KubeObject[] {
  return files.flatMap((file) => file.objects);
}

function find(files: ManifestFile[], kind: string, name: string): KubeObject {
  const object = objectsOf(files).find((candidate) => candidate.kind === kind && (candidate.metadata as { name: string }).name === name);
  if (!object) throw new Error(`no ${kind} ${name}`);
  return object;
}

/** The error that `work` throws, which must be an InputError. */
function inputErrorOf(work: () => unknown): InputError {
  try {
    work();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

const groupings: ChainGrouping[] = ['pod-per-task', 'one-pod', 'one-container'];

test('file names follow pod and task names', () => {
  assert.equal(
    renderChain('pod-per-task').map((file) => file.fileName),
    ['00-shared.yaml', 'download.yaml', 'prepare.yaml', 'preprocess.yaml', 'train.yaml', 'evaluate.yaml'],
  );
  assert.equal(
    renderChain('one-pod').map((file) => file.fileName),
    ['00-shared.yaml', 'chain-download-prepare-preprocess-train-evaluate.yaml'],
  );
  assert.equal(
    renderChain('one-container').map((file) => file.fileName),
    ['00-shared.yaml', 'chain-download-prepare-preprocess-train-evaluate.yaml'],
  );
});

test('shared file sorts before every pod file', () => {
  for (const grouping of groupings) {
    const [shared, ...podFiles] = renderChain(grouping).map((file) => file.fileName);
    assert.is(shared, '00-shared.yaml');
    for (const name of podFiles) assert.ok(name > shared!, `${grouping}: ${name}`);
  }
});

test('every object passes the OpenAPI schema', () => {
  for (const grouping of groupings) {
    for (const workload of ['job', 'deployment'] as const) {
      for (const object of objectsOf(renderChain(grouping, { workload }))) {
        assert.not.throws(() => validateSchema(object), `${grouping} ${workload} ${String(object.kind)}`);
      }
    }
  }
});

test('schema check rejects invalid objects', () => {
  const job = structuredClone(find(renderChain('pod-per-task'), 'Job', 'chain-train'));
  const template = podTemplateOf(job)!;
  template.spec!.containers[0]!.resources = { limits: { cpu: 'four' } };
  assert.throws(() => validateSchema(job), /limits\/cpu must match format "quantity"/);

  const deployment = structuredClone(find(renderChain('pod-per-task', { workload: 'deployment' }), 'Deployment', 'chain-train'));
  delete (deployment.spec as Record<string, unknown>).selector;
  assert.throws(() => validateSchema(deployment), /must have required property selector/);

  const claim = structuredClone(find(renderChain('pod-per-task'), 'PersistentVolumeClaim', 'chain-download-data'));
  (claim.spec as { accessModes: unknown }).accessModes = 'ReadWriteOnce';
  assert.throws(() => validateSchema(claim), /accessModes must be array/);

  assert.throws(() => validateSchema({ apiVersion: 'v1', kind: 'Secret' }), /no schema check for v1\/Secret/);
});

test('names, labels and references are valid', () => {
  for (const grouping of groupings) {
    for (const workload of ['job', 'deployment'] as const) {
      assert.equal(nameViolations(objectsOf(renderChain(grouping, { workload }))), [], `${grouping} ${workload}`);
    }
  }
});

test('every pod meets the restricted profile', () => {
  for (const grouping of groupings) {
    for (const workload of ['job', 'deployment'] as const) {
      for (const object of objectsOf(renderChain(grouping, { workload }))) {
        const template = podTemplateOf(object);
        if (template) assert.equal(restrictedViolations(template.spec!), [], `${grouping} ${workload}`);
      }
    }
  }
});

test('restricted check catches violations', () => {
  const job = structuredClone(find(renderChain('pod-per-task'), 'Job', 'chain-train'));
  const spec = podTemplateOf(job)!.spec!;
  spec.hostNetwork = true;
  spec.securityContext!.runAsUser = 0;
  spec.volumes!.push({ name: 'host', hostPath: { path: '/' } });
  const container = spec.containers[0]!;
  container.securityContext!.allowPrivilegeEscalation = true;
  container.securityContext!.capabilities = { add: ['SYS_ADMIN'] };
  container.securityContext!.readOnlyRootFilesystem = false;

  assert.equal(restrictedViolations(spec), [
    'host namespaces: hostNetwork, hostPID and hostIPC must be unset or false',
    'volume types: host is hostPath',
    'non-root user: spec.securityContext.runAsUser must not be 0',
    'container train: allowPrivilegeEscalation must be false',
    'container train: capabilities.drop must include ALL',
    'container train: capability SYS_ADMIN may not be added',
    'container train: readOnlyRootFilesystem must be true',
  ]);
});

test('train job of pod-per-task grouping', () => {
  const job = find(renderChain('pod-per-task'), 'Job', 'chain-train');
  const labels = {
    'app.kubernetes.io/name': 'train',
    'app.kubernetes.io/instance': 'chain-train',
    'app.kubernetes.io/component': 'workload',
    'app.kubernetes.io/part-of': 'chain',
    'app.kubernetes.io/managed-by': 'ptk',
    'ptk.dev/run-id': runId,
  };
  assert.equal(job, {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: 'chain-train',
      namespace: 'ml',
      labels,
      annotations: {
        'ptk.dev/pod': 'train',
        'ptk.dev/tasks': 'train',
        'ptk.dev/source': 'chain.py',
        'ptk.dev/source-sha256': 'a'.repeat(64),
      },
    },
    spec: {
      backoffLimit: 2,
      ttlSecondsAfterFinished: 86400,
      activeDeadlineSeconds: 600,
      template: {
        metadata: { labels, annotations: { 'ptk.dev/pod': 'train', 'ptk.dev/tasks': 'train' } },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            fsGroup: 65532,
            fsGroupChangePolicy: 'OnRootMismatch',
            seccompProfile: { type: 'RuntimeDefault' },
          },
          nodeSelector: {
            'node.kubernetes.io/instance-type': 'n1-standard-8',
            'cloud.google.com/gke-accelerator': 'nvidia-tesla-t4',
          },
          tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
          affinity: {
            podAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                {
                  labelSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'chain', 'ptk.dev/run-id': runId } },
                  topologyKey: 'kubernetes.io/hostname',
                },
              ],
            },
          },
          containers: [
            {
              name: 'train',
              image: 'python:3.12-slim',
              command: ['python', '-m', 'ptk.run', '--module', '/ptk/code/chain.py', '--pod', 'train', '--container', 'train'],
              workingDir: '/tmp',
              env: [
                {
                  name: 'PTK_SPEC',
                  value: JSON.stringify({
                    version: 1,
                    run_id: runId,
                    module: '/ptk/code/chain.py',
                    pod: 'train',
                    container: 'train',
                    replicas: 1,
                    input_timeout_s: 86400,
                    log_dir: null,
                    record: null,
                    results_dir: null,
                    tasks: [
                      {
                        name: 'train',
                        function: 'train',
                        inputs: [{ parameter: 'preprocess_result', producer: 'preprocess', channel: 'PVC', path: '/ptk/data/preprocess', replicas: 1 }],
                        output: { channel: 'PVC', path: '/ptk/data/train' },
                      },
                    ],
                  }),
                },
                { name: 'PTK_POD', value: 'train' },
                { name: 'PTK_CONTAINER', value: 'train' },
                { name: 'PTK_TASKS', value: 'train' },
                { name: 'PTK_DATA', value: '/ptk/data' },
                { name: 'PYTHONPATH', value: '/ptk/code' },
                { name: 'PYTHONUNBUFFERED', value: '1' },
                { name: 'HOME', value: '/tmp' },
              ],
              resources: {
                requests: { cpu: '4', memory: '8Gi', 'nvidia.com/gpu': '1' },
                limits: { cpu: '4', memory: '8Gi', 'nvidia.com/gpu': '1' },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
              },
              volumeMounts: [
                { name: 'code', mountPath: '/ptk/code', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'data-preprocess', mountPath: '/ptk/data/preprocess', readOnly: true },
                { name: 'data-train', mountPath: '/ptk/data/train' },
              ],
            },
          ],
          volumes: [
            { name: 'code', configMap: { name: 'chain-code', defaultMode: 0o444 } },
            { name: 'tmp', emptyDir: {} },
            { name: 'data-preprocess', persistentVolumeClaim: { claimName: 'chain-preprocess-data' } },
            { name: 'data-train', persistentVolumeClaim: { claimName: 'chain-train-data' } },
          ],
        },
      },
    },
  });
});

test('shared file holds code and claims', () => {
  const [shared] = renderChain('pod-per-task');
  assert.equal(
    shared!.objects.map((object) => `${String(object.kind)} ${(object.metadata as { name: string }).name}`),
    [
      'ConfigMap chain-code',
      'PersistentVolumeClaim chain-download-data',
      'PersistentVolumeClaim chain-prepare-data',
      'PersistentVolumeClaim chain-preprocess-data',
      'PersistentVolumeClaim chain-train-data',
    ],
  );
  assert.equal(shared!.objects[0], {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'chain-code',
      namespace: 'ml',
      labels: {
        'app.kubernetes.io/name': 'code',
        'app.kubernetes.io/instance': 'chain-code',
        'app.kubernetes.io/component': 'code',
        'app.kubernetes.io/part-of': 'chain',
        'app.kubernetes.io/managed-by': 'ptk',
        'ptk.dev/run-id': runId,
      },
      annotations: { 'ptk.dev/source': 'chain.py', 'ptk.dev/source-sha256': 'a'.repeat(64) },
    },
    data: { 'chain.py': chainSource },
  });
  assert.equal(shared!.objects[1], {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: 'chain-download-data',
      namespace: 'ml',
      labels: {
        'app.kubernetes.io/name': 'download',
        'app.kubernetes.io/instance': 'chain-download-data',
        'app.kubernetes.io/component': 'channel',
        'app.kubernetes.io/part-of': 'chain',
        'app.kubernetes.io/managed-by': 'ptk',
        'ptk.dev/run-id': runId,
      },
      annotations: { 'ptk.dev/task': 'download' },
    },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } } },
  });
  const prepareClaim = shared!.objects[2]!.spec as { resources: unknown };
  assert.equal(prepareClaim.resources, { requests: { storage: '1Gi' } });
});

test('every object carries the run id', () => {
  for (const grouping of groupings) {
    for (const workload of ['job', 'deployment'] as const) {
      for (const object of objectsOf(renderChain(grouping, { workload }))) {
        const where = `${grouping} ${workload} ${String(object.kind)}`;
        assert.is((object.metadata as { labels: Record<string, string> }).labels['ptk.dev/run-id'], runId, where);
        const template = podTemplateOf(object);
        if (!template) continue;
        assert.is(template.metadata!.labels!['ptk.dev/run-id'], runId, `${where} template`);
        for (const container of template.spec!.containers) {
          const spec = JSON.parse(container.env!.find((variable) => variable.name === 'PTK_SPEC')!.value!) as { run_id: string };
          assert.is(spec.run_id, runId, `${where} container ${container.name}`);
        }
      }
    }
  }
});

test('invalid run id is rejected', () => {
  for (const [value, shown] of [['', ''], ['run 1', 'run 1'], ['-run', '-run'], ['r'.repeat(64), 'r'.repeat(64)]]) {
    const error = inputErrorOf(() => renderChain('one-pod', { runId: value }));
    assert.equal(
      error.problems.map((problem) => problem.message),
      [`invalid run id "${shown}": a run id is a label value (at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit)`],
      JSON.stringify(value),
    );
  }
});

test('one-node pods share the node', () => {
  const affinity = {
    podAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        {
          labelSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'chain', 'ptk.dev/run-id': runId } },
          topologyKey: 'kubernetes.io/hostname',
        },
      ],
    },
  };
  for (const grouping of groupings) {
    for (const workload of ['job', 'deployment'] as const) {
      for (const object of objectsOf(renderChain(grouping, { workload }))) {
        const template = podTemplateOf(object);
        if (!template) continue;
        assert.equal(template.spec!.affinity, affinity, `${grouping} ${workload}`);
        // The pod matches its own term, which lets the scheduler place the first pod of the run.
        for (const [key, value] of Object.entries(affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]!.labelSelector.matchLabels)) {
          assert.is(template.metadata!.labels![key], value, `${grouping} ${workload} label ${key}`);
        }
      }
    }
  }
});

test('several nodes need no pod affinity', () => {
  const pipeline = chainPipeline();
  const plan = chainPlan(pipeline, 'pod-per-task');
  plan.chosen.nodes = 2;
  for (const object of objectsOf(render(pipeline, plan))) {
    const template = podTemplateOf(object);
    if (template) assert.not.ok('affinity' in template.spec!, String((object.metadata as { name: string }).name));
  }
});

test('package files keep their paths', () => {
  const files = renderChain('one-container', {
    files: [
      { name: chainFile, content: chainSource },
      { name: 'helpers.py', content: 'def f():\n    return 1\n' },
      { name: 'tools.__init__.py', content: '', path: 'tools/__init__.py' },
      { name: 'tools.text.py', content: 'X = 1\n', path: 'tools/text.py' },
    ],
  });
  const configMap = files[0]!.objects[0]!;
  assert.equal(configMap.data, {
    'chain.py': chainSource,
    'helpers.py': 'def f():\n    return 1\n',
    'tools.__init__.py': '',
    'tools.text.py': 'X = 1\n',
  });
  const code = podTemplateOf(find(files, 'Job', 'chain'))!.spec!.volumes!.find((volume) => volume.name === 'code')!;
  assert.equal(code.configMap, {
    name: 'chain-code',
    defaultMode: 0o444,
    items: [
      { key: 'chain.py', path: 'chain.py' },
      { key: 'helpers.py', path: 'helpers.py' },
      { key: 'tools.__init__.py', path: 'tools/__init__.py' },
      { key: 'tools.text.py', path: 'tools/text.py' },
    ],
  });
  for (const object of objectsOf(files)) validateSchema(object);
});

test('claims are ReadWriteMany across nodes', () => {
  const pipeline = chainPipeline();
  const plan = chainPlan(pipeline, 'pod-per-task');
  plan.chosen.nodes = 2;
  const claim = find(render(pipeline, plan), 'PersistentVolumeClaim', 'chain-download-data');
  assert.equal((claim.spec as { accessModes: string[] }).accessModes, ['ReadWriteMany']);
});

test('one pod shares IPC volumes in memory', () => {
  const files = renderChain('one-pod');
  assert.equal(files[0]!.objects.length, 1, 'only the ConfigMap: IPC needs no claims');
  const job = find(files, 'Job', 'chain');
  const spec = podTemplateOf(job)!.spec!;

  assert.equal(spec.volumes, [
    { name: 'code', configMap: { name: 'chain-code', defaultMode: 0o444 } },
    { name: 'tmp', emptyDir: {} },
    { name: 'data-download', emptyDir: { medium: 'Memory', sizeLimit: '20Gi' } },
    { name: 'data-prepare', emptyDir: { medium: 'Memory' } },
    { name: 'data-preprocess', emptyDir: { medium: 'Memory' } },
    { name: 'data-train', emptyDir: { medium: 'Memory' } },
  ]);
  assert.equal(
    spec.containers.map((container) => container.name),
    ['download', 'prepare', 'preprocess', 'train', 'evaluate'],
  );
  assert.equal(spec.containers[1]!.volumeMounts!.slice(2), [
    { name: 'data-download', mountPath: '/ptk/data/download', readOnly: true },
    { name: 'data-prepare', mountPath: '/ptk/data/prepare' },
  ]);
  assert.equal(spec.containers[4]!.volumeMounts!.slice(2), [{ name: 'data-train', mountPath: '/ptk/data/train', readOnly: true }]);
  assert.equal(spec.containers[3]!.command, ['python', '-m', 'ptk.run', '--module', '/ptk/code/chain.py', '--pod', 'chain', '--container', 'train']);
});

test('one pod deadline sums the tasks', () => {
  const job = find(renderChain('one-pod'), 'Job', 'chain');
  assert.equal((job.spec as { activeDeadlineSeconds: number }).activeDeadlineSeconds, 3000);
});

test('deadline is left out when a task has none', () => {
  const pipeline = chainPipeline();
  delete pipeline.tasks[2]!.maxRuntimeSeconds;
  const files = render(pipeline, chainPlan(pipeline, 'one-pod'));
  assert.not.ok('activeDeadlineSeconds' in (find(files, 'Job', 'chain').spec as object));
  const perTask = render(pipeline, chainPlan(pipeline, 'pod-per-task'));
  assert.not.ok('activeDeadlineSeconds' in (find(perTask, 'Job', 'chain-preprocess').spec as object));
  assert.equal((find(perTask, 'Job', 'chain-train').spec as { activeDeadlineSeconds: number }).activeDeadlineSeconds, 600);
});

test('one container needs no data volumes', () => {
  const files = renderChain('one-container');
  const spec = podTemplateOf(find(files, 'Job', 'chain'))!.spec!;
  assert.equal(spec.volumes!.map((volume) => volume.name), ['code', 'tmp']);
  assert.equal(spec.containers.length, 1);
  assert.equal(spec.containers[0]!.env!.find((variable) => variable.name === 'PTK_TASKS'), {
    name: 'PTK_TASKS',
    value: 'download,prepare,preprocess,train,evaluate',
  });
  assert.equal(spec.containers[0]!.resources!.limits!['nvidia.com/gpu'], '1');
});

test('deployment idles after its tasks finish', () => {
  const deployment = find(renderChain('pod-per-task', { workload: 'deployment' }), 'Deployment', 'chain-train');
  const spec = deployment.spec as Record<string, unknown>;
  assert.equal(spec.replicas, 1);
  assert.equal(spec.selector, { matchLabels: { 'app.kubernetes.io/instance': 'chain-train', 'app.kubernetes.io/managed-by': 'ptk' } });
  assert.equal(spec.strategy, { type: 'Recreate' });

  const template = podTemplateOf(deployment)!;
  assert.equal(template.spec!.restartPolicy, 'Always');
  assert.equal(template.spec!.containers[0]!.command!.at(-1), '--idle-after-finish');
  assert.equal(template.metadata!.annotations!['ptk.dev/source-sha256'], 'a'.repeat(64));
  for (const [key, value] of Object.entries(spec.selector as { matchLabels: Record<string, string> }).flatMap(([, labels]) => Object.entries(labels))) {
    assert.equal(template.metadata!.labels![key], value, `template label ${key}`);
  }
});

test('replicated pod becomes an indexed job', () => {
  const pipeline = chainPipeline();
  const plan = chainPlan(pipeline, 'pod-per-task');
  plan.layout.pods[1]!.replicas = 3;
  const files = render(pipeline, plan);
  const spec = find(files, 'Job', 'chain-prepare').spec as Record<string, unknown>;
  assert.equal(spec.completionMode, 'Indexed');
  assert.equal(spec.completions, 3);
  assert.equal(spec.parallelism, 3);
  assert.not.ok('completionMode' in (find(files, 'Job', 'chain-train').spec as object));
});

test('replicated pod in a deployment is rejected', () => {
  const pipeline = chainPipeline();
  const plan = chainPlan(pipeline, 'pod-per-task');
  plan.layout.pods[1]!.replicas = 3;
  plan.layout.pods[3]!.replicas = 2;
  const error = inputErrorOf(() => render(pipeline, plan, { workload: 'deployment' }));
  assert.equal(error.problems.map((problem) => problem.message), [
    'pod "prepare" has num_replicas=3, but a Deployment gives its pods no replica index, so all 3 would run as replica 0: ' +
      'use the default --workload job, which runs a replicated pod as an Indexed Job',
    'pod "train" has num_replicas=2, but a Deployment gives its pods no replica index, so all 2 would run as replica 0: ' +
      'use the default --workload job, which runs a replicated pod as an Indexed Job',
  ]);
  assert.is(error.exitCode, 2);
});

test('unreplicated pods make deployments', () => {
  const files = renderChain('pod-per-task', { workload: 'deployment' });
  assert.equal(
    objectsOf(files).filter((object) => object.kind === 'Deployment').map((object) => (object.spec as { replicas: number }).replicas),
    [1, 1, 1, 1, 1],
  );
});

test('every pod lands on the chosen GPU node type', () => {
  const prepare = podTemplateOf(find(renderChain('pod-per-task'), 'Job', 'chain-prepare'))!.spec!;
  assert.equal(prepare.nodeSelector, {
    'node.kubernetes.io/instance-type': 'n1-standard-8',
    'cloud.google.com/gke-accelerator': 'nvidia-tesla-t4',
  });
  assert.equal(prepare.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  assert.not.ok(prepare.containers[0]!.resources!.limits, 'prepare sets no limits');
  assert.equal(prepare.containers[0]!.resources!.requests, { cpu: '500m', memory: '1Gi' });
});

test('GPU task on a CPU node runs on CPU', () => {
  const pipeline = chainPipeline();
  const plan = chainPlan(pipeline, 'pod-per-task', { machine_type: 'n2-standard-8', accelerator: null });
  const template = podTemplateOf(find(render(pipeline, plan), 'Job', 'chain-train'))!;
  assert.equal(template.spec!.nodeSelector, { 'node.kubernetes.io/instance-type': 'n2-standard-8' });
  assert.not.ok('tolerations' in template.spec!);
  assert.equal(template.spec!.containers[0]!.resources, {
    requests: { cpu: '4', memory: '8Gi' },
    limits: { cpu: '4', memory: '8Gi' },
  });
  assert.equal(template.metadata!.annotations!['ptk.dev/gpu'], 'the plan runs this pod on CPU: its node type has no GPU');
});

test('mixed channel kinds share one claim', () => {
  const pipeline = chainPipeline();
  const plan = chainPlan(pipeline, 'pod-per-task');
  // download and prepare share a pod; preprocess, in its own pod, also reads download's output.
  const [download, prepare, ...rest] = plan.layout.pods;
  plan.layout.pods = [{ ...download!, containers: [...download!.containers, ...prepare!.containers] }, ...rest];
  plan.layout.channels[0]!.kind = 'IPC';
  plan.layout.channels.push({ from: 'download', to: 'preprocess', parameter: 'extra', kind: 'PVC' });
  pipeline.edges.push({ from: 'download', to: 'preprocess', parameter: 'extra' });

  const files = render(pipeline, plan);
  assert.equal(nameViolations(objectsOf(files)), []);
  const spec = podTemplateOf(find(files, 'Job', 'chain-download'))!.spec!;
  assert.equal(spec.volumes!.slice(2), [
    { name: 'data-download', persistentVolumeClaim: { claimName: 'chain-download-data' } },
    { name: 'data-prepare', persistentVolumeClaim: { claimName: 'chain-prepare-data' } },
  ]);
  assert.equal(spec.containers[1]!.volumeMounts!.slice(2), [
    { name: 'data-download', mountPath: '/ptk/data/download', readOnly: true },
    { name: 'data-prepare', mountPath: '/ptk/data/prepare' },
  ]);
  const preprocess = podTemplateOf(find(files, 'Job', 'chain-preprocess'))!.spec!;
  assert.equal(preprocess.containers[0]!.volumeMounts!.slice(2), [
    { name: 'data-download', mountPath: '/ptk/data/download', readOnly: true },
    { name: 'data-prepare', mountPath: '/ptk/data/prepare', readOnly: true },
    { name: 'data-preprocess', mountPath: '/ptk/data/preprocess' },
  ]);
});

test('code over 1 MiB is rejected', () => {
  const big = 'x = 1\n'.repeat(200_000);
  const error = inputErrorOf(() =>
    renderChain('one-pod', {
      files: [
        { name: chainFile, content: chainSource },
        { name: 'weights.py', content: big },
      ],
    }),
  );
  assert.is(
    error.message,
    'the code files take 1.14 MiB (1200057 bytes; largest weights.py, 1200000 bytes), but a ConfigMap holds at most 1 MiB (1048576 bytes): ' +
      'keep data out of the source files and load it at run time, for example from a URL or a bucket',
  );
  assert.is(error.exitCode, 2);
});

test('code of exactly 1 MiB is accepted', () => {
  const filler = 'y'.repeat(1024 * 1024 - Buffer.byteLength(chainSource));
  const files = renderChain('one-pod', {
    files: [
      { name: chainFile, content: chainSource },
      { name: 'data.txt', content: filler },
    ],
  });
  assert.equal(Object.keys((files[0]!.objects[0]!.data as object)), ['chain.py', 'data.txt']);
});

test('code file problems are listed together', () => {
  const error = inputErrorOf(() =>
    renderChain('one-pod', {
      files: [
        { name: 'other.py', content: '' },
        { name: 'other.py', content: '' },
        { name: 'lib/util.py', content: '' },
      ],
      namespace: 'ML_Team',
      image: ' ',
    }),
  );
  assert.equal(error.problems.map((problem) => problem.message), [
    'invalid namespace "ML_Team": a namespace is a DNS-1123 label (at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit)',
    'invalid image " ": give an image reference without spaces, such as python:3.12-slim',
    'code file "other.py" appears twice',
    'code file name "lib/util.py" cannot be a ConfigMap key: use letters, digits, "-", "_" and "." only',
    'the code files do not include the pipeline\'s file "chain.py", which the containers run',
  ]);
});

test('layout problems are listed together', () => {
  const pipeline = chainPipeline();
  const plan = chainPlan(pipeline, 'pod-per-task');
  plan.layout.channels[0]!.kind = 'IPC';
  plan.layout.pods[4]!.containers[0]!.tasks = ['evaluation'];
  plan.layout.pods[3]!.kubeName = 'Train_Pod';
  plan.layout.pods[3]!.containers[0]!.resources.gpuLimit = quantity('2', 2);

  const error = inputErrorOf(() => render(pipeline, plan));
  assert.equal(error.problems.map((problem) => problem.message), [
    'plan layout: pod "train" has the Kubernetes name "Train_Pod", which is not a DNS-1123 label (at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit); run ptk plan again',
    'plan layout: container "evaluate" runs task "evaluation", which the pipeline does not define; run ptk plan again',
    'plan layout: task "evaluate" is in no container; run ptk plan again',
    'plan layout: channel download → prepare is IPC, which needs both tasks in one pod, but they run in pods "download" and "prepare"; run ptk plan again',
    'container "train" requests 1 GPU but limits it to 2: Kubernetes cannot overcommit GPUs, so set gpu_requests and gpu_limits to the same number',
  ]);
});

test('direct channel across containers is rejected', () => {
  const pipeline = chainPipeline();
  const plan = chainPlan(pipeline, 'one-pod');
  plan.layout.channels[3]!.kind = 'direct';
  const error = inputErrorOf(() => render(pipeline, plan));
  assert.equal(error.problems.map((problem) => problem.message), [
    'plan layout: channel train → evaluate is direct, which needs both tasks in one container, but they run in containers "train" and "evaluate"; run ptk plan again',
  ]);
});

test('invalid node type is rejected', () => {
  const pipeline = chainPipeline();
  const plan = chainPlan(pipeline, 'one-pod', { machine_type: 'n1 standard 8', accelerator: { name: 'Tesla T4!', count: 1 } });
  const error = inputErrorOf(() => render(pipeline, plan));
  assert.equal(error.problems.map((problem) => problem.message), [
    'plan: the chosen machine type "n1 standard 8" cannot be a node label value, so no node selector can match it; run ptk plan again',
    'plan: the chosen accelerator "Tesla T4!" cannot be a node label value, so no node selector can match it; run ptk plan again',
  ]);
});

test('long names are shortened with a hash', () => {
  const pipeline = chainPipeline();
  const longFile = `${'very-long-pipeline-name-'.repeat(3)}x.py`;
  pipeline.file = `pipelines/${longFile}`;
  const plan = chainPlan(pipeline, 'one-pod');
  const longPod = 'a-pod-name-that-is-close-to-the-sixty-three-character-limit-abc';
  plan.layout.pods[0]!.name = longPod;
  plan.layout.pods[0]!.kubeName = longPod;

  const files = render(pipeline, plan, { files: [{ name: longFile, content: chainSource }] });
  const objects = objectsOf(files);
  assert.equal(nameViolations(objects), []);
  for (const object of objects) validateSchema(object);

  const names = objects.map((object) => (object.metadata as { name: string }).name);
  assert.equal(names.length, new Set(names).size, 'names are unique');
  const job = objects.find((object) => object.kind === 'Job')!;
  const jobName = (job.metadata as { name: string }).name;
  assert.match(jobName, /^very-long-pipeline-name-very-lo-[0-9a-f]{8}-a-pod-name-th-[0-9a-f]{8}$/);
  assert.is(jobName.length, 63);
  assert.match((files[0]!.objects[0]!.metadata as { name: string }).name, /^very-long-pipeline-name-very-lo-[0-9a-f]{8}-code$/);
  assert.match(files[1]!.fileName, /^a-pod-name-that-is-close-to-the-sixty-three-character-[0-9a-f]{8}\.yaml$/);
  assert.ok(files[1]!.fileName.length <= 63 + '.yaml'.length);
});

test('pod file names stay unique', () => {
  const pipeline = chainPipeline();
  const plan = chainPlan(pipeline, 'pod-per-task');
  // Pod "a" running task "b-c" and pod "a-b" running task "c" both join to "a-b-c".
  const pods = plan.layout.pods;
  pods[0] = { ...pods[0]!, name: 'a', kubeName: 'a', containers: [{ ...pods[0]!.containers[0]!, name: 'b-c', kubeName: 'b-c' }] };
  pods[1] = { ...pods[1]!, name: 'a-b', kubeName: 'a-b', containers: [{ ...pods[1]!.containers[0]!, name: 'c', kubeName: 'c' }] };
  pipeline.tasks[0]!.name = 'b-c';
  pipeline.tasks[1]!.name = 'c';
  pods[0].containers[0]!.tasks = ['b-c'];
  pods[1].containers[0]!.tasks = ['c'];
  plan.layout.channels[0] = { ...plan.layout.channels[0]!, from: 'b-c', to: 'c' };
  plan.layout.channels[1] = { ...plan.layout.channels[1]!, from: 'c' };

  const names = render(pipeline, plan).map((file) => file.fileName);
  assert.is(names[1], 'a-b-c.yaml');
  assert.match(names[2]!, /^a-b-c-[0-9a-f]{8}\.yaml$/);
});

test('digit-first pod file sorts after shared file', () => {
  const pipeline = chainPipeline();
  const plan = chainPlan(pipeline, 'one-container');
  plan.layout.pods[0]!.kubeName = '00-all';
  const names = render(pipeline, plan).map((file) => file.fileName);
  assert.equal(names, ['00-shared.yaml', 'pod-00-all-download-prepare-preprocess-train-evaluate.yaml']);
  assert.ok(names[1]! > names[0]!);
});

test('quantities keep valid text', () => {
  const cases: [string, number, 'cores' | 'bytes' | 'devices', string][] = [
    ['500m', 0.5, 'cores', '500m'],
    ['0.5', 0.5, 'cores', '0.5'],
    [' 2 ', 2, 'cores', '2'],
    ['1e3', 1000, 'cores', '1e3'],
    ['8Gi', 8 * 2 ** 30, 'bytes', '8Gi'],
    ['8G', 8e9, 'bytes', '8G'],
    ['8GB', 8e9, 'bytes', '7812500Ki'],
    ['1000001 bytes', 1000001, 'bytes', '1000001'],
    ['20 Gi', 20 * 2 ** 30, 'bytes', '20Gi'],
    ['1.5Gi', 1.5 * 2 ** 30, 'bytes', '1.5Gi'],
    ['1.5 GiB', 1.5 * 2 ** 30, 'bytes', '1536Mi'],
    ['+1', 1, 'devices', '1'],
    ['0.1 + 0.2 cores', 0.1 + 0.2, 'cores', '300m'],
    ['a third of a core', 1 / 3, 'cores', '334m'],
    ['1000.5 bytes', 1000.5, 'bytes', '1001'],
  ];
  for (const [text, value, unit, expected] of cases) {
    assert.is(formatQuantity(quantity(text, value), unit), expected, text);
  }
});

test('YAML holds every object in order', () => {
  for (const file of renderChain('pod-per-task')) {
    const text = manifestsToYaml(file);
    assert.ok(text.startsWith('---\n'), file.fileName);
    const documents = parseAllDocuments(text);
    assert.ok(Array.isArray(documents));
    assert.equal((documents as { toJS(): unknown }[]).map((document) => document.toJS()), file.objects, file.fileName);
  }
});

test('YAML keeps code as a literal block', () => {
  const text = manifestsToYaml(renderChain('one-pod')[0]!);
  assert.ok(text.includes('  chain.py: |\n    from ptk import task\n\n    @task\n    def download():\n        return 1\n'), text);
});

test.run();
