// Named network namespaces the way iproute2 keeps them, so that `ip netns`
// and `ts-veth netns` work on each other's: /run/netns is a mount point of
// its own with shared propagation (a bind mount made later in another mount
// namespace still shows up here), and each namespace is its nsfs file
// bind-mounted onto /run/netns/NAME, which keeps it alive with no process in it.
import { readdirSync } from 'node:fs';
import { Call, callNow, makeCall } from '../syscalls/call.js';
import { CLONE, ERRNO, MNT, MS, O } from '../syscalls/constants.js';
import { errnoText, SyscallError, ToolError, UsageError } from '../syscalls/errors.js';
import { mountCall, umountCall } from '../syscalls/mount.js';
import { closeFd, openNamespaceFile, unshare, unshareCall, setnsCall } from '../syscalls/namespaces.js';
import { inNetworkNamespace } from '../netlink/socket.js';
import { q } from '../syscalls/trace.js';
import { readMountInfo } from '../syscalls/mountinfo.js';
import type { ExitInfo } from '../syscalls/process.js';
import { programCalls, runInChild } from './program.js';

export const NETNS_RUN_DIR = '/run/netns';

/** A failed call as the tool's one line: "cannot create netns blue: File exists". Other errors pass. */
function named(err: unknown, what: string | undefined): unknown {
  if (!(err instanceof SyscallError) || !what) return err;
  return new ToolError(`cannot ${what}: ${errnoText(err.errno)}`, 1, err.code === 'EPERM' || err.code === 'EACCES' ? 'run as root' : err.hint);
}

export function naming<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw named(err, what);
  }
}

/** A name as iproute2 accepts it: one path component. */
export function checkNetnsName(name: string): void {
  if (!name || name === '.' || name === '..' || name.includes('/') || Buffer.byteLength(name) > 255) throw new ToolError(`invalid netns name '${name}': one path component, no '/'`);
}

/** NAME -> /run/netns/NAME; anything with a slash is taken as a path already (ip -n does the same). */
export function netnsPath(nameOrPath: string): string {
  if (nameOrPath.includes('/')) return nameOrPath;
  checkNetnsName(nameOrPath);
  return `${NETNS_RUN_DIR}/${nameOrPath}`;
}

export interface OpenNetns {
  fd: number;
  /** "netns blue", for messages */
  label: string;
  close(): void;
}

/** open(2) a named namespace: "cannot open netns blue: No such file or directory". */
export function openNetns(nameOrPath: string): OpenNetns {
  const label = `netns ${nameOrPath}`;
  const fd = naming(`open ${label}`, () => openNamespaceFile(netnsPath(nameOrPath)));
  return { fd, label, close: () => closeFd(fd) };
}

export function listNetns(): string[] {
  try {
    return readdirSync(NETNS_RUN_DIR).sort();
  } catch {
    return [];
  }
}

function optional(call: Call): number {
  return callNow({ ...call, optional: true });
}

/** mkdir /run/netns, and make it a shared mount point (bind-mounting it onto itself first if it is not one). */
function prepareRunDir(what: string): void {
  const made = optional(makeCall('mkdir', [NETNS_RUN_DIR, 0o755], `mkdir(${q(NETNS_RUN_DIR)}, 0755)`));
  if (made < 0 && -made !== ERRNO.EEXIST) throw new SyscallError('mkdir', `mkdir(${q(NETNS_RUN_DIR)})`, -made, { what });
  try {
    const shared = mountCall('', NETNS_RUN_DIR, 'none', MS.MS_SHARED | MS.MS_REC);
    // EINVAL: not a mount point yet. Make it one, then share it.
    if (optional(shared) === -ERRNO.EINVAL) {
      callNow(mountCall(NETNS_RUN_DIR, NETNS_RUN_DIR, 'none', MS.MS_BIND | MS.MS_REC, null, what));
      callNow(shared);
    }
  } catch (err) {
    // Nothing half-made: a directory we just made goes again (mounts on it failed, so it is empty).
    if (made === 0) optional(makeCall('rmdir', [NETNS_RUN_DIR], `rmdir(${q(NETNS_RUN_DIR)})`));
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
  const what = `create netns ${name}`;
  naming(what, () => {
    prepareRunDir(what);
    const fd = callNow(makeCall('open', [path, O.O_RDONLY | O.O_CREAT | O.O_EXCL | O.O_CLOEXEC, 0], `open(${q(path)}, O_RDONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0)`));
    closeFd(fd);
    try {
      inNetworkNamespace(
        () => unshare(CLONE.CLONE_NEWNET),
        () => callNow(mountCall('/proc/thread-self/ns/net', path, 'none', MS.MS_BIND)),
      );
    } catch (err) {
      optional(makeCall('unlink', [path], `unlink(${q(path)})`));
      throw err;
    }
  });
}

/** ip netns del: lazy unmount (processes inside keep the namespace alive), then the file. */
export function deleteNetns(name: string): void {
  const path = netnsPath(name);
  naming(`delete netns ${name}`, () => {
    optional(umountCall(path, MNT.MNT_DETACH));
    callNow(makeCall('unlink', [path], `unlink(${q(path)})`));
  });
}

function sysIsReadOnly(): boolean {
  return readMountInfo().find((m) => m.mountPoint === '/sys')?.mountOptions.includes('ro') ?? false;
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
  return entries.map((entry) => ({ ...mountCall(`${dir}/${entry}`, `/etc/${entry}`, 'none', MS.MS_BIND), optional: true }));
}

/**
 * ip netns exec: in a child, join the namespace, take a mount namespace of
 * its own whose mounts do not flow back (slave), and mount a sysfs that
 * describes the new network namespace (/sys/class/net lists its devices),
 * bind the files of /etc/netns/NAME over /etc, then exec. The child's
 * exit status becomes ours.
 */
export async function execInNetns(name: string, argv: readonly string[]): Promise<ExitInfo> {
  if (argv.length === 0) throw new UsageError('netns exec: no command given');
  const ns = openNetns(name);
  // Each step's `what` completes "cannot ..." in the error line.
  const calls: Call[] = [
    { ...setnsCall(ns.fd, CLONE.CLONE_NEWNET), what: `enter ${ns.label}` },
    { ...unshareCall(CLONE.CLONE_NEWNS), what: 'make a mount namespace' },
    mountCall('', '/', 'none', MS.MS_SLAVE | MS.MS_REC, null, 'make / a slave mount'),
    { ...umountCall('/sys', MNT.MNT_DETACH), optional: true },
    mountCall(name, '/sys', 'sysfs', sysIsReadOnly() ? MS.MS_RDONLY : 0, null, 'mount /sys'),
    ...etcBindCalls(name),
    ...programCalls(argv),
  ];
  try {
    return await runInChild(calls);
  } catch (err) {
    throw named(err, err instanceof SyscallError ? err.what : undefined);
  }
}
