// Running the user's program in a cloned child that follows a plan: start it
// and get a handle (startProgram), or run it in the foreground and learn how
// it ended (runInChild; the tool then exits the same way, src/cli/exit.ts).
// Exec in place is execInPlace in src/syscalls/process.ts.
import { Call, makeCall } from '../syscalls/call.js';
import { PlanOptions, StartedChild, startPlan } from '../syscalls/plan.js';
import {
  ExitInfo,
  clearNonBlockingStdio,
  execCall,
  restoreForExecCalls,
  superviseChild,
  waitChild,
} from '../syscalls/process.js';
import { PR, signalName } from '../syscalls/constants.js';

/** The program to run: argv as given, or a login shell like util-linux's exec_shell(). */
export function programCalls(
  argv: readonly string[],
  shellFallback: { login: boolean; interactive?: boolean } = { login: true },
): Call[] {
  if (argv[0] !== undefined) return [execCall(argv[0], argv)];
  const shell = process.env.SHELL || '/bin/sh';
  const base = shell.split('/').pop() || 'sh';
  if (shellFallback.interactive) return [execCall(shell, [shell, '-i'])];
  return [execCall(shell, [shellFallback.login ? `-${base}` : base])];
}

/** prctl(PR_SET_PDEATHSIG): the child gets `signal` when the parent dies (--kill-child). */
export function deathSignalCall(signal: number): Call {
  return makeCall('prctl', [PR.PR_SET_PDEATHSIG, signal, 0, 0, 0], `prctl(PR_SET_PDEATHSIG, ${signalName(signal)})`, {
    what: 'prctl failed',
  });
}

/**
 * Start `calls` (ending with an exec) in a child made ready to run a program
 * (stdio blocking and inherited, SIGPIPE/SIGXFSZ default). Returns once the
 * program runs, or once the child waits at `opts.barrier`.
 */
export function startProgram(calls: readonly Call[], opts: PlanOptions = {}): StartedChild {
  clearNonBlockingStdio();
  return startPlan([...restoreForExecCalls(), ...calls], opts);
}

/**
 * Start `calls` (ending with an exec) in a child as a foreground program,
 * wait for it, and say how it ended: the tool then ends the same way
 * (src/cli/exit.ts, exitLikeChild).
 */
export async function runInChild(
  calls: readonly Call[],
  opts: PlanOptions = {},
  wait: { passStops?: boolean } = {},
): Promise<ExitInfo> {
  const child = startProgram(calls, opts);
  const unsupervise = superviseChild(child.pid);
  try {
    return await waitChild(child.pid, wait);
  } finally {
    unsupervise();
  }
}
