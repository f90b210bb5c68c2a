import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InputError } from './errors.ts';

/**
 * Writes a file all at once: the text goes to a temporary file in the same folder, which is then
 * renamed over the target, so a reader sees the old file or the new one and never a partial one.
 * Missing parent folders are created.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temporary, text, { flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'EROFS') {
      throw new InputError(`${path}: cannot be written (${code}); check that its folder exists and is writable, or choose another path with --out`);
    }
    throw error;
  }
}
