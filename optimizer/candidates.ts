import type { Grouping, GroupingKind, Pipeline } from '../core/types.ts';
import type { Profile } from '../core/profile.ts';
import { channelsFor, makeGrouping, sameLayout } from '../core/grouping.ts';
import { describeBytes, formatCpu } from '../core/quantity.ts';
import { allocatable } from '../pricing/allocatable.ts';
import { canAttach } from '../pricing/rules.ts';
import type { Allocatable, Catalog } from '../pricing/types.ts';
import { predictTaskTime, schedule } from './time-model.ts';
import type { NodeType, TaskTime } from './types.ts';

export const groupingKinds: GroupingKind[] = ['annotated', 'pod-per-task', 'one-pod', 'one-container'];

/** Resources the node must provide when every pod of the grouping runs on it at once. */
export interface ResourceUse {
  cpu: number;
  memoryBytes: number;
  gpus: number;
}

/**
 * One grouping on one node type, with everything the ILP and the explanation need. `blocked` lists
 * reasons that no limit can lift (an unknown timing, a grouping that cannot express the pipeline).
 */
export interface Evaluation {
  grouping: GroupingKind;
  sameAs: GroupingKind | null;
  layout?: Grouping;
  node: NodeType;
  nodes: number;
  pricePerHour: number;
  timeSeconds: number;
  costUsd: number;
  taskTimes: TaskTime[];
  use: ResourceUse;
  capacity: Allocatable;
  blocked: string[];
}

/** Lists every node type of a catalog: each machine alone, and with each attachable accelerator count. */
export function enumerateNodeTypes(catalog: Catalog): NodeType[] {
  const nodes: NodeType[] = [];
  for (const machine of catalog.machines) {
    if (machine.builtInAccelerator) {
      nodes.push({ machineType: machine.name, accelerator: { ...machine.builtInAccelerator } });
      continue;
    }
    nodes.push({ machineType: machine.name, accelerator: null });
    for (const accelerator of catalog.accelerators) {
      if (!canAttach(accelerator, machine.name)) continue;
      for (const count of accelerator.counts) nodes.push({ machineType: machine.name, accelerator: { name: accelerator.name, count } });
    }
  }
  return nodes;
}

/** Prices every grouping on every node type of the catalog, on a single node. */
export function evaluateCandidates(pipeline: Pipeline, catalog: Catalog, profile: Profile): Evaluation[] {
  const nodes = enumerateNodeTypes(catalog);
  const evaluations: Evaluation[] = [];
  const layouts = new Map<GroupingKind, { grouping?: Grouping; reason?: string }>();
  for (const kind of groupingKinds) layouts.set(kind, makeGrouping(kind, pipeline));

  for (const kind of groupingKinds) {
    const result = layouts.get(kind)!;
    const sameAs = kind === 'annotated' && result.grouping ? findSameLayout(result.grouping, layouts) : null;
    for (const node of nodes) evaluations.push(evaluate(pipeline, catalog, profile, kind, sameAs, result, node));
  }
  return evaluations;
}

function findSameLayout(grouping: Grouping, layouts: Map<GroupingKind, { grouping?: Grouping }>): GroupingKind | null {
  for (const kind of groupingKinds) {
    if (kind === 'annotated') continue;
    const other = layouts.get(kind)?.grouping;
    if (other && sameLayout(grouping, other)) return kind;
  }
  return null;
}

function evaluate(
  pipeline: Pipeline,
  catalog: Catalog,
  profile: Profile,
  kind: GroupingKind,
  sameAs: GroupingKind | null,
  layout: { grouping?: Grouping; reason?: string },
  node: NodeType,
): Evaluation {
  const machine = catalog.machines.find((candidate) => candidate.name === node.machineType)!;
  const acceleratorPrice = node.accelerator && !machine.builtInAccelerator ? (catalog.accelerators.find((accelerator) => accelerator.name === node.accelerator!.name)?.onDemandPerHour ?? 0) * node.accelerator.count : 0;
  const pricePerHour = machine.onDemandPerHour + acceleratorPrice + catalog.clusterFeePerHour;
  const capacity = allocatable(machine, node.accelerator, catalog.reservation);
  const evaluation: Evaluation = {
    grouping: kind,
    sameAs,
    layout: layout.grouping,
    node,
    nodes: 1,
    pricePerHour,
    timeSeconds: 0,
    costUsd: 0,
    taskTimes: [],
    use: { cpu: 0, memoryBytes: 0, gpus: 0 },
    capacity,
    blocked: [],
  };
  if (!layout.grouping) {
    evaluation.blocked.push(layout.reason!);
    return evaluation;
  }

  const times = new Map<string, number>();
  for (const task of pipeline.tasks) {
    const predicted = predictTaskTime(task, node, catalog, profile);
    if (!predicted.time) {
      evaluation.blocked.push(predicted.reason);
      continue;
    }
    evaluation.taskTimes.push(predicted.time);
    times.set(task.name, predicted.time.seconds);
  }
  if (evaluation.blocked.length > 0) return evaluation;

  const fallback = new Set(evaluation.taskTimes.filter((time) => time.cpuFallback).map((time) => time.task));
  evaluation.use = resourceUse(layout.grouping, fallback);
  const outputBytes = new Map<string, number>();
  for (const [task, entry] of Object.entries(profile.tasks)) {
    const bytes = entry.samples.find((sample) => typeof sample.output_bytes === 'number')?.output_bytes;
    if (typeof bytes === 'number') outputBytes.set(task, bytes);
  }
  const channels = channelsFor(pipeline, layout.grouping);
  evaluation.timeSeconds = schedule(pipeline, layout.grouping, channels, times, profile, outputBytes).makespanSeconds;
  evaluation.costUsd = (pricePerHour * evaluation.timeSeconds) / 3600;
  return evaluation;
}

/**
 * Sums the requests of every pod, times its replicas, because `ptk apply` creates all pods at once and
 * a pod that waits for its inputs still keeps its requests. GPU requests of tasks that fall back to
 * CPU on this node are left out, as their manifests will be.
 */
export function resourceUse(grouping: Grouping, cpuFallback: Set<string>): ResourceUse {
  const use: ResourceUse = { cpu: 0, memoryBytes: 0, gpus: 0 };
  for (const pod of grouping.pods) {
    for (const container of pod.containers) {
      const resources = container.resources;
      use.cpu += (resources.cpuRequest?.value ?? 0) * pod.replicas;
      use.memoryBytes += (resources.memoryRequest?.value ?? 0) * pod.replicas;
      // Fallback happens on nodes without a GPU, where every GPU task of the container falls back together.
      const onCpu = container.tasks.some((task) => cpuFallback.has(task));
      if (!onCpu) use.gpus += (resources.gpuRequest?.value ?? resources.gpuLimit?.value ?? 0) * pod.replicas;
    }
  }
  return use;
}

/** Explains why a candidate's resources do not fit its node, or returns undefined when they fit. */
export function describeMisfit(evaluation: Evaluation): string | undefined {
  const { use, capacity, node } = evaluation;
  const parts: string[] = [];
  if (use.cpu > capacity.cpu + 1e-9) parts.push(`${formatCpu(round(use.cpu))} CPU requested, ${formatCpu(round(capacity.cpu))} allocatable`);
  if (use.memoryBytes > capacity.memoryBytes) parts.push(`${describeBytes(use.memoryBytes)} memory requested, ${describeBytes(capacity.memoryBytes)} allocatable`);
  if (use.gpus > capacity.gpus) parts.push(`${use.gpus} GPU requested, ${capacity.gpus} on the node`);
  if (parts.length === 0) return undefined;
  return `does not fit ${node.machineType}: ${parts.join('; ')}`;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
