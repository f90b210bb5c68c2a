import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import Table from 'cli-table3';
import { InputError } from '../core/errors.ts';
import { channelsFor, makeGrouping } from '../core/grouping.ts';
import { runLocal, type RunRecord } from '../core/local.ts';
import { checkProfilePipeline, medianWallSeconds, parseProfile, type Profile } from '../core/profile.ts';
import { localMachineType, mergeRuns } from '../core/profile-merge.ts';
import { loadPipeline } from '../core/pipeline.ts';
import { streamProgress } from '../core/progress.ts';
import { describeBytes } from '../core/quantity.ts';
import { writeFileAtomic } from '../core/write-file.ts';
import { choosePython, reportRun } from './local-run.ts';
import type { CommandResult } from './result.ts';

export interface ProfileOptions {
  file: string;
  cwd: string;
  runs?: string;
  cpus?: string;
  python?: string;
  /** Profile file to write or merge into; `ptk.profile.json` beside the pipeline by default. */
  out?: string;
  signal?: AbortSignal;
}

/** Maximum number of runs per core count that `--runs` accepts. */
const maxRuns = 100;

/**
 * Measures each task of a pipeline on this machine and writes the timings into the profile. Every task
 * runs in its own container and pod, one pod at a time, so each is measured alone; `--runs` repeats the
 * whole pipeline and `--cpus` repeats it limited to each listed number of cores. Existing samples of other
 * shapes are kept. A failed run writes nothing.
 */
export async function profile(options: ProfileOptions): Promise<CommandResult> {
  const runs = parseRuns(options.runs);
  const cores = availableParallelism();
  const coreCounts = parseCpus(options.cpus, cores);
  const python = choosePython(options.python);
  const pipeline = await loadPipeline(options.file, options.cwd);
  const out = options.out ?? relative(options.cwd, join(dirname(resolve(options.cwd, options.file)), 'ptk.profile.json'));
  const existing = await readExisting(out, options.cwd);
  if (existing) checkProfilePipeline(existing, out, options.file, options.cwd);

  const layout = makeGrouping('pod-per-task', pipeline);
  if (!layout.grouping) throw new InputError(`${options.file}: cannot run one pod per task: ${layout.reason}`);
  const channels = channelsFor(pipeline, layout.grouping);

  const records: RunRecord[] = [];
  for (const count of coreCounts) {
    for (let index = 0; index < runs; index++) {
      process.stderr.write(`profiling on ${count} of ${cores} cores, run ${index + 1} of ${runs}\n`);
      const record = await runLocal({
        pipeline,
        pods: layout.grouping.pods,
        channels,
        grouping: 'pod-per-task',
        cwd: options.cwd,
        python,
        cpus: count === cores ? undefined : Array.from({ length: count }, (_, cpu) => cpu),
        sequential: true,
        progress: streamProgress(process.stderr),
        signal: options.signal,
      });
      if (record.status !== 'succeeded') {
        const failed = reportRun(record, options.cwd);
        return { ...failed, stderr: `${failed.stderr ?? ''}\nptk: the profile was not written, because a run did not succeed` };
      }
      records.push(record);
    }
  }

  const merged = mergeRuns(existing, records, relative(dirname(resolve(options.cwd, out)), resolve(options.cwd, options.file)), new Date().toISOString());
  await writeFileAtomic(resolve(options.cwd, out), `${JSON.stringify(merged, null, 2)}\n`);
  return { stdout: describeProfile(merged, coreCounts, out), exitCode: 0 };
}

function parseRuns(text: string | undefined): number {
  if (text === undefined) return 1;
  const runs = Number(text);
  if (!Number.isInteger(runs) || runs < 1 || runs > maxRuns) {
    throw new InputError(`--runs ${text} is not a whole number from 1 to ${maxRuns}; write --runs 3`);
  }
  return runs;
}

function parseCpus(text: string | undefined, cores: number): number[] {
  if (text === undefined) return [cores];
  const counts = text.split(',').map((part) => part.trim());
  const invalid = counts.filter((part) => !/^\d+$/.test(part) || Number(part) < 1 || Number(part) > cores);
  if (invalid.length > 0 || counts.length === 0) {
    throw new InputError(`--cpus ${text} must list core counts from 1 to ${cores} (the cores this machine has), such as --cpus 1,${cores}`);
  }
  return [...new Set(counts.map(Number))];
}

async function readExisting(out: string, cwd: string): Promise<Profile | undefined> {
  const path = resolve(cwd, out);
  if (!existsSync(path)) return undefined;
  return parseProfile(await readFile(path, 'utf8'), out);
}

function describeProfile(profile: Profile, coreCounts: number[], out: string): string {
  const table = new Table({
    head: ['task', ...coreCounts.map((count) => `${count} core${count > 1 ? 's' : ''}`), 'CPU', 'peak RSS', 'output'],
    style: { head: [], border: [], compact: true },
  });
  for (const [task, entry] of Object.entries(profile.tasks)) {
    const local = entry.samples.filter((sample) => sample.machine_type === localMachineType && sample.where === 'local');
    if (local.length === 0) continue;
    const row: string[] = [task];
    for (const count of coreCounts) {
      const sample = local.find((candidate) => candidate.vcpus === count);
      row.push(sample ? `${medianWallSeconds(sample).toFixed(3)} s` : '-');
    }
    const latest = local.find((candidate) => candidate.vcpus === coreCounts[coreCounts.length - 1]) ?? local[0]!;
    const cpu = latest.cpu_s && latest.cpu_s.length > 0 ? `${latest.cpu_s[latest.cpu_s.length - 1]!.toFixed(3)} s` : '-';
    row.push(cpu, latest.peak_rss_bytes ? describeBytes(latest.peak_rss_bytes) : '-', latest.output_bytes !== null && latest.output_bytes !== undefined ? describeBytes(latest.output_bytes) : '-');
    table.push(row);
  }
  return [
    'median wall time per task (waiting for inputs excluded):',
    table.toString(),
    `overheads: pod start ${profile.overheads.pod_start_s.toFixed(3)} s, container start ${profile.overheads.container_start_s.toFixed(3)} s`,
    `wrote ${out}; next: ptk plan`,
  ].join('\n');
}
