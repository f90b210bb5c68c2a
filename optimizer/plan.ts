import { createHash } from 'node:crypto';
import type { Channel, Grouping, PodSpec, Quantity, Resources } from '../core/types.ts';
import type { Pipeline } from '../core/types.ts';
import type { Profile } from '../core/profile.ts';
import { channelsFor } from '../core/grouping.ts';
import { describeDuration } from '../core/quantity.ts';
import type { Catalog } from '../pricing/types.ts';
import { describeMisfit, evaluateCandidates, type Evaluation } from './candidates.ts';
import type { Constraint, LinearModel, SolverBackend, Term } from './ilp.ts';
import type { Candidate, Limits, NodeType, Plan } from './types.ts';

/** Result of planning: a plan when some candidate meets the limits, else every candidate and the nearest miss. */
export type PlanResult = { plan: Plan; candidates: Candidate[]; nearestMiss?: undefined } | { plan?: undefined; candidates: Candidate[]; nearestMiss: string };

export interface PlanInput {
  pipeline: Pipeline;
  catalog: Catalog;
  profile: Profile;
  profilePath: string | null;
  limits: Limits;
  solver: SolverBackend;
}

/**
 * Prices every grouping on every node type, then chooses the cheapest candidate that meets the limits
 * by solving a 0-1 ILP: one binary per candidate, exactly one chosen, each candidate's resource use
 * within its node's allocatable, its makespan within the deadline, its cost within the budget and each
 * task within its max_runtime. Ties in cost go to the faster candidate, then to the earlier one.
 */
export async function makePlan(input: PlanInput): Promise<PlanResult> {
  const { pipeline, catalog, profile, limits, solver } = input;
  const evaluations = evaluateCandidates(pipeline, catalog, profile);
  const maxRuntimes = new Map(pipeline.tasks.filter((task) => task.maxRuntimeSeconds !== undefined).map((task) => [task.name, task.maxRuntimeSeconds!]));
  const candidates = evaluations.map((evaluation) => toCandidate(evaluation, limits, maxRuntimes));

  const model = buildModel(evaluations, limits, maxRuntimes);
  const solution = await solver.solve(model);
  const chosenIndex = solution.status === 'optimal' ? [...solution.values].findIndex(([, value]) => value > 0.5) : -1;
  const chosenVariable = chosenIndex >= 0 ? [...solution.values.keys()][chosenIndex]! : undefined;
  const index = chosenVariable === undefined ? -1 : Number(chosenVariable.slice(1));

  const anyFeasible = candidates.some((candidate) => candidate.feasible);
  if (index < 0) {
    if (anyFeasible) throw new Error(`${solver.name} found no solution, but candidate ${candidates.findIndex((candidate) => candidate.feasible)} meets every limit`);
    return { candidates, nearestMiss: describeNearestMiss(candidates, limits) };
  }
  const chosen = candidates[index]!;
  if (!chosen.feasible) throw new Error(`${solver.name} chose candidate ${index}, which breaks a limit: ${chosen.reason}`);

  const evaluation = evaluations[index]!;
  const layout = planLayout(pipeline, evaluation);
  const plan: Plan = {
    version: 1,
    chosen,
    candidates,
    pipeline: { file: pipeline.file, sha256: sha256(pipeline.source), tasks: pipeline.tasks.map((task) => task.name) },
    catalog: { name: catalog.name, source: catalog.source, date: catalog.date },
    profile: input.profilePath,
    limits: { deadline_s: limits.deadlineSeconds ?? null, budget_usd: limits.budgetUsd ?? null },
    solver: { name: solver.name, status: solution.status },
    layout,
  };
  return { plan, candidates };
}

/** Hashes a pipeline's source so that `ptk apply` can tell when the file changed after planning. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function toCandidate(evaluation: Evaluation, limits: Limits, maxRuntimes: Map<string, number>): Candidate {
  const reasons = reasonsFor(evaluation, limits, maxRuntimes);
  const blocked = evaluation.blocked.length > 0;
  return {
    grouping: evaluation.grouping,
    same_as: evaluation.sameAs,
    machine_type: evaluation.node.machineType,
    accelerator: evaluation.node.accelerator,
    nodes: evaluation.nodes,
    time_s: blocked ? null : round(evaluation.timeSeconds, 3),
    cost_usd: blocked ? null : round(evaluation.costUsd, 6),
    feasible: reasons.length === 0,
    reason: reasons.length === 0 ? null : reasons.join('; '),
    estimated: evaluation.taskTimes.some((time) => time.basis === 'estimated'),
    task_times: evaluation.taskTimes.map((time) => ({ ...time, seconds: round(time.seconds, 3) })),
    cpu_fallback: evaluation.taskTimes.filter((time) => time.cpuFallback).map((time) => time.task),
    price_per_hour_usd: round(evaluation.pricePerHour, 6),
  };
}

/** Lists why a candidate is not acceptable, in the order blocked, resources, max_runtime, deadline, budget. */
function reasonsFor(evaluation: Evaluation, limits: Limits, maxRuntimes: Map<string, number>): string[] {
  if (evaluation.blocked.length > 0) return [...evaluation.blocked];
  const reasons: string[] = [];

  const misfit = describeMisfit(evaluation);
  if (misfit) reasons.push(misfit);
  for (const time of evaluation.taskTimes) {
    const limit = maxRuntimes.get(time.task);
    if (limit !== undefined && time.seconds > limit) {
      reasons.push(`${time.task} takes ${describeDuration(time.seconds)}, above its max_runtime of ${describeDuration(limit)}`);
    }
  }
  if (limits.deadlineSeconds !== undefined && evaluation.timeSeconds > limits.deadlineSeconds) {
    reasons.push(`takes ${describeDuration(evaluation.timeSeconds)}, above the deadline of ${describeDuration(limits.deadlineSeconds)}`);
  }
  if (limits.budgetUsd !== undefined && evaluation.costUsd > limits.budgetUsd) {
    reasons.push(`costs $${formatUsd(evaluation.costUsd)}, above the budget of $${formatUsd(limits.budgetUsd)}`);
  }
  return reasons;
}

/** Builds the 0-1 ILP whose optimum is the chosen candidate. Variable `x<i>` selects candidate i. */
export function buildModel(evaluations: Evaluation[], limits: Limits, maxRuntimes: Map<string, number>): LinearModel {
  const variables = evaluations.map((_, index) => `x${index}`);
  const terms = (coefficient: (evaluation: Evaluation) => number): Term[] =>
    evaluations.map((evaluation, index) => ({ variable: variables[index]!, coefficient: evaluation.blocked.length > 0 ? 0 : coefficient(evaluation) }));

  const constraints: Constraint[] = [
    { name: 'choose_one', terms: variables.map((variable) => ({ variable, coefficient: 1 })), lower: 1, upper: 1 },
    // Exactly one candidate is chosen, so Σ (use − capacity) × x ≤ 0 means the chosen one fits its node.
    { name: 'cpu_fits', terms: terms((evaluation) => evaluation.use.cpu - evaluation.capacity.cpu), upper: 1e-9 },
    { name: 'memory_fits', terms: terms((evaluation) => (evaluation.use.memoryBytes - evaluation.capacity.memoryBytes) / 2 ** 30), upper: 0 },
    { name: 'gpus_fit', terms: terms((evaluation) => evaluation.use.gpus - evaluation.capacity.gpus), upper: 0 },
  ];
  if (limits.deadlineSeconds !== undefined) {
    constraints.push({ name: 'deadline', terms: terms((evaluation) => evaluation.timeSeconds), upper: limits.deadlineSeconds });
  }
  if (limits.budgetUsd !== undefined) {
    constraints.push({ name: 'budget', terms: terms((evaluation) => evaluation.costUsd), upper: limits.budgetUsd });
  }
  [...maxRuntimes].forEach(([task, seconds], index) => {
    const timeOf = (evaluation: Evaluation) => evaluation.taskTimes.find((time) => time.task === task)?.seconds ?? 0;
    constraints.push({ name: `max_runtime_${index}`, terms: terms(timeOf), upper: seconds });
  });

  // Cost in micro-dollars, then 0.1 µ$ per second of makespan and 0.1 n$ per position break ties.
  const objective = evaluations.map((evaluation, index) => ({
    variable: variables[index]!,
    coefficient: evaluation.blocked.length > 0 ? 0 : evaluation.costUsd * 1e6 + evaluation.timeSeconds * 1e-4 + index * 1e-7,
  }));
  const fixedToZero = variables.filter((_, index) => evaluations[index]!.blocked.length > 0);
  // Also a row, because a solver may reset the bounds of binary variables to [0, 1] (glpk.js does).
  if (fixedToZero.length > 0) constraints.push({ name: 'blocked', terms: fixedToZero.map((variable) => ({ variable, coefficient: 1 })), upper: 0 });
  return { objective, constraints, binaries: variables, fixedToZero };
}

/** Describes the candidate closest to meeting the limits, for the exit-3 message. */
function describeNearestMiss(candidates: Candidate[], limits: Limits): string {
  const priced = candidates.filter((candidate): candidate is Candidate & { time_s: number; cost_usd: number } => candidate.time_s !== null && candidate.cost_usd !== null);
  const onlyLimits = priced.filter((candidate) => (candidate.reason ?? '').split('; ').every((part) => /above the (deadline|budget)/.test(part)));

  if (onlyLimits.length > 0) {
    const parts: string[] = [];
    if (limits.deadlineSeconds !== undefined) {
      const fastest = onlyLimits.reduce((best, candidate) => (candidate.time_s < best.time_s ? candidate : best));
      parts.push(`fastest is ${describeDuration(fastest.time_s)} on ${describeCandidate(fastest)}; deadline is ${describeDuration(limits.deadlineSeconds)}`);
    }
    if (limits.budgetUsd !== undefined) {
      const cheapest = onlyLimits.reduce((best, candidate) => (candidate.cost_usd < best.cost_usd ? candidate : best));
      parts.push(`cheapest is $${formatUsd(cheapest.cost_usd)} on ${describeCandidate(cheapest)}; budget is $${formatUsd(limits.budgetUsd)}`);
    }
    const kinds = [limits.deadlineSeconds !== undefined ? 'faster' : '', limits.budgetUsd !== undefined ? 'cheaper' : ''].filter(Boolean).join(' or ');
    return `no plan meets the limits: ${parts.join('; and ')}. Relax the limit${parts.length > 1 ? 's' : ''}, or add ${kinds} node types to the catalog`;
  }

  const first = candidates.find((candidate) => candidate.reason) ?? candidates[0];
  return `no candidate can run this pipeline; for example ${first ? `${describeCandidate(first)}: ${first.reason}` : 'the catalog has no node types'}`;
}

/** Names a candidate for people: `one-container on n1-standard-1 with 1 × nvidia-tesla-t4`. */
export function describeCandidate(candidate: Pick<Candidate, 'grouping' | 'machine_type' | 'accelerator'>): string {
  return `${candidate.grouping} on ${describeNode({ machineType: candidate.machine_type, accelerator: candidate.accelerator })}`;
}

export function describeNode(node: NodeType): string {
  return node.accelerator ? `${node.machineType} with ${node.accelerator.count} × ${node.accelerator.name}` : node.machineType;
}

/**
 * Returns the chosen grouping's pods and channels as the manifests will create them: GPU requests are
 * dropped from containers whose tasks run on CPU because the node has no GPU.
 */
function planLayout(pipeline: Pipeline, evaluation: Evaluation): { pods: PodSpec[]; channels: Channel[] } {
  const grouping = evaluation.layout as Grouping;
  const fallback = new Set(evaluation.taskTimes.filter((time) => time.cpuFallback).map((time) => time.task));
  const pods = grouping.pods.map((pod) => ({
    ...pod,
    containers: pod.containers.map((container) => {
      const resources = plainResources(container.resources);
      if (container.tasks.some((task) => fallback.has(task))) {
        delete resources.gpuRequest;
        delete resources.gpuLimit;
      }
      return { ...container, tasks: [...container.tasks], resources };
    }),
  }));
  return { pods, channels: channelsFor(pipeline, grouping) };
}

function plainResources(resources: Resources): Resources {
  const plain: Resources = {};
  for (const [field, quantity] of Object.entries(resources) as [keyof Resources, Quantity | undefined][]) {
    if (quantity) plain[field] = { text: quantity.text, value: quantity.value };
  }
  return plain;
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Formats dollars with three significant digits, the precision the plan table shows. */
export function formatUsd(value: number): string {
  if (value === 0) return '0';
  if (value >= 100) return value.toFixed(2);
  return Number(value.toPrecision(3)).toString();
}
