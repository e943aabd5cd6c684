// The common front of every tool: parse the command line, --help, --version,
// --trace, and turn errors into lines on stderr and exit statuses. This file
// is the one error formatter and the one place exit statuses are decided
// (docs/errors.md):
//
//   PROG: cannot ACTION: ERRNO (text)      a failed system call
//   PROG: hint: ...                        optional, one line
//
// a usage error adds util-linux's "Try 'PROG --help'" line, a failed exec is
// worded as util-linux words it, and a domain error (src/core/errors.ts) is
// worded by the tool's own `describe`, which may also add a hint naming the
// tool's flags and choose the exit status. A tool that speaks another
// program's error format (ts-runc: runc's logrus lines) plugs in its own
// `print`; the wording and the exit still happen here.
import { writeSync } from 'node:fs';
import { ParsedCommandLine, ToolSpec, parseCommandLine, renderHelp } from './options.js';
import { ToolError, UsageError } from './errors.js';
import { ExecError, SyscallError, errnoPart, errnoText } from '../syscalls/errors.js';
import { enableTrace } from '../syscalls/trace.js';
import { ERRNO } from '../syscalls/constants.js';
import type { ExitInfo } from '../syscalls/process.js';
import { exitLikeChild, isExitInfo } from './exit.js';

export const VERSION = '0.1.0';

/** How a tool words one error: any field left out keeps the default. */
export interface Described {
  /** The text after "PROG: ". */
  message?: string;
  /** The hint line's text (replaces the error's own hint). */
  hint?: string;
  exitCode?: number;
  /** Add the "Try 'PROG --help'" line, as for a usage error. */
  usage?: boolean;
}

/** A tool's wording of the errors it knows (domain errors, or advice for a SyscallError); undefined keeps the default. */
export type Describe = (err: unknown) => Described | undefined;

/** An error as it is finally worded: what `print` puts out. */
export type FinalDescribed = Required<Pick<Described, 'message' | 'exitCode'>> & Described;

/** Puts a worded error out (default: util-linux's lines on stderr). */
export type PrintError = (tool: string, d: FinalDescribed, err: unknown) => void;

export interface RunOptions {
  /** The command line (default process.argv.slice(2)). */
  argv?: string[];
  describe?: Describe;
  print?: PrintError;
}

/** The one wording of a failure with an errno: "cannot ACTION: ERRNO (text)". */
export function cannot(action: string, errno: number): string {
  return `cannot ${action}: ${errnoPart(errno)}`;
}

/** Exit statuses (util-linux, coreutils): 1 for a failure, 126/127 when the program cannot be run / is not found. */
export const EXIT_FAILURE = 1;
export const EXIT_CANNOT_INVOKE = 126;
export const EXIT_NOT_FOUND = 127;

function say(fd: number, text: string): void {
  try {
    writeSync(fd, text.endsWith('\n') ? text : text + '\n');
  } catch {
    // the reader went away
  }
}

/** The default wording and status of an error, before the tool's describe. */
function byDefault(tool: string, err: unknown, usageExitCode: number): FinalDescribed {
  if (err instanceof UsageError) return { message: err.message, exitCode: usageExitCode, usage: true };
  if (err instanceof ExecError)
    return {
      message: `failed to execute ${err.file}: ${errnoText(err.errno)}`,
      exitCode: err.errno === ERRNO.ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_INVOKE,
    };
  if (err instanceof SyscallError) return { message: err.message, hint: err.hint, exitCode: EXIT_FAILURE };
  if (err instanceof ToolError) return { message: err.message, hint: err.hint, exitCode: err.exitCode };
  const e = err as Error;
  if (process.env.NSLAB_DEBUG && e?.stack) say(2, e.stack);
  return { message: e?.message ?? String(err), exitCode: EXIT_FAILURE };
}

/** Print an error and return the exit status. */
export function reportError(
  tool: string,
  err: unknown,
  opts: { describe?: Describe; usageExitCode?: number; print?: PrintError } = {},
): number {
  const base = byDefault(tool, err, opts.usageExitCode ?? EXIT_FAILURE);
  const own = opts.describe?.(err) ?? {};
  const d: FinalDescribed = { ...base, ...Object.fromEntries(Object.entries(own).filter(([, v]) => v !== undefined)) };
  (opts.print ?? printLikeUtilLinux)(tool, d, err);
  return d.exitCode;
}

/** PROG: message, PROG: hint: ..., and for a usage error the "Try" line. */
function printLikeUtilLinux(tool: string, d: FinalDescribed, err: unknown): void {
  say(2, `${tool}: ${d.message}`);
  if (d.hint) say(2, `${tool}: hint: ${d.hint}`);
  // A subcommand's usage error names it (ts-cgroup create): UsageError.command where the parser sets it.
  const command = (err as { command?: string } | undefined)?.command;
  if (d.usage) say(2, `Try '${(err instanceof UsageError && command) || tool} --help' for more information.`);
}

/**
 * Run a main that reads its own command line (ts-runc: urfave/cli's rules)
 * and returns an exit status: errors are worded and printed by
 * reportError, and the process exits here.
 */
export async function runMain(
  tool: string,
  main: () => Promise<number>,
  opts: Omit<RunOptions, 'argv'> = {},
): Promise<never> {
  let status: number;
  try {
    status = await main();
  } catch (err) {
    status = reportError(tool, err, opts);
  }
  process.exit(status);
}

type MainResult = number | void | ExitInfo;

/**
 * Run a tool's main function. It returns an exit status, or how the child
 * that stood for the tool ended (the tool then ends the same way), or never
 * returns (exec in place).
 */
export async function runTool(
  spec: ToolSpec,
  main: (cmd: ParsedCommandLine) => MainResult | Promise<MainResult>,
  options: RunOptions | string[] = {},
): Promise<void> {
  // An argv array alone is the older form of the third argument (ts-veth).
  const opts: RunOptions = Array.isArray(options) ? { argv: options } : options;
  let status: number;
  try {
    const cmd = parseCommandLine(spec, opts.argv ?? process.argv.slice(2));
    if (cmd.opts.help) {
      say(1, await renderHelp(spec));
      process.exit(0);
    }
    if (cmd.opts.version) {
      say(1, `${spec.name} from nslab ${VERSION}`);
      process.exit(0);
    }
    if (cmd.opts.trace) enableTrace(true, spec.name);
    const result = await main(cmd);
    if (isExitInfo(result)) exitLikeChild(result);
    status = result ?? 0;
  } catch (err) {
    status = reportError(spec.name, err, {
      describe: opts.describe,
      usageExitCode: spec.usageExitCode,
      print: opts.print,
    });
  }
  process.exit(status);
}
