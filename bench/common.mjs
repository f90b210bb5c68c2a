// Helpers that the benchmarks share: option parsing with a usage line, timing one command, and the
// statistics their tables print.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

/**
 * Parses a benchmark's options. `counts` maps each whole-number option to its default and its range;
 * `strings` maps each text option to its default. `--help` prints the usage line and exits 0; anything
 * invalid prints the problem and the usage line, prefixed with the benchmark's name, and exits 2.
 */
export function readBenchOptions({ name, usage, counts = {}, strings = {} }) {
  const fail = failureFor(name);
  const options = { help: { type: 'boolean', short: 'h' } };
  for (const [option, spec] of Object.entries(counts)) options[option] = { type: 'string', default: String(spec.default) };
  for (const [option, fallback] of Object.entries(strings)) options[option] = { type: 'string', default: fallback };

  let values;
  try {
    ({ values } = parseArgs({ options }));
  } catch (error) {
    fail(`${error.message}\n${usage}`);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }

  const result = {};
  for (const [option, spec] of Object.entries(counts)) {
    const text = values[option];
    const value = Number(text);
    if (!Number.isInteger(value) || value < spec.min || value > spec.max) {
      fail(`invalid --${option} ${JSON.stringify(text)}: expected a whole number from ${spec.min} to ${spec.max}\n${usage}`);
    }
    result[option] = value;
  }
  for (const option of Object.keys(strings)) result[option] = values[option];
  return result;
}

/** Returns a function that prints `<name>: <message>` on stderr and exits with status 2. */
export function failureFor(name) {
  return (message) => {
    process.stderr.write(`${name}: ${message}\n`);
    process.exit(2);
  };
}

/**
 * Runs a command (`{ label, argv, env? }`) once and returns its wall time in milliseconds.
 * Throws with the command's error output if it cannot start, is killed or exits non-zero.
 */
export function timeOnce(command, { cwd, timeoutMs }) {
  const [file, ...args] = command.argv;
  const start = process.hrtime.bigint();
  const result = spawnSync(file, args, { cwd, env: command.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;

  if (result.error) throw new Error(`${command.label} failed to run: ${result.error.message}`);
  if (result.status !== 0) {
    const reason = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.status}`;
    throw new Error(`${command.label} ${reason}; its error output:\n${result.stderr.toString().trimEnd()}`);
  }
  return elapsedMs;
}

/** Returns the median of numbers sorted in ascending order. */
export function median(sorted) {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Returns the min, median and max of numbers in any order. */
export function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0], median: median(sorted), max: sorted[sorted.length - 1] };
}
