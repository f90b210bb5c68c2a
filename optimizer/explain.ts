import Table from 'cli-table3';
import { describeDuration } from '../core/quantity.ts';
import { formatUsd } from './plan.ts';
import type { Candidate } from './types.ts';

/** Tables longer than this show a selection of rows unless every row is requested. */
const maxRowsShown = 24;

export interface TableOptions {
  /** Index of the chosen candidate, marked with ▶, or -1 when none was chosen. */
  chosenIndex: number;
  all: boolean;
}

/**
 * Renders the candidates as a table: grouping, node, accelerators, time, cost, and feasible or why not.
 * A time or cost computed from any estimated task time starts with "~". Long lists show the chosen row,
 * the cheapest feasible rows and the best row of each grouping, and end with the number of rows left out.
 */
export function renderCandidateTable(candidates: Candidate[], options: TableOptions): string {
  const indexes = selectRows(candidates, options);
  const table = new Table({
    head: ['', 'grouping', 'node', 'accelerators', 'time', 'cost', 'feasible / why not'],
    style: { head: [], border: [], compact: true },
    colWidths: [3, null, null, null, null, null, 60],
    wordWrap: true,
  });

  for (const index of indexes) {
    const candidate = candidates[index]!;
    const approximate = candidate.estimated ? '~' : '';
    table.push([
      index === options.chosenIndex ? '▶' : '',
      candidate.same_as ? `${candidate.grouping} (= ${candidate.same_as})` : candidate.grouping,
      candidate.machine_type,
      candidate.accelerator ? `${candidate.accelerator.count} × ${candidate.accelerator.name}` : '-',
      candidate.time_s === null ? '?' : `${approximate}${describeDuration(candidate.time_s)}`,
      candidate.cost_usd === null ? '?' : `${approximate}$${formatUsd(candidate.cost_usd)}`,
      describeFeasibility(candidate),
    ]);
  }

  const lines = [table.toString()];
  const hidden = candidates.length - indexes.length;
  if (hidden > 0) {
    lines.push(
      `Shown: the chosen candidate, the 10 cheapest that meet the limits, the cheapest of each grouping and the fastest. ` +
        `${hidden} more are in the plan file; --all lists every one.`,
    );
  }
  if (candidates.some((candidate) => candidate.estimated)) lines.push('~ marks figures that use estimated task times; the plan file says how each was estimated.');
  return lines.join('\n');
}

function describeFeasibility(candidate: Candidate): string {
  if (!candidate.feasible) return candidate.reason ?? '';
  const fallback = candidate.cpu_fallback ?? [];
  if (fallback.length === 0) return 'yes';
  return `yes (${fallback.join(', ')} on CPU: no GPU)`;
}

function selectRows(candidates: Candidate[], options: TableOptions): number[] {
  const all = candidates.map((_, index) => index);
  if (options.all || candidates.length <= maxRowsShown) return all;

  const chosen = new Set<number>();
  if (options.chosenIndex >= 0) chosen.add(options.chosenIndex);
  const byCost = all
    .filter((index) => candidates[index]!.feasible)
    .sort((left, right) => (candidates[left]!.cost_usd ?? Infinity) - (candidates[right]!.cost_usd ?? Infinity));
  for (const index of byCost.slice(0, 10)) chosen.add(index);

  const groupings = new Set(candidates.map((candidate) => candidate.grouping));
  for (const grouping of groupings) {
    const best = byCost.find((index) => candidates[index]!.grouping === grouping);
    if (best !== undefined) chosen.add(best);
  }
  const fastest = all.filter((index) => candidates[index]!.time_s !== null).sort((left, right) => candidates[left]!.time_s! - candidates[right]!.time_s!)[0];
  if (fastest !== undefined) chosen.add(fastest);
  return [...chosen].sort((left, right) => left - right);
}
