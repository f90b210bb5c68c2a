import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { parser } from '@lezer/python';
import type { SyntaxNode } from '@lezer/common';
import { InputError } from './errors.ts';
import { scanSource } from './python-syntax.ts';
import { pythonStdlibModules } from './python-stdlib.ts';
import { SourceReader } from './source-reader.ts';

/** One absolute import: the top-level module name that Python looks up on `sys.path`. */
export interface ImportedModule {
  name: string;
  /**
   * True when the import sits in a `try` that catches ImportError, ModuleNotFoundError, Exception or
   * everything, or under `if TYPE_CHECKING:`, so the program runs without the module.
   */
  optional: boolean;
}

/** The modules that a pipeline imports, sorted out by where Python finds them. */
export interface PipelineImports {
  /** Files of the local modules and packages, by path under the pipeline's folder with `/`, sorted. */
  files: { path: string; content: string }[];
  /** Names of the non-optional modules that are neither local, `ptk`, nor in the standard library, sorted. */
  thirdParty: string[];
}

/**
 * Lists the absolute imports of a Python source at any depth, function bodies included, because tasks import
 * inside their bodies too. Relative imports (`from . import x`) are left out: the runtime loads the pipeline
 * as a top-level module, where they fail, and a package's own relative imports stay inside the package.
 * Imports by `importlib` or `__import__` are not seen.
 */
export function scanImports(source: string, file: string): ImportedModule[] {
  // Parsing a large data module takes seconds, and a file without the word has no import statement.
  if (!source.includes('import')) return [];
  const lezerSource = scanSource(new SourceReader(source, file)).lezerSource;
  const tree = parser.parse(lezerSource);
  const imports: ImportedModule[] = [];
  const cursor = tree.cursor();
  do {
    if (cursor.name !== 'ImportStatement') continue;
    const node = cursor.node;
    const optional = isOptionalImport(node, lezerSource);
    for (const name of topLevelNames(node, lezerSource)) imports.push({ name, optional });
  } while (cursor.next());
  return imports;
}

/**
 * Finds the local modules that a pipeline imports and reads their files, then theirs in turn. A name is
 * local when the pipeline's folder, which the runtime puts first on `sys.path`, contains a package folder with
 * `__init__.py` or a file `<name>.py`, in Python's order. A folder without `__init__.py` but with `.py`
 * files is a namespace package, which Python takes only when no other path has the name, so it is local
 * unless the standard library has the name. A package is shipped whole: every `.py` file under its folder,
 * except in hidden folders and `__pycache__`. The pipeline's own file is read by the caller and not listed.
 *
 * @throws InputError for a local module file that cannot be read.
 */
export async function findPipelineImports(pipelineFile: string, source: string, cwd: string): Promise<PipelineImports> {
  const root = dirname(resolve(cwd, pipelineFile));
  const files = new Map<string, string>();
  const shipped = new Set([basename(pipelineFile)]);
  const thirdParty = new Set<string>();
  const resolved = new Map<string, string[] | undefined>();
  const queue = [{ path: basename(pipelineFile), source }];

  for (let file = queue.shift(); file; file = queue.shift()) {
    for (const module of scanImports(file.source, file.path)) {
      if (module.name === 'ptk') continue;
      if (!resolved.has(module.name)) resolved.set(module.name, await localModulePaths(root, module.name));
      const paths = resolved.get(module.name);

      if (!paths) {
        if (!module.optional && !pythonStdlibModules.has(module.name)) thirdParty.add(module.name);
        continue;
      }
      for (const path of paths.filter((candidate) => !shipped.has(candidate))) {
        shipped.add(path);
        const content = await readModule(join(root, path), relative(cwd, join(root, path)), file.path);
        files.set(path, content);
        queue.push({ path, source: content });
      }
    }
  }

  return {
    files: [...files.keys()].sort().map((path) => ({ path, content: files.get(path)! })),
    thirdParty: [...thirdParty].sort(),
  };
}

/** Returns the paths, under `root` with `/`, of the files that make up module `name` there, or undefined. */
async function localModulePaths(root: string, name: string): Promise<string[] | undefined> {
  const folder = join(root, name);
  const isFolder = (await stat(folder).catch(() => undefined))?.isDirectory() ?? false;
  if (isFolder && (await isFile(join(folder, '__init__.py')))) return pythonFilesUnder(root, folder);
  if (await isFile(join(root, `${name}.py`))) return [`${name}.py`];
  if (!isFolder || pythonStdlibModules.has(name)) return undefined;

  const namespaceFiles = await pythonFilesUnder(root, folder);
  return namespaceFiles.length > 0 ? namespaceFiles : undefined;
}

/** Lists the `.py` files under `folder`, sorted, skipping hidden folders, `__pycache__` and folder links. */
async function pythonFilesUnder(root: string, folder: string): Promise<string[]> {
  const paths: string[] = [];
  const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && entry.name !== '__pycache__') paths.push(...(await pythonFilesUnder(root, path)));
    } else if (entry.name.endsWith('.py') && (await isFile(path))) {
      paths.push(relative(root, path).split(sep).join('/'));
    }
  }
  return paths;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

async function readModule(path: string, displayPath: string, importer: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new InputError(`${displayPath}: cannot be read (${code}), but ${importer} imports it, so the containers need it; make the file readable`);
  }
}

/** Returns the first name of each module in `import a.b, c` or `from a.b import x`; none for relative imports. */
function topLevelNames(statement: SyntaxNode, source: string): string[] {
  const parts: SyntaxNode[] = [];
  for (let child = statement.firstChild; child; child = child.nextSibling) parts.push(child);

  if (parts[0]?.name === 'from') {
    const first = parts[1];
    return first?.name === 'VariableName' ? [source.slice(first.from, first.to)] : [];
  }
  // After `import`, a module name comes first or after a comma. Names after `as` or `.` are not modules.
  const names: string[] = [];
  for (let index = 1; index < parts.length; index++) {
    const previous = parts[index - 1]!.name;
    const part = parts[index]!;
    if (part.name === 'VariableName' && (previous === 'import' || previous === ',')) names.push(source.slice(part.from, part.to));
  }
  return names;
}

const importErrorCatchers = /\b(ImportError|ModuleNotFoundError|Exception|BaseException)\b/;

function isOptionalImport(statement: SyntaxNode, source: string): boolean {
  for (let node = statement.parent; node; node = node.parent) {
    if (node.name === 'TryStatement' && catchesImportError(node, source)) return true;
    if (node.name === 'Body' && node.parent?.name === 'IfStatement' && node.parent.getChild('Body')?.from === node.from) {
      const condition = source.slice(node.parent.firstChild!.to, node.from).trim();
      if (condition === 'TYPE_CHECKING' || condition === 'typing.TYPE_CHECKING') return true;
    }
  }
  return false;
}

/** Tells whether one of a `try` statement's `except` clauses catches ImportError, as a bare `except:` does. */
function catchesImportError(tryStatement: SyntaxNode, source: string): boolean {
  for (let child = tryStatement.firstChild; child; child = child.nextSibling) {
    if (child.name !== 'except') continue;
    let end = child.nextSibling;
    while (end && end.name !== 'Body') end = end.nextSibling;
    const caught = source.slice(child.to, end?.from ?? child.to);
    if (caught.trim() === '' || importErrorCatchers.test(caught)) return true;
  }
  return false;
}
