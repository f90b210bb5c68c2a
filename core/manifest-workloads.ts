import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IJob } from 'kubernetes-models/batch/v1';
import type { IAffinity, IContainer, IEnvVar, IPodSpec, IPodTemplateSpec, IToleration, IVolume } from 'kubernetes-models/v1';
import type { Problem } from './errors.ts';
import type { TaskPlacement } from './manifest-layout.ts';
import { annotationPrefix, objectMetadata, recommendedLabels, runIdLabel, type MetadataContext } from './manifest-metadata.ts';
import { joinName } from './manifest-names.ts';
import { containerGpuCount, gpuResourceName, renderResources } from './manifest-resources.ts';
import { dataMountPath, type ChannelStorage } from './manifest-volumes.ts';
import type { ContainerSpec, Pipeline, PodSpec } from './types.ts';
import type { NodeType, Plan } from '../optimizer/types.ts';
import { buildContainerSpec, containerCommand, containerEnvironment, defaultInputTimeoutSeconds } from './container-spec.ts';

/** The Kubernetes object that runs a pod of the plan. */
export type WorkloadKind = 'job' | 'deployment';

/** Mount path of the ConfigMap with the user's code, and the containers' PYTHONPATH. */
export const codeMountPath = '/ptk/code';

/**
 * User and group ID of every container. Any non-zero ID meets the "restricted" Pod Security Standard;
 * 65532 is the `nonroot` user of distroless images. Images without that user still run: Python needs no
 * passwd entry, and HOME points at the writable /tmp.
 */
export const runAsId = 65532;

/** Retries of a failed Job pod before the Job fails, so that one lost node does not fail the run. */
export const jobBackoffLimit = 2;

/** How long a finished Job and its pods stay, so that their logs can be read: one day, in seconds. */
export const jobTtlSeconds = 86_400;

/** Node label that GKE (and most clouds) set to the node's machine type. */
export const instanceTypeLabel = 'node.kubernetes.io/instance-type';

/** Node label that GKE sets to the accelerator type of a GPU node. */
export const acceleratorLabel = 'cloud.google.com/gke-accelerator';

/** Node label that the kubelet sets to the node's host name, the topology key that means "the same node". */
export const hostnameLabel = 'kubernetes.io/hostname';

/** Everything a workload needs besides its pod. */
export interface WorkloadContext extends MetadataContext {
  image: string;
  workload: WorkloadKind;
  configMapName: string;
  /** Each ConfigMap key and the path it takes under the code folder. */
  codeItems: { key: string; path: string }[];
  /** ConfigMap key of the pipeline's file, which the runtime imports. */
  moduleKey: string;
  sourceFile: string;
  sourceSha256: string;
  node: NodeType;
  /** True when the plan runs every pod on one node, so the pods must share it. */
  singleNode: boolean;
  placements: Map<string, TaskPlacement>;
  storage: ChannelStorage;
  pipeline: Pipeline;
  layout: Plan['layout'];
}

/** Builds the Job or Deployment that runs one pod of the plan. */
export function renderWorkload(context: WorkloadContext, pod: PodSpec, problems: Problem[]): IJob | IDeployment {
  const name = joinName(pod.kubeName === context.prefix ? [context.prefix] : [context.prefix, pod.kubeName]);
  const annotations = workloadAnnotations(context, pod);
  const template = renderPodTemplate(context, pod, name, problems);
  const metadata = objectMetadata(context, { name, appName: pod.kubeName, component: 'workload', annotations });

  if (context.workload === 'deployment') {
    if (pod.replicas > 1) {
      problems.push({
        message:
          `pod "${pod.name}" has num_replicas=${pod.replicas}, but a Deployment gives its pods no replica index, so all ${pod.replicas} would run as replica 0: ` +
          'use the default --workload job, which runs a replicated pod as an Indexed Job',
      });
    }
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata,
      spec: {
        replicas: pod.replicas,
        selector: { matchLabels: selectorLabels(name) },
        // Recreate stops the old pod before starting the new one, so an update never needs room for two
        // pods' requests (a GPU included) on a node sized for one.
        strategy: { type: 'Recreate' },
        template,
      },
    };
  }

  const deadline = activeDeadlineSeconds(context, pod);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata,
    spec: {
      backoffLimit: jobBackoffLimit,
      ttlSecondsAfterFinished: jobTtlSeconds,
      ...(deadline === undefined ? {} : { activeDeadlineSeconds: deadline }),
      // Each replica gets its own index (JOB_COMPLETION_INDEX) and all run at once.
      ...(pod.replicas > 1 ? { completionMode: 'Indexed' as const, completions: pod.replicas, parallelism: pod.replicas } : {}),
      template,
    },
  };
}

/**
 * Returns the sum of `max_runtime` over the pod's tasks when every task has one, else undefined. The sum
 * bounds the pod's run because the tasks of a pod run one after another when each consumes the previous
 * one's output.
 */
function activeDeadlineSeconds(context: WorkloadContext, pod: PodSpec): number | undefined {
  let total = 0;
  for (const taskName of podTaskNames(pod)) {
    const seconds = context.placements.get(taskName)?.task.maxRuntimeSeconds;
    if (seconds === undefined) return undefined;
    total += seconds;
  }
  return Math.max(1, Math.ceil(total));
}

function renderPodTemplate(context: WorkloadContext, pod: PodSpec, workloadName: string, problems: Problem[]): IPodTemplateSpec {
  const gpuCounts = pod.containers.map((container) => containerGpuCount(container, problems));
  const accelerator = context.node.accelerator;
  const podWantsGpus = gpuCounts.some((count) => count > 0);

  const nodeSelector: Record<string, string> = { [instanceTypeLabel]: context.node.machineType };
  const tolerations: IToleration[] = [];
  // The plan runs every pod on one node type. When that type has accelerators, GKE taints its nodes with
  // nvidia.com/gpu, so pods without GPUs need the toleration too, or they would never land on the nodes
  // that the plan priced.
  if (accelerator) {
    nodeSelector[acceleratorLabel] = accelerator.name;
    tolerations.push({ key: gpuResourceName, operator: 'Exists', effect: 'NoSchedule' });
  }

  const volumes: IVolume[] = [
    { name: 'code', configMap: { name: context.configMapName, defaultMode: 0o444, ...codeItemsOf(context) } },
    { name: 'tmp', emptyDir: {} },
    ...(context.storage.podVolumes.get(pod.name) ?? []),
  ];
  const containers = pod.containers.map((container, index) =>
    renderContainer(context, pod, container, gpuCounts[index] ?? 0, accelerator !== null),
  );

  const spec: IPodSpec = {
    restartPolicy: context.workload === 'job' ? 'Never' : 'Always',
    // The tasks never call the Kubernetes API, so the pod gets no service account token.
    automountServiceAccountToken: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: runAsId,
      runAsGroup: runAsId,
      fsGroup: runAsId,
      fsGroupChangePolicy: 'OnRootMismatch',
      seccompProfile: { type: 'RuntimeDefault' },
    },
    nodeSelector,
    ...(tolerations.length > 0 ? { tolerations } : {}),
    ...(context.singleNode ? { affinity: sameNodeAffinity(context) } : {}),
    containers,
    volumes,
  };
  const annotations: Record<string, string> = {
    [`${annotationPrefix}/pod`]: pod.name,
    [`${annotationPrefix}/tasks`]: podTaskNames(pod).join(','),
  };
  // A Deployment's template changes when it is applied again, so its pods carry the hash of the pipeline file
  // they load. A Job's template cannot change, so the hash on the Job itself holds for all its pods.
  if (context.workload === 'deployment') annotations[`${annotationPrefix}/source-sha256`] = context.sourceSha256;
  if (podWantsGpus && !accelerator) annotations[`${annotationPrefix}/gpu`] = 'the plan runs this pod on CPU: its node type has no GPU';

  return {
    metadata: { labels: recommendedLabels(context, { name: workloadName, appName: pod.kubeName, component: 'workload' }), annotations },
    spec,
  };
}

/**
 * Builds one container. It runs the ptk runtime on the pipeline's file, which runs the container's tasks in
 * order and moves their data through the mounted channel folders, as the spec in PTK_SPEC says
 * (runtime/PROTOCOL.md).
 */
function renderContainer(context: WorkloadContext, pod: PodSpec, container: ContainerSpec, gpuCount: number, withGpus: boolean): IContainer {
  const command = containerCommand(`${codeMountPath}/${context.moduleKey}`, pod.name, container.name, context.workload);

  const spec = buildContainerSpec(
    {
      pipeline: context.pipeline,
      pods: context.layout.pods,
      channels: context.layout.channels,
      runId: context.runId,
      module: `${codeMountPath}/${context.moduleKey}`,
      dataPath: (producer) => `${dataMountPath}/${context.placements.get(producer)?.task.kubeName ?? producer}`,
      inputTimeoutSeconds: defaultInputTimeoutSeconds,
    },
    pod,
    container.name,
  );
  const runtimeEnvironment = containerEnvironment(spec, dataMountPath, codeMountPath);
  const env: IEnvVar[] = [
    ...Object.entries(runtimeEnvironment).map(([name, value]) => ({ name, value })),
    // The root filesystem is read-only: libraries that write caches under HOME need a writable one.
    { name: 'HOME', value: '/tmp' },
  ];

  const resources = renderResources(container, gpuCount, withGpus);
  return {
    name: container.kubeName,
    image: context.image,
    command,
    workingDir: '/tmp',
    env,
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
    },
    volumeMounts: [
      { name: 'code', mountPath: codeMountPath, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
      ...(context.storage.containerMounts.get(pod.name)?.get(container.name) ?? []),
    ],
  };
}

/**
 * Builds the required pod affinity that keeps every pod of a one-node run on one node, where they share
 * ReadWriteOnce claims. The term selects the pods of this pipeline's run, the pod itself included.
 * kube-scheduler lets a pod that matches its own term schedule on any node while no other pod matches, so
 * the first pod of the run is not blocked. The rule is `satisfyPodAffinity` in kubernetes/kubernetes
 * pkg/scheduler/framework/plugins/interpodaffinity/filtering.go, proposed as the "short-term" rule in
 * kubernetes/community contributors/design-proposals/scheduling/podaffinity.md. A pod that does not fit
 * beside the others stays Pending instead of moving to another node, because the plan sized the node for
 * all of them at once.
 *
 * NOTE: kube-scheduler watches only pods that are not Succeeded or Failed, so a pod that starts after every
 * other pod of the run has ended, such as a Job's retry, may land on another node. The claims are free by
 * then, so it can still mount them.
 */
function sameNodeAffinity(context: WorkloadContext): IAffinity {
  return {
    podAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        {
          labelSelector: { matchLabels: { 'app.kubernetes.io/part-of': context.prefix, [runIdLabel]: context.runId } },
          topologyKey: hostnameLabel,
        },
      ],
    },
  };
}

/** Returns the labels that select a Deployment's pods. They never change between runs, since a selector is immutable. */
function selectorLabels(workloadName: string): Record<string, string> {
  return { 'app.kubernetes.io/instance': workloadName, 'app.kubernetes.io/managed-by': 'ptk' };
}

function workloadAnnotations(context: WorkloadContext, pod: PodSpec): Record<string, string> {
  return {
    [`${annotationPrefix}/pod`]: pod.name,
    [`${annotationPrefix}/tasks`]: podTaskNames(pod).join(','),
    [`${annotationPrefix}/source`]: context.sourceFile,
    [`${annotationPrefix}/source-sha256`]: context.sourceSha256,
  };
}

function podTaskNames(pod: PodSpec): string[] {
  return pod.containers.flatMap((container) => container.tasks);
}

/** Lists the ConfigMap's keys with their paths when some path differs from its key (the runtime's files). */
function codeItemsOf(context: WorkloadContext): { items?: { key: string; path: string }[] } {
  if (context.codeItems.every((item) => item.key === item.path)) return {};
  return { items: context.codeItems.map((item) => ({ key: item.key, path: item.path })) };
}
