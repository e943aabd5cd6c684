// The kernel's error: which call failed, with which errno, and what the
// caller was doing, in words that fit after "cannot " ("open
// /proc/1/ns/net", "unshare(CLONE_NEWNS)"). An optional hint states the
// kernel rule behind a refusal, in kernel terms; advice that names a
// command-line flag belongs to the tool (src/tools/*), and the line is
// printed by the one formatter in src/cli/run.ts. See docs/errors.md.
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

/** "EPERM (Operation not permitted)": the errno part of every error line. */
export function errnoPart(errno: number): string {
  return `${errnoName(errno)} (${errnoText(errno)})`;
}

export class SyscallError extends Error {
  /** The libc function name, e.g. 'unshare'. */
  readonly call: string;
  /** The call as a trace line shows it: 'unshare(CLONE_NEWNS)'. */
  readonly show: string;
  readonly errno: number;
  /** The errno's name: 'EPERM'. */
  readonly code: string;
  /** What failed, the words after "cannot ": 'open /proc/1/ns/net'; the call itself when nothing better is known. */
  readonly action: string;
  /** The kernel rule behind the failure, in kernel terms (no command-line flags). */
  readonly hint?: string;

  /** `opts.what` is the action (the name Call uses for it). */
  constructor(call: string, show: string, errno: number, opts: { what?: string; hint?: string } = {}) {
    const action = actionOf(opts.what ?? show);
    super(`cannot ${action}: ${errnoPart(errno)}`);
    this.name = 'SyscallError';
    this.call = call;
    this.show = show;
    this.errno = errno;
    this.code = errnoName(errno);
    this.action = action;
    this.hint = opts.hint ?? kernelHint(call, this.code);
  }

  /** TRANSITIONAL: the action under its old name, for callers not yet converted (src/core/netns.ts). */
  get what(): string {
    return this.action;
  }
}

// TRANSITIONAL: subjects written for the old dialects ("cannot open X",
// "setgid failed") still arrive from code other branches are converting;
// they are read as the action they name, so no line says "cannot cannot".
function actionOf(what: string): string {
  return what.replace(/^cannot /, '').replace(/ failed$/, '');
}

function isRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

/** The kernel rule behind the refusals students meet most, by call and errno. */
function kernelHint(call: string, code: string): string | undefined {
  if (code === 'EPERM' || code === 'EACCES') {
    if (!isRoot() && /^(unshare|clone|mount|umount2|sethostname|pivot_root|chroot|setns)$/.test(call))
      return 'this needs CAP_SYS_ADMIN (chroot: CAP_SYS_CHROOT) in the user namespace that owns the namespace; an unprivileged user has it only in a user namespace of its own';
    if (call === 'setns')
      return 'joining a namespace needs CAP_SYS_ADMIN in the user namespace that owns it; the target may be in a user namespace this process has no capabilities in';
  }
  if (code === 'EINVAL') {
    if (call === 'unshare')
      return 'a multithreaded process cannot unshare a user namespace, and CLONE_NEWNS needs an fs_struct of its own';
    if (call === 'setns')
      return 'setns(2) takes a namespace file (/proc/PID/ns/TYPE or a bind mount of one) of the type asked for; a multithreaded process cannot join a user or mount namespace';
    if (call === 'pivot_root')
      return 'new_root must be a mount point and / must not be shared (use a private mount namespace)';
  }
  if (code === 'ENOSPC' && (call === 'unshare' || call === 'clone'))
    return 'the per-user namespace limit is reached: see /proc/sys/user/max_*_namespaces';
  if (code === 'EBUSY' && call === 'umount2')
    return 'something still uses the mount: a process has its cwd or an open file there';
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
