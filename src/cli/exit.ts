// The tool's side of running a program in a child: end as the child ended.
import { cfunc } from '../syscalls/libc.js';
import { SIG_DFL, SIG_SETMASK } from '../syscalls/constants.js';
import { ExitInfo, kill } from '../syscalls/process.js';

/**
 * End this process the way the child ended: its exit code, or the same
 * signal (default action restored, unblocked, then raised), as util-linux does.
 */
export function exitLikeChild(info: ExitInfo): never {
  if (info.signal) {
    const signal = cfunc('int64_t signal(int sig, int64_t handler)');
    const sigprocmask = cfunc('int sigprocmask(int how, void *set, void *old)');
    signal(info.signal, SIG_DFL);
    sigprocmask(SIG_SETMASK, Buffer.alloc(128), null);
    kill(process.pid, info.signal);
    // A signal whose default is to be ignored (SIGCHLD, SIGWINCH) lands here.
    process.exit(128 + info.signal);
  }
  process.exit(info.code ?? 1);
}

/** A tool's main returned how its child ended (instead of a status). */
export function isExitInfo(value: unknown): value is ExitInfo {
  return typeof value === 'object' && value !== null && typeof (value as ExitInfo).pid === 'number';
}
