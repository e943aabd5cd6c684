// What coreutils `chroot` does (src/chroot.c): resolve the user and groups
// (before the root changes, while /etc/passwd is the host's), chroot(2),
// chdir("/"), set groups, gid and uid, exec the command in place. Exit
// status 125 when chroot itself fails, 126 when the command cannot be run,
// 127 when it is not found.
//
// --pivot does what a container runtime does instead: a new mount namespace
// whose / is private, NEWROOT bind-mounted onto itself (pivot_root needs a
// mount point), pivot_root(".", "."), and the old root, now stacked on the
// new one, unmounted with MNT_DETACH. Afterwards no path leads to the host's
// files; with chroot alone, ".." from a directory outside the root does.
//
// chroot(2) and pivot_root(2) are made by this process: its threads share
// one fs_struct, and a new root for all of them is what we want before exec;
// unshare(CLONE_NEWNS) gives the main thread a mount namespace (and an
// fs_struct) of its own.
import { statSync } from 'node:fs';
import { Call } from '../syscalls/call.js';
import { CLONE, ERRNO, MNT, MS } from '../syscalls/constants.js';
import { ExecError, SyscallError, ToolError, errnoText } from '../syscalls/errors.js';
import { groupsOfUser, lookupGroup, lookupUser, setgidCall, setgroupsListCall, setuidCall } from '../syscalls/identity.js';
import { chdirCall, chrootCall, mountCall, pivotRootCall, propagationCall, umountCall } from '../syscalls/mount.js';
import { unshareCall } from '../syscalls/namespaces.js';
import { execInPlace } from '../syscalls/process.js';
import { programCalls } from './program.js';

/** coreutils' EXIT_CANCELED, EXIT_CANNOT_INVOKE, EXIT_ENOENT. */
export const CHROOT_FAILED = 125;
const CANNOT_INVOKE = 126;
const NOT_FOUND = 127;

const PERMISSION_HINT = 'chroot(2) needs CAP_SYS_CHROOT (and --pivot CAP_SYS_ADMIN): run as root, or as root of a user namespace (ts-unshare -r ts-chroot ...)';

export interface ChrootOptions {
  newRoot: string;
  /** USER[:GROUP], names or numbers */
  userspec?: string;
  /** G1,G2,... */
  groups?: string;
  skipChdir: boolean;
  pivot: boolean;
  command: string[];
}

/** 'X' as coreutils quotes a file name in messages (quoteaf, C locale). */
function quoted(name: string): string {
  return `'${name.replace(/'/g, `'\\''`)}'`;
}

/** Is `dir` the current root (same device and inode as "/")? */
function isOldRoot(dir: string): boolean {
  try {
    const a = statSync(dir);
    const b = statSync('/');
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}

interface Identity {
  uid?: number;
  gid?: number;
  groups?: number[];
}

/** --userspec and --groups, resolved against the host's /etc files. */
function resolveIdentity(opts: ChrootOptions): Identity {
  const id: Identity = {};
  if (opts.userspec) {
    const [user, group] = opts.userspec.split(':');
    let entry: ReturnType<typeof lookupUser>;
    if (user) {
      entry = lookupUser(user);
      if (entry) id.uid = entry.uid;
      else if (/^\d+$/.test(user)) id.uid = Number(user);
      else throw new ToolError(`invalid user ${quoted(user)}`, CHROOT_FAILED);
    }
    if (group) {
      id.gid = lookupGroup(group);
      if (id.gid === undefined) throw new ToolError(`invalid group ${quoted(group)}`, CHROOT_FAILED);
    }
    // A known user: its primary group unless one is given, and its memberships (getgrouplist).
    if (entry) {
      id.gid ??= entry.gid;
      if (!opts.groups) id.groups = groupsOfUser(entry.name, id.gid);
    }
  }
  if (opts.groups) {
    id.groups = opts.groups.split(',').filter(Boolean).map((g) => {
      const gid = lookupGroup(g);
      if (gid === undefined) throw new ToolError(`invalid group ${quoted(g)}`, CHROOT_FAILED);
      return gid;
    });
  }
  return id;
}

/** The calls that make NEWROOT the root: chroot, or the pivot_root sequence. */
function changeRootCalls(opts: ChrootOptions): Call[] {
  const what = `cannot change root directory to ${quoted(opts.newRoot)}`;
  if (!opts.pivot) return [chrootCall(opts.newRoot, what)];
  return [
    unshareCall(CLONE.CLONE_NEWNS),
    // pivot_root(2) refuses a shared old or new root: keep every mount event here.
    propagationCall(MS.MS_REC | MS.MS_PRIVATE),
    mountCall(opts.newRoot, opts.newRoot, null, MS.MS_BIND | MS.MS_REC, null, what),
    chdirCall(opts.newRoot, what),
    // pivot_root(".", "."): the old root ends up stacked on the new one, at
    // the same place, so no put_old directory is needed inside NEWROOT.
    pivotRootCall('.', '.'),
    umountCall('.', MNT.MNT_DETACH, 'cannot unmount the old root'),
  ];
}

export function chrootCalls(opts: ChrootOptions): Call[] {
  const oldRoot = isOldRoot(opts.newRoot);
  if (opts.skipChdir && (!oldRoot || opts.pivot)) throw new ToolError(`option --skip-chdir only permitted if NEWROOT is old '/'\nTry 'ts-chroot --help' for more information.`, CHROOT_FAILED);
  const id = resolveIdentity(opts);
  const calls: Call[] = [];
  if (!oldRoot || opts.pivot) calls.push(...changeRootCalls(opts));
  if (!opts.skipChdir) calls.push(chdirCall('/', 'cannot chdir to root directory'));
  if (id.groups) calls.push(setgroupsListCall(id.groups, 'failed to set supplementary groups'));
  if (id.gid !== undefined) calls.push({ ...setgidCall(id.gid), what: 'failed to set group-ID' });
  if (id.uid !== undefined) calls.push({ ...setuidCall(id.uid), what: 'failed to set user-ID' });
  // No command: "$SHELL -i", else "/bin/sh -i".
  calls.push(...programCalls(opts.command, { login: false, interactive: true }));
  return calls;
}

/** Exec the command in place (same PID, as coreutils); failures become coreutils' lines and statuses. */
export function runChroot(opts: ChrootOptions): never {
  try {
    return execInPlace(chrootCalls(opts));
  } catch (err) {
    if (err instanceof ExecError)
      throw new ToolError(`failed to run command ${quoted(err.file)}: ${errnoText(err.errno)}`, err.errno === ERRNO.ENOENT ? NOT_FOUND : CANNOT_INVOKE);
    if (err instanceof SyscallError) {
      throw new ToolError(`${err.what ?? err.show}: ${errnoText(err.errno)}`, CHROOT_FAILED, err.code === 'EPERM' ? PERMISSION_HINT : undefined);
    }
    if (err instanceof ToolError) throw err;
    throw new ToolError((err as Error).message, CHROOT_FAILED);
  }
}
