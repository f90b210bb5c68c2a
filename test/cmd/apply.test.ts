import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { readRuntimeFiles } from '../../core/runtime-files.ts';
import { apply, type ApplyOptions } from '../../cmd/apply.ts';
import { loadPipeline } from '../../core/pipeline.ts';
import type { Plan } from '../../optimizer/types.ts';
import { chainPlan } from '../fixtures/manifests/chain.ts';
import { nameViolations, podTemplateOf, restrictedViolations, validateSchema } from '../fixtures/manifests/kube-checks.ts';
import { inputErrorOf } from '../support/errors.ts';

const fixture = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'manifests', 'chain.py');
let cwd = '';

test.before.each(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'ptk-apply-'));
  await copyFile(fixture, join(cwd, 'chain.py'));
});

test.after.each(async () => {
  await rm(cwd, { recursive: true, force: true });
});

/** Writes `ptk.plan.json` for the chain in one grouping, made from the current chain.py. */
async function writePlan(grouping: 'pod-per-task' | 'one-pod' | 'one-container', edit: (plan: Plan) => void = () => {}): Promise<Plan> {
  const pipeline = await loadPipeline('chain.py', cwd);
  const plan = chainPlan(pipeline, grouping);
  plan.pipeline.sha256 = createHash('sha256').update(await readFile(join(cwd, 'chain.py'))).digest('hex');
  edit(plan);
  await writeFile(join(cwd, 'ptk.plan.json'), JSON.stringify(plan, null, 2));
  return plan;
}

function options(overrides: Partial<ApplyOptions> = {}): ApplyOptions {
  return { plan: 'ptk.plan.json', cwd, out: 'k8s', workload: 'job', namespace: 'default', image: 'python:3.12-slim', ...overrides };
}

/** Returns the run id that the first line of `ptk apply`'s output names. */
function runIdOf(stdout: string): string {
  const match = /, run id (\S+)$/m.exec(stdout.split('\n')[0]!);
  if (!match) throw new Error(`no run id in: ${stdout}`);
  return match[1]!;
}

/** Writes files into the test folder, creating their folders. */
async function writeTree(files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(cwd, path)), { recursive: true });
    await writeFile(join(cwd, path), content);
  }
}

/** Puts `lines` into chain.py after its `from ptk import task` line. */
async function addToChain(lines: string[]): Promise<void> {
  const source = await readFile(fixture, 'utf8');
  await writeFile(join(cwd, 'chain.py'), source.replace('from ptk import task\n', `from ptk import task\n${lines.join('\n')}\n`));
}

async function readObjects(folder: string): Promise<Record<string, unknown>[]> {
  const objects: Record<string, unknown>[] = [];
  for (const name of (await readdir(folder)).filter((entry) => entry.endsWith('.yaml')).sort()) {
    const documents = parseAllDocuments(await readFile(join(folder, name), 'utf8'));
    if (!Array.isArray(documents)) throw new Error(`${name} is empty`);
    for (const document of documents) {
      assert.equal(document.errors, [], name);
      objects.push(document.toJS() as Record<string, unknown>);
    }
  }
  return objects;
}

test('writes one file per pod', async () => {
  await writePlan('pod-per-task');
  const result = await apply(options());

  assert.is(result.exitCode, 0);
  const runId = runIdOf(result.stdout);
  assert.match(runId, /^\d{8}-\d{6}-[0-9a-f]{4}$/);
  assert.is(
    result.stdout,
    [
      `plan ptk.plan.json: chain.py, pod-per-task on n1-standard-8 with 1 × nvidia-tesla-t4, run id ${runId}`,
      'Wrote 6 files to k8s:',
      '  00-shared.yaml   ConfigMap chain-code, PersistentVolumeClaim chain-download-data, PersistentVolumeClaim chain-prepare-data, ' +
        'PersistentVolumeClaim chain-preprocess-data, PersistentVolumeClaim chain-train-data',
      '  download.yaml    Job chain-download',
      '  prepare.yaml     Job chain-prepare',
      '  preprocess.yaml  Job chain-preprocess',
      '  train.yaml       Job chain-train',
      '  evaluate.yaml    Job chain-evaluate',
      'Apply them with: kubectl apply -f k8s',
      `Each run needs new files from ptk apply --out: applied again, these files reuse run id ${runId}, ` +
        "so their tasks could read this run's outputs from the claims.",
      `When the run has finished, delete it with kubectl delete job,configmap,pvc -n default -l ptk.dev/run-id=${runId}. ` +
        "Kubernetes cannot change a Job's pod template, so the next run's Jobs fail to apply while these Jobs exist.",
    ].join('\n'),
  );
  assert.equal((await readdir(join(cwd, 'k8s'))).sort(), [
    '.ptk-output',
    '00-shared.yaml',
    'download.yaml',
    'evaluate.yaml',
    'prepare.yaml',
    'preprocess.yaml',
    'train.yaml',
  ]);
});

test('written objects are valid', async () => {
  for (const grouping of ['pod-per-task', 'one-pod', 'one-container'] as const) {
    for (const workload of ['job', 'deployment']) {
      await writePlan(grouping);
      await apply(options({ workload, namespace: 'ml' }));
      const objects = await readObjects(join(cwd, 'k8s'));

      assert.ok(objects.length >= 2, `${grouping} ${workload}`);
      for (const object of objects) {
        assert.not.throws(() => validateSchema(object), `${grouping} ${workload} ${String(object.kind)}`);
        assert.is((object.metadata as { namespace: string }).namespace, 'ml');
        const template = podTemplateOf(object);
        if (template) assert.equal(restrictedViolations(template.spec!), [], `${grouping} ${workload}`);
      }
      assert.equal(nameViolations(objects), [], `${grouping} ${workload}`);
    }
  }
});

test('ships the pipeline source and the runtime', async () => {
  await writePlan('one-pod');
  await apply(options());
  const objects = await readObjects(join(cwd, 'k8s'));
  const configMap = objects[0]!;
  const runtime = readRuntimeFiles();
  const expected: Record<string, string> = { 'chain.py': await readFile(fixture, 'utf8') };
  for (const file of runtime) expected[file.path.replaceAll('/', '.')] = file.content;
  assert.equal(configMap.data, expected);
  assert.ok(runtime.some((file) => file.path === 'ptk/__init__.py'));

  const job = objects.find((object) => object.kind === 'Job')!;
  const code = podTemplateOf(job)!.spec!.volumes!.find((volume) => volume.name === 'code')!;
  assert.equal(code.configMap!.items, [{ key: 'chain.py', path: 'chain.py' }, ...runtime.map((file) => ({ key: file.path.replaceAll('/', '.'), path: file.path }))]);
});

test('job carries deadlines and GPUs', async () => {
  await writePlan('one-pod');
  await apply(options());
  const job = (await readObjects(join(cwd, 'k8s'))).find((object) => object.kind === 'Job')!;
  assert.is((job.spec as { activeDeadlineSeconds: number }).activeDeadlineSeconds, 3000);
  const train = podTemplateOf(job)!.spec!.containers.find((container) => container.name === 'train')!;
  assert.equal(train.resources, {
    requests: { cpu: '4', memory: '8Gi', 'nvidia.com/gpu': '1' },
    limits: { cpu: '4', memory: '8Gi', 'nvidia.com/gpu': '1' },
  });
});

test('deployment workload', async () => {
  await writePlan('one-container');
  const result = await apply(options({ workload: 'deployment', namespace: 'ml' }));
  const runId = runIdOf(result.stdout);
  assert.is(
    result.stdout,
    [
      `plan ptk.plan.json: chain.py, one-container on n1-standard-8 with 1 × nvidia-tesla-t4, run id ${runId}`,
      'Wrote 2 files to k8s:',
      '  00-shared.yaml                                         ConfigMap chain-code',
      '  chain-download-prepare-preprocess-train-evaluate.yaml  Deployment chain',
      'Apply them with: kubectl apply -f k8s',
      `When the run has finished, delete it with kubectl delete deployment,configmap -n ml -l ptk.dev/run-id=${runId}. ` +
        'Until then its Deployments keep their pods running, and each pod holds its requests.',
    ].join('\n'),
  );
});

test('each apply makes a new run id', async () => {
  await writePlan('pod-per-task');
  const first = runIdOf((await apply(options())).stdout);
  const firstObjects = await readObjects(join(cwd, 'k8s'));
  const second = runIdOf((await apply(options())).stdout);
  const secondObjects = await readObjects(join(cwd, 'k8s'));

  assert.is.not(first, second);
  for (const [runId, objects] of [[first, firstObjects], [second, secondObjects]] as const) {
    for (const object of objects) {
      assert.is((object.metadata as { labels: Record<string, string> }).labels['ptk.dev/run-id'], runId);
      const template = podTemplateOf(object);
      if (!template) continue;
      assert.is(template.metadata!.labels!['ptk.dev/run-id'], runId);
      const term = template.spec!.affinity!.podAffinity!.requiredDuringSchedulingIgnoredDuringExecution![0]!;
      assert.equal(term.labelSelector!.matchLabels, { 'app.kubernetes.io/part-of': 'chain', 'ptk.dev/run-id': runId });
      const spec = JSON.parse(template.spec!.containers[0]!.env!.find((variable) => variable.name === 'PTK_SPEC')!.value!) as { run_id: string };
      assert.is(spec.run_id, runId);
    }
  }
});

test('header names a CPU node and node count', async () => {
  await writePlan('one-pod', (plan) => {
    plan.chosen.accelerator = null;
    plan.chosen.machine_type = 'n2-standard-8';
    plan.chosen.nodes = 2;
  });
  const result = await apply(options());
  assert.is(result.stdout.split('\n')[0], `plan ptk.plan.json: chain.py, one-pod on n2-standard-8, 2 nodes, run id ${runIdOf(result.stdout)}`);
});

test('header names the plan and pipeline paths', async () => {
  await mkdir(join(cwd, 'plans'));
  await mkdir(join(cwd, 'src'));
  await copyFile(fixture, join(cwd, 'src', 'chain.py'));
  const pipeline = await loadPipeline('src/chain.py', cwd);
  const plan = chainPlan(pipeline, 'one-pod');
  plan.pipeline.file = '../src/chain.py';
  plan.pipeline.sha256 = createHash('sha256').update(await readFile(fixture)).digest('hex');
  await writeFile(join(cwd, 'plans', 'p.json'), JSON.stringify(plan));

  const result = await apply(options({ plan: 'plans/p.json' }));
  assert.is(result.stdout.split('\n')[0], `plan plans/p.json: src/chain.py, one-pod on n1-standard-8 with 1 × nvidia-tesla-t4, run id ${runIdOf(result.stdout)}`);
});

test('replicated deployment is rejected', async () => {
  await writePlan('pod-per-task', (plan) => {
    plan.layout.pods[1]!.replicas = 4;
  });
  const error = await inputErrorOf(apply(options({ workload: 'deployment' })));
  assert.is(
    error.message,
    'pod "prepare" has num_replicas=4, but a Deployment gives its pods no replica index, so all 4 would run as replica 0: ' +
      'use the default --workload job, which runs a replicated pod as an Indexed Job',
  );
  assert.is(error.exitCode, 2);
  assert.equal(await readdir(cwd), ['chain.py', 'ptk.plan.json'], 'nothing is written');
});

test('ships local modules and packages', async () => {
  await addToChain(['import json', 'import os.path', 'from helpers import double', 'import tools.text as text']);
  await writeTree({
    'helpers.py': 'import shared\n\ndef double(x):\n    return shared.TWO * x\n',
    'shared.py': 'TWO = 2\n',
    'unused.py': 'raise SystemExit\n',
    'tools/__init__.py': '',
    'tools/text.py': 'from . import deep\n',
    'tools/deep/__init__.py': '',
    'tools/deep/walk.py': 'import json\n',
    'tools/README.md': 'not code\n',
    'tools/__pycache__/text.cpython-312.py': 'cached\n',
    'tools/.backup/old.py': 'old\n',
  });
  await writePlan('one-pod');
  const result = await apply(options());
  assert.not.match(result.stdout, /note:/);

  const objects = await readObjects(join(cwd, 'k8s'));
  const data = objects[0]!.data as Record<string, string>;
  assert.equal(
    Object.keys(data).filter((key) => !key.startsWith('ptk.')),
    ['chain.py', 'helpers.py', 'shared.py', 'tools.__init__.py', 'tools.deep.__init__.py', 'tools.deep.walk.py', 'tools.text.py'],
  );
  assert.is(data['helpers.py'], 'import shared\n\ndef double(x):\n    return shared.TWO * x\n');
  assert.is(data['tools.deep.walk.py'], 'import json\n');

  const job = objects.find((object) => object.kind === 'Job')!;
  const items = podTemplateOf(job)!.spec!.volumes!.find((volume) => volume.name === 'code')!.configMap!.items!;
  assert.equal(items.filter((item) => !item.key.startsWith('ptk.')), [
    { key: 'chain.py', path: 'chain.py' },
    { key: 'helpers.py', path: 'helpers.py' },
    { key: 'shared.py', path: 'shared.py' },
    { key: 'tools.__init__.py', path: 'tools/__init__.py' },
    { key: 'tools.deep.__init__.py', path: 'tools/deep/__init__.py' },
    { key: 'tools.deep.walk.py', path: 'tools/deep/walk.py' },
    { key: 'tools.text.py', path: 'tools/text.py' },
  ]);
  for (const object of objects) validateSchema(object);
  assert.equal(nameViolations(objects), []);
});

test('local module lookup follows Python', async () => {
  await addToChain(['import random', 'import email', 'import nsdata', 'import both']);
  await writeTree({
    // A module beside the pipeline comes first on sys.path, before the standard library's.
    'random.py': 'SEED = 1\n',
    // A folder without __init__.py is a namespace package, which the standard library's email package beats.
    'email/draft.py': 'x = 1\n',
    'nsdata/load.py': 'y = 1\n',
    // A package wins over a module of the same name.
    'both/__init__.py': 'z = 1\n',
    'both.py': 'z = 2\n',
  });
  await writePlan('one-pod');
  const result = await apply(options());
  assert.not.match(result.stdout, /note:/);

  const data = (await readObjects(join(cwd, 'k8s')))[0]!.data as Record<string, string>;
  assert.equal(Object.keys(data).filter((key) => !key.startsWith('ptk.')), ['chain.py', 'both.__init__.py', 'nsdata.load.py', 'random.py']);
});

test('notes third-party imports', async () => {
  await addToChain([
    'import numpy as np',
    'from sklearn.metrics import accuracy_score',
    'from helpers import load',
    'from typing import TYPE_CHECKING',
    'try:',
    '    import ujson',
    'except ImportError:',
    '    ujson = None',
    'if TYPE_CHECKING:',
    '    import torch',
    '',
    '',
    'def read_table(path):',
    '    import pandas',
    '    return pandas.read_csv(path)',
  ]);
  await writeTree({ 'helpers.py': 'import requests\nimport numpy\n\ndef load():\n    return 1\n' });
  await writePlan('one-pod');
  const result = await apply(options());
  const lines = result.stdout.split('\n');
  assert.equal(lines.filter((line) => line.startsWith('note:')), [
    'note: the pipeline imports numpy, pandas, requests, sklearn; the image python:3.12-slim must provide them: build an image with them and pass --image',
  ]);
  assert.is(lines[lines.indexOf('Apply them with: kubectl apply -f k8s') - 1], lines.find((line) => line.startsWith('note:')));
});

test('note names a custom image', async () => {
  await addToChain(['import numpy']);
  await writePlan('one-pod');
  const result = await apply(options({ image: 'ghcr.io/lab/ml:1.2' }));
  assert.equal(result.stdout.split('\n').filter((line) => line.startsWith('note:')), [
    'note: the pipeline imports numpy; the image ghcr.io/lab/ml:1.2 must provide it',
  ]);
});

test('local code over 1 MiB is rejected', async () => {
  await addToChain(['import weights']);
  await writeTree({ 'weights.py': `W = [${'0, '.repeat(400_000)}]\n` });
  await writePlan('one-pod');
  const error = await inputErrorOf(apply(options()));
  assert.match(error.message, /^the code files take 1\.\d\d MiB \(\d+ bytes; largest weights\.py, 1200007 bytes\), but a ConfigMap holds at most 1 MiB/);
  assert.not.ok((await readdir(cwd)).includes('k8s'), 'nothing is written');
});

test('rerun replaces the output', async () => {
  await writePlan('pod-per-task');
  await apply(options());
  await writePlan('one-pod');
  await apply(options());
  assert.equal((await readdir(join(cwd, 'k8s'))).sort(), ['.ptk-output', '00-shared.yaml', 'chain-download-prepare-preprocess-train-evaluate.yaml']);
});

test('without --out is rejected', async () => {
  await writePlan('one-pod');
  const error = await inputErrorOf(apply(options({ out: undefined })));
  assert.is(
    error.message,
    'applying manifests to a cluster is not built yet: run ptk apply --out DIR, then kubectl apply -f DIR; or run the plan on this machine with ptk apply --local',
  );
  assert.is(error.exitCode, 2);
});

test('usage problems are listed together', async () => {
  const error = await inputErrorOf(apply(options({ out: undefined, workload: 'statefulset' })));
  assert.equal(error.problems.map((problem) => problem.message), [
    'invalid --workload "statefulset": use job or deployment',
    'applying manifests to a cluster is not built yet: run ptk apply --out DIR, then kubectl apply -f DIR; or run the plan on this machine with ptk apply --local',
  ]);
});

test('missing plan is rejected', async () => {
  const error = await inputErrorOf(apply(options()));
  assert.is(error.message, 'ptk.plan.json: plan file not found; run ptk plan FILE first');
});

test('invalid plan JSON is rejected', async () => {
  await writeFile(join(cwd, 'ptk.plan.json'), '{\n  "version": 1,\n}\n');
  const error = await inputErrorOf(apply(options()));
  // The text inside the brackets is V8's, so only its start is checked.
  assert.match(error.message, /^ptk\.plan\.json:3:1: invalid JSON \(Expected double-quoted property name in JSON at position 18.*\); run ptk plan FILE first$/);

  await writeFile(join(cwd, 'ptk.plan.json'), '{\n  "version": 1,\n  "chosen": }\n');
  const unexpected = await inputErrorOf(apply(options()));
  assert.match(unexpected.message, /^ptk\.plan\.json: invalid JSON \(Unexpected token .*\); run ptk plan FILE first$/);
  assert.not.match(unexpected.message, /\n/);

  await writeFile(join(cwd, 'ptk.plan.json'), '');
  const empty = await inputErrorOf(apply(options()));
  assert.is(empty.message, 'ptk.plan.json: invalid JSON (Unexpected end of JSON input); run ptk plan FILE first');
});

test('wrong plan version is rejected', async () => {
  await writePlan('one-pod', (plan) => {
    (plan as { version: number }).version = 2;
  });
  const error = await inputErrorOf(apply(options()));
  assert.is(error.message, 'ptk.plan.json: unsupported plan version 2: this ptk reads version 1; run ptk plan FILE first');
});

test('plan without version is rejected', async () => {
  await writePlan('one-pod', (plan) => {
    delete (plan as { version?: number }).version;
  });
  const error = await inputErrorOf(apply(options()));
  assert.is(error.message, 'ptk.plan.json: missing "version": this is not a plan file that ptk plan wrote; run ptk plan FILE first');
});

test('plan shape problems are listed together', async () => {
  await writePlan('one-pod', (plan) => {
    const raw = plan as unknown as Record<string, Record<string, unknown>>;
    delete raw.chosen!.machine_type;
    raw.pipeline!.sha256 = 'not-a-hash';
    const pod = (raw.layout!.pods as Record<string, unknown>[])[0]!;
    pod.replicas = '1';
    (raw.layout!.channels as Record<string, unknown>[])[0]!.kind = 'pipe';
  });
  const error = await inputErrorOf(apply(options()));
  assert.equal(error.problems.map((problem) => problem.message), [
    'ptk.plan.json: pipeline.sha256 is not 64 lower-case hex digits; run ptk plan FILE first',
    'ptk.plan.json: chosen.machine_type is missing; run ptk plan FILE first',
    'ptk.plan.json: layout.pods[0].replicas is string, but a plan has a number there; run ptk plan FILE first',
    'ptk.plan.json: layout.channels[0].kind is "pipe", but a channel kind is one of direct, IPC, Volume, PVC; run ptk plan FILE first',
  ]);
});

test('changed source is rejected', async () => {
  const plan = await writePlan('one-pod');
  await writeFile(join(cwd, 'chain.py'), `${await readFile(fixture, 'utf8')}\n# edited\n`);
  const now = createHash('sha256').update(await readFile(join(cwd, 'chain.py'))).digest('hex');

  const error = await inputErrorOf(apply(options()));
  assert.is(
    error.message,
    `chain.py: changed since the plan was made (SHA-256 ${now.slice(0, 12)}…, the plan has ${plan.pipeline.sha256.slice(0, 12)}…); run ptk plan chain.py again`,
  );
  assert.is(error.exitCode, 2);
  assert.equal(await readdir(cwd), ['chain.py', 'ptk.plan.json'], 'nothing is written');
});

test('missing source is rejected', async () => {
  await writePlan('one-pod');
  await rm(join(cwd, 'chain.py'));
  const error = await inputErrorOf(apply(options()));
  assert.is(
    error.message,
    'chain.py: file not found, but ptk.plan.json was made from it; restore the file, or run ptk plan again',
  );
});

test('bad namespace writes nothing', async () => {
  await writePlan('one-pod');
  const error = await inputErrorOf(apply(options({ namespace: 'Team A' })));
  assert.match(error.message, /^invalid namespace "Team A": a namespace is a DNS-1123 label/);
  assert.equal(await readdir(cwd), ['chain.py', 'ptk.plan.json']);
});

test('foreign output folder is rejected', async () => {
  await writePlan('one-pod');
  await mkdir(join(cwd, 'k8s'));
  await writeFile(join(cwd, 'k8s', 'service.yaml'), 'kind: Service\n');
  const error = await inputErrorOf(apply(options()));
  assert.is(
    error.message,
    'k8s: the folder contains files that ptk did not write (service.yaml); give a new or empty folder, or the folder of an earlier ptk apply --out',
  );
  assert.equal(await readdir(join(cwd, 'k8s')), ['service.yaml']);
});

test.run();
