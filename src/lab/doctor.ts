// `ts-lab doctor`: can this machine run the labs? Each check says what it
// found and, when it fails, the fix. The files it reads can be shadowed for
// tests: with NSLAB_DOCTOR_ROOT=DIR, DIR/proc/sys/... is read instead of
// /proc/sys/... wherever DIR has that file.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseMountInfo } from '../syscalls/mountinfo.js';
import { installHint, readShadowed as read, shadowed, userNamespaceSwitches } from './requirements.js';
import { which } from '../core/which.js';

export type DoctorStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  name: string;
  status: DoctorStatus;
  found: string;
  fix?: string;
}

function exists(path: string): boolean {
  return existsSync(shadowed(path));
}

/** Namespace types, the kernel version that brought each, and the config option. */
const NAMESPACE_TYPES: Array<[file: string, name: string, since: string, config: string]> = [
  ['mnt', 'mount', '2.4.19', 'CONFIG_NAMESPACES'],
  ['uts', 'UTS', '2.6.19', 'CONFIG_UTS_NS'],
  ['ipc', 'IPC', '2.6.19', 'CONFIG_IPC_NS'],
  ['pid', 'PID', '2.6.24', 'CONFIG_PID_NS'],
  ['net', 'network', '2.6.29', 'CONFIG_NET_NS'],
  ['user', 'user', '3.8', 'CONFIG_USER_NS'],
  ['cgroup', 'cgroup', '4.6', 'CONFIG_CGROUPS'],
  ['time', 'time', '5.6', 'CONFIG_TIME_NS'],
];

function versionAtLeast(release: string, want: [number, number]): boolean {
  const [maj, min] = release.split(/[.-]/).map(Number);
  return maj > want[0] || (maj === want[0] && min >= want[1]);
}


export function runDoctor(): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const add = (name: string, ok: boolean | DoctorStatus, found: string, fix?: string) => {
    const status: DoctorStatus = typeof ok === 'string' ? ok : ok ? 'ok' : 'fail';
    checks.push({ name, status, found, fix: status === 'ok' ? undefined : fix });
  };

  const euid = process.geteuid?.();
  add('root', euid === 0, euid === 0 ? 'running as root' : `running as uid ${euid}`, 'most labs mount, make namespaces and cgroups: run ts-lab with sudo');

  const release = read('/proc/sys/kernel/osrelease') ?? 'unknown';
  add('kernel', versionAtLeast(release, [5, 6]), `Linux ${release}`, 'the labs use every namespace type, the newest (time) came with Linux 5.6: boot a newer kernel');

  for (const [file, name, since, config] of NAMESPACE_TYPES) {
    const ok = exists(`/proc/self/ns/${file}`);
    add(`${name} namespace`, ok, ok ? `/proc/self/ns/${file} exists` : `no /proc/self/ns/${file}`, `this kernel was built without ${config} (Linux ${since}+): use a distribution kernel`);
  }

  // Unprivileged user namespaces: three switches, any of which can forbid them.
  for (const sw of userNamespaceSwitches(read)) add(sw.name, sw.ok, sw.found, sw.fix);

  // cgroups: which version, and whether memory and pids can be limited.
  const fstypes = parseMountInfo(read('/proc/self/mountinfo') ?? '').map((m) => ({ point: m.mountPoint, fstype: m.fstype, opts: m.superOptions.join(',') }));
  const v1 = fstypes.filter((m) => m.fstype === 'cgroup');
  const v2 = fstypes.find((m) => m.fstype === 'cgroup2');
  const version = v1.length && v2 ? `hybrid (v1 controllers, cgroup2 at ${v2.point})` : v1.length ? 'v1' : v2 ? `v2 at ${v2.point}` : 'none';
  add('cgroups mounted', version !== 'none', `cgroup ${version}`, 'mount cgroup2: sudo mount -t cgroup2 none /sys/fs/cgroup');
  const v1Controllers = new Set(v1.flatMap((m) => m.opts.split(',')));
  const v2Controllers = new Set(v2 ? (read(join(v2.point, 'cgroup.controllers')) ?? '').split(/\s+/).filter(Boolean) : []);
  for (const ctl of ['memory', 'pids']) {
    const where = v1Controllers.has(ctl) ? 'v1' : v2Controllers.has(ctl) ? 'v2' : undefined;
    add(
      `${ctl} controller`,
      where !== undefined,
      where ? `${ctl} controller on cgroup ${where}` : `no ${ctl} controller mounted`,
      ctl === 'memory' ? "boot with cgroup_enable=memory on the kernel command line (Raspberry Pi and some ARM boards disable it)" : 'use a kernel with CONFIG_CGROUP_PIDS',
    );
  }

  const binDir = process.env.NSLAB_BIN_DIR;
  const path = binDir ? `${binDir}:${process.env.PATH ?? ''}` : process.env.PATH ?? '';
  for (const b of ['ps', 'ip', 'ping', 'busybox', 'ipcmk', 'setpriv', 'ts-unshare']) {
    const at = which(b, path);
    add(`${b} binary`, !!at, at ?? `${b} is not on PATH`, installHint(b));
  }
  return checks;
}
