import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { parseCatalogJson, stringifyCatalog } from '../../pricing/catalog.ts';
import type { Catalog } from '../../pricing/types.ts';
import { inputErrorMessage } from '../support/errors.ts';

const validText = `{
  "version": 1,
  "name": "tiny",
  "provider": "gcp",
  "region": "us-west1",
  "currency": "USD",
  "source": "hand-made",
  "date": "2024-05-20",
  "clusterFeePerHour": 0.1,
  "reservation": "gke",
  "machines": [
    { "name": "n1-standard-1", "vcpus": 1, "memoryGiB": 3.75, "onDemandPerHour": 0.0475 },
    { "name": "g2-standard-4", "vcpus": 4, "memoryGiB": 16, "onDemandPerHour": 0.70683, "spotPerHour": 0.28184,
      "cpuSpeed": 1.2, "builtInAccelerator": { "name": "nvidia-l4", "count": 1 } }
  ],
  "accelerators": [
    { "name": "nvidia-tesla-t4", "onDemandPerHour": 0.35, "spotPerHour": 0.1579, "counts": [1, 2, 4], "attachTo": ["n1-*"] }
  ]
}
`;

const validCatalog: Catalog = {
  name: 'tiny',
  provider: 'gcp',
  region: 'us-west1',
  currency: 'USD',
  source: 'hand-made',
  date: '2024-05-20',
  clusterFeePerHour: 0.1,
  reservation: 'gke',
  machines: [
    { name: 'n1-standard-1', vcpus: 1, memoryGiB: 3.75, onDemandPerHour: 0.0475, cpuSpeed: 1 },
    {
      name: 'g2-standard-4',
      vcpus: 4,
      memoryGiB: 16,
      onDemandPerHour: 0.70683,
      spotPerHour: 0.28184,
      cpuSpeed: 1.2,
      builtInAccelerator: { name: 'nvidia-l4', count: 1 },
    },
  ],
  accelerators: [{ name: 'nvidia-tesla-t4', onDemandPerHour: 0.35, spotPerHour: 0.1579, counts: [1, 2, 4], attachTo: ['n1-*'] }],
};

test('parseCatalogJson reads a valid file', () => {
  assert.equal(parseCatalogJson(validText, 'tiny.json'), validCatalog);
});

test('stringifyCatalog round trip', () => {
  const text = stringifyCatalog(validCatalog);
  assert.ok(text.startsWith('{\n  "version": 1,\n  "name": "tiny",'));
  assert.equal(parseCatalogJson(text, 'tiny.json'), validCatalog);
});

test('parseCatalogJson reports every problem', () => {
  const text = `{
  "version": 1,
  "name": "tiny",
  "provider": "gcp",
  "region": "us-west1",
  "source": "hand-made",
  "date": "2024-5-20",
  "clusterFeePerHour": -0.1,
  "reservation": "eks",
  "machines": [
    { "name": "n1-standard-1", "vcpus": 1, "memoryGiB": 3.75, "onDemandPerHour": "0.0475" },
    { "name": "n1-standard-1", "vcpus": 0, "memoryGiB": 3.75, "onDemandPerHour": 0.0475, "spotPrice": 0.01 },
    { "name": "n1-standard-2", "vcpus": 2, "memoryGiB": 7.5 },
    { "name": "n1-standard-4", "vcpus": 4, "memoryGiB": 15, "onDemandPerHour": 0.19 }
  ],
  "accelerators": [
    { "name": "nvidia-tesla-t4", "onDemandPerHour": 0.35, "counts": [1, 1.5, 4, 4], "attachTo": ["n2-*", "N1 *"] },
    { "name": "nvidia-tesla-t4", "onDemandPerHour": 0.35, "counts": [], "attachTo": ["n1-*"] }
  ]
}
`;
  assert.is(
    inputErrorMessage(() => parseCatalogJson(text, 'bad.json')),
    [
      'bad.json:7:11: invalid date ("2024-5-20") — the date the prices were taken is written YYYY-MM-DD; write it as, for example, 2024-05-20',
      'bad.json:8:24: negative clusterFeePerHour (-0.1) — a price in USD per hour is 0 or more; fix the sign',
      'bad.json:9:18: unknown reservation rule ("eks") — it must be gke (GKE\'s documented node reservation) or none (pods may use the whole machine); write one of them',
      'bad.json:11:82: invalid machines[0].onDemandPerHour ("0.0475") — it must be a price in USD per hour; write a plain number such as 0.0475, without a currency sign or unit, and without quotes',
      'bad.json:12:15: duplicate machine type name (n1-standard-1) — machines[0] already has this name, and each machine type appears once; remove or rename one of them',
      'bad.json:12:41: invalid machines[1].vcpus (0) — a vCPU count must be more than 0; give the real value, such as 4',
      'bad.json:12:90: unknown field "machines[1].spotPrice" — the fields here are name, vcpus, memoryGiB, onDemandPerHour, spotPerHour, cpuSpeed, builtInAccelerator; fix the spelling or remove it',
      'bad.json:13:5: missing machines[2].onDemandPerHour — the on-demand price in USD per hour is required; add the field',
      'bad.json:17:73: invalid accelerators[0].counts item (1.5) — an accelerator count per node is a whole number of 1 or more; give the number of devices, such as 1',
      'bad.json:17:81: duplicate accelerators[0].counts item (4) — each count appears once; remove the repeat',
      'bad.json:17:98: accelerators[0].attachTo pattern "n2-*" matches no machine type of this catalog — the accelerator could never be used with it; fix the pattern or add the machine types',
      'bad.json:17:106: invalid accelerators[0].attachTo pattern ("N1 *") — a pattern is a machine type name in lowercase letters, digits and hyphens, with * for any characters, such as n1-*; fix the pattern',
      'bad.json:18:15: duplicate accelerator name (nvidia-tesla-t4) — accelerators[0] already has this name, and each accelerator appears once with all its counts; merge the two entries',
      'bad.json:18:69: invalid accelerators[1].counts (a JSON array) — counts is a non-empty array of device counts, such as [1, 2, 4]; write it so',
    ].join('\n'),
  );
});

test('parseCatalogJson syntax error', () => {
  assert.is(
    inputErrorMessage(() => parseCatalogJson('{\n  "version": 1,\n  "name": "x",\n}\n', 'syntax.json')),
    'syntax.json:4:1: invalid JSON: expected a property name in double quotes (found "}") — quote the name, and remove any comma before the closing }',
  );
  assert.is(
    inputErrorMessage(() => parseCatalogJson('{"name": "x"} []', 'two.json')),
    'two.json:1:15: invalid JSON: text after the end of the JSON value (found "[") — remove it, or wrap several values in one array',
  );
  assert.is(
    inputErrorMessage(() => parseCatalogJson('{"name": "x\n"}', 'string.json')),
    'string.json:1:12: invalid JSON: unterminated string (found "\\n") — add the closing double quote',
  );
});

test('parseCatalogJson unsupported version', () => {
  assert.is(
    inputErrorMessage(() => parseCatalogJson('{"version": 2, "title": "new format"}', 'v2.json')),
    'v2.json:1:13: unsupported catalog version (2) — this ptk reads version 1; convert the file or update ptk',
  );
});

test('parseCatalogJson missing fields', () => {
  assert.is(
    inputErrorMessage(() => parseCatalogJson('{"machines": []}', 'empty.json')),
    [
      'empty.json:1:1: missing version — a catalog file starts with "version": 1; add that field',
      'empty.json:1:1: missing name — the catalog name (such as gcp-us-west1) is required; add the field',
      'empty.json:1:1: missing provider — the cloud provider (such as gcp) is required; add the field',
      'empty.json:1:1: missing region — the region of the prices (such as us-west1) is required; add the field',
      'empty.json:1:1: missing source — the origin of the prices is required; add the field',
      'empty.json:1:1: missing date — the date the prices were taken (YYYY-MM-DD) is required; add the field',
      'empty.json:1:1: missing clusterFeePerHour — the cluster management fee in USD per hour is required; add the field',
      'empty.json:1:1: missing reservation — the allocatable reservation rule (gke or none) is required; add the field',
      'empty.json:1:14: no machine types (machines is empty) — a catalog needs at least one machine type to plan with; add one',
    ].join('\n'),
  );
  assert.is(
    inputErrorMessage(() => parseCatalogJson('[]', 'array.json')),
    'array.json:1:1: invalid catalog (a JSON array) — a catalog file is one JSON object with version, name, region, machines and the other catalog fields; wrap them in { }',
  );
});

test.run();
