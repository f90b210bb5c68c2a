import type { IConfigMap, IPersistentVolumeClaim } from 'kubernetes-models/v1';
import { stringify } from 'yaml';
import { InputError, type Problem } from './errors.ts';
import { placeTasks } from './manifest-layout.ts';
import { annotationPrefix, objectMetadata, type MetadataContext } from './manifest-metadata.ts';
import { isConfigMapKey, joinName, shortHash, toDnsLabelOr } from './manifest-names.ts';
import { isDnsLabel, maxLabelLength } from './names.ts';
import { planChannelStorage, type ChannelStorage } from './manifest-volumes.ts';
import { renderWorkload, type WorkloadContext, type WorkloadKind } from './manifest-workloads.ts';
import type { Pipeline, PodSpec } from './types.ts';
import type { Plan } from '../optimizer/types.ts';
import { pipelineName } from './grouping.ts';

export { codeMountPath, type WorkloadKind } from './manifest-workloads.ts';
export { dataMountPath } from './manifest-volumes.ts';

/** One YAML file of the output: its name and the objects it contains, in apply order. */
export interface ManifestFile {
  fileName: string;
  objects: Record<string, unknown>[];
}

/** A file of the user's code, shipped to the containers in the ConfigMap. */
export interface CodeFile {
  /** The ConfigMap key, and the file's path under /ptk/code unless `path` is given. */
  name: string;
  content: string;
  /** The file's path under /ptk/code when it differs from `name`, as for a module of a package (`pkg/util.py`). */
  path?: string;
}

export interface RenderInput {
  pipeline: Pipeline;
  plan: Plan;
  workload: WorkloadKind;
  namespace: string;
  image: string;
  /**
   * Id of this run, such as `20261204-201500-3f2a`, a label value that must be new for each run. Tasks ignore
   * the outputs of other run ids that claims still hold, and the `ptk.dev/run-id` label selects the run's objects.
   */
  runId: string;
  /** The user's code files; one of them must be the pipeline's file. */
  files: CodeFile[];
  /**
   * The Python runtime's files, by path under the runtime folder (`ptk/run.py`). They ship in the
   * ConfigMap beside the user's files, so the stock image needs nothing installed.
   */
  runtimeFiles?: { path: string; content: string }[];
}

/** Name of the file with the objects that workloads need first, chosen to sort before every pod's file. */
export const sharedFileName = '00-shared.yaml';

/** Kubernetes' limit on the total size of a ConfigMap's values (`MaxConfigMapSize`): 1 MiB. */
export const maxConfigMapBytes = 1024 * 1024;

/**
 * Renders the Kubernetes objects of a plan, one file per pod plus `00-shared.yaml` with the ConfigMap of the
 * user's code and the PersistentVolumeClaims of the PVC channels. Applying the files in name order creates
 * the shared objects before the workloads. Every pod meets the "restricted" Pod Security Standard.
 *
 * Object names start with `<pipeline>`, a label made from the pipeline's file name. Workloads are named
 * `<pipeline>-<pod>` (just `<pipeline>` when the pod has that name), the ConfigMap `<pipeline>-code` and
 * claims `<pipeline>-<producer>-data`. A name longer than 63 characters is shortened with a hash suffix.
 * Every object and pod carries the run id as the label `ptk.dev/run-id`. On a one-node plan every pod
 * requires the node of the run's other pods.
 *
 * @throws InputError listing every problem at once. Problems are a layout that does not fit the pipeline, a
 *   channel whose kind its placement does not allow, a replicated pod in a Deployment, and code files that
 *   are missing, badly named or over the ConfigMap limit. An invalid namespace, image, run id or node type
 *   is a problem too.
 */
export function renderManifests(input: RenderInput): ManifestFile[] {
  const { pipeline, plan, workload, namespace, image, runId } = input;
  const files: CodeFile[] = [...input.files, ...(input.runtimeFiles ?? []).map((file) => ({ name: codeFileKey(file.path), content: file.content, path: file.path }))];
  const problems: Problem[] = [];

  checkSettings(input, problems);
  const moduleKey = baseName(pipeline.file);
  checkCodeFiles(files, moduleKey, problems);
  const placements = placeTasks(pipeline, plan.layout.pods, plan.layout.channels, problems);
  // 40 characters leave room for the pod's name after the prefix within the 63 of a label.
  const prefix = toDnsLabelOr(pipelineName(pipeline.file), 'pipeline', 40);
  const accessMode = plan.chosen.nodes > 1 ? 'ReadWriteMany' : 'ReadWriteOnce';
  const storage = planChannelStorage(plan.layout.channels, placements, { prefix, accessMode }, problems);

  const context: WorkloadContext = {
    prefix,
    namespace,
    runId,
    image,
    workload,
    configMapName: joinName([prefix, 'code']),
    codeItems: files.map((file) => ({ key: file.name, path: file.path ?? file.name })),
    moduleKey,
    sourceFile: pipeline.file,
    sourceSha256: plan.pipeline.sha256,
    node: { machineType: plan.chosen.machine_type, accelerator: plan.chosen.accelerator },
    singleNode: plan.chosen.nodes === 1,
    placements,
    storage,
    pipeline,
    layout: plan.layout,
  };
  const podFiles = plan.layout.pods.map((pod) => ({ pod, workload: renderWorkload(context, pod, problems) }));
  if (problems.length > 0) throw new InputError(problems);

  const shared: ManifestFile = {
    fileName: sharedFileName,
    objects: [renderConfigMap(context, files), ...renderClaims(context, storage, accessMode)].map(toRecord),
  };
  const fileNames = podFileNames(plan.layout.pods);
  return [
    shared,
    ...podFiles.map(({ pod, workload: object }) => ({
      fileName: fileNames.get(pod.name) ?? `${pod.kubeName}.yaml`,
      objects: [toRecord(object)],
    })),
  ];
}

/**
 * Names the ConfigMap key of a code file in a folder: its path with '/' as '.' (`ptk/run.py` → `ptk.run.py`),
 * because keys cannot contain '/'. The pod's volume maps the key back to the path.
 */
export function codeFileKey(path: string): string {
  return path.replaceAll('/', '.');
}

/** Views a typed Kubernetes object as the plain record that `ManifestFile` holds. */
function toRecord(object: object): Record<string, unknown> {
  return object as Record<string, unknown>;
}

/** Writes a file's objects as multi-document YAML, each document after a `---` line. */
export function manifestsToYaml(file: ManifestFile): string {
  // lineWidth 0 keeps long lines whole, so the code in the ConfigMap reads as the user wrote it.
  return file.objects.map((object) => `---\n${stringify(object, { lineWidth: 0 })}`).join('');
}

/**
 * Names each pod's file `<pod>-<task>-<task>.yaml`, leaving out a task named like its pod (the usual case
 * of one task per pod) and shortening the name to 63 characters plus `.yaml`. Names that start with a digit
 * get a `pod-` prefix so that every pod's file sorts after `00-shared.yaml`.
 */
function podFileNames(pods: PodSpec[]): Map<string, string> {
  const names = new Map<string, string>();
  const used = new Set<string>();
  for (const pod of pods) {
    const taskParts = pod.containers.flatMap((container) => container.tasks).map((task) => toDnsLabelOr(task, 'task'));
    const parts = [pod.kubeName, ...taskParts.filter((part) => part !== pod.kubeName)];
    let base = joinName(/^[0-9]/.test(pod.kubeName) ? ['pod', ...parts] : parts);
    // Distinct pods can still join to one name ("a" + "b-c" and "a-b" + "c"), so a hash of the pod's own
    // name keeps the second one distinct.
    if (used.has(base)) base = joinName([base.slice(0, maxLabelLength - 9).replace(/-+$/, ''), shortHash(pod.name)]);
    used.add(base);
    names.set(pod.name, `${base}.yaml`);
  }
  return names;
}

function renderConfigMap(context: WorkloadContext, files: CodeFile[]): IConfigMap {
  const data: Record<string, string> = {};
  for (const file of files) data[file.name] = file.content;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMetadata(context, {
      name: context.configMapName,
      appName: 'code',
      component: 'code',
      annotations: { [`${annotationPrefix}/source`]: context.sourceFile, [`${annotationPrefix}/source-sha256`]: context.sourceSha256 },
    }),
    data,
  };
}

/**
 * Builds one claim per producer with a PVC channel. ReadWriteOnce lets every pod on one node mount the claim,
 * which is all a one-node plan needs. A plan with several nodes requests ReadWriteMany, which needs a storage
 * class that offers it (a file store such as GKE's Filestore CSI driver).
 */
function renderClaims(context: MetadataContext, storage: ChannelStorage, accessMode: 'ReadWriteOnce' | 'ReadWriteMany'): IPersistentVolumeClaim[] {
  return storage.claims.map((claim) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: objectMetadata(context, {
      name: claim.name,
      appName: claim.producer.kubeName,
      component: 'channel',
      annotations: { [`${annotationPrefix}/task`]: claim.producer.name },
    }),
    spec: {
      accessModes: [accessMode],
      resources: { requests: { storage: claim.storage } },
    },
  }));
}

/** A Kubernetes label value: at most 63 characters, alphanumeric at both ends, `-`, `_` and `.` inside. */
const labelValuePattern = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Tells whether `value` is a non-empty label value, as node selectors and run ids need. */
function isLabelValue(value: string): boolean {
  return value !== '' && value.length <= maxLabelLength && labelValuePattern.test(value);
}

function checkSettings(input: RenderInput, problems: Problem[]): void {
  if (!isDnsLabel(input.namespace)) {
    problems.push({
      message: `invalid namespace "${input.namespace}": a namespace is a DNS-1123 label (at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit)`,
    });
  }
  if (input.image.trim() === '' || /\s/.test(input.image)) {
    problems.push({ message: `invalid image "${input.image}": give an image reference without spaces, such as python:3.12-slim` });
  }
  if (!isLabelValue(input.runId)) {
    problems.push({
      message: `invalid run id "${input.runId}": a run id is a label value (at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit)`,
    });
  }

  const chosen = input.plan.chosen;
  const values: [string, string][] = [['machine type', chosen.machine_type]];
  if (chosen.accelerator) values.push(['accelerator', chosen.accelerator.name]);
  for (const [what, value] of values) {
    if (!isLabelValue(value)) {
      problems.push({ message: `plan: the chosen ${what} "${value}" cannot be a node label value, so no node selector can match it; run ptk plan again` });
    }
  }
}

/**
 * Checks the code files: valid and unique ConfigMap keys, the pipeline's file among them, and a total size
 * within the ConfigMap limit. The limit counts the bytes of the values (UTF-8), as the API server does.
 */
function checkCodeFiles(files: CodeFile[], moduleKey: string, problems: Problem[]): void {
  const seen = new Set<string>();
  for (const file of files) {
    if (!isConfigMapKey(file.name)) {
      problems.push({ message: `code file name "${file.name}" cannot be a ConfigMap key: use letters, digits, "-", "_" and "." only` });
    }
    if (seen.has(file.name)) problems.push({ message: `code file "${file.name}" appears twice` });
    seen.add(file.name);
  }
  if (!seen.has(moduleKey)) {
    problems.push({ message: `the code files do not include the pipeline's file "${moduleKey}", which the containers run` });
  }

  const sizes = files.map((file) => ({ name: file.name, bytes: Buffer.byteLength(file.content, 'utf8') }));
  const total = sizes.reduce((sum, file) => sum + file.bytes, 0);
  if (total <= maxConfigMapBytes) return;

  const largest = sizes.reduce((top, file) => (file.bytes > top.bytes ? file : top));
  problems.push({
    message:
      `the code files take ${formatMebibytes(total)} (${total} bytes; largest ${largest.name}, ${largest.bytes} bytes), ` +
      `but a ConfigMap holds at most 1 MiB (${maxConfigMapBytes} bytes): ` +
      'keep data out of the source files and load it at run time, for example from a URL or a bucket',
  });
}

function formatMebibytes(bytes: number): string {
  return `${(bytes / maxConfigMapBytes).toFixed(2)} MiB`;
}

function baseName(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}
