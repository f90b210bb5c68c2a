/** A place in a source file. Lines and columns count from 1, as editors show them. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** One problem found in the user's input: what is wrong, with the value and the fix in the message. */
export interface Problem {
  location?: SourceLocation;
  message: string;
}

/** Formats a problem as `file:line:col: message`, or the bare message when it has no location. */
export function formatProblem(problem: Problem): string {
  const where = problem.location;
  if (!where) return problem.message;
  return `${where.file}:${where.line}:${where.column}: ${problem.message}`;
}

/** Invalid input or usage: exit code 2. Carries every problem found in one input, not only the first. */
export class InputError extends Error {
  readonly exitCode = 2;
  readonly problems: Problem[];

  constructor(problems: Problem[] | string) {
    const list = typeof problems === 'string' ? [{ message: problems }] : problems;
    super(list.map(formatProblem).join('\n'));
    this.name = 'InputError';
    this.problems = list;
  }
}

/** No candidate plan meets the limits: exit code 3. */
export class InfeasiblePlanError extends Error {
  readonly exitCode = 3;

  constructor(message: string) {
    super(message);
    this.name = 'InfeasiblePlanError';
  }
}

/** A run or cluster operation failed: exit code 1. */
export class RunError extends Error {
  readonly exitCode = 1;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunError';
  }
}

/** Sorts problems by file, line and column so that reports read top to bottom. */
export function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => {
    const left = a.location;
    const right = b.location;
    // Problems with a location come before those without one.
    if (!left && !right) return 0;
    if (!left) return 1;
    if (!right) return -1;
    return left.file.localeCompare(right.file) || left.line - right.line || left.column - right.column;
  });
}
