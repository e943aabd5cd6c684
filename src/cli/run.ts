// The common front of every tool: parse the command line, --help, --version,
// --trace, and turn errors into one line on stderr and util-linux's exit statuses.
import { writeSync } from 'node:fs';
import { ParsedCommandLine, ToolSpec, parseCommandLine, renderHelp } from './options.js';
import { ExecError, SyscallError, ToolError, UsageError, errnoText } from '../syscalls/errors.js';
import { enableTrace } from '../syscalls/trace.js';
import { ERRNO } from '../syscalls/constants.js';
import type { ExitInfo } from '../syscalls/process.js';
import { exitLikeChild, isExitInfo } from './exit.js';

export const VERSION = '0.1.0';

function say(fd: number, text: string): void {
  try {
    writeSync(fd, text.endsWith('\n') ? text : text + '\n');
  } catch {
    // the reader went away
  }
}

/** Print an error the way util-linux does and return the exit status. */
export function reportError(tool: string, err: unknown): number {
  if (err instanceof UsageError) {
    say(2, `${tool}: ${err.message}\nTry '${tool} --help' for more information.`);
    return 1;
  }
  if (err instanceof ExecError) {
    say(2, `${tool}: failed to execute ${err.file}: ${errnoText(err.errno)}`);
    return err.errno === ERRNO.ENOENT ? 127 : 126;
  }
  if (err instanceof SyscallError) {
    say(2, `${tool}: ${err.describe()}`);
    if (err.hint) say(2, `${tool}: hint: ${err.hint}`);
    return 1;
  }
  if (err instanceof ToolError) {
    say(2, `${tool}: ${err.message}`);
    if (err.hint) say(2, `${tool}: hint: ${err.hint}`);
    return err.exitCode;
  }
  const e = err as Error;
  say(2, `${tool}: ${e?.message ?? String(err)}`);
  if (process.env.NSLAB_DEBUG) say(2, e?.stack ?? '');
  return 1;
}

type MainResult = number | void | ExitInfo;

/**
 * Run a tool's main function. It returns an exit status, or how the child
 * that stood for the tool ended (the tool then ends the same way), or never
 * returns (exec in place).
 */
export async function runTool(spec: ToolSpec, main: (cmd: ParsedCommandLine) => MainResult | Promise<MainResult>, argv = process.argv.slice(2)): Promise<void> {
  let status: number;
  try {
    const cmd = parseCommandLine(spec, argv);
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
    status = reportError(spec.name, err);
    if (err instanceof UsageError && spec.usageExitCode !== undefined) status = spec.usageExitCode;
  }
  process.exit(status);
}
