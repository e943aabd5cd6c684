// One error type for a failed system call: which call, with which arguments,
// the errno name and text, and a hint a student can act on.
import { constants as osConstants } from 'node:os';
import { cfunc } from './libc.js';

export function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(osConstants.errno)) if (value === errno) return name;
  return `E${errno}`;
}

export function errnoNumber(name: string): number {
  const n = (osConstants.errno as Record<string, number>)[name];
  if (n === undefined) throw new Error(`unknown errno ${name}`);
  return n;
}

const texts = new Map<number, string>();
/** strerror(3) text, e.g. "Operation not permitted". */
export function errnoText(errno: number): string {
  let text = texts.get(errno);
  if (text === undefined) {
    text = String(cfunc('const char *strerror(int errnum)')(errno));
    texts.set(errno, text);
  }
  return text;
}

export class SyscallError extends Error {
  /** The libc function name, e.g. 'unshare'. */
  readonly call: string;
  /** The call as a trace line shows it: 'unshare(CLONE_NEWNS)'. */
  readonly show: string;
  readonly errno: number;
  readonly code: string;
  hint?: string;
  /** What the tool was doing, for the message: "mount /proc", "cannot open /proc/1/ns/net". */
  what?: string;

  constructor(call: string, show: string, errno: number, opts: { hint?: string; what?: string } = {}) {
    const code = errnoName(errno);
    super(describeFailure(opts.what ?? show, code, errno));
    this.name = 'SyscallError';
    this.call = call;
    this.show = show;
    this.errno = errno;
    this.code = code;
    this.hint = opts.hint ?? defaultHint(call, code);
    this.what = opts.what;
  }

  /** The text after "tool: " on the error line. */
  describe(): string {
    return describeFailure(this.what ?? this.show, this.code, this.errno);
  }
}

/**
 * "<what> failed: EPERM (Operation not permitted)"; a subject that already
 * says it failed ("setgroups failed", "cannot open /proc/9/ns/net") takes
 * util-linux's "<what>: <errno>" instead of a second "failed".
 */
function describeFailure(what: string, code: string, errno: number): string {
  const saysFailed = /^cannot |\bfailed$/.test(what);
  return `${what}${saysFailed ? ':' : ' failed:'} ${code} (${errnoText(errno)})`;
}

// TRANSITIONAL (code-health issue): UsageError and ToolError are command-line
// errors and live in src/cli/errors.ts. Lower layers that still throw them
// are being converted to domain errors (src/core/errors.ts); this re-export
// goes when the last one is.
export { UsageError, ToolError } from '../cli/errors.js';

function isRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

/** Hints for the failures students meet most; the call decides the advice. */
function defaultHint(call: string, code: string): string | undefined {
  if (code === 'EPERM' || code === 'EACCES') {
    if (!isRoot()) {
      if (/^(unshare|clone|mount|umount2|sethostname|pivot_root|chroot|setns)$/.test(call))
        return 'this needs CAP_SYS_ADMIN: run as root, or add -U/-r to work inside a new user namespace';
      return 'run as root (sudo), or inside a user namespace where you are root';
    }
    if (call === 'setns') return 'the target may be in a user namespace you do not own; try entering it with -U too';
  }
  if (code === 'EINVAL') {
    if (call === 'unshare' || call === 'setns')
      return 'a multithreaded process cannot enter a user namespace, and a mount namespace needs its own fs_struct; the tools do this in the child for you';
    if (call === 'pivot_root') return 'new_root must be a mount point and / must not be shared (use a private mount namespace)';
  }
  if (code === 'ENOSPC' && (call === 'unshare' || call === 'clone'))
    return 'the per-user namespace limit is reached: see /proc/sys/user/max_*_namespaces';
  if (code === 'EBUSY' && call === 'umount2') return 'something still uses the mount: a process has its cwd or an open file there';
  return undefined;
}

/**
 * The program of a plan could not be executed: the exec call's file and its
 * errno (the tools word it as util-linux does: exit 127 for ENOENT, else 126).
 */
export class ExecError extends Error {
  readonly errno: number;
  readonly file: string;
  constructor(file: string, errno: number) {
    super(`failed to execute ${file}`);
    this.name = 'ExecError';
    this.errno = errno;
    this.file = file;
  }
}
