import { basename, dirname, extname, resolve } from 'node:path';
import type { Problem, SourceLocation } from './errors.ts';
import type { FunctionDeclaration } from './decorators.ts';
import type { Channel, ContainerSpec, Grouping, GroupingKind, Pipeline, PodSpec, Quantity, Resources, Task } from './types.ts';
import { toDnsLabel } from './names.ts';

/**
 * Builds the grouping the user annotated: `@task` alone puts a function in its own container and pod;
 * functions with the same `@container` name share one container; functions with the same `@pod` name
 * share one pod, each in its own container unless `@container` groups them. A pod or container that a
 * decorator names is never merged with the default pod or container of a task of the same name.
 */
export function buildAnnotatedGrouping(pipeline: Pipeline, declarations: FunctionDeclaration[], problems: Problem[]): Grouping {
  const declarationOf = new Map(declarations.map((declaration) => [declaration.taskName, declaration]));

  // A container named by several functions lands in the pod that any of them declares.
  const podOfContainer = new Map<string, { pod: string; task: Task }>();
  for (const task of pipeline.tasks) {
    if (!task.containerName || !task.podName) continue;
    const earlier = podOfContainer.get(task.containerName);
    if (earlier && earlier.pod !== task.podName) {
      const declaration = declarationOf.get(task.name);
      problems.push({
        location: declaration?.podName?.location ?? task.location,
        message: `container '${task.containerName}' would be in two pods: '${earlier.pod}' (from ${earlier.task.functionName}) and '${task.podName}' (from ${task.functionName}); a container belongs to one pod: give both functions the same @pod name`,
      });
      continue;
    }
    podOfContainer.set(task.containerName, { pod: task.podName, task });
  }

  const pods = new Map<string, PodEntry>();
  for (const task of pipeline.tasks) {
    const declaration = declarationOf.get(task.name);
    const declaredPod = task.podName ?? (task.containerName ? podOfContainer.get(task.containerName)?.pod : undefined);
    let podOrigin: NamedEntry['origin'] = 'task';
    if (declaredPod !== undefined) podOrigin = 'pod';
    else if (task.containerName !== undefined) podOrigin = 'container';
    const podName = declaredPod ?? task.containerName ?? task.name;
    let pod = pods.get(`${podOrigin} ${podName}`);
    if (!pod) {
      pod = { name: podName, origin: podOrigin, functionName: task.functionName, location: originLocation(podOrigin, task, declaration), containers: new Map() };
      pods.set(`${podOrigin} ${podName}`, pod);
    }

    const containerOrigin = task.containerName !== undefined ? 'container' : 'task';
    const containerName = task.containerName ?? task.name;
    let container = pod.containers.get(`${containerOrigin} ${containerName}`);
    if (!container) {
      container = { name: containerName, origin: containerOrigin, functionName: task.functionName, location: originLocation(containerOrigin, task, declaration), tasks: [] };
      pod.containers.set(`${containerOrigin} ${containerName}`, container);
    }
    container.tasks.push(task);
  }

  const specs: PodSpec[] = [];
  const podLabels = new Map<string, PodEntry>();
  for (const pod of pods.values()) {
    const kubeName = toDnsLabel(pod.name);
    const clash = podLabels.get(kubeName);
    if (clash) problems.push({ location: pod.location, message: describeClash('pod', pod, clash, kubeName) });
    podLabels.set(kubeName, pod);

    const replicas = podReplicas(pod.name, [...pod.containers.values()].flatMap((container) => container.tasks), declarationOf, problems);
    const containers: ContainerSpec[] = [];
    const containerLabels = new Map<string, NamedEntry>();
    for (const container of pod.containers.values()) {
      const containerKubeName = toDnsLabel(container.name);
      const containerClash = containerLabels.get(containerKubeName);
      if (containerClash) problems.push({ location: container.location, message: describeClash('container', container, containerClash, containerKubeName, pod.name) });
      containerLabels.set(containerKubeName, container);
      containers.push({ name: container.name, kubeName: containerKubeName, tasks: container.tasks.map((task) => task.name), resources: containerResources(container.tasks) });
    }
    specs.push({ name: pod.name, kubeName, containers, replicas });
  }

  const grouping: Grouping = { kind: 'annotated', pods: specs };
  checkPodLocalChannels(pipeline, grouping, declarationOf, problems);
  return grouping;
}

/** A pod or container of the annotated grouping and the decorator its name comes from. */
interface NamedEntry {
  name: string;
  /** `pod` and `container`: named by that decorator. `task`: the task's default one, named after the task. */
  origin: 'pod' | 'container' | 'task';
  /** The first function that put a task in it. */
  functionName: string;
  location: SourceLocation;
}

interface PodEntry extends NamedEntry {
  containers: Map<string, NamedEntry & { tasks: Task[] }>;
}

/** Returns where the name of a pod or container is written: its decorator's name=, or the task's. */
function originLocation(origin: NamedEntry['origin'], task: Task, declaration: FunctionDeclaration | undefined): SourceLocation {
  if (origin === 'pod') return declaration?.podName?.location ?? task.location;
  if (origin === 'container') return declaration?.containerName?.location ?? task.location;
  return declaration?.taskNameLocation ?? task.location;
}

function describeEntry(kind: 'pod' | 'container', entry: NamedEntry): string {
  if (entry.origin === kind) return `${kind} '${entry.name}' (@${kind} of ${entry.functionName})`;
  if (entry.origin === 'container') return `the default pod of container '${entry.name}' (${entry.functionName})`;
  return `the default ${kind} of task '${entry.name}'`;
}

/**
 * Describes two pods, or two containers of one pod, whose names become the same Kubernetes name. A
 * declared name that equals an implicit one is reported too, because the two are not merged.
 */
function describeClash(kind: 'pod' | 'container', entry: NamedEntry, earlier: NamedEntry, kubeName: string, podName?: string): string {
  const where = podName === undefined ? '' : ` in pod '${podName}'`;
  const both = `${describeEntry(kind, entry)} and ${describeEntry(kind, earlier)}${where} both become the Kubernetes name '${kubeName}'`;
  const declared = [entry, earlier].find((candidate) => candidate.origin === kind);
  const implicit = [entry, earlier].find((candidate) => candidate.origin !== kind);
  if (declared && implicit) {
    return `${both}, and ptk does not merge them: add @${kind}(name='${declared.name}') to ${implicit.functionName} to share it, or rename one of them`;
  }
  return `${both}; rename one of them`;
}

/**
 * Returns a pod's replica count and reports counts that differ. `num_replicas` on a function's @pod sets
 * the count of the whole pod, so the pod's functions that set no count of their own take it.
 */
function podReplicas(podName: string, tasks: Task[], declarationOf: Map<string, FunctionDeclaration>, problems: Problem[]): number {
  const podLevel = tasks.map((task) => declarationOf.get(task.name)?.podReplicas).find((replicas) => replicas !== undefined);
  if (podLevel) {
    for (const task of tasks) {
      const declaration = declarationOf.get(task.name);
      if (!declaration?.podReplicas && !declaration?.replicas) task.replicas = podLevel.value;
    }
  }

  const counts = new Set(tasks.map((task) => task.replicas));
  if (counts.size <= 1) return tasks[0]?.replicas ?? 1;

  const described = tasks.map((task) => `${task.functionName}=${task.replicas}`).join(', ');
  const first = tasks.find((task) => task.replicas !== 1) ?? tasks[0]!;
  const declaration = declarationOf.get(first.name);
  problems.push({
    location: declaration?.replicas?.location ?? declaration?.podReplicas?.location ?? first.location,
    message: `pod '${podName}' contains tasks with different num_replicas (${described}); Kubernetes replicates a whole pod: give them one count, or put them in separate pods`,
  });
  return 1;
}

/** Reports IPC and Volume channels whose producer and consumer are in different pods of the user's grouping. */
function checkPodLocalChannels(pipeline: Pipeline, grouping: Grouping, declarationOf: Map<string, FunctionDeclaration>, problems: Problem[]): void {
  const podOf = podIndex(grouping);
  const byName = new Map(pipeline.tasks.map((task) => [task.name, task]));
  for (const edge of pipeline.edges) {
    const producer = byName.get(edge.from)!;
    const type = producer.output?.type;
    if (type !== 'IPC' && type !== 'Volume') continue;
    const producerPod = podOf.get(edge.from);
    const consumerPod = podOf.get(edge.to);
    if (producerPod === consumerPod) continue;
    const consumer = byName.get(edge.to)!;
    problems.push({
      location: producer.output?.location ?? declarationOf.get(producer.name)?.function.location,
      message: `${type} output of '${producer.name}' (pod '${producerPod}') is read by '${consumer.name}' in another pod ('${consumerPod}'); ${type} channels connect containers of one pod: use {'type': 'PVC'}, or give both functions the same @pod name`,
    });
  }
}

/** Maps each task name to the name of the pod that runs it. */
export function podIndex(grouping: Grouping): Map<string, string> {
  const index = new Map<string, string>();
  for (const pod of grouping.pods) for (const container of pod.containers) for (const task of container.tasks) index.set(task, pod.name);
  return index;
}

/** Maps each task name to the name of the container that runs it, qualified by its pod. */
export function containerIndex(grouping: Grouping): Map<string, string> {
  const index = new Map<string, string>();
  for (const pod of grouping.pods) for (const container of pod.containers) for (const task of container.tasks) index.set(task, `${pod.name}/${container.name}`);
  return index;
}

/**
 * Computes a container's requests and limits from the tasks it runs one after another: each request is
 * the largest of the tasks' requests, and a limit is set only when every task sets one (the largest).
 */
export function containerResources(tasks: Task[]): Resources {
  const resources: Resources = {};
  const fields: (keyof Resources)[] = ['cpuRequest', 'cpuLimit', 'memoryRequest', 'memoryLimit', 'gpuRequest', 'gpuLimit'];
  for (const field of fields) {
    const values = tasks.map((task) => task.resources[field]);
    const isLimit = field.endsWith('Limit') && field !== 'gpuLimit';
    if (isLimit && values.some((value) => value === undefined)) continue;
    const largest = largestQuantity(values);
    if (largest) resources[field] = { text: largest.text, value: largest.value };
  }
  if (resources.gpuRequest && !resources.gpuLimit) resources.gpuLimit = resources.gpuRequest;
  if (resources.gpuLimit && !resources.gpuRequest) resources.gpuRequest = resources.gpuLimit;
  return resources;
}

function largestQuantity(values: (Quantity | undefined)[]): Quantity | undefined {
  let largest: Quantity | undefined;
  for (const value of values) if (value && (!largest || value.value > largest.value)) largest = value;
  return largest;
}

/** The result of placing the tasks one canonical way: the grouping, or why it cannot express the pipeline. */
export type GroupingResult = { grouping: Grouping; reason?: undefined } | { grouping?: undefined; reason: string };

/** Builds one of the canonical groupings, or the user's own for `annotated`. */
export function makeGrouping(kind: GroupingKind, pipeline: Pipeline): GroupingResult {
  if (kind === 'annotated') return { grouping: pipeline.annotated };

  if (kind === 'pod-per-task') {
    const pods = pipeline.tasks.map((task): PodSpec => ({
      name: task.name,
      kubeName: task.kubeName,
      replicas: task.replicas,
      containers: [{ name: task.name, kubeName: task.kubeName, tasks: [task.name], resources: containerResources([task]) }],
    }));
    return { grouping: { kind, pods } };
  }

  const replicated = pipeline.tasks.find((task) => task.replicas > 1);
  if (replicated) {
    return { reason: `${replicated.name} has num_replicas=${replicated.replicas}, and one pod would replicate every task with it` };
  }

  const podName = pipelineName(pipeline.file);
  if (kind === 'one-pod') {
    const containers = pipeline.tasks.map((task): ContainerSpec => ({ name: task.name, kubeName: task.kubeName, tasks: [task.name], resources: containerResources([task]) }));
    return { grouping: { kind, pods: [{ name: podName, kubeName: toDnsLabel(podName), replicas: 1, containers }] } };
  }

  const container: ContainerSpec = {
    name: podName,
    kubeName: toDnsLabel(podName),
    tasks: pipeline.tasks.map((task) => task.name),
    resources: containerResources(pipeline.tasks),
  };
  return { grouping: { kind, pods: [{ name: podName, kubeName: toDnsLabel(podName), replicas: 1, containers: [container] }] } };
}

/** File names too generic to name a pipeline by; such a pipeline is named after its folder instead. */
const genericFileNames = new Set(['pipeline', 'main', 'app', 'run', '__main__']);

/**
 * Names a pipeline as a DNS-1123 label: after its file (`train_model.py` → `train-model`), or after its
 * folder when the file name is generic (`samples/leaf/pipeline.py` → `leaf`).
 */
export function pipelineName(file: string): string {
  const stem = basename(file, extname(file));
  const folder = basename(dirname(resolve(file)));
  const name = genericFileNames.has(stem.toLowerCase()) && toDnsLabel(folder) !== '' ? folder : stem;
  return toDnsLabel(name) || 'pipeline';
}

/** Checks whether two groupings place the tasks the same way (same pods, same containers, same order). */
export function sameLayout(left: Grouping, right: Grouping): boolean {
  const shape = (grouping: Grouping) =>
    grouping.pods
      .map((pod) => pod.containers.map((container) => container.tasks.join('+')).join('|'))
      .sort()
      .join(';');
  return shape(left) === shape(right);
}

/**
 * Chooses each edge's channel in a grouping. A declared channel is kept where the grouping allows it;
 * otherwise the edge uses the default for its placement: direct in one container, IPC in one pod, PVC across pods.
 */
export function channelsFor(pipeline: Pipeline, grouping: Grouping): Channel[] {
  const pods = podIndex(grouping);
  const containers = containerIndex(grouping);
  const byName = new Map(pipeline.tasks.map((task) => [task.name, task]));

  return pipeline.edges.map((edge): Channel => {
    const declared = byName.get(edge.from)?.output;
    const samePod = pods.get(edge.from) === pods.get(edge.to);
    const sameContainer = containers.get(edge.from) === containers.get(edge.to);
    let fallback: Channel['kind'] = 'PVC';
    if (sameContainer) fallback = 'direct';
    else if (samePod) fallback = 'IPC';
    const channel: Channel = { from: edge.from, to: edge.to, parameter: edge.parameter, kind: fallback };
    if (declared?.size) channel.size = { text: declared.size.text, value: declared.size.value };
    if (!declared) return channel;

    const allowed = declared.type === 'PVC' || samePod;
    if (allowed) channel.kind = declared.type;
    else {
      channel.kind = 'PVC';
      channel.declared = declared.type;
    }
    return channel;
  });
}
