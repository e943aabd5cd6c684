// Paths opened with a directory as their root, and the *at(2) calls that
// act on an opened directory: openat2(2) (RESOLVE_IN_ROOT: absolute
// symlinks and ".." stop at the directory, so a lookup never leaves it),
// mkdirat, mknodat, symlinkat, fchownat, as plan calls (call.ts). glibc 2.36
// has no openat2 wrapper: it goes through syscall(2).
import { cfunc } from './libc.js';
import { Call, CallExtra, makeCall } from './call.js';
import { O, decodeFlags } from './constants.js';
import { q } from './trace.js';

/** linux/openat2.h */
export const RESOLVE = {
  RESOLVE_NO_XDEV: 0x01,
  RESOLVE_NO_MAGICLINKS: 0x02,
  RESOLVE_NO_SYMLINKS: 0x04,
  RESOLVE_BENEATH: 0x08,
  RESOLVE_IN_ROOT: 0x10,
} as const;

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;

// The same number on x86_64 and arm64 (openat2 came after the tables were unified).
const SYS_openat2 = 437;
export const O_NOFOLLOW = 0o400000;
const OPEN_FLAGS: Array<[string, number]> = [
  ...Object.entries(O).filter(([, v]) => v !== 0),
  ['O_NOFOLLOW', O_NOFOLLOW],
];
const RESOLVE_FLAGS = Object.entries(RESOLVE);

/** struct open_how: flags, mode, resolve (three u64). */
function openHow(flags: number, resolve: number): Buffer {
  const how = Buffer.alloc(24);
  how.writeBigUInt64LE(BigInt(flags), 0);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  return how;
}

function showFd(fd: number): string {
  return fd === AT_FDCWD ? 'AT_FDCWD' : String(fd);
}

/** openat2(dirfd, path, {flags, resolve}); `note` ends the trace line (e.g. the fd it will get). */
export function openat2Call(
  dirfd: number,
  path: string,
  flags: number,
  resolve: number,
  note = '',
  extra: CallExtra = {},
): Call {
  const show = `openat2(${showFd(dirfd)}, ${q(path)}, {${decodeFlags(OPEN_FLAGS, flags)}, ${decodeFlags(RESOLVE_FLAGS, resolve)}})${note}`;
  return makeCall('syscall', [SYS_openat2, dirfd, path, openHow(flags, resolve), 24], show, extra);
}

export function openatCall(dirfd: number, path: string, flags: number, note = '', extra: CallExtra = {}): Call {
  return makeCall(
    'openat',
    [dirfd, path, flags, 0],
    `openat(${showFd(dirfd)}, ${q(path)}, ${decodeFlags(OPEN_FLAGS, flags)})${note}`,
    extra,
  );
}

export function mkdiratCall(dirfd: number, name: string, mode: number, extra: CallExtra = {}): Call {
  return makeCall('mkdirat', [dirfd, name, mode], `mkdirat(${showFd(dirfd)}, ${q(name)}, 0${mode.toString(8)})`, extra);
}

/** mknodat; `showMode` is how the mode reads ("S_IFCHR|0666"), `showDev` the device ("makedev(1, 3)"). */
export function mknodatCall(
  dirfd: number,
  name: string,
  mode: number,
  dev: bigint,
  showMode: string,
  showDev: string,
  extra: CallExtra = {},
): Call {
  return makeCall(
    'mknodat',
    [dirfd, name, mode, dev],
    `mknodat(${showFd(dirfd)}, ${q(name)}, ${showMode}, ${showDev})`,
    extra,
  );
}

export function symlinkatCall(target: string, dirfd: number, name: string, extra: CallExtra = {}): Call {
  return makeCall('symlinkat', [target, dirfd, name], `symlinkat(${q(target)}, ${showFd(dirfd)}, ${q(name)})`, extra);
}

/** fchownat without following a symlink at `name`. */
export function fchownatCall(dirfd: number, name: string, uid: number, gid: number, extra: CallExtra = {}): Call {
  return makeCall(
    'fchownat',
    [dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW],
    `fchownat(${showFd(dirfd)}, ${q(name)}, ${uid}, ${gid}, AT_SYMLINK_NOFOLLOW)`,
    extra,
  );
}

export function fchdirCall(fd: number, extra: CallExtra = {}): Call {
  return makeCall('fchdir', [fd], `fchdir(${fd})`, extra);
}

export function closeCall(fd: number): Call {
  return makeCall('close', [fd], `close(${fd})`, { optional: true });
}

/** dup3(from, to, O_CLOEXEC): the fd moved to a number later calls name. */
export function dup3Call(from: number, to: number, extra: CallExtra = {}): Call {
  return makeCall('dup3', [from, to, O.O_CLOEXEC], `dup3(${from}, ${to}, O_CLOEXEC)`, extra);
}

let probed: boolean | undefined;

/**
 * Does this kernel have openat2 with RESOLVE_IN_ROOT (Linux 5.6)? Asked
 * once, here, by opening "/" with it. NSLAB_NO_OPENAT2=1 answers no, so the
 * fallback walk can be tested on a kernel that has it.
 */
export function haveOpenat2(): boolean {
  if (probed !== undefined) return probed;
  if (process.env.NSLAB_NO_OPENAT2 === '1') return (probed = false);
  const syscall = cfunc('long syscall(long nr, int dirfd, const char *path, void *how, size_t size)');
  const fd = Number(syscall(SYS_openat2, AT_FDCWD, '/', openHow(O.O_PATH | O.O_CLOEXEC, RESOLVE.RESOLVE_IN_ROOT), 24));
  if (fd >= 0) cfunc('int close(int fd)')(fd);
  return (probed = fd >= 0);
}
