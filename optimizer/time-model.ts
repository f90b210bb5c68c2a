import type { Channel, Grouping, Pipeline, Task } from '../core/types.ts';
import { medianWallSeconds, type Profile, type Sample } from '../core/profile.ts';
import type { Catalog, MachineType } from '../pricing/types.ts';
import type { NodeType, TaskTime } from './types.ts';

/** A task's time on a node, or why ptk cannot predict it. */
export type TaskTimeResult = { time: TaskTime; reason?: undefined } | { time?: undefined; reason: string };

/**
 * Predicts one task's wall time on a node type from the profile.
 *
 * A sample on the same machine type and accelerator is used as measured. Otherwise CPU time is scaled
 * by cores with Amdahl's law, using the parallel fraction fitted from samples at different core counts
 * (none, so no speedup, when only one core count was measured), and by the machines' relative CPU speed.
 * A task that requests a GPU runs on CPU where the node has none, if the profile has a CPU-only timing.
 * GPU speedups are never guessed: a GPU time needs a sample with that accelerator or a `gpu_speedup`.
 */
export function predictTaskTime(task: Task, node: NodeType, catalog: Catalog, profile: Profile): TaskTimeResult {
  const entry = profile.tasks[task.name];
  if (!entry || entry.samples.length === 0) {
    return { reason: `no timing for ${task.name} in the profile; run "ptk profile" or add a sample for it` };
  }

  const machine = catalog.machines.find((candidate) => candidate.name === node.machineType);
  if (!machine) return { reason: `machine type ${node.machineType} is not in catalog ${catalog.name}` };

  const gpus = task.resources.gpuRequest?.value ?? task.resources.gpuLimit?.value ?? 0;
  const accelerator = node.accelerator;
  const cores = Math.min(task.resources.cpuLimit?.value ?? machine.vcpus, machine.vcpus);

  if (gpus > 0 && accelerator) {
    if (accelerator.count < gpus) {
      return { reason: `${task.name} requests ${gpus} GPUs and the node has ${accelerator.count} ${accelerator.name}` };
    }
    const onDevice = entry.samples.filter((sample) => sample.accelerator?.name === accelerator.name);
    const exact = onDevice.find((sample) => sample.machine_type === machine.name);
    if (exact) return { time: { task: task.name, seconds: medianWallSeconds(exact), basis: 'measured' } };
    const other = onDevice[0];
    if (other) {
      return {
        time: {
          task: task.name,
          seconds: medianWallSeconds(other),
          basis: 'estimated',
          note: `measured with ${accelerator.name} on ${other.machine_type}; the CPU part is not rescaled`,
        },
      };
    }
    const speedup = entry.gpu_speedup?.[accelerator.name];
    const onCpu = cpuTime(task, entry.samples, machine, cores, catalog);
    if (speedup && onCpu) {
      return { time: { task: task.name, seconds: onCpu.seconds / speedup, basis: 'estimated', note: `CPU time divided by the given gpu_speedup ${speedup}` } };
    }
    return { reason: `no timing of ${task.name} on ${accelerator.name}, and GPU speedups are never guessed; profile it on that GPU or set gpu_speedup in the profile` };
  }

  const onCpu = cpuTime(task, entry.samples, machine, cores, catalog);
  if (!onCpu) {
    return {
      reason:
        gpus > 0
          ? `${task.name} requests a GPU, ${node.machineType} has none, and the profile has no CPU-only timing of it`
          : `no CPU timing of ${task.name} in the profile`,
    };
  }
  if (gpus > 0) onCpu.cpuFallback = true;
  return { time: onCpu };
}

/** Predicts a task's CPU-only time on `cores` cores of `machine`. */
function cpuTime(task: Task, samples: Sample[], machine: MachineType, cores: number, catalog: Catalog): TaskTime | undefined {
  const usesGpu = (task.resources.gpuRequest?.value ?? task.resources.gpuLimit?.value ?? 0) > 0;
  // A task that uses no GPU runs the same with or without one on the node, so every sample counts;
  // a GPU task's CPU-only time comes only from samples taken without an accelerator.
  const candidates = usesGpu ? samples.filter((sample) => sample.accelerator === null) : preferCpuOnly(samples);
  if (candidates.length === 0) return undefined;

  const exact = candidates.find((sample) => sample.machine_type === machine.name && sample.vcpus === cores);
  if (exact) return { task: task.name, seconds: medianWallSeconds(exact), basis: 'measured' };

  const speedOf = (name: string) => catalog.machines.find((candidate) => candidate.name === name)?.cpuSpeed ?? 1;
  const parallel = parallelFraction(candidates, speedOf);
  const reference = candidates.reduce((best, sample) => (Math.abs(sample.vcpus - cores) < Math.abs(best.vcpus - cores) ? sample : best));
  const singleCore = (medianWallSeconds(reference) * speedOf(reference.machine_type)) / ((1 - parallel) + parallel / reference.vcpus);
  const seconds = (singleCore * ((1 - parallel) + parallel / cores)) / machine.cpuSpeed;
  const scaling = parallel > 0 ? `parallel fraction ${parallel.toFixed(2)}` : 'no speedup from more cores assumed';
  return { task: task.name, seconds, basis: 'estimated', note: `scaled from ${reference.vcpus} vCPU on ${reference.machine_type} to ${cores} (${scaling})` };
}

function preferCpuOnly(samples: Sample[]): Sample[] {
  const cpuOnly = samples.filter((sample) => sample.accelerator === null);
  return cpuOnly.length > 0 ? cpuOnly : samples;
}

/**
 * Fits Amdahl's parallel fraction p from samples at different core counts: t(c) = t1 × ((1 − p) + p / c),
 * after normalising each time by its machine's CPU speed. Returns 0 when fewer than two core counts
 * were measured, and clamps the fit to [0, 1].
 */
export function parallelFraction(samples: Sample[], speedOf: (machineType: string) => number): number {
  const points = samples.map((sample) => ({ cores: sample.vcpus, seconds: medianWallSeconds(sample) * speedOf(sample.machine_type) }));
  const fewest = points.reduce((low, point) => (point.cores < low.cores ? point : low), points[0]!);
  const most = points.reduce((high, point) => (point.cores > high.cores ? point : high), points[0]!);
  if (!fewest || !most || fewest.cores === most.cores || fewest.seconds === 0) return 0;

  // t_a / t_b = ((1 − p) + p / a) / ((1 − p) + p / b), solved for p.
  const ratio = most.seconds / fewest.seconds;
  const a = fewest.cores;
  const b = most.cores;
  const p = (1 - ratio) / (1 - ratio + ratio / a - 1 / b);
  return Math.min(1, Math.max(0, p));
}

/** The predicted run: its makespan and when each task finishes. */
export interface Schedule {
  makespanSeconds: number;
  finish: Map<string, number>;
}

/**
 * Computes the makespan of a grouping on one node: tasks start when their inputs are complete, the
 * tasks of one container run one after another, the first task of each container waits for its pod's
 * and its container's start overheads (the pod's counts once per container path), and data moves at the
 * channel's measured rate when the profile gives one. All pods are created at once, as `ptk apply` does,
 * so no task waits for node resources: the planner checks separately that every pod fits.
 *
 * NOTE: start overheads sit on each container's path, as the GKE measurements of Nagiyev, Bajrovic and
 * Benkner, "Python to Kubernetes" (2024), Table I imply: more pods and containers took longer. Local runs
 * start every container at once, so their overheads partly overlap with earlier tasks, and predictions
 * for groupings with many containers are pessimistic there.
 */
export function schedule(pipeline: Pipeline, grouping: Grouping, channels: Channel[], times: Map<string, number>, profile: Profile, outputBytes: Map<string, number>): Schedule {
  const finish = new Map<string, number>();
  const previousInContainer = new Map<string, string>();
  const startDelay = new Map<string, number>();

  for (const pod of grouping.pods) {
    pod.containers.forEach((container, containerIndex) => {
      const delay = (containerIndex === 0 ? profile.overheads.pod_start_s : 0) + profile.overheads.container_start_s;
      container.tasks.forEach((task, index) => {
        if (index === 0) startDelay.set(task, delay);
        else previousInContainer.set(task, container.tasks[index - 1]!);
      });
    });
  }

  const rates = profile.overheads.channel_bytes_per_s ?? {};
  for (const task of pipeline.tasks) {
    let ready = 0;
    for (const channel of channels) {
      if (channel.to !== task.name) continue;
      const rate = channel.kind === 'direct' ? undefined : rates[channel.kind];
      const bytes = outputBytes.get(channel.from) ?? 0;
      const transfer = rate && bytes > 0 ? bytes / rate : 0;
      ready = Math.max(ready, (finish.get(channel.from) ?? 0) + transfer);
    }
    const previous = previousInContainer.get(task.name);
    if (previous) ready = Math.max(ready, finish.get(previous) ?? 0);
    finish.set(task.name, ready + (startDelay.get(task.name) ?? 0) + (times.get(task.name) ?? 0));
  }

  const makespanSeconds = Math.max(0, ...finish.values());
  return { makespanSeconds, finish };
}
