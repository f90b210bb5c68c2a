import loadGlpk from 'glpk.js/node';
import type { LinearModel, Solution, SolverBackend } from '../../optimizer/ilp.ts';

/** GLPK (glpk.js), an independent MILP solver that the tests use to cross-check HiGHS. */
export const glpkBackend: SolverBackend = {
  name: 'GLPK',
  async solve(model: LinearModel): Promise<Solution> {
    const glpk = await loadGlpk();
    const row = (lower: number | undefined, upper: number | undefined) => {
      if (lower !== undefined && upper !== undefined) return { type: lower === upper ? glpk.GLP_FX : glpk.GLP_DB, lb: lower, ub: upper };
      if (upper !== undefined) return { type: glpk.GLP_UP, lb: 0, ub: upper };
      return { type: glpk.GLP_LO, lb: lower ?? 0, ub: 0 };
    };

    const result = glpk.solve(
      {
        name: 'ptk-plan',
        objective: { direction: glpk.GLP_MIN, name: 'cost', vars: model.objective.map((term) => ({ name: term.variable, coef: term.coefficient })) },
        subjectTo: model.constraints.map((constraint) => ({
          name: constraint.name,
          vars: constraint.terms.map((term) => ({ name: term.variable, coef: term.coefficient })),
          bnds: row(constraint.lower, constraint.upper),
        })),
        bounds: model.fixedToZero.map((name) => ({ name, type: glpk.GLP_FX, lb: 0, ub: 0 })),
        binaries: model.binaries,
      },
      { msglev: glpk.GLP_MSG_OFF, mipgap: 0 },
    );

    const status = result.result.status;
    if (status === glpk.GLP_NOFEAS || status === glpk.GLP_INFEAS) return { status: 'infeasible', values: new Map(), objective: Number.NaN };
    if (status !== glpk.GLP_OPT) throw new Error(`GLPK stopped with status ${status}`);
    return { status: 'optimal', values: new Map(Object.entries(result.result.vars)), objective: result.result.z };
  },
};
