// The default config.json that `spec` writes: the same keys, values and
// order as runc 1.1's (libcontainer/specconv Example() and ToRootless()),
// so a bundle made by either runtime works with both.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpecExists } from './errors.js';
import { cgroup2Unified } from '../cgroup/hierarchy.js';

export const OCI_VERSION = '1.0.2-dev';

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export interface SpecIds {
  uid: number;
  gid: number;
}

/**
 * runc 1.1's Example(): with `cgroupNamespace` (by default: where
 * /sys/fs/cgroup is a cgroup2 filesystem, runc's IsCgroup2UnifiedMode) the
 * namespaces end with a cgroup namespace, before the rootless user one.
 */
export function defaultSpec(rootless?: SpecIds, cgroupNamespace = cgroup2Unified()): Record<string, unknown> {
  const mounts: Array<Record<string, unknown>> = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(rootless ? [] : ['gid=5'])],
    },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    // Without a network namespace of its own, sysfs cannot be mounted: a rootless container binds the host's.
    rootless
      ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
    },
  ];
  const linux: Record<string, unknown> = {};
  if (rootless) {
    linux.uidMappings = [{ containerID: 0, hostID: rootless.uid, size: 1 }];
    linux.gidMappings = [{ containerID: 0, hostID: rootless.gid, size: 1 }];
  } else {
    linux.resources = { devices: [{ allow: false, access: 'rwm' }] };
  }
  linux.namespaces = [
    { type: 'pid' },
    ...(rootless ? [] : [{ type: 'network' }]),
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
    ...(cgroupNamespace ? [{ type: 'cgroup' }] : []),
    ...(rootless ? [{ type: 'user' }] : []),
  ];
  linux.maskedPaths = [
    '/proc/acpi',
    '/proc/asound',
    '/proc/kcore',
    '/proc/keys',
    '/proc/latency_stats',
    '/proc/timer_list',
    '/proc/timer_stats',
    '/proc/sched_debug',
    '/sys/firmware',
    '/proc/scsi',
  ];
  linux.readonlyPaths = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS, ambient: CAPS },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts,
    linux,
  };
}

/** Write BUNDLE/config.json (tab-indented, no final newline, as runc); never overwrite. */
export function writeSpec(bundle: string, rootless?: SpecIds): string {
  const path = join(bundle, 'config.json');
  if (existsSync(path)) throw new SpecExists(path);
  writeFileSync(path, JSON.stringify(defaultSpec(rootless), null, '\t'), { mode: 0o666, flag: 'wx' });
  return path;
}
