import type { Channel, GroupingKind, PodSpec } from '../core/types.ts';

/** A node type: a machine type with the accelerators attached to it, or none. */
export interface NodeType {
  machineType: string;
  accelerator: { name: string; count: number } | null;
}

/** The predicted time of one task in one candidate. */
export interface TaskTime {
  task: string;
  seconds: number;
  /** `measured` when the profile has a sample on this machine type and accelerator; else how it was estimated. */
  basis: 'measured' | 'estimated';
  note?: string;
  /** True when the task requests a GPU but runs on CPU here because the node has none. */
  cpuFallback?: boolean;
}

/** One priced way to run the pipeline: a grouping on a node type. Field names are the plan file's JSON names. */
export interface Candidate {
  grouping: GroupingKind;
  /** Set when this grouping places the tasks exactly as another canonical grouping does. */
  same_as: GroupingKind | null;
  machine_type: string;
  accelerator: { name: string; count: number } | null;
  nodes: number;
  /** Predicted makespan in seconds, or null when a task's time cannot be predicted on this node. */
  time_s: number | null;
  /** Predicted cost of one run in USD, or null with `time_s`. */
  cost_usd: number | null;
  feasible: boolean;
  /** Reason the candidate breaks a limit, or null when it is feasible. */
  reason: string | null;
  /** True when any figure behind `time_s` is estimated rather than measured. */
  estimated: boolean;
  task_times: TaskTime[];
  /** Tasks that request a GPU but run on the CPU here, because the node has none. */
  cpu_fallback?: string[];
  price_per_hour_usd: number;
}

/** Limits that the chosen candidate must meet. */
export interface Limits {
  deadlineSeconds?: number;
  budgetUsd?: number;
}

/** The plan file `ptk.plan.json`: every candidate and the chosen one, with what `ptk apply` needs. */
export interface Plan {
  version: 1;
  chosen: Candidate;
  candidates: Candidate[];
  pipeline: {
    file: string;
    sha256: string;
    tasks: string[];
  };
  catalog: { name: string; source: string; date: string };
  profile: string | null;
  limits: { deadline_s: number | null; budget_usd: number | null };
  solver: { name: string; status: string };
  /** Pods and channels of the chosen grouping, as the manifests will create them. */
  layout: { pods: PodSpec[]; channels: Channel[] };
}
