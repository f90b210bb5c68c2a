import { cac } from 'cac';
import { InfeasiblePlanError, InputError, RunError } from '../core/errors.ts';
import type { CommandResult } from './result.ts';
import { check } from './check.ts';
import { plan } from './plan.ts';
import { apply, defaultImage } from './apply.ts';
import { pricing } from './pricing.ts';
import { run as runPipeline } from './run.ts';
import { profile as profilePipeline } from './profile.ts';

const version = '0.1.0';

/**
 * Returns a signal that aborts on Ctrl-C (SIGINT), on SIGTERM and when the terminal closes (SIGHUP), so a
 * local run can stop every process it started, clean up and report.
 */
function interruption(): AbortSignal {
  const controller = new AbortController();
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(name, () => controller.abort());
  return controller.signal;
}

/** Builds the command-line parser. Each action stores its promise so that `main` can await it. */
function buildCli(run: (work: () => Promise<CommandResult>) => void) {
  const cli = cac('ptk');

  cli
    .command('check <file>', 'Parse and validate a pipeline and print its tasks, edges and grouping')
    .option('--json', 'Print the validated pipeline as JSON')
    .action((file: string, options: { json?: boolean }) => run(() => check({ file, json: options.json, cwd: process.cwd() })));

  cli
    .command('plan <file>', 'Price every grouping on every node type and choose the cheapest that meets the limits')
    .option('--profile <path>', 'Task timings (default: ptk.profile.json beside the pipeline)')
    .option('--catalog <name|path>', 'Pricing catalog: an embedded name or a JSON or CSV file (default: gcp-us-west1, or prices.csv beside the pipeline)')
    .option('--deadline <duration>', 'Longest acceptable run time, as 90s, 2m or 1h30m')
    .option('--budget <usd>', 'Highest acceptable cost of one run, in USD')
    .option('--out <path>', 'Where to write the plan', { default: 'ptk.plan.json' })
    .option('--json', 'Print the plan as JSON instead of a table')
    .option('--all', 'List every candidate in the table, not a selection')
    .action((file: string, options: Record<string, unknown>) =>
      run(() =>
        plan({
          file,
          cwd: process.cwd(),
          profile: options.profile as string | undefined,
          catalog: options.catalog as string | undefined,
          deadline: options.deadline === undefined ? undefined : String(options.deadline),
          budget: options.budget === undefined ? undefined : String(options.budget),
          out: String(options.out),
          json: Boolean(options.json),
          all: Boolean(options.all),
        }),
      ),
    );

  cli
    .command('apply [plan]', 'Write the chosen plan\'s Kubernetes manifests')
    .option('--out <dir>', 'Write the manifests as YAML files into this folder')
    .option('--workload <kind>', 'job or deployment', { default: 'job' })
    .option('--namespace, -n <name>', 'Namespace of the generated objects', { default: 'default' })
    .option('--image <image>', 'Container image that runs the tasks', { default: defaultImage })
    .option('--local', 'Run the plan on this machine instead of writing manifests')
    .option('--python <path>', 'Python interpreter for --local (default: PTK_PYTHON, else python3)')
    .action((planFile: string | undefined, options: Record<string, unknown>) =>
      run(() =>
        apply({
          plan: planFile ?? 'ptk.plan.json',
          cwd: process.cwd(),
          out: options.out === undefined ? undefined : String(options.out),
          workload: String(options.workload),
          namespace: String(options.namespace),
          image: String(options.image),
          local: Boolean(options.local),
          python: options.python === undefined ? undefined : String(options.python),
          signal: interruption(),
        }),
      ),
    );

  cli
    .command('profile <file>', 'Run each task alone on this machine and record its timings in the profile')
    .option('--runs <count>', 'Runs per core count', { default: '1' })
    .option('--cpus <counts>', 'Core counts to measure with, such as 1,2 (default: all cores)')
    .option('--python <path>', 'Python interpreter (default: PTK_PYTHON, else python3)')
    .option('--out <path>', 'Profile to write or merge into (default: ptk.profile.json beside the pipeline)')
    .action((file: string, options: Record<string, unknown>) =>
      run(() =>
        profilePipeline({
          file,
          cwd: process.cwd(),
          runs: String(options.runs),
          cpus: options.cpus === undefined ? undefined : String(options.cpus),
          python: options.python === undefined ? undefined : String(options.python),
          out: options.out === undefined ? undefined : String(options.out),
          signal: interruption(),
        }),
      ),
    );

  cli
    .command('run <file>', 'Run a pipeline on this machine in one grouping, without a plan')
    .option('--grouping <kind>', 'annotated, pod-per-task, one-pod or one-container', { default: 'annotated' })
    .option('--python <path>', 'Python interpreter (default: PTK_PYTHON, else python3)')
    .action((file: string, options: Record<string, unknown>) =>
      run(() =>
        runPipeline({
          file,
          cwd: process.cwd(),
          grouping: String(options.grouping),
          python: options.python === undefined ? undefined : String(options.python),
          signal: interruption(),
        }),
      ),
    );

  cli
    .command('pricing [catalog]', 'List the node types and prices of a catalog')
    .option('--json', 'Print the catalog as JSON')
    .action((catalog: string | undefined, options: { json?: boolean }) =>
      run(() => pricing({ catalog, json: options.json, cwd: process.cwd() })),
    );

  cli.option('--debug', 'Print stack traces of internal errors');
  cli.help();
  cli.version(version);
  return cli;
}

/** Runs one command line and returns its exit code; prints everything the command returned. */
export async function main(argv: string[]): Promise<number> {
  // A reader that stops early (`ptk plan --all | head`) closes the pipe: stop writing, without a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.stdout.destroy();
  });
  let pending: Promise<CommandResult> | undefined;
  const cli = buildCli((work) => {
    pending = work();
  });
  const debug = argv.includes('--debug');

  try {
    cli.parse(argv, { run: false });
    if (cli.options.help || cli.options.version) return 0;
    if (!cli.matchedCommand) {
      const given = cli.args[0];
      const message = given === undefined ? 'missing command' : `unknown command "${given}"`;
      throw new InputError(`${message}; run "ptk --help" to list the commands`);
    }
    await cli.runMatchedCommand();
    if (!pending) return 0;

    const result = await pending;
    if (result.stdout) process.stdout.write(result.stdout.endsWith('\n') ? result.stdout : `${result.stdout}\n`);
    if (result.stderr) process.stderr.write(result.stderr.endsWith('\n') ? result.stderr : `${result.stderr}\n`);
    return result.exitCode;
  } catch (error) {
    return reportError(error, debug);
  }
}

/** Prints an error in the form its kind calls for and returns the exit code that goes with it. */
function reportError(error: unknown, debug: boolean): number {
  if (error instanceof InputError || error instanceof InfeasiblePlanError || error instanceof RunError) {
    process.stderr.write(`ptk: ${error.message}\n`);
    if (debug && error.stack) process.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  if (error instanceof Error && error.name === 'CACError') {
    process.stderr.write(`ptk: ${error.message}; run "ptk --help" for usage\n`);
    return 2;
  }
  const detail = error instanceof Error ? error.message : String(error);
  process.stderr.write(`ptk: internal error: ${detail}\nThis is a bug in ptk; please report it with the command you ran.\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  else process.stderr.write('Run again with --debug to print the stack trace.\n');
  return 1;
}
