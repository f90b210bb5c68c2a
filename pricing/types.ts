/** A machine type that a node pool can use. Prices are USD per hour of one node. */
export interface MachineType {
  name: string;
  vcpus: number;
  memoryGiB: number;
  onDemandPerHour: number;
  spotPerHour?: number;
  /** CPU speed relative to the catalog's reference machine family (1 = same speed per core). */
  cpuSpeed: number;
  /** Accelerators that come with the machine type itself (A100 on a2-highgpu-1g), if any. */
  builtInAccelerator?: { name: string; count: number };
}

/** An accelerator that can be attached to some machine types. Prices are USD per hour of one device. */
export interface AcceleratorType {
  /** Kubernetes-facing name, as GKE's `cloud.google.com/gke-accelerator` label spells it (nvidia-tesla-t4). */
  name: string;
  onDemandPerHour: number;
  spotPerHour?: number;
  /** Device counts that can be attached to one node. */
  counts: number[];
  /** Machine type name patterns (`n1-*`) that this accelerator attaches to. */
  attachTo: string[];
}

/** How much of a node is left for pods after the system reservation. */
export type ReservationRule = 'gke' | 'none';

/** A priced list of node types in one region, with the cluster fee and where the prices came from. */
export interface Catalog {
  name: string;
  provider: string;
  region: string;
  currency: 'USD';
  /** Origin of the prices. `date` is when they were taken. */
  source: string;
  date: string;
  /** Cluster management fee, USD per hour, paid once per cluster. */
  clusterFeePerHour: number;
  reservation: ReservationRule;
  machines: MachineType[];
  accelerators: AcceleratorType[];
}

/** Resources of a node that pods can request, after the reservation rule. */
export interface Allocatable {
  cpu: number;
  memoryBytes: number;
  gpus: number;
}
