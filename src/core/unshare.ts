// What `unshare` does, in util-linux's order (sys-utils/unshare.c):
// create the namespaces, keep the requested ones alive by bind mounts,
// write the id maps, set mount propagation, fork if asked, then in the
// program's process: death signal, root and working directory, /proc,
// gid and uid, capabilities, exec.
//
// Where the namespaces are made depends on one kernel rule: a multithreaded
// process (Node) may not unshare(CLONE_NEWUSER). Without a user namespace
// this process calls unshare(2) itself, as util-linux does, and then execs
// in place (same PID) or clones the child. With one, a cloned child creates
// them all (clone(CLONE_NEWUSER|...)), so that the new user namespace owns
// the others, and this process writes its uid_map and gid_map.
import { CLONE, MS } from '../syscalls/constants.js';
import { Call, callNow } from '../syscalls/call.js';
import { writeKernelFile } from '../syscalls/fs.js';
import {
  IdRange,
  keepCapsCalls,
  setgidCall,
  setgroupsCall,
  setuidCall,
  writeIdMap,
  writeSetgroups,
} from '../syscalls/identity.js';
import { traceLine } from '../syscalls/trace.js';
import { DomainError } from '../errors.js';
import { bindMountCall, chdirCall, chrootCall, mountCall, propagationCall } from '../syscalls/mount.js';
import { NAMESPACES, NamespaceType, unshare, unshareCall } from '../syscalls/namespaces.js';
import { forkCall, startPlan } from '../syscalls/plan.js';
import { ExitInfo, execInPlace, procDir, waitChildSync } from '../syscalls/process.js';
import { deathSignalCall, programCalls, runInChild } from './program.js';

export interface UnshareOptions {
  /** CLONE_NEW* flags to create. */
  flags: number;
  /** namespace name -> file to bind-mount it on (the =file forms). */
  persist: Map<string, string>;
  fork: boolean;
  killChildSignal?: number;
  mountProc?: string;
  /** MS_* propagation flags for /, or 0 to leave it ('unchanged'). */
  propagation: number;
  setgroups?: 'allow' | 'deny';
  keepCaps: boolean;
  root?: string;
  wd?: string;
  uid?: number;
  gid?: number;
  monotonic?: bigint;
  boottime?: bigint;
  uidMap: IdRange[];
  gidMap: IdRange[];
  program: string[];
}

function nsFile(ns: NamespaceType): string {
  return ns.forChildren ?? ns.name;
}

function persisted(opts: UnshareOptions): Array<{ ns: NamespaceType; file: string }> {
  return NAMESPACES.filter((ns) => opts.persist.has(ns.name)).map((ns) => ({ ns, file: opts.persist.get(ns.name)! }));
}

function timeOffsets(opts: UnshareOptions): string | undefined {
  const lines: string[] = [];
  if (opts.monotonic !== undefined) lines.push(`monotonic ${opts.monotonic} 0`);
  if (opts.boottime !== undefined) lines.push(`boottime ${opts.boottime} 0`);
  return lines.length ? lines.join('\n') + '\n' : undefined;
}

/** The calls the program's own process makes before exec (after any fork). */
function programSetup(opts: UnshareOptions, withUserns: boolean): Call[] {
  const calls: Call[] = [];
  if (opts.killChildSignal) calls.push(deathSignalCall(opts.killChildSignal));
  let wd = opts.wd;
  if (opts.root) {
    calls.push(chrootCall(opts.root));
    wd = wd ?? '/';
  }
  if (wd) calls.push(chdirCall(wd));
  if (opts.mountProc) {
    // With the default propagation, making / private already covered /proc.
    if (!opts.root && opts.propagation !== (MS.MS_PRIVATE | MS.MS_REC)) {
      calls.push({
        ...mountCall(
          'none',
          opts.mountProc,
          null,
          MS.MS_PRIVATE | MS.MS_REC,
          null,
          `change ${opts.mountProc} filesystem propagation`,
        ),
        optional: true,
      });
    }
    calls.push(
      mountCall(
        'proc',
        opts.mountProc,
        'proc',
        MS.MS_NOSUID | MS.MS_NOEXEC | MS.MS_NODEV,
        null,
        `mount ${opts.mountProc}`,
      ),
    );
  }
  if (opts.gid !== undefined) calls.push(setgroupsCall(), setgidCall(opts.gid));
  if (opts.uid !== undefined) calls.push(setuidCall(opts.uid));
  if (opts.keepCaps && withUserns) calls.push(...keepCapsCalls());
  calls.push(...programCalls(opts.program));
  return calls;
}

/** newuidmap or newgidmap could not be run, or refused the map. */
export class IdMapHelperError extends DomainError {
  readonly kind = 'id-map-helper';
  constructor(
    readonly helper: string,
    /** What went wrong: the helper's own message, or why it could not start. */
    readonly reason: string,
    /** The helper is not installed. */
    readonly missing: boolean,
  ) {
    super(`${helper} failed: ${reason}`);
  }
}

/**
 * Maps that an unprivileged user may not write directly go through the
 * setuid helpers newuidmap/newgidmap (package uidmap), as util-linux does.
 */
function writeIdMapWithHelper(pid: number, kind: 'uid' | 'gid', ranges: readonly IdRange[]): void {
  const helper = kind === 'uid' ? 'newuidmap' : 'newgidmap';
  const args = [String(pid), ...ranges.flatMap((r) => [String(r.inner), String(r.outer), String(r.count)])];
  traceLine(`exec ${helper} ${args.join(' ')}`);
  // Loaded here only: child_process is not on the start-up path of the tools.
  const { spawnSync } = process.getBuiltinModule('node:child_process') as typeof import('node:child_process');
  const res = spawnSync(helper, args, { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (res.error)
    throw new IdMapHelperError(helper, res.error.message, (res.error as NodeJS.ErrnoException).code === 'ENOENT');
  if (res.status !== 0) throw new IdMapHelperError(helper, (res.stderr || '').trim() || `exit ${res.status}`, false);
}

function writeMaps(pid: number, opts: UnshareOptions): void {
  const root = process.geteuid?.() === 0;
  if (opts.uidMap.length) {
    const simple =
      opts.uidMap.length === 1 && opts.uidMap[0]?.count === 1 && opts.uidMap[0]?.outer === process.geteuid?.();
    if (root || simple) writeIdMap(pid, 'uid', opts.uidMap);
    else writeIdMapWithHelper(pid, 'uid', opts.uidMap);
  }
  if (opts.gidMap.length) {
    const simple =
      opts.gidMap.length === 1 && opts.gidMap[0]?.count === 1 && opts.gidMap[0]?.outer === process.getegid?.();
    if (root || simple) {
      // Linux 3.19+: an unprivileged gid_map write needs setgroups "deny" first.
      if (opts.setgroups !== 'allow' && (!root || opts.setgroups === 'deny' || simple)) writeSetgroups(pid, 'deny');
      else if (opts.setgroups) writeSetgroups(pid, opts.setgroups);
      writeIdMap(pid, 'gid', opts.gidMap);
    } else {
      if (opts.setgroups) writeSetgroups(pid, opts.setgroups);
      writeIdMapWithHelper(pid, 'gid', opts.gidMap);
    }
  } else if (opts.setgroups) writeSetgroups(pid, opts.setgroups);
}

export async function runUnshare(opts: UnshareOptions): Promise<ExitInfo> {
  if (opts.flags & CLONE.CLONE_NEWUSER) return unshareWithUserNamespace(opts);
  return unshareHere(opts);
}

/** No user namespace: this process unshares, as util-linux does. */
async function unshareHere(opts: UnshareOptions): Promise<ExitInfo> {
  const keep = persisted(opts);
  const offsets = timeOffsets(opts);
  const createHere = () => {
    if (opts.flags) unshare(opts.flags);
    if (offsets) writeKernelFile('/proc/self/timens_offsets', offsets, { what: 'write to /proc/self/timens_offsets' });
  };
  if (keep.length) {
    // The bind mounts must be made from outside the new mount namespace:
    // a helper child, cloned before the unshare, makes them once we have
    // unshared (util-linux does the same with a forked child).
    const binds = keep.map(({ ns, file }) => bindMountCall(`${procDir('self')}/ns/${nsFile(ns)}`, file));
    const helper = startPlan(binds, { afterClone: createHere });
    waitChildSync(helper.pid);
  } else createHere();

  if (opts.setgroups) writeSetgroups('self', opts.setgroups);
  if (opts.flags & CLONE.CLONE_NEWNS && opts.propagation) callNow(propagationCall(opts.propagation));

  const calls = programSetup(opts, false);
  if (opts.fork) return runInChild(calls);
  // Exec in place: the program keeps this PID, as with util-linux.
  return execInPlace(calls);
}

/**
 * With a user namespace: clone(CLONE_NEWUSER|...) makes the child in all the
 * new namespaces at once. clone(2) cannot take CLONE_NEWTIME (its bit is the
 * exit-signal field), and without --fork util-linux leaves the program itself
 * outside a new pid namespace, so those two are unshared by the child. A time
 * namespace holds only the children of the process that unshared it, so with
 * --fork the child then forks, as util-linux does, and the new process (made
 * with CLONE_PARENT: our child, not the first one's) runs the program; pid
 * is unshared with time then, since the init of a pid namespace may not use
 * CLONE_PARENT.
 */
async function unshareWithUserNamespace(opts: UnshareOptions): Promise<ExitInfo> {
  const offsets = timeOffsets(opts);
  let later = opts.flags & CLONE.CLONE_NEWTIME;
  const forkAfterUnshare = opts.fork && later !== 0;
  if (!opts.fork || forkAfterUnshare) later |= opts.flags & CLONE.CLONE_NEWPID;
  const cloneFlags = opts.flags & ~later;

  const calls: Call[] = [];
  const keep = persisted(opts);
  const bind = (pid: number, which: (ns: NamespaceType) => boolean) => {
    for (const { ns, file } of keep.filter((k) => which(k.ns)))
      callNow(bindMountCall(`${procDir(pid)}/ns/${nsFile(ns)}`, file));
  };
  if (later) {
    calls.push({
      ...unshareCall(later),
      after: (pid) => {
        if (offsets)
          writeKernelFile(`${procDir(pid)}/timens_offsets`, offsets, {
            what: `write to ${procDir(pid)}/timens_offsets`,
          });
        bind(pid, (ns) => (ns.flag & later) !== 0);
      },
    });
    if (forkAfterUnshare) calls.push(forkCall());
  }
  if (opts.flags & CLONE.CLONE_NEWNS && opts.propagation) calls.push(propagationCall(opts.propagation));
  calls.push(...programSetup(opts, true));

  return runInChild(calls, {
    cloneFlags,
    afterClone: (pid) => {
      bind(pid, (ns) => (ns.flag & later) === 0);
      writeMaps(pid, opts);
    },
  });
}
