// What a lab could leave behind, as the lab runner sees the system: mounts,
// /run/netns files, network devices, cgroups below our own, System V message
// queues, and our own child processes. Taken before and after each lab; any
// difference is reported as a leftover and fails the lab.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { descendants } from './shell.js';
import { labCgroupParent } from './requirements.js';
import { MountInfo, readMountInfo } from '../syscalls/mountinfo.js';

export type Inventory = Record<string, string[]>;

function lines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

function mountTable(): MountInfo[] {
  try {
    return readMountInfo();
  } catch {
    return [];
  }
}

function mounts(): string[] {
  // /run/netns is made a mount point of its own by the first `ip netns add`
  // (or ts-veth netns add) after boot, and stays one: the system's, not a
  // lab's leftover. What a lab leaves in it is counted as netns files.
  return mountTable()
    .filter((m) => m.mountPoint !== '/run/netns')
    .map((m) => `${m.mountPoint} (${m.fstype})`);
}

function netnsFiles(): string[] {
  return existsSync('/run/netns') ? readdirSync('/run/netns').map((n) => `/run/netns/${n}`) : [];
}

function networkDevices(): string[] {
  // /proc/self/net/dev lists the links of our network namespace. Not
  // /sys/class/net: that shows the namespace of whoever mounted /sys, which
  // in the sandbox (a new network namespace, /sys not remounted) is the host.
  return lines('/proc/self/net/dev')
    .slice(2)
    .map((l) => l.split(':')[0].trim())
    .filter(Boolean);
}

/** Where each of our cgroups is in the file system: one directory per hierarchy. */
export function ownCgroupDirs(): string[] {
  const mountsByController = new Map<string, string>();
  let v2Mount: string | undefined;
  for (const m of mountTable()) {
    if (m.fstype === 'cgroup2') v2Mount ??= m.mountPoint;
    if (m.fstype === 'cgroup') for (const opt of m.superOptions) mountsByController.set(opt, m.mountPoint);
  }
  const dirs: string[] = [];
  for (const l of lines('/proc/self/cgroup')) {
    const [, controllers = '', path = ''] = l.split(/:(.*?):/);
    const base =
      controllers === ''
        ? v2Mount
        : (mountsByController.get(controllers.split(',')[0]!) ??
          mountsByController.get(`name=${controllers.replace(/^name=/, '')}`));
    if (base) dirs.push(join(base, path));
  }
  return [...new Set(dirs)].filter((d) => existsSync(d));
}

/** The directories below which the labs make their cgroups, one per hierarchy. */
function labCgroupRoots(): string[] {
  const parent = labCgroupParent();
  if (parent !== '' && !parent.startsWith('/')) return ownCgroupDirs();
  return [
    ...new Set(
      mountTable()
        .filter((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2')
        .map((m) => join(m.mountPoint, parent)),
    ),
  ].filter((d) => existsSync(d));
}

/** Every directory below `dir` (a cgroup tree), at most `maxDepth` levels down. */
export function directoriesBelow(dir: string, maxDepth = 6, depth = 0): string[] {
  if (depth > maxDepth) return [];
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const full = join(dir, n);
    try {
      if (!statSync(full).isDirectory()) continue;
    } catch {
      continue;
    }
    out.push(full, ...directoriesBelow(full, maxDepth, depth + 1));
  }
  return out;
}

/** PID -> value of the environment variable `name`, for every process that has it (labs mark theirs with LAB_ID and LAB_DIR). */
export function processesWithEnv(name: string): Map<number, string> {
  const found = new Map<number, string>();
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const entry = readFileSync(`/proc/${pid}/environ`, 'latin1')
        .split('\0')
        .find((e) => e.startsWith(`${name}=`));
      if (entry !== undefined) found.set(Number(pid), entry.slice(name.length + 1));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

function messageQueues(): string[] {
  return lines('/proc/sysvipc/msg')
    .slice(1)
    .map((l) => `msqid ${l.trim().split(/\s+/)[1]}`);
}

function processes(): string[] {
  return descendants(process.pid).map((pid) => {
    const comm = lines(`/proc/${pid}/comm`)[0] ?? '?';
    return `${pid} ${comm}`;
  });
}

export function takeInventory(): Inventory {
  return {
    mounts: mounts(),
    'netns files': netnsFiles(),
    'network devices': networkDevices(),
    // Only cgroups named like the labs' (nslab-lab-*): other cgroups come
    // and go with the rest of the machine. Looked for where the labs make
    // them: below the root of every hierarchy by default, below our own
    // cgroup when NSLAB_CGROUP_PARENT is relative (the tests).
    cgroups: labCgroupRoots()
      .flatMap((d) => directoriesBelow(d, 8))
      .filter((p) => p.includes('/nslab-lab')),
    'message queues': messageQueues(),
    processes: processes(),
  };
}

/** Things in `after` that were not in `before`, as readable lines. */
export function leftovers(before: Inventory, after: Inventory): string[] {
  const out: string[] = [];
  for (const [kind, items] of Object.entries(after)) {
    const had = new Set(before[kind] ?? []);
    for (const item of items) if (!had.has(item)) out.push(`${kind}: ${item}`);
  }
  return out;
}
