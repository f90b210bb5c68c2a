import type { SourceLocation } from './errors.ts';

/** Kind of link that carries a producer's return value to a consumer. */
export type ChannelKind = 'direct' | 'IPC' | 'Volume' | 'PVC';

/** Channel kinds that a user can declare with `output={'type': ...}`. */
export type DeclaredChannelKind = 'IPC' | 'Volume' | 'PVC';

/** A Kubernetes quantity as written by the user, with its value in base units (cores, bytes, devices). */
export interface Quantity {
  text: string;
  value: number;
  /** Source location where the user wrote it, for error messages. */
  location?: SourceLocation;
}

/** Requests and limits of one task or container. Absent fields were not set by the user. */
export interface Resources {
  cpuRequest?: Quantity;
  cpuLimit?: Quantity;
  memoryRequest?: Quantity;
  memoryLimit?: Quantity;
  gpuRequest?: Quantity;
  gpuLimit?: Quantity;
}

/** The channel a producer declared for its return value. */
export interface OutputSpec {
  type: DeclaredChannelKind;
  size?: Quantity;
  location: SourceLocation;
}

/** One decorated function of the user's program. */
export interface Task {
  /** Task name: `name=` of `@task`, else the function name. Inputs refer to tasks by this name. */
  name: string;
  functionName: string;
  /** DNS-1123 label made from `name`, used for Kubernetes object and container names. */
  kubeName: string;
  location: SourceLocation;
  parameters: string[];
  /** Producer task names, one per parameter that receives a value, in parameter order. */
  inputs: string[];
  output?: OutputSpec;
  /** Requests and limits from `@task`, merged with those of its `@container` when it has one. */
  resources: Resources;
  replicas: number;
  maxRuntimeSeconds?: number;
  /** `name=` of the function's `@container`, when it has one. */
  containerName?: string;
  /** `name=` of the function's `@pod`, when it has one. */
  podName?: string;
}

/** A dependency: `from` produces the value that `to` receives as `parameter`. */
export interface Edge {
  from: string;
  to: string;
  parameter: string;
}

/** A container of a grouping and the tasks it runs one after another, in dependency order. */
export interface ContainerSpec {
  name: string;
  kubeName: string;
  tasks: string[];
  /** Requests and limits of the container as Kubernetes will see them. */
  resources: Resources;
}

/** A pod of a grouping: its containers start together and share the pod's volumes. */
export interface PodSpec {
  name: string;
  kubeName: string;
  containers: ContainerSpec[];
  replicas: number;
}

export type GroupingKind = 'annotated' | 'pod-per-task' | 'one-pod' | 'one-container';

/** One way to place the tasks into containers and pods. */
export interface Grouping {
  kind: GroupingKind;
  pods: PodSpec[];
}

/** Link that carries one edge's data in a given grouping. */
export interface Channel {
  from: string;
  to: string;
  parameter: string;
  kind: ChannelKind;
  /** The kind the producer declared, when it differs from `kind` because the grouping makes it invalid. */
  declared?: DeclaredChannelKind;
  size?: Quantity;
}

/** A validated pipeline: its tasks in dependency order, their edges and the user's own grouping. */
export interface Pipeline {
  /** Path of the Python file as the user gave it. */
  file: string;
  source: string;
  tasks: Task[];
  edges: Edge[];
  annotated: Grouping;
}
