import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InputError } from './errors.ts';
import { parseModule } from './parse.ts';
import { buildPipeline } from './model.ts';
import type { Pipeline } from './types.ts';

/** Reads, parses and validates a pipeline file. `file` is kept as given, so messages show the user's path. */
export async function loadPipeline(file: string, cwd: string): Promise<Pipeline> {
  const source = await readSource(file, cwd);
  return buildPipeline(parseModule(source, file));
}

/** Reads a pipeline's source, turning a missing or unreadable file into an InputError that names it. */
export async function readSource(file: string, cwd: string): Promise<string> {
  try {
    return await readFile(resolve(cwd, file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${file}: file not found; give the path of the Python file that defines the tasks`);
    if (code === 'EISDIR') throw new InputError(`${file}: is a folder; give the path of the Python file that defines the tasks`);
    throw new InputError(`${file}: cannot be read (${code ?? String(error)}); check its permissions`);
  }
}
