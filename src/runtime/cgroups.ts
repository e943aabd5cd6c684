// The container's cgroup, through src/cgroup: made before the init is
// cloned, the init moved in once its mounts are made (before exec), limits
// from linux.resources, and removed with the container.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { CgroupDir, CgroupLayout, detectCgroups, unifiedHierarchy } from '../cgroup/hierarchy.js';
import { Cgroup, cgroupAt, cgroupManager } from '../cgroup/manager.js';
import { fromOciResources } from '../cgroup/oci.js';
import { writeKernelFile } from '../syscalls/fs.js';
import { startMoveGracePeriod } from '../cgroup/grace-period.js';
import type { Resources } from './config.js';
import { ConfigError } from './errors.js';

const WANTED = ['cpu', 'cpuacct', 'memory', 'pids', 'freezer', 'devices', 'blkio', 'cpuset'];

// runc's default device rules: always allowed, whatever the config says.
const DEFAULT_DEVICE_RULES = ['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm', 'c 10:200 rwm'];

export interface ContainerCgroup {
  path: string;
  dirs: CgroupDir[];
  freezer?: { dir: string; version: 1 | 2 };
}

/**
 * Where runc 1.1's cgroupfs driver puts the container's cgroup
 * (libcontainer/specconv, cgroups/fs and fs2): an empty cgroupsPath means
 * the container id, an absolute path is taken from each hierarchy's top, and
 * a relative one is below
 * - the caller's own cgroup in each v1 hierarchy (on a hybrid host the
 *   unified one is taken from its top: runcLayout), and
 * - the parent of the caller's cgroup on a pure v2 host: the caller's own
 *   cgroup (a login session's scope) holds processes, and v2 gives no
 *   controllers below such a cgroup; its parent (user-1000.slice) has none.
 * Returned as the path the manager resolves: relative (below our own
 * cgroup) or absolute.
 */
export function cgroupSpec(id: string, cgroupsPath: string | undefined, layout: CgroupLayout): string {
  if (cgroupsPath && /^[^/]+:[^:]*:[^:]+$/.test(cgroupsPath)) throw new ConfigError('linux.cgroupsPath', 'a systemd slice:prefix:name path', true);
  // runc's CleanPath: '..' cannot climb above the start, and the form (relative or absolute) is kept.
  const inner = cgroupsPath ? cleanPath(cgroupsPath) : id;
  if (inner.startsWith('/')) return inner;
  const v2 = layout.mode === 'v2' ? unifiedHierarchy(layout) : undefined;
  if (v2) return posix.join(posix.dirname(v2.own), inner);
  return inner;
}

/**
 * The layout the manager resolves a relative path against, as runc 1.1's
 * fs driver reads it on a hybrid host: below our own cgroup in each v1
 * hierarchy, but from the top of the unified one (GetOwnCgroupPath("")
 * answers the hybrid mount point itself, /sys/fs/cgroup/unified).
 */
export function runcLayout(layout: CgroupLayout): CgroupLayout {
  if (layout.mode !== 'hybrid') return layout;
  return { ...layout, hierarchies: layout.hierarchies.map((h) => (h.version === 2 ? { ...h, own: h.mountRoot } : h)) };
}

/** runc's utils.CleanPath: clean as if rooted, then relative again if it was. */
function cleanPath(p: string): string {
  const rooted = posix.normalize(posix.join('/', p));
  return p.startsWith('/') ? rooted : posix.relative('/', rooted) || '.';
}

/** A handle on the container's cgroup from what state.json kept (its directories, whoever asks). */
export function containerCgroup(cg: { path: string; dirs: readonly CgroupDir[] }): Cgroup {
  return cgroupAt(cg.path, cg.dirs.filter((d) => existsSync(d.dir)));
}

export function createContainerCgroup(id: string, cgroupsPath: string | undefined, resources: Resources | undefined): ContainerCgroup {
  const manager = cgroupManager(runcLayout(detectCgroups()));
  const available = new Set(manager.layout.hierarchies.flatMap((h) => h.controllers));
  const controllers = WANTED.filter((c) => available.has(c));
  const limits = resources ? fromOciResources({ memory: { limit: resources.memory?.limit, swap: resources.memory?.swap }, pids: resources.pids, cpu: { shares: resources.cpu?.shares, quota: resources.cpu?.quota, period: resources.cpu?.period } }) : {};
  const path = cgroupSpec(id, cgroupsPath, manager.layout);
  const cg = manager.create(path, { controllers, limits });
  // The init's move into it will wait for an RCU grace period: start one
  // now. Not before the mkdirs (and v2's subtree_control writes): the
  // waiting writer holds cgroup_mutex, which they need; the device and
  // memory files below do not.
  startMoveGracePeriod(manager.layout);
  try {
    for (const c of cg.dirs)
      if (c.hierarchy.version === 1 && c.hierarchy.controllers.includes('devices') && resources?.devices.length) applyDeviceRules(c.dir, resources);
    if (resources) applyV1Extras(cg.dirs, resources);
  } catch (err) {
    cg.delete({ kill: true });
    throw err;
  }
  const v1f = cg.dirs.find((c) => c.hierarchy.version === 1 && c.hierarchy.controllers.includes('freezer'));
  const v2 = cg.dirs.find((c) => c.hierarchy.version === 2 && existsSync(posix.join(c.dir, 'cgroup.freeze')));
  const freezer = v1f ? { dir: v1f.dir, version: 1 as const } : v2 ? { dir: v2.dir, version: 2 as const } : undefined;
  return { path, dirs: [...cg.dirs], freezer };
}

/**
 * linux.resources fields the cgroup layer does not translate: cgroup v1
 * files written as they are (what runc does on v1). A field whose file this
 * host lacks is an error naming it.
 */
function applyV1Extras(dirs: readonly CgroupDir[], r: Resources): void {
  const write = (controller: string, file: string, value: string | number, field: string) => {
    const dir = dirs.find((d) => d.hierarchy.version === 1 && d.hierarchy.controllers.includes(controller));
    if (!dir || !existsSync(posix.join(dir.dir, file))) throw new ConfigError(`linux.resources.${field}`, `setting it on this host's cgroups (no ${controller} ${file})`, true);
    writeFileSync(posix.join(dir.dir, file), String(value));
  };
  const m = r.memory;
  if (m?.reservation) write('memory', 'memory.soft_limit_in_bytes', m.reservation, 'memory.reservation');
  if (m?.swappiness !== undefined) write('memory', 'memory.swappiness', m.swappiness, 'memory.swappiness');
  if (m?.disableOOMKiller) write('memory', 'memory.oom_control', 1, 'memory.disableOOMKiller');
  // Kernel memory limits are deprecated (Linux 5.4+ ignores them); runc 1.1 ignores them too.
  const c = r.cpu;
  if (c?.cpus) write('cpuset', 'cpuset.cpus', c.cpus, 'cpu.cpus');
  if (c?.mems) write('cpuset', 'cpuset.mems', c.mems, 'cpu.mems');
  if (c?.realtimePeriod) write('cpu', 'cpu.rt_period_us', c.realtimePeriod, 'cpu.realtimePeriod');
  if (c?.realtimeRuntime) write('cpu', 'cpu.rt_runtime_us', c.realtimeRuntime, 'cpu.realtimeRuntime');
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

/** Move a process into each of the container's cgroup directories (one write of its pid to cgroup.procs each). */
export function moveIntoCgroups(dirs: readonly string[], pid: number, who: string): void {
  for (const dir of dirs) writeKernelFile(posix.join(dir, 'cgroup.procs'), String(pid), { what: `move ${who} into ${dir}` });
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

