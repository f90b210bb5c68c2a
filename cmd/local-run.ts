import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import Table from 'cli-table3';
import { InputError } from '../core/errors.ts';
import { runLocal, type LocalRunInput, type RunRecord } from '../core/local.ts';
import { streamProgress } from '../core/progress.ts';
import { describeBytes } from '../core/quantity.ts';
import type { CommandResult } from './result.ts';

/** The oldest Python that the runtime supports. */
const minimumPython: [number, number] = [3, 9];

/**
 * Picks the Python interpreter: `--python`, else `PTK_PYTHON`, else `python3`, and checks that it runs
 * and is recent enough.
 * @throws InputError naming the interpreter and how to choose another.
 */
export function choosePython(requested: string | undefined): string {
  const python = requested ?? process.env.PTK_PYTHON ?? 'python3';
  let source = 'the default';
  if (requested) source = '--python';
  else if (process.env.PTK_PYTHON) source = 'PTK_PYTHON';
  const probe = spawnSync(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new InputError(`Python interpreter ${python} (${source}) cannot be run; install Python ${minimumPython.join('.')} or later, or name one with --python PATH or PTK_PYTHON`);
  }
  const [major = 0, minor = 0] = probe.stdout.trim().split('.').map(Number);
  if (major < minimumPython[0] || (major === minimumPython[0] && minor < minimumPython[1])) {
    throw new InputError(`Python interpreter ${python} (${source}) is version ${major}.${minor}; the ptk runtime needs ${minimumPython.join('.')} or later: name another with --python PATH`);
  }
  return python;
}

/** Runs a grouping locally with a progress display on stderr, and turns the run record into a command result. */
export async function runAndReport(input: Omit<LocalRunInput, 'progress'>): Promise<CommandResult> {
  const record = await runLocal({ ...input, progress: streamProgress(process.stderr) });
  return reportRun(record, input.cwd);
}

/** Describes a finished run: a table of tasks, the final results, and why it failed or what was left unfinished. */
export function reportRun(record: RunRecord, cwd: string): CommandResult {
  const table = new Table({ head: ['task', 'pod / container', 'status', 'wall', 'CPU', 'in', 'out'], style: { head: [], border: [], compact: true } });
  for (const task of record.tasks) {
    table.push([
      taskLabel(record, task),
      task.pod === task.container ? task.pod : `${task.pod} / ${task.container}`,
      task.status,
      task.wall_s === null ? '-' : `${task.wall_s.toFixed(2)} s`,
      task.cpu_s === null ? '-' : `${task.cpu_s.toFixed(2)} s`,
      task.bytes_in === null ? '-' : describeBytes(task.bytes_in),
      task.bytes_out === null ? '-' : describeBytes(task.bytes_out),
    ]);
  }

  const folder = relative(cwd, record.folder) || '.';
  const lines = [`run ${record.run_id} ${record.status} in ${record.wall_s.toFixed(2)} s (${record.grouping})`, table.toString()];
  const results = readResults(record);
  if (results.length > 0) {
    lines.push('', 'results:');
    for (const { task, text } of results) lines.push(`  ${task}: ${text}`);
  }
  lines.push('', `record: ${join(folder, 'run.json')}`);

  if (record.status === 'succeeded') return { stdout: lines.join('\n'), exitCode: 0 };
  if (record.status === 'interrupted') {
    const finished = record.tasks.filter((task) => task.status === 'ok').map((task) => task.task);
    const unfinished = record.tasks.filter((task) => task.status !== 'ok').map((task) => `${task.task} (${task.start === null ? 'waiting' : 'running'})`);
    return {
      stdout: lines.join('\n'),
      stderr: `ptk: interrupted; every process of the run was stopped. Finished: ${finished.join(', ') || 'none'}. Unfinished: ${unfinished.join(', ') || 'none'}.`,
      exitCode: 130,
    };
  }

  const messages: string[] = [];
  for (const container of record.containers) {
    const unfinished = record.tasks.filter((task) => task.pod === container.pod && task.container === container.container && task.replica === container.replica && task.status === 'unfinished');
    const crashed = container.signal !== null || (container.exit_code !== 0 && unfinished.length > 0);
    if (!crashed && unfinished.length === 0) continue;
    const cause = lastLogLine(container.log);
    const names = unfinished.map((task) => task.task).join(', ');
    messages.push(
      `container ${container.container} of pod ${container.pod} ${describeExit(container)}${names ? ` before finishing ${names}` : ''}` +
        `${cause ? `: ${cause}` : ''} (log: ${relative(cwd, container.log)})${hintFor(cause)}`,
    );
  }
  for (const task of record.tasks.filter((entry) => entry.status === 'failed')) {
    messages.push(`task ${task.task} failed: ${task.error ?? 'see its log'} (log: ${relative(cwd, task.log)})`);
  }
  return { stdout: lines.join('\n'), stderr: messages.map((message) => `ptk: ${message}`).join('\n'), exitCode: 1 };
}

/** Returns the last non-empty line of a log, where the runtime prints its one-line error, or undefined. */
function lastLogLine(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines[lines.length - 1];
}

function hintFor(cause: string | undefined): string {
  if (cause && /ModuleNotFoundError|No module named/.test(cause)) {
    return '; the interpreter lacks a module the pipeline imports: install it, or choose another interpreter with --python PATH or PTK_PYTHON';
  }
  return '';
}

function describeExit(container: RunRecord['containers'][number]): string {
  if (container.signal) return `was killed by ${container.signal}`;
  if (container.exit_code === null) return 'did not report an exit status';
  return `exited with code ${container.exit_code}`;
}

/** Names a task for the report, with its replica index when its pod has more than one replica. */
function taskLabel(record: RunRecord, task: RunRecord['tasks'][number]): string {
  const replicated = record.tasks.some((other) => other.task === task.task && other.replica > 0);
  return replicated ? `${task.task} [${task.replica}]` : task.task;
}

function readResults(record: RunRecord): { task: string; text: string }[] {
  const results: { task: string; text: string }[] = [];
  for (const task of record.tasks) {
    if (task.status !== 'ok') continue;
    const base = join(record.folder, 'results', task.task);
    const file = existsSync(join(base, 'repr.txt')) ? join(base, 'repr.txt') : join(base, `replica-${task.replica}`, 'repr.txt');
    if (!existsSync(file)) continue;
    results.push({ task: taskLabel(record, task), text: readFileSync(file, 'utf8').trim() });
  }
  return results;
}
