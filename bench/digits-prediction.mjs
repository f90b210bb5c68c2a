// Compares the planner's predicted time for the digits sample on this machine with measured local runs.
// Steps: ptk profile (3 runs), ptk plan --catalog local, then `ptk apply --local` five times; prints the
// chosen candidate's predicted time, the measured wall times (min/median/max) and the ratio of medians.
// Needs a Python with scikit-learn: PTK_PYTHON, else /usr/bin/python3 (Debian's python3-sklearn).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const ptk = join(root, 'bin', 'ptk.mjs');
const python = process.env.PTK_PYTHON ?? '/usr/bin/python3';
const runs = Number(process.argv[2] ?? 5);

if (spawnSync(python, ['-c', 'import sklearn']).status !== 0) {
  console.error(`${python} has no scikit-learn; install python3-sklearn or set PTK_PYTHON`);
  process.exit(2);
}

const folder = mkdtempSync(join(tmpdir(), 'ptk-bench-digits-'));
cpSync(join(root, 'samples', 'digits'), join(folder, 'digits'), { recursive: true });
rmSync(join(folder, 'digits', 'ptk.profile.json'), { force: true });
const env = { ...process.env, PTK_PYTHON: python };
const ptkRun = (args) => execFileSync(process.execPath, [ptk, ...args], { cwd: folder, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

ptkRun(['profile', 'digits/pipeline.py', '--runs', '3']);
ptkRun(['plan', 'digits/pipeline.py', '--catalog', 'local']);
const plan = JSON.parse(readFileSync(join(folder, 'ptk.plan.json'), 'utf8'));

const measured = [];
for (let index = 0; index < runs; index++) {
  ptkRun(['apply', '--local']);
  const runsFolder = join(folder, '.ptk', 'runs');
  const latest = readdirSync(runsFolder).sort().pop();
  measured.push(JSON.parse(readFileSync(join(runsFolder, latest, 'run.json'), 'utf8')).wall_s);
}
rmSync(folder, { recursive: true, force: true });

const sorted = [...measured].sort((a, b) => a - b);
const median = sorted[sorted.length >> 1];
console.log(`chosen: ${plan.chosen.grouping} on ${plan.chosen.machine_type}`);
console.log(`predicted: ${plan.chosen.time_s.toFixed(2)} s`);
console.log(`measured (${runs} runs): min ${sorted[0].toFixed(2)} s, median ${median.toFixed(2)} s, max ${sorted[sorted.length - 1].toFixed(2)} s`);
console.log(`predicted / measured median: ${(plan.chosen.time_s / median).toFixed(3)}`);
