// Writes the embedded catalog pricing/catalogs/gcp-us-west1.json from the us-west1 slice of SkyPilot's GCP VM
// catalog in pricing/data/gcp-vms-us-west1.csv, whose .source.md records where the rows came from.
// Run from the repository root: node --import tsx pricing/scripts/make-gcp-us-west1.ts
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseCatalogJson, stringifyCatalog } from '../catalog.ts';
import { importSkyPilotCsv } from '../skypilot.ts';
import type { Catalog } from '../types.ts';

const pricingFolder = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const inputPath = path.join(pricingFolder, 'data', 'gcp-vms-us-west1.csv');
const outputPath = path.join(pricingFolder, 'catalogs', 'gcp-us-west1.json');

/** The machine families that plans choose from; each must have rows in us-west1. */
const machineTypes = [
  'n1-standard-1', 'n1-standard-2', 'n1-standard-4', 'n1-standard-8', 'n1-standard-16',
  'n1-highmem-2', 'n1-highmem-4', 'n1-highmem-8', 'n1-highmem-16',
  'e2-standard-2', 'e2-standard-4', 'e2-standard-8', 'e2-standard-16',
  'n2-standard-2', 'n2-standard-4', 'n2-standard-8', 'n2-standard-16',
  'g2-standard-4', 'g2-standard-8',
  'a2-highgpu-1g', 'a2-highgpu-2g',
];

/** Builds the catalog from the CSV text; the test suite calls this to check the committed JSON. */
export function makeGcpUsWest1(csvText: string): Catalog {
  return importSkyPilotCsv(csvText, 'gcp-vms-us-west1.csv', {
    name: 'gcp-us-west1',
    region: 'us-west1',
    // The commit date of the catalog snapshot; its on-demand prices are unchanged in the newer commits seen.
    date: '2026-04-02',
    // GKE's cluster management fee: https://cloud.google.com/kubernetes-engine/pricing
    clusterFeePerHour: 0.1,
    reservation: 'gke',
    // NOTE: every machine type gets cpuSpeed 1 (the importer's default). It is a placeholder, not a
    // measurement: E2, N2, G2 and A2 cores are likely faster than N1 cores, so estimates scaled from an N1
    // profile understate their speed. The source string states this, too.
    source: [
      'SkyPilot-format GCP VM catalog (anycloud-sh/catalog gcp/vms.csv, commit 69b86f0, 2026-04-02), us-west1 rows',
      'cluster fee: GKE cluster management fee, 0.10 USD per cluster per hour',
      'cpuSpeed 1 on every machine type is a placeholder, not measured',
    ].join('; '),
    machineTypes,
    acceleratorNames: ['nvidia-tesla-t4', 'nvidia-tesla-v100', 'nvidia-tesla-p100'],
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const catalog = makeGcpUsWest1(readFileSync(inputPath, 'utf8'));
  const text = stringifyCatalog(catalog);
  parseCatalogJson(text, outputPath);
  writeFileSync(outputPath, text);
  process.stdout.write(`wrote ${path.relative(process.cwd(), outputPath)}: ${catalog.machines.length} machine types, ${catalog.accelerators.length} accelerators\n`);
}
