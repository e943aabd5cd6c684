// A cgroup is a directory and its interface is files: mkdir(2) creates one,
// rmdir(2) removes one, and every limit, member list and event counter is a
// file read or written with one read(2)/write(2). Every call is traced, and a
// refused write becomes one line naming the file and the kernel's reason.
import { existsSync, readdirSync } from 'node:fs';
import { posix } from 'node:path';
import { SyscallError, errnoText } from '../syscalls/errors.js';
import { readKernelFile, writeKernelFile } from '../syscalls/fs.js';
import { cfunc } from '../syscalls/libc.js';
import { q, sys } from '../syscalls/trace.js';

import { CgroupFileError } from './errors.js';

export { CgroupFileError };

/** Why the kernel says no, for the writes students get wrong most often. */
function explainRefusal(file: string, code: string): string | undefined {
  if (code === 'EBUSY' && file === 'cgroup.subtree_control')
    return 'cgroup v2\'s "no internal processes" rule: a cgroup that has processes cannot hand controllers to child cgroups; move its processes into a leaf cgroup first';
  if (code === 'EBUSY' && /^memory\.(memsw\.)?limit_in_bytes$/.test(file))
    return 'the new limit is below what the cgroup already uses';
  if (code === 'EINVAL' && file === 'memory.memsw.limit_in_bytes')
    return 'memory+swap must not be below memory.limit_in_bytes';
  if (code === 'ENOSPC' && file === 'cgroup.procs')
    return 'a v1 cpuset cgroup needs cpuset.cpus and cpuset.mems before it can take processes';
  if (code === 'EBUSY' && file === 'cgroup.procs')
    return 'cgroup v2: this cgroup hands controllers to its children (cgroup.subtree_control is not empty), so it may not hold processes itself; use a leaf cgroup below it';
  if (code === 'EOPNOTSUPP' && file === 'cgroup.procs')
    return 'cgroup v2 domain rules: the target is not a leaf, or is a threaded cgroup';
  if (code === 'ENOENT') return 'no such cgroup file: wrong name, or its controller is not enabled here';
  return undefined;
}

function refused(op: CgroupFileError['op'], file: string, err: SyscallError): CgroupFileError {
  return new CgroupFileError(
    op,
    file,
    err.errno,
    err.code,
    errnoText(err.errno),
    op === 'read' || op === 'write' ? explainRefusal(file, err.code) : undefined,
  );
}

/** Write one cgroup file in one write(2): `ts-cgroup: cannot write memory.max: Invalid argument` on failure. */
export function writeCgroupFile(dir: string, file: string, value: string): void {
  try {
    writeKernelFile(posix.join(dir, file), value);
  } catch (err) {
    if (err instanceof SyscallError) throw refused('write', file, err);
    throw err;
  }
}

export function readCgroupFile(dir: string, file: string): string {
  try {
    return readKernelFile(posix.join(dir, file)).trim();
  } catch (err) {
    if (err instanceof SyscallError) throw refused('read', file, err);
    throw err;
  }
}

/** A file that only some versions or kernels have: undefined when absent. */
export function readOptionalFile(dir: string, file: string): string | undefined {
  if (!existsSync(posix.join(dir, file))) return undefined;
  try {
    return readCgroupFile(dir, file);
  } catch {
    return undefined;
  }
}

/** "key value" lines (memory.events, cpu.stat, memory.oom_control) as numbers. */
export function parseKeyedFile(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** The processes in a cgroup (cgroup.procs: one TGID per line). */
export function cgroupProcs(dir: string): number[] {
  const text = readOptionalFile(dir, 'cgroup.procs') ?? '';
  return text.split('\n').filter(Boolean).map(Number);
}

/** Child cgroups: the subdirectories. */
export function childCgroups(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

/** mkdir(2) in a cgroup filesystem creates the cgroup and all its files at once. */
export function makeCgroupDir(dir: string): void {
  try {
    sys('mkdir', `${q(dir)}, 0755`, () => cfunc('int mkdir(const char *path, uint32_t mode)')(dir, 0o755) as number, {
      what: `cannot create ${dir}`,
    });
  } catch (err) {
    if (err instanceof SyscallError) throw refused('create', dir, err);
    throw err;
  }
}

/** rmdir(2) removes a cgroup; the kernel refuses (EBUSY) while it has processes or children. */
export function removeCgroupDir(dir: string): void {
  try {
    sys('rmdir', q(dir), () => cfunc('int rmdir(const char *path)')(dir) as number);
  } catch (err) {
    if (err instanceof SyscallError) throw refused('remove', dir, err);
    throw err;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Sleep without the event loop, for the short retries the kernel asks for (FREEZING, a dying task). */
export function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
