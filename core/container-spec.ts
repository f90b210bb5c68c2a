import type { Channel, ChannelKind, PodSpec, Pipeline } from './types.ts';

/**
 * The container spec that `python -m ptk.run` reads from `PTK_SPEC`: which tasks the container runs, where
 * each input comes from and where each output goes. runtime/PROTOCOL.md defines the format (version 1).
 */
export interface ContainerSpecJson {
  version: 1;
  run_id: string;
  module: string;
  pod: string;
  container: string;
  replicas: number;
  input_timeout_s: number;
  log_dir: string | null;
  record: string | null;
  results_dir: string | null;
  tasks: TaskSpecJson[];
}

export interface TaskSpecJson {
  name: string;
  function: string;
  inputs: InputSpecJson[];
  output: { channel: Exclude<ChannelKind, 'direct'>; path: string } | null;
}

export type InputSpecJson =
  | { parameter: string; producer: string; channel: 'direct' }
  | { parameter: string; producer: string; channel: Exclude<ChannelKind, 'direct'>; path: string; replicas: number };

export interface SpecOptions {
  pipeline: Pipeline;
  pods: PodSpec[];
  channels: Channel[];
  runId: string;
  /** Path of the pipeline module inside the container. */
  module: string;
  /** Returns the folder, inside the container, that contains a producer's output for a channel kind. */
  dataPath: (producer: string, kind: Exclude<ChannelKind, 'direct'>, producerPod: PodSpec) => string;
  inputTimeoutSeconds: number;
  logDir?: string;
  record?: string;
  resultsDir?: string;
}

/** Default time a task waits for one input before it fails: one day, longer than any sensible task. */
export const defaultInputTimeoutSeconds = 24 * 3600;

/**
 * Builds the spec of one container. A producer's channels can mix kinds; its output folder takes the kind
 * that every consumer can reach (PVC over Volume over IPC), so one folder serves all of them.
 */
export function buildContainerSpec(options: SpecOptions, pod: PodSpec, containerName: string): ContainerSpecJson {
  const container = pod.containers.find((candidate) => candidate.name === containerName);
  if (!container) throw new Error(`container ${containerName} is not in pod ${pod.name}`);

  const byName = new Map(options.pipeline.tasks.map((task) => [task.name, task]));
  const podOf = new Map<string, PodSpec>();
  for (const candidate of options.pods) for (const other of candidate.containers) for (const task of other.tasks) podOf.set(task, candidate);
  const outputKinds = producerKinds(options.channels);

  const tasks = container.tasks.map((taskName): TaskSpecJson => {
    // A layout that names unknown tasks is reported by the caller; the spec keeps the name as given.
    const functionName = byName.get(taskName)?.functionName ?? taskName;
    const inputs = options.channels
      .filter((channel) => channel.to === taskName)
      .map((channel): InputSpecJson => {
        if (channel.kind === 'direct') return { parameter: channel.parameter, producer: channel.from, channel: 'direct' };
        const kind = outputKinds.get(channel.from) ?? channel.kind;
        const producerPod = podOf.get(channel.from) ?? pod;
        return { parameter: channel.parameter, producer: channel.from, channel: kind, path: options.dataPath(channel.from, kind, producerPod), replicas: producerPod.replicas };
      });
    const kind = outputKinds.get(taskName);
    return {
      name: taskName,
      function: functionName,
      inputs,
      output: kind ? { channel: kind, path: options.dataPath(taskName, kind, pod) } : null,
    };
  });

  return {
    version: 1,
    run_id: options.runId,
    module: options.module,
    pod: pod.name,
    container: container.name,
    replicas: pod.replicas,
    input_timeout_s: options.inputTimeoutSeconds,
    log_dir: options.logDir ?? null,
    record: options.record ?? null,
    results_dir: options.resultsDir ?? null,
    tasks,
  };
}

const kindPreference: Exclude<ChannelKind, 'direct'>[] = ['PVC', 'Volume', 'IPC'];

/** Chooses each producer's output kind from its non-direct channels: the first of PVC, Volume, IPC present. */
export function producerKinds(channels: Channel[]): Map<string, Exclude<ChannelKind, 'direct'>> {
  const kinds = new Map<string, Exclude<ChannelKind, 'direct'>>();
  for (const channel of channels) {
    if (channel.kind === 'direct') continue;
    const current = kinds.get(channel.from);
    if (!current || kindPreference.indexOf(channel.kind) < kindPreference.indexOf(current)) kinds.set(channel.from, channel.kind);
  }
  return kinds;
}

/** Returns the command that starts a container's runtime, as the manifests and local runs both give it. */
export function containerCommand(module: string, pod: string, container: string, workload: 'job' | 'deployment'): string[] {
  const command = ['python', '-m', 'ptk.run', '--module', module, '--pod', pod, '--container', container];
  // A Deployment restarts a container that exits, even after success, so the runtime must stay up after
  // its tasks finish.
  if (workload === 'deployment') command.push('--idle-after-finish');
  return command;
}

/** Returns the environment variables of a container's runtime, as the manifests and local runs both give them. */
export function containerEnvironment(spec: ContainerSpecJson, dataRoot: string, pythonPath: string): Record<string, string> {
  return {
    PTK_SPEC: JSON.stringify(spec),
    PTK_POD: spec.pod,
    PTK_CONTAINER: spec.container,
    PTK_TASKS: spec.tasks.map((task) => task.name).join(','),
    PTK_DATA: dataRoot,
    PYTHONPATH: pythonPath,
    PYTHONUNBUFFERED: '1',
  };
}
