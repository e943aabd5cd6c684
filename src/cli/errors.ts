// Errors that belong to the command line: a bad flag or operand (a usage
// error, exit 1 with util-linux's "Try '... --help'" line) and any other
// failure a tool words itself, with its exit status. Lower layers never throw
// these: they throw SyscallError (src/syscalls/errors.ts) or a domain error
// (src/core/errors.ts), and the tool turns those into words.

/** An error the user caused with the command line: printed with a usage hint, exit 1. */
export class UsageError extends Error {
  /** Whose --help the "Try" line names, when not the tool's: 'ts-cgroup create'. */
  readonly command?: string;
  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** Any other expected failure: one line, no stack, an exit status. */
export class ToolError extends Error {
  readonly exitCode: number;
  hint?: string;
  constructor(message: string, exitCode = 1, hint?: string) {
    super(message);
    this.name = 'ToolError';
    this.exitCode = exitCode;
    this.hint = hint;
  }
}
