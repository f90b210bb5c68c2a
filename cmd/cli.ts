// The entry point of the ptk command: the only module that sets the process's exit code.
import { main } from './main.ts';

process.exitCode = await main(process.argv);
