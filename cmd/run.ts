import { InputError } from '../core/errors.ts';
import { channelsFor, makeGrouping } from '../core/grouping.ts';
import { loadPipeline } from '../core/pipeline.ts';
import type { GroupingKind } from '../core/types.ts';
import { groupingKinds } from '../optimizer/candidates.ts';
import { choosePython, runAndReport } from './local-run.ts';
import type { CommandResult } from './result.ts';

export interface RunOptions {
  file: string;
  cwd: string;
  grouping?: string;
  python?: string;
  signal?: AbortSignal;
}

/** Runs a pipeline on this machine in one grouping (the annotated one by default), without a plan. */
export async function run(options: RunOptions): Promise<CommandResult> {
  const kind = (options.grouping ?? 'annotated') as GroupingKind;
  if (!groupingKinds.includes(kind)) {
    throw new InputError(`--grouping ${options.grouping} is not a grouping; use one of ${groupingKinds.join(', ')}`);
  }
  const python = choosePython(options.python);
  const pipeline = await loadPipeline(options.file, options.cwd);

  const layout = makeGrouping(kind, pipeline);
  if (!layout.grouping) throw new InputError(`${options.file}: the ${kind} grouping cannot run this pipeline: ${layout.reason}`);
  return runAndReport({
    pipeline,
    pods: layout.grouping.pods,
    channels: channelsFor(pipeline, layout.grouping),
    grouping: kind,
    cwd: options.cwd,
    python,
    signal: options.signal,
  });
}
