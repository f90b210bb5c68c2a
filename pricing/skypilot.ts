import { InputError, sortProblems, type Problem } from '../core/errors.ts';
import { defaultCatalogNameOf, readCsvMetadata, type CsvCatalogMetadata } from './csv-metadata.ts';
import { readCsv, type CsvDocument, type CsvField, type CsvRecord } from './csv-reader.ts';
import {
  countRule,
  memoryRule,
  priceRule,
  readNumberField,
  vcpusRule,
  type NumberRule,
} from './rules.ts';
import type { AcceleratorType, Catalog, MachineType, ReservationRule } from './types.ts';

/** The header of SkyPilot's GCP VM catalog (`vms.csv`). Prices are USD per hour, one row per zone. */
export const skyPilotColumns = ['InstanceType', 'vCPUs', 'MemoryGiB', 'AcceleratorName', 'AcceleratorCount', 'GpuInfo', 'Region', 'AvailabilityZone', 'Price', 'SpotPrice'] as const;

type SkyPilotColumn = (typeof skyPilotColumns)[number];

/**
 * SkyPilot's GPU names mapped to the names GKE puts in the `cloud.google.com/gke-accelerator` node label,
 * which are Compute Engine's accelerator type names. Rows of other accelerators (TPUs, and GPUs missing
 * here) are skipped, and the catalog's source lists them.
 */
export const gkeAcceleratorNames: Record<string, string> = {
  T4: 'nvidia-tesla-t4',
  V100: 'nvidia-tesla-v100',
  P100: 'nvidia-tesla-p100',
  P4: 'nvidia-tesla-p4',
  L4: 'nvidia-l4',
  A100: 'nvidia-tesla-a100',
  'A100-80GB': 'nvidia-a100-80gb',
  H100: 'nvidia-h100-80gb',
  'H100-MEGA': 'nvidia-h100-mega-80gb',
};

/** GPUs that Compute Engine attaches to N1 machine types; the others come built into a machine family. */
const attachableToN1 = ['T4', 'V100', 'P100', 'P4'];

/** The GPU model built into each accelerator-optimized series whose machine type names end in the GPU count. */
const gpuOfFamily: Record<string, string> = {
  'a2-highgpu': 'A100',
  'a2-megagpu': 'A100',
  'a2-ultragpu': 'A100-80GB',
  'a3-highgpu': 'H100',
  'a3-edgegpu': 'H100',
  'a3-megagpu': 'H100-MEGA',
};

/**
 * Returns the GPUs built into an accelerator-optimized machine type, by SkyPilot name, or undefined for a
 * machine type without GPUs. Throws nothing: an accelerator-optimized name missing here is reported by the
 * caller. G2 counts: g2-standard-24 has 2 L4s, -48 has 4, -96 has 8, and every other size has 1.
 * NOTE: these G2 counts are not checked against Compute Engine's table of G2 machine types.
 */
function builtInGpusOf(machineName: string): { skyPilotName: string; count: number } | undefined {
  const withCount = /^(a2-highgpu|a2-megagpu|a2-ultragpu|a3-highgpu|a3-edgegpu|a3-megagpu)-(\d+)g$/.exec(machineName);
  if (withCount) {
    return { skyPilotName: gpuOfFamily[withCount[1]!]!, count: Number(withCount[2]) };
  }
  const g2 = /^g2-standard-(\d+)$/.exec(machineName);
  if (g2) return { skyPilotName: 'L4', count: ({ 24: 2, 48: 4, 96: 8 } as Record<string, number>)[g2[1]!] ?? 1 };
  return undefined;
}

/**
 * Accelerator-optimized machine families (A2 and later, G2 and later), whose SkyPilot VM price leaves out the
 * built-in GPUs. G1 is an old shared-core family without GPUs.
 */
const acceleratorOptimized = /^(a\d+x?|g[2-9]\d*)-/;

/** Catalog fields to set instead of the file's `# key: value` lines, and which machine types to keep. */
export interface SkyPilotImportOptions extends CsvCatalogMetadata {
  /** Keep only these machine types; each must be in the file for the region. */
  machineTypes?: string[];
  /** Keep only these attachable accelerators, by GKE name; default: every one the file prices. */
  acceleratorNames?: string[];
}

/** Tells whether a CSV header is SkyPilot's VM catalog header. */
export function isSkyPilotHeader(header: CsvRecord): boolean {
  const names = header.fields.map((field) => field.text);
  return names.includes('InstanceType') && names.includes('AcceleratorName');
}

/**
 * Imports SkyPilot's GCP `vms.csv` for one region.
 *
 * The region is `options.region`, else a `# region:` line, else the only region that has machine rows.
 * Rows repeat per zone: a machine type or accelerator whose price differs between zones gets the highest
 * zone price, so that plans never understate the cost, and the source states how many differed. A GPU row's
 * price is for `AcceleratorCount` devices, so the price per device is Price / AcceleratorCount (the highest
 * over the counts). T4, V100, P100 and P4 become accelerators attachable to `n1-*`. Machine types of the
 * A2, A3 and G2 families get their built-in GPUs, and their node price adds the GPUs' price, because
 * SkyPilot prices those VMs without the GPUs. A GPU without rows in the region is priced from the other
 * regions' rows, which the source names. Defaults: provider gcp, GKE's cluster fee of 0.10 USD per hour
 * (https://cloud.google.com/kubernetes-engine/pricing), reservation gke, cpuSpeed 1. A date must be given,
 * because SkyPilot's file carries none.
 * @throws InputError listing every problem found, each at the line and column of the field.
 */
export function importSkyPilotCsv(text: string, file: string, options: SkyPilotImportOptions = {}): Catalog {
  return importSkyPilotRecords(readCsv(text, file), file, options);
}

/** Imports the records of an already split SkyPilot CSV; see `importSkyPilotCsv`. */
export function importSkyPilotRecords(document: CsvDocument, file: string, options: SkyPilotImportOptions): Catalog {
  const problems = [...document.problems];
  const fileMetadata = readCsvMetadata(document.metadata, file, ['name', 'source', 'date', 'cluster_fee_per_hour', 'reservation', 'region'], [], problems);
  const metadata: CsvCatalogMetadata = { ...fileMetadata, ...withoutUndefined(options) };
  if (metadata.date === undefined) {
    problems.push({
      location: { file, line: 1, column: 1 },
      message: 'missing "# date: ..." line — SkyPilot catalogs carry no date, and a catalog states when its prices were taken; add "# date: YYYY-MM-DD" (the day the file was downloaded) above the header',
    });
  }

  const reader = new SkyPilotRows(document, file, problems);
  if (!reader.valid) throw new InputError(sortProblems(problems));
  const region = reader.chooseRegion(metadata.region);
  if (region === undefined) throw new InputError(sortProblems(problems));

  const notes: string[] = [];
  const machines = reader.machines(region, options.machineTypes, notes);
  const accelerators = reader.attachableAccelerators(region, machines, options.acceleratorNames);
  reader.noteGpuSources(region, notes, options.machineTypes === undefined);
  if (problems.length > 0) throw new InputError(sortProblems(problems));

  const baseSource = metadata.source ?? `SkyPilot GCP VM catalog ${file}, ${region} rows`;
  return {
    name: metadata.name ?? defaultCatalogNameOf(file),
    provider: 'gcp',
    region,
    currency: 'USD',
    source: [baseSource, ...notes].join('; '),
    date: metadata.date!,
    clusterFeePerHour: metadata.clusterFeePerHour ?? 0.1,
    reservation: metadata.reservation ?? ('gke' satisfies ReservationRule),
    machines,
    accelerators,
  };
}

/** Per-device GPU prices by SkyPilot name, with the counts one node can carry. */
interface GpuPrice {
  onDemandPerHour: number;
  spotPerHour?: number;
  counts: number[];
}

/** Rounds a price to 1e-6 USD, which removes the binary noise of sums and quotients. */
function roundPrice(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

/** Lists up to five names, then how many more there are. */
function listNames(names: string[]): string {
  const firstNames = names.slice(0, 5).join(', ');
  return names.length > 5 ? `${firstNames} and ${names.length - 5} more` : firstNames;
}

/** The data rows of a SkyPilot CSV, read lazily: only the rows that end up in the catalog are validated. */
class SkyPilotRows {
  readonly valid: boolean;
  private readonly columns = new Map<SkyPilotColumn, number>();
  private readonly rows: CsvRecord[];
  private readonly gpuPrices = new Map<string, GpuPrice | undefined>();
  private readonly gpuFallbacks: string[] = [];

  constructor(
    document: CsvDocument,
    private readonly file: string,
    private readonly problems: Problem[],
  ) {
    const header = document.records[0]!;
    header.fields.forEach((field, index) => {
      if ((skyPilotColumns as readonly string[]).includes(field.text)) this.columns.set(field.text as SkyPilotColumn, index);
    });
    const missing = skyPilotColumns.filter((column) => column !== 'GpuInfo' && !this.columns.has(column));
    if (missing.length > 0) {
      problems.push({
        location: { file, line: header.line, column: 1 },
        message: `missing SkyPilot columns (${missing.join(', ')}) — a SkyPilot VM catalog header is ${skyPilotColumns.join(',')}; add them`,
      });
    }
    this.rows = document.records.slice(1).filter((record) => {
      if (record.fields.length === header.fields.length) return true;
      const last = record.fields[record.fields.length - 1]!;
      this.report(last, `row has ${record.fields.length} fields but the header has ${header.fields.length} — each row has one field per column; add the missing commas, or quote a field that contains a comma`);
      return false;
    });
    this.valid = missing.length === 0;
  }

  chooseRegion(requested: string | undefined): string | undefined {
    const machineRegions = [...new Set(this.rows.filter((row) => this.text(row, 'InstanceType') !== '').map((row) => this.text(row, 'Region')))].sort();
    if (requested !== undefined) {
      if (machineRegions.includes(requested)) return requested;
      this.problems.push({
        location: { file: this.file, line: 1, column: 1 },
        message: `no machine rows for region ${requested} — the file has machine rows for ${machineRegions.join(', ') || 'no region'}; choose one of them`,
      });
      return undefined;
    }
    if (machineRegions.length === 1) return machineRegions[0];
    this.problems.push({
      location: { file: this.file, line: 1, column: 1 },
      message: `several regions in one file (${listNames(machineRegions) || 'none with machine rows'}) — a catalog covers one region; add a "# region: <name>" line above the header`,
    });
    return undefined;
  }

  /**
   * Returns the per-device price of a GPU by SkyPilot name, from the region's rows, or else from the rows of
   * every other region. Only GPUs that the catalog uses are read, so a broken row of another GPU is not reported.
   */
  private gpuPrice(skyPilotName: string, region: string): GpuPrice | undefined {
    if (this.gpuPrices.has(skyPilotName)) return this.gpuPrices.get(skyPilotName);

    const ofGpu = this.rows.filter((row) => this.text(row, 'InstanceType') === '' && this.text(row, 'AcceleratorName') === skyPilotName);
    let chosen = ofGpu.filter((row) => this.text(row, 'Region') === region);
    if (chosen.length === 0 && ofGpu.length > 0) {
      chosen = ofGpu;
      const otherRegions = [...new Set(ofGpu.map((row) => this.text(row, 'Region')))].sort();
      this.gpuFallbacks.push(`${gkeAcceleratorNames[skyPilotName]} from ${otherRegions.join(', ')}`);
    }
    const price = this.gpuPriceOf(chosen);
    this.gpuPrices.set(skyPilotName, price);
    return price;
  }

  /** Returns the GPUs that attach to N1 machine types, when the catalog has any N1 machine type. */
  attachableAccelerators(region: string, machines: MachineType[], keep: string[] | undefined): AcceleratorType[] {
    if (!machines.some((machine) => machine.name.startsWith('n1-'))) return [];
    const accelerators: AcceleratorType[] = [];
    for (const skyPilotName of attachableToN1) {
      if (keep && !keep.includes(gkeAcceleratorNames[skyPilotName]!)) continue;
      const price = this.gpuPrice(skyPilotName, region);
      if (!price) continue;
      const accelerator: AcceleratorType = { name: gkeAcceleratorNames[skyPilotName]!, onDemandPerHour: price.onDemandPerHour, counts: price.counts, attachTo: ['n1-*'] };
      if (price.spotPerHour !== undefined) accelerator.spotPerHour = price.spotPerHour;
      accelerators.push(accelerator);
    }
    return accelerators;
  }

  /** Adds notes on GPUs priced from other regions and, when `noteSkipped` is set, on the region's accelerators left out. */
  noteGpuSources(region: string, notes: string[], noteSkipped: boolean): void {
    if (this.gpuFallbacks.length > 0) notes.push(`no ${region} rows, so priced from other regions: ${this.gpuFallbacks.join('; ')}`);
    if (!noteSkipped) return;

    const skipped = new Set<string>();
    for (const row of this.rows) {
      const name = this.text(row, 'AcceleratorName');
      if (this.text(row, 'InstanceType') !== '' || name === '' || this.text(row, 'Region') !== region) continue;
      if (!(name in gkeAcceleratorNames)) skipped.add(name.startsWith('tpu-') ? 'TPUs' : name);
    }
    if (skipped.size > 0) notes.push(`skipped accelerators without a GKE GPU name: ${[...skipped].sort().join(', ')}`);
  }

  private gpuPriceOf(rows: CsvRecord[]): GpuPrice | undefined {
    let onDemand: number | undefined;
    let spot: number | undefined;
    let spotMissing = false;
    const counts = new Set<number>();
    for (const row of rows) {
      const count = this.number(row, 'AcceleratorCount', countRule);
      const price = this.number(row, 'Price', priceRule);
      if (count === undefined || price === undefined) continue;
      counts.add(count);
      onDemand = Math.max(onDemand ?? 0, roundPrice(price / count));
      const spotPrice = this.optionalNumber(row, 'SpotPrice', priceRule);
      if (spotPrice === undefined) spotMissing = true;
      else spot = Math.max(spot ?? 0, roundPrice(spotPrice / count));
    }
    if (onDemand === undefined) return undefined;
    const price: GpuPrice = { onDemandPerHour: onDemand, counts: [...counts].sort((left, right) => left - right) };
    if (spot !== undefined && !spotMissing) price.spotPerHour = spot;
    return price;
  }

  /** Returns one machine type per instance type of the region, priced at its highest zone price. */
  machines(region: string, keep: string[] | undefined, notes: string[]): MachineType[] {
    const byName = new Map<string, { machine: MachineType; line: number; prices: Set<number> }>();
    const inRegion = new Set<string>();
    for (const row of this.rows) {
      const name = this.text(row, 'InstanceType');
      if (name === '' || this.text(row, 'Region') !== region) continue;
      inRegion.add(name);
      if (keep && !keep.includes(name)) continue;
      this.addMachineRow(row, name, byName);
    }

    const missing = (keep ?? []).filter((name) => !inRegion.has(name));
    if (missing.length > 0) {
      this.problems.push({
        location: { file: this.file, line: 1, column: 1 },
        message: `machine types not in the file for ${region} (${missing.join(', ')}) — only machine types with rows in the region can be kept; check the names or the region`,
      });
    }

    const machines: MachineType[] = [];
    const withoutGpuPrice: string[] = [];
    for (const { machine } of byName.values()) {
      if (this.addBuiltInGpus(machine, region)) machines.push(machine);
      else withoutGpuPrice.push(machine.name);
    }

    const differing = [...byName.values()].filter((entry) => entry.prices.size > 1).length;
    if (differing > 0) notes.push(`${differing} machine ${differing === 1 ? 'type' : 'types'} priced differently across zones, the highest zone price used`);
    if (machines.some((machine) => machine.builtInAccelerator)) notes.push('node prices of machine types with built-in GPUs include the GPUs');
    if (withoutGpuPrice.length > 0) notes.push(`skipped machine types whose built-in GPUs have no price or GKE name here: ${listNames(withoutGpuPrice.sort())}`);
    return machines.sort((left, right) => left.name.localeCompare(right.name, 'en', { numeric: true }));
  }

  private addMachineRow(row: CsvRecord, name: string, byName: Map<string, { machine: MachineType; line: number; prices: Set<number> }>): void {
    const vcpus = this.number(row, 'vCPUs', vcpusRule);
    const memoryGiB = this.number(row, 'MemoryGiB', memoryRule);
    const price = this.number(row, 'Price', priceRule);
    const spot = this.optionalNumber(row, 'SpotPrice', priceRule);
    if (vcpus === undefined || memoryGiB === undefined || price === undefined) return;

    const existing = byName.get(name);
    if (!existing) {
      const machine: MachineType = { name, vcpus, memoryGiB, onDemandPerHour: price, cpuSpeed: 1 };
      if (spot !== undefined) machine.spotPerHour = spot;
      byName.set(name, { machine, line: row.line, prices: new Set([price]) });
      return;
    }
    if (existing.machine.vcpus !== vcpus || existing.machine.memoryGiB !== memoryGiB) {
      this.report(this.field(row, 'vCPUs'), `${name} has ${vcpus} vCPU and ${memoryGiB} GiB here but ${existing.machine.vcpus} vCPU and ${existing.machine.memoryGiB} GiB at line ${existing.line} — a machine type has one shape in every zone; fix the row`);
      return;
    }
    existing.prices.add(price);
    existing.machine.onDemandPerHour = Math.max(existing.machine.onDemandPerHour, price);
    if (spot === undefined || existing.machine.spotPerHour === undefined) delete existing.machine.spotPerHour;
    else existing.machine.spotPerHour = Math.max(existing.machine.spotPerHour, spot);
  }

  /** Adds the built-in GPUs of an accelerator-optimized machine type; returns false when they cannot be priced. */
  private addBuiltInGpus(machine: MachineType, region: string): boolean {
    const builtIn = builtInGpusOf(machine.name);
    if (!builtIn) return !acceleratorOptimized.test(machine.name);
    const price = this.gpuPrice(builtIn.skyPilotName, region);
    if (!price) return false;

    machine.builtInAccelerator = { name: gkeAcceleratorNames[builtIn.skyPilotName]!, count: builtIn.count };
    machine.onDemandPerHour = roundPrice(machine.onDemandPerHour + builtIn.count * price.onDemandPerHour);
    if (machine.spotPerHour !== undefined && price.spotPerHour !== undefined) {
      machine.spotPerHour = roundPrice(machine.spotPerHour + builtIn.count * price.spotPerHour);
    } else {
      delete machine.spotPerHour;
    }
    return true;
  }

  private number(row: CsvRecord, column: SkyPilotColumn, rule: NumberRule): number | undefined {
    const field = this.field(row, column);
    if (field.text === '') {
      this.report(field, `missing ${column} — ${rule.description} is needed on every row that is imported; fill it in`);
      return undefined;
    }
    return this.parse(field, column, rule);
  }

  private optionalNumber(row: CsvRecord, column: SkyPilotColumn, rule: NumberRule): number | undefined {
    const field = this.field(row, column);
    return field.text === '' ? undefined : this.parse(field, column, rule);
  }

  private parse(field: CsvField, column: SkyPilotColumn, rule: NumberRule): number | undefined {
    const { value, message } = readNumberField(column, field.text, rule);
    if (message) this.report(field, message);
    return value;
  }

  private text(row: CsvRecord, column: SkyPilotColumn): string {
    return this.field(row, column).text;
  }

  private field(row: CsvRecord, column: SkyPilotColumn): CsvField {
    return row.fields[this.columns.get(column)!]!;
  }

  private report(field: CsvField, message: string): void {
    this.problems.push({ location: { file: this.file, line: field.line, column: field.column }, message });
  }
}
