/**
 * A mixed-integer linear program in a solver-neutral form, and the interface that solver backends
 * (HiGHS in ptk, GLPK in the tests) implement.
 */

export interface Term {
  variable: string;
  coefficient: number;
}

/** A row `lower ≤ Σ coefficient × variable ≤ upper`; a missing side is unbounded. */
export interface Constraint {
  name: string;
  terms: Term[];
  lower?: number;
  upper?: number;
}

export interface LinearModel {
  /** Objective to minimize. */
  objective: Term[];
  constraints: Constraint[];
  /** Variables restricted to 0 or 1. */
  binaries: string[];
  /** Variables fixed to 0, such as candidates whose time cannot be predicted. */
  fixedToZero: string[];
}

export type SolveStatus = 'optimal' | 'infeasible';

export interface Solution {
  status: SolveStatus;
  values: Map<string, number>;
  objective: number;
}

/** A MILP solver. `solve` throws only when the solver itself fails, not when the model is infeasible. */
export interface SolverBackend {
  name: string;
  solve(model: LinearModel): Promise<Solution>;
}

/** Writes a model in the CPLEX LP file format, which HiGHS reads. */
export function toLpFormat(model: LinearModel): string {
  const lines: string[] = ['Minimize', ` obj: ${formatTerms(model.objective)}`, 'Subject To'];
  for (const constraint of model.constraints) {
    const terms = formatTerms(constraint.terms);
    if (constraint.lower !== undefined && constraint.upper !== undefined && constraint.lower === constraint.upper) {
      lines.push(` ${constraint.name}: ${terms} = ${formatNumber(constraint.upper)}`);
      continue;
    }
    if (constraint.upper !== undefined) lines.push(` ${constraint.name}_max: ${terms} <= ${formatNumber(constraint.upper)}`);
    if (constraint.lower !== undefined) lines.push(` ${constraint.name}_min: ${terms} >= ${formatNumber(constraint.lower)}`);
  }
  lines.push('Bounds');
  for (const variable of model.fixedToZero) lines.push(` ${variable} = 0`);
  lines.push('Binary', ` ${model.binaries.join(' ')}`, 'End');
  return `${lines.join('\n')}\n`;
}

function formatTerms(terms: Term[]): string {
  const nonZero = terms.filter((term) => term.coefficient !== 0);
  if (nonZero.length === 0) return `0 ${terms[0]?.variable ?? 'x0'}`;
  return nonZero
    .map((term, index) => {
      let sign = term.coefficient < 0 ? '-' : '+';
      if (index === 0 && sign === '+') sign = '';
      return `${sign}${sign ? ' ' : ''}${formatNumber(Math.abs(term.coefficient))} ${term.variable}`;
    })
    .join(' ');
}

/** Formats a finite number for the LP format; 17 significant digits keep it exact. */
function formatNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`non-finite coefficient ${value} in the LP model`);
  return Number(value.toPrecision(17)).toString();
}
