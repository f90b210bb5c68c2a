import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, relative, resolve } from 'node:path';
import { InputError, type Problem } from '../core/errors.ts';
import { findPipelineImports } from '../core/local-modules.ts';
import { codeFileKey, manifestsToYaml, renderManifests, type CodeFile, type ManifestFile, type WorkloadKind } from '../core/manifests.ts';
import { runIdLabel } from '../core/manifest-metadata.ts';
import { describeCandidate } from '../optimizer/plan.ts';
import { loadPipeline } from '../core/pipeline.ts';
import { writeFilesAtomically } from '../core/write-files.ts';
import type { Plan } from '../optimizer/types.ts';
import type { CommandResult } from './result.ts';
import { makeRunId } from '../core/local.ts';
import { choosePython, runAndReport } from './local-run.ts';
import { readRuntimeFiles } from '../core/runtime-files.ts';

/** Options of `ptk apply`. Paths are relative to `cwd`; the plan names its pipeline relative to the plan file's folder. */
export interface ApplyOptions {
  /** Path of the plan file that `ptk plan` wrote. */
  plan: string;
  cwd: string;
  /** Folder to write the manifests into. */
  out?: string;
  /** `job` or `deployment`. */
  workload: string;
  namespace: string;
  image: string;
  /** Runs the plan on this machine instead of writing manifests. */
  local?: boolean;
  /** Python interpreter for `local`. */
  python?: string;
  /** Aborting stops a local run. */
  signal?: AbortSignal;
}

const workloadKinds: WorkloadKind[] = ['job', 'deployment'];

/** Image that `ptk apply` uses without `--image`: a stock Python with nothing else installed. */
export const defaultImage = 'python:3.12-slim';

/**
 * Writes the Kubernetes manifests of a plan's chosen candidate into `options.out`, one YAML file per pod plus
 * `00-shared.yaml`, all-or-nothing. The pipeline's file must be unchanged since the plan was made. The
 * ConfigMap ships the pipeline's file with the local modules and packages it imports. Each call makes a new
 * run id, so that the tasks of this run ignore outputs that earlier runs left on the claims.
 *
 * @throws InputError for a missing `--out` (applying to a cluster is not built yet), an unknown workload
 *   kind, a missing, invalid or outdated plan, a pipeline file changed since the plan, a local module that
 *   cannot be read, a replicated pod with `--workload deployment`, and an output folder that contains other
 *   files.
 */
export async function apply(options: ApplyOptions): Promise<CommandResult> {
  const usage: Problem[] = [];
  if (!workloadKinds.includes(options.workload as WorkloadKind)) {
    usage.push({ message: `invalid --workload "${options.workload}": use job or deployment` });
  }
  if (options.local && options.out !== undefined) {
    usage.push({ message: '--local and --out exclude each other: --local runs the plan on this machine, --out writes its manifests' });
  } else if (!options.local && (options.out === undefined || options.out.trim() === '')) {
    usage.push({
      message:
        'applying manifests to a cluster is not built yet: run ptk apply --out DIR, then kubectl apply -f DIR; ' +
        'or run the plan on this machine with ptk apply --local',
    });
  }
  if (usage.length > 0) throw new InputError(usage);
  if (options.local) return applyLocally(options);
  const out = options.out as string;
  const workload = options.workload as WorkloadKind;

  const plan = await readPlan(options.plan, options.cwd);
  // The plan names its pipeline relative to the plan file's folder; messages show it relative to cwd.
  const pipelineFile = relative(options.cwd, resolve(dirname(resolve(options.cwd, options.plan)), plan.pipeline.file)) || plan.pipeline.file;
  await checkSourceUnchanged(plan, pipelineFile, options.plan, options.cwd);
  const pipeline = await loadPipeline(pipelineFile, options.cwd);
  const imports = await findPipelineImports(pipelineFile, pipeline.source, options.cwd);
  const runId = makeRunId();

  const localFiles = imports.files.map(({ path, content }): CodeFile => {
    const name = codeFileKey(path);
    return name === path ? { name, content } : { name, content, path };
  });
  const manifests = renderManifests({
    pipeline,
    plan,
    workload,
    namespace: options.namespace,
    image: options.image,
    runId,
    files: [{ name: basename(pipeline.file), content: pipeline.source }, ...localFiles],
    runtimeFiles: readRuntimeFiles(),
  });
  const files = manifests.map((file) => ({ name: file.fileName, content: manifestsToYaml(file) }));
  await writeFilesAtomically(resolve(options.cwd, out), files, out);

  const header = `plan ${options.plan}: ${pipelineFile}, ${describeChosen(plan)}, run id ${runId}`;
  const notes = imports.thirdParty.length > 0 ? [thirdPartyNote(imports.thirdParty, options.image)] : [];
  return { stdout: [header, ...describeOutput(manifests, out, notes, { runId, namespace: options.namespace, workload })].join('\n'), exitCode: 0 };
}

/** Names the chosen candidate: `one-container on n1-standard-1 with 1 × nvidia-tesla-t4`, and its node count above 1. */
function describeChosen(plan: Plan): string {
  const described = describeCandidate(plan.chosen);
  return plan.chosen.nodes === 1 ? described : `${described}, ${plan.chosen.nodes} nodes`;
}

/** Builds the note that names the imported modules the image must provide, with the fix when the image is the stock one. */
function thirdPartyNote(modules: string[], image: string): string {
  const them = modules.length === 1 ? 'it' : 'them';
  const fix = image === defaultImage ? `: build an image with ${them} and pass --image` : '';
  return `note: the pipeline imports ${modules.join(', ')}; the image ${image} must provide ${them}${fix}`;
}

/**
 * Lists the files written and the objects in each, the notes, the command that applies them, and how to
 * start another run and remove this one.
 */
function describeOutput(
  manifests: ManifestFile[],
  out: string,
  notes: string[],
  run: { runId: string; namespace: string; workload: WorkloadKind },
): string[] {
  const width = Math.max(...manifests.map((file) => file.fileName.length));
  const lines = [`Wrote ${manifests.length} files to ${out}:`];
  for (const file of manifests) {
    const objects = file.objects.map((object) => `${String(object.kind)} ${String((object.metadata as { name?: unknown }).name)}`);
    lines.push(`  ${file.fileName.padEnd(width)}  ${objects.join(', ')}`);
  }
  lines.push(...notes, `Apply them with: kubectl apply -f ${out}`);

  const hasClaims = manifests.some((file) => file.objects.some((object) => object.kind === 'PersistentVolumeClaim'));
  if (hasClaims) {
    lines.push(
      `Each run needs new files from ptk apply --out: applied again, these files reuse run id ${run.runId}, ` +
        "so their tasks could read this run's outputs from the claims.",
    );
  }
  const kinds = [run.workload, 'configmap', ...(hasClaims ? ['pvc'] : [])].join(',');
  const deleteCommand = `kubectl delete ${kinds} -n ${run.namespace} -l ${runIdLabel}=${run.runId}`;
  lines.push(
    run.workload === 'job'
      ? `When the run has finished, delete it with ${deleteCommand}. Kubernetes cannot change a Job's pod template, so the next run's Jobs fail to apply while these Jobs exist.`
      : `When the run has finished, delete it with ${deleteCommand}. Until then its Deployments keep their pods running, and each pod holds its requests.`,
  );
  return lines;
}

/** Fails with exit code 2 when the pipeline's file differs from the one the plan was made from. */
async function checkSourceUnchanged(plan: Plan, file: string, planShown: string, cwd: string): Promise<void> {
  let source: string;
  try {
    source = await readFile(resolve(cwd, file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'file not found' : `cannot be read (${code ?? String(error)})`;
    throw new InputError(`${file}: ${what}, but ${planShown} was made from it; restore the file, or run ptk plan again`);
  }

  // The plan hashes the source as text decoded from UTF-8, so the check does the same.
  const sha256 = createHash('sha256').update(source).digest('hex');
  if (sha256 === plan.pipeline.sha256) return;
  throw new InputError(
    `${file}: changed since the plan was made (SHA-256 ${sha256.slice(0, 12)}…, the plan has ${plan.pipeline.sha256.slice(0, 12)}…); ` +
      `run ptk plan ${file} again`,
  );
}

/**
 * Reads and checks a plan file: valid JSON, version 1, and every field that the manifests need, with the
 * right type. All problems are reported together.
 */
export async function readPlan(planFile: string, cwd: string): Promise<Plan> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, planFile), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${planFile}: plan file not found; run ptk plan FILE first`);
    throw new InputError(`${planFile}: cannot be read (${code ?? String(error)}); run ptk plan FILE first`);
  }

  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    // V8 quotes the text around the error, line breaks included, so they are folded into spaces.
    const detail = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
    const location = jsonErrorLocation(planFile, text, detail);
    const message = `invalid JSON (${detail}); run ptk plan FILE first`;
    throw new InputError([location ? { location, message } : { message: `${planFile}: ${message}` }]);
  }

  const problems = checkPlanShape(data);
  if (problems.length > 0) {
    throw new InputError(problems.map((problem) => ({ message: `${planFile}: ${problem}; run ptk plan FILE first` })));
  }
  return data as Plan;
}

/** Finds the line and column of a JSON.parse error from the `position N` that V8 gives for some errors. */
function jsonErrorLocation(file: string, text: string, detail: string): { file: string; line: number; column: number } | undefined {
  const match = /position (\d+)/.exec(detail);
  if (!match) return undefined;
  const before = text.slice(0, Number(match[1]));
  const lines = before.split('\n');
  return { file, line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

type Shape = 'string' | 'number' | 'object' | 'array';

/** Problems of a parsed plan's shape, as `field: problem` texts. */
class ShapeCheck {
  readonly problems: string[] = [];

  /** Tells whether `value` has `shape`, and records a problem when it does not. */
  expect(value: unknown, path: string, shape: Shape): boolean {
    let actual: string = typeof value;
    if (Array.isArray(value)) actual = 'array';
    if (value === null) actual = 'null';
    if (actual === shape) return true;
    this.problems.push(value === undefined ? `${path} is missing` : `${path} is ${actual}, but a plan has ${shape === 'array' ? 'an array' : `a ${shape}`} there`);
    return false;
  }

  /** Checks `object[key]` for each key and shape, under the path `prefix`. */
  expectFields(object: Record<string, unknown>, prefix: string, fields: Record<string, Shape>): void {
    for (const [key, shape] of Object.entries(fields)) this.expect(object[key], `${prefix}.${key}`, shape);
  }
}

/** Lists what is missing or of the wrong type in a parsed plan. */
function checkPlanShape(data: unknown): string[] {
  const check = new ShapeCheck();
  if (!check.expect(data, 'the file', 'object')) return check.problems;
  const plan = data as Record<string, unknown>;
  if (plan.version === undefined) return ['missing "version": this is not a plan file that ptk plan wrote'];
  if (plan.version !== 1) return [`unsupported plan version ${JSON.stringify(plan.version)}: this ptk reads version 1`];

  if (check.expect(plan.pipeline, 'pipeline', 'object')) {
    const pipeline = plan.pipeline as Record<string, unknown>;
    check.expect(pipeline.file, 'pipeline.file', 'string');
    if (check.expect(pipeline.sha256, 'pipeline.sha256', 'string') && !/^[0-9a-f]{64}$/.test(pipeline.sha256 as string)) {
      check.problems.push('pipeline.sha256 is not 64 lower-case hex digits');
    }
  }
  if (check.expect(plan.chosen, 'chosen', 'object')) {
    const chosen = plan.chosen as Record<string, unknown>;
    check.expectFields(chosen, 'chosen', { machine_type: 'string', nodes: 'number' });
    if (chosen.accelerator !== null && check.expect(chosen.accelerator, 'chosen.accelerator', 'object')) {
      check.expectFields(chosen.accelerator as Record<string, unknown>, 'chosen.accelerator', { name: 'string', count: 'number' });
    }
  }
  if (check.expect(plan.layout, 'layout', 'object')) {
    const layout = plan.layout as Record<string, unknown>;
    if (check.expect(layout.pods, 'layout.pods', 'array')) {
      (layout.pods as unknown[]).forEach((pod, index) => checkPodShape(check, pod, `layout.pods[${index}]`));
    }
    if (check.expect(layout.channels, 'layout.channels', 'array')) {
      (layout.channels as unknown[]).forEach((channel, index) => checkChannelShape(check, channel, `layout.channels[${index}]`));
    }
  }
  return check.problems;
}

function checkPodShape(check: ShapeCheck, pod: unknown, path: string): void {
  if (!check.expect(pod, path, 'object')) return;
  const fields = pod as Record<string, unknown>;
  check.expectFields(fields, path, { name: 'string', kubeName: 'string', replicas: 'number' });
  if (!check.expect(fields.containers, `${path}.containers`, 'array')) return;

  (fields.containers as unknown[]).forEach((container, index) => {
    const containerPath = `${path}.containers[${index}]`;
    if (!check.expect(container, containerPath, 'object')) return;
    const containerFields = container as Record<string, unknown>;
    check.expectFields(containerFields, containerPath, { name: 'string', kubeName: 'string' });
    if (check.expect(containerFields.tasks, `${containerPath}.tasks`, 'array')) {
      (containerFields.tasks as unknown[]).forEach((task, taskIndex) => check.expect(task, `${containerPath}.tasks[${taskIndex}]`, 'string'));
    }
    if (!check.expect(containerFields.resources, `${containerPath}.resources`, 'object')) return;
    for (const [key, quantity] of Object.entries(containerFields.resources as Record<string, unknown>)) {
      const quantityPath = `${containerPath}.resources.${key}`;
      if (check.expect(quantity, quantityPath, 'object')) {
        check.expectFields(quantity as Record<string, unknown>, quantityPath, { text: 'string', value: 'number' });
      }
    }
  });
}

const channelKinds = ['direct', 'IPC', 'Volume', 'PVC'];

function checkChannelShape(check: ShapeCheck, channel: unknown, path: string): void {
  if (!check.expect(channel, path, 'object')) return;
  const fields = channel as Record<string, unknown>;
  check.expectFields(fields, path, { from: 'string', to: 'string' });
  if (check.expect(fields.kind, `${path}.kind`, 'string') && !channelKinds.includes(fields.kind as string)) {
    check.problems.push(`${path}.kind is "${String(fields.kind)}", but a channel kind is one of ${channelKinds.join(', ')}`);
  }
  if (fields.size !== undefined && check.expect(fields.size, `${path}.size`, 'object')) {
    check.expectFields(fields.size as Record<string, unknown>, `${path}.size`, { text: 'string', value: 'number' });
  }
}

/** Runs a plan's chosen layout on this machine, after the same checks as writing its manifests. */
async function applyLocally(options: ApplyOptions): Promise<CommandResult> {
  const python = choosePython(options.python);
  const plan = await readPlan(options.plan, options.cwd);
  const pipelineFile = relative(options.cwd, resolve(dirname(resolve(options.cwd, options.plan)), plan.pipeline.file)) || plan.pipeline.file;
  await checkSourceUnchanged(plan, pipelineFile, options.plan, options.cwd);
  const pipeline = await loadPipeline(pipelineFile, options.cwd);
  return runAndReport({
    pipeline,
    pods: plan.layout.pods,
    channels: plan.layout.channels,
    grouping: plan.chosen.grouping,
    cwd: options.cwd,
    python,
    signal: options.signal,
  });
}
