import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { InputError, RunError } from './errors.ts';

/** A file to write: a plain name inside the folder, and its text. */
export interface OutputFile {
  name: string;
  content: string;
}

/**
 * Name of the list of files that ptk wrote into an output folder. It lets a later run tell its own earlier
 * output, which it may replace, from a folder that contains the user's files. `kubectl apply -f DIR` skips it
 * because it reads only .json, .yaml and .yml files.
 */
export const outputListName = '.ptk-output';

const outputListHeader = '# Files written by ptk. ptk replaces this folder when it writes here again.';

/**
 * Writes `files` into `folder` all-or-nothing: they are written into a temporary sibling folder, which
 * then takes the place of `folder`. On any error the temporary folder is removed, so `folder` is either
 * untouched or contains exactly the new files.
 *
 * `folder` may be missing, empty, or an earlier output of ptk, which contains `.ptk-output` and only the
 * files listed there. Any other folder is left alone. Missing parent folders are created, and removed again
 * when the write fails.
 *
 * `shownAs` names the folder in messages, as the user wrote its path.
 *
 * @throws InputError when `folder` is a file, a folder with files that ptk did not write, or a place the user
 *   cannot write to.
 * @throws RunError when the file system fails otherwise (disk full, a file name too long).
 * @throws Error when a file name contains a folder or repeats, which is a bug of the caller.
 */
export async function writeFilesAtomically(folder: string, files: OutputFile[], shownAs = folder): Promise<void> {
  checkNames(files);
  await checkTarget(folder, shownAs);

  const parent = dirname(folder);
  const firstCreated = await mkdir(parent, { recursive: true }).catch((error: unknown) => {
    throw fileSystemError(error, dirname(shownAs));
  });

  let staging: string | undefined;
  try {
    // mkdir applies the umask, where mkdtemp would leave the new folder readable by its owner only.
    staging = join(parent, `.${basename(folder)}.ptk-new-${randomBytes(6).toString('hex')}`);
    await mkdir(staging);
    for (const file of files) await writeFile(join(staging, file.name), file.content, { flag: 'wx' });
    await writeFile(join(staging, outputListName), [outputListHeader, ...files.map((file) => file.name), ''].join('\n'));
    await replaceFolder(staging, folder);
  } catch (error) {
    if (staging) await rm(staging, { recursive: true, force: true });
    if (firstCreated) await rm(firstCreated, { recursive: true, force: true });
    throw error instanceof InputError || error instanceof RunError ? error : fileSystemError(error, shownAs);
  }
}

function checkNames(files: OutputFile[]): void {
  const seen = new Set<string>();
  for (const file of files) {
    if (file.name === '' || file.name === '.' || file.name === '..' || /[\\/\0]/.test(file.name) || file.name === outputListName) {
      throw new Error(`invalid output file name "${file.name}": a file name without folders is expected`);
    }
    if (seen.has(file.name)) throw new Error(`output file "${file.name}" appears twice`);
    seen.add(file.name);
  }
}

/** Rejects a target that is a file, or a folder that contains anything that ptk did not write there. */
async function checkTarget(folder: string, shownAs: string): Promise<void> {
  const info = await stat(folder).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw fileSystemError(error, shownAs);
  });
  if (!info) return;
  if (!info.isDirectory()) throw new InputError(`${shownAs}: is a file, not a folder; give a new or empty folder for the manifests`);

  const entries = await readdir(folder);
  if (entries.length === 0) return;

  const listed = await readOutputList(folder);
  const foreign = listed ? entries.filter((entry) => entry !== outputListName && !listed.has(entry)) : entries;
  if (foreign.length === 0) return;

  const listedNames = foreign.sort().slice(0, 5).join(', ') + (foreign.length > 5 ? `, and ${foreign.length - 5} more` : '');
  throw new InputError(
    `${shownAs}: the folder contains files that ptk did not write (${listedNames}); give a new or empty folder, ` +
      'or the folder of an earlier ptk apply --out',
  );
}

async function readOutputList(folder: string): Promise<Set<string> | undefined> {
  const text = await readFile(join(folder, outputListName), 'utf8').catch(() => undefined);
  if (text === undefined || !text.startsWith(outputListHeader)) return undefined;
  return new Set(text.split('\n').slice(1).filter((line) => line !== ''));
}

/**
 * Moves `staging` to `folder`. A missing or empty folder is replaced by one rename. An earlier output is
 * first renamed aside and deleted once the new folder is in place. If the second rename fails, the earlier
 * output is renamed back.
 */
async function replaceFolder(staging: string, folder: string): Promise<void> {
  const entries = await readdir(folder).catch(() => undefined);
  if (entries === undefined || entries.length === 0) {
    await rename(staging, folder);
    return;
  }

  const aside = await mkdtemp(join(dirname(folder), `.${basename(folder)}.ptk-old-`));
  const old = join(aside, 'old');
  await rename(folder, old);
  try {
    await rename(staging, folder);
  } catch (error) {
    await rename(old, folder);
    await rm(aside, { recursive: true, force: true });
    throw error;
  }
  await rm(aside, { recursive: true, force: true });
}

function fileSystemError(error: unknown, shownAs: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const detail = error instanceof Error ? error.message : String(error);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new InputError(`${shownAs}: cannot write there (${code}); choose a folder that you can write to`);
  }
  if (code === 'ENOTDIR') return new InputError(`${shownAs}: a part of the path is a file, not a folder; choose another folder`);
  return new RunError(`writing the manifests into ${shownAs} failed: ${detail}`, { cause: error });
}
