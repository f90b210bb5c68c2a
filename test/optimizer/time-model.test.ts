import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parallelFraction } from '../../optimizer/time-model.ts';
import type { Sample } from '../../core/profile.ts';

function sample(machineType: string, vcpus: number, seconds: number): Sample {
  return { machine_type: machineType, vcpus, accelerator: null, wall_s: [seconds], where: 'manual', measured_at: '2026-12-04' };
}

const sameSpeed = () => 1;

test('parallel fraction of a perfect speedup is 1', () => {
  assert.is(parallelFraction([sample('a', 1, 100), sample('b', 4, 25)], sameSpeed), 1);
});

test('parallel fraction of no speedup is 0', () => {
  assert.is(parallelFraction([sample('a', 1, 100), sample('b', 2, 100)], sameSpeed), 0);
});

test('parallel fraction fits Amdahl exactly', () => {
  // With p = 0.6: t(1) = 100, t(2) = 100 × (0.4 + 0.3) = 70.
  const fitted = parallelFraction([sample('a', 1, 100), sample('b', 2, 70)], sameSpeed);
  assert.ok(Math.abs(fitted - 0.6) < 1e-12, `fitted ${fitted}`);
});

test('parallel fraction of leaf train', () => {
  // 1685.286 s on one vCPU and 917.408 s on two: 917.408 / 1685.286 = 1 − p / 2.
  const fitted = parallelFraction([sample('n1-standard-1', 1, 1685.286), sample('n1-standard-2', 2, 917.408)], sameSpeed);
  assert.ok(Math.abs(fitted - 2 * (1 - 917.408 / 1685.286)) < 1e-12, `fitted ${fitted}`);
});

test('parallel fraction with one core count is 0', () => {
  assert.is(parallelFraction([sample('a', 2, 50), sample('b', 2, 60)], sameSpeed), 0);
});

test('parallel fraction is clamped', () => {
  assert.is(parallelFraction([sample('a', 1, 100), sample('b', 2, 120)], sameSpeed), 0);
  assert.is(parallelFraction([sample('a', 1, 100), sample('b', 2, 10)], sameSpeed), 1);
});

test.run();
