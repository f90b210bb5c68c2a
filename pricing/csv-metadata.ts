import path from 'node:path';

import type { Problem } from '../core/errors.ts';
import type { CsvMetadataLine } from './csv-reader.ts';
import { checkDate, checkNumberRange, checkReservation, notANumberMessage, parseNumberText, priceRule } from './rules.ts';
import type { ReservationRule } from './types.ts';

/** Catalog fields that a price CSV carries in its leading `# key: value` lines. */
export interface CsvCatalogMetadata {
  name?: string;
  source?: string;
  date?: string;
  clusterFeePerHour?: number;
  reservation?: ReservationRule;
  region?: string;
}

/** Metadata keys as written in the file, with the catalog field each one sets. */
const metadataKeys = {
  name: 'name',
  source: 'source',
  date: 'date',
  cluster_fee_per_hour: 'clusterFeePerHour',
  reservation: 'reservation',
  region: 'region',
} as const;

export type MetadataKey = keyof typeof metadataKeys;

const keyMeanings: Record<MetadataKey, string> = {
  name: 'the catalog name',
  source: 'the origin of the prices',
  date: 'the date the prices were taken (YYYY-MM-DD)',
  cluster_fee_per_hour: 'the cluster management fee in USD per hour (0.10 on GKE, 0 where there is none)',
  reservation: 'the allocatable reservation rule (gke or none)',
  region: 'the region whose rows to import',
};

/**
 * Reads the `# key: value` lines of a price CSV. Reports unknown and repeated keys, invalid values, and the
 * `required` keys that are missing.
 */
export function readCsvMetadata(
  lines: CsvMetadataLine[],
  file: string,
  allowed: MetadataKey[],
  required: MetadataKey[],
  problems: Problem[],
): CsvCatalogMetadata {
  const metadata: CsvCatalogMetadata = {};
  const seen = new Map<string, number>();

  for (const line of lines) {
    const at = { file, line: line.line, column: line.valueColumn };
    const key = line.key as MetadataKey;
    if (!(allowed as string[]).includes(line.key)) {
      problems.push({
        location: { file, line: line.line, column: 1 },
        message: `unknown metadata key (${line.key}) — the keys of this file are ${allowed.join(', ')}; fix the spelling, or write a free comment without "word:" at its start`,
      });
      continue;
    }
    const firstLine = seen.get(line.key);
    if (firstLine !== undefined) {
      problems.push({
        location: { file, line: line.line, column: 1 },
        message: `duplicate metadata key (${line.key}) — line ${firstLine} already sets it; remove one of the lines`,
      });
      continue;
    }
    seen.set(line.key, line.line);
    if (line.value === '') {
      problems.push({ location: at, message: `empty ${line.key} — the line gives ${keyMeanings[key]}; write it after the colon` });
      continue;
    }
    readValue(metadata, key, line.value, at, problems);
  }

  for (const key of required) {
    if (seen.has(key)) continue;
    problems.push({
      location: { file, line: 1, column: 1 },
      message: `missing "# ${key}: ..." line — ${keyMeanings[key]} is required, and a price CSV starts with # key: value lines for ${required.join(', ')}; add the line above the header`,
    });
  }
  return metadata;
}

function readValue(
  metadata: CsvCatalogMetadata,
  key: MetadataKey,
  value: string,
  at: Problem['location'] & object,
  problems: Problem[],
): void {
  if (key === 'cluster_fee_per_hour') {
    const fee = parseNumberText(value);
    const message = fee === undefined ? notANumberMessage(key, value, priceRule) : checkNumberRange(key, fee, priceRule);
    if (message) problems.push({ location: at, message });
    else metadata.clusterFeePerHour = fee;
    return;
  }
  if (key === 'reservation') {
    const message = checkReservation('reservation rule', value);
    if (message) problems.push({ location: at, message });
    else metadata.reservation = value as ReservationRule;
    return;
  }
  if (key === 'date') {
    const message = checkDate('date', value);
    if (message) problems.push({ location: at, message });
    else metadata.date = value;
    return;
  }
  metadata[metadataKeys[key]] = value;
}

/** Returns the catalog name of a file without a `# name:` line: its base name without the extension. */
export function defaultCatalogNameOf(file: string): string {
  return path.basename(file, path.extname(file));
}
