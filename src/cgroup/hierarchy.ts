// Which cgroup hierarchies this machine has, found at run time from
// /proc/self/mountinfo, and where the caller sits in each (/proc/self/cgroup).
//
// Three layouts exist in the wild and a tool must not assume any of them:
// - v1: one "cgroup" mount per controller (or group of controllers), e.g.
//   /sys/fs/cgroup/memory; a process has one cgroup in each hierarchy.
// - v2: one "cgroup2" mount (usually /sys/fs/cgroup) for every controller;
//   Debian 12 and Ubuntu 22.04+ default to it.
// - hybrid: both. A controller bound to a v1 hierarchy is not available in
//   the v2 one (the kernel gives each controller to one hierarchy only).
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { posix } from 'node:path';
import { CgroupNotFoundError, CgroupPathError, ControllerMissingError } from './errors.js';
import { MountInfo, parseMountInfo, readMountInfo } from '../syscalls/mountinfo.js';

export type CgroupVersion = 1 | 2;
export type CgroupMode = 'v1' | 'v2' | 'hybrid' | 'none';

export interface Hierarchy {
  version: CgroupVersion;
  /** Where it is mounted: /sys/fs/cgroup/memory, /sys/fs/cgroup/unified. */
  mountPoint: string;
  /** The cgroup this mount shows as its top (not '/' inside a container's cgroup namespace). */
  mountRoot: string;
  /** v1: the controllers bound to it (from the mount options); v2: cgroup.controllers of its top. */
  controllers: string[];
  /** v1 named hierarchies without controllers: 'systemd' for name=systemd. */
  name?: string;
  /** The caller's cgroup in this hierarchy, as /proc/self/cgroup says ('/' if unknown). */
  own: string;
}

export interface CgroupLayout {
  mode: CgroupMode;
  hierarchies: Hierarchy[];
}

interface ProcCgroupLine {
  id: number;
  /** v1: 'memory', 'cpu,cpuacct', 'name=systemd'; v2: '' */
  controllers: string;
  path: string;
}

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Is /sys/fs/cgroup itself a cgroup2 filesystem (a pure v2 host)? The test runc makes (IsCgroup2UnifiedMode). */
export function cgroup2Unified(): boolean {
  try {
    return statfsSync('/sys/fs/cgroup').type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** /proc/PID/cgroup: "hierarchy-ID:controller-list:cgroup-path" per line (v2: "0::/path"). */
export function parseProcCgroup(text: string): ProcCgroupLine[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const first = line.indexOf(':');
      const second = line.indexOf(':', first + 1);
      return {
        id: Number(line.slice(0, first)),
        controllers: line.slice(first + 1, second),
        path: line.slice(second + 1),
      };
    });
}

interface CgroupMount {
  version: CgroupVersion;
  device: string;
  mountRoot: string;
  mountPoint: string;
  superOptions: string[];
}

function cgroupMounts(mounts: MountInfo[]): CgroupMount[] {
  return mounts
    .filter((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2')
    .map((m) => ({
      version: m.fstype === 'cgroup2' ? 2 : 1,
      device: m.device,
      mountRoot: m.root,
      mountPoint: m.mountPoint,
      superOptions: m.superOptions,
    }));
}

// Mount options of a v1 hierarchy that are not controller names.
const V1_NON_CONTROLLER_OPTIONS =
  /^(rw|ro|nosuid|nodev|noexec|relatime|noatime|xattr|clone_children|cpuset_v2_mode|noprefix|favordynmods|nsdelegate|memory_localevents|memory_recursiveprot|release_agent=.*|name=.*)$/;

function readV2Controllers(mountPoint: string): string[] {
  try {
    return readFileSync(posix.join(mountPoint, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

export interface DetectOptions {
  /** Text of /proc/self/mountinfo (tests pass a fake one). */
  mountinfo?: string;
  /** Text of /proc/self/cgroup. */
  procCgroup?: string;
}

/** The cgroup hierarchies mounted here and the caller's place in each. */
export function detectCgroups(opts: DetectOptions = {}): CgroupLayout {
  const mounts = opts.mountinfo !== undefined ? parseMountInfo(opts.mountinfo) : readMountInfo();
  const procCgroup =
    opts.procCgroup ?? (existsSync('/proc/self/cgroup') ? readFileSync('/proc/self/cgroup', 'utf8') : '');
  const memberships = parseProcCgroup(procCgroup);
  const seen = new Set<string>();
  const hierarchies: Hierarchy[] = [];
  for (const m of cgroupMounts(mounts)) {
    // The same hierarchy mounted twice (bind mounts) counts once.
    if (seen.has(m.device)) continue;
    seen.add(m.device);
    if (m.version === 2) {
      const line = memberships.find((l) => l.id === 0 && l.controllers === '');
      hierarchies.push({
        version: 2,
        mountPoint: m.mountPoint,
        mountRoot: m.mountRoot,
        controllers: readV2Controllers(m.mountPoint),
        own: line?.path ?? '/',
      });
      continue;
    }
    const controllers = m.superOptions.filter((o) => !V1_NON_CONTROLLER_OPTIONS.test(o));
    const name = m.superOptions.find((o) => o.startsWith('name='))?.slice(5);
    const key = [...controllers, ...(name ? [`name=${name}`] : [])].sort().join(',');
    const line = memberships.find((l) => l.id !== 0 && l.controllers.split(',').sort().join(',') === key);
    hierarchies.push({
      version: 1,
      mountPoint: m.mountPoint,
      mountRoot: m.mountRoot,
      controllers,
      name,
      own: line?.path ?? '/',
    });
  }
  const v1 = hierarchies.some((h) => h.version === 1);
  const v2 = hierarchies.some((h) => h.version === 2);
  const mode: CgroupMode = v1 && v2 ? 'hybrid' : v1 ? 'v1' : v2 ? 'v2' : 'none';
  return { mode, hierarchies };
}

export function unifiedHierarchy(layout: CgroupLayout): Hierarchy | undefined {
  return layout.hierarchies.find((h) => h.version === 2);
}

/** The hierarchy that owns a controller: a v1 one it is bound to, else v2 if it is available there. */
export function hierarchyForController(layout: CgroupLayout, controller: string): Hierarchy {
  const v1 = layout.hierarchies.find((h) => h.version === 1 && h.controllers.includes(controller));
  if (v1) return v1;
  const v2 = unifiedHierarchy(layout);
  if (v2?.controllers.includes(controller)) return v2;
  throw new ControllerMissingError(
    controller,
    v2 ? posix.join(v2.mountPoint, 'cgroup.controllers') : undefined,
    v2?.controllers ?? [],
  );
}

/** A hierarchy's label for output: "memory (v1)", "unified (v2)". */
export function hierarchyLabel(h: Hierarchy): string {
  if (h.version === 2)
    return `${posix.basename(h.mountPoint) === 'cgroup' ? 'cgroup2' : posix.basename(h.mountPoint)} (v2)`;
  return `${h.controllers.join(',') || `name=${h.name}`} (v1)`;
}

/** One cgroup in one hierarchy. */
export interface CgroupDir {
  hierarchy: Hierarchy;
  /** The cgroup's path from the hierarchy's top, as /proc/PID/cgroup shows it. */
  path: string;
  /** Its directory in the cgroup filesystem. */
  dir: string;
}

/** The directory of a cgroup path in a hierarchy, or undefined if the mount does not show it. */
function dirOf(h: Hierarchy, cgroupPath: string): string | undefined {
  const rel = posix.relative(h.mountRoot, cgroupPath);
  if (rel.startsWith('..')) return undefined;
  return posix.join(h.mountPoint, rel);
}

/** The hierarchy whose filesystem holds `spec`, when it is a directory path like /sys/fs/cgroup/unified/box. */
export function hierarchyOfDirectory(layout: CgroupLayout, spec: string): Hierarchy | undefined {
  const dir = posix.normalize(spec);
  return layout.hierarchies
    .filter((h) => dir === h.mountPoint || dir.startsWith(h.mountPoint.replace(/\/$/, '') + '/'))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
}

/**
 * Where PATH is in each of `hierarchies`. PATH is read the way a student
 * means it:
 * - a directory inside a cgroup filesystem (/sys/fs/cgroup/unified/box)
 *   names that one hierarchy;
 * - an absolute cgroup path (/box), as libcgroup reads it: from each
 *   hierarchy's top;
 * - a relative one (box) is below the caller's own cgroup in each
 *   hierarchy, so experiments stay inside the cgroup one started in.
 * A '..' component is refused in every form: it would climb out of the
 * caller's cgroup (or the mount) while looking like a name below it.
 */
export function resolveCgroup(
  layout: CgroupLayout,
  spec: string,
  hierarchies: readonly Hierarchy[] = layout.hierarchies,
): CgroupDir[] {
  if (spec === '') throw new CgroupPathError(spec, 'empty');
  if (spec.split('/').includes('..')) throw new CgroupPathError(spec, 'dot-dot');
  const owner = hierarchyOfDirectory(layout, spec);
  if (owner) {
    const dir = posix.normalize(spec).replace(/(.)\/$/, '$1');
    return [{ hierarchy: owner, path: posix.join(owner.mountRoot, posix.relative(owner.mountPoint, dir)), dir }];
  }
  const out: CgroupDir[] = [];
  for (const h of hierarchies) {
    const path = spec.startsWith('/') ? posix.normalize(spec) : posix.join(h.own, spec);
    const dir = dirOf(h, path);
    if (dir !== undefined)
      out.push({ hierarchy: h, path: path.replace(/(.)\/$/, '$1'), dir: dir.replace(/(.)\/$/, '$1') });
  }
  return out;
}

/** The hierarchies where a cgroup exists; a clear error if none. */
export function existingCgroup(layout: CgroupLayout, spec: string): CgroupDir[] {
  const found = resolveCgroup(layout, spec).filter((c) => existsSync(c.dir));
  if (found.length === 0) throw new CgroupNotFoundError(spec);
  return found;
}
