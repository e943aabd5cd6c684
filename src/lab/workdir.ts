// Where the labs keep their files (LAB_DIR): a directory whose mount lets
// a root filesystem work. Lab 14 runs programs and opens device nodes
// inside a root filesystem it builds there, which a nodev mount refuses
// (EACCES on /dev/null) and a noexec one refuses to exec; Debian 13 mounts
// /tmp as a tmpfs with nodev. The first of $TMPDIR (or /tmp), /var/tmp and
// /var/lib/nslab whose mount has neither flag is used; NSLAB_WORK_DIR
// chooses one outright.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { posix } from 'node:path';
import { MountInfo, readMountInfo } from '../syscalls/mountinfo.js';

export const BLOCKING_FLAGS = ['nodev', 'noexec'] as const;

/** The mount that holds `path` (the longest mount point above it; the last one mounted there). */
export function mountOf(path: string, mounts: MountInfo[] = readMountInfo()): MountInfo | undefined {
  const p = posix.normalize(path);
  let best: MountInfo | undefined;
  for (const m of mounts) {
    const inside = p === m.mountPoint || m.mountPoint === '/' || p.startsWith(m.mountPoint + '/');
    if (inside && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/** The flags of the mount holding `path` that would stop a root filesystem there. */
export function blockingFlags(path: string, mounts?: MountInfo[]): string[] {
  const m = mountOf(path, mounts);
  return m ? BLOCKING_FLAGS.filter((f) => m.mountOptions.includes(f)) : [];
}

export interface WorkDirChoice {
  dir: string;
  /** Directories passed over, and why: "/tmp (nodev)". */
  passed: string[];
}

export function workDirCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.NSLAB_WORK_DIR) return [env.NSLAB_WORK_DIR];
  return [...new Set([tmpdir(), '/var/tmp', '/var/lib/nslab'])];
}

/** The lab work directory for this machine (made if it is /var/lib/nslab). */
export function chooseWorkDir(env: NodeJS.ProcessEnv = process.env, mounts?: MountInfo[]): WorkDirChoice {
  const candidates = workDirCandidates(env);
  const passed: string[] = [];
  for (const dir of candidates) {
    const flags = blockingFlags(dir, mounts);
    if (flags.length === 0 || env.NSLAB_WORK_DIR) {
      if (dir === '/var/lib/nslab') mkdirSync(dir, { recursive: true, mode: 0o755 });
      return { dir, passed };
    }
    passed.push(`${dir} (${flags.join(',')})`);
  }
  // All of them blocked: the first, and the doctor says why labs will fail.
  return { dir: candidates[0]!, passed };
}

/** Every place a lab directory may be (ts-lab reset looks in each). */
export function allWorkDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return workDirCandidates(env);
}
