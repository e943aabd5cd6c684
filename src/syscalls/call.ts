// A Call is one libc call described as data: the symbol, its arguments as
// 64-bit values, and how it reads in a trace line. The same Call can run now,
// in this process (callNow), or later in a cloned child that never returns
// into JavaScript (see plan.ts). Syscall modules build Calls; tools decide
// where they run.
import { addressOf, cString, cStringArray, cfunc, lastErrno, resetErrno } from './libc.js';
import { SyscallError } from './errors.js';
import { formatResult, traceLine } from './trace.js';

export type CallArg = number | bigint | string | Buffer | null | readonly string[];

export interface Call {
  /** libc symbol, e.g. 'mount'. */
  fn: string;
  /** Arguments as 64-bit values; Buffers they point into are kept in `keep`. */
  args: bigint[];
  keep: Buffer[];
  /** How the call reads in a trace line: 'mount("proc", "/proc", "proc", MS_NOSUID, NULL)'. */
  show: string;
  /** The error line's subject, when it is not the call itself: "mount /proc". */
  what?: string;
  hint?: string;
  /** A failure is reported in the trace but is not fatal (util-linux ignores it too). */
  optional?: boolean;
  /** execvp-like: success never returns. */
  exec?: { file: string };
  /** In a child plan: work for the parent once this call succeeded, before the child goes on. */
  after?: (childPid: number) => void;
  /**
   * In a child plan: asked by the parent just before the child reaches this
   * call; false skips it (the child runs a harmless getpid() instead). For
   * steps that depend on how earlier ones went (nsenter's second pass).
   */
  when?: () => boolean;
  /**
   * In a child plan: the call needs a process with memory of its own, not
   * shared with the parent (CLONE_VM): setns() into a time namespace is
   * refused with EUSERS otherwise (timens_install: current_is_single_threaded).
   */
  needsOwnMemory?: boolean;
  /** In a child plan: this step forks (see forkCall in plan.ts). */
  forks?: boolean;
}

export function makeCall(fn: string, rawArgs: readonly CallArg[], show: string, extra: Partial<Call> = {}): Call {
  const keep: Buffer[] = [];
  const args = rawArgs.map((a): bigint => {
    if (a === null) return 0n;
    if (typeof a === 'bigint') return a;
    if (typeof a === 'number') return BigInt(a);
    if (typeof a === 'string') {
      const b = cString(a);
      keep.push(b);
      return addressOf(b);
    }
    if (Buffer.isBuffer(a)) {
      keep.push(a);
      return addressOf(a);
    }
    const arr = cStringArray(a as readonly string[]);
    keep.push(arr.array, ...arr.keep);
    return addressOf(arr.array);
  });
  return { fn, args, keep, show, ...extra };
}

/** Call a libc function with every argument passed as a 64-bit integer. */
function rawFunction(fn: string, argc: number) {
  const params = Array.from({ length: argc }, (_, i) => `int64_t a${i}`).join(', ');
  return cfunc(`int ${fn}(${params})`);
}

/** Run a Call in this process: trace it, and throw SyscallError unless it is optional. Returns the result or -errno. */
export function callNow(call: Call): number {
  if (call.exec) traceLine(`${call.show} ...`);
  resetErrno();
  const result = rawFunction(call.fn, call.args.length)(...call.args) as number;
  if (result === -1 || call.exec) {
    const errno = lastErrno();
    traceLine(`${call.show} ${formatResult(-1, errno)}`);
    if (call.optional) return -errno;
    throw new SyscallError(call.fn, call.show, errno, { what: call.what, hint: call.hint });
  }
  traceLine(`${call.show} ${formatResult(result)}`);
  return result;
}
