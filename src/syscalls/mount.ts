// Mounts and roots: mount(2), umount2(2), chroot(2), chdir(2), pivot_root(2).
import { MOUNT_FLAGS, MS, UMOUNT_FLAGS, decodeFlags } from './constants.js';
import { Call, makeCall } from './call.js';
import { q } from './trace.js';

/** The propagation types of mount(2) (one flag each, MS_REC added for a whole tree): the one table of them. */
export const PROPAGATION_FLAGS = {
  private: MS.MS_PRIVATE,
  shared: MS.MS_SHARED,
  slave: MS.MS_SLAVE,
  unbindable: MS.MS_UNBINDABLE,
} as const;

/** util-linux's --propagation: always recursive. */
export const PROPAGATION = {
  private: MS.MS_REC | PROPAGATION_FLAGS.private,
  shared: MS.MS_REC | PROPAGATION_FLAGS.shared,
  slave: MS.MS_REC | PROPAGATION_FLAGS.slave,
  unchanged: 0,
} as const;
export type Propagation = keyof typeof PROPAGATION;

export function mountCall(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null = null,
  what?: string,
): Call {
  const show = `mount(${q(source)}, ${q(target)}, ${q(fstype)}, ${decodeFlags(MOUNT_FLAGS, flags)}, ${q(data)})`;
  return makeCall('mount', [source, target, fstype, flags, data], show, { what });
}

export function umountCall(target: string, flags: number, what?: string): Call {
  return makeCall('umount2', [target, flags], `umount2(${q(target)}, ${decodeFlags(UMOUNT_FLAGS, flags)})`, { what });
}

/** Set propagation of / recursively (util-linux: "cannot change root filesystem propagation"). */
export function propagationCall(flags: number): Call {
  return mountCall('none', '/', null, flags, null, 'change root filesystem propagation');
}

export function bindMountCall(source: string, target: string, what?: string): Call {
  return mountCall(source, target, null, MS.MS_BIND, null, what ?? `mount ${source} on ${target}`);
}

export function chrootCall(dir: string, what?: string): Call {
  return makeCall('chroot', [dir], `chroot(${q(dir)})`, { what: what ?? `change root directory to '${dir}'` });
}

export function chdirCall(dir: string, what?: string): Call {
  return makeCall('chdir', [dir], `chdir(${q(dir)})`, { what: what ?? `chdir to '${dir}'` });
}

// glibc has no pivot_root wrapper: syscall(SYS_pivot_root, new_root, put_old).
const SYS_pivot_root = process.arch === 'arm64' ? 41 : 155;

export function pivotRootCall(newRoot: string, putOld: string): Call {
  return makeCall('syscall', [SYS_pivot_root, newRoot, putOld], `pivot_root(${q(newRoot)}, ${q(putOld)})`, {
    hint: 'new_root must be a mount point and / must not be shared (use a private mount namespace)',
  });
}
