import type { MachineInfo } from '../core/machine.ts';
import type { Catalog } from './types.ts';

/** Name of the catalog that describes this machine. */
export const localCatalogName = 'local';

/**
 * Builds a catalog with one node type: this machine, free of charge and without a system reservation, so
 * that `ptk plan --catalog local` predicts a local run (the cheapest candidate is then the fastest).
 * A GPU on this machine is not offered: local runs give containers no GPU.
 */
export function localCatalog(machine: MachineInfo, date: string): Catalog {
  return {
    name: localCatalogName,
    provider: 'local',
    region: 'this machine',
    currency: 'USD',
    source: `this machine as ptk saw it: ${machine.cpu_model}, ${machine.cores} cores`,
    date,
    clusterFeePerHour: 0,
    reservation: 'none',
    machines: [{ name: 'local', vcpus: machine.cores, memoryGiB: Math.floor((machine.memory_bytes / 2 ** 30) * 100) / 100, onDemandPerHour: 0, cpuSpeed: 1 }],
    accelerators: [],
  };
}
