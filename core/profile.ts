import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { InputError, type Problem } from './errors.ts';

/**
 * The profile file `ptk.profile.json`: measured task timings per resource shape, and the overheads
 * that pods, containers and channels add. Version 1.
 */
export interface Profile {
  version: 1;
  /** The pipeline file the timings belong to, relative to the profile. */
  pipeline?: string;
  /** Origin of the figures, for people reading the plan. */
  source?: string;
  overheads: Overheads;
  tasks: Record<string, TaskProfile>;
}

/**
 * Time that grouping choices add, on top of the tasks' own times: seconds for each pod and container
 * started (the first ones included), and the throughput of each channel.
 */
export interface Overheads {
  /** Seconds from creating a pod to its containers starting. */
  pod_start_s: number;
  /** Seconds a container spends outside its tasks: starting Python and the runtime, importing the module, exiting. */
  container_start_s: number;
  /** Throughput of each channel in bytes per second; a missing channel adds no transfer time. */
  channel_bytes_per_s?: Partial<Record<'PVC' | 'Volume' | 'IPC', number>>;
}

export interface TaskProfile {
  samples: Sample[];
  /** User-given speedup of the task on an accelerator over its CPU-only time, by accelerator name. */
  gpu_speedup?: Record<string, number>;
}

/** Timings of one task on one resource shape. */
export interface Sample {
  machine_type: string;
  /** Cores the task could use when it was measured. */
  vcpus: number;
  accelerator: { name: string; count: number } | null;
  /** Wall-clock seconds, one per run. */
  wall_s: number[];
  cpu_s?: number[] | null;
  peak_rss_bytes?: number | null;
  output_bytes?: number | null;
  /** `cluster`, `local`, or `paper` and `manual` for figures entered by hand. */
  where: 'cluster' | 'local' | 'paper' | 'manual';
  /** Date or time of the measurement, ISO 8601. */
  measured_at: string;
  note?: string;
}

/** Reads a profile file. A missing file raises an InputError with the command that records one. */
export async function loadProfile(path: string, cwd: string): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, path), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new InputError(`${path}: profile not found; record task timings with "ptk profile PIPELINE.py", or pass --profile FILE`);
    }
    throw new InputError(`${path}: cannot be read (${code ?? String(error)})`);
  }
  return parseProfile(text, path);
}

/** Parses and checks a profile's JSON text, reporting every problem with its JSON path. */
export function parseProfile(text: string, file: string): Profile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${file}: invalid JSON (${(error as Error).message}); fix the file or record it again with "ptk profile"`);
  }

  const problems: Problem[] = [];
  const report = (path: string, message: string) => problems.push({ message: `${file}: ${path}: ${message}` });
  if (!isObject(data)) throw new InputError(`${file}: a profile is a JSON object with "version", "overheads" and "tasks"`);

  if (data.version !== 1) report('version', `unsupported version ${show(data.version)}; this ptk reads version 1`);

  const overheads = data.overheads;
  if (!isObject(overheads)) report('overheads', 'missing; write {"pod_start_s": 0, "container_start_s": 0}');
  else {
    for (const key of ['pod_start_s', 'container_start_s']) {
      if (!isNonNegative(overheads[key])) report(`overheads.${key}`, `must be a number of seconds of at least 0, but is ${show(overheads[key])}`);
    }
    const channels = overheads.channel_bytes_per_s;
    if (channels !== undefined) {
      if (!isObject(channels)) report('overheads.channel_bytes_per_s', 'must be an object such as {"PVC": 200000000}');
      else
        for (const [kind, rate] of Object.entries(channels)) {
          if (!['PVC', 'Volume', 'IPC'].includes(kind)) report(`overheads.channel_bytes_per_s.${kind}`, 'is not a channel; use PVC, Volume or IPC');
          else if (typeof rate !== 'number' || !(rate > 0)) report(`overheads.channel_bytes_per_s.${kind}`, `must be a positive number of bytes per second, but is ${show(rate)}`);
        }
    }
  }

  if (!isObject(data.tasks)) report('tasks', 'missing; write {"<task name>": {"samples": [...]}}');
  else
    for (const [name, entry] of Object.entries(data.tasks)) {
      checkTask(`tasks.${name}`, entry, report);
    }

  if (problems.length > 0) throw new InputError(problems);
  return data as unknown as Profile;
}

function checkTask(path: string, entry: unknown, report: (path: string, message: string) => void): void {
  if (!isObject(entry) || !Array.isArray(entry.samples)) {
    report(path, 'must be an object with a "samples" list');
    return;
  }
  entry.samples.forEach((sample: unknown, index: number) => {
    const at = `${path}.samples[${index}]`;
    if (!isObject(sample)) {
      report(at, 'must be an object');
      return;
    }
    if (typeof sample.machine_type !== 'string' || sample.machine_type === '') report(`${at}.machine_type`, 'must be a machine type name such as "n1-standard-1", or "local"');
    if (typeof sample.vcpus !== 'number' || !(sample.vcpus > 0)) report(`${at}.vcpus`, `must be a positive number of cores, but is ${show(sample.vcpus)}`);
    if (sample.accelerator !== null && !(isObject(sample.accelerator) && typeof sample.accelerator.name === 'string' && Number.isInteger(sample.accelerator.count) && (sample.accelerator.count as number) > 0)) {
      report(`${at}.accelerator`, 'must be null or {"name": "nvidia-tesla-t4", "count": 1}');
    }
    if (!Array.isArray(sample.wall_s) || sample.wall_s.length === 0 || !sample.wall_s.every(isNonNegative)) {
      report(`${at}.wall_s`, `must be a non-empty list of seconds, each at least 0, but is ${show(sample.wall_s)}`);
    }
    if (!['cluster', 'local', 'paper', 'manual'].includes(sample.where as string)) report(`${at}.where`, `must be "cluster", "local", "paper" or "manual", but is ${show(sample.where)}`);
  });
  if (entry.gpu_speedup !== undefined) {
    if (!isObject(entry.gpu_speedup)) report(`${path}.gpu_speedup`, 'must be an object such as {"nvidia-tesla-t4": 20}');
    else
      for (const [name, factor] of Object.entries(entry.gpu_speedup)) {
        if (typeof factor !== 'number' || !(factor > 0)) report(`${path}.gpu_speedup.${name}`, `must be a positive factor, but is ${show(factor)}`);
      }
  }
}

/** Returns the median of a sample's wall times, the figure the planner uses. */
export function medianWallSeconds(sample: Sample): number {
  return median(sample.wall_s);
}

/** Returns the median of numbers in any order. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegative(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/**
 * Checks that a profile belongs to the pipeline it is used with: its `pipeline` field names the file,
 * relative to the profile's folder. A profile without that field fits any pipeline.
 * @throws InputError naming both files and how to keep one profile per pipeline.
 */
export function checkProfilePipeline(profile: Profile, profilePath: string, pipelineFile: string, cwd: string): void {
  if (!profile.pipeline) return;
  const named = resolve(dirname(resolve(cwd, profilePath)), profile.pipeline);
  if (named === resolve(cwd, pipelineFile)) return;
  throw new InputError(
    `${profilePath}: contains the timings of ${relative(cwd, named) || profile.pipeline}, not of ${pipelineFile}; ` +
      `profile this pipeline into its own file with "ptk profile ${pipelineFile} --out FILE" and pass --profile FILE`,
  );
}

/**
 * Checks that a profile times every task of the pipeline, naming the tasks without timings and the
 * profile's entries that match no task (a renamed task leaves one behind).
 * @throws InputError with the command that records the missing timings.
 */
export function checkProfileCoversTasks(profile: Profile, profilePath: string, taskNames: string[], pipelineFile: string): void {
  const missing = taskNames.filter((name) => (profile.tasks[name]?.samples.length ?? 0) === 0);
  if (missing.length === 0) return;
  const stale = Object.keys(profile.tasks).filter((name) => !taskNames.includes(name));
  const staleNote = stale.length > 0 ? `; it has timings of ${stale.join(', ')}, which are not tasks of the pipeline (renamed?)` : '';
  throw new InputError(
    `${profilePath}: no timing for task${missing.length === 1 ? '' : 's'} ${missing.join(', ')}${staleNote}; ` +
      `run "ptk profile ${pipelineFile}" to measure them, or add samples by hand`,
  );
}

/** Shows a JSON value in a message, or `missing` for a field that is absent. */
function show(value: unknown): string {
  return value === undefined ? 'missing' : JSON.stringify(value);
}
