// What `ts-cgroup exec` and `ts-cgroup watch` do over time: start a program
// that is already in the cgroup when it execs, and follow a cgroup's memory
// and OOM kills until it is removed or we are interrupted.
import { existsSync } from 'node:fs';
import type { Cgroup } from '../cgroup/manager.js';
import { formatBytes } from '../cgroup/limits.js';
import type { ExitInfo } from '../syscalls/process.js';
import { programCalls, runInChild } from './program.js';
import { DomainError } from '../errors.js';

/** The cgroup has no memory controller, so there is nothing to watch. */
export class NoMemoryControllerError extends DomainError {
  readonly kind = 'no-memory-controller';
  constructor(readonly path: string) {
    super(`cgroup ${path} has no memory controller`);
  }
}

/**
 * The child is cloned, then waits in the first link of its plan while this
 * process writes its PID to cgroup.procs in every hierarchy; only then does
 * it exec, so the program never runs (or allocates) outside the cgroup.
 */
export function execInCgroup(cgroup: Cgroup, argv: readonly string[]): Promise<ExitInfo> {
  return runInChild(programCalls(argv), { afterClone: (pid) => cgroup.addProcess(pid) });
}

export interface WatchOptions {
  intervalMs: number;
  print: (line: string) => void;
}

// The kill is counted a moment after the OOM notification (the kernel
// notifies, then picks and kills a victim): look again shortly after.
const RECHECK_AFTER_WAKE_MS = [5, 50, 250];
const MS_PER_S = 1000;

/** Follow memory use and OOM kills; resolves with the exit status when the cgroup is removed or on SIGINT/SIGTERM. */
export function watchCgroup(cgroup: Cgroup, opts: WatchOptions): Promise<number> {
  const memory = cgroup.memoryDir();
  if (!memory) throw new NoMemoryControllerError(cgroup.path);
  const spec = cgroup.path;
  let lastKills = cgroup.oomKills() ?? 0;

  return new Promise((resolve) => {
    let done = false;
    const finish = (status: number) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      events?.stop();
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
      resolve(status);
    };
    const check = () => {
      if (done) return;
      if (!existsSync(memory.dir)) {
        opts.print(`cgroup ${spec} was removed`);
        return finish(0);
      }
      const kills = cgroup.oomKills() ?? lastKills;
      for (let n = lastKills + 1; n <= kills; n++)
        opts.print(`OOM kill in ${spec}: the kernel killed a process at the memory limit (oom_kill ${n})`);
      lastKills = Math.max(lastKills, kills);
    };
    const sample = () => {
      check();
      if (done) return;
      const m = cgroup.stats().memory;
      if (m)
        opts.print(
          `memory ${formatBytes(m.current)} of ${m.max === 'max' ? 'max' : formatBytes(m.max)}${m.peak !== undefined ? `, peak ${formatBytes(m.peak)}` : ''}${m.failcnt !== undefined ? `, limit hit ${m.failcnt} times` : ''}`,
        );
    };
    const wake = () => {
      check();
      for (const ms of RECHECK_AFTER_WAKE_MS) setTimeout(check, ms);
    };
    const interrupted = () => finish(0);
    process.on('SIGINT', interrupted);
    process.on('SIGTERM', interrupted);
    const events = cgroup.watchOom(wake, (err) => {
      opts.print(`lost the OOM notifications: ${err.message}`);
      finish(1);
    });
    opts.print(
      `watching ${spec} (${memory.dir}): memory every ${opts.intervalMs / MS_PER_S} s, OOM kills via ${events?.how}`,
    );
    const timer = setInterval(sample, opts.intervalMs);
    sample();
  });
}
