// What `nsenter` does, in util-linux's order (sys-utils/nsenter.c): open the
// namespace files (and the root and working directory), join the namespaces
// in two passes, change root and working directory, fork if a pid namespace
// was joined, drop to the requested ids, exec.
//
// Node may not setns() into a user namespace (it is multithreaded) nor into
// a mount namespace (its threads share one fs_struct), so every setns()
// happens in a cloned child that follows a plan (src/syscalls/plan.ts). This
// process opens the files first: the child inherits the descriptors.
//
// setns(CLONE_NEWPID) moves only the caller's future children into the pid
// namespace; so, like util-linux, the child forks after joining (forkCall),
// and it is the new process that runs the program, as a PID of that namespace.
import { readFileSync, statSync } from 'node:fs';
import { Call, callNow, makeCall } from '../syscalls/call.js';
import { O } from '../syscalls/constants.js';
import { SyscallError, errnoNumber } from '../syscalls/errors.js';
import { errnoOf } from '../syscalls/fs.js';
import { setgidCall, setgroupsCall, setuidCall } from '../syscalls/identity.js';
import { chdirCall, chrootCall } from '../syscalls/mount.js';
import {
  NAMESPACES,
  NamespaceName,
  NamespaceType,
  namespaceType,
  openNamespaceFile,
  setnsCall,
} from '../syscalls/namespaces.js';
import { forkCall } from '../syscalls/plan.js';
import { addressOf, cStringArray, symbolAddress } from '../syscalls/libc.js';
import { q, traceRead } from '../syscalls/trace.js';
import { DomainError } from '../errors.js';
import { programCalls, runInChild } from './program.js';
import type { ExitInfo } from '../syscalls/process.js';

/** What needs the target process: a namespace ('ns/mnt'), 'root', 'cwd', or all namespaces or the environment. */
export type TargetUse = `ns/${NamespaceName}` | 'root' | 'cwd' | 'all' | 'env';

/** Something was to come from the target process, and none was given. */
export class NoTargetError extends DomainError {
  readonly kind = 'no-target';
  constructor(readonly need: TargetUse) {
    super(`no target process for ${need}`);
  }
}

/** A file given for a namespace is not a namespace file of that type (setns(2) would fail with EINVAL). */
export class NotNamespaceFileError extends DomainError {
  readonly kind = 'not-a-namespace-file';
  /** setns's errno for it. */
  readonly errno = errnoNumber('EINVAL');
  constructor(
    readonly path: string,
    readonly type: NamespaceName,
    /** The file's own namespace type when it is a namespace file of another type. */
    readonly actualType?: NamespaceName,
  ) {
    super(`${path} is not a ${type} namespace file`);
  }
}

export interface NsenterOptions {
  target?: number;
  all: boolean;
  /** The namespaces asked for by option: name -> file, or '' for the target's. */
  namespaces: Map<NamespaceName, string>;
  uid?: number;
  gid?: number;
  preserveCredentials: boolean;
  /** -r / -w: a directory, or '' for the target's root / cwd. */
  root?: string;
  wd?: string;
  /** -W: a working directory named inside the namespaces. */
  wdns?: string;
  /** false with -F */
  fork: boolean;
  /** -e: the target's environment for the program. */
  env: boolean;
  program: string[];
}

/** util-linux's name for the namespace in messages: 'ns/net'. */
function nsLabel(ns: NamespaceType): `ns/${NamespaceName}` {
  return `ns/${ns.name}`;
}

/** A Node fs error as a SyscallError: "cannot open /proc/9/environ: ENOENT (...)". */
function fsFailure(call: string, path: string, what: string, err: unknown): never {
  const errno = errnoOf(err);
  if (errno === undefined) throw err;
  throw new SyscallError(call, `${call}(${q(path)})`, errno, { what });
}

/**
 * -a: every namespace the kernel has, except the user namespace when the
 * target's is the caller's own: setns(2) refuses to re-enter it, and
 * util-linux skips it so a caller that dropped capabilities cannot regain them.
 */
function usableForAll(pid: number, ns: NamespaceType): boolean {
  try {
    statSync(`/proc/self/ns/${ns.name}`);
  } catch (err) {
    if (errnoOf(err) === errnoNumber('ENOENT')) return false; // kernel without it
    throw err;
  }
  if (ns.name !== 'user') return true;
  const path = `/proc/${pid}/ns/user`;
  let target: number;
  try {
    target = statSync(path).ino;
  } catch (err) {
    fsFailure('stat', path, `stat ${path}`, err);
  }
  return statSync('/proc/self/ns/user').ino !== target;
}

function targetPath(opts: NsenterOptions, what: string, label: TargetUse): string {
  if (opts.target === undefined) throw new NoTargetError(label);
  return `/proc/${opts.target}/${what}`;
}

/** Open a namespace file and make sure it is one of the type asked for: fail before any namespace is joined. */
function openNamespace(path: string, ns: NamespaceType): number {
  const fd = openNamespaceFile(path);
  const type = namespaceType(fd);
  if (type !== ns.flag) throw new NotNamespaceFileError(path, ns.name, NAMESPACES.find((n) => n.flag === type)?.name);
  return fd;
}

/** Open a directory for fchdir() in the child: -r and -w. */
function openDirectory(path: string): number {
  return callNow(
    makeCall('open', [path, O.O_RDONLY | O.O_CLOEXEC], `open(${q(path)}, O_RDONLY|O_CLOEXEC)`, {
      what: `open ${path}`,
    }),
  );
}

/** The target's environment (-e), read now: the child cannot read files. */
function targetEnvironment(pid: number): string[] {
  const path = `/proc/${pid}/environ`;
  try {
    const text = readFileSync(path, 'latin1');
    traceRead(path, `${text.split('\0').filter(Boolean).length} variables`);
    return text.split('\0').filter(Boolean);
  } catch (err) {
    fsFailure('open', path, `open ${path}`, err);
  }
}

/**
 * environ = envp, in the child: execvp() then searches the target's PATH and
 * hands the program the target's environment (util-linux: clearenv + setenv;
 * a plan may not call malloc, so the pointer is replaced instead).
 */
function replaceEnvironmentCall(env: readonly string[]): Call {
  const envp = cStringArray(env);
  const holder = Buffer.alloc(8);
  holder.writeBigUInt64LE(addressOf(envp.array));
  return makeCall(
    'memcpy',
    [symbolAddress('environ'), holder, 8],
    `environ = [${env.length} variables of the target]`,
    { keep: [envp.array, ...envp.keep] },
  );
}

export function nsenterCalls(opts: NsenterOptions): Call[] {
  if (opts.all && opts.target === undefined) throw new NoTargetError('all');
  const wanted = new Map(opts.namespaces);
  if (opts.all)
    for (const ns of NAMESPACES) if (!wanted.has(ns.name) && usableForAll(opts.target!, ns)) wanted.set(ns.name, '');

  // Open everything first, as util-linux does: a missing process or file
  // fails here, before any namespace has been joined.
  const fds = new Map<NamespaceName, { fd: number; path: string }>();
  for (const ns of NAMESPACES) {
    if (!wanted.has(ns.name)) continue;
    const path = wanted.get(ns.name) || targetPath(opts, `ns/${ns.name}`, nsLabel(ns));
    fds.set(ns.name, { fd: openNamespace(path, ns), path });
  }
  const rootFd = opts.root === undefined ? undefined : openDirectory(opts.root || targetPath(opts, 'root', 'root'));
  let wdFd = opts.wd === undefined ? undefined : openDirectory(opts.wd || targetPath(opts, 'cwd', 'cwd'));
  if (opts.env && opts.target === undefined) throw new NoTargetError('env');
  const env = opts.env ? targetEnvironment(opts.target!) : undefined;
  const joinsUser = fds.has('user');
  const joinsPid = fds.has('pid');

  const calls: Call[] = [];
  // Entering a user namespace makes the program uid 0 / gid 0 there and
  // drops supplementary groups, unless --preserve-credentials. util-linux
  // calls setgroups() before and after joining, and complains only if both
  // fail (after joining, "setgroups deny" makes the second one fail).
  const forceIds = joinsUser && !opts.preserveCredentials;
  const uid = opts.uid ?? (forceIds ? 0 : undefined);
  const gid = opts.gid ?? (forceIds ? 0 : undefined);
  // With -G alone a failed setgroups() is ignored (util-linux counts no earlier failure).
  // With forced ids the late call may fail only when the early one worked.
  const dropGroups =
    gid !== undefined
      ? { ...setgroupsCall(), optional: forceIds ? { ifSucceeded: 'setgroups-early' } : true }
      : undefined;
  if (dropGroups && forceIds) calls.push({ ...setgroupsCall(), id: 'setgroups-early', optional: true });

  // Two passes: the first skips the user namespace, and a setns() that fails
  // there (EPERM: no CAP_SYS_ADMIN over it yet) is tried again once the user
  // namespace is joined. A privileged caller thus enters the user namespace
  // last; an unprivileged one, in effect, first.
  const join = (ns: NamespaceType, firstPass: boolean): Call => {
    const { fd, path } = fds.get(ns.name)!;
    const call = setnsCall(
      fd,
      ns.flag,
      path.replace(/^\/proc\/\d+\//, ''),
      `reassociate to namespace '${nsLabel(ns)}'`,
    );
    const firstTry = `setns-${ns.name}-first`;
    if (firstPass) return { ...call, id: firstTry, optional: true };
    return ns.name === 'user' ? call : { ...call, onlyIfFailed: firstTry };
  };
  for (const ns of NAMESPACES) if (ns.name !== 'user' && fds.has(ns.name)) calls.push(join(ns, true));
  for (const ns of NAMESPACES) if (fds.has(ns.name)) calls.push(join(ns, false));

  // Keep the working directory across the chroot, unless one was asked for.
  // (Joining a mount namespace moves the cwd to its root, which util-linux
  // then keeps; here the chdir("/") after chroot stands for it.)
  if (rootFd !== undefined && wdFd === undefined && opts.wdns === undefined && !fds.has('mnt'))
    wdFd = openDirectory('.');
  if (rootFd !== undefined) {
    calls.push(makeCall('fchdir', [rootFd], `fchdir(${rootFd})`, { what: 'change directory by root file descriptor' }));
    calls.push(chrootCall('.', 'chroot'));
    calls.push(chdirCall('/', 'change directory to /'));
  }
  if (opts.wdns !== undefined) calls.push(chdirCall(opts.wdns, `change directory to ${opts.wdns}`));
  else if (wdFd !== undefined)
    calls.push(
      makeCall('fchdir', [wdFd], `fchdir(${wdFd})`, { what: 'change directory by working directory file descriptor' }),
    );

  if (joinsPid && opts.fork) calls.push(forkCall());

  if (dropGroups) calls.push(dropGroups);
  if (gid !== undefined) calls.push(setgidCall(gid));
  if (uid !== undefined) calls.push(setuidCall(uid));
  if (env) calls.push(replaceEnvironmentCall(env));
  calls.push(...programCalls(opts.program));
  return calls;
}

export async function runNsenter(opts: NsenterOptions): Promise<ExitInfo> {
  // The program stands for nsenter itself: when it stops, so does ts-nsenter.
  return runInChild(nsenterCalls(opts), {}, { passStops: true });
}
