// What coreutils `chroot` does (src/chroot.c): resolve the user and groups
// (before the root changes, while /etc/passwd is the host's), chroot(2),
// chdir("/"), set groups, gid and uid, exec the command in place. chroot(2)
// is called even when NEWROOT is the current root: it is the permission
// check (EPERM without CAP_SYS_CHROOT), as in coreutils. The tool words the
// errors and gives coreutils' exit statuses (src/tools/chroot.ts).
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
import { CLONE, MNT, MS } from '../syscalls/constants.js';
import {
  groupsOfUser,
  lookupGroup,
  lookupUser,
  setgidCall,
  setgroupsListCall,
  setuidCall,
} from '../syscalls/identity.js';
import { chdirCall, chrootCall, mountCall, pivotRootCall, propagationCall, umountCall } from '../syscalls/mount.js';
import { unshareCall } from '../syscalls/namespaces.js';
import { execInPlace } from '../syscalls/process.js';
import { DomainError } from '../errors.js';
import { programCalls } from './program.js';

/** A user or group name that /etc/passwd or /etc/group (of the old root) does not know. */
export class UnknownIdError extends DomainError {
  readonly kind = 'unknown-id';
  constructor(
    readonly id: 'user' | 'group',
    readonly value: string,
    /** Where it was given: the user spec (USER:GROUP) or the list of groups. */
    readonly from: 'userspec' | 'groups',
  ) {
    super(`unknown ${id} '${value}'`);
  }
}

/** Keeping the working directory is allowed only when the root does not change. */
export class RootChangesError extends DomainError {
  readonly kind = 'root-changes';
  constructor(readonly newRoot: string) {
    super(`the root changes to ${newRoot}: the working directory cannot be kept`);
  }
}

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
      else throw new UnknownIdError('user', user, 'userspec');
    }
    if (group) {
      id.gid = lookupGroup(group);
      if (id.gid === undefined) throw new UnknownIdError('group', group, 'userspec');
    }
    // A known user: its primary group unless one is given, and its memberships (getgrouplist).
    if (entry) {
      id.gid ??= entry.gid;
      if (!opts.groups) id.groups = groupsOfUser(entry.name, id.gid);
    }
  }
  if (opts.groups) {
    id.groups = opts.groups
      .split(',')
      .filter(Boolean)
      .map((g) => {
        const gid = lookupGroup(g);
        if (gid === undefined) throw new UnknownIdError('group', g, 'groups');
        return gid;
      });
  }
  return id;
}

/** The calls that make NEWROOT the root: chroot, or the pivot_root sequence. */
function changeRootCalls(opts: ChrootOptions): Call[] {
  const what = `change root directory to ${quoted(opts.newRoot)}`;
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
    umountCall('.', MNT.MNT_DETACH, 'unmount the old root'),
  ];
}

export function chrootCalls(opts: ChrootOptions): Call[] {
  const oldRoot = isOldRoot(opts.newRoot);
  if (opts.skipChdir && (!oldRoot || opts.pivot)) throw new RootChangesError(opts.newRoot);
  const id = resolveIdentity(opts);
  const calls: Call[] = [...changeRootCalls(opts)];
  if (!opts.skipChdir) calls.push(chdirCall('/', 'chdir to root directory'));
  // coreutils: "failed to set supplementary groups", "failed to set group-ID", "... user-ID".
  if (id.groups) calls.push(setgroupsListCall(id.groups, 'set supplementary groups'));
  if (id.gid !== undefined) calls.push({ ...setgidCall(id.gid), what: 'set group-ID' });
  if (id.uid !== undefined) calls.push({ ...setuidCall(id.uid), what: 'set user-ID' });
  // No command: "$SHELL -i", else "/bin/sh -i".
  calls.push(...programCalls(opts.command, { login: false, interactive: true }));
  return calls;
}

/** Exec the command in place (same PID, as coreutils). */
export function runChroot(opts: ChrootOptions): never {
  return execInPlace(chrootCalls(opts));
}
