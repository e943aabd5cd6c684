// `ts-lab doctor`: can this machine run the labs? Each check says what it
// found and, when it fails, the fix. The files it reads can be shadowed for
// tests: with NSLAB_DOCTOR_ROOT=DIR, DIR/proc/sys/... is read instead of
// /proc/sys/... wherever DIR has that file.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseMountInfo } from '../syscalls/mountinfo.js';
import {
  cgroupControllersUnavailable,
  installHint,
  labCgroupParent,
  readShadowed as read,
  shadowed,
  unmet,
  userNamespaceSwitches,
} from './requirements.js';
import { which } from '../core/which.js';
import { detectCgroups, unifiedHierarchy } from '../cgroup/hierarchy.js';
import { blockingFlags, chooseWorkDir } from './workdir.js';
import type { Lab } from './types.js';

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
  const [maj = 0, min = 0] = release.split(/[.-]/).map(Number);
  return maj > want[0] || (maj === want[0] && min >= want[1]);
}

/** `path`: where the labs will look for programs (ts-lab's own bin directory first). */
export function runDoctor(labPath?: string): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const add = (name: string, ok: boolean | DoctorStatus, found: string, fix?: string) => {
    const status: DoctorStatus = typeof ok === 'string' ? ok : ok ? 'ok' : 'fail';
    checks.push({ name, status, found, fix: status === 'ok' ? undefined : fix });
  };

  const euid = process.geteuid?.();
  add(
    'root',
    euid === 0,
    euid === 0 ? 'running as root' : `running as uid ${euid}`,
    'most labs mount, make namespaces and cgroups: run ts-lab with sudo',
  );

  const release = read('/proc/sys/kernel/osrelease') ?? 'unknown';
  add(
    'kernel',
    versionAtLeast(release, [5, 6]),
    `Linux ${release}`,
    'the labs use every namespace type, the newest (time) came with Linux 5.6: boot a newer kernel',
  );

  for (const [file, name, since, config] of NAMESPACE_TYPES) {
    const ok = exists(`/proc/self/ns/${file}`);
    add(
      `${name} namespace`,
      ok,
      ok ? `/proc/self/ns/${file} exists` : `no /proc/self/ns/${file}`,
      `this kernel was built without ${config} (Linux ${since}+): use a distribution kernel`,
    );
  }

  // Unprivileged user namespaces: three switches, any of which can forbid them.
  for (const sw of userNamespaceSwitches(read)) add(sw.name, sw.ok, sw.found, sw.fix);

  // cgroups: which version, and whether memory and pids can be limited.
  const fstypes = parseMountInfo(read('/proc/self/mountinfo') ?? '').map((m) => ({
    point: m.mountPoint,
    fstype: m.fstype,
    opts: m.superOptions.join(','),
  }));
  const v1 = fstypes.filter((m) => m.fstype === 'cgroup');
  const v2 = fstypes.find((m) => m.fstype === 'cgroup2');
  const version =
    v1.length && v2
      ? `hybrid (v1 controllers, cgroup2 at ${v2.point})`
      : v1.length
        ? 'v1'
        : v2
          ? `v2 at ${v2.point}`
          : 'none';
  add(
    'cgroups mounted',
    version !== 'none',
    `cgroup ${version}`,
    'mount cgroup2: sudo mount -t cgroup2 none /sys/fs/cgroup',
  );
  const v1Controllers = new Set(v1.flatMap((m) => m.opts.split(',')));
  const v2Controllers = new Set(
    v2 ? (read(join(v2.point, 'cgroup.controllers')) ?? '').split(/\s+/).filter(Boolean) : [],
  );
  for (const ctl of ['memory', 'pids']) {
    const where = v1Controllers.has(ctl) ? 'v1' : v2Controllers.has(ctl) ? 'v2' : undefined;
    add(
      `${ctl} controller`,
      where !== undefined,
      where ? `${ctl} controller on cgroup ${where}` : `no ${ctl} controller mounted`,
      ctl === 'memory'
        ? 'boot with cgroup_enable=memory on the kernel command line (Raspberry Pi and some ARM boards disable it)'
        : 'use a kernel with CONFIG_CGROUP_PIDS',
    );
  }

  const binDir = process.env.NSLAB_BIN_DIR;
  const path = labPath ?? (binDir ? `${binDir}:${process.env.PATH ?? ''}` : (process.env.PATH ?? ''));
  for (const b of ['ps', 'ip', 'ping', 'busybox', 'ipcmk', 'setpriv', 'ts-unshare']) {
    const at = which(b, path);
    add(`${b} binary`, !!at, at ?? `${b} is not on PATH`, installHint(b));
  }
  for (const c of machineChecks(path)) checks.push(c);
  return checks;
}

/** What stops a lab on this machine, found by the checks below: the check's name and the labs it stops. */
export interface LabBlocker {
  check: string;
  outcome: 'skip' | 'fail';
  why: string;
  labs: (lab: Lab) => boolean;
}

const usesRootfs = (lab: Lab) => JSON.stringify(lab).includes('make-rootfs');
const runsAsNobody = (lab: Lab) => JSON.stringify(lab).includes('"as":"nobody"');

let blockers: LabBlocker[] = [];

/**
 * The conditions a distribution's defaults can break (issue 17): where the
 * labs' cgroups go, the lab work directory's mount, the tools as nobody,
 * the resolver file, crictl, v2's cpuset. Each is checked on this machine,
 * and what it would stop is kept for labForecast.
 */
// One function, long on purpose: a list of independent checks, a few lines
// each, that reads top to bottom in the order the doctor prints them.
// eslint-disable-next-line max-lines-per-function
function machineChecks(path: string): DoctorCheck[] {
  const out: DoctorCheck[] = [];
  blockers = [];
  const add = (name: string, status: DoctorStatus, found: string, fix?: string, blocks?: Omit<LabBlocker, 'check'>) => {
    out.push({ name, status, found, fix: status === 'ok' ? undefined : fix });
    if (blocks && status !== 'ok') blockers.push({ check: name, ...blocks });
  };

  // Where the labs make their cgroups, and whether v2 lets them have controllers there.
  let layout;
  try {
    layout = detectCgroups();
  } catch {
    layout = undefined;
  }
  if (layout) {
    const parent = labCgroupParent();
    const uni = unifiedHierarchy(layout);
    const own = uni?.own ?? '/';
    const where =
      parent === ''
        ? 'below the root cgroup'
        : parent.startsWith('/')
          ? `below ${parent}`
          : `below your own cgroup (NSLAB_CGROUP_PARENT=${parent})`;
    const why = cgroupControllersUnavailable(['memory', 'pids'], layout);
    add(
      "labs' cgroups",
      why ? 'fail' : 'ok',
      `${where}; you are in ${own}${layout.mode === 'v2' && own !== '/' ? ' (a cgroup that holds processes: nothing is made below it)' : ''}`,
      why ? 'unset NSLAB_CGROUP_PARENT: the labs then make their cgroups below the root, as runc does' : undefined,
      { outcome: 'skip', why: why ?? '', labs: (l) => !!l.needs?.cgroupControllers?.length },
    );
    if (layout.mode === 'v2' && uni) {
      const subtree = read(join(uni.mountPoint, 'cgroup.subtree_control')) ?? '';
      const cpuset = subtree.split(/\s+/).includes('cpuset');
      add(
        'cpuset (cgroup v2)',
        'ok',
        cpuset
          ? `enabled below the root (containerd.service's Delegate=yes does that): an empty cpuset.cpus means the parent's, and the root has none; ts-cri and ts-runc leave them alone`
          : 'not enabled below the root',
      );
    }
  }

  // The lab work directory: a root filesystem there needs device nodes and exec.
  const work = chooseWorkDir();
  const flags = blockingFlags(work.dir);
  add(
    'lab work directory',
    flags.length ? 'fail' : 'ok',
    `${work.dir}${flags.length ? ` is mounted ${flags.join(',')}` : ''}${work.passed.length ? ` (passed over: ${work.passed.join(', ')})` : ''}`,
    'choose a directory on a mount without nodev and noexec: NSLAB_WORK_DIR=/var/lib/nslab',
    {
      outcome: 'fail',
      why: `its root filesystem is built in ${work.dir}, mounted ${flags.join(',')}`,
      labs: usesRootfs,
    },
  );

  // The tools as nobody: rootless steps run them as another user.
  const tool = which('ts-unshare', path);
  if (tool) {
    const blocked = unreadableBy(tool);
    let found = blocked
      ? `${blocked} is closed to other users`
      : `${realpathOrSelf(tool)} and its bundle are readable by all`;
    let bad = !!blocked;
    const setpriv = which('setpriv', path);
    if (process.geteuid?.() === 0 && setpriv) {
      const r = spawnSync(setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', '--', tool, '--version'], {
        encoding: 'utf8',
        timeout: 20_000,
        env: { ...process.env, PATH: path },
      });
      bad = r.status !== 0;
      found = bad
        ? `nobody cannot run ${tool}: ${(r.stderr || r.error?.message || '').trim().split('\n')[0]}${blocked ? ` (${blocked} is closed to other users)` : ''}`
        : `nobody runs ${tool}`;
    }
    add(
      'tools for nobody',
      bad ? 'fail' : 'ok',
      found,
      'install the tools outside your home (Debian 13 homes are 0700): sudo bash scripts/setup-vm.sh (copies them to /usr/local/lib/nslab, links in /usr/local/bin)',
      {
        outcome: 'fail',
        why: `nobody cannot run the ts-* tools (${found})`,
        labs: runsAsNobody,
      },
    );
  }

  // The pods' resolver: containerd copies /etc/resolv.conf into each pod.
  try {
    const etc = '/etc/resolv.conf';
    if (lstatSync(etc).isSymbolicLink()) {
      const target = realpathOrSelf(join(dirname(etc), readlinkSync(etc)));
      const there = existsSync(target);
      add(
        'resolv.conf',
        there ? 'ok' : 'warn',
        `${etc} is a link to ${target}${there ? '' : ', which does not exist'}${target.startsWith('/run/') ? ': ts-cri writes that file into the playground, whose /run is empty' : ''}`,
        'the pods get an empty resolver configuration; start systemd-resolved, or make /etc/resolv.conf a file',
      );
    } else
      add(
        'resolv.conf',
        existsSync(etc) ? 'ok' : 'warn',
        existsSync(etc) ? `${etc} is a file` : `no ${etc}`,
        'the pods get no resolver configuration',
      );
  } catch {
    add('resolv.conf', 'warn', 'no /etc/resolv.conf', 'the pods get no resolver configuration');
  }

  const crictl = which('crictl', path);
  add('crictl', crictl ? 'ok' : 'fail', crictl ?? 'crictl is not on PATH', installHint('crictl'), {
    outcome: 'skip',
    why: `needs crictl: ${installHint('crictl')}`,
    labs: (l) => l.id.startsWith('cri-'),
  });
  return out;
}

function realpathOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** The first directory on the way to `file` (or to the bundle it loads) that other users cannot enter, or the file they cannot read. */
function unreadableBy(file: string): string | undefined {
  const real = realpathOrSelf(file);
  const bundle = join(dirname(dirname(real)), 'dist', `${real.split('/').pop()}.cjs`);
  for (const f of [real, bundle]) {
    if (!existsSync(f)) continue;
    for (let d = dirname(f); d !== '/'; d = dirname(d)) {
      try {
        if ((statSync(d).mode & 0o001) === 0) return d;
      } catch {
        return d;
      }
    }
    try {
      if ((statSync(f).mode & 0o004) === 0) return f;
    } catch {
      return f;
    }
  }
  return undefined;
}

export interface LabForecast {
  id: string;
  order?: number;
  outcome: 'run' | 'skip' | 'fail';
  why?: string;
}

/**
 * Which labs will run, be skipped or fail here, and why: each lab's own
 * needs (as check sees them, the sandbox being given), then what the
 * machine checks above found. Call after runDoctor.
 */
export function labForecast(labs: Lab[], path: string, projectRoot: string): LabForecast[] {
  return labs.map((lab) => {
    const skip = unmet(lab.needs ? { ...lab.needs, sandbox: false } : undefined, path, projectRoot);
    if (skip) return { id: lab.id, order: lab.order, outcome: 'skip', why: skip };
    const b = blockers.find((x) => x.labs(lab) && x.why);
    if (b) return { id: lab.id, order: lab.order, outcome: b.outcome, why: `${b.check}: ${b.why}` };
    return { id: lab.id, order: lab.order, outcome: 'run' };
  });
}
