import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { loadCatalog, stringifyCatalog } from '../../pricing/catalog.ts';
import { embeddedCatalogs } from '../../pricing/embedded.ts';
import { inputErrorOf } from '../support/errors.ts';

const inputErrorMessage = async (work: () => Promise<unknown>) => (await inputErrorOf(work())).message;

/** Creates a temporary folder with the given files and returns its path. */
function makeFolder(files: Record<string, string>): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'ptk-pricing-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(folder, name)), { recursive: true });
    writeFileSync(path.join(folder, name), text);
  }
  return folder;
}

const csvText = [
  '# source: hand-made',
  '# date: 2024-05-20',
  '# cluster_fee_per_hour: 0.1',
  '# reservation: gke',
  'provider,region,machine_type,vcpus,memory_gib,accelerator_name,accelerator_count,on_demand_per_hour',
  'gcp,us-west1,n1-standard-1,1,3.75,,,0.0475',
].join('\n');

test('embedded catalog by name and by default', async () => {
  const named = await loadCatalog('gcp-us-west1', '/');
  const byDefault = await loadCatalog(undefined, '/');
  assert.equal(named, byDefault);
  assert.is(named.name, 'gcp-us-west1');
  assert.is(named.region, 'us-west1');
  assert.is(named.date, '2026-04-02');
  assert.is(named.clusterFeePerHour, 0.1);
  assert.is(named.reservation, 'gke');
  assert.equal(named.machines.find((machine) => machine.name === 'n1-standard-1'), {
    name: 'n1-standard-1',
    vcpus: 1,
    memoryGiB: 3.75,
    onDemandPerHour: 0.0475,
    spotPerHour: 0.01507,
    cpuSpeed: 1,
  });
  assert.equal(named.accelerators.find((accelerator) => accelerator.name === 'nvidia-tesla-t4'), {
    name: 'nvidia-tesla-t4',
    onDemandPerHour: 0.35,
    spotPerHour: 0.1579,
    counts: [1, 2, 4],
    attachTo: ['n1-*'],
  });
});

test('embedded catalog has the planned families', async () => {
  const catalog = await loadCatalog('gcp-us-west1', '/');
  assert.equal(
    catalog.machines.map((machine) => machine.name),
    [
      'a2-highgpu-1g', 'a2-highgpu-2g',
      'e2-standard-2', 'e2-standard-4', 'e2-standard-8', 'e2-standard-16',
      'g2-standard-4', 'g2-standard-8',
      'n1-highmem-2', 'n1-highmem-4', 'n1-highmem-8', 'n1-highmem-16',
      'n1-standard-1', 'n1-standard-2', 'n1-standard-4', 'n1-standard-8', 'n1-standard-16',
      'n2-standard-2', 'n2-standard-4', 'n2-standard-8', 'n2-standard-16',
    ],
  );
  assert.equal(catalog.accelerators.map((accelerator) => accelerator.name), ['nvidia-tesla-t4', 'nvidia-tesla-v100', 'nvidia-tesla-p100']);
  // The node price of an A2 machine type is its CPU and memory (0.73948) plus one A100 (2.93391).
  assert.equal(catalog.machines[0], {
    name: 'a2-highgpu-1g',
    vcpus: 12,
    memoryGiB: 85,
    onDemandPerHour: 3.67339,
    spotPerHour: 1.80385,
    cpuSpeed: 1,
    builtInAccelerator: { name: 'nvidia-tesla-a100', count: 1 },
  });
});

test('loaded embedded catalog is a copy', async () => {
  const catalog = await loadCatalog('gcp-us-west1', '/');
  catalog.machines[0]!.onDemandPerHour = 0;
  assert.is(embeddedCatalogs[0]!.machines[0]!.onDemandPerHour, 3.67339);
});

test('csv and json files relative to cwd', async () => {
  const folder = makeFolder({ 'prices/my.csv': csvText });
  try {
    const fromCsv = await loadCatalog('prices/my.csv', folder);
    assert.is(fromCsv.name, 'my');
    assert.equal(fromCsv.machines, [{ name: 'n1-standard-1', vcpus: 1, memoryGiB: 3.75, onDemandPerHour: 0.0475, cpuSpeed: 1 }]);

    writeFileSync(path.join(folder, 'my.json'), stringifyCatalog(fromCsv));
    assert.equal(await loadCatalog('my.json', folder), fromCsv);
    assert.equal(await loadCatalog(path.join(folder, 'my.json'), '/'), fromCsv);
  } finally {
    rmSync(folder, { recursive: true });
  }
});

test('errors in a file name the file as given', async () => {
  const folder = makeFolder({ 'bad.csv': csvText.replace('0.0475', 'abc') });
  try {
    assert.is(
      await inputErrorMessage(() => loadCatalog('bad.csv', folder)),
      'bad.csv:6:37: invalid on_demand_per_hour ("abc") — it must be a price in USD per hour; write a plain number such as 0.0475, without a currency sign or unit',
    );
  } finally {
    rmSync(folder, { recursive: true });
  }
});

test('unknown catalog name', async () => {
  assert.is(
    await inputErrorMessage(() => loadCatalog('aws-us-east-1', '/tmp')),
    'unknown catalog (aws-us-east-1) — it is neither an embedded catalog nor a file; use one of the embedded catalogs (gcp-us-west1, local) or the path of a .json or .csv file',
  );
});

test('missing catalog file', async () => {
  const folder = makeFolder({});
  try {
    assert.is(
      await inputErrorMessage(() => loadCatalog('prices.csv', folder)),
      `catalog file not found (prices.csv, resolved to ${path.join(folder, 'prices.csv')}) — a catalog is an embedded name or an existing .json or .csv file; check the path, or use an embedded catalog: gcp-us-west1, local`,
    );
    assert.is(
      await inputErrorMessage(() => loadCatalog('catalogs/gcp', folder)),
      `catalog file not found (catalogs/gcp, resolved to ${path.join(folder, 'catalogs/gcp')}) — a catalog is an embedded name or an existing .json or .csv file; check the path, or use an embedded catalog: gcp-us-west1, local`,
    );
  } finally {
    rmSync(folder, { recursive: true });
  }
});

test('folder or other file type', async () => {
  const folder = makeFolder({ 'prices.txt': csvText, 'catalogs/readme.md': '' });
  try {
    assert.is(
      await inputErrorMessage(() => loadCatalog('catalogs', folder)),
      'catalog path is not a file (catalogs) — a catalog is a .json or .csv file; give the file\'s path',
    );
    assert.is(
      await inputErrorMessage(() => loadCatalog('prices.txt', folder)),
      'unsupported catalog file type (prices.txt) — ptk reads catalog JSON (.json) and price CSV (.csv) files; convert the file or rename it to the extension that matches its content',
    );
  } finally {
    rmSync(folder, { recursive: true });
  }
});

test.run();
