// The container's init as a child plan (src/syscalls/plan.ts): the libc
// calls a cloned process makes, in runc's order, between clone(CLONE_NEW*)
// and exec. Nothing here runs JavaScript in the child; the parent only
// decides, before the clone, which calls the child will make (it looks at
// the bundle's files to know what is a file, a directory or missing).
//
//   namespaces (joined by path) -> propagation of / -> bind the rootfs ->
//   the config's mounts -> device nodes and /dev links (every path opened
//   inside the rootfs: RootPaths) -> pivot_root ->
//   readonly and masked paths -> read-only root -> cgroups (and a cgroup
//   namespace) -> hostname -> rlimits ->
//   bounding set, keep caps, groups, gid, uid -> cwd -> capset, ambient ->
//   no_new_privs -> umask -> (barrier) -> execve
import { Stats, existsSync, lstatSync, realpathSync, statSync, statfsSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { Call, makeCall } from '../syscalls/call.js';
import { CLONE, MNT, MS, O, PR, PR_CAP_AMBIENT_RAISE } from '../syscalls/constants.js';
import { lastCapability, setgidCall, setgroupsListCall, setuidCall } from '../syscalls/identity.js';
import { chdirCall, chrootCall, mountCall, pivotRootCall, umountCall } from '../syscalls/mount.js';
import { readMountInfo } from '../syscalls/mountinfo.js';
import {
  AT_FDCWD,
  O_NOFOLLOW,
  RESOLVE,
  closeCall,
  dup3Call,
  fchdirCall,
  fchownatCall,
  haveOpenat2,
  mkdiratCall,
  mknodatCall,
  openat2Call,
  openatCall,
  symlinkatCall,
} from '../syscalls/openat2.js';
import { q, qArray, traceLine } from '../syscalls/trace.js';
import {
  CAPABILITY_NAMES,
  ContainerConfig,
  JOIN_ORDER,
  MountSpec,
  PROPAGATIONS,
  ProcessSpec,
  RLIMITS,
  joinNamespaceCall,
  namespaceFlag,
} from './config.js';
import { unshareCall } from '../syscalls/namespaces.js';
import { ConfigError, ProgramError } from './errors.js';
import { seccompAt } from './seccomp.js';

// mount(8) option words -> [set?, flag]; the rest go to the filesystem as data.
export const MOUNT_OPTIONS: Record<string, [boolean, number]> = {
  ro: [true, MS.MS_RDONLY],
  rw: [false, MS.MS_RDONLY],
  nosuid: [true, MS.MS_NOSUID],
  suid: [false, MS.MS_NOSUID],
  nodev: [true, MS.MS_NODEV],
  dev: [false, MS.MS_NODEV],
  noexec: [true, MS.MS_NOEXEC],
  exec: [false, MS.MS_NOEXEC],
  sync: [true, MS.MS_SYNCHRONOUS],
  async: [false, MS.MS_SYNCHRONOUS],
  dirsync: [true, MS.MS_DIRSYNC],
  mand: [true, MS.MS_MANDLOCK],
  nomand: [false, MS.MS_MANDLOCK],
  noatime: [true, MS.MS_NOATIME],
  atime: [false, MS.MS_NOATIME],
  nodiratime: [true, MS.MS_NODIRATIME],
  diratime: [false, MS.MS_NODIRATIME],
  relatime: [true, MS.MS_RELATIME],
  norelatime: [false, MS.MS_RELATIME],
  strictatime: [true, MS.MS_STRICTATIME],
  nostrictatime: [false, MS.MS_STRICTATIME],
  silent: [true, MS.MS_SILENT],
  loud: [false, MS.MS_SILENT],
  bind: [true, MS.MS_BIND],
  rbind: [true, MS.MS_BIND | MS.MS_REC],
  remount: [true, MS.MS_REMOUNT],
  defaults: [false, 0],
  nosymfollow: [true, MS.MS_NOSYMFOLLOW],
  symfollow: [false, MS.MS_NOSYMFOLLOW],
};

export interface ParsedMountOptions {
  flags: number;
  propagation: number[];
  data: string[];
}

export function parseMountOptions(options: readonly string[], field = 'mounts'): ParsedMountOptions {
  let flags = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  for (const opt of options) {
    const known = MOUNT_OPTIONS[opt];
    if (known) {
      flags = known[0] ? flags | known[1] : flags & ~known[1];
    } else if (PROPAGATIONS[opt] !== undefined) {
      propagation.push(PROPAGATIONS[opt]);
    } else if (opt === 'tmpcopyup' || opt === 'idmap' || opt === 'ridmap') {
      throw new ConfigError(`${field}.options`, `the ${opt} option`, true);
    } else data.push(opt);
  }
  return { flags, propagation, data };
}

function isBind(m: MountSpec): boolean {
  return m.type === 'bind' || m.options.includes('bind') || m.options.includes('rbind');
}

/** Devices runc creates in a /dev it mounts (libcontainer/specconv AllowedDevices' nodes). */
export const DEFAULT_DEVICES = [
  { path: '/dev/null', major: 1, minor: 3 },
  { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/full', major: 1, minor: 7 },
  { path: '/dev/random', major: 1, minor: 8 },
  { path: '/dev/urandom', major: 1, minor: 9 },
  { path: '/dev/tty', major: 5, minor: 0 },
];

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

export interface InitPlanOptions {
  noPivot: boolean;
  /** Namespaces joined by path: opened by the parent, fd -> type flag. */
  joinFds: Array<{ fd: number; flag: number; path: string }>;
  /** Flags for unshare(2) in the child when a joined user namespace must own the new ones. */
  unshareFlags: number;
  /** The new user namespace's maps are written after this unshare (set by the caller). */
  afterUnshare?: (pid: number) => void;
  /**
   * The parent moves the process into its cgroups here: after the mounts,
   * before the identity calls (late, for the RCU grace period: see
   * docs/runc.md), when a cgroup namespace follows. Undefined when the
   * parent moves it at another point.
   */
  joinCgroups?: (pid: number) => void;
  /** unshare(CLONE_NEWCGROUP) right after: the cgroups it is in become the namespace's root. */
  unshareCgroupns?: boolean;
  /** Make the init fork after joining/creating (joined pid namespace, or pid unshared). */
  forkAfter: boolean;
  /** Cgroup directories per hierarchy name, for the cgroup mount. */
  cgroupMounts: Array<{ name: string; source: string }>;
  /**
   * A pure cgroup v2 host: a `cgroup` mount is a cgroup2 filesystem, as
   * runc makes it, and it is mounted once the process is in its cgroups
   * (and cgroup namespace), so that it shows them as its top.
   */
  cgroup2?: boolean;
  /** The program, resolved against the container's PATH. */
  program: string;
  /** Calls to run first in the child. */
  first: Call[];
  /** The terminal's calls (console.ts), made inside the container before its identity. */
  console: Call[];
  /** The seccomp filter's load (seccomp.ts), placed by seccompAt. */
  seccomp?: Call;
  /** fds 3.. the program gets as they are (--preserve-fds, LISTEN_FDS): 0 unless asked. */
  preserveFds?: number;
}

// Every path the config names inside the container is opened with the
// rootfs as its root, and acted on through the opened fd, so that a symlink
// (or a directory swapped for one between the plan and the call, as in
// CVE-2021-30465) can only lead somewhere inside the rootfs.
//
// A plan call cannot use the fd an earlier call returned, but the kernel
// always hands out the lowest free number, so the numbers are fixed:
//   dup2(0, 1000), close(0)      stdin parked: fd 0 is free
//   open(rootfs) = 0, dup3(0, 1001), close(0)
//                                the rootfs (after its bind mount), kept at 1001
//   openat2(1001, "/dest", RESOLVE_IN_ROOT) = 0
//   mount(src, "/proc/self/fd/0", ...), close(0)
//                                each target, mounted on through its fd
//   mkdirat(0 or 1001, "name")   missing directories, one in-root parent at a time
//   close(1001), dup2(1000, 0)   done: stdin comes back
// Without openat2 (Linux < 5.6) the open is a walk: fchdir(1001), then one
// component at a time, openat(AT_FDCWD, name, O_PATH|O_NOFOLLOW) = 0 and
// fchdir(0), on the path with the rootfs's symlinks followed by the parent.
const PARKED_STDIN = 1000;
const ROOT_FD = 1001;
/** The rootfs's /dev/null, opened and checked (1:3) before the root change, for maskedPaths. */
const NULL_FD = 1002;
const FD0 = '/proc/self/fd/0';

function parkStdin(): Call[] {
  return [makeCall('dup2', [0, PARKED_STDIN], `dup2(0, ${PARKED_STDIN})`, { optional: true }), closeCall(0)];
}

function unparkStdin(): Call[] {
  return [makeCall('dup2', [PARKED_STDIN, 0], `dup2(${PARKED_STDIN}, 0)`, { optional: true }), closeCall(PARKED_STDIN)];
}

/** Paths of the container, opened inside its rootfs (see above). */
class RootPaths {
  constructor(
    readonly rootfs: string,
    /** Container paths mounted over so far: what the parent sees below them is not what the child will. */
    readonly hidden: string[],
    readonly openat2 = haveOpenat2(),
  ) {}

  /**
   * The container path with the rootfs's symlinks followed inside it (as
   * runc's securejoin does); below a path mounted over, taken as written.
   */
  resolve(path: string): string {
    const lexical = posix.resolve('/', path);
    const under = this.hiddenAbove(lexical);
    if (under !== undefined) return lexical;
    const host = resolveInRoot(this.rootfs, path).host;
    return '/' + relative(this.rootfs, host);
  }

  /** The mount over `path` or over a directory above it (`strictly`: above it only). */
  private hiddenAbove(path: string, strictly = false): string | undefined {
    return this.hidden.find((h) => (!strictly && path === h) || path.startsWith(h === '/' ? '/' : h + '/'));
  }

  /** Is the (resolved) path there: a mount point, or in the parent's view and not below a mount? */
  exists(path: string): boolean {
    if (this.hidden.includes(path)) return true;
    return this.hiddenAbove(path, true) === undefined && lstatQuietly(join(this.rootfs, path)) !== undefined;
  }

  /** Calls that leave `path` (resolved) open as fd 0, O_PATH. `noSymlinks`: refuse any symlink on the way. */
  open(path: string, what: string, noSymlinks = false): Call[] {
    if (this.openat2) {
      const resolve =
        RESOLVE.RESOLVE_IN_ROOT | RESOLVE.RESOLVE_NO_MAGICLINKS | (noSymlinks ? RESOLVE.RESOLVE_NO_SYMLINKS : 0);
      return [openat2Call(ROOT_FD, path, O.O_PATH | O.O_CLOEXEC, resolve, ' /* = 0 */', { what })];
    }
    const parts = path.split('/').filter(Boolean);
    if (parts.length === 0) return [openatCall(ROOT_FD, '.', O.O_PATH | O.O_CLOEXEC, ' /* = 0 */', { what })];
    const calls: Call[] = [fchdirCall(ROOT_FD, { what })];
    parts.forEach((name, i) => {
      const last = i === parts.length - 1;
      calls.push(
        openatCall(AT_FDCWD, name, O.O_PATH | O.O_CLOEXEC | O_NOFOLLOW | (last ? 0 : O.O_DIRECTORY), ' /* = 0 */', {
          what,
        }),
      );
      if (!last) calls.push(fchdirCall(0, { what }), closeCall(0));
    });
    return calls;
  }

  /** Calls made on `path` opened as fd 0 (`fn` gets "/proc/self/fd/0" and 0), then closed. */
  at(path: string, what: string, fn: (target: string, fd: number) => Call[], noSymlinks = false): Call[] {
    return [...this.open(path, what, noSymlinks), ...fn(FD0, 0), closeCall(0)];
  }

  /** Calls made in the directory `dir` (resolved): the rootfs's own fd for "/". */
  inDir(dir: string, what: string, fn: (fd: number) => Call[]): Call[] {
    if (dir === '/') return fn(ROOT_FD);
    return this.at(dir, what, (_, fd) => fn(fd));
  }

  /** mkdirat for each missing component of `dir` (optional: it may exist in a filesystem mounted earlier). Returns the resolved path too. */
  mkdirAll(dir: string): { path: string; calls: Call[] } {
    const path = this.resolve(dir);
    const calls: Call[] = [];
    let cur = '/';
    for (const name of path.split('/').filter(Boolean)) {
      const next = posix.join(cur, name);
      if (!this.exists(next))
        calls.push(...this.inDir(cur, `mkdir ${next}`, (fd) => [mkdiratCall(fd, name, 0o755, { optional: true })]));
      cur = next;
    }
    return { path, calls };
  }

  /**
   * An empty file to bind-mount a file onto, in its (in-root) directory.
   * mknodat(2) makes it without leaving a descriptor open: an open file on
   * the root would make the later read-only remount of / fail with EBUSY.
   */
  touch(file: string): { path: string; calls: Call[] } {
    const path = this.resolve(file);
    const calls = this.mkdirAll(posix.dirname(path)).calls;
    const S_IFREG = 0o100000;
    if (!this.exists(path))
      calls.push(
        ...this.inDir(posix.dirname(path), `create ${file}`, (fd) => [
          mknodatCall(fd, posix.basename(path), S_IFREG | 0o644, 0n, 'S_IFREG|0644', '0', { optional: true }),
        ]),
      );
    return { path, calls };
  }
}

/**
 * runc's checkProcMount: nothing is mounted over /proc but a proc
 * filesystem, nor inside it but on the few files lxcfs stands in for.
 * `dest` is the resolved path.
 */
const LXCFS_PROC_FILES = [
  '/proc/cpuinfo',
  '/proc/diskstats',
  '/proc/meminfo',
  '/proc/stat',
  '/proc/swaps',
  '/proc/uptime',
  '/proc/loadavg',
  '/proc/slabinfo',
  '/proc/net/dev',
  '/proc/sys/kernel/ns_last_pid',
];
function checkProcMount(rootfs: string, field: string, dest: string, source: string | undefined): void {
  const host = JSON.stringify(join(rootfs, dest));
  if (dest === '/proc') {
    if (!source || isProcFs(source)) return;
    throw new ConfigError(field, `${host} cannot be mounted because it is not of type proc`);
  }
  if (dest.startsWith('/proc/') && !LXCFS_PROC_FILES.includes(dest))
    throw new ConfigError(field, `${host} cannot be mounted because it is inside /proc`);
}

function isProcFs(path: string): boolean {
  const PROC_SUPER_MAGIC = 0x9fa0;
  try {
    return statfsSync(path).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/**
 * The calls of one entry of config.mounts. Over 60 lines on purpose: one
 * branch per kind of mount (bind, cgroup v2, cgroup v1, the rest) between
 * the checks and the propagation every kind shares, read top to bottom.
 */
function mountCalls(
  config: ContainerConfig,
  m: MountSpec,
  index: number,
  paths: RootPaths,
  opts: InitPlanOptions,
): Call[] {
  const field = `mounts[${index}]`;
  const o = parseMountOptions(m.options, field);
  const calls: Call[] = [];
  const what = `mount ${m.type || m.source} on ${m.destination}`;
  // proc and sysfs only on a real directory: runc looks at the destination
  // itself (not through a symlink), and so do we; at the open, no symlink.
  const special = m.type === 'proc' || m.type === 'sysfs';
  if (special) {
    const st = lstatQuietly(join(config.rootfs, posix.resolve('/', m.destination)));
    if (st && !st.isDirectory())
      throw new ConfigError(
        field,
        `error mounting ${JSON.stringify(m.type)} to rootfs at ${JSON.stringify(m.destination)}: ` +
          `filesystem ${JSON.stringify(m.type)} must be mounted on ordinary directory`,
      );
  }
  const at = (path: string, fn: (target: string, fd: number) => Call[]) => paths.at(path, what, fn, special);
  let dest: string;
  if (isBind(m)) {
    const source = resolve(config.bundle, m.source);
    let st;
    try {
      st = statSync(source);
    } catch {
      throw new ConfigError(`${field}.source`, `bind source ${JSON.stringify(m.source)} does not exist`);
    }
    const made = st.isDirectory() ? paths.mkdirAll(m.destination) : paths.touch(m.destination);
    dest = made.path;
    checkProcMount(config.rootfs, field, dest, source);
    calls.push(...made.calls);
    calls.push(
      ...at(dest, (t) => [
        mountCall(source, t, null, MS.MS_BIND | (o.flags & MS.MS_REC), null, `mount ${m.source} on ${m.destination}`),
      ]),
    );
    // A bind mount takes its other flags only on a remount (of the new mount: opened again).
    const rest = o.flags & ~(MS.MS_BIND | MS.MS_REC | MS.MS_REMOUNT);
    if (rest)
      calls.push(
        ...at(dest, (t) => [
          mountCall(null, t, null, MS.MS_BIND | MS.MS_REMOUNT | rest, null, `remount ${m.destination}`),
        ]),
      );
  } else if (m.type === 'cgroup' && opts.cgroup2) {
    // The mount itself comes later (cgroup2Calls), at the container's path.
    const made = paths.mkdirAll(m.destination);
    dest = made.path;
    calls.push(...made.calls);
  } else if (m.type === 'cgroup') {
    // Like runc on cgroup v1: a tmpfs with one bind mount per hierarchy,
    // the container's own cgroup where it has one.
    const made = paths.mkdirAll(m.destination);
    dest = made.path;
    calls.push(...made.calls);
    const rw = o.flags & ~MS.MS_RDONLY;
    calls.push(...at(dest, (t) => [mountCall('tmpfs', t, 'tmpfs', rw, 'mode=755', `mount tmpfs on ${m.destination}`)]));
    // Inside the tmpfs just mounted (its root opened as the working
    // directory) the names are plain: only this process has seen it, so
    // nothing in it can have been made a symlink.
    calls.push(...paths.open(dest, what), fchdirCall(0, { what }), closeCall(0));
    for (const h of opts.cgroupMounts) {
      calls.push(makeCall('mkdir', [h.name, 0o755], `mkdir(${q(h.name)}, 0755)`, { optional: true }));
      calls.push(mountCall(h.source, h.name, null, MS.MS_BIND | MS.MS_REC, null, `mount cgroup ${h.name}`));
      calls.push(
        mountCall(null, h.name, null, MS.MS_BIND | MS.MS_REMOUNT | rw | MS.MS_RDONLY, null, `remount cgroup ${h.name}`),
      );
    }
    if (o.flags & MS.MS_RDONLY)
      calls.push(
        ...at(dest, (t) => [mountCall(null, t, null, MS.MS_REMOUNT | o.flags, 'mode=755', `remount ${m.destination}`)]),
      );
  } else {
    const made = paths.mkdirAll(m.destination);
    dest = made.path;
    if (!special && m.type !== 'tmpfs' && m.type !== 'mqueue') checkProcMount(config.rootfs, field, dest, m.source);
    calls.push(...made.calls);
    calls.push(
      ...at(dest, (t) => [
        mountCall(m.source || m.type, t, m.type, o.flags, o.data.length ? o.data.join(',') : null, what),
      ]),
    );
  }
  if (o.propagation.length)
    calls.push(
      ...at(dest, (t) =>
        o.propagation.map((p) => mountCall(null, t, null, p, null, `set propagation of ${m.destination}`)),
      ),
    );
  paths.hidden.push(dest);
  return calls;
}

function deviceCalls(config: ContainerConfig, inUserns: boolean, paths: RootPaths): Call[] {
  const calls: Call[] = [];
  const devMounted = config.mounts.some((m) => m.destination === '/dev' && !isBind(m));
  const nodes = [
    ...(devMounted ? DEFAULT_DEVICES.map((d) => ({ ...d, type: 'c' as const, fileMode: 0o666, uid: 0, gid: 0 })) : []),
    ...config.devices.filter((d) => !(devMounted && DEFAULT_DEVICES.some((x) => x.path === d.path))),
  ];
  // The directory the last calls left open as fd 0 (closed by the last call).
  let openDir: string | undefined;
  for (const d of nodes) {
    if (inUserns) {
      // mknod(2) needs CAP_MKNOD in the initial user namespace: bind the host's node instead.
      const made = paths.touch(d.path);
      calls.push(...made.calls);
      calls.push(
        ...paths.at(made.path, `bind device ${d.path}`, (t) => [
          mountCall(d.path, t, null, MS.MS_BIND, null, `bind device ${d.path}`),
        ]),
      );
      openDir = undefined;
      continue;
    }
    const path = paths.resolve(d.path);
    const dir = paths.mkdirAll(posix.dirname(path));
    calls.push(...dir.calls);
    const name = posix.basename(path);
    const kind = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
    const mode = d.fileMode ?? 0o666;
    const showMode = `${d.type === 'b' ? 'S_IFBLK' : d.type === 'p' ? 'S_IFIFO' : 'S_IFCHR'}|0${mode.toString(8)}`;
    const make = (fd: number) => [
      mknodatCall(
        fd,
        name,
        kind | (mode & 0o7777),
        makedev(d.major, d.minor),
        showMode,
        `makedev(${d.major}, ${d.minor})`,
        { what: `create device ${d.path}` },
      ),
      ...(d.uid !== undefined || d.gid !== undefined
        ? [fchownatCall(fd, name, d.uid ?? 0, d.gid ?? 0, { what: `chown device ${d.path}` })]
        : []),
    ];
    // Nodes of one directory (the usual /dev) share one open of it: the
    // calls go in before the close(0) that ends the previous node's.
    if (dir.calls.length === 0 && dir.path === openDir) {
      calls.splice(calls.length - 1, 0, ...make(0));
      continue;
    }
    calls.push(...paths.inDir(dir.path, `create device ${d.path}`, make));
    openDir = dir.path === '/' ? undefined : dir.path;
  }
  if (devMounted) {
    const links: Array<[string, string]> = [
      ['/proc/self/fd', 'fd'],
      ['/proc/self/fd/0', 'stdin'],
      ['/proc/self/fd/1', 'stdout'],
      ['/proc/self/fd/2', 'stderr'],
    ];
    if (existsSync('/proc/kcore')) links.push(['/proc/kcore', 'core']);
    if (config.mounts.some((m) => m.destination === '/dev/pts' && m.type === 'devpts'))
      links.push(['pts/ptmx', 'ptmx']);
    const make = (fd: number) => links.map(([to, name]) => symlinkatCall(to, fd, name, { optional: true }));
    if (openDir === '/dev') calls.splice(calls.length - 1, 0, ...make(0));
    else calls.push(...paths.inDir('/dev', 'make the /dev symlinks', make));
  }
  return calls;
}

/**
 * For maskedPaths that are files: the rootfs's /dev/null (after the
 * devices are made), opened without following a symlink and kept as fd
 * 1002; the parent checks that it is the null device before the child goes
 * on, so a /dev/null the image made a symlink or a plain file cannot stand
 * in for it.
 */
function nullDeviceCalls(paths: RootPaths, check?: (pid: number) => void): Call[] {
  return paths.at(
    '/dev/null',
    'open /dev/null to mask paths with',
    (_, fd) => [dup3Call(fd, NULL_FD, { what: 'keep /dev/null', after: check })],
    true,
  );
}

/** The parent's check of the child's NULL_FD: the null device, or the create is refused. */
function checkNullDevice(pid: number): void {
  const st = statSync(`/proc/${pid}/fd/${NULL_FD}`, { bigint: true });
  const ok = st.isCharacterDevice() && st.rdev === makedev(1, 3);
  traceLine(
    `stat(${q(`/proc/${pid}/fd/${NULL_FD}`)}): ${ok ? 'the null device (1:3): masks may use it' : 'not the null device'}`,
  );
  if (!ok)
    throw new ConfigError(
      'linux.maskedPaths',
      '/dev/null in the rootfs is not the null device (a character device 1:3)',
    );
}

/**
 * In a user namespace the kernel locks the flags the rootfs's mount had on
 * the host (nosuid, nodev, noexec, the atime ones: mount_namespaces(7)), and
 * a remount that would clear one fails with EPERM: a rootfs under a tmpfs
 * /tmp mounted nosuid,nodev (Debian 13) could not be made read-only. They
 * are kept in the remount, as runc keeps the statfs flags on its retry.
 */
function lockedFlags(config: ContainerConfig): number {
  if (!config.namespaces.some((n) => n.type === 'user')) return 0;
  let real: string;
  try {
    real = realpathSync(config.rootfs);
  } catch {
    return 0; // the create fails later, naming the rootfs
  }
  const point = mountPointOf(real);
  const top = readMountInfo('self')
    .filter((m) => m.mountPoint === point)
    .pop();
  const byOption: Record<string, number> = {
    nosuid: MS.MS_NOSUID,
    nodev: MS.MS_NODEV,
    noexec: MS.MS_NOEXEC,
    noatime: MS.MS_NOATIME,
    nodiratime: MS.MS_NODIRATIME,
    relatime: MS.MS_RELATIME,
  };
  return (top?.mountOptions ?? []).reduce((flags, o) => flags | (byOption[o] ?? 0), 0);
}

/** The mount point that holds `path` (longest prefix in this mount namespace). */
function mountPointOf(path: string): string {
  let best = '/';
  for (const m of readMountInfo('self')) {
    const mp = m.mountPoint;
    if ((path === mp || path.startsWith(mp.endsWith('/') ? mp : mp + '/')) && mp.length > best.length) best = mp;
  }
  return best;
}

/** Does the config mount a filesystem of this type at this path? */
function mountsAt(config: ContainerConfig, type: string, path: string): boolean {
  return config.mounts.some((m) => m.type === type && posix.resolve('/', m.destination) === path);
}

/**
 * Does a container path exist, and what is it? /proc and /sys paths as the
 * host's show them when the config mounts proc and sysfs there; others in
 * the rootfs, through its symlinks (as the lookup after the root change goes).
 */
function kindOf(config: ContainerConfig, path: string): 'dir' | 'file' | undefined {
  const fs = /^\/(proc|sys)(\/|$)/.exec(path)?.[1];
  const st =
    fs && mountsAt(config, fs === 'proc' ? 'proc' : 'sysfs', '/' + fs)
      ? lstatQuietly(path)
      : resolveInRoot(config.rootfs, path).st;
  return st && (st.isDirectory() ? 'dir' : 'file');
}

/** The masked paths that are files: masked with the checked /dev/null (NULL_FD). */
function maskedFiles(config: ContainerConfig): string[] {
  return config.maskedPaths.filter((p) => kindOf(config, p) === 'file');
}

/**
 * Into the rootfs. The chdir and the change of root are gates (a plan that
 * runs ahead stops there until the parent has seen them succeed): after
 * them, paths such as /proc/sys must name the container's files.
 */
function rootCalls(config: ContainerConfig, opts: InitPlanOptions, after?: (pid: number) => void): Call[] {
  const calls: Call[] = [];
  calls.push({ ...chdirCall(config.rootfs), gate: true, after });
  if (opts.noPivot) {
    // runc --no-pivot: move the rootfs onto / and chroot into it.
    calls.push(mountCall(config.rootfs, '/', null, MS.MS_MOVE, null, 'move the rootfs onto /'));
    calls.push({ ...chrootCall('.', `cannot change root directory to ${config.rootfs}`), gate: true });
  } else {
    // pivot_root(".", "."): the old root is stacked on the new one, then
    // made a slave (its unmount must not reach the host) and detached.
    calls.push({ ...pivotRootCall('.', '.'), gate: true });
    calls.push(mountCall(null, '.', null, MS.MS_SLAVE | MS.MS_REC, null, 'make the old root a slave'));
    calls.push(umountCall('.', MNT.MNT_DETACH, 'cannot unmount the old root'));
  }
  calls.push(chdirCall('/'));
  return calls;
}

/**
 * Read-only and masked paths, after the root change: a path is looked up
 * with the container's root as /, so its symlinks stay inside. Files are
 * masked with the /dev/null opened and checked before (NULL_FD), reached
 * through the container's /proc; without a proc mount on /proc they were
 * masked before the root change (preMaskCalls).
 */
function pathCalls(config: ContainerConfig): Call[] {
  const calls: Call[] = [];
  for (const p of config.readonlyPaths) {
    if (!kindOf(config, p)) continue; // runc skips paths that do not exist
    calls.push(mountCall(p, p, null, MS.MS_BIND | MS.MS_REC, null, `bind ${p}`));
    calls.push(
      mountCall(
        null,
        p,
        null,
        MS.MS_BIND | MS.MS_REMOUNT | MS.MS_RDONLY | MS.MS_REC | MS.MS_NOSUID | MS.MS_NODEV | MS.MS_NOEXEC,
        null,
        `make ${p} read-only`,
      ),
    );
  }
  const procMounted = mountsAt(config, 'proc', '/proc');
  const maskedDirs: string[] = [];
  for (const p of config.maskedPaths) {
    const kind = kindOf(config, p);
    if (!kind || (kind === 'file' && !procMounted)) continue;
    // Below a directory masked already the path is gone (an empty tmpfs): runc skips it, so may we.
    const hidden = maskedDirs.some((d) => p.startsWith(d + '/'));
    const call =
      kind === 'dir'
        ? mountCall('tmpfs', p, 'tmpfs', MS.MS_RDONLY, null, `mask ${p}`)
        : mountCall(`/proc/self/fd/${NULL_FD}`, p, null, MS.MS_BIND, null, `mask ${p}`);
    calls.push(hidden ? { ...call, optional: true } : call);
    if (kind === 'dir') maskedDirs.push(p);
  }
  if (maskedFiles(config).length) calls.push(closeCall(NULL_FD));
  if (config.readonlyRoot)
    calls.push(
      mountCall(
        null,
        '/',
        null,
        MS.MS_BIND | MS.MS_REMOUNT | MS.MS_RDONLY | lockedFlags(config),
        null,
        'make the root read-only',
      ),
    );
  return calls;
}

/** Masked files of a config without proc on /proc: before the root change, in the rootfs. */
function preMaskCalls(config: ContainerConfig, paths: RootPaths): Call[] {
  if (mountsAt(config, 'proc', '/proc')) return [];
  return maskedFiles(config).flatMap((p) =>
    paths.at(paths.resolve(p), `mask ${p}`, (t) => [
      mountCall(`/proc/self/fd/${NULL_FD}`, t, null, MS.MS_BIND, null, `mask ${p}`),
    ]),
  );
}

const CAP_VERSION_3 = 0x20080522;

function capMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const n of names) mask |= 1n << BigInt(CAPABILITY_NAMES.indexOf(n));
  return mask;
}

/** The calls that make the process's identity: bounding set, ids, cwd, capabilities, no_new_privs. */
export function identityCalls(proc: ProcessSpec, opts: { setgroups: boolean; cwd: boolean }): Call[] {
  const calls: Call[] = [];
  const caps = proc.capabilities;
  const last = lastCapability();
  if (caps) {
    const keep = capMask(caps.bounding);
    for (let cap = 0; cap <= last; cap++)
      if (!(keep & (1n << BigInt(cap))))
        calls.push(
          makeCall(
            'prctl',
            [PR_CAPBSET_DROP, cap, 0, 0, 0],
            `prctl(PR_CAPBSET_DROP, ${CAPABILITY_NAMES[cap] ?? cap})`,
            { what: `drop ${CAPABILITY_NAMES[cap] ?? cap} from the bounding set` },
          ),
        );
  }
  // Keep the permitted set across setuid(non-zero); capset below decides.
  calls.push(makeCall('prctl', [PR_SET_KEEPCAPS, 1, 0, 0, 0], 'prctl(PR_SET_KEEPCAPS, 1)'));
  if (opts.setgroups) calls.push(setgroupsListCall(proc.user.additionalGids, 'setgroups failed'));
  calls.push(setgidCall(proc.user.gid));
  calls.push(setuidCall(proc.user.uid));
  calls.push(makeCall('prctl', [PR_SET_KEEPCAPS, 0, 0, 0, 0], 'prctl(PR_SET_KEEPCAPS, 0)'));
  if (opts.cwd) calls.push(...cwdCalls(proc.cwd));
  if (caps) {
    const header = Buffer.alloc(8);
    header.writeUInt32LE(CAP_VERSION_3, 0);
    const data = Buffer.alloc(24);
    const sets = [capMask(caps.effective), capMask(caps.permitted), capMask(caps.inheritable)];
    sets.forEach((m, i) => {
      data.writeUInt32LE(Number(m & 0xffffffffn), 4 * i);
      data.writeUInt32LE(Number(m >> 32n), 12 + 4 * i);
    });
    const show = (names: string[]) => (names.length ? names.join('|') : '0');
    calls.push(
      makeCall(
        'capset',
        [header, data],
        `capset({_LINUX_CAPABILITY_VERSION_3, 0}, ` +
          `{effective=${show(caps.effective)}, permitted=${show(caps.permitted)}, inheritable=${show(caps.inheritable)}})`,
        { what: 'capset failed' },
      ),
    );
    // The kernel refuses an ambient capability missing from permitted or
    // inheritable; runc goes on without it, and so do we.
    for (const n of caps.ambient)
      calls.push(
        makeCall(
          'prctl',
          [PR.PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAPABILITY_NAMES.indexOf(n), 0, 0],
          `prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, ${n})`,
          { optional: true },
        ),
      );
  }
  if (proc.noNewPrivileges)
    calls.push(
      makeCall('prctl', [PR.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0], 'prctl(PR_SET_NO_NEW_PRIVS, 1)', {
        what: 'set no_new_privs',
      }),
    );
  return calls;
}

/** Where cwdOpenCalls leaves process.cwd open for cwdCalls (fds 1000-1002 are RootPaths'). */
const CWD_FD = 1003;

/**
 * Open process.cwd, before any seccomp filter is loaded: a profile may
 * refuse openat2 (runtime-tools' default one does, with EPERM), and the
 * filter comes before the identity calls when no_new_privs is off. The path
 * is absolute, so the lookup starts at the process's root (the container's,
 * after the root change) and ".." stops there; RESOLVE_NO_MAGICLINKS also
 * refuses a way out through /proc/PID/root or /proc/PID/cwd. The directory
 * opens as fd 0 (stdin parked at 1000 meanwhile) and waits at CWD_FD.
 */
export function cwdOpenCalls(cwd: string): Call[] {
  if (!haveOpenat2()) return [];
  const what = `chdir to cwd (${JSON.stringify(cwd)}) set in config.json failed`;
  return [
    ...parkStdin(),
    openat2Call(
      AT_FDCWD,
      posix.resolve('/', cwd),
      O.O_PATH | O.O_DIRECTORY | O.O_CLOEXEC,
      RESOLVE.RESOLVE_NO_MAGICLINKS,
      ' /* = 0 */',
      { what },
    ),
    dup3Call(0, CWD_FD, { what: 'keep the cwd open' }),
    closeCall(0),
    ...unparkStdin(),
  ];
}

/**
 * Into process.cwd, as the process's user: the fd cwdOpenCalls opened (a
 * plain chdir without openat2). Every plan that makes identityCalls with
 * `cwd` runs cwdOpenCalls first.
 */
function cwdCalls(cwd: string): Call[] {
  const what = `chdir to cwd (${JSON.stringify(cwd)}) set in config.json failed`;
  if (!haveOpenat2()) return [chdirCall(cwd, what)];
  return [fchdirCall(CWD_FD, { what }), closeCall(CWD_FD)];
}

const PR_SET_KEEPCAPS = 8;
const PR_CAPBSET_DROP = 24;

/**
 * Confine the program by process.apparmorProfile from its execve on, as
 * runc does: "exec PROFILE" written to the process's own
 * /proc/self/attr/apparmor/exec (Linux 5.8+; /proc/self/attr/exec before),
 * the container's /proc. Where AppArmor is not enabled the write fails and
 * so does the create, naming the profile (procWriteCalls).
 */
export function apparmorCalls(proc: ProcessSpec): Call[] {
  const profile = proc.apparmorProfile;
  if (!profile) return [];
  const path = existsSync('/proc/self/attr/apparmor') ? '/proc/self/attr/apparmor/exec' : '/proc/self/attr/exec';
  return procWriteCalls(path, `exec ${profile}`, `apply apparmor profile ${JSON.stringify(profile)}`);
}

export function rlimitCalls(proc: ProcessSpec): Call[] {
  return proc.rlimits.map((r) => {
    const buf = Buffer.alloc(16);
    buf.writeBigUInt64LE(BigInt(r.soft), 0);
    buf.writeBigUInt64LE(BigInt(r.hard), 8);
    return makeCall(
      'setrlimit',
      [RLIMITS[r.type], buf],
      `setrlimit(${r.type}, {rlim_cur=${r.soft}, rlim_max=${r.hard}})`,
      { what: `setrlimit ${r.type}` },
    );
  });
}

const CLOSE_RANGE_CLOEXEC = 4;

/**
 * Nothing but fds 0..from-1 (stdio, then --preserve-fds and LISTEN_FDS)
 * reaches the program: every fd from `from` on becomes close-on-exec. The
 * runtime's own fds are gone already (ChildDefences in plan.ts); this
 * covers what the plan itself opened since.
 */
export function closeFromCall(from = 3): Call {
  return makeCall(
    'close_range',
    [from, 0xffffffff, CLOSE_RANGE_CLOEXEC],
    `close_range(${from}, ~0U, CLOSE_RANGE_CLOEXEC)`,
    { optional: true },
  );
}

export function execveCall(program: string, proc: ProcessSpec): Call {
  return makeCall(
    'execve',
    [program, proc.args, proc.env],
    `execve(${q(program)}, ${qArray(proc.args)}, [${proc.env.length} vars])`,
    { exec: { file: proc.args[0] } },
  );
}

/**
 * Find the program the way runc does before it starts anything: a name
 * with a slash as it is, a bare name in the PATH of the process's env, both
 * looked up inside the rootfs.
 */
export function resolveProgram(rootfs: string, proc: ProcessSpec): string {
  const name = proc.args[0];
  const candidates: string[] = [];
  if (name.includes('/')) candidates.push(posix.resolve(proc.cwd, name));
  else {
    const pathVar =
      proc.env.find((e) => e.startsWith('PATH='))?.slice(5) ??
      '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
    for (const dir of pathVar.split(':')) if (dir) candidates.push(posix.join(posix.resolve('/', dir), name));
  }
  // The candidates share directories (/usr four times): each is looked up once.
  const seen = new Map<string, Stats | undefined>();
  for (const c of candidates) {
    const st = resolveInRoot(rootfs, c, seen).st;
    if (st?.isFile() && st.mode & 0o111) return c;
  }
  // A slash name is left to execve (its error names the file), as runc does.
  if (name.includes('/')) return candidates[0];
  throw new ProgramError(
    name,
    `unable to start container process: exec: ${JSON.stringify(name)}: executable file not found in $PATH`,
  );
}

/**
 * lstat, undefined when the path cannot be reached. Misses are the rule on
 * the way down $PATH, and ENOENT comes back without an exception (one costs
 * more than the whole search); other errors are rare.
 */
function lstatQuietly(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/**
 * A container path as the host sees it, following symlinks inside the
 * rootfs (absolute ones too), with what the walk learnt: the file's own
 * status (no symlink left to follow), or none when a component is missing.
 * `seen` keeps lstat results across walks.
 */
export function resolveInRoot(
  rootfs: string,
  path: string,
  seen = new Map<string, Stats | undefined>(),
): { host: string; st?: Stats } {
  const parts = path.split('/').filter(Boolean);
  let cur = '/';
  let st: Stats | undefined;
  for (let i = 0, hops = 0; i < parts.length; i++) {
    const next = posix.join(cur, parts[i]);
    const host = join(rootfs, next);
    if (!seen.has(host)) seen.set(host, lstatQuietly(host));
    st = seen.get(host);
    if (!st) return { host: join(host, ...parts.slice(i + 1)) };
    if (st.isSymbolicLink() && hops++ < 40) {
      const { readlinkSync } = process.getBuiltinModule('node:fs') as typeof import('node:fs');
      const to = readlinkSync(join(rootfs, next));
      const rest = parts.slice(i + 1);
      const base = to.startsWith('/') ? '/' : cur;
      parts.splice(0, parts.length, ...posix.join(base, to).split('/').filter(Boolean), ...rest);
      cur = '/';
      i = -1;
      continue;
    }
    cur = next;
  }
  return { host: join(rootfs, cur), st: st?.isSymbolicLink() ? undefined : st };
}

/**
 * Write each sysctl under /proc/sys from inside the container's namespaces
 * (procWriteCalls).
 */
export function sysctlCalls(entries: ReadonlyArray<[string, string]>): Call[] {
  return entries.flatMap(([key, value]) =>
    procWriteCalls('/proc/sys/' + key.replace(/\./g, '/'), value, `sysctl ${key}=${value}`, `sysctl ${key}`),
  );
}

/**
 * Write `text` to a /proc file from inside the container. A plan call
 * cannot use a returned fd, so the file is opened where the number is
 * known: fd 0 is parked at fd 1000, the file opens as 0, and stdin comes
 * back. `what` names the write, `opening` the open (errors say which).
 */
function procWriteCalls(path: string, text: string, what: string, opening = what): Call[] {
  const size = Buffer.byteLength(text);
  return [
    makeCall('dup2', [0, 1000], 'dup2(0, 1000)', { optional: true }),
    makeCall('close', [0], 'close(0)', { optional: true }),
    makeCall('open', [path, O.O_WRONLY | O.O_CLOEXEC], `open(${q(path)}, O_WRONLY|O_CLOEXEC) /* = 0 */`, {
      what: `${opening}: open ${path}`,
    }),
    makeCall('write', [0, text, size], `write(0, ${q(text)}, ${size})`, { what }),
    makeCall('dup2', [1000, 0], 'dup2(1000, 0)', { optional: true }),
    makeCall('close', [1000], 'close(1000)', { optional: true }),
  ];
}

/**
 * While it waits at the barrier the init is still a copy of ts-runc: name it
 * "ts-runc:init" (what ps -o comm shows), as runc's waiting process is
 * "runc init".
 */
export function initNameCalls(): Call[] {
  return [
    makeCall('prctl', [PR.PR_SET_NAME, 'ts-runc:init', 0, 0, 0], 'prctl(PR_SET_NAME, "ts-runc:init")', {
      optional: true,
    }),
  ];
}

/**
 * The config's `cgroup` mounts on a pure v2 host: cgroup2 filesystems,
 * mounted after the root change (so at the container's paths) and after
 * the process joined its cgroups and cgroup namespace (so they show those
 * as the top, as runc's do).
 */
function cgroup2Calls(config: ContainerConfig): Call[] {
  return config.mounts
    .map((m, i) => ({ m, i }))
    .filter(({ m }) => m.type === 'cgroup')
    .map(({ m, i }) => {
      const o = parseMountOptions(m.options, `mounts[${i}]`);
      return mountCall(
        'cgroup',
        m.destination,
        'cgroup2',
        o.flags,
        o.data.length ? o.data.join(',') : null,
        `mount cgroup2 on ${m.destination}`,
      );
    });
}

/**
 * A new mount namespace: the propagation of /, the rootfs bound and opened
 * (fd 1001), every mount, device and mask made in it, then the root change.
 */
function newRootCalls(config: ContainerConfig, opts: InitPlanOptions): Call[] {
  const calls: Call[] = [];
  const inUserns = config.namespaces.some((n) => n.type === 'user');
  const prop = config.rootfsPropagation ? PROPAGATIONS[config.rootfsPropagation] : MS.MS_SLAVE | MS.MS_REC;
  // A gate (PlanOptions.runAhead): if this failed, the mounts below could reach the host.
  calls.push({ ...mountCall(null, '/', null, prop | MS.MS_REC, null, 'set the propagation of /'), gate: true });
  // pivot_root(2) refuses a new root whose parent mount is shared.
  const parent = mountPointOf(dirname(config.rootfs));
  calls.push({ ...mountCall(null, parent, null, MS.MS_PRIVATE, null, `make ${parent} private`), optional: true });
  calls.push(
    mountCall(config.rootfs, config.rootfs, null, MS.MS_BIND | MS.MS_REC, null, `bind the rootfs ${config.rootfs}`),
  );
  // From here every path is opened in the rootfs (RootPaths): the rootfs
  // itself, once bound, is fd 1001.
  const paths = new RootPaths(config.rootfs, []);
  calls.push(...parkStdin());
  calls.push(
    makeCall(
      'open',
      [config.rootfs, O.O_PATH | O.O_DIRECTORY | O.O_CLOEXEC],
      `open(${q(config.rootfs)}, O_PATH|O_DIRECTORY|O_CLOEXEC) /* = 0 */`,
      { what: `open the rootfs ${config.rootfs}` },
    ),
  );
  calls.push(dup3Call(0, ROOT_FD, { what: 'keep the rootfs open' }), closeCall(0));
  config.mounts.forEach((m, i) => calls.push(...mountCalls(config, m, i, paths, opts)));
  calls.push(...deviceCalls(config, inUserns, paths));
  // runc makes a missing cwd (as root, before the identity calls).
  calls.push(...paths.mkdirAll(config.process.cwd).calls);
  // The check of /dev/null waits for the parent: at the chdir gate, where the child waits anyway, unless masks come first.
  const masks = maskedFiles(config).length > 0;
  const preMasks = masks ? preMaskCalls(config, paths) : [];
  if (masks) calls.push(...nullDeviceCalls(paths, preMasks.length ? checkNullDevice : undefined), ...preMasks);
  calls.push(closeCall(ROOT_FD), ...unparkStdin());
  calls.push(...rootCalls(config, opts, masks && !preMasks.length ? checkNullDevice : undefined));
  return calls;
}

/** Every call of the container's init, in order. */
export function initCalls(config: ContainerConfig, opts: InitPlanOptions): Call[] {
  const calls: Call[] = [...opts.first];
  const inUserns = config.namespaces.some((n) => n.type === 'user');
  // Join namespaces by path, in JOIN_ORDER.
  for (const kind of JOIN_ORDER)
    for (const j of opts.joinFds.filter((x) => x.flag === namespaceFlag(kind)))
      calls.push(joinNamespaceCall(j.fd, j.path, kind, `join namespace ${j.path}`));
  if (opts.unshareFlags) {
    calls.push({ ...unshareCall(opts.unshareFlags), what: 'unshare the new namespaces', after: opts.afterUnshare });
  }
  if (opts.forkAfter)
    calls.push({
      fn: 'clone',
      args: [],
      keep: [],
      show: 'clone(CLONE_PARENT|CLONE_PARENT_SETTID|SIGCHLD)',
      what: 'cannot fork',
      forks: true,
    });
  // In a user namespace the process keeps its host ids, unmapped there
  // until it takes the namespace's root ids (files it makes need mapped ids).
  if (inUserns) calls.push(setgidCall(0), setuidCall(0));

  // sysctls are per namespace: written by the init, inside them, below.
  const sysctls = Object.entries(config.sysctl);

  const mountNs = config.namespaces.find((n) => n.type === 'mount');
  calls.push(makeCall('umask', [0], 'umask(0)'));
  if (mountNs && !mountNs.path)
    calls.push(...newRootCalls(config, opts), ...sysctlCalls(sysctls), ...pathCalls(config));
  else calls.push(...sysctlCalls(sysctls));
  // Into the cgroups, and then (if asked) a cgroup namespace rooted there;
  // both while the process still has its capabilities.
  if (opts.joinCgroups)
    calls.push(
      makeCall('getpid', [], 'getpid() /* the parent moves it into its cgroups */', { after: opts.joinCgroups }),
    );
  if (opts.unshareCgroupns)
    calls.push({ ...unshareCall(CLONE.CLONE_NEWCGROUP), what: 'unshare the cgroup namespace', gate: true });
  if (opts.cgroup2 && mountNs && !mountNs.path) calls.push(...cgroup2Calls(config));
  if (config.hostname)
    calls.push(
      makeCall(
        'sethostname',
        [config.hostname, Buffer.byteLength(config.hostname)],
        `sethostname(${q(config.hostname)})`,
        { what: 'sethostname' },
      ),
    );
  calls.push(...opts.console);
  // Before the rlimits: an RLIMIT_NOFILE below 1003 would refuse the fd.
  calls.push(...cwdOpenCalls(config.process.cwd));
  calls.push(...apparmorCalls(config.process));
  calls.push(...rlimitCalls(config.process));
  calls.push(...seccompAt(config.process, opts.seccomp, 'before-identity'));
  // In a new user namespace setgroups(2) is allowed only when the parent wrote "allow" before gid_map.
  calls.push(...identityCalls(config.process, { setgroups: true, cwd: true }));
  calls.push(
    makeCall(
      'umask',
      [config.process.user.umask ?? 0o022],
      `umask(0${(config.process.user.umask ?? 0o022).toString(8)})`,
    ),
  );
  calls.push(closeFromCall(3 + (opts.preserveFds ?? 0)));
  calls.push(...seccompAt(config.process, opts.seccomp, 'before-exec'));
  calls.push(execveCall(opts.program, config.process));
  return calls;
}
