import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { InputError } from '../core/errors.ts';
import { loadPipeline } from '../core/pipeline.ts';
import { checkProfileCoversTasks, checkProfilePipeline, loadProfile } from '../core/profile.ts';
import { parseDuration } from '../core/quantity.ts';
import { writeFileAtomic } from '../core/write-file.ts';
import { loadCatalog } from '../pricing/catalog.ts';
import { renderCandidateTable } from '../optimizer/explain.ts';
import { highsBackend } from '../optimizer/highs.ts';
import type { SolverBackend } from '../optimizer/ilp.ts';
import { describeCandidate, formatUsd, makePlan } from '../optimizer/plan.ts';
import type { Limits } from '../optimizer/types.ts';
import { describeDuration } from '../core/quantity.ts';
import type { CommandResult } from './result.ts';

export interface PlanOptions {
  file: string;
  cwd: string;
  profile?: string;
  catalog?: string;
  deadline?: string;
  budget?: string;
  /** Path of the plan file to write, relative to `cwd`. */
  out?: string;
  json?: boolean;
  all?: boolean;
  /** The MILP solver; HiGHS unless a test passes another backend. */
  solver?: SolverBackend;
}

/** The file name of a pipeline's own price list, used when no --catalog is given. */
const localCatalogName = 'prices.csv';

/**
 * Plans a pipeline: prices every grouping on every node type, chooses the cheapest candidate within the
 * limits, writes the plan file and returns the candidate table (or the plan JSON). Exit code 3 when no
 * candidate meets the limits; then no plan file is written.
 */
export async function plan(options: PlanOptions): Promise<CommandResult> {
  const limits = readLimits(options);
  const pipeline = await loadPipeline(options.file, options.cwd);
  const pipelineFolder = dirname(resolve(options.cwd, options.file));

  const profilePath = options.profile ?? relative(options.cwd, join(pipelineFolder, 'ptk.profile.json'));
  const profile = await loadProfile(profilePath, options.cwd);
  checkProfilePipeline(profile, profilePath, options.file, options.cwd);
  checkProfileCoversTasks(profile, profilePath, pipeline.tasks.map((task) => task.name), options.file);
  const localCatalog = join(pipelineFolder, localCatalogName);
  const catalogName = options.catalog ?? (existsSync(localCatalog) ? relative(options.cwd, localCatalog) : undefined);
  const catalog = await loadCatalog(catalogName, options.cwd);

  const result = await makePlan({ pipeline, catalog, profile, profilePath, limits, solver: options.solver ?? highsBackend });
  const chosenIndex = result.plan ? result.candidates.indexOf(result.plan.chosen) : -1;

  const header = [
    `pipeline  ${options.file} (${pipeline.tasks.length} task${pipeline.tasks.length === 1 ? '' : 's'})`,
    `catalog   ${catalog.name}: ${catalog.region}, prices of ${catalog.date}, cluster fee $${catalog.clusterFeePerHour}/h`,
    `profile   ${profilePath}`,
    `limits    ${describeLimits(limits)}`,
  ];
  const out = options.out ?? 'ptk.plan.json';
  const outPath = resolve(options.cwd, out);

  if (!result.plan) {
    const stdout = options.json
      ? JSON.stringify({ version: 1, chosen: null, candidates: result.candidates }, null, 2)
      : [...header, '', renderCandidateTable(result.candidates, { chosenIndex, all: Boolean(options.all) })].join('\n');
    const kept = existsSync(outPath) ? ` ${out} was not changed and still holds an earlier plan.` : ' No plan file was written.';
    return { stdout, stderr: `ptk: ${result.nearestMiss}.${kept}`, exitCode: 3 };
  }

  // The plan names its pipeline relative to its own folder, so ptk apply finds it from any working folder.
  result.plan.pipeline.file = relative(dirname(outPath), resolve(options.cwd, options.file));
  await writeFileAtomic(outPath, `${JSON.stringify(result.plan, null, 2)}\n`);
  if (options.json) return { stdout: JSON.stringify(result.plan, null, 2), exitCode: 0 };

  const chosen = result.plan.chosen;
  const approximate = chosen.estimated ? '~' : '';
  const onCpu = chosen.cpu_fallback ?? [];
  const fallback = onCpu.length > 0 ? `; note: ${onCpu.join(', ')} request${onCpu.length === 1 ? 's' : ''} a GPU and will run on the CPU, because this node has none` : '';
  const footer = [
    `chosen    ${describeCandidate(chosen)}: ${approximate}${describeDuration(chosen.time_s!)}, ${approximate}$${formatUsd(chosen.cost_usd!)} per run (solved with ${result.plan.solver.name})${fallback}`,
    `wrote     ${out}; next: ptk apply ${out === 'ptk.plan.json' ? '' : `${out} `}--out k8s/`,
  ];
  const table = renderCandidateTable(result.candidates, { chosenIndex, all: Boolean(options.all) });
  return { stdout: [...header, '', table, '', ...footer].join('\n'), exitCode: 0 };
}

function readLimits(options: PlanOptions): Limits {
  const limits: Limits = {};
  const problems: string[] = [];
  if (options.deadline !== undefined) {
    const seconds = parseDuration(options.deadline);
    if (seconds === undefined) problems.push(`--deadline ${options.deadline} is not a duration; write a positive duration such as 90s, 2m or 1h30m`);
    else limits.deadlineSeconds = seconds;
  }
  if (options.budget !== undefined) {
    const text = options.budget.replace(/^\$/, '');
    const usd = /^\d+(?:\.\d+)?$|^\.\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!(usd > 0)) problems.push(`--budget ${options.budget} is not an amount of money; write a positive number of US dollars such as 0.05`);
    else limits.budgetUsd = usd;
  }
  if (problems.length > 0) throw new InputError(problems.map((message) => ({ message })));
  return limits;
}

function describeLimits(limits: Limits): string {
  const parts: string[] = [];
  if (limits.deadlineSeconds !== undefined) parts.push(`deadline ${describeDuration(limits.deadlineSeconds)}`);
  if (limits.budgetUsd !== undefined) parts.push(`budget $${limits.budgetUsd}`);
  return parts.length > 0 ? parts.join(', ') : 'none (cheapest plan)';
}
