// Named network namespaces the way iproute2 keeps them, so that `ip netns`
// and `ts-veth netns` work on each other's: /run/netns is a mount point of
// its own with shared propagation (a bind mount made later in another mount
// namespace still shows up here), and each namespace is its nsfs file
// bind-mounted onto /run/netns/NAME, which keeps it alive with no process in it.
import { readdirSync } from 'node:fs';
import { Call, callNow, makeCall } from '../syscalls/call.js';
import { CLONE, ERRNO, MNT, MS, O } from '../syscalls/constants.js';
import { SyscallError } from '../syscalls/errors.js';
import { mountCall, umountCall } from '../syscalls/mount.js';
import { closeFd, openNamespaceFile, unshare, unshareCall, setnsCall } from '../syscalls/namespaces.js';
import { inNetworkNamespace } from '../netlink/socket.js';
import { q } from '../syscalls/trace.js';
import { readMountInfo } from '../syscalls/mountinfo.js';
import { DomainError } from '../errors.js';
import type { ExitInfo } from '../syscalls/process.js';
import { programCalls, runInChild } from './program.js';

export const NETNS_RUN_DIR = '/run/netns';
/** NAME_MAX: a netns name is one file name in /run/netns. */
const NAME_MAX = 255;

/** A name that cannot be a file in /run/netns, and why. */
export class InvalidNetnsName extends DomainError {
  readonly kind = 'invalid-netns-name';
  constructor(
    readonly netns: string,
    readonly reason: 'empty' | 'dot' | 'slash' | 'too-long',
  ) {
    super(`invalid netns name '${netns}' (${reason})`);
  }
}

/** netns add of a name that is taken. */
export class NetnsExists extends DomainError {
  readonly kind = 'netns-exists';
  constructor(
    readonly netns: string,
    readonly path: string,
    override readonly cause: SyscallError,
  ) {
    super(`netns ${netns} exists (${path})`, { cause });
  }
}

/** A named namespace that is not there (open, exec, del). */
export class NoSuchNetns extends DomainError {
  readonly kind = 'no-such-netns';
  constructor(
    readonly netns: string,
    readonly path: string,
    override readonly cause: SyscallError,
  ) {
    super(`no netns ${netns} (${path})`, { cause });
  }
}

/** A name as iproute2 accepts it: one path component of at most NAME_MAX bytes. */
export function checkNetnsName(name: string): void {
  if (!name) throw new InvalidNetnsName(name, 'empty');
  if (name === '.' || name === '..') throw new InvalidNetnsName(name, 'dot');
  if (name.includes('/')) throw new InvalidNetnsName(name, 'slash');
  if (Buffer.byteLength(name) > NAME_MAX) throw new InvalidNetnsName(name, 'too-long');
}

/** NAME -> /run/netns/NAME; anything with a slash is taken as a path already (ip -n does the same). */
export function netnsPath(nameOrPath: string): string {
  if (nameOrPath.includes('/')) return nameOrPath;
  checkNetnsName(nameOrPath);
  return `${NETNS_RUN_DIR}/${nameOrPath}`;
}

export interface OpenNetns {
  fd: number;
  /** The name (or path) it was opened by. */
  name: string;
  /** "netns blue", for messages */
  label: string;
  close(): void;
}

function isCode(err: unknown, code: string): err is SyscallError {
  return err instanceof SyscallError && err.code === code;
}

/** open(2) a named namespace (or an nsfs path); a missing one is NoSuchNetns. */
export function openNetns(nameOrPath: string): OpenNetns {
  const path = netnsPath(nameOrPath);
  let fd: number;
  try {
    fd = openNamespaceFile(path);
  } catch (err) {
    throw isCode(err, 'ENOENT') ? new NoSuchNetns(nameOrPath, path, err) : err;
  }
  return { fd, name: nameOrPath, label: `netns ${nameOrPath}`, close: () => closeFd(fd) };
}

export function listNetns(): string[] {
  try {
    return readdirSync(NETNS_RUN_DIR).sort();
  } catch {
    return [];
  }
}

/** mkdir /run/netns, and make it a shared mount point (bind-mounting it onto itself first if it is not one). */
function prepareRunDir(): void {
  const made = callNow(
    makeCall('mkdir', [NETNS_RUN_DIR, 0o755], `mkdir(${q(NETNS_RUN_DIR)}, 0755)`, { optional: true }),
  );
  if (made < 0 && -made !== ERRNO.EEXIST) throw new SyscallError('mkdir', `mkdir(${q(NETNS_RUN_DIR)}, 0755)`, -made);
  try {
    const share = () => mountCall('', NETNS_RUN_DIR, 'none', MS.MS_SHARED | MS.MS_REC);
    // EINVAL: not a mount point yet. Make it one, then share it (this time a failure is one).
    if (callNow({ ...share(), optional: true }) === -ERRNO.EINVAL) {
      callNow(mountCall(NETNS_RUN_DIR, NETNS_RUN_DIR, 'none', MS.MS_BIND | MS.MS_REC));
      callNow(share());
    }
  } catch (err) {
    // Nothing half-made: a directory we just made goes again (mounts on it failed, so it is empty).
    if (made === 0) callNow(makeCall('rmdir', [NETNS_RUN_DIR], `rmdir(${q(NETNS_RUN_DIR)})`, { optional: true }));
    throw err;
  }
}

/**
 * ip netns add: the file, then a new network namespace made by this thread
 * (unshare from Node's main thread is allowed for CLONE_NEWNET) and bound
 * onto the file, then back to the namespace we came from. A failure
 * after the file exists removes it: nothing is left half-made.
 */
export function addNetns(name: string): void {
  checkNetnsName(name);
  const path = netnsPath(name);
  prepareRunDir();
  let fd: number;
  try {
    fd = callNow(
      makeCall(
        'open',
        [path, O.O_RDONLY | O.O_CREAT | O.O_EXCL | O.O_CLOEXEC, 0],
        `open(${q(path)}, O_RDONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0)`,
      ),
    );
  } catch (err) {
    throw isCode(err, 'EEXIST') ? new NetnsExists(name, path, err) : err;
  }
  closeFd(fd);
  try {
    inNetworkNamespace(
      () => unshare(CLONE.CLONE_NEWNET),
      () => callNow(mountCall('/proc/thread-self/ns/net', path, 'none', MS.MS_BIND)),
    );
  } catch (err) {
    callNow(makeCall('unlink', [path], `unlink(${q(path)})`, { optional: true }));
    throw err;
  }
}

/** ip netns del: lazy unmount (processes inside keep the namespace alive), then the file. */
export function deleteNetns(name: string): void {
  const path = netnsPath(name);
  callNow({ ...umountCall(path, MNT.MNT_DETACH), optional: true });
  try {
    callNow(makeCall('unlink', [path], `unlink(${q(path)})`));
  } catch (err) {
    throw isCode(err, 'ENOENT') ? new NoSuchNetns(name, path, err) : err;
  }
}

function sysIsReadOnly(): boolean {
  return (
    readMountInfo()
      .find((m) => m.mountPoint === '/sys')
      ?.mountOptions.includes('ro') ?? false
  );
}

/**
 * iproute2's per-namespace configuration: each file in /etc/netns/NAME
 * (resolv.conf, hosts, ...) is bind-mounted over its namesake in /etc, in
 * the child's own mount namespace only. Like ip, a file that cannot be
 * bound is skipped, not fatal.
 */
function etcBindCalls(name: string): Call[] {
  const dir = `/etc/netns/${name}`;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.map((entry) => ({
    ...mountCall(`${dir}/${entry}`, `/etc/${entry}`, 'none', MS.MS_BIND),
    optional: true,
  }));
}

/**
 * ip netns exec: in a child, join the namespace (open by the caller), take
 * a mount namespace of its own whose mounts do not flow back (slave), and
 * mount a sysfs that describes the new network namespace (/sys/class/net
 * lists its devices), bind the files of /etc/netns/NAME over /etc, then
 * exec. The child's exit status becomes ours. A failed step is a
 * SyscallError whose `what` says what the step was for.
 */
export function execInNetns(ns: OpenNetns, argv: readonly string[]): Promise<ExitInfo> {
  const name = ns.name;
  const calls: Call[] = [
    { ...setnsCall(ns.fd, CLONE.CLONE_NEWNET), what: `enter ${ns.label}` },
    { ...unshareCall(CLONE.CLONE_NEWNS), what: 'make a mount namespace' },
    mountCall('', '/', 'none', MS.MS_SLAVE | MS.MS_REC, null, 'make / a slave mount'),
    { ...umountCall('/sys', MNT.MNT_DETACH), optional: true },
    mountCall(name, '/sys', 'sysfs', sysIsReadOnly() ? MS.MS_RDONLY : 0, null, 'mount /sys'),
    ...etcBindCalls(name),
    ...programCalls(argv),
  ];
  return runInChild(calls);
}
