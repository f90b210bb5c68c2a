import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { allocatable } from '../../pricing/allocatable.ts';
import type { MachineType } from '../../pricing/types.ts';

const mebibyte = 1024 ** 2;
const gibibyte = 1024 ** 3;

function machine(name: string, vcpus: number, memoryGiB: number, builtIn?: { name: string; count: number }): MachineType {
  const result: MachineType = { name, vcpus, memoryGiB, onDemandPerHour: 1, cpuSpeed: 1 };
  if (builtIn) result.builtInAccelerator = builtIn;
  return result;
}

test('gke rule on n1-standard-1', () => {
  // 1 vCPU: 6% of the first core. 3.75 GiB: 25% of it, plus the 100 MiB eviction threshold.
  assert.equal(allocatable(machine('n1-standard-1', 1, 3.75), null, 'gke'), {
    cpu: 0.94,
    memoryBytes: 3.75 * gibibyte - 0.25 * 3.75 * gibibyte - 100 * mebibyte,
    gpus: 0,
  });
  assert.is(3.75 * gibibyte - 0.25 * 3.75 * gibibyte - 100 * mebibyte, 2915041280);
});

test('gke rule on n1-standard-2', () => {
  // 2 vCPUs: 60m + 10m. 7.5 GiB: 25% of 4 GiB + 20% of 3.5 GiB = 1.7 GiB, rounded down to whole bytes.
  assert.equal(allocatable(machine('n1-standard-2', 2, 7.5), null, 'gke'), {
    cpu: 1.93,
    memoryBytes: 6122844979,
    gpus: 0,
  });
});

test('gke cpu tiers', () => {
  const cases: Array<[number, number]> = [
    [4, 3.92], // 60m + 10m + 2 × 5m
    [5, 4.917], // 82.5m reserved, rounded down to the millicore
    [8, 7.91],
    [16, 15.89], // 60m + 10m + 10m + 12 × 2.5m = 110m
    [96, 95.69], // 80m + 92 × 2.5m = 310m
  ];
  for (const [vcpus, expected] of cases) {
    assert.is(allocatable(machine('m', vcpus, 16), null, 'gke').cpu, expected, `${vcpus} vCPUs`);
  }
});

test('gke memory above 128 GiB', () => {
  // 150 GiB: 1 + 0.8 + 0.8 + 6.72 + 0.44 = 9.76 GiB reserved, plus 100 MiB.
  const expected = Math.floor(150 * gibibyte - 9.76 * gibibyte - 100 * mebibyte);
  assert.is(allocatable(machine('m', 16, 150), null, 'gke').memoryBytes, expected);
  assert.is(expected, 150476695797);
});

test('gke memory under 1 GiB', () => {
  // Machines with less than 1 GiB reserve a flat 255 MiB instead of the tiers.
  assert.equal(allocatable(machine('f1-micro', 0.2, 0.6), null, 'gke'), {
    cpu: 0.188,
    memoryBytes: Math.floor(0.6 * gibibyte) - 255 * mebibyte - 100 * mebibyte,
    gpus: 0,
  });
});

test('none rule keeps the whole machine', () => {
  assert.equal(allocatable(machine('n1-standard-1', 1, 3.75), null, 'none'), { cpu: 1, memoryBytes: 4026531840, gpus: 0 });
});

test('gpus from built-in or attached accelerator', () => {
  const a2 = machine('a2-highgpu-2g', 24, 170, { name: 'nvidia-tesla-a100', count: 2 });
  assert.is(allocatable(a2, null, 'gke').gpus, 2);
  assert.is(allocatable(a2, { name: 'nvidia-tesla-a100', count: 2 }, 'gke').gpus, 2);
  assert.is(allocatable(machine('n1-standard-4', 4, 15), { name: 'nvidia-tesla-t4', count: 4 }, 'none').gpus, 4);
  assert.is(allocatable(machine('n1-standard-4', 4, 15), null, 'gke').gpus, 0);
});

test.run();
