/** Result of a command for the entry point: the text to print and the exit code. */
export interface CommandResult {
  stdout: string;
  stderr?: string;
  exitCode: number;
}
