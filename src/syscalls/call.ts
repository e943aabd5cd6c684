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
  readonly fn: string;
  /** Arguments as 64-bit values; Buffers they point into are kept in `keep`. */
  readonly args: readonly bigint[];
  readonly keep: readonly Buffer[];
  /** How the call reads in a trace line: 'mount("proc", "/proc", "proc", MS_NOSUID, NULL)'. */
  readonly show: string;
  /** The error line's subject, when it is not the call itself: "mount /proc". */
  readonly what?: string;
  readonly hint?: string;
  /** A name later calls of the same plan refer to (onlyIfFailed, optional.ifSucceeded). */
  readonly id?: string;
  /**
   * A failure is reported in the trace but is not fatal (util-linux ignores
   * it too): always, or only when the earlier call named here succeeded.
   */
  readonly optional?: boolean | { readonly ifSucceeded: string };
  /** execvp-like: success never returns. */
  readonly exec?: { readonly file: string };
  /** In a child plan: work for the parent once this call succeeded, before the child goes on. */
  readonly after?: (childPid: number) => void;
  /**
   * Run only if the earlier call named here failed (a second try, as
   * nsenter's second pass); otherwise it is skipped (in a child plan the
   * child runs a harmless getpid() instead).
   */
  readonly onlyIfFailed?: string;
  /** In a child plan: this step forks (see forkCall in plan.ts). */
  readonly forks?: boolean;
  /**
   * In a child plan that runs ahead (PlanOptions.runAhead): the child goes
   * past this call only once the parent has seen it succeed, because the
   * calls after it would act somewhere else if it failed (setns: the wrong
   * namespace; the propagation of /: mounts would reach the host).
   */
  readonly gate?: boolean;
}

export type CallExtra = Partial<Omit<Call, 'fn' | 'args' | 'show'>>;

export function makeCall(fn: string, rawArgs: readonly CallArg[], show: string, extra: CallExtra = {}): Call {
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
  return { fn, args, show, ...extra, keep: [...keep, ...(extra.keep ?? [])] };
}

/**
 * How the calls of one plan went, by id: what `optional: { ifSucceeded }`
 * and `onlyIfFailed` are decided on.
 */
export class CallResults {
  private readonly errnos = new Map<string, number>();

  record(call: Call, errno: number): void {
    if (call.id !== undefined) this.errnos.set(call.id, errno);
  }

  /** Whether the call runs at all. */
  shouldRun(call: Call): boolean {
    return call.onlyIfFailed === undefined || (this.errnos.get(call.onlyIfFailed) ?? 0) !== 0;
  }

  /** Whether a failure of the call is only reported. */
  isOptional(call: Call): boolean {
    if (typeof call.optional === 'object') return this.errnos.get(call.optional.ifSucceeded) === 0;
    return call.optional === true;
  }
}

/** Call a libc function with every argument passed as a 64-bit integer. */
function rawFunction(fn: string, argc: number) {
  const params = Array.from({ length: argc }, (_, i) => `int64_t a${i}`).join(', ');
  return cfunc(`int ${fn}(${params})`);
}

/**
 * Run a Call in this process: trace it, and throw SyscallError unless it is
 * optional. Returns the result or -errno. `results` (for the calls of one
 * plan run in place) decides conditional calls; a skipped one returns 0.
 */
export function callNow(call: Call, results = new CallResults()): number {
  if (!results.shouldRun(call)) return 0;
  if (call.exec) traceLine(`${call.show} ...`);
  resetErrno();
  const result = rawFunction(call.fn, call.args.length)(...call.args) as number;
  if (result === -1 || call.exec) {
    const errno = lastErrno();
    traceLine(`${call.show} ${formatResult(-1, errno)}`);
    const optional = results.isOptional(call);
    results.record(call, errno);
    if (optional) return -errno;
    throw new SyscallError(call.fn, call.show, errno, { what: call.what, hint: call.hint });
  }
  results.record(call, 0);
  traceLine(`${call.show} ${formatResult(result)}`);
  return result;
}
