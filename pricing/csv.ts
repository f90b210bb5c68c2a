import { InputError, sortProblems, type Problem } from '../core/errors.ts';
import { defaultCatalogNameOf, readCsvMetadata } from './csv-metadata.ts';
import { readCsv, type CsvField, type CsvRecord } from './csv-reader.ts';
import {
  checkPatternSyntax,
  countRule,
  cpuSpeedRule,
  matchesPattern,
  memoryRule,
  priceRule,
  readNumberField,
  vcpusRule,
  type NumberRule,
} from './rules.ts';
import { importSkyPilotRecords, isSkyPilotHeader } from './skypilot.ts';
import type { AcceleratorType, Catalog, MachineType } from './types.ts';

/** Columns of ptk's price CSV. The header names them in any order. */
export const priceCsvColumns = {
  required: ['provider', 'region', 'machine_type', 'vcpus', 'memory_gib', 'accelerator_name', 'accelerator_count', 'on_demand_per_hour'],
  optional: ['spot_per_hour', 'attach_to', 'cpu_speed'],
} as const;

type Column = (typeof priceCsvColumns.required)[number] | (typeof priceCsvColumns.optional)[number];

const allColumns: readonly Column[] = [...priceCsvColumns.required, ...priceCsvColumns.optional];

/**
 * Parses a price CSV into a catalog. The file is either ptk's format (see `priceCsvColumns`) or SkyPilot's
 * GCP `vms.csv` format, which the header identifies.
 *
 * In ptk's format, a row with a machine_type and no accelerator_name is a machine type. A row with an
 * accelerator_name and no machine_type is an attachable accelerator, priced per device, and the rows of one
 * accelerator give its counts. A row with both is a machine type with a built-in accelerator, priced per
 * node. Leading `# key: value` lines set source, date, cluster_fee_per_hour and reservation (all required)
 * and name (default: the file's base name).
 * @throws InputError listing every problem of the file, each at the line and column of the field.
 */
export function parseCatalogCsv(text: string, file: string): Catalog {
  const document = readCsv(text, file);
  const problems = [...document.problems];
  const header = document.records[0];

  if (!header) {
    problems.push({
      location: { file, line: 1, column: 1 },
      message: `missing header line — a price CSV starts with the column names ${allColumns.join(',')} (the last three optional); add that line above the rows`,
    });
    throw new InputError(sortProblems(problems));
  }
  if (isSkyPilotHeader(header)) return importSkyPilotRecords(document, file, {});

  const metadata = readCsvMetadata(document.metadata, file, ['name', 'source', 'date', 'cluster_fee_per_hour', 'reservation'], ['source', 'date', 'cluster_fee_per_hour', 'reservation'], problems);
  const columns = readHeader(header, file, problems);
  if (!columns) throw new InputError(sortProblems(problems));

  const builder = new CatalogBuilder(file, columns, problems);
  for (const record of document.records.slice(1)) builder.addRecord(record, header.fields.length);
  const { provider, region, machines, accelerators } = builder.finish();

  if (problems.length > 0) throw new InputError(sortProblems(problems));
  return {
    name: metadata.name ?? defaultCatalogNameOf(file),
    provider: provider!,
    region: region!,
    currency: 'USD',
    source: metadata.source!,
    date: metadata.date!,
    clusterFeePerHour: metadata.clusterFeePerHour!,
    reservation: metadata.reservation!,
    machines,
    accelerators,
  };
}

/** Maps each column to its index; returns undefined when a required column is missing or a name is wrong. */
function readHeader(header: CsvRecord, file: string, problems: Problem[]): Map<Column, number> | undefined {
  const columns = new Map<Column, number>();
  let valid = true;

  header.fields.forEach((field, index) => {
    const at = { file, line: field.line, column: field.column };
    if (!(allColumns as readonly string[]).includes(field.text)) {
      problems.push({ location: at, message: `unknown column (${JSON.stringify(field.text)}) — the columns are ${allColumns.join(', ')}; fix the name or remove the column` });
      valid = false;
    } else if (columns.has(field.text as Column)) {
      problems.push({ location: at, message: `duplicate column (${field.text}) — each column appears once; remove one of them` });
      valid = false;
    } else {
      columns.set(field.text as Column, index);
    }
  });

  const missing = priceCsvColumns.required.filter((column) => !columns.has(column));
  if (missing.length > 0) {
    problems.push({
      location: { file, line: header.line, column: 1 },
      message: `missing columns (${missing.join(', ')}) — the header needs ${priceCsvColumns.required.join(', ')}; add them, even where every row leaves them empty`,
    });
    valid = false;
  }
  return valid ? columns : undefined;
}

interface AcceleratorRows {
  accelerator: AcceleratorType;
  firstLine: number;
  attachToText: string;
  lineByCount: Map<number, number>;
}

/** Turns the data rows of a ptk price CSV into machine types and accelerators, collecting problems. */
class CatalogBuilder {
  private readonly firstValues = new Map<'provider' | 'region', { value: string; line: number }>();
  private readonly machines: MachineType[] = [];
  private readonly machineLines = new Map<string, number>();
  private readonly acceleratorRows = new Map<string, AcceleratorRows>();
  private readonly patternFields: Array<{ field: CsvField; pattern: string }> = [];

  constructor(
    private readonly file: string,
    private readonly columns: Map<Column, number>,
    private readonly problems: Problem[],
  ) {}

  addRecord(record: CsvRecord, headerWidth: number): void {
    if (record.fields.length !== headerWidth) {
      const last = record.fields[record.fields.length - 1]!;
      this.report(last, `row has ${record.fields.length} fields but the header has ${headerWidth} — each row has one field per column; add the missing commas, or quote a field that contains a comma`);
      return;
    }

    this.checkSame('provider', record);
    this.checkSame('region', record);

    const machineName = this.field(record, 'machine_type');
    const acceleratorName = this.field(record, 'accelerator_name');
    if (machineName && acceleratorName) this.addMachine(record, machineName, acceleratorName);
    else if (machineName) this.addMachine(record, machineName, undefined);
    else if (acceleratorName) this.addAccelerator(record, acceleratorName);
    else {
      this.problems.push({
        location: { file: this.file, line: record.line, column: 1 },
        message: 'row has neither machine_type nor accelerator_name — a row prices a machine type, an attachable accelerator, or a machine type with a built-in accelerator; fill in machine_type, accelerator_name or both',
      });
    }
  }

  finish() {
    for (const { field, pattern } of this.patternFields) {
      if (this.machines.some((machine) => matchesPattern(machine.name, pattern))) continue;
      this.report(field, `attach_to pattern ${JSON.stringify(pattern)} matches no machine type in this file — the accelerator could never be used; fix the pattern or add the machine type rows`);
    }
    if (this.machines.length === 0 && this.machineLines.size === 0) {
      this.problems.push({
        location: { file: this.file, line: 1, column: 1 },
        message: 'no machine types — a catalog needs at least one row with a machine_type to plan with; add one',
      });
    }
    return {
      provider: this.firstValues.get('provider')?.value,
      region: this.firstValues.get('region')?.value,
      machines: this.machines,
      accelerators: [...this.acceleratorRows.values()].map((rows) => rows.accelerator),
    };
  }

  private addMachine(record: CsvRecord, nameField: CsvField, acceleratorField: CsvField | undefined): void {
    const firstLine = this.machineLines.get(nameField.text);
    if (firstLine !== undefined) {
      this.report(nameField, `duplicate machine type (${nameField.text}) — line ${firstLine} already prices it, and each machine type has one row; remove or rename one of the rows`);
      return;
    }
    this.machineLines.set(nameField.text, record.line);

    const vcpus = this.requiredNumber(record, 'vcpus', vcpusRule, 'a machine row needs its vCPU count');
    const memoryGiB = this.requiredNumber(record, 'memory_gib', memoryRule, 'a machine row needs its memory in GiB');
    const onDemandPerHour = this.requiredNumber(record, 'on_demand_per_hour', priceRule, 'every row needs its on-demand price in USD per hour');
    const spotPerHour = this.optionalNumber(record, 'spot_per_hour', priceRule);
    const cpuSpeed = this.optionalNumber(record, 'cpu_speed', cpuSpeedRule) ?? 1;
    const attachTo = this.field(record, 'attach_to');
    if (attachTo) {
      this.report(attachTo, `attach_to on a machine row (${JSON.stringify(attachTo.text)}) — only attachable accelerator rows, which have no machine_type, take attach_to; leave it empty`);
    }

    let builtIn: MachineType['builtInAccelerator'];
    if (acceleratorField) {
      const count = this.requiredNumber(record, 'accelerator_count', countRule, 'a machine with a built-in accelerator needs the device count');
      if (count !== undefined) builtIn = { name: acceleratorField.text, count };
    } else {
      const count = this.field(record, 'accelerator_count');
      if (count) this.report(count, `accelerator_count without accelerator_name (${count.text}) — a count belongs to a named accelerator; fill in accelerator_name or clear the count`);
    }

    if (vcpus === undefined || memoryGiB === undefined || onDemandPerHour === undefined) return;
    if (acceleratorField && !builtIn) return;
    const machine: MachineType = { name: nameField.text, vcpus, memoryGiB, onDemandPerHour, cpuSpeed };
    if (spotPerHour !== undefined) machine.spotPerHour = spotPerHour;
    if (builtIn) machine.builtInAccelerator = builtIn;
    this.machines.push(machine);
  }

  private addAccelerator(record: CsvRecord, nameField: CsvField): void {
    for (const column of ['vcpus', 'memory_gib', 'cpu_speed'] as const) {
      const field = this.field(record, column);
      if (field) this.report(field, `${column} on an accelerator row (${field.text}) — a row without machine_type prices an attachable accelerator, which has no ${column}; leave it empty, or fill in machine_type for a machine with a built-in accelerator`);
    }
    const count = this.requiredNumber(record, 'accelerator_count', countRule, 'an accelerator row needs the device count per node');
    const onDemandPerHour = this.requiredNumber(record, 'on_demand_per_hour', priceRule, 'an accelerator row needs the on-demand price of one device in USD per hour');
    const spotPerHour = this.optionalNumber(record, 'spot_per_hour', priceRule);
    const attachToField = this.field(record, 'attach_to');
    if (!attachToField) {
      this.reportMissing(record, 'attach_to', 'an accelerator row names the machine types it attaches to, as ;-separated patterns such as n1-*; fill it in');
    }
    const attachTo = attachToField ? this.readPatterns(attachToField) : undefined;
    if (count === undefined || onDemandPerHour === undefined || !attachTo) return;

    const existing = this.acceleratorRows.get(nameField.text);
    if (!existing) {
      const accelerator: AcceleratorType = { name: nameField.text, onDemandPerHour, counts: [count], attachTo };
      if (spotPerHour !== undefined) accelerator.spotPerHour = spotPerHour;
      this.acceleratorRows.set(nameField.text, { accelerator, firstLine: record.line, attachToText: attachTo.join(';'), lineByCount: new Map([[count, record.line]]) });
      return;
    }
    this.mergeAcceleratorRow(existing, record, { count, onDemandPerHour, spotPerHour, attachTo });
  }

  /** Adds one more count of an accelerator; its price per device and its patterns must match the first row. */
  private mergeAcceleratorRow(
    rows: AcceleratorRows,
    record: CsvRecord,
    row: { count: number; onDemandPerHour: number; spotPerHour: number | undefined; attachTo: string[] },
  ): void {
    const name = rows.accelerator.name;
    const countLine = rows.lineByCount.get(row.count);
    if (countLine !== undefined) {
      this.report(this.field(record, 'accelerator_count')!, `duplicate row for ${name} with accelerator_count ${row.count} — line ${countLine} already has this count; remove one of the rows`);
      return;
    }
    let consistent = true;
    if (row.onDemandPerHour !== rows.accelerator.onDemandPerHour) {
      this.report(this.field(record, 'on_demand_per_hour')!, `on_demand_per_hour of ${name} (${row.onDemandPerHour}) differs from its row at line ${rows.firstLine} (${rows.accelerator.onDemandPerHour}) — an accelerator row's price is for one device, so it is the same on every row of that accelerator; make them equal`);
      consistent = false;
    }
    if (row.spotPerHour !== rows.accelerator.spotPerHour) {
      const field = this.field(record, 'spot_per_hour') ?? this.field(record, 'accelerator_name')!;
      this.report(field, `spot_per_hour of ${name} (${row.spotPerHour ?? 'empty'}) differs from its row at line ${rows.firstLine} (${rows.accelerator.spotPerHour ?? 'empty'}) — an accelerator row's price is for one device, so it is the same on every row of that accelerator; make them equal`);
      consistent = false;
    }
    if (row.attachTo.join(';') !== rows.attachToText) {
      this.report(this.field(record, 'attach_to')!, `attach_to of ${name} (${row.attachTo.join(';')}) differs from its row at line ${rows.firstLine} (${rows.attachToText}) — every row of one accelerator attaches to the same machine types; make them equal`);
      consistent = false;
    }
    if (!consistent) return;
    rows.lineByCount.set(row.count, record.line);
    rows.accelerator.counts.push(row.count);
    rows.accelerator.counts.sort((left, right) => left - right);
  }

  private readPatterns(field: CsvField): string[] | undefined {
    const patterns = field.text.split(';').map((pattern) => pattern.trim());
    let valid = true;
    for (const pattern of patterns) {
      const message = checkPatternSyntax('attach_to', pattern);
      if (message) {
        this.report(field, message);
        valid = false;
      } else {
        this.patternFields.push({ field, pattern });
      }
    }
    return valid ? patterns : undefined;
  }

  /** Checks that a column has one value across the file, since a catalog covers one provider and region. */
  private checkSame(column: 'provider' | 'region', record: CsvRecord): void {
    const field = this.field(record, column);
    if (!field) {
      this.reportMissing(record, column, `every row names its ${column}; fill it in`);
      return;
    }
    const first = this.firstValues.get(column);
    if (!first) {
      this.firstValues.set(column, { value: field.text, line: record.line });
    } else if (first.value !== field.text) {
      this.report(field, `${column} (${field.text}) differs from line ${first.line} (${first.value}) — a catalog covers one ${column}; split the file into one file per ${column}`);
    }
  }

  private requiredNumber(record: CsvRecord, column: Column, rule: NumberRule, requirement: string): number | undefined {
    const field = this.field(record, column);
    if (!field) {
      this.reportMissing(record, column, `${requirement}; fill it in`);
      return undefined;
    }
    return this.numberOf(field, column, rule);
  }

  private optionalNumber(record: CsvRecord, column: Column, rule: NumberRule): number | undefined {
    const field = this.field(record, column);
    return field ? this.numberOf(field, column, rule) : undefined;
  }

  private numberOf(field: CsvField, column: Column, rule: NumberRule): number | undefined {
    const { value, message } = readNumberField(column, field.text, rule);
    if (message) this.report(field, message);
    return value;
  }

  /** Returns the record's field for a column, or undefined when the column is absent or the field empty. */
  private field(record: CsvRecord, column: Column): CsvField | undefined {
    const index = this.columns.get(column);
    const field = index === undefined ? undefined : record.fields[index];
    return field && field.text !== '' ? field : undefined;
  }

  private reportMissing(record: CsvRecord, column: Column, requirement: string): void {
    const index = this.columns.get(column);
    const field = index === undefined ? undefined : record.fields[index];
    const location = { file: this.file, line: field?.line ?? record.line, column: field?.column ?? 1 };
    this.problems.push({ location, message: `missing ${column} — ${requirement}` });
  }

  private report(field: CsvField, message: string): void {
    this.problems.push({ location: { file: this.file, line: field.line, column: field.column }, message });
  }
}
