import { fileURLToPath } from 'node:url';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { pricing } from '../../cmd/pricing.ts';
import { InputError } from '../../core/errors.ts';
import { parseCatalogJson } from '../../pricing/catalog.ts';

const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

test('pricing prints the leaf prices', async () => {
  const result = await pricing({ catalog: 'samples/leaf/prices.csv', cwd: repositoryRoot });
  assert.is(result.exitCode, 0);
  assert.is(
    result.stdout,
    [
      'Catalog leaf-paper: gcp us-west1, prices in USD per hour, taken 2024-05-20',
      "Source: prices used by Nagiyev, Bajrovic and Benkner, 'Python to Kubernetes' (2024), Tables I and II; GCP us-west1-c",
      "Cluster management fee: 0.101 USD per hour. Allocatable resources: after GKE's node reservation and eviction threshold.",
      '',
      '┌───────────────┬───────┬────────────┬─────────────────┬────────────────────────┬──────────────────────────────────┬───────────────┬──────────┐',
      '│ machine type  │ vCPUs │ memory GiB │ allocatable CPU │ allocatable memory GiB │ accelerator                      │ on-demand $/h │ spot $/h │',
      '├───────────────┼───────┼────────────┼─────────────────┼────────────────────────┼──────────────────────────────────┼───────────────┼──────────┤',
      '│ n1-standard-1 │ 1     │ 3.75       │ 0.94            │ 2.71                   │ nvidia-tesla-t4 × 1 (attachable) │ 0.0475        │ —        │',
      '├───────────────┼───────┼────────────┼─────────────────┼────────────────────────┼──────────────────────────────────┼───────────────┼──────────┤',
      '│ n1-standard-2 │ 2     │ 7.5        │ 1.93            │ 5.70                   │ nvidia-tesla-t4 × 1 (attachable) │ 0.095         │ —        │',
      '└───────────────┴───────┴────────────┴─────────────────┴────────────────────────┴──────────────────────────────────┴───────────────┴──────────┘',
      '',
      '┌────────────────────────┬─────────────────┬─────────────┬──────────────────────────┬─────────────────────┐',
      '│ attachable accelerator │ counts per node │ attaches to │ on-demand $/h per device │ spot $/h per device │',
      '├────────────────────────┼─────────────────┼─────────────┼──────────────────────────┼─────────────────────┤',
      '│ nvidia-tesla-t4        │ 1               │ n1-*        │ 0.355                    │ —                   │',
      '└────────────────────────┴─────────────────┴─────────────┴──────────────────────────┴─────────────────────┘',
      '',
    ].join('\n'),
  );
});

test('pricing shows the embedded catalog by default', async () => {
  const result = await pricing({ cwd: repositoryRoot });
  const lines = result.stdout.split('\n');
  assert.is(lines[0], 'Catalog gcp-us-west1: gcp us-west1, prices in USD per hour, taken 2026-04-02');
  assert.ok(lines[1]!.startsWith('Source: SkyPilot-format GCP VM catalog (anycloud-sh/catalog gcp/vms.csv, commit 69b86f0, 2026-04-02), us-west1 rows;'));
  assert.is(lines[2], "Cluster management fee: 0.1 USD per hour. Allocatable resources: after GKE's node reservation and eviction threshold.");
  assert.ok(lines.includes('│ g2-standard-4  │ 4     │ 16         │ 3.92            │ 13.30                  │ nvidia-l4 × 1 (built in)                 │ 0.70683       │ 0.28184  │'));
  assert.ok(lines.includes('│ n1-standard-1  │ 1     │ 3.75       │ 0.94            │ 2.71                   │ nvidia-tesla-t4 × 1/2/4 (attachable)     │ 0.0475        │ 0.01507  │'));
  assert.ok(lines.includes('│                │       │            │                 │                        │ nvidia-tesla-v100 × 1/2/4/8 (attachable) │               │          │'));
  assert.ok(lines.includes('│ n2-standard-2  │ 2     │ 8          │ 1.93            │ 6.10                   │ —                                        │ 0.09712       │ 0.02715  │'));
  assert.ok(lines.includes('│ nvidia-tesla-v100      │ 1, 2, 4, 8      │ n1-*        │ 2.48                     │ 1.0858              │'));
});

test('pricing --json prints catalog JSON', async () => {
  const result = await pricing({ catalog: 'samples/leaf/prices.csv', json: true, cwd: repositoryRoot });
  assert.is(result.exitCode, 0);
  assert.ok(result.stdout.startsWith('{\n  "version": 1,\n  "name": "leaf-paper",'));
  const catalog = parseCatalogJson(result.stdout, 'stdout.json');
  assert.equal(
    catalog.machines.map((machine) => [machine.name, machine.onDemandPerHour]),
    [
      ['n1-standard-1', 0.0475],
      ['n1-standard-2', 0.095],
    ],
  );
  assert.is(catalog.clusterFeePerHour, 0.101);
});

test('pricing with an unknown catalog', async () => {
  try {
    await pricing({ catalog: 'gcp-us-east1', cwd: repositoryRoot });
    assert.unreachable('pricing accepted an unknown catalog');
  } catch (error) {
    assert.instance(error, InputError);
    assert.is(
      (error as InputError).message,
      'unknown catalog (gcp-us-east1) — it is neither an embedded catalog nor a file; use one of the embedded catalogs (gcp-us-west1, local) or the path of a .json or .csv file',
    );
  }
});

test.run();
