import Table from 'cli-table3';

import { allocatable } from '../pricing/allocatable.ts';
import { loadCatalog, stringifyCatalog } from '../pricing/catalog.ts';
import { canAttach } from '../pricing/rules.ts';
import type { Catalog, MachineType } from '../pricing/types.ts';
import type { CommandResult } from './result.ts';

export interface PricingOptions {
  /** An embedded catalog name or the path of a .json or .csv file; default: the default embedded catalog. */
  catalog?: string;
  /** Print the catalog as catalog JSON instead of tables. */
  json?: boolean;
  cwd: string;
}

/**
 * Lists the node types of a catalog: shape, allocatable resources, accelerators and prices, with a header
 * that names the catalog's region, source, date and cluster fee.
 * @throws InputError when the catalog cannot be found or is invalid.
 */
export async function pricing(options: PricingOptions): Promise<CommandResult> {
  const catalog = await loadCatalog(options.catalog, options.cwd);
  if (options.json) return { stdout: stringifyCatalog(catalog), exitCode: 0 };
  return { stdout: renderPricing(catalog), exitCode: 0 };
}

/** Renders the catalog as a header and two tables: machine types, then attachable accelerators. */
export function renderPricing(catalog: Catalog): string {
  const reservation =
    catalog.reservation === 'gke' ? "after GKE's node reservation and eviction threshold" : 'the whole machine (no reservation)';
  const header = [
    `Catalog ${catalog.name}: ${catalog.provider} ${catalog.region}, prices in USD per hour, taken ${catalog.date}`,
    `Source: ${catalog.source}`,
    `Cluster management fee: ${catalog.clusterFeePerHour} USD per hour. Allocatable resources: ${reservation}.`,
  ];

  const machines = newTable(['machine type', 'vCPUs', 'memory GiB', 'allocatable CPU', 'allocatable memory GiB', 'accelerator', 'on-demand $/h', 'spot $/h']);
  for (const machine of catalog.machines) {
    const resources = allocatable(machine, null, catalog.reservation);
    machines.push([
      machine.name,
      machine.vcpus,
      machine.memoryGiB,
      resources.cpu,
      (resources.memoryBytes / 1024 ** 3).toFixed(2),
      describeAccelerators(machine, catalog),
      machine.onDemandPerHour,
      machine.spotPerHour ?? '—',
    ]);
  }
  const sections = [header.join('\n'), machines.toString()];

  if (catalog.accelerators.length > 0) {
    const accelerators = newTable(['attachable accelerator', 'counts per node', 'attaches to', 'on-demand $/h per device', 'spot $/h per device']);
    for (const accelerator of catalog.accelerators) {
      accelerators.push([accelerator.name, accelerator.counts.join(', '), accelerator.attachTo.join(', '), accelerator.onDemandPerHour, accelerator.spotPerHour ?? '—']);
    }
    sections.push(accelerators.toString());
  }
  return `${sections.join('\n\n')}\n`;
}

/** Describes a machine type's built-in accelerator, or the accelerators that attach to it, one per line. */
function describeAccelerators(machine: MachineType, catalog: Catalog): string {
  if (machine.builtInAccelerator) return `${machine.builtInAccelerator.name} × ${machine.builtInAccelerator.count} (built in)`;
  const attachable = catalog.accelerators.filter((accelerator) => canAttach(accelerator, machine.name));
  if (attachable.length === 0) return '—';
  return attachable.map((accelerator) => `${accelerator.name} × ${accelerator.counts.join('/')} (attachable)`).join('\n');
}

/** Creates a table without colours, so that the output reads the same in a terminal, a file and a test. */
function newTable(head: string[]) {
  return new Table({ head, style: { head: [], border: [] } });
}
