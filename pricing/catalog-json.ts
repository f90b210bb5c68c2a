import { InputError, sortProblems, type Problem } from '../core/errors.ts';
import { parseJsonWithPositions, type JsonEntry, type JsonNode, type JsonPosition } from './json-source.ts';
import {
  checkDate,
  checkNumberRange,
  checkPatternSyntax,
  checkReservation,
  countRule,
  cpuSpeedRule,
  matchesPattern,
  memoryRule,
  notANumberMessage,
  priceRule,
  vcpusRule,
  type NumberRule,
} from './rules.ts';
import type { AcceleratorType, Catalog, MachineType, ReservationRule } from './types.ts';

/** The version of the catalog JSON format that this ptk reads and writes. */
export const catalogFormatVersion = 1;

/**
 * Parses and validates catalog JSON text.
 * @throws InputError listing every problem of the file, each with its line and column.
 */
export function parseCatalogJson(text: string, file: string): Catalog {
  const root = parseJsonWithPositions(text, file);
  const checker = new CatalogChecker(file);
  const catalog = checker.readCatalog(root);
  if (checker.problems.length > 0 || !catalog) throw new InputError(sortProblems(checker.problems));
  return catalog;
}

const catalogFields = ['version', 'name', 'provider', 'region', 'currency', 'source', 'date', 'clusterFeePerHour', 'reservation', 'machines', 'accelerators'];
const machineFields = ['name', 'vcpus', 'memoryGiB', 'onDemandPerHour', 'spotPerHour', 'cpuSpeed', 'builtInAccelerator'];
const builtInFields = ['name', 'count'];
const acceleratorFields = ['name', 'onDemandPerHour', 'spotPerHour', 'counts', 'attachTo'];

/** Reads the catalog JSON tree into a Catalog and collects every problem on the way. */
class CatalogChecker {
  readonly problems: Problem[] = [];

  constructor(private readonly file: string) {}

  readCatalog(root: JsonNode): Catalog | undefined {
    if (root.kind !== 'object') {
      this.report(root.at, `invalid catalog (a JSON ${root.kind}) — a catalog file is one JSON object with version, name, region, machines and the other catalog fields; wrap them in { }`);
      return undefined;
    }
    const version = root.entries.find((entry) => entry.key === 'version');
    if (!version) {
      this.report(root.at, `missing version — a catalog file starts with "version": ${catalogFormatVersion}; add that field`);
    } else if (version.value.kind !== 'number' || version.value.value !== catalogFormatVersion) {
      // Other versions may name their fields differently, so their fields are not checked against this one.
      this.report(version.value.at, `unsupported catalog version (${this.show(version.value)}) — this ptk reads version ${catalogFormatVersion}; convert the file or update ptk`);
      return undefined;
    }
    const fields = this.fieldsOf(root, '', catalogFields);

    const name = this.requiredString(root, fields, 'name', 'the catalog name (such as gcp-us-west1)');
    const provider = this.requiredString(root, fields, 'provider', 'the cloud provider (such as gcp)');
    const region = this.requiredString(root, fields, 'region', 'the region of the prices (such as us-west1)');
    const source = this.requiredString(root, fields, 'source', 'the origin of the prices');
    const date = this.requiredString(root, fields, 'date', 'the date the prices were taken (YYYY-MM-DD)');
    if (date !== undefined) this.check(fields.get('date')!.value.at, checkDate('date', date));

    const currency = fields.get('currency');
    if (currency && !(currency.value.kind === 'string' && currency.value.value === 'USD')) {
      this.report(currency.value.at, `unsupported currency (${this.show(currency.value)}) — ptk compares prices in USD only; convert the prices to USD and write "USD"`);
    }

    const clusterFeePerHour = this.requiredNumber(root, fields, 'clusterFeePerHour', priceRule, 'the cluster management fee in USD per hour');
    const reservation = this.requiredString(root, fields, 'reservation', 'the allocatable reservation rule (gke or none)');
    if (reservation !== undefined) this.check(fields.get('reservation')!.value.at, checkReservation('reservation rule', reservation));

    const machines = this.readMachines(root, fields.get('machines'));
    const accelerators = this.readAccelerators(fields.get('accelerators'), machines);

    if (this.problems.length > 0) return undefined;
    return {
      name: name!,
      provider: provider!,
      region: region!,
      currency: 'USD',
      source: source!,
      date: date!,
      clusterFeePerHour: clusterFeePerHour!,
      reservation: reservation as ReservationRule,
      machines,
      accelerators,
    };
  }

  private readMachines(root: JsonNode, entry: JsonEntry | undefined): MachineType[] {
    if (!entry) {
      this.report(root.at, 'missing machines — a catalog lists its machine types in "machines": [ ... ]; add the list');
      return [];
    }
    if (entry.value.kind !== 'array') {
      this.report(entry.value.at, `invalid machines (${this.show(entry.value)}) — machines is an array of machine type objects; write [ { "name": ..., ... } ]`);
      return [];
    }
    if (entry.value.items.length === 0) {
      this.report(entry.value.at, 'no machine types (machines is empty) — a catalog needs at least one machine type to plan with; add one');
    }

    const machines: MachineType[] = [];
    const firstIndexByName = new Map<string, number>();
    entry.value.items.forEach((item, index) => {
      const label = `machines[${index}]`;
      if (item.kind !== 'object') {
        this.report(item.at, `invalid ${label} (${this.show(item)}) — each machine type is an object with name, vcpus, memoryGiB and onDemandPerHour; write it as { ... }`);
        return;
      }
      const fields = this.fieldsOf(item, label, machineFields);
      const name = this.requiredString(item, fields, 'name', 'the machine type name (such as n1-standard-2)', label);
      const vcpus = this.requiredNumber(item, fields, 'vcpus', vcpusRule, 'the vCPU count', label);
      const memoryGiB = this.requiredNumber(item, fields, 'memoryGiB', memoryRule, 'the memory size in GiB', label);
      const onDemandPerHour = this.requiredNumber(item, fields, 'onDemandPerHour', priceRule, 'the on-demand price in USD per hour', label);
      const spotPerHour = this.optionalNumber(fields, 'spotPerHour', priceRule, label);
      const cpuSpeed = this.optionalNumber(fields, 'cpuSpeed', cpuSpeedRule, label) ?? 1;
      const builtInAccelerator = this.readBuiltIn(fields.get('builtInAccelerator'), label);

      if (name !== undefined) {
        const first = firstIndexByName.get(name);
        if (first !== undefined) {
          this.report(fields.get('name')!.value.at, `duplicate machine type name (${name}) — machines[${first}] already has this name, and each machine type appears once; remove or rename one of them`);
        } else {
          firstIndexByName.set(name, index);
        }
      }
      if (name === undefined || vcpus === undefined || memoryGiB === undefined || onDemandPerHour === undefined) return;

      const machine: MachineType = { name, vcpus, memoryGiB, onDemandPerHour, cpuSpeed };
      if (spotPerHour !== undefined) machine.spotPerHour = spotPerHour;
      if (builtInAccelerator) machine.builtInAccelerator = builtInAccelerator;
      machines.push(machine);
    });
    return machines;
  }

  private readBuiltIn(entry: JsonEntry | undefined, machineLabel: string): MachineType['builtInAccelerator'] {
    if (!entry) return undefined;
    const label = `${machineLabel}.builtInAccelerator`;
    if (entry.value.kind !== 'object') {
      this.report(entry.value.at, `invalid ${label} (${this.show(entry.value)}) — it is an object { "name": ..., "count": ... }; write it so or remove it`);
      return undefined;
    }
    const fields = this.fieldsOf(entry.value, label, builtInFields);
    const name = this.requiredString(entry.value, fields, 'name', 'the accelerator name (such as nvidia-l4)', label);
    const count = this.requiredNumber(entry.value, fields, 'count', countRule, 'the device count', label);
    return name === undefined || count === undefined ? undefined : { name, count };
  }

  private readAccelerators(entry: JsonEntry | undefined, machines: MachineType[]): AcceleratorType[] {
    if (!entry) return [];
    if (entry.value.kind !== 'array') {
      this.report(entry.value.at, `invalid accelerators (${this.show(entry.value)}) — accelerators is an array of accelerator objects; write [ { "name": ..., ... } ] or remove the field`);
      return [];
    }

    const accelerators: AcceleratorType[] = [];
    const firstIndexByName = new Map<string, number>();
    entry.value.items.forEach((item, index) => {
      const label = `accelerators[${index}]`;
      if (item.kind !== 'object') {
        this.report(item.at, `invalid ${label} (${this.show(item)}) — each accelerator is an object with name, onDemandPerHour, counts and attachTo; write it as { ... }`);
        return;
      }
      const fields = this.fieldsOf(item, label, acceleratorFields);
      const name = this.requiredString(item, fields, 'name', "GKE's accelerator name (such as nvidia-tesla-t4)", label);
      const onDemandPerHour = this.requiredNumber(item, fields, 'onDemandPerHour', priceRule, 'the on-demand price of one device in USD per hour', label);
      const spotPerHour = this.optionalNumber(fields, 'spotPerHour', priceRule, label);
      const counts = this.readCounts(item, fields.get('counts'), label);
      const attachTo = this.readAttachTo(item, fields.get('attachTo'), label, machines);

      if (name !== undefined) {
        const first = firstIndexByName.get(name);
        if (first !== undefined) {
          this.report(fields.get('name')!.value.at, `duplicate accelerator name (${name}) — accelerators[${first}] already has this name, and each accelerator appears once with all its counts; merge the two entries`);
        } else {
          firstIndexByName.set(name, index);
        }
      }
      if (name === undefined || onDemandPerHour === undefined || !counts || !attachTo) return;

      const accelerator: AcceleratorType = { name, onDemandPerHour, counts, attachTo };
      if (spotPerHour !== undefined) accelerator.spotPerHour = spotPerHour;
      accelerators.push(accelerator);
    });
    return accelerators;
  }

  private readCounts(owner: JsonNode, entry: JsonEntry | undefined, acceleratorLabel: string): number[] | undefined {
    const label = `${acceleratorLabel}.counts`;
    if (!entry) {
      this.report(owner.at, `missing ${label} — an accelerator lists the device counts one node can carry, such as [1, 2, 4]; add the list`);
      return undefined;
    }
    if (entry.value.kind !== 'array' || entry.value.items.length === 0) {
      this.report(entry.value.at, `invalid ${label} (${this.show(entry.value)}) — counts is a non-empty array of device counts, such as [1, 2, 4]; write it so`);
      return undefined;
    }
    const counts: number[] = [];
    for (const item of entry.value.items) {
      const count = this.numberValue(item, `${label} item`, countRule);
      if (count === undefined) continue;
      if (counts.includes(count)) {
        this.report(item.at, `duplicate ${label} item (${count}) — each count appears once; remove the repeat`);
        continue;
      }
      counts.push(count);
    }
    return counts.length === entry.value.items.length ? counts : undefined;
  }

  private readAttachTo(owner: JsonNode, entry: JsonEntry | undefined, acceleratorLabel: string, machines: MachineType[]): string[] | undefined {
    const label = `${acceleratorLabel}.attachTo`;
    if (!entry) {
      this.report(owner.at, `missing ${label} — an accelerator names the machine types it attaches to, such as ["n1-*"]; add the list`);
      return undefined;
    }
    if (entry.value.kind !== 'array' || entry.value.items.length === 0) {
      this.report(entry.value.at, `invalid ${label} (${this.show(entry.value)}) — attachTo is a non-empty array of machine type patterns, such as ["n1-*"]; write it so`);
      return undefined;
    }
    const patterns: string[] = [];
    for (const item of entry.value.items) {
      if (item.kind !== 'string') {
        this.report(item.at, `invalid ${label} item (${this.show(item)}) — a pattern is a string such as "n1-*"; quote it`);
        continue;
      }
      const syntaxProblem = checkPatternSyntax(label, item.value);
      if (syntaxProblem) {
        this.report(item.at, syntaxProblem);
        continue;
      }
      if (machines.length > 0 && !machines.some((machine) => matchesPattern(machine.name, item.value))) {
        this.report(item.at, `${label} pattern ${JSON.stringify(item.value)} matches no machine type of this catalog — the accelerator could never be used with it; fix the pattern or add the machine types`);
        continue;
      }
      patterns.push(item.value);
    }
    return patterns.length === entry.value.items.length ? patterns : undefined;
  }

  /** Indexes an object's entries by key and reports unknown and repeated keys. */
  private fieldsOf(node: JsonNode & { kind: 'object' }, label: string, allowed: string[]): Map<string, JsonEntry> {
    const fields = new Map<string, JsonEntry>();
    for (const entry of node.entries) {
      const fullName = label ? `${label}.${entry.key}` : entry.key;
      if (!allowed.includes(entry.key)) {
        this.report(entry.keyAt, `unknown field ${JSON.stringify(fullName)} — the fields here are ${allowed.join(', ')}; fix the spelling or remove it`);
      } else if (fields.has(entry.key)) {
        this.report(entry.keyAt, `duplicate field ${JSON.stringify(fullName)} — each field appears once; remove one of them`);
      } else {
        fields.set(entry.key, entry);
      }
    }
    return fields;
  }

  private requiredString(owner: JsonNode, fields: Map<string, JsonEntry>, key: string, meaning: string, label = ''): string | undefined {
    const fullName = label ? `${label}.${key}` : key;
    const entry = fields.get(key);
    if (!entry) {
      this.report(owner.at, `missing ${fullName} — ${meaning} is required; add the field`);
      return undefined;
    }
    if (entry.value.kind !== 'string' || entry.value.value.trim() === '') {
      this.report(entry.value.at, `invalid ${fullName} (${this.show(entry.value)}) — ${meaning} is a non-empty string; write it in double quotes`);
      return undefined;
    }
    return entry.value.value;
  }

  private requiredNumber(owner: JsonNode, fields: Map<string, JsonEntry>, key: string, rule: NumberRule, meaning: string, label = ''): number | undefined {
    const fullName = label ? `${label}.${key}` : key;
    const entry = fields.get(key);
    if (!entry) {
      this.report(owner.at, `missing ${fullName} — ${meaning} is required; add the field`);
      return undefined;
    }
    return this.numberValue(entry.value, fullName, rule);
  }

  private optionalNumber(fields: Map<string, JsonEntry>, key: string, rule: NumberRule, label: string): number | undefined {
    const entry = fields.get(key);
    return entry ? this.numberValue(entry.value, `${label}.${key}`, rule) : undefined;
  }

  private numberValue(node: JsonNode, label: string, rule: NumberRule): number | undefined {
    if (node.kind !== 'number') {
      const message = notANumberMessage(label, this.show(node), rule);
      this.report(node.at, node.kind === 'string' ? `${message}, and without quotes` : message);
      return undefined;
    }
    const rangeProblem = checkNumberRange(label, node.value, rule);
    if (rangeProblem) {
      this.report(node.at, rangeProblem);
      return undefined;
    }
    return node.value;
  }

  private show(node: JsonNode): string {
    switch (node.kind) {
      case 'string':
        return JSON.stringify(node.value);
      case 'number':
        return String(node.value);
      case 'boolean':
        return String(node.value);
      case 'null':
        return 'null';
      default:
        return `a JSON ${node.kind}`;
    }
  }

  private check(at: JsonPosition, message: string | undefined): void {
    if (message) this.report(at, message);
  }

  private report(at: JsonPosition, message: string): void {
    this.problems.push({ location: { file: this.file, line: at.line, column: at.column }, message });
  }
}
