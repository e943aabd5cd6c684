// Calls relative to a directory file descriptor (openat, mkdirat, unlinkat,
// ...): a path made of one name below a directory that is already open
// cannot be redirected by a symbolic link higher up. ts-image builds a root
// filesystem from untrusted layers with them (src/image/tree.ts). Node's fs
// has no *at calls; what it does on an fd (fstat, fchmod, write, close) is
// used as is by the callers.
import { constants as fsConstants } from 'node:fs';
import { cfunc } from './libc.js';
import { q, sys } from './trace.js';

// Node's values are this architecture's (O_DIRECTORY and O_NOFOLLOW differ on arm64).
export const AT_O = {
  O_RDONLY: fsConstants.O_RDONLY,
  O_WRONLY: fsConstants.O_WRONLY,
  O_CREAT: fsConstants.O_CREAT,
  O_EXCL: fsConstants.O_EXCL,
  O_DIRECTORY: fsConstants.O_DIRECTORY,
  O_NOFOLLOW: fsConstants.O_NOFOLLOW,
  O_CLOEXEC: 0o2000000,
  // Not in Node's table; the same number on x86_64 and arm64.
  O_PATH: 0o10000000,
} as const;

export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;

function showFlags(flags: number): string {
  const names = Object.entries(AT_O)
    .filter(([, bit]) => bit !== 0 && (flags & bit) === bit)
    .map(([name]) => name);
  return names.length ? names.join('|') : 'O_RDONLY';
}

export interface AtOptions {
  /** errno names that are an answer, not a failure: returned as -errno. */
  allow?: readonly string[];
  /** The error line's subject. */
  what?: string;
}

/** openat(2); the fd, or -errno for an allowed errno. */
export function openAt(dirfd: number, name: string, flags: number, mode = 0, opts: AtOptions = {}): number {
  return sys(
    'openat',
    `${dirfd}, ${q(name)}, ${showFlags(flags)}${flags & AT_O.O_CREAT ? `, 0${mode.toString(8)}` : ''}`,
    () => cfunc('int openat(int dirfd, const char *path, int flags, uint32_t mode)')(dirfd, name, flags, mode),
    opts,
  );
}

export function mkdirAt(dirfd: number, name: string, mode: number, opts: AtOptions = {}): number {
  return sys(
    'mkdirat',
    `${dirfd}, ${q(name)}, 0${mode.toString(8)}`,
    () => cfunc('int mkdirat(int dirfd, const char *path, uint32_t mode)')(dirfd, name, mode),
    opts,
  );
}

export function symlinkAt(target: string, dirfd: number, name: string, opts: AtOptions = {}): number {
  return sys(
    'symlinkat',
    `${q(target)}, ${dirfd}, ${q(name)}`,
    () => cfunc('int symlinkat(const char *target, int dirfd, const char *path)')(target, dirfd, name),
    opts,
  );
}

/** linkat(2) without AT_SYMLINK_FOLLOW: a link to a symbolic link is a link to the link itself. */
export function linkAt(
  oldDirfd: number,
  oldName: string,
  newDirfd: number,
  newName: string,
  opts: AtOptions = {},
): number {
  return sys(
    'linkat',
    `${oldDirfd}, ${q(oldName)}, ${newDirfd}, ${q(newName)}, 0`,
    () =>
      cfunc('int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)')(
        oldDirfd,
        oldName,
        newDirfd,
        newName,
        0,
      ),
    opts,
  );
}

export function unlinkAt(dirfd: number, name: string, flags: number, opts: AtOptions = {}): number {
  return sys(
    'unlinkat',
    `${dirfd}, ${q(name)}, ${flags & AT_REMOVEDIR ? 'AT_REMOVEDIR' : '0'}`,
    () => cfunc('int unlinkat(int dirfd, const char *path, int flags)')(dirfd, name, flags),
    opts,
  );
}

/** fchownat(2) with AT_SYMLINK_NOFOLLOW: the owner of the name itself, a symbolic link included. */
export function lchownAt(dirfd: number, name: string, uid: number, gid: number, opts: AtOptions = {}): number {
  return sys(
    'fchownat',
    `${dirfd}, ${q(name)}, ${uid}, ${gid}, AT_SYMLINK_NOFOLLOW`,
    () =>
      cfunc('int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)')(
        dirfd,
        name,
        uid,
        gid,
        AT_SYMLINK_NOFOLLOW,
      ),
    opts,
  );
}

/** utimensat(2) with AT_SYMLINK_NOFOLLOW: access and modification time of the name itself. */
export function lutimesAt(dirfd: number, name: string, when: Date, opts: AtOptions = {}): number {
  const ms = when.getTime();
  const sec = Math.floor(ms / 1000);
  const nsec = (ms - sec * 1000) * 1_000_000;
  const times = Buffer.alloc(32);
  for (const at of [0, 16]) {
    times.writeBigInt64LE(BigInt(sec), at);
    times.writeBigInt64LE(BigInt(nsec), at + 8);
  }
  return sys(
    'utimensat',
    `${dirfd}, ${q(name)}, [{${sec}, ${nsec}}, {${sec}, ${nsec}}], AT_SYMLINK_NOFOLLOW`,
    () =>
      cfunc('int utimensat(int dirfd, const char *path, const uint8_t *times, int flags)')(
        dirfd,
        name,
        times,
        AT_SYMLINK_NOFOLLOW,
      ),
    opts,
  );
}

export function readlinkAt(dirfd: number, name: string, opts: AtOptions = {}): string {
  const buf = Buffer.alloc(4096);
  const n = sys(
    'readlinkat',
    `${dirfd}, ${q(name)}`,
    () =>
      cfunc('long readlinkat(int dirfd, const char *path, uint8_t *buf, size_t size)')(dirfd, name, buf, buf.length),
    opts,
  );
  return n < 0 ? '' : buf.subarray(0, n).toString('utf8');
}

/** The names in an open directory (without . and ..), read with getdents64(2). */
export function listDirectory(fd: number): string[] {
  const names: string[] = [];
  const buf = Buffer.alloc(32768);
  const getdents = cfunc('long getdents64(int fd, uint8_t *buf, size_t count)');
  for (;;) {
    const n = sys('getdents64', `${fd}, ..., ${buf.length}`, () => getdents(fd, buf, buf.length));
    if (n === 0) return names;
    // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name (NUL-terminated)
    for (let at = 0; at < n;) {
      const reclen = buf.readUInt16LE(at + 16);
      const end = buf.indexOf(0, at + 19);
      const name = buf.toString('utf8', at + 19, end);
      if (name !== '.' && name !== '..') names.push(name);
      at += reclen;
    }
  }
}
