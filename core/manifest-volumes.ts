import type { IVolume, IVolumeMount } from 'kubernetes-models/v1';
import type { Problem } from './errors.ts';
import type { TaskPlacement } from './manifest-layout.ts';
import { joinName } from './manifest-names.ts';
import { formatQuantity } from './manifest-resources.ts';
import type { Channel, ChannelKind, Quantity, Task } from './types.ts';

/** Folder under which each producer's output folder is mounted, as `<dataMountPath>/<producer kubeName>`. */
export const dataMountPath = '/ptk/data';

/** Storage request of a PersistentVolumeClaim whose producer declared no size. */
export const defaultClaimSize = '1Gi';

/** A PersistentVolumeClaim to create for one producer's output. */
export interface ClaimSpec {
  name: string;
  producer: Task;
  storage: string;
}

/** The volumes that carry the pipeline's data: claims to create, and volumes and mounts per pod and container. */
export interface ChannelStorage {
  claims: ClaimSpec[];
  /** Volumes to add to a pod, by pod name. */
  podVolumes: Map<string, IVolume[]>;
  /** Mounts to add to a container, by pod name and container name. */
  containerMounts: Map<string, Map<string, IVolumeMount[]>>;
}

/** Order of preference when one producer's channels use several kinds: the first kind present wins. */
const kindPreference: ChannelKind[] = ['PVC', 'Volume', 'IPC'];

/**
 * Decides the volume of each producer's output and where it is mounted.
 *
 * Each producer gets one volume, mounted read-write in its own container and read-only in every consumer's
 * container at `/ptk/data/<producer kubeName>`. PVC becomes a PersistentVolumeClaim named
 * `<prefix>-<producer>-data`. Volume becomes an `emptyDir` on disk and IPC a memory-backed `emptyDir`, both
 * in the producer's pod. Direct channels need no volume.
 *
 * NOTE: when one producer's channels mix kinds (IPC to a consumer in its pod, PVC to one in another pod),
 * all its consumers read the PVC, because one folder per producer keeps the runtime's contract simple. The
 * in-pod consumer then reads from disk where the plan priced memory.
 */
export function planChannelStorage(
  channels: Channel[],
  placements: Map<string, TaskPlacement>,
  options: { prefix: string; accessMode: 'ReadWriteOnce' | 'ReadWriteMany' },
  problems: Problem[],
): ChannelStorage {
  const storage: ChannelStorage = { claims: [], podVolumes: new Map(), containerMounts: new Map() };
  checkDirectChannels(channels, placements, problems);
  const byProducer = groupByProducer(channels.filter((channel) => channel.kind !== 'direct'));

  for (const [producerName, producerChannels] of byProducer) {
    const producer = placements.get(producerName);
    const consumers = producerChannels.map((channel) => placements.get(channel.to));
    if (!producer || consumers.some((consumer) => consumer === undefined)) continue;

    const kind = kindPreference.find((candidate) => producerChannels.some((channel) => channel.kind === candidate)) ?? 'PVC';
    const size = largestSize(producerChannels, producer.task);
    const volumeName = joinName(['data', producer.task.kubeName]);
    const readers = consumers as TaskPlacement[];

    if (kind === 'PVC') {
      const claimName = joinName([options.prefix, producer.task.kubeName, 'data']);
      storage.claims.push({ name: claimName, producer: producer.task, storage: size ? formatQuantity(size, 'bytes') : defaultClaimSize });
      const volume: IVolume = { name: volumeName, persistentVolumeClaim: { claimName } };
      for (const podName of new Set([producer.pod.name, ...readers.map((reader) => reader.pod.name)])) {
        addVolume(storage, podName, volume);
      }
    } else {
      const outside = readers.filter((reader) => reader.pod.name !== producer.pod.name);
      for (const reader of outside) {
        problems.push({
          message:
            `plan layout: channel ${producer.task.name} → ${reader.task.name} is ${kind}, which needs both tasks in one pod, ` +
            `but they run in pods "${producer.pod.name}" and "${reader.pod.name}"; run ptk plan again`,
        });
      }
      if (outside.length > 0) continue;

      // A memory-backed emptyDir is a tmpfs: its files count against the memory limit of the containers that
      // write them, so sizeLimit caps what a producer can hold there.
      const emptyDir = kind === 'IPC' ? { medium: 'Memory', ...(size ? { sizeLimit: formatQuantity(size, 'bytes') } : {}) } : {};
      addVolume(storage, producer.pod.name, { name: volumeName, emptyDir });
    }

    const mountPath = `${dataMountPath}/${producer.task.kubeName}`;
    addMount(storage, producer, { name: volumeName, mountPath });
    for (const reader of readers) {
      if (reader.pod.name === producer.pod.name && reader.container.name === producer.container.name) continue;
      addMount(storage, reader, { name: volumeName, mountPath, readOnly: true });
    }
  }
  return storage;
}

/** A direct channel is a function call, so both tasks must run in one container. */
function checkDirectChannels(channels: Channel[], placements: Map<string, TaskPlacement>, problems: Problem[]): void {
  for (const channel of channels) {
    if (channel.kind !== 'direct') continue;
    const producer = placements.get(channel.from);
    const consumer = placements.get(channel.to);
    if (!producer || !consumer) continue;
    if (producer.pod.name === consumer.pod.name && producer.container.name === consumer.container.name) continue;
    problems.push({
      message:
        `plan layout: channel ${channel.from} → ${channel.to} is direct, which needs both tasks in one container, ` +
        `but they run in containers "${producer.container.name}" and "${consumer.container.name}"; run ptk plan again`,
    });
  }
}

function groupByProducer(channels: Channel[]): Map<string, Channel[]> {
  const groups = new Map<string, Channel[]>();
  for (const channel of channels) {
    const group = groups.get(channel.from) ?? [];
    group.push(channel);
    groups.set(channel.from, group);
  }
  return groups;
}

/** Returns the largest size declared on the producer's channels, else the size of its `output=`, else none. */
function largestSize(channels: Channel[], producer: Task): Quantity | undefined {
  const sizes = channels.map((channel) => channel.size).filter((size): size is Quantity => size !== undefined);
  if (sizes.length === 0) return producer.output?.size;
  return sizes.reduce((largest, size) => (size.value > largest.value ? size : largest));
}

function addVolume(storage: ChannelStorage, podName: string, volume: IVolume): void {
  const volumes = storage.podVolumes.get(podName) ?? [];
  if (!volumes.some((existing) => existing.name === volume.name)) volumes.push(volume);
  storage.podVolumes.set(podName, volumes);
}

function addMount(storage: ChannelStorage, placement: TaskPlacement, mount: IVolumeMount): void {
  const byContainer = storage.containerMounts.get(placement.pod.name) ?? new Map<string, IVolumeMount[]>();
  const mounts = byContainer.get(placement.container.name) ?? [];
  const existing = mounts.find((candidate) => candidate.name === mount.name);
  if (!existing) mounts.push(mount);
  else if (!mount.readOnly) delete existing.readOnly;
  byContainer.set(placement.container.name, mounts);
  storage.containerMounts.set(placement.pod.name, byContainer);
}
