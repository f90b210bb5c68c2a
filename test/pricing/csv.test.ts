import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { parseCatalogCsv } from '../../pricing/csv.ts';
import type { Catalog } from '../../pricing/types.ts';
import { inputErrorMessage } from '../support/errors.ts';

const header = 'provider,region,machine_type,vcpus,memory_gib,accelerator_name,accelerator_count,on_demand_per_hour,spot_per_hour,attach_to,cpu_speed';
const metadata = ['# source: hand-made', '# date: 2024-05-20', '# cluster_fee_per_hour: 0.1', '# reservation: gke'];

test('leaf sample prices', () => {
  const path = fileURLToPath(new URL('../../samples/leaf/prices.csv', import.meta.url));
  const expected: Catalog = {
    name: 'leaf-paper',
    provider: 'gcp',
    region: 'us-west1',
    currency: 'USD',
    source: "prices used by Nagiyev, Bajrovic and Benkner, 'Python to Kubernetes' (2024), Tables I and II; GCP us-west1-c",
    date: '2024-05-20',
    clusterFeePerHour: 0.101,
    reservation: 'gke',
    machines: [
      { name: 'n1-standard-1', vcpus: 1, memoryGiB: 3.75, onDemandPerHour: 0.0475, cpuSpeed: 1 },
      { name: 'n1-standard-2', vcpus: 2, memoryGiB: 7.5, onDemandPerHour: 0.095, cpuSpeed: 1 },
    ],
    accelerators: [{ name: 'nvidia-tesla-t4', onDemandPerHour: 0.355, counts: [1], attachTo: ['n1-*'] }],
  };
  assert.equal(parseCatalogCsv(readFileSync(path, 'utf8'), 'samples/leaf/prices.csv'), expected);
});

test('every row kind, quotes and free column order', () => {
  const text = [
    '\uFEFF# Prices typed in by hand',
    '# source: "hand-made, from the price page"',
    '# date: 2024-05-20',
    '# cluster_fee_per_hour: 0',
    '# reservation: none',
    '',
    'on_demand_per_hour,machine_type,provider,region,vcpus,memory_gib,accelerator_name,accelerator_count,attach_to,spot_per_hour,cpu_speed',
    '0.0475,"n1-standard-1",gcp,us-west1,1,3.75,,,,0.01507,',
    '0.70683,g2-standard-4,gcp,us-west1,4,16,nvidia-l4,1,,,1.25',
    '',
    '0.35,,gcp,us-west1,,,nvidia-tesla-t4,4,"n1-*; n2-standard-*",0.1579,',
    '0.35 , ,gcp,us-west1,,,nvidia-tesla-t4,1,n1-*;n2-standard-*,0.1579,',
    '0.09712,n2-standard-2,gcp,us-west1,2,8,,,,,',
  ].join('\r\n');
  const expected: Catalog = {
    name: 'mixed',
    provider: 'gcp',
    region: 'us-west1',
    currency: 'USD',
    source: '"hand-made, from the price page"',
    date: '2024-05-20',
    clusterFeePerHour: 0,
    reservation: 'none',
    machines: [
      { name: 'n1-standard-1', vcpus: 1, memoryGiB: 3.75, onDemandPerHour: 0.0475, spotPerHour: 0.01507, cpuSpeed: 1 },
      { name: 'g2-standard-4', vcpus: 4, memoryGiB: 16, onDemandPerHour: 0.70683, cpuSpeed: 1.25, builtInAccelerator: { name: 'nvidia-l4', count: 1 } },
      { name: 'n2-standard-2', vcpus: 2, memoryGiB: 8, onDemandPerHour: 0.09712, cpuSpeed: 1 },
    ],
    accelerators: [{ name: 'nvidia-tesla-t4', onDemandPerHour: 0.35, spotPerHour: 0.1579, counts: [1, 4], attachTo: ['n1-*', 'n2-standard-*'] }],
  };
  assert.equal(parseCatalogCsv(text, 'prices/mixed.csv'), expected);
});

test('quoted field with comma, quote and line break', () => {
  const text = [...metadata, header, 'gcp,us-west1,"n1-""odd"",\nname",1,3.75,,,0.0475,,,'].join('\n');
  assert.equal(parseCatalogCsv(text, 'quoted.csv').machines, [
    { name: 'n1-"odd",\nname', vcpus: 1, memoryGiB: 3.75, onDemandPerHour: 0.0475, cpuSpeed: 1 },
  ]);
});

test('bad values at their line and column', () => {
  const text = [
    '# source: hand-made',
    '# date: 2024-05-20',
    '# cluster_fee_per_hour: 0.1',
    '# reservation: eks',
    header,
    'gcp,us-west1,n1-standard-1,1,3.75,,,abc,,,',
    'gcp,us-west1,n1-standard-2,2,7.5,,,-0.095,,,',
    'gcp,us-west1,n1-standard-1,1,3.75,,,0.0475,,,',
    'gcp,us-west1,,,,nvidia-tesla-t4,1,0.355,,n2-*,',
    'gcp,us-east1,n1-standard-4,4,0,,,0.19,,,0',
  ].join('\n');
  assert.is(
    inputErrorMessage(() => parseCatalogCsv(text, 'bad.csv')),
    [
      'bad.csv:4:16: unknown reservation rule ("eks") — it must be gke (GKE\'s documented node reservation) or none (pods may use the whole machine); write one of them',
      'bad.csv:6:37: invalid on_demand_per_hour ("abc") — it must be a price in USD per hour; write a plain number such as 0.0475, without a currency sign or unit',
      'bad.csv:7:36: negative on_demand_per_hour (-0.095) — a price in USD per hour is 0 or more; fix the sign',
      'bad.csv:8:14: duplicate machine type (n1-standard-1) — line 6 already prices it, and each machine type has one row; remove or rename one of the rows',
      'bad.csv:9:42: attach_to pattern "n2-*" matches no machine type in this file — the accelerator could never be used; fix the pattern or add the machine type rows',
      'bad.csv:10:5: region (us-east1) differs from line 6 (us-west1) — a catalog covers one region; split the file into one file per region',
      'bad.csv:10:30: invalid memory_gib (0) — a memory size in GiB must be more than 0; give the real value, such as 15',
      'bad.csv:10:41: invalid cpu_speed (0) — a CPU speed relative to the reference family (1 = as fast per core) must be more than 0; give the real value, such as 1.0',
    ].join('\n'),
  );
});

test('bad header and missing metadata', () => {
  const text = ['# source: hand-made', 'provider,region,machine_type,vcpu,memory_gib,on_demand_per_hour,region', 'gcp,us-west1,n1,1,2,3,4'].join('\n');
  assert.is(
    inputErrorMessage(() => parseCatalogCsv(text, 'header.csv')),
    [
      'header.csv:1:1: missing "# date: ..." line — the date the prices were taken (YYYY-MM-DD) is required, and a price CSV starts with # key: value lines for source, date, cluster_fee_per_hour, reservation; add the line above the header',
      'header.csv:1:1: missing "# cluster_fee_per_hour: ..." line — the cluster management fee in USD per hour (0.10 on GKE, 0 where there is none) is required, and a price CSV starts with # key: value lines for source, date, cluster_fee_per_hour, reservation; add the line above the header',
      'header.csv:1:1: missing "# reservation: ..." line — the allocatable reservation rule (gke or none) is required, and a price CSV starts with # key: value lines for source, date, cluster_fee_per_hour, reservation; add the line above the header',
      'header.csv:2:1: missing columns (vcpus, accelerator_name, accelerator_count) — the header needs provider, region, machine_type, vcpus, memory_gib, accelerator_name, accelerator_count, on_demand_per_hour; add them, even where every row leaves them empty',
      'header.csv:2:30: unknown column ("vcpu") — the columns are provider, region, machine_type, vcpus, memory_gib, accelerator_name, accelerator_count, on_demand_per_hour, spot_per_hour, attach_to, cpu_speed; fix the name or remove the column',
      'header.csv:2:65: duplicate column (region) — each column appears once; remove one of them',
    ].join('\n'),
  );
});

test('missing header line', () => {
  assert.is(
    inputErrorMessage(() => parseCatalogCsv(metadata.join('\n'), 'empty.csv')),
    'empty.csv:1:1: missing header line — a price CSV starts with the column names provider,region,machine_type,vcpus,memory_gib,accelerator_name,accelerator_count,on_demand_per_hour,spot_per_hour,attach_to,cpu_speed (the last three optional); add that line above the rows',
  );
});

test('no machine rows', () => {
  const text = [...metadata, header, 'gcp,us-west1,,,,nvidia-tesla-t4,1,0.35,,n1-*,'].join('\n');
  assert.is(
    inputErrorMessage(() => parseCatalogCsv(text, 'gpus.csv')),
    [
      'gpus.csv:1:1: no machine types — a catalog needs at least one row with a machine_type to plan with; add one',
      'gpus.csv:6:41: attach_to pattern "n1-*" matches no machine type in this file — the accelerator could never be used; fix the pattern or add the machine type rows',
    ].join('\n'),
  );
});

test('metadata and row problems together', () => {
  const text = [
    '# name: "x"',
    '# source: s',
    '# date: 2024-02-30',
    '# cluster_fee_per_hour: $0.10',
    '# reservation: gke',
    '# reservation: none',
    '# owner: me',
    '# nothing here',
    '# source_url:',
    'provider,region,machine_type,vcpus,memory_gib,accelerator_name,accelerator_count,on_demand_per_hour,attach_to',
    'gcp,us-west1,,,,,,0.1,',
    'gcp,us-west1,n1-standard-1,1,3.75,,2,0.0475,n1-*',
    'gcp,us-west1,n1-standard-2,2,7.5,,,0.095',
    'gcp,us-west1,,4,,nvidia-tesla-t4,1,0.35,n1-*',
    'gcp,us-west1,,,,nvidia-tesla-t4,1,0.36,n1-*',
    'gcp,us-west1,,,,nvidia-tesla-t4,2,0.36,n1-standard-*',
    'gcp,us-west1,,,,nvidia-tesla-v100,,0.36,',
    'gcp,us-west1,"n1-highmem-2" x,2,13,,,0.1183,',
    'gcp,us-west1,n1-high"mem-4,4,26,,,0.23661,',
    'gcp,,n1-highmem-16,16,104,,,0.94642,n1 *',
    'gcp,us-west1,"n1-highmem-8,8,52,,,0.47321,',
  ].join('\n');
  assert.is(
    inputErrorMessage(() => parseCatalogCsv(text, 'rows.csv')),
    [
      'rows.csv:3:9: invalid date ("2024-02-30") — the date the prices were taken is written YYYY-MM-DD; write it as, for example, 2024-05-20',
      'rows.csv:4:25: invalid cluster_fee_per_hour ($0.10) — it must be a price in USD per hour; write a plain number such as 0.0475, without a currency sign or unit',
      'rows.csv:6:1: duplicate metadata key (reservation) — line 5 already sets it; remove one of the lines',
      'rows.csv:7:1: unknown metadata key (owner) — the keys of this file are name, source, date, cluster_fee_per_hour, reservation; fix the spelling, or write a free comment without "word:" at its start',
      'rows.csv:9:1: unknown metadata key (source_url) — the keys of this file are name, source, date, cluster_fee_per_hour, reservation; fix the spelling, or write a free comment without "word:" at its start',
      'rows.csv:11:1: row has neither machine_type nor accelerator_name — a row prices a machine type, an attachable accelerator, or a machine type with a built-in accelerator; fill in machine_type, accelerator_name or both',
      'rows.csv:12:36: accelerator_count without accelerator_name (2) — a count belongs to a named accelerator; fill in accelerator_name or clear the count',
      'rows.csv:12:45: attach_to on a machine row ("n1-*") — only attachable accelerator rows, which have no machine_type, take attach_to; leave it empty',
      'rows.csv:13:36: row has 8 fields but the header has 9 — each row has one field per column; add the missing commas, or quote a field that contains a comma',
      'rows.csv:14:15: vcpus on an accelerator row (4) — a row without machine_type prices an attachable accelerator, which has no vcpus; leave it empty, or fill in machine_type for a machine with a built-in accelerator',
      'rows.csv:15:33: duplicate row for nvidia-tesla-t4 with accelerator_count 1 — line 14 already has this count; remove one of the rows',
      'rows.csv:16:35: on_demand_per_hour of nvidia-tesla-t4 (0.36) differs from its row at line 14 (0.35) — an accelerator row\'s price is for one device, so it is the same on every row of that accelerator; make them equal',
      'rows.csv:16:40: attach_to of nvidia-tesla-t4 (n1-standard-*) differs from its row at line 14 (n1-*) — every row of one accelerator attaches to the same machine types; make them equal',
      'rows.csv:17:35: missing accelerator_count — an accelerator row needs the device count per node; fill it in',
      'rows.csv:17:41: missing attach_to — an accelerator row names the machine types it attaches to, as ;-separated patterns such as n1-*; fill it in',
      'rows.csv:18:29: text after a closing quote ("x") — a quoted field ends at its closing quote; put the whole field inside the quotes',
      'rows.csv:19:14: quote inside an unquoted field (n1-high"mem-4) — a field that contains " must be quoted, with each " doubled; write "n1-high""mem-4"',
      'rows.csv:20:5: missing region — every row names its region; fill it in',
      'rows.csv:20:37: attach_to on a machine row ("n1 *") — only attachable accelerator rows, which have no machine_type, take attach_to; leave it empty',
      'rows.csv:21:14: unterminated quoted field — a field that starts with " ends with another "; add the closing quote',
    ].join('\n'),
  );
});

test.run();
