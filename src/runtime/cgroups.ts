// The container's cgroup, through src/cgroup: made before the init is
// cloned, the init moved in before its first call, limits from
// linux.resources, and removed with the container.
import { existsSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { CgroupDir, CgroupLayout, detectCgroups } from '../cgroup/hierarchy.js';
import { Limits } from '../cgroup/limits.js';
import { createCgroup } from '../cgroup/manage.js';
import type { Resources } from './config.js';
import { ConfigError } from './errors.js';

const WANTED = ['cpu', 'cpuacct', 'memory', 'pids', 'freezer', 'devices', 'blkio', 'hugetlb'];

// runc's default device rules: always allowed, whatever the config says.
const DEFAULT_DEVICE_RULES = ['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm', 'c 10:200 rwm'];

export interface ContainerCgroup {
  dirs: CgroupDir[];
  freezer?: { dir: string; version: 1 | 2 };
}

function limitsOf(r: Resources | undefined): Limits {
  const limits: Limits = {};
  if (!r) return limits;
  if (r.memory?.limit !== undefined) limits.memory = r.memory.limit < 0 ? 'max' : BigInt(r.memory.limit);
  if (r.memory?.swap !== undefined) {
    if (r.memory.limit === undefined) throw new ConfigError('linux.resources.memory.swap', 'a swap limit needs memory.limit too');
    // OCI's swap is memory+swap; the cgroup layer takes swap alone.
    limits.swap = r.memory.swap < 0 ? 'max' : BigInt(Math.max(0, r.memory.swap - r.memory.limit));
  }
  if (r.pids) limits.pids = r.pids.limit <= 0 ? 'max' : r.pids.limit;
  if (r.cpu?.quota !== undefined && r.cpu.quota > 0) limits.cpuPercent = (r.cpu.quota / (r.cpu.period ?? 100_000)) * 100;
  return limits;
}

/** The cgroup path: the config's, or the id below the caller's own cgroup (so tests stay inside theirs). */
export function cgroupSpec(id: string, cgroupsPath: string | undefined): string {
  if (!cgroupsPath) return id;
  if (/^[^/]+:[^:]*:[^:]+$/.test(cgroupsPath)) throw new ConfigError('linux.cgroupsPath', 'a systemd slice:prefix:name path', true);
  return cgroupsPath;
}

export function createContainerCgroup(id: string, cgroupsPath: string | undefined, resources: Resources | undefined): ContainerCgroup {
  const layout: CgroupLayout = detectCgroups();
  const available = new Set(layout.hierarchies.flatMap((h) => h.controllers));
  const controllers = WANTED.filter((c) => available.has(c));
  const limits = limitsOf(resources);
  const { cgroups } = createCgroup(layout, cgroupSpec(id, cgroupsPath), { controllers, limits });
  try {
    for (const c of cgroups) {
      if (c.hierarchy.version === 1 && c.hierarchy.controllers.includes('cpu') && resources?.cpu?.shares) writeFileSync(posix.join(c.dir, 'cpu.shares'), String(resources.cpu.shares));
      if (c.hierarchy.version === 1 && c.hierarchy.controllers.includes('devices') && resources?.devices.length) applyDeviceRules(c.dir, resources);
    }
  } catch (err) {
    removeCgroupDirs(cgroups.map((c) => c.dir));
    throw err;
  }
  const v1f = cgroups.find((c) => c.hierarchy.version === 1 && c.hierarchy.controllers.includes('freezer'));
  const v2 = cgroups.find((c) => c.hierarchy.version === 2 && existsSync(posix.join(c.dir, 'cgroup.freeze')));
  const freezer = v1f ? { dir: v1f.dir, version: 1 as const } : v2 ? { dir: v2.dir, version: 2 as const } : undefined;
  return { dirs: cgroups, freezer };
}

function rule(d: Resources['devices'][number]): string {
  const major = d.major === undefined || d.major < 0 ? '*' : String(d.major);
  const minor = d.minor === undefined || d.minor < 0 ? '*' : String(d.minor);
  const type = d.type ?? 'a';
  return type === 'a' ? 'a' : `${type} ${major}:${minor} ${d.access || 'rwm'}`;
}

/** v1 devices: deny all, then the config's rules in order, then runc's defaults. */
function applyDeviceRules(dir: string, r: Resources): void {
  writeFileSync(posix.join(dir, 'devices.deny'), 'a');
  for (const d of r.devices) writeFileSync(posix.join(dir, d.allow ? 'devices.allow' : 'devices.deny'), rule(d));
  for (const line of DEFAULT_DEVICE_RULES) writeFileSync(posix.join(dir, 'devices.allow'), line);
}

/** PIDs in the container's cgroups (the first hierarchy that lists any). */
export function cgroupPids(dirs: readonly string[]): number[] {
  const all = new Set<number>();
  for (const d of dirs) {
    try {
      for (const l of readFileSync(posix.join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l) all.add(Number(l));
    } catch {
      // gone
    }
  }
  return [...all].sort((a, b) => a - b);
}

/** rmdir each directory, retrying while a dead task still leaves. */
export function removeCgroupDirs(dirs: readonly string[]): void {
  for (const d of dirs) {
    for (let i = 0; i < 100; i++) {
      try {
        if (existsSync(d)) rmdirSync(d);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || i === 99) throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
  }
}

export function setFrozen(freezer: { dir: string; version: 1 | 2 }, frozen: boolean): void {
  for (let i = 0; i < 200; i++) {
    if (freezer.version === 1) {
      const want = frozen ? 'FROZEN' : 'THAWED';
      const now = readFileSync(posix.join(freezer.dir, 'freezer.state'), 'utf8').trim();
      if (now === want) return;
      if (i === 0 || now === 'FREEZING') writeFileSync(posix.join(freezer.dir, 'freezer.state'), want);
    } else {
      if (i === 0) writeFileSync(posix.join(freezer.dir, 'cgroup.freeze'), frozen ? '1' : '0');
      if (new RegExp(`^frozen ${frozen ? 1 : 0}$`, 'm').test(readFileSync(posix.join(freezer.dir, 'cgroup.events'), 'utf8'))) return;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
  throw new Error(`the freezer at ${freezer.dir} did not become ${frozen ? 'FROZEN' : 'THAWED'}`);
}
