// A root filesystem under construction, reached only through file
// descriptors: every path a layer names is walked from the rootfs's own fd,
// one name at a time, with O_NOFOLLOW, and every change is an *at call on
// the directory fd the walk ended at. A symbolic link that an earlier layer
// (or an earlier entry) planted is data in the tree and is never followed:
// meeting one on the way to an entry refuses the entry, so nothing a layer
// says can reach a file outside the rootfs. The last name of a path is never
// followed either (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW, unlinkat), and metadata
// is set on an fd of the file itself, or on the name with AT_SYMLINK_NOFOLLOW.
import { closeSync, fchmodSync, fchownSync, fstatSync, futimesSync, Stats, writeSync } from 'node:fs';
import {
  AT_O,
  AT_REMOVEDIR,
  lchownAt,
  linkAt,
  listDirectory,
  lutimesAt,
  mkdirAt,
  openAt,
  readlinkAt,
  symlinkAt,
  unlinkAt,
} from '../syscalls/dirfd.js';
import { errnoNumber } from '../syscalls/errors.js';
import { traceLine } from '../syscalls/trace.js';
import { ImageError } from './errors.js';

const { O_PATH, O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC } = AT_O;
const ENOENT = -errnoNumber('ENOENT');
const ENOTDIR = -errnoNumber('ENOTDIR');
const ELOOP = -errnoNumber('ELOOP');

/** Metadata a layer gives an entry. */
export interface Owner {
  uid: number;
  gid: number;
  mode: number;
  mtime?: Date;
}

/**
 * The names of a path inside the root, refusing what could leave it: a
 * ".." component, a NUL byte. Leading "/" and "./", empty and "." names
 * are dropped ("./etc//passwd" is ["etc", "passwd"]).
 */
export function pathNames(path: string): string[] {
  if (path.includes('\0'))
    throw new ImageError('unsafe-path', `'${path.replace(/\0/g, '\\0')}' holds a NUL byte`, { path });
  const names = path.split('/').filter((n) => n !== '' && n !== '.');
  if (names.includes('..'))
    throw new ImageError('unsafe-path', `'${path}' has a '..' component, which could leave the root filesystem`, {
      path,
    });
  return names;
}

export class RootTree {
  /** O_PATH fd of the rootfs directory. */
  readonly fd: number;

  constructor(readonly host: string) {
    this.fd = openAt(-100 /* AT_FDCWD */, host, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, {
      what: `open the root filesystem ${host}`,
    });
  }

  close(): void {
    closeSync(this.fd);
  }

  /**
   * The directory `names` (an O_PATH fd the caller closes), walked from the
   * root one name at a time without following a symbolic link. A missing
   * directory is made (mode 0755) when `create`, else the answer is
   * undefined; so is a name that is a file, when `fileIsMissing` (a
   * whiteout below a file has nothing to delete). A symbolic link on the
   * way is refused: the error names it and where it points.
   */
  openDir(names: readonly string[], how: { create?: boolean; fileIsMissing?: boolean } = {}): number | undefined {
    let cur = this.fd;
    try {
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        let next = openAt(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, {
          allow: ['ENOENT', 'ENOTDIR', 'ELOOP'],
        });
        if (next === ENOENT && how.create) {
          mkdirAt(cur, name, 0o755);
          next = openAt(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next === ENOENT) return undefined;
        if (next === ENOTDIR || next === ELOOP) {
          const where = '/' + names.slice(0, i + 1).join('/');
          const target = readlinkAt(cur, name, { allow: ['EINVAL', 'ENOENT'] });
          if (target) {
            traceLine(
              `refused: ${where} is a symbolic link (-> ${target}); it is not followed while the root filesystem is built`,
            );
            throw new ImageError(
              'unsafe-path',
              `goes through the symbolic link ${where} (-> ${target}), which is not followed while the root filesystem is built`,
              { path: where },
            );
          }
          if (how.fileIsMissing) return undefined;
          throw new ImageError('bad-layer', `${where} is not a directory`, { path: where });
        }
        if (cur !== this.fd) closeSync(cur);
        cur = next;
      }
      const done = cur;
      cur = this.fd; // handed to the caller: not closed below
      return done === this.fd ? openAt(this.fd, '.', O_PATH | O_DIRECTORY | O_CLOEXEC) : done;
    } finally {
      if (cur !== this.fd) closeSync(cur);
    }
  }

  /** What `name` in directory `dir` is, without following it; undefined if it does not exist. */
  lstatAt(dir: number, name: string): Stats | undefined {
    const fd = openAt(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, { allow: ['ENOENT'] });
    if (fd < 0) return undefined;
    try {
      return fstatSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Remove `name` from `dir`, a directory with everything below it; symbolic links are removed, not followed. */
  removeAt(dir: number, name: string): void {
    const fd = openAt(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, {
      allow: ['ENOENT', 'ENOTDIR', 'ELOOP'],
    });
    if (fd === ENOENT) return;
    if (fd < 0) {
      unlinkAt(dir, name, 0);
      return;
    }
    try {
      for (const child of listDirectory(fd)) this.removeAt(fd, child);
    } finally {
      closeSync(fd);
    }
    unlinkAt(dir, name, AT_REMOVEDIR);
  }

  /** Remove everything inside directory `dir` (an opaque whiteout). */
  emptyDir(dir: number): void {
    const fd = openAt(dir, '.', O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    try {
      for (const child of listDirectory(fd)) this.removeAt(fd, child);
    } finally {
      closeSync(fd);
    }
  }

  mkdir(dir: number, name: string): void {
    mkdirAt(dir, name, 0o700);
  }

  /** A new regular file with `data`; owner (when `chown`), mode and mtime set on its fd. */
  writeFile(dir: number, name: string, data: Buffer, meta: Owner, chown: boolean): void {
    const fd = openAt(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600);
    try {
      for (let at = 0; at < data.length;) at += writeSync(fd, data, at, data.length - at);
      // chown clears set-id bits, so the mode comes after it.
      if (chown) fchownSync(fd, meta.uid, meta.gid);
      fchmodSync(fd, meta.mode);
      if (meta.mtime) futimesSync(fd, meta.mtime, meta.mtime);
    } finally {
      closeSync(fd);
    }
  }

  /** A new symbolic link: its owner and times are its own (AT_SYMLINK_NOFOLLOW); a link has no mode of its own. */
  symlink(dir: number, name: string, target: string, meta: Owner, chown: boolean): void {
    symlinkAt(target, dir, name);
    if (chown) lchownAt(dir, name, meta.uid, meta.gid);
    if (meta.mtime) lutimesAt(dir, name, meta.mtime);
  }

  link(fromDir: number, fromName: string, dir: number, name: string): void {
    linkAt(fromDir, fromName, dir, name);
  }

  /**
   * Owner, mode and mtime of the directory `name` in `dir`, through an fd
   * of the directory itself; nothing is done when `name` is no longer a
   * directory (a later entry replaced it with a file or a link).
   */
  setDirMetadata(dir: number, name: string, meta: Owner, chown: boolean): void {
    const fd = openAt(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, {
      allow: ['ENOENT', 'ENOTDIR', 'ELOOP'],
    });
    if (fd < 0) return;
    try {
      if (chown) fchownSync(fd, meta.uid, meta.gid);
      fchmodSync(fd, meta.mode);
      if (meta.mtime) futimesSync(fd, meta.mtime, meta.mtime);
    } finally {
      closeSync(fd);
    }
  }
}
