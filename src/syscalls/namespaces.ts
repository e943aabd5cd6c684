// Namespaces: unshare(2), setns(2), and the table of the eight types with the
// names util-linux uses for them.
import { fstatSync } from 'node:fs';
import { CLONE, CLONE_FLAGS, decodeFlags, O } from './constants.js';
import { Call, callNow, makeCall } from './call.js';
import { q } from './trace.js';

export type NamespaceName = 'mnt' | 'uts' | 'ipc' | 'net' | 'pid' | 'user' | 'cgroup' | 'time';

export interface NamespaceType {
  /** name of the file in /proc/PID/ns */
  name: NamespaceName;
  flag: number;
  /** util-linux long option (--mount, --uts, ...) and short letter */
  option: string;
  letter: string;
  /** pid and time namespaces apply to children: /proc/PID/ns/pid_for_children */
  forChildren?: string;
}

// The order util-linux uses when it joins namespaces (nsenter.c): user first
// in the list, mount last, so that /proc paths still resolve while joining.
export const NAMESPACES: readonly NamespaceType[] = [
  { name: 'user', flag: CLONE.CLONE_NEWUSER, option: 'user', letter: 'U' },
  { name: 'cgroup', flag: CLONE.CLONE_NEWCGROUP, option: 'cgroup', letter: 'C' },
  { name: 'ipc', flag: CLONE.CLONE_NEWIPC, option: 'ipc', letter: 'i' },
  { name: 'uts', flag: CLONE.CLONE_NEWUTS, option: 'uts', letter: 'u' },
  { name: 'net', flag: CLONE.CLONE_NEWNET, option: 'net', letter: 'n' },
  { name: 'pid', flag: CLONE.CLONE_NEWPID, option: 'pid', letter: 'p', forChildren: 'pid_for_children' },
  { name: 'mnt', flag: CLONE.CLONE_NEWNS, option: 'mount', letter: 'm' },
  { name: 'time', flag: CLONE.CLONE_NEWTIME, option: 'time', letter: 'T', forChildren: 'time_for_children' },
];

export function decodeNamespaceFlags(flags: number): string {
  return decodeFlags(CLONE_FLAGS, flags);
}

export function unshareCall(flags: number): Call {
  return makeCall('unshare', [flags], `unshare(${decodeNamespaceFlags(flags)})`);
}

/** unshare(2) in this process (the main thread; never CLONE_NEWUSER from Node). */
export function unshare(flags: number): void {
  callNow(unshareCall(flags));
}

/** setns(2); `label` names the file in the trace line, `what` is the action for an error line. */
export function setnsCall(fd: number, nstype: number, label?: string, what?: string): Call {
  const show = `setns(${fd}${label ? `</proc/…/${label}>` : ''}, ${nstype ? decodeNamespaceFlags(nstype) : '0'})`;
  // nstype 0 accepts any type, a time namespace included.
  return makeCall('setns', [fd, nstype], show, { what });
}

export function setns(fd: number, nstype: number, what?: string): void {
  callNow(setnsCall(fd, nstype, undefined, what));
}

/** open(2) a namespace file, close-on-exec; returns the fd. */
export function openNamespaceFile(path: string, what?: string): number {
  return callNow(
    makeCall('open', [path, O.O_RDONLY | O.O_CLOEXEC], `open(${q(path)}, O_RDONLY|O_CLOEXEC)`, {
      what: what ?? `open ${path}`,
    }),
  );
}

// linux/nsfs.h: NS_GET_NSTYPE, _IO(0xb7, 0x3): the CLONE_NEW* type of a namespace file.
const NS_GET_NSTYPE = 0xb703;

/**
 * The CLONE_NEW* type of an open namespace file, or undefined when the fd is
 * not one (ENOTTY: any other file).
 */
export function namespaceType(fd: number): number | undefined {
  const type = callNow(makeCall('ioctl', [fd, NS_GET_NSTYPE], `ioctl(${fd}, NS_GET_NSTYPE)`, { optional: true }));
  return type < 0 ? undefined : type;
}

export function closeFd(fd: number): void {
  callNow(makeCall('close', [fd], `close(${fd})`, { optional: true }));
}

// linux/nsfs.h: ioctls on a namespace file. _IO(0xb7, n)
const NS_GET_USERNS = 0xb701;
const NS_GET_PARENT = 0xb702;
const NS_GET_OWNER_UID = 0xb704;

/** Open a namespace file, give its fd to `use`, close it; undefined if it cannot be opened. */
function withNamespaceFile<T>(path: string, use: (fd: number) => T): T | undefined {
  const fd = callNow(
    makeCall('open', [path, O.O_RDONLY | O.O_CLOEXEC], `open(${q(path)}, O_RDONLY|O_CLOEXEC)`, { optional: true }),
  );
  if (fd < 0) return undefined;
  try {
    return use(fd);
  } finally {
    closeFd(fd);
  }
}

/**
 * The namespace related to the one at `path`, by inode: its owning user
 * namespace ('owner', NS_GET_USERNS) or its parent ('parent', NS_GET_PARENT;
 * pid and user namespaces only). undefined when the kernel will not say:
 * EINVAL for a type without parents, EPERM when the answer lies outside the
 * caller's own namespaces (the initial user namespace has no visible owner).
 */
export function relatedNamespace(path: string, relation: 'owner' | 'parent'): number | undefined {
  return withNamespaceFile(path, (fd) => {
    const [request, name] = relation === 'owner' ? [NS_GET_USERNS, 'NS_GET_USERNS'] : [NS_GET_PARENT, 'NS_GET_PARENT'];
    const related = callNow(makeCall('ioctl', [fd, request], `ioctl(${fd}, ${name})`, { optional: true }));
    if (related < 0) return undefined;
    try {
      return fstatSync(related).ino;
    } finally {
      closeFd(related);
    }
  });
}

/** The uid that created a user namespace (NS_GET_OWNER_UID), as seen from here. */
export function userNamespaceOwner(path: string): number | undefined {
  return withNamespaceFile(path, (fd) => {
    const uid = Buffer.alloc(4);
    const rc = callNow(
      makeCall('ioctl', [fd, NS_GET_OWNER_UID, uid], `ioctl(${fd}, NS_GET_OWNER_UID, [])`, { optional: true }),
    );
    return rc < 0 ? undefined : uid.readUInt32LE(0);
  });
}
