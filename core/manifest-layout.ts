import type { Problem } from './errors.ts';
import { isDnsLabel } from './names.ts';
import type { Channel, ContainerSpec, Pipeline, PodSpec, Task } from './types.ts';

/** The pod and container that run a task in a plan's layout. */
export interface TaskPlacement {
  task: Task;
  pod: PodSpec;
  container: ContainerSpec;
}

/**
 * Maps each task name to the pod and container that run it, and checks that the layout fits the pipeline.
 * Every task must be placed exactly once and no unknown task may appear. Kubernetes names must be DNS-1123
 * labels, unique among pods and among the containers of a pod. Replica counts must be at least 1, and
 * channels must join known tasks. Problems are appended to `problems`, each naming the plan layout,
 * because a plan file can be edited by hand.
 */
export function placeTasks(pipeline: Pipeline, pods: PodSpec[], channels: Channel[], problems: Problem[]): Map<string, TaskPlacement> {
  const tasksByName = new Map(pipeline.tasks.map((task) => [task.name, task]));
  const placements = new Map<string, TaskPlacement>();
  const podsByKubeName = new Map<string, string>();

  for (const pod of pods) {
    checkKubeName(`pod "${pod.name}"`, pod.kubeName, problems);
    const otherPod = podsByKubeName.get(pod.kubeName);
    if (otherPod !== undefined) {
      problems.push({ message: `plan layout: pods "${otherPod}" and "${pod.name}" have the same Kubernetes name "${pod.kubeName}"; run ptk plan again` });
    }
    podsByKubeName.set(pod.kubeName, pod.name);
    if (!Number.isInteger(pod.replicas) || pod.replicas < 1) {
      problems.push({ message: `plan layout: pod "${pod.name}" has ${pod.replicas} replicas, but it needs a whole number of at least 1` });
    }
    if (pod.containers.length === 0) {
      problems.push({ message: `plan layout: pod "${pod.name}" has no containers; run ptk plan again` });
    }

    const containersByKubeName = new Map<string, string>();
    for (const container of pod.containers) {
      checkKubeName(`container "${container.name}" of pod "${pod.name}"`, container.kubeName, problems);
      const otherContainer = containersByKubeName.get(container.kubeName);
      if (otherContainer !== undefined) {
        problems.push({
          message: `plan layout: containers "${otherContainer}" and "${container.name}" of pod "${pod.name}" have the same Kubernetes name "${container.kubeName}"; run ptk plan again`,
        });
      }
      containersByKubeName.set(container.kubeName, container.name);

      for (const taskName of container.tasks) {
        const task = tasksByName.get(taskName);
        if (!task) {
          problems.push({ message: `plan layout: container "${container.name}" runs task "${taskName}", which the pipeline does not define; run ptk plan again` });
          continue;
        }
        const earlier = placements.get(taskName);
        if (earlier) {
          problems.push({
            message: `plan layout: task "${taskName}" is placed twice, in container "${earlier.container.name}" and in container "${container.name}"; run ptk plan again`,
          });
          continue;
        }
        placements.set(taskName, { task, pod, container });
      }
    }
  }

  for (const task of pipeline.tasks) {
    if (!placements.has(task.name)) {
      problems.push({ message: `plan layout: task "${task.name}" is in no container; run ptk plan again` });
    }
  }
  for (const channel of channels) {
    for (const end of [channel.from, channel.to]) {
      if (!tasksByName.has(end)) {
        problems.push({ message: `plan layout: channel ${channel.from} → ${channel.to} names task "${end}", which the pipeline does not define; run ptk plan again` });
      }
    }
  }
  return placements;
}

function checkKubeName(what: string, kubeName: string, problems: Problem[]): void {
  if (isDnsLabel(kubeName)) return;
  problems.push({
    message: `plan layout: ${what} has the Kubernetes name "${kubeName}", which is not a DNS-1123 label (at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit); run ptk plan again`,
  });
}
