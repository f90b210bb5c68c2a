import highsImport from 'highs';
import { wasmLoaderOptions } from '../core/assets.ts';
import { toLpFormat, type LinearModel, type Solution, type SolverBackend } from './ilp.ts';

// TypeScript reads the package as CommonJS, where the loader is `.default`; Node's ESM import and
// esbuild's bundle give the loader itself.
const highsLoader = ((highsImport as unknown as { default?: unknown }).default ?? highsImport) as typeof highsImport.default;

type Highs = Awaited<ReturnType<typeof highsLoader>>;

let loaded: Promise<Highs> | undefined;

/** Loads the HiGHS WebAssembly module once per process. */
function loadHighs(): Promise<Highs> {
  // highs 1.15.3 ignores `wasmBinary` and opens highs.wasm beside the script, so the options also hand it
  // the compiled module through `instantiateWasm`.
  loaded ??= wasmLoaderOptions('highs.wasm').then((options) => highsLoader(options));
  return loaded;
}

/** The HiGHS MILP solver, compiled to WebAssembly by the `highs` npm package. */
export const highsBackend: SolverBackend = {
  name: 'HiGHS',
  async solve(model: LinearModel): Promise<Solution> {
    const highs = await loadHighs();
    // Gaps of zero make HiGHS prove optimality exactly, so tie-breaking terms in the objective decide.
    const result = highs.solve(toLpFormat(model), { mip_rel_gap: 0, mip_abs_gap: 0, output_flag: false });

    if (result.Status === 'Infeasible') return { status: 'infeasible', values: new Map(), objective: Number.NaN };
    if (result.Status !== 'Optimal') throw new Error(`HiGHS stopped with status "${result.Status}"`);

    const values = new Map<string, number>();
    for (const [name, column] of Object.entries(result.Columns)) values.set(name, (column as { Primal: number }).Primal);
    return { status: 'optimal', values, objective: result.ObjectiveValue };
  },
};
