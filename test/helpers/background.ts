// Background processes for tests that need a target: started by the test
// (tests never enter or signal a process they did not start), found once
// the program has really exec'd (a plan child is a copy of Node until then),
// and always stopped in teardown.
import { spawn, ChildProcess } from 'node:child_process';
import { asNobody, cleanEnv, comm, descendants, NO_TAP } from './tools.js';
import { waitFor } from './wait.js';

export interface Background {
  /** The process the test spawned (ts-unshare, or the program itself). */
  parent: ChildProcess;
  /** The PID of the process running `comm`, a descendant of parent (or parent itself). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * Start argv in the background and wait until the process named `comm`
 * (e.g. 'sleep') exists below it. A bounded wait for an event, not a timing.
 */
export async function startBackground(
  argv: string[],
  opts: { comm: string; as?: 'nobody'; cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<Background> {
  const full = [...NO_TAP, ...(opts.as === 'nobody' ? asNobody(argv) : argv)];
  const parent = spawn(full[0]!, full.slice(1), {
    stdio: ['ignore', 'ignore', 'inherit'],
    cwd: opts.cwd ?? '/',
    env: opts.env ?? cleanEnv(),
  });
  const exited = new Promise<void>((resolve) => parent.on('exit', () => resolve()));
  const stop = async () => {
    for (const pid of [...descendants(parent.pid!)].reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
    await exited;
  };
  let found: number | undefined;
  await waitFor(
    () => {
      found = [parent.pid!, ...descendants(parent.pid!)].find((p) => comm(p) === opts.comm);
      return found !== undefined || parent.exitCode !== null;
    },
    { timeoutMs: 10_000, intervalMs: 25 },
  );
  if (found !== undefined) return { parent, pid: found, stop };
  await stop();
  throw new Error(`${argv.join(' ')}: no process named ${opts.comm} appeared`);
}
