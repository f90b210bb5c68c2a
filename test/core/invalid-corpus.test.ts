import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// Runs `ptk check` on every program in test/fixtures/invalid and compares what it prints on stderr with
// the .expected file beside it. Each NAME.py breaks one rule (several-problems.py breaks several), and
// folder-instead-of-file.py is a folder. missing-file.expected has no program: its path does not exist.

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = join(root, 'test', 'fixtures', 'invalid');
const ptk = join(root, 'bin', 'ptk.mjs');
const concurrency = 2;

interface Case {
  /** The path given to `ptk check`, relative to the repository root as a user would type it. */
  file: string;
  expectedFile: string;
}

interface Outcome {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

const names = readdirSync(fixtures);
const cases: Case[] = names
  .filter((name) => name.endsWith('.py'))
  .map((name) => ({ file: relative(root, join(fixtures, name)), expectedFile: join(fixtures, name.replace(/\.py$/, '.expected')) }));
cases.push({ file: relative(root, join(fixtures, 'missing-file.py')), expectedFile: join(fixtures, 'missing-file.expected') });

function runCheck(file: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ptk, 'check', file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ stdout, stderr, exitCode }));
  });
}

/** Runs every case, `concurrency` at a time, and returns the outcomes by file. */
async function runAll(): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>();
  const queue = [...cases];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) outcomes.set(next.file, await runCheck(next.file));
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return outcomes;
}

const outcomes = runAll();

test('corpus has at least 30 programs', () => {
  assert.ok(cases.length >= 30, `only ${cases.length} cases in ${fixtures}`);
});

test('every program has an .expected file', () => {
  const missing = cases.filter((entry) => !existsSync(entry.expectedFile)).map((entry) => entry.file);
  assert.equal(missing, [], `write the .expected file of: ${missing.join(', ')}`);
});

test('every .expected file has a program', () => {
  const expectedFiles = new Set(cases.map((entry) => entry.expectedFile));
  const orphans = names.filter((name) => name.endsWith('.expected') && !expectedFiles.has(join(fixtures, name)));
  assert.equal(orphans, [], `remove or rename: ${orphans.join(', ')}`);
});

for (const entry of cases) {
  test(`check ${entry.file}`, async () => {
    assert.ok(existsSync(entry.expectedFile), `${entry.file} has no .expected file: run "node bin/ptk.mjs check ${entry.file}" and save its stderr`);
    const outcome = (await outcomes).get(entry.file)!;
    const expected = readFileSync(entry.expectedFile, 'utf8');

    assert.is(outcome.stderr, expected);
    assert.is(outcome.stdout, '');
    assert.is(outcome.exitCode, 2);
    assert.not.match(outcome.stderr, /^ {4}at /m, 'stderr contains a stack trace');
  });
}

test.run();
