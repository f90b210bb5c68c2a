import type { IResourceRequirements } from 'kubernetes-models/v1';
import type { Problem } from './errors.ts';
import { formatBytes, formatCpu, parseQuantity } from './quantity.ts';
import type { ContainerSpec, Quantity } from './types.ts';

/** The extended resource name of NVIDIA GPUs, as the NVIDIA device plugin registers it. */
export const gpuResourceName = 'nvidia.com/gpu';

/** What a quantity counts, which decides how a value is written when the user's text cannot be kept. */
export type QuantityUnit = 'cores' | 'bytes' | 'devices';

/**
 * Writes a quantity for a Kubernetes manifest. The user's text is kept when Kubernetes accepts it as written.
 * Otherwise the value is written as cores (`2` or `500m`), bytes with the largest binary suffix that divides
 * them exactly, or a whole number of devices. Values are rounded up, so a request is never lowered. A sign is
 * never kept, so `+1` is written as `1`.
 */
export function formatQuantity(quantity: Quantity, unit: QuantityUnit): string {
  const text = quantity.text.trim();
  if (!/^[+-]/.test(text) && parseQuantity(text) !== undefined) return text;

  if (unit === 'cores') return formatCpu(roundUp(quantity.value * 1000) / 1000);
  if (unit === 'devices') return String(roundUp(quantity.value));
  return formatBytes(roundUp(quantity.value));
}

/** Rounds up, but treats a value within 1e-6 of a whole number as that number (0.1 + 0.2 cores is 300m). */
function roundUp(value: number): number {
  const nearest = Math.round(value);
  return Math.abs(value - nearest) < 1e-6 ? nearest : Math.ceil(value);
}

/** Returns the number of GPUs a container requests, or 0. Kubernetes requires a GPU request to equal its limit. */
export function containerGpuCount(container: ContainerSpec, problems: Problem[]): number {
  const { gpuRequest, gpuLimit } = container.resources;
  if (gpuRequest && gpuLimit && gpuRequest.value !== gpuLimit.value) {
    problems.push({
      message:
        `container "${container.name}" requests ${gpuRequest.text} GPU but limits it to ${gpuLimit.text}: ` +
        'Kubernetes cannot overcommit GPUs, so set gpu_requests and gpu_limits to the same number',
    });
  }
  return (gpuLimit ?? gpuRequest)?.value ?? 0;
}

/**
 * Builds a container's `resources`. CPU and memory come from the user's requests and limits. GPUs go into
 * both requests and limits with the same count, and only when `withGpus` is true. A plan that puts a GPU task
 * on a node type without accelerators runs it on CPU, and a GPU request there would leave the pod Pending.
 */
export function renderResources(container: ContainerSpec, gpuCount: number, withGpus: boolean): IResourceRequirements {
  const resources = container.resources;
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};

  if (resources.cpuRequest) requests.cpu = formatQuantity(resources.cpuRequest, 'cores');
  if (resources.memoryRequest) requests.memory = formatQuantity(resources.memoryRequest, 'bytes');
  if (resources.cpuLimit) limits.cpu = formatQuantity(resources.cpuLimit, 'cores');
  if (resources.memoryLimit) limits.memory = formatQuantity(resources.memoryLimit, 'bytes');
  if (withGpus && gpuCount > 0) {
    const count = String(roundUp(gpuCount));
    requests[gpuResourceName] = count;
    limits[gpuResourceName] = count;
  }

  const rendered: IResourceRequirements = {};
  if (Object.keys(requests).length > 0) rendered.requests = requests;
  if (Object.keys(limits).length > 0) rendered.limits = limits;
  return rendered;
}
