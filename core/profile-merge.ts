import type { RunRecord } from './local.ts';
import { median, type Profile, type Sample } from './profile.ts';

/** Maximum number of wall-time samples a profile keeps per task and shape. Older ones are dropped first. */
export const maxSamplesPerShape = 20;

/** The machine type name that local measurements carry in a profile. */
export const localMachineType = 'local';

/**
 * Adds the timings of profiling runs to a profile (a new one when `existing` is undefined). Each task's
 * time is its wall time minus the time it waited for inputs; runs with the same core count extend one
 * sample. The overheads are medians over the runs: a container's start is its process time not spent in
 * its tasks, and a pod's start is the time from launching the pod to its container starting.
 */
export function mergeRuns(existing: Profile | undefined, runs: RunRecord[], pipelineFile: string, measuredAt: string): Profile {
  const profile: Profile = existing
    ? structuredClone(existing)
    : { version: 1, pipeline: pipelineFile, overheads: { pod_start_s: 0, container_start_s: 0 }, tasks: {} };

  for (const run of runs) {
    const vcpus = run.cpus?.length ?? run.machine.cores;
    for (const task of run.tasks) {
      if (task.status !== 'ok' || task.wall_s === null) continue;
      const seconds = Math.max(0, task.wall_s - (task.input_wait_s ?? 0));
      const container = run.containers.find((entry) => entry.pod === task.pod && entry.container === task.container && entry.replica === task.replica);
      const entry = (profile.tasks[task.task] ??= { samples: [] });
      let sample = entry.samples.find((candidate) => candidate.machine_type === localMachineType && candidate.vcpus === vcpus && candidate.accelerator === null && candidate.where === 'local');
      if (!sample) {
        sample = { machine_type: localMachineType, vcpus, accelerator: null, wall_s: [], cpu_s: [], peak_rss_bytes: null, output_bytes: null, where: 'local', measured_at: measuredAt };
        entry.samples.push(sample);
      }
      appendSample(sample, seconds, task.cpu_s);
      sample.peak_rss_bytes = Math.max(sample.peak_rss_bytes ?? 0, container?.max_rss_bytes ?? 0) || null;
      if (task.bytes_out !== null) sample.output_bytes = task.bytes_out;
      sample.measured_at = measuredAt;
      sample.note = `measured by ptk profile on ${run.machine.cpu_model}, ${run.machine.cores} cores${run.cpus ? `, limited to ${vcpus}` : ''}`;
    }
  }

  const containerOverheads: number[] = [];
  for (const run of runs) {
    for (const container of run.containers) {
      if (container.exit_code !== 0 || container.started_at === null || container.finished_at === null) continue;
      const tasks = run.tasks.filter((task) => task.pod === container.pod && task.container === container.container && task.replica === container.replica);
      const inTasks = tasks.reduce((total, task) => total + (task.wall_s ?? 0), 0);
      containerOverheads.push(Math.max(0, container.finished_at - container.started_at - inTasks));
    }
  }
  if (containerOverheads.length > 0) profile.overheads.container_start_s = round(median(containerOverheads));
  const podOverheads = runs.flatMap((run) => run.pod_starts_s ?? []);
  if (podOverheads.length > 0) profile.overheads.pod_start_s = round(median(podOverheads));
  profile.source = `measured by ptk profile on this machine, last on ${measuredAt}`;
  return profile;
}

function appendSample(sample: Sample, seconds: number, cpuSeconds: number | null): void {
  sample.wall_s.push(round(seconds));
  if (sample.wall_s.length > maxSamplesPerShape) sample.wall_s.splice(0, sample.wall_s.length - maxSamplesPerShape);
  if (cpuSeconds !== null) {
    const cpu = (sample.cpu_s ??= []);
    cpu.push(round(cpuSeconds));
    if (cpu.length > maxSamplesPerShape) cpu.splice(0, cpu.length - maxSamplesPerShape);
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
