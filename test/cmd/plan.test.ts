import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { plan } from '../../cmd/plan.ts';
import { apply } from '../../cmd/apply.ts';
import { InputError } from '../../core/errors.ts';
import { inputErrorOf } from '../support/errors.ts';

const repository = process.cwd();

/** Copies the leaf sample into a fresh temporary folder and returns that folder. */
function leafFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'ptk-plan-'));
  cpSync(join(repository, 'samples/leaf'), join(folder, 'leaf'), { recursive: true });
  return folder;
}

test('plan writes the plan file', async () => {
  const folder = leafFolder();
  const result = await plan({ file: 'leaf/pipeline.py', cwd: folder });
  assert.is(result.exitCode, 0);
  const written = JSON.parse(readFileSync(join(folder, 'ptk.plan.json'), 'utf8'));
  assert.is(written.version, 1);
  assert.is(written.chosen.grouping, 'one-container');
  assert.is(written.candidates.length, 16);
  assert.is(written.pipeline.file, 'leaf/pipeline.py');
  assert.equal(written.pipeline.tasks, ['download', 'prepare', 'preprocess', 'train', 'evaluate']);
  assert.is(written.catalog.name, 'leaf-paper');
  assert.match(result.stdout, /▶ │ one-container +│ n1-standard-1 │ 1 × nvidia-tesla-t4 │ 64\.2 s +│ \$0\.00898/);
  assert.match(result.stdout, /chosen {4}one-container on n1-standard-1 with 1 × nvidia-tesla-t4: 64\.2 s, \$0\.00898 per run \(solved with HiGHS\)/);
  rmSync(folder, { recursive: true });
});

test('plan candidate has the documented shape', async () => {
  const folder = leafFolder();
  const result = await plan({ file: 'leaf/pipeline.py', cwd: folder, json: true });
  const printed = JSON.parse(result.stdout);
  assert.ok(Object.keys(printed).slice(0, 3).join() === 'version,chosen,candidates');
  const chosen = printed.chosen;
  assert.equal(
    {
      grouping: chosen.grouping,
      machine_type: chosen.machine_type,
      accelerator: chosen.accelerator,
      nodes: chosen.nodes,
      time_s: chosen.time_s,
      cost_usd: chosen.cost_usd,
      feasible: chosen.feasible,
      reason: chosen.reason,
    },
    {
      grouping: 'one-container',
      machine_type: 'n1-standard-1',
      accelerator: { name: 'nvidia-tesla-t4', count: 1 },
      nodes: 1,
      time_s: 64.234,
      cost_usd: 0.008984,
      feasible: true,
      reason: null,
    },
  );
  rmSync(folder, { recursive: true });
});

test('plan with a missed deadline exits 3', async () => {
  const folder = leafFolder();
  const result = await plan({ file: 'leaf/pipeline.py', cwd: folder, deadline: '60s' });
  assert.is(result.exitCode, 3);
  assert.is(
    result.stderr,
    'ptk: no plan meets the limits: fastest is 64.2 s on one-container on n1-standard-1 with 1 × nvidia-tesla-t4; deadline is 60 s. Relax the limit, or add faster node types to the catalog. No plan file was written.',
  );
  assert.is(existsSync(join(folder, 'ptk.plan.json')), false);
  rmSync(folder, { recursive: true });
});

test('plan rejects invalid limits', async () => {
  const folder = leafFolder();
  const error = await inputErrorOf(plan({ file: 'leaf/pipeline.py', cwd: folder, deadline: '2x', budget: '-1' }));
  rmSync(folder, { recursive: true });
  assert.instance(error, InputError);
  assert.is(
    error.message,
    '--deadline 2x is not a duration; write a positive duration such as 90s, 2m or 1h30m\n--budget -1 is not an amount of money; write a positive number of US dollars such as 0.05',
  );
});

test('plan without a profile says how to make one', async () => {
  const folder = leafFolder();
  rmSync(join(folder, 'leaf/ptk.profile.json'));
  const error = await inputErrorOf(plan({ file: 'leaf/pipeline.py', cwd: folder }));
  assert.instance(error, InputError);
  assert.is(error.message, 'leaf/ptk.profile.json: profile not found; record task timings with "ptk profile PIPELINE.py", or pass --profile FILE');
  rmSync(folder, { recursive: true });
});

test('plan command exits 3 through the CLI', () => {
  const folder = leafFolder();
  const run = spawnSync(process.execPath, [join(repository, 'bin/ptk.mjs'), 'plan', 'leaf/pipeline.py', '--deadline', '60s', '--json'], { cwd: folder, encoding: 'utf8' });
  assert.is(run.status, 3);
  const printed = JSON.parse(run.stdout);
  assert.is(printed.chosen, null);
  assert.is(printed.candidates.length, 16);
  assert.is(run.stderr.trim().split('\n').length, 1);
  assert.is(existsSync(join(folder, 'ptk.plan.json')), false);
  rmSync(folder, { recursive: true });
});

test('failed plan says the old plan stays', async () => {
  const folder = leafFolder();
  await plan({ file: 'leaf/pipeline.py', cwd: folder });
  const result = await plan({ file: 'leaf/pipeline.py', cwd: folder, deadline: '60s' });
  assert.is(result.exitCode, 3);
  assert.match(result.stderr ?? '', /\. ptk\.plan\.json was not changed and still holds an earlier plan\.$/);
  assert.match(result.stdout, /^pipeline  leaf\/pipeline\.py \(5 tasks\)\n/);
  rmSync(folder, { recursive: true });
});

test('plan names tasks that lose their GPU', async () => {
  const folder = leafFolder();
  const catalog = join(folder, 'cpu-only.csv');
  const prices = readFileSync(join(folder, 'leaf/prices.csv'), 'utf8').split('\n').filter((line) => !line.includes('nvidia-tesla-t4'));
  writeFileSync(catalog, prices.join('\n'));
  const result = await plan({ file: 'leaf/pipeline.py', cwd: folder, catalog: 'cpu-only.csv' });
  assert.is(result.exitCode, 0);
  assert.match(result.stdout, /; note: train requests a GPU and will run on the CPU, because this node has none\n/);
  assert.match(result.stdout, /yes \(train on CPU: no GPU\)/);
  rmSync(folder, { recursive: true });
});

test('plan rejects another pipeline profile', async () => {
  const folder = leafFolder();
  const profilePath = join(folder, 'leaf/ptk.profile.json');
  const profile = JSON.parse(readFileSync(profilePath, 'utf8'));
  profile.pipeline = 'other.py';
  writeFileSync(profilePath, JSON.stringify(profile));
  const error = await inputErrorOf(plan({ file: 'leaf/pipeline.py', cwd: folder }));
  assert.instance(error, InputError);
  assert.is(
    error.message,
    'leaf/ptk.profile.json: contains the timings of leaf/other.py, not of leaf/pipeline.py; profile this pipeline into its own file with "ptk profile leaf/pipeline.py --out FILE" and pass --profile FILE',
  );
  rmSync(folder, { recursive: true });
});

test('plan names tasks the profile lacks', async () => {
  const folder = leafFolder();
  const profilePath = join(folder, 'leaf/ptk.profile.json');
  const profile = JSON.parse(readFileSync(profilePath, 'utf8'));
  profile.tasks.eval = profile.tasks.evaluate;
  delete profile.tasks.evaluate;
  writeFileSync(profilePath, JSON.stringify(profile));
  const error = await inputErrorOf(plan({ file: 'leaf/pipeline.py', cwd: folder }));
  assert.instance(error, InputError);
  assert.is(
    error.message,
    'leaf/ptk.profile.json: no timing for task evaluate; it has timings of eval, which are not tasks of the pipeline (renamed?); run "ptk profile leaf/pipeline.py" to measure them, or add samples by hand',
  );
  rmSync(folder, { recursive: true });
});

test('long table says what it shows', async () => {
  const folder = leafFolder();
  const result = await plan({ file: 'leaf/pipeline.py', cwd: folder, catalog: 'gcp-us-west1' });
  const written = JSON.parse(readFileSync(join(folder, 'ptk.plan.json'), 'utf8'));
  const hidden = Number(/ (\d+) more are in the plan file; --all lists every one\./.exec(result.stdout)?.[1]);
  const rows = result.stdout.split('\n').filter((line) => /^│ (▶| ) │ /.test(line) && !line.includes('│ grouping')).length;
  assert.ok(hidden > 0);
  assert.is(rows + hidden, written.candidates.length);
  assert.match(result.stdout, /Shown: the chosen candidate, the 10 cheapest that meet the limits, the cheapest of each grouping and the fastest\./);
  rmSync(folder, { recursive: true });
});

test('plan file works from another folder', async () => {
  const folder = leafFolder();
  await plan({ file: 'leaf/pipeline.py', cwd: folder, out: 'plans/leaf.json' });
  const written = JSON.parse(readFileSync(join(folder, 'plans/leaf.json'), 'utf8'));
  assert.is(written.pipeline.file, '../leaf/pipeline.py');

  const result = await apply({ plan: 'plans/leaf.json', cwd: folder, out: 'k8s', workload: 'job', namespace: 'default', image: 'python:3.12-slim' });
  assert.is(result.exitCode, 0);
  assert.ok(existsSync(join(folder, 'k8s/00-shared.yaml')));
  assert.ok(existsSync(join(folder, 'k8s/leaf-download-prepare-preprocess-train-evaluate.yaml')));
  rmSync(folder, { recursive: true });
});

test.run();
