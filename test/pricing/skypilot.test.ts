import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { parseCatalogJson } from '../../pricing/catalog.ts';
import { parseCatalogCsv } from '../../pricing/csv.ts';
import { makeGcpUsWest1 } from '../../pricing/scripts/make-gcp-us-west1.ts';
import { importSkyPilotCsv } from '../../pricing/skypilot.ts';
import type { Catalog } from '../../pricing/types.ts';
import { inputErrorMessage } from '../support/errors.ts';

const header = 'InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice';

const sample = [
  '# date: 2026-04-02',
  header,
  'n1-standard-1,1.0,3.75,,,,us-west1,us-west1-a,0.0475,0.01507',
  'n1-standard-1,1.0,3.75,,,,us-west1,us-west1-b,0.0475,0.01507',
  'n1-standard-2,2.0,7.5,,,,us-west1,us-west1-a,0.095,0.03',
  'n1-standard-2,2.0,7.5,,,,us-west1,us-west1-b,0.096,0.031',
  'g2-standard-24,24.0,96.0,,,,us-west1,us-west1-a,0.88075,0.35242',
  'a3-ultragpu-8g,224.0,2952.0,,,,us-west1,us-west1-c,12.266,4.32813',
  `,,,T4,1,"{'Gpus': [{'MemoryInfo': {'SizeInMiB': 16384}}]}",us-west1,us-west1-a,0.35,0.1579`,
  `,,,T4,4,"{'Gpus': [{'MemoryInfo': {'SizeInMiB': 16384}}]}",us-west1,us-west1-a,1.4,0.6316`,
  ',,,P4,1,{},us-central1,us-central1-a,0.6,0.3',
  ',,,P4,2,{},us-central1,us-central1-a,1.2,',
  ',,,L4,2,{},us-west1,us-west1-a,1.12008,0.4462',
  ',,,tpu-v6e-1,1,tpu-v6e-1,us-west1,us-west1-c,2.7,0.5',
  ',,,H200,8,{},us-west1,us-west1-c,80,30',
].join('\n');

test('SkyPilot file through parseCatalogCsv', () => {
  const expected: Catalog = {
    name: 'vms',
    provider: 'gcp',
    region: 'us-west1',
    currency: 'USD',
    source: [
      'SkyPilot GCP VM catalog catalogs/vms.csv, us-west1 rows',
      '1 machine type priced differently across zones, the highest zone price used',
      'node prices of machine types with built-in GPUs include the GPUs',
      'skipped machine types whose built-in GPUs have no price or GKE name here: a3-ultragpu-8g',
      'no us-west1 rows, so priced from other regions: nvidia-tesla-p4 from us-central1',
      'skipped accelerators without a GKE GPU name: H200, TPUs',
    ].join('; '),
    date: '2026-04-02',
    clusterFeePerHour: 0.1,
    reservation: 'gke',
    machines: [
      // 0.88075 + 2 × 0.56004 on demand, 0.35242 + 2 × 0.2231 spot: two L4s are built in.
      { name: 'g2-standard-24', vcpus: 24, memoryGiB: 96, onDemandPerHour: 2.00083, spotPerHour: 0.79862, cpuSpeed: 1, builtInAccelerator: { name: 'nvidia-l4', count: 2 } },
      { name: 'n1-standard-1', vcpus: 1, memoryGiB: 3.75, onDemandPerHour: 0.0475, spotPerHour: 0.01507, cpuSpeed: 1 },
      { name: 'n1-standard-2', vcpus: 2, memoryGiB: 7.5, onDemandPerHour: 0.096, spotPerHour: 0.031, cpuSpeed: 1 },
    ],
    accelerators: [
      { name: 'nvidia-tesla-t4', onDemandPerHour: 0.35, spotPerHour: 0.1579, counts: [1, 4], attachTo: ['n1-*'] },
      // One P4 row has no spot price, so the accelerator has none.
      { name: 'nvidia-tesla-p4', onDemandPerHour: 0.6, counts: [1, 2], attachTo: ['n1-*'] },
    ],
  };
  assert.equal(parseCatalogCsv(sample, 'catalogs/vms.csv'), expected);
});

test('options override metadata and filter', () => {
  const catalog = importSkyPilotCsv(sample, 'vms.csv', {
    name: 'small',
    source: 'test rows',
    clusterFeePerHour: 0,
    reservation: 'none',
    machineTypes: ['n1-standard-1'],
    acceleratorNames: ['nvidia-tesla-t4'],
  });
  assert.equal(catalog, {
    name: 'small',
    provider: 'gcp',
    region: 'us-west1',
    currency: 'USD',
    source: 'test rows',
    date: '2026-04-02',
    clusterFeePerHour: 0,
    reservation: 'none',
    machines: [{ name: 'n1-standard-1', vcpus: 1, memoryGiB: 3.75, onDemandPerHour: 0.0475, spotPerHour: 0.01507, cpuSpeed: 1 }],
    accelerators: [{ name: 'nvidia-tesla-t4', onDemandPerHour: 0.35, spotPerHour: 0.1579, counts: [1, 4], attachTo: ['n1-*'] }],
  });
});

test('g1-small has no built-in GPUs', () => {
  const text = ['# date: 2026-04-02', header, 'g1-small,1.0,1.69921875,,,,us-west1,us-west1-a,0.0257,0.00237'].join('\n');
  assert.equal(importSkyPilotCsv(text, 'g1.csv').machines, [
    { name: 'g1-small', vcpus: 1, memoryGiB: 1.69921875, onDemandPerHour: 0.0257, spotPerHour: 0.00237, cpuSpeed: 1 },
  ]);
});

test('several regions need a region line', () => {
  const text = [header, 'n1-standard-1,1,3.75,,,,us-west1,us-west1-a,0.0475,', 'n1-standard-1,1,3.75,,,,us-east1,us-east1-b,0.0475,'].join('\n');
  assert.is(
    inputErrorMessage(() => importSkyPilotCsv(text, 'two.csv')),
    [
      'two.csv:1:1: missing "# date: ..." line — SkyPilot catalogs carry no date, and a catalog states when its prices were taken; add "# date: YYYY-MM-DD" (the day the file was downloaded) above the header',
      'two.csv:1:1: several regions in one file (us-east1, us-west1) — a catalog covers one region; add a "# region: <name>" line above the header',
    ].join('\n'),
  );
  assert.is(importSkyPilotCsv(`# date: 2026-04-02\n# region: us-east1\n${text}`, 'two.csv').region, 'us-east1');
  assert.is(
    inputErrorMessage(() => importSkyPilotCsv(`# date: 2026-04-02\n# region: europe-west4\n${text}`, 'two.csv')),
    'two.csv:1:1: no machine rows for region europe-west4 — the file has machine rows for us-east1, us-west1; choose one of them',
  );
});

test('bad rows at their line and column', () => {
  const text = [
    '# date: 2026-04-02',
    header,
    'n1-standard-1,1,3.75,,,,us-west1,us-west1-a,0.0475,',
    'n1-standard-1,2,3.75,,,,us-west1,us-west1-b,0.0475,',
    'n1-standard-2,2,7.5,,,,us-west1,us-west1-a,$0.095,',
    'n1-standard-4,4,15,,,,us-west1,us-west1-a,,',
    'n1-standard-8,8,30,,,,us-west1',
    ',,,T4,0,{},us-west1,us-west1-a,0.35,',
  ].join('\n');
  assert.is(
    inputErrorMessage(() => importSkyPilotCsv(text, 'bad.csv', { machineTypes: ['n1-standard-1', 'n1-standard-2', 'n1-standard-4', 'n1-standard-16'] })),
    [
      'bad.csv:1:1: machine types not in the file for us-west1 (n1-standard-16) — only machine types with rows in the region can be kept; check the names or the region',
      'bad.csv:4:15: n1-standard-1 has 2 vCPU and 3.75 GiB here but 1 vCPU and 3.75 GiB at line 3 — a machine type has one shape in every zone; fix the row',
      'bad.csv:5:44: invalid Price ("$0.095") — it must be a price in USD per hour; write a plain number such as 0.0475, without a currency sign or unit',
      'bad.csv:6:43: missing Price — a price in USD per hour is needed on every row that is imported; fill it in',
      'bad.csv:7:23: row has 7 fields but the header has 10 — each row has one field per column; add the missing commas, or quote a field that contains a comma',
      'bad.csv:8:7: invalid AcceleratorCount (0) — an accelerator count per node is a whole number of 1 or more; give the number of devices, such as 1',
    ].join('\n'),
  );
});

test('missing SkyPilot columns', () => {
  assert.is(
    inputErrorMessage(() => importSkyPilotCsv('# date: 2026-04-02\nInstanceType,AcceleratorName,Price\nn1-standard-1,,0.0475', 'short.csv')),
    'short.csv:2:1: missing SkyPilot columns (vCPUs, MemoryGiB, AcceleratorCount, Region, AvailabilityZone, SpotPrice) — a SkyPilot VM catalog header is InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice; add them',
  );
});

test('embedded catalog matches its generator', () => {
  const csv = readFileSync(fileURLToPath(new URL('../../pricing/data/gcp-vms-us-west1.csv', import.meta.url)), 'utf8');
  const jsonPath = fileURLToPath(new URL('../../pricing/catalogs/gcp-us-west1.json', import.meta.url));
  assert.equal(parseCatalogJson(readFileSync(jsonPath, 'utf8'), jsonPath), makeGcpUsWest1(csv));
});

test.run();
