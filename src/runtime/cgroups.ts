// The container's cgroup, through src/cgroup: made before the init is
// cloned, the init moved in once its mounts are made (before exec), limits
// from linux.resources, and removed with the container.
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { CgroupDir, CgroupLayout, detectCgroups, unifiedHierarchy } from '../cgroup/hierarchy.js';
import { Cgroup, CgroupManager, ExtraResource, cgroupAt, cgroupManager } from '../cgroup/manager.js';
import { OciLinuxResources, fromOciResources } from '../cgroup/oci.js';
import { ResourceUnsupportedError } from '../cgroup/errors.js';
import { writeKernelFile } from '../syscalls/fs.js';
import { startMoveGracePeriod } from '../cgroup/grace-period.js';
import type { Resources } from './config.js';
import { ConfigError } from './errors.js';

const WANTED = ['cpu', 'cpuacct', 'memory', 'pids', 'freezer', 'devices', 'blkio', 'cpuset'];

// runc's default device rules: always allowed, whatever the config says.
const DEFAULT_DEVICE_RULES = [
  'c *:* m',
  'b *:* m',
  'c 1:3 rwm',
  'c 1:5 rwm',
  'c 1:7 rwm',
  'c 1:8 rwm',
  'c 1:9 rwm',
  'c 5:0 rwm',
  'c 5:1 rwm',
  'c 5:2 rwm',
  'c 136:* rwm',
  'c 10:200 rwm',
];

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
  if (cgroupsPath && /^[^/]+:[^:]*:[^:]+$/.test(cgroupsPath))
    throw new ConfigError('linux.cgroupsPath', 'a systemd slice:prefix:name path', true);
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
  return cgroupAt(
    cg.path,
    cg.dirs.filter((d) => existsSync(d.dir)),
  );
}

/** The cgroup manager the runtime uses unless given another: cgroupfs, laid out as runc 1.1 lays it out. */
export function defaultCgroupManager(): CgroupManager {
  return cgroupManager(runcLayout(detectCgroups()));
}

/**
 * The container's cgroup: made with the controllers the host has and the
 * limits linux.resources sets, then device rules and the resources the
 * cgroup layer writes as they are (applyExtras). Device rules where no
 * hierarchy can apply them (cgroup v2: an eBPF program, not loaded here)
 * are named in a warning and not applied.
 */
export function createContainerCgroup(
  manager: CgroupManager,
  id: string,
  cgroupsPath: string | undefined,
  resources: Resources | undefined,
  warn?: (message: string) => void,
): { cgroup: Cgroup; saved: ContainerCgroup } {
  const available = new Set(manager.layout.hierarchies.flatMap((h) => h.controllers));
  const controllers = WANTED.filter((c) => available.has(c));
  const limits = resources ? fromOciResources(translatedResources(resources)) : {};
  const path = cgroupSpec(id, cgroupsPath, manager.layout);
  const cg = manager.create(path, { controllers, limits });
  // The init's move into it will wait for an RCU grace period: start one
  // now. Not before the mkdirs (and v2's subtree_control writes): the
  // waiting writer holds cgroup_mutex, which they need; the device and
  // memory files below do not.
  startMoveGracePeriod(manager.layout);
  try {
    if (resources?.devices.length) {
      if (cg.canApplyDevices()) cg.applyDevices(resources.devices, DEFAULT_DEVICE_RULES);
      else warn?.(DEVICES_NOT_APPLIED);
    }
    if (resources) cg.applyExtras(extraResources(resources));
  } catch (err) {
    cg.delete({ kill: true });
    if (err instanceof ResourceUnsupportedError) {
      throw new ConfigError(
        `linux.resources.${err.resource}`,
        `setting it on this host's cgroups (no ${err.controller} ${err.file})`,
        true,
      );
    }
    throw err;
  }
  const f = cg.freezerDir();
  const freezer = f ? { dir: f.dir, version: f.hierarchy.version } : undefined;
  return { cgroup: cg, saved: { path, dirs: [...cg.dirs], freezer } };
}

/**
 * Said, not refused, where no hierarchy applies device rules: refusing
 * would refuse every config `ts-runc spec` writes on a cgroup v2 host.
 */
export const DEVICES_NOT_APPLIED =
  "linux.resources.devices: not applied: this host's cgroups have no devices controller " +
  '(cgroup v2 needs an eBPF program, which this runtime does not load)';

/** The linux.resources fields the cgroup layer translates into Limits. */
function translatedResources(r: Resources): OciLinuxResources {
  return {
    memory: { limit: r.memory?.limit, swap: r.memory?.swap },
    pids: r.pids,
    cpu: { shares: r.cpu?.shares, quota: r.cpu?.quota, period: r.cpu?.period },
  };
}

/**
 * The linux.resources fields written as the files they name (what runc
 * does on v1). Kernel memory limits are deprecated (Linux 5.4+ ignores
 * them); runc 1.1 ignores them too. Zeros that mean "unset" are left out.
 */
function extraResources(r: Resources): Partial<Record<ExtraResource, string | number>> {
  const m = r.memory;
  const c = r.cpu;
  return {
    'memory.reservation': m?.reservation || undefined,
    'memory.swappiness': m?.swappiness,
    'memory.disableOOMKiller': m?.disableOOMKiller ? 1 : undefined,
    'cpu.cpus': c?.cpus || undefined,
    'cpu.mems': c?.mems || undefined,
    'cpu.realtimePeriod': c?.realtimePeriod || undefined,
    'cpu.realtimeRuntime': c?.realtimeRuntime || undefined,
  };
}

/** Move a process into each of the container's cgroup directories (one write of its pid to cgroup.procs each). */
export function moveIntoCgroups(dirs: readonly string[], pid: number, who: string): void {
  for (const dir of dirs)
    writeKernelFile(posix.join(dir, 'cgroup.procs'), String(pid), { what: `move ${who} into ${dir}` });
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
