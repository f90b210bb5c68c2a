import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { buildContainerSpec, containerCommand, containerEnvironment, defaultInputTimeoutSeconds } from './container-spec.ts';
import { writeFileAtomic } from './write-file.ts';
import { runtimeDirectory } from './runtime-files.ts';
import type { Channel, PodSpec, Pipeline } from './types.ts';
import { describeMachine, type MachineInfo } from './machine.ts';

/** Input of a local run: a pipeline and the pods and channels of one grouping. */
export interface LocalRunInput {
  pipeline: Pipeline;
  pods: PodSpec[];
  channels: Channel[];
  /** Name of the grouping, recorded in the run record. */
  grouping: string;
  cwd: string;
  python: string;
  /** Parent folder of the runs' folders: `.ptk/runs` under `cwd` by default. */
  runsFolder?: string;
  /** CPUs the containers may use (numbers as `taskset` counts them); all when absent. */
  cpus?: number[];
  /** Starts one pod at a time in dependency order, so that each task is measured alone. */
  sequential?: boolean;
  inputTimeoutSeconds?: number;
  progress?: Progress;
  /** Aborting stops every process of the run. */
  signal?: AbortSignal;
}

/** Receives the run's progress: task starts and ends as they happen. */
export interface Progress {
  started(runId: string, runFolder: string, tasks: string[]): void;
  update(state: RunState): void;
  finished(record: RunRecord): void;
}

export type TaskStatus = 'waiting' | 'running' | 'done' | 'failed';

/** The live state of a run, as the progress display shows it. */
export interface RunState {
  elapsedSeconds: number;
  tasks: Map<string, TaskStatus>;
}

/** One task's line of the run record. Times are Unix seconds. */
export interface TaskRecord {
  task: string;
  pod: string;
  container: string;
  replica: number;
  status: 'ok' | 'failed' | 'unfinished';
  start: number | null;
  end: number | null;
  wall_s: number | null;
  cpu_s: number | null;
  input_wait_s: number | null;
  bytes_in: number | null;
  bytes_out: number | null;
  error: string | null;
  log: string;
}

export interface ContainerRecord {
  pod: string;
  replica: number;
  container: string;
  exit_code: number | null;
  signal: string | null;
  started_at: number | null;
  finished_at: number | null;
  cpu_s: number | null;
  max_rss_bytes: number | null;
  log: string;
}

/** The run record `.ptk/runs/<run-id>/run.json`. */
export interface RunRecord {
  version: 1;
  run_id: string;
  pipeline: string;
  grouping: string;
  status: 'succeeded' | 'failed' | 'interrupted';
  started_at: number;
  finished_at: number;
  wall_s: number;
  machine: MachineInfo;
  cpus: number[] | null;
  tasks: TaskRecord[];
  containers: ContainerRecord[];
  /** Seconds from launching each pod to its first container starting. */
  pod_starts_s: number[];
  /** Folder of the run: logs, data, results. */
  folder: string;
}

interface PodLaunch {
  pod: PodSpec;
  replica: number;
  statusFile: string;
  logFile: string;
  process?: ChildProcess;
  exited?: Promise<void>;
  /** Unix seconds when the pod launcher was spawned. */
  spawnedAt?: number;
}

/** Seconds a pod launcher gets to stop its containers after SIGTERM, before SIGKILL. */
const graceSeconds = 5;

/**
 * Runs a grouping on this machine with the entry point, arguments and environment that the manifests give
 * each container. Each pod runs as a process group (the pod launcher `python -m ptk.pod` and its
 * containers); containers of a pod start together. PVCs and volumes are folders under the run's folder, IPC
 * folders live in /dev/shm. Every pod starts at once, and each task waits for its inputs, as the pods of
 * `ptk apply` do. With `sequential`, pods start one after another instead.
 */
export async function runLocal(input: LocalRunInput): Promise<RunRecord> {
  const runId = makeRunId();
  const runsFolder = input.runsFolder ?? join(input.cwd, '.ptk', 'runs');
  const folder = resolve(input.cwd, runsFolder, runId);
  const ipcRoot = existsSync('/dev/shm') ? join('/dev/shm', `ptk-${runId}`) : join(folder, 'ipc');
  for (const sub of ['logs', 'pvc', 'pods', 'status', 'results']) mkdirSync(join(folder, sub), { recursive: true });
  const events = join(folder, 'events.jsonl');
  const startedAt = Date.now() / 1000;

  const module = resolve(input.cwd, input.pipeline.file);
  const runtime = runtimeDirectory();
  const pythonPath = [runtime, dirname(module), process.env.PYTHONPATH].filter(Boolean).join(delimiter);
  const taskNames = input.pipeline.tasks.map((task) => task.name);
  input.progress?.started(runId, folder, taskNames);

  const launches: PodLaunch[] = [];
  for (const pod of orderPods(input.pods, input.channels)) {
    for (let replica = 0; replica < pod.replicas; replica++) {
      const suffix = pod.replicas > 1 ? `.${replica}` : '';
      launches.push({ pod, replica, statusFile: join(folder, 'status', `${pod.kubeName}${suffix}.json`), logFile: join(folder, 'logs', `pod-${pod.kubeName}${suffix}.log`) });
    }
  }

  const specFor = (pod: PodSpec, container: string) =>
    buildContainerSpec(
      {
        pipeline: input.pipeline,
        pods: input.pods,
        channels: input.channels,
        runId,
        module,
        dataPath: (producer, kind, producerPod) => {
          if (kind === 'PVC') return join(folder, 'pvc', producer);
          if (kind === 'Volume') return join(folder, 'pods', producerPod.kubeName, producer);
          return join(ipcRoot, producerPod.kubeName, producer);
        },
        inputTimeoutSeconds: input.inputTimeoutSeconds ?? defaultInputTimeoutSeconds,
        logDir: join(folder, 'logs'),
        record: events,
        resultsDir: join(folder, 'results'),
      },
      pod,
      container,
    );

  const start = (launch: PodLaunch) => {
    const containers = launch.pod.containers.map((container) => {
      const spec = specFor(launch.pod, container.name);
      return {
        name: container.name,
        argv: [input.python, ...containerCommand(module, launch.pod.name, container.name, 'job').slice(1)],
        env: { ...containerEnvironment(spec, folder, pythonPath), PTK_REPLICA_INDEX: String(launch.replica) },
        log: containerLogFile(folder, launch, container.kubeName),
      };
    });
    const podSpec = { pod: launch.pod.name, cpus: input.cpus ?? null, status: launch.statusFile, grace_s: graceSeconds, containers };
    const log = openSync(launch.logFile, 'a');
    launch.spawnedAt = Date.now() / 1000;
    const child = spawn(input.python, ['-m', 'ptk.pod'], {
      cwd: input.cwd,
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, PYTHONPATH: pythonPath, PTK_POD_SPEC: JSON.stringify(podSpec) },
    });
    closeSync(log);
    launch.process = child;
    launch.exited = new Promise((done) => {
      child.on('exit', () => {
        // Processes that a task started in the background would outlive the run: end the pod's group.
        if (child.pid) signalGroup(child.pid, 'SIGKILL');
        done();
      });
      child.on('error', () => done());
    });
  };

  const stopAll = () => {
    for (const launch of launches) {
      if (launch.process?.pid && launch.process.exitCode === null && launch.process.signalCode === null) {
        signalGroup(launch.process.pid, 'SIGTERM');
        setTimeout(() => signalGroup(launch.process!.pid!, 'SIGKILL'), (graceSeconds + 1) * 1000).unref();
      }
    }
  };
  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    stopAll();
  };
  input.signal?.addEventListener('abort', onAbort);

  const state: RunState = { elapsedSeconds: 0, tasks: new Map(taskNames.map((name) => [name, 'waiting'])) };
  const watcher = new EventWatcher(events);
  const ticker = setInterval(() => {
    watcher.read(state);
    state.elapsedSeconds = Date.now() / 1000 - startedAt;
    input.progress?.update(state);
  }, 200);

  try {
    if (input.sequential) {
      for (const launch of launches) {
        if (interrupted) break;
        start(launch);
        await launch.exited;
      }
    } else {
      for (const launch of launches) start(launch);
      await Promise.all(launches.map((launch) => launch.exited));
    }
  } finally {
    clearInterval(ticker);
    input.signal?.removeEventListener('abort', onAbort);
    rmSync(ipcRoot, { recursive: true, force: true });
  }

  watcher.read(state);
  const finishedAt = Date.now() / 1000;
  state.elapsedSeconds = finishedAt - startedAt;
  input.progress?.update(state);
  const record = buildRecord({ input, runId, folder, startedAt, finishedAt, launches, events: watcher.events, interrupted });
  await writeFileAtomic(join(folder, 'run.json'), `${JSON.stringify(record, null, 2)}\n`);
  input.progress?.finished(record);
  return record;
}

/** Returns the log file of one container of one pod replica, which the pod launcher writes. */
function containerLogFile(folder: string, launch: PodLaunch, containerKubeName: string): string {
  const suffix = launch.pod.replicas > 1 ? `.${launch.replica}` : '';
  return join(folder, 'logs', `${launch.pod.kubeName}.${containerKubeName}${suffix}.log`);
}

/** Orders pods so that a pod comes after the pods whose tasks feed it, where the pod graph allows. */
function orderPods(pods: PodSpec[], channels: Channel[]): PodSpec[] {
  const podOf = new Map<string, PodSpec>();
  for (const pod of pods) for (const container of pod.containers) for (const task of container.tasks) podOf.set(task, pod);
  const ordered: PodSpec[] = [];
  const visiting = new Set<PodSpec>();
  const visit = (pod: PodSpec) => {
    if (ordered.includes(pod) || visiting.has(pod)) return;
    visiting.add(pod);
    for (const channel of channels) {
      const producer = podOf.get(channel.from);
      if (podOf.get(channel.to) === pod && producer && producer !== pod) visit(producer);
    }
    visiting.delete(pod);
    ordered.push(pod);
  };
  for (const pod of pods) visit(pod);
  return ordered;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group has already exited.
  }
}

/** Makes a run id: the UTC time to the second and 16 random bits, such as `20261204-213043-60d7`. */
export function makeRunId(): string {
  const now = new Date();
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

interface RuntimeEvent {
  event: 'start' | 'inputs' | 'end';
  task: string;
  pod: string;
  container: string;
  replica: number;
  time: number;
  status?: 'ok' | 'failed';
  wall_s?: number;
  cpu_s?: number;
  bytes_in?: number;
  bytes_out?: number;
  input_wait_s?: number;
  error?: string;
}

/** Reads the runtime's event record as it grows and keeps each task's latest status. */
class EventWatcher {
  private offset = 0;
  readonly events: RuntimeEvent[] = [];

  constructor(private readonly file: string) {}

  read(state: RunState): void {
    if (!existsSync(this.file)) return;
    const text = readFileSync(this.file, 'utf8');
    const end = text.lastIndexOf('\n') + 1;
    if (end <= this.offset) return;
    for (const line of text.slice(this.offset, end).split('\n')) {
      if (line.trim() === '') continue;
      try {
        const event = JSON.parse(line) as RuntimeEvent;
        this.events.push(event);
        // A started task waits for its inputs; it runs once they are loaded.
        if (event.event === 'start') state.tasks.set(event.task, 'waiting');
        else if (event.event === 'inputs') state.tasks.set(event.task, 'running');
        else state.tasks.set(event.task, event.status === 'ok' ? 'done' : 'failed');
      } catch {
        // A line that is not JSON is not the runtime's: skip it.
      }
    }
    this.offset = end;
  }
}

function buildRecord(options: {
  input: LocalRunInput;
  runId: string;
  folder: string;
  startedAt: number;
  finishedAt: number;
  launches: PodLaunch[];
  events: RuntimeEvent[];
  interrupted: boolean;
}): RunRecord {
  const { input, folder, launches } = options;

  const containers: ContainerRecord[] = [];
  const podStarts: number[] = [];
  for (const launch of launches) {
    const status = readStatus(launch.statusFile);
    const firstStart = Math.min(...(status?.containers ?? []).map((entry) => entry.started_at));
    if (launch.spawnedAt !== undefined && Number.isFinite(firstStart)) podStarts.push(Math.max(0, firstStart - launch.spawnedAt));
    for (const container of launch.pod.containers) {
      const entry = status?.containers.find((candidate) => candidate.name === container.name);
      containers.push({
        pod: launch.pod.name,
        replica: launch.replica,
        container: container.name,
        exit_code: entry?.exit_code ?? null,
        signal: entry?.signal ?? null,
        started_at: entry?.started_at ?? null,
        finished_at: entry?.finished_at ?? null,
        cpu_s: entry?.cpu_s ?? null,
        max_rss_bytes: entry?.max_rss_bytes ?? null,
        log: containerLogFile(folder, launch, container.kubeName),
      });
    }
  }

  const tasks: TaskRecord[] = [];
  for (const launch of launches) {
    for (const container of launch.pod.containers) {
      for (const task of container.tasks) {
        const mine = options.events.filter((event) => event.task === task && event.replica === launch.replica);
        const started = mine.find((event) => event.event === 'start');
        const ended = mine.find((event) => event.event === 'end');
        tasks.push({
          task,
          pod: launch.pod.name,
          container: container.name,
          replica: launch.replica,
          status: taskStatus(ended),
          start: started?.time ?? null,
          end: ended?.time ?? null,
          wall_s: ended?.wall_s ?? null,
          cpu_s: ended?.cpu_s ?? null,
          input_wait_s: ended?.input_wait_s ?? null,
          bytes_in: ended?.bytes_in ?? null,
          bytes_out: ended?.bytes_out ?? null,
          error: ended?.error ?? null,
          log: join(folder, 'logs', `${task}${launch.pod.replicas > 1 ? `.${launch.replica}` : ''}.log`),
        });
      }
    }
  }

  const allOk = tasks.every((task) => task.status === 'ok') && containers.every((container) => container.exit_code === 0);
  return {
    version: 1,
    run_id: options.runId,
    pipeline: input.pipeline.file,
    grouping: input.grouping,
    status: runStatus(options.interrupted, allOk),
    started_at: options.startedAt,
    finished_at: options.finishedAt,
    wall_s: Math.round((options.finishedAt - options.startedAt) * 1000) / 1000,
    machine: describeMachine(),
    cpus: input.cpus ?? null,
    tasks,
    containers,
    pod_starts_s: podStarts.map((seconds) => Math.round(seconds * 1000) / 1000),
    folder,
  };
}

function taskStatus(ended: RuntimeEvent | undefined): TaskRecord['status'] {
  if (!ended) return 'unfinished';
  return ended.status === 'ok' ? 'ok' : 'failed';
}

function runStatus(interrupted: boolean, allOk: boolean): RunRecord['status'] {
  if (interrupted) return 'interrupted';
  return allOk ? 'succeeded' : 'failed';
}

interface LauncherStatus {
  pod: string;
  containers: { name: string; exit_code: number | null; signal: string | null; started_at: number; finished_at: number; cpu_s: number; max_rss_bytes: number }[];
}

function readStatus(file: string): LauncherStatus | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LauncherStatus;
  } catch {
    return undefined;
  }
}
