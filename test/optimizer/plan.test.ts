import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseModule } from '../../core/parse.ts';
import { buildPipeline } from '../../core/model.ts';
import { parseProfile, type Profile } from '../../core/profile.ts';
import { loadCatalog } from '../../pricing/catalog.ts';
import type { Catalog } from '../../pricing/types.ts';
import { highsBackend } from '../../optimizer/highs.ts';
import { buildModel, makePlan, type PlanResult } from '../../optimizer/plan.ts';
import { evaluateCandidates, type Evaluation } from '../../optimizer/candidates.ts';
import type { SolverBackend } from '../../optimizer/ilp.ts';
import type { Candidate, Limits } from '../../optimizer/types.ts';
import { glpkBackend } from '../support/glpk.ts';

const leafFile = 'samples/leaf/pipeline.py';
const leafPipeline = buildPipeline(parseModule(readFileSync(leafFile, 'utf8'), leafFile));
const leafProfile = parseProfile(readFileSync('samples/leaf/ptk.profile.json', 'utf8'), 'samples/leaf/ptk.profile.json');
const leafCatalog = await loadCatalog('samples/leaf/prices.csv', process.cwd());

const t4 = { name: 'nvidia-tesla-t4', count: 1 };

/** Rounds to two significant digits, as Tables I and II of "Python to Kubernetes" (2024) print costs. */
function paperRounding(value: number): number {
  return Number(value.toPrecision(2));
}

function find(candidates: Candidate[], grouping: string, machineType: string, accelerator: typeof t4 | null): Candidate {
  const found = candidates.find(
    (candidate) => candidate.grouping === grouping && candidate.machine_type === machineType && JSON.stringify(candidate.accelerator) === JSON.stringify(accelerator),
  );
  if (!found) throw new Error(`no candidate ${grouping} on ${machineType}`);
  return found;
}

function withoutAccelerators(catalog: Catalog): Catalog {
  return { ...catalog, accelerators: [] };
}

function pipelineFrom(source: string) {
  return buildPipeline(parseModule(source, 'pipeline.py'));
}

/** Builds a profile where each named task took the given seconds on n1-standard-1 without a GPU. */
function cpuProfile(seconds: Record<string, number>): Profile {
  const tasks: Profile['tasks'] = {};
  for (const [name, value] of Object.entries(seconds)) {
    tasks[name] = { samples: [{ machine_type: 'n1-standard-1', vcpus: 1, accelerator: null, wall_s: [value], where: 'manual', measured_at: '2026-12-04' }] };
  }
  return { version: 1, overheads: { pod_start_s: 0, container_start_s: 0 }, tasks };
}

async function planLeaf(solver: SolverBackend, limits: Limits, catalog: Catalog = leafCatalog): Promise<PlanResult> {
  return makePlan({ pipeline: leafPipeline, catalog, profile: leafProfile, profilePath: 'samples/leaf/ptk.profile.json', limits, solver });
}

for (const solver of [highsBackend, glpkBackend]) {
  const test = suite(`plan with ${solver.name}`);

  test('leaf lists the five measured scenarios', async () => {
    const result = await planLeaf(solver, {});
    const scenarios: [string, string, typeof t4 | null, number, number][] = [
      ['pod-per-task', 'n1-standard-1', t4, 70.432, 0.0099],
      ['one-pod', 'n1-standard-1', t4, 68.734, 0.0096],
      ['one-container', 'n1-standard-1', t4, 64.234, 0.009],
      ['one-container', 'n1-standard-1', null, 1725.286, 0.071],
      ['one-container', 'n1-standard-2', null, 957.408, 0.052],
    ];
    for (const [grouping, machine, accelerator, time, cost] of scenarios) {
      const candidate = find(result.candidates, grouping, machine, accelerator);
      assert.is(candidate.time_s, time, `${grouping} on ${machine} time`);
      assert.is(paperRounding(candidate.cost_usd!), cost, `${grouping} on ${machine} cost`);
      assert.is(candidate.estimated, false, `${grouping} on ${machine} is measured`);
      assert.is(candidate.feasible, true);
    }
  });

  test('leaf chooses one container with a T4', async () => {
    const result = await planLeaf(solver, {});
    assert.ok(result.plan);
    assert.equal(
      { grouping: result.plan.chosen.grouping, machine: result.plan.chosen.machine_type, accelerator: result.plan.chosen.accelerator, cost: result.plan.chosen.cost_usd },
      { grouping: 'one-container', machine: 'n1-standard-1', accelerator: t4, cost: 0.008984 },
    );
    assert.is(result.plan.solver.name, solver.name);
  });

  test('deadline below fastest names nearest miss', async () => {
    const result = await planLeaf(solver, { deadlineSeconds: 60 });
    assert.is(result.plan, undefined);
    assert.is(
      result.nearestMiss,
      'no plan meets the limits: fastest is 64.2 s on one-container on n1-standard-1 with 1 × nvidia-tesla-t4; deadline is 60 s. Relax the limit, or add faster node types to the catalog',
    );
    assert.ok(result.candidates.every((candidate) => !candidate.feasible));
  });

  test('deadline without GPUs picks the faster machine', async () => {
    const result = await planLeaf(solver, { deadlineSeconds: 20 * 60 }, withoutAccelerators(leafCatalog));
    assert.ok(result.plan);
    assert.is(result.plan.chosen.grouping, 'one-container');
    assert.is(result.plan.chosen.machine_type, 'n1-standard-2');
    assert.is(find(result.candidates, 'one-container', 'n1-standard-1', null).reason, 'takes 28 min 45 s, above the deadline of 20 min 0 s');
  });

  test('budget below cheapest is infeasible', async () => {
    const result = await planLeaf(solver, { budgetUsd: 0.005 });
    assert.is(result.plan, undefined);
    assert.is(
      result.nearestMiss,
      'no plan meets the limits: cheapest is $0.00898 on one-container on n1-standard-1 with 1 × nvidia-tesla-t4; budget is $0.005. Relax the limit, or add cheaper node types to the catalog',
    );
  });

  test('budget keeps cheapest within limit', async () => {
    const result = await planLeaf(solver, { budgetUsd: 0.009 });
    assert.ok(result.plan);
    assert.is(result.plan.chosen.cost_usd, 0.008984);
    assert.is(find(result.candidates, 'one-pod', 'n1-standard-1', t4).reason, 'costs $0.00961, above the budget of $0.009');
  });

  test('max_runtime rules out slow nodes', async () => {
    const source = readFileSync(leafFile, 'utf8').replace('gpu_requests=1, gpu_limits=1)', "gpu_requests=1, gpu_limits=1, max_runtime='20m')");
    const pipeline = buildPipeline(parseModule(source, leafFile));
    const result = await makePlan({ pipeline, catalog: withoutAccelerators(leafCatalog), profile: leafProfile, profilePath: null, limits: {}, solver });
    assert.ok(result.plan);
    assert.is(result.plan.chosen.machine_type, 'n1-standard-2');
    assert.is(find(result.candidates, 'one-container', 'n1-standard-1', null).reason, 'train takes 28 min 4 s, above its max_runtime of 20 min 0 s');
  });

  test('requests that do not fit rule out groupings', async () => {
    const source = `from ptk import task

@task(name='a', cpu_requests=0.75, memory_requests='1Gi')
def a():
    return 1

@task(name='b', input='a', cpu_requests=0.75, memory_requests='1Gi')
def b(a):
    return a
`;
    const pipeline = pipelineFrom(source);
    const result = await makePlan({ pipeline, catalog: withoutAccelerators(leafCatalog), profile: cpuProfile({ a: 10, b: 10 }), profilePath: null, limits: {}, solver });
    assert.ok(result.plan);
    assert.is(result.plan.chosen.grouping, 'one-container');
    assert.is(result.plan.chosen.machine_type, 'n1-standard-1');
    assert.is(find(result.candidates, 'pod-per-task', 'n1-standard-1', null).reason, 'does not fit n1-standard-1: 1500m CPU requested, 940m allocatable');
    assert.is(find(result.candidates, 'one-pod', 'n1-standard-2', null).feasible, true);
  });

  test('GPU task without GPU timing is blocked', async () => {
    const source = `from ptk import task

@task(name='train', gpu_requests=1, gpu_limits=1)
def train():
    return 1
`;
    const result = await makePlan({ pipeline: pipelineFrom(source), catalog: leafCatalog, profile: cpuProfile({ train: 100 }), profilePath: null, limits: {}, solver });
    assert.ok(result.plan);
    assert.is(result.plan.chosen.accelerator, null);
    assert.is(result.plan.chosen.task_times[0]!.cpuFallback, true);
    assert.equal(result.plan.layout.pods[0]!.containers[0]!.resources, {});
    assert.is(
      find(result.candidates, 'one-container', 'n1-standard-1', t4).reason,
      'no timing of train on nvidia-tesla-t4, and GPU speedups are never guessed; profile it on that GPU or set gpu_speedup in the profile',
    );
  });

  test('gpu_speedup gives an estimated GPU time', async () => {
    const source = `from ptk import task

@task(name='train', gpu_requests=1, gpu_limits=1)
def train():
    return 1
`;
    const profile = cpuProfile({ train: 1000 });
    profile.tasks.train!.gpu_speedup = { 'nvidia-tesla-t4': 50 };
    const result = await makePlan({ pipeline: pipelineFrom(source), catalog: leafCatalog, profile, profilePath: null, limits: {}, solver });
    const candidate = find(result.candidates, 'one-container', 'n1-standard-1', t4);
    assert.is(candidate.time_s, 20);
    assert.is(candidate.estimated, true);
    assert.ok(result.plan);
    assert.equal(result.plan.chosen.accelerator, t4);
  });

  test('agrees with brute force on random models', async () => {
    const evaluations = evaluateCandidates(leafPipeline, leafCatalog, leafProfile);
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 25; round++) {
      const shuffled = evaluations.map((evaluation): Evaluation => ({
        ...evaluation,
        timeSeconds: 10 + random() * 2000,
        costUsd: random() * 0.1,
        use: { cpu: random() * 1.5, memoryBytes: random() * 4 * 2 ** 30, gpus: random() < 0.3 ? 1 : 0 },
      }));
      const limits: Limits = { deadlineSeconds: 200 + random() * 1500, budgetUsd: 0.01 + random() * 0.05 };
      const model = buildModel(shuffled, limits, new Map());
      const solution = await solver.solve(model);

      const meets = (evaluation: Evaluation) =>
        evaluation.use.cpu <= evaluation.capacity.cpu + 1e-9 &&
        evaluation.use.memoryBytes <= evaluation.capacity.memoryBytes &&
        evaluation.use.gpus <= evaluation.capacity.gpus &&
        evaluation.timeSeconds <= limits.deadlineSeconds! &&
        evaluation.costUsd <= limits.budgetUsd!;
      const feasible = shuffled.map((evaluation, index) => ({ evaluation, index })).filter(({ evaluation }) => meets(evaluation));
      if (feasible.length === 0) {
        assert.is(solution.status, 'infeasible', `round ${round}`);
        continue;
      }
      const best = feasible.reduce((low, entry) => (entry.evaluation.costUsd < low.evaluation.costUsd ? entry : low));
      const chosen = [...solution.values].find(([, value]) => value > 0.5)?.[0];
      assert.is(chosen, `x${best.index}`, `round ${round}`);
    }
  });

  test.run();
}
