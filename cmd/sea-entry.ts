// The entry point of the bundled ptk (dist/ptk.cjs and the dist/ptk single executable). A Node single
// executable runs its script as CommonJS, where top-level await is a syntax error, so this entry waits on
// the promise instead of awaiting it as cmd/cli.ts does.
import { main } from './main.ts';

main(process.argv).then(
  (exitCode) => {
    process.exitCode = exitCode;
  },
  (error: unknown) => {
    // main() reports every error itself; this branch runs only if the reporting fails too.
    process.stderr.write(`ptk: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
