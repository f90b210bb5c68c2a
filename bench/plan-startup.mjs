// Times `ptk plan samples/leaf/pipeline.py` as a whole process in three builds: the single executable
// (dist/ptk), the bundle (node dist/ptk.cjs) and the TypeScript sources (node bin/ptk.mjs). Two references run
// beside them: `node -e 0`, the start-up cost of Node itself, and `dist/ptk --help`, the executable's start-up
// without the plan. The commands run in turn, round after round, so that a change in the machine's speed
// during the run affects all of them alike. Prints each command's min, median and max wall time and its
// median divided by the median of `node -e 0`.
//
// Usage: node bench/plan-startup.mjs [--runs N] [--warmup N]   (npm run bench builds dist/ first)
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { failureFor, median, readBenchOptions, timeOnce } from './common.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sample = path.join(root, 'samples/leaf/pipeline.py');
const runTimeoutMs = 120_000;

const usage = 'usage: node bench/plan-startup.mjs [--runs N] [--warmup N]';
const fail = failureFor('plan-startup');

/** Exits with a message naming each file that the benchmark needs and that is missing. */
function requireFiles() {
  const missing = [];
  if (!existsSync(sample)) missing.push(`${path.relative(root, sample)} (the leaf sample pipeline)`);
  for (const built of ['dist/ptk', 'dist/ptk.cjs']) {
    if (!existsSync(path.join(root, built))) missing.push(`${built} (run npm run build)`);
  }
  if (missing.length > 0) fail(`missing ${missing.join(', ')}`);
}

/** Lists the commands to time, each as a label for the table and an argv. */
function listCommands(outDir) {
  const planArgs = ['plan', sample, '--out', path.join(outDir, 'ptk.plan.json')];
  return [
    { label: 'node -e 0', argv: [process.execPath, '-e', '0'] },
    // Start-up and module loading without any command work, to separate them from the plan's own time.
    { label: 'dist/ptk --help', argv: [path.join(root, 'dist/ptk'), '--help'] },
    { label: 'dist/ptk plan samples/leaf/pipeline.py', argv: [path.join(root, 'dist/ptk'), ...planArgs] },
    {
      label: 'node dist/ptk.cjs plan samples/leaf/pipeline.py',
      argv: [process.execPath, path.join(root, 'dist/ptk.cjs'), ...planArgs],
    },
    {
      label: 'node bin/ptk.mjs plan samples/leaf/pipeline.py',
      argv: [process.execPath, path.join(root, 'bin/ptk.mjs'), ...planArgs],
    },
  ];
}

function printTable(commands, timings, options) {
  const cpus = os.cpus();
  console.log(`ptk plan start-up: ${options.runs} runs of each command in turn, after ${options.warmup} warm-up rounds`);
  console.log(
    `node ${process.version}, ${os.platform()} ${os.arch()}, ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ` +
      `${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB`,
  );

  if (process.env.NODE_EXTRA_CA_CERTS) {
    console.log('NODE_EXTRA_CA_CERTS is set: every Node process, these commands included, reads that file at start-up');
  }

  const width = Math.max(...commands.map((command) => command.label.length));
  const header = `${'command'.padEnd(width)}  ${'min ms'.padStart(8)}  ${'median ms'.padStart(9)}  ${'max ms'.padStart(8)}  median / node -e 0`;
  console.log(header);

  const baseline = median(timings[0]);
  for (const [index, command] of commands.entries()) {
    const sorted = timings[index];
    const cells = [
      command.label.padEnd(width),
      sorted[0].toFixed(1).padStart(8),
      median(sorted).toFixed(1).padStart(9),
      sorted[sorted.length - 1].toFixed(1).padStart(8),
      (median(sorted) / baseline).toFixed(2).padStart(18),
    ];
    console.log(cells.join('  '));
  }
}

const options = readBenchOptions({
  name: 'plan-startup',
  usage,
  counts: { runs: { default: 15, min: 1, max: 1000 }, warmup: { default: 2, min: 0, max: 100 } },
});
requireFiles();

const workDir = mkdtempSync(path.join(os.tmpdir(), 'ptk-bench-'));
try {
  const commands = listCommands(workDir);
  const timings = commands.map(() => []);

  // Each round starts at a different command, so that no command always runs right after the same one.
  for (let round = 0; round < options.warmup + options.runs; round++) {
    for (let step = 0; step < commands.length; step++) {
      const index = (round + step) % commands.length;
      const elapsedMs = timeOnce(commands[index], { cwd: workDir, timeoutMs: runTimeoutMs });
      if (round >= options.warmup) timings[index].push(elapsedMs);
    }
  }

  for (const list of timings) list.sort((a, b) => a - b);
  printTable(commands, timings, options);
} catch (error) {
  process.stderr.write(`plan-startup: ${error.message}\n`);
  process.exitCode = 1;
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
