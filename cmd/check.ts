import { loadPipeline } from '../core/pipeline.ts';
import { describeBytes, formatCpu } from '../core/quantity.ts';
import { channelsFor } from '../core/grouping.ts';
import type { Pipeline, Resources } from '../core/types.ts';
import type { CommandResult } from './result.ts';

export interface CheckOptions {
  file: string;
  cwd: string;
  json?: boolean;
}

/** Parses and validates a pipeline, and describes its tasks, edges and annotated grouping. */
export async function check(options: CheckOptions): Promise<CommandResult> {
  const pipeline = await loadPipeline(options.file, options.cwd);
  if (options.json) {
    const { source: _source, ...rest } = pipeline;
    return { stdout: JSON.stringify(rest, (key, value) => (key === 'location' ? undefined : value), 2), exitCode: 0 };
  }
  return { stdout: describePipeline(pipeline), exitCode: 0 };
}

/** Describes a pipeline for people: one line per task, then the pods and containers of its grouping. */
export function describePipeline(pipeline: Pipeline): string {
  const lines = [`${pipeline.file}: ${count(pipeline.tasks.length, 'task')}, ${count(pipeline.edges.length, 'edge')}, valid`, '', 'tasks (in dependency order):'];
  for (const task of pipeline.tasks) {
    const inputs = task.inputs.length > 0 ? ` ← ${task.inputs.join(', ')}` : '';
    const output = task.output ? `, output ${task.output.type}${task.output.size ? ` ${task.output.size.text}` : ''}` : '';
    const replicas = task.replicas > 1 ? `, ${task.replicas} replicas` : '';
    lines.push(`  ${task.name} (${task.functionName}, line ${task.location.line})${inputs}${output}${replicas}${describeResources(task.resources)}`);
  }

  lines.push('', 'annotated grouping:');
  for (const pod of pipeline.annotated.pods) {
    lines.push(`  pod ${pod.kubeName}${pod.replicas > 1 ? ` × ${pod.replicas}` : ''}`);
    for (const container of pod.containers) lines.push(`    container ${container.kubeName}: ${container.tasks.join(' → ')}`);
  }

  const channels = channelsFor(pipeline, pipeline.annotated);
  if (channels.length > 0) {
    lines.push('', 'channels:');
    for (const channel of channels) lines.push(`  ${channel.from} → ${channel.to} (${channel.parameter}): ${channel.kind}`);
  }
  return lines.join('\n');
}

function describeResources(resources: Resources): string {
  const parts: string[] = [];
  if (resources.cpuRequest) parts.push(`cpu ${formatCpu(resources.cpuRequest.value)}`);
  if (resources.memoryRequest) parts.push(`memory ${describeBytes(resources.memoryRequest.value)}`);
  if (resources.gpuRequest ?? resources.gpuLimit) parts.push(`gpu ${(resources.gpuRequest ?? resources.gpuLimit)!.value}`);
  return parts.length > 0 ? `, requests ${parts.join(', ')}` : '';
}

function count(value: number, noun: string): string {
  return `${value} ${noun}${value === 1 ? '' : 's'}`;
}
