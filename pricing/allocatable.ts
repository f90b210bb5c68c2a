import type { Allocatable, MachineType, ReservationRule } from './types.ts';

const mebibyte = 1024 ** 2;
const gibibyte = 1024 ** 3;

/**
 * GKE's node reservation for Standard clusters, from "Plan GKE Standard node sizes", section "Memory and CPU
 * reservations": https://cloud.google.com/kubernetes-engine/docs/concepts/plan-node-sizes#memory_and_cpu_reservations
 * Each tier reserves a fraction of the part of the machine that falls inside it.
 */
const cpuTiers: Array<{ upToCores: number; fraction: number }> = [
  { upToCores: 1, fraction: 0.06 },
  { upToCores: 2, fraction: 0.01 },
  { upToCores: 4, fraction: 0.005 },
  { upToCores: Infinity, fraction: 0.0025 },
];

const memoryTiers: Array<{ upToGiB: number; fraction: number }> = [
  { upToGiB: 4, fraction: 0.25 },
  { upToGiB: 8, fraction: 0.2 },
  { upToGiB: 16, fraction: 0.1 },
  { upToGiB: 128, fraction: 0.06 },
  { upToGiB: Infinity, fraction: 0.02 },
];

/** GKE reserves a flat 255 MiB instead of the tiers on machines with less than 1 GiB of memory. */
const smallMachineReservedBytes = 255 * mebibyte;

/** The kubelet's hard eviction threshold on GKE nodes (`memory.available<100Mi`), which pods cannot use either. */
const evictionThresholdBytes = 100 * mebibyte;

/**
 * Computes the resources of one node that pods can request.
 *
 * With `gke`, CPU and memory are reduced by GKE's documented reservation, and memory also by the eviction
 * threshold. With `none`, pods get the whole machine. CPU is in cores, rounded down to the millicore
 * that Kubernetes quantities can express; memory is in whole bytes, rounded down.
 * `accelerator` is the GPUs on the node, attached or built in; null means the machine type's built-in
 * accelerator, if it has one.
 *
 * NOTE: GKE documents other reservations that this does not model: a flat 1060m CPU on shared-core E2
 * machine types, extra memory for image streaming, and more CPU when max pods per node is above 110.
 *
 * @example allocatable(n1Standard1, null, 'gke') // { cpu: 0.94, memoryBytes: 2915041280, gpus: 0 }
 */
export function allocatable(
  machine: MachineType,
  accelerator: { name: string; count: number } | null,
  rule: ReservationRule,
): Allocatable {
  const gpus = accelerator?.count ?? machine.builtInAccelerator?.count ?? 0;
  const memoryBytes = machine.memoryGiB * gibibyte;
  if (rule === 'none') return { cpu: machine.vcpus, memoryBytes: Math.floor(memoryBytes), gpus };

  const reservedCpu = tieredReservation(machine.vcpus, cpuTiers.map((tier) => ({ upTo: tier.upToCores, fraction: tier.fraction })));
  const reservedMemoryBytes =
    memoryBytes < gibibyte
      ? smallMachineReservedBytes
      : tieredReservation(machine.memoryGiB, memoryTiers.map((tier) => ({ upTo: tier.upToGiB, fraction: tier.fraction }))) * gibibyte;

  return {
    cpu: Math.max(0, Math.floor((machine.vcpus - reservedCpu) * 1000 + 1e-6) / 1000),
    memoryBytes: Math.max(0, Math.floor(memoryBytes - reservedMemoryBytes - evictionThresholdBytes)),
    gpus,
  };
}

/** Sums, over the tiers, the tier's fraction of the part of `amount` that lies inside the tier. */
function tieredReservation(amount: number, tiers: Array<{ upTo: number; fraction: number }>): number {
  let reserved = 0;
  let lowerBound = 0;
  for (const tier of tiers) {
    if (amount <= lowerBound) break;
    reserved += (Math.min(amount, tier.upTo) - lowerBound) * tier.fraction;
    lowerBound = tier.upTo;
  }
  return reserved;
}
