import { basename, dirname, extname, resolve } from 'node:path';
import type { Problem } from './errors.ts';
import type { FunctionDeclaration } from './decorators.ts';
import type { Channel, ContainerSpec, Grouping, GroupingKind, Pipeline, PodSpec, Quantity, Resources, Task } from './types.ts';
import { toDnsLabel } from './names.ts';

/**
 * Builds the grouping the user annotated: `@task` alone puts a function in its own container and pod;
 * functions with the same `@container` name share one container; functions with the same `@pod` name
 * share one pod, each in its own container unless `@container` groups them.
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

  const pods = new Map<string, { name: string; containers: Map<string, Task[]> }>();
  for (const task of pipeline.tasks) {
    const podName = task.podName ?? (task.containerName ? podOfContainer.get(task.containerName)?.pod : undefined) ?? task.containerName ?? task.name;
    const containerName = task.containerName ?? task.name;
    let pod = pods.get(podName);
    if (!pod) {
      pod = { name: podName, containers: new Map() };
      pods.set(podName, pod);
    }
    const container = pod.containers.get(containerName) ?? [];
    container.push(task);
    pod.containers.set(containerName, container);
  }

  const specs: PodSpec[] = [];
  for (const pod of pods.values()) {
    const replicas = podReplicas(pod.name, [...pod.containers.values()].flat(), declarationOf, problems);
    const containers: ContainerSpec[] = [];
    const labels = new Map<string, string>();
    for (const [name, tasks] of pod.containers) {
      const kubeName = toDnsLabel(name);
      const clash = labels.get(kubeName);
      if (clash !== undefined) {
        problems.push({
          location: tasks[0]!.location,
          message: `containers '${clash}' and '${name}' of pod '${pod.name}' both become the Kubernetes name '${kubeName}'; rename one of them`,
        });
      }
      labels.set(kubeName, name);
      containers.push({ name, kubeName, tasks: tasks.map((task) => task.name), resources: containerResources(tasks) });
    }
    specs.push({ name: pod.name, kubeName: toDnsLabel(pod.name), containers, replicas });
  }

  const grouping: Grouping = { kind: 'annotated', pods: specs };
  checkPodLocalChannels(pipeline, grouping, declarationOf, problems);
  return grouping;
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
    message: `pod '${podName}' holds tasks with different num_replicas (${described}); Kubernetes replicates a whole pod: give them one count, or put them in separate pods`,
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
    const fallback = sameContainer ? 'direct' : samePod ? 'IPC' : 'PVC';
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
