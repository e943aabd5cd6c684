// The CRI playground: a CRI server of its own (CRI-O with conmon and pinns,
// or containerd with its CRI plugin), CNI's bridge and ts-runc (or runc) as
// the runtime, for the pod labs. The server runs in a network namespace and
// a mount namespace of its own, with a fresh tmpfs on /run: the bridge, the
// pods' veths and addresses, the monitors' sockets, the pinned namespaces and
// the pods' shm mounts never reach the host. Only the playground's directory
// (config, socket, logs, image store, the runtime's state) is shared, so
// crictl, ctr and ts-runc on the host can reach it.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { readMountInfo } from '../syscalls/mountinfo.js';
import { which } from '../core/which.js';
import { buildRecipe } from '../image/recipes.js';
import { writeArchive } from '../image/build.js';
import { CriError } from './errors.js';
import {
  CriServer,
  PlaygroundPaths,
  cniBridgeConfig,
  containerdConfig,
  crictlConfig,
  crioConfig,
  playgroundPaths,
  signaturePolicy,
} from './config.js';

export const DEFAULT_DIR = '/var/lib/nslab-cri';
export const CRI_NAMESPACE = 'k8s.io';
export const CNI_BIN_DIR = '/usr/lib/cni';
const CNI_PLUGINS = ['bridge', 'host-local', 'loopback'];
export const PAUSE_IMAGE = 'docker.io/nslab/pause:latest';

/** A program the playground needs, and the Debian package it comes in. */
interface Need {
  path: string;
  package: string;
}

/** CRI-O's programs: crio and pinns (not packaged by Debian 12: scripts/setup-vm.sh, docs/cri.md), conmon and skopeo (Debian). */
function crioNeeds(): Need[] {
  return [
    { path: which('crio') ?? 'crio', package: 'cri-o (docs/cri.md, "Getting CRI-O")' },
    { path: which('pinns') ?? 'pinns', package: 'cri-o (docs/cri.md, "Getting CRI-O")' },
    { path: which('conmon') ?? 'conmon', package: 'conmon' },
    { path: which('skopeo') ?? 'skopeo', package: 'skopeo' },
  ];
}

/** What CRI-O needs and is not installed: the program's name, and where it comes from. */
export function crioMissing(): Need[] {
  return crioNeeds().filter((n) => !n.path.startsWith('/') || !existsSync(n.path));
}

/** Whether CRI-O and what it needs are installed: then it is ts-cri up's default, as in the series. */
export function crioInstalled(): boolean {
  return crioMissing().length === 0;
}

/**
 * The server ts-cri up starts when none is named: containerd. CRI-O (the
 * series' choice) is asked for with --server crio or NSLAB_CRI_SERVER=crio;
 * it becomes the default where installed once the pod labs pass under it
 * on main (issue 21).
 */
export function defaultServer(): CriServer {
  return 'containerd';
}

export function missingPrograms(runtimeBinary: string, server: CriServer = 'containerd'): Need[] {
  const needs: Need[] = [
    ...(server === 'crio'
      ? crioNeeds()
      : [
          { path: which('containerd') ?? 'containerd', package: 'containerd' },
          { path: which('containerd-shim-runc-v2') ?? 'containerd-shim-runc-v2', package: 'containerd' },
          { path: which('ctr') ?? 'ctr', package: 'containerd' },
        ]),
    ...CNI_PLUGINS.map((p) => ({ path: join(CNI_BIN_DIR, p), package: 'containernetworking-plugins' })),
    { path: '/usr/bin/catatonit', package: 'catatonit' },
    { path: '/bin/busybox', package: 'busybox-static' },
    { path: which('unshare') ?? 'unshare', package: 'util-linux' },
    {
      path: runtimeBinary,
      package: runtimeBinary.endsWith('/runc') || runtimeBinary === 'runc' ? 'runc' : 'nslab (npm run build)',
    },
  ];
  return needs.filter((n) => !n.path.startsWith('/') || !existsSync(n.path));
}

function alive(pid: number): boolean {
  try {
    // Not a zombie: state field of /proc/PID/stat.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/s.test(stat);
  } catch {
    return false;
  }
}

function readPid(paths: PlaygroundPaths): number | undefined {
  try {
    const pid = Number(readFileSync(paths.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The server a playground directory was started with (its server file; containerd for older ones). */
export function serverOf(dir: string): CriServer {
  try {
    return readFileSync(join(dir, 'server'), 'utf8').trim() === 'crio' ? 'crio' : 'containerd';
  } catch {
    return 'containerd';
  }
}

/** The paths of the playground in dir, for the server it runs (or ran). */
export function pathsOf(dir: string): PlaygroundPaths {
  return playgroundPaths(dir, serverOf(dir));
}

/** The CRI server of this playground, if one runs (its PID file names a live containerd or crio). */
export function runningServer(paths: PlaygroundPaths): number | undefined {
  const pid = readPid(paths);
  if (pid === undefined || !alive(pid)) return undefined;
  try {
    return readlinkSync(`/proc/${pid}/exe`).endsWith(`/${paths.server}`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Lowering oom_score_adj needs CAP_SYS_RESOURCE; some machines refuse it even
 * to root. Where they do, the CRI plugin must not ask the runtime for it
 * (the pause container's init would fail). Tried in a throwaway child.
 */
export function kernelRefusesLowerOomScore(): boolean {
  const r = spawnSync('sh', ['-c', 'echo -999 > /proc/self/oom_score_adj'], { stdio: 'ignore' });
  return r.status !== 0;
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function tail(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export interface UpOptions {
  dir: string;
  runtimeBinary: string;
  /** containerd (default) or crio. */
  server?: CriServer;
  /** Messages for the student as each stage finishes. */
  progress?: (line: string) => void;
}

export interface UpResult {
  paths: PlaygroundPaths;
  pid: number;
  images: string[];
  /** What the playground changed because this kernel refuses to lower oom_score_adj (undefined: nothing). */
  oomScoreAdj?: string;
}

/** Start the playground: all of it, or nothing (a failed start is taken down again). */
export function up(opts: UpOptions): UpResult {
  const server = opts.server ?? 'containerd';
  const paths = playgroundPaths(opts.dir, server);
  const say = opts.progress ?? (() => undefined);
  const missing = missingPrograms(opts.runtimeBinary, server);
  if (missing.length)
    throw new CriError('missing-program', `${missing.map((m) => m.path).join(', ')} not found`, {
      packages: [...new Set(missing.map((m) => m.package))],
    });
  const earlier = pathsOf(opts.dir);
  const running = runningServer(earlier);
  if (running)
    throw new CriError('already-running', `a playground already runs in ${paths.dir} (${earlier.server} ${running})`, {
      pid: running,
      dir: paths.dir,
    });
  if (existsSync(earlier.socket))
    throw new CriError('socket-busy', `${earlier.socket} exists but no ${earlier.server} of this playground runs`, {
      dir: paths.dir,
    });
  const madeDir = !existsSync(paths.dir);
  try {
    for (const d of [paths.dir, paths.root, paths.state, paths.runtimeRoot, paths.cniConfDir, paths.images])
      mkdirSync(d, { recursive: true, mode: 0o711 });
    writeFileSync(paths.serverFile, `${server}\n`);
    const refusesOom = kernelRefusesLowerOomScore();
    if (server === 'crio') return upCrio(opts, paths, refusesOom, say);
    writeFileSync(
      paths.config,
      containerdConfig({
        paths,
        runtimeBinary: opts.runtimeBinary,
        sandboxImage: PAUSE_IMAGE,
        cniBinDir: CNI_BIN_DIR,
        restrictOomScoreAdj: refusesOom,
      }),
    );
    writeFileSync(join(paths.cniConfDir, '10-nslab-bridge.conf'), cniBridgeConfig());
    writeFileSync(paths.crictlConfig, crictlConfig(paths));

    const archives = buildImages(paths, say);
    const pid = startServer(paths, ['containerd', '-c', paths.config]);
    say(`containerd ${pid} listening on ${paths.socket}`);
    const images: string[] = [];
    for (const { archive } of archives) {
      const r = spawnSync(
        'ctr',
        ['-a', paths.socket, '-n', CRI_NAMESPACE, 'images', 'import', '--no-unpack', archive],
        { encoding: 'utf8' },
      );
      if (r.status !== 0)
        throw new CriError('import-failed', `ctr images import ${archive} failed: ${(r.stderr || r.stdout).trim()}`, {
          dir: paths.dir,
        });
      images.push(...(r.stdout.match(/docker\.io\/\S+/g) ?? []));
    }
    say(`images imported into containerd's ${CRI_NAMESPACE} namespace`);
    return { paths, pid, images, oomScoreAdj: refusesOom ? 'restrict_oom_score_adj = true' : undefined };
  } catch (err) {
    try {
      down({ dir: opts.dir, removeDir: madeDir });
    } catch {
      // the first error is the one to report
    }
    throw err;
  }
}

/** The pause and web images, built here by ts-image as OCI archives: nothing is pulled. */
function buildImages(paths: PlaygroundPaths, say: (line: string) => void): Array<{ archive: string; name: string }> {
  const archives: Array<{ archive: string; name: string }> = [];
  for (const recipe of ['pause', 'web']) {
    // One layout per image: an archive holding one image needs no name to pick it by.
    const layout = join(paths.images, `${recipe}-layout`);
    const built = buildRecipe(recipe, layout);
    const archive = join(paths.images, `${recipe}.tar`);
    writeArchive(layout, archive);
    archives.push({ archive, name: built.fullName });
    say(`image ${built.fullName} built`);
  }
  return archives;
}

/**
 * CRI-O: its config, the signature policy and the images in its
 * containers-storage (skopeo, before CRI-O starts, so the two never share
 * the storage's locks), then crio itself in namespaces of its own.
 */
function upCrio(opts: UpOptions, paths: PlaygroundPaths, refusesOom: boolean, say: (line: string) => void): UpResult {
  const policy = join(paths.dir, 'policy.json');
  writeFileSync(policy, signaturePolicy());
  mkdirSync(join(paths.dir, 'crio', 'conf.d'), { recursive: true });
  const storageDriver = 'vfs';
  const runtimeName = opts.runtimeBinary.endsWith('/runc') ? 'runc' : 'ts-runc';
  writeFileSync(
    paths.config,
    crioConfig({
      paths,
      runtimeBinary: opts.runtimeBinary,
      runtimeName,
      conmon: which('conmon')!,
      pinns: which('pinns')!,
      sandboxImage: PAUSE_IMAGE,
      cniBinDir: CNI_BIN_DIR,
      storageDriver,
      signaturePolicy: policy,
    }),
  );
  writeFileSync(join(paths.cniConfDir, '10-nslab-bridge.conf'), cniBridgeConfig());
  writeFileSync(paths.crictlConfig, crictlConfig(paths));
  const archives = buildImages(paths, say);
  const images: string[] = [];
  const store = `containers-storage:[${storageDriver}@${join(paths.root, 'storage')}+${join(paths.state, 'storage')}]`;
  for (const { archive, name } of archives) {
    const r = spawnSync(
      'skopeo',
      ['--policy', policy, 'copy', '--quiet', `oci-archive:${archive}`, `${store}${name}`],
      { encoding: 'utf8', timeout: 120_000 },
    );
    if (r.status !== 0)
      throw new CriError('import-failed', `skopeo copy ${archive} failed: ${(r.stderr || r.stdout).trim()}`, {
        dir: paths.dir,
      });
    images.push(name);
  }
  say(`images copied into CRI-O's containers-storage (${storageDriver}, ${join(paths.root, 'storage')})`);
  // CRI-O asks for oom_score_adj -998 for each pod's infra container;
  // where the kernel refuses to lower it, _CRIO_ROOTLESS=1 makes it ask for nothing.
  const env = refusesOom ? ['env', '_CRIO_ROOTLESS=1'] : [];
  if (refusesOom)
    say(
      'this kernel refuses to lower oom_score_adj (no CAP_SYS_RESOURCE): CRI-O runs with _CRIO_ROOTLESS=1, which leaves it unset',
    );
  const pid = startServer(paths, [
    ...env,
    'crio',
    '--config',
    paths.config,
    '--config-dir',
    join(paths.dir, 'crio', 'conf.d'),
  ]);
  say(`crio ${pid} listening on ${paths.socket}`);
  return { paths, pid, images, oomScoreAdj: refusesOom ? '_CRIO_ROOTLESS=1' : undefined };
}

/** Whether the CRI server answers: ctr version for containerd; for CRI-O, crictl version, or just its socket without crictl. */
function answering(paths: PlaygroundPaths): boolean {
  if (!existsSync(paths.socket)) return false;
  if (paths.server === 'containerd')
    return spawnSync('ctr', ['-a', paths.socket, 'version'], { stdio: 'ignore', timeout: 5000 }).status === 0;
  const crictl = which('crictl');
  return (
    !crictl ||
    spawnSync(crictl, ['--config', paths.crictlConfig, 'version'], { stdio: 'ignore', timeout: 5000 }).status === 0
  );
}

/**
 * The CRI server (argv) in new network and mount namespaces (util-linux
 * unshare), with loopback up and a private tmpfs on /run for the shims' or
 * conmons' sockets and the pods' netns files. Detached: it outlives ts-cri,
 * logging to its log file.
 */
function startServer(paths: PlaygroundPaths, argv: string[]): number {
  // containerd, its shims and the pods all live below one cgroup of the
  // playground's, which down removes whole. containerd itself is in a leaf
  // of it, containerd/: a relative cgroup_parent is taken below the shim's
  // own cgroup by runc on v1, below its parent on pure v2 (so, below the
  // playground's cgroup), and that one must hold no process for v2 to give
  // its children controllers. The playground's cgroup goes below the root
  // (NSLAB_CGROUP_PARENT: below another cgroup; relative, below ours, as the
  // tests do), never below a login session's scope, which holds processes.
  // Named after the directory, plus a random part: two playgrounds with the
  // same directory in different mount namespaces (two sandboxes) must not share one.
  const name = `nslab-cri-${createHash('sha256').update(paths.dir).digest('hex').slice(0, 8)}-${randomBytes(3).toString('hex')}`;
  let bases = playgroundCgroupBases();
  let cgroups = bases.map((b) => join(b.dir, name));
  if (paths.server === 'crio') {
    // CRI-O's cgroupfs driver takes a pod's cgroup_parent as one path from
    // the top of every hierarchy: the playground's cgroup must have the same
    // path in each, and the pods go below it. Where the asked-for place is
    // at different paths in different hierarchies (a relative
    // NSLAB_CGROUP_PARENT below a caller whose v1 hierarchies differ), the
    // playground goes below the root of each, where runc and the series put
    // cgroups, and says so; down removes it as always.
    let inHierarchy = [...new Set(bases.map((b, i) => '/' + relative(b.mountPoint, cgroups[i]!)))];
    if (inHierarchy.length !== 1) {
      process.stderr.write(
        `ts-cri: CRI-O needs the playground's cgroup at one path in every hierarchy; ${inHierarchy.join(', ')} differ, so it is /${name} in each\n`,
      );
      bases = playgroundCgroupBases('/');
      cgroups = bases.map((b) => join(b.dir, name));
      inHierarchy = [`/${name}`];
    }
    writeFileSync(join(paths.dir, 'pod-cgroup-parent'), `${inHierarchy[0]}/pods\n`);
  }
  // containerd puts a pod that names no cgroup_parent at /k8s.io/ID, from
  // the top of each hierarchy (crictl runp of a file without one): where
  // no k8s.io is there yet, it is this playground's to remove at down
  // (rmdir only, so one another containerd fills meanwhile stays).
  const podDefaults =
    paths.server === 'containerd' ? bases.map((b) => join(b.mountPoint, 'k8s.io')).filter((d) => !existsSync(d)) : [];
  // Recorded first: a start that fails half-way leaves down the list to remove.
  writeFileSync(paths.cgroupsFile, JSON.stringify([...cgroups, ...podDefaults]));
  const leaves = cgroups.map((c) => join(c, paths.server));
  bases.forEach((b, i) => {
    const leaf = leaves[i]!;
    mkdirSync(leaf, { recursive: true });
    // A new v1 cpuset starts with no CPUs and no memory nodes, and takes no
    // process until given its parent's. v2 has no such rule (an empty
    // cpuset.cpus means the parent's), and its root has no cpuset.cpus at all.
    // Every directory from the hierarchy's top down: NSLAB_CGROUP_PARENT may have made some too.
    if (b.version === 1) {
      const parts = relative(b.mountPoint, leaf).split('/');
      for (let n = 1; n <= parts.length; n++) copyEmptyCpuset(join(b.mountPoint, ...parts.slice(0, n)));
    }
  });
  const resolv = resolverForSandbox(paths);
  const log = openSync(paths.log, 'a');
  // A fresh /run and /var/lib hide the caller's; the playground's directory
  // (which may be below either) is carried across by a bind mount moved into place.
  const script = [
    'set -e',
    'mount --bind "$2" /mnt',
    'mount -t tmpfs -o mode=755 nslab-cri-run /run',
    // CNI keeps its cache and host-local its address leases in /var/lib/cni,
    // which containerd cannot move: a fresh /var/lib keeps them off the host.
    'mount -t tmpfs -o mode=755 nslab-cri-var-lib /var/lib',
    'mkdir -p "$2" /run/netns /run/containerd',
    'mount --move /mnt "$2"',
    'ip link set lo up',
    // /etc/resolv.conf may be a link into the host's /run (systemd-resolved),
    // which the fresh /run hides: put the file ts-cri wrote at the link's target.
    'if [ -n "$3" ]; then mkdir -p "$(dirname "$3")"; cp "$2/resolv.conf" "$3"; fi',
    'shift 3',
    'while [ "$1" != -- ]; do echo $$ > "$1/cgroup.procs"; shift; done',
    'shift',
    'exec "$@"',
  ].join('\n');
  let child;
  try {
    child = spawn(
      'unshare',
      [
        '--net',
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        script,
        'sh',
        paths.config,
        paths.dir,
        resolv?.target ?? '',
        ...leaves,
        '--',
        ...argv,
      ],
      { detached: true, stdio: ['ignore', log, log] },
    );
  } finally {
    closeSync(log);
  }
  const pid = child.pid!;
  child.unref();
  writeFileSync(paths.pidFile, `${pid}\n`);
  for (let waited = 0; waited < 30_000; waited += 100) {
    if (answering(paths)) return pid;
    if (!alive(pid))
      throw new CriError('server-failed', `${paths.server} exited: ${tail(paths.log) || 'see ' + paths.log}`, {
        dir: paths.dir,
      });
    sleepMs(100);
  }
  throw new CriError(
    'server-failed',
    `${paths.server} did not answer on ${paths.socket} within 30 s: ${tail(paths.log)}`,
    { dir: paths.dir },
  );
}

/** This process and its ancestors: down may itself run in containerd's mount namespace (nsenter -m, to reach a playground whose directory only that namespace sees). */
function selfAndAncestors(): Set<number> {
  const chain = new Set<number>();
  for (let pid = process.pid; pid > 1 && !chain.has(pid);) {
    chain.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return chain;
}

/** Processes in containerd's mount namespace: containerd, its shims (and whatever they started there), never down itself or its callers. */
function playgroundProcesses(mntNs: string): number[] {
  const pids: number[] = [];
  const spare = selfAndAncestors();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || spare.has(Number(name))) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/mnt`) === mntNs) pids.push(Number(name));
    } catch {
      // gone, or a kernel thread
    }
  }
  return pids;
}

interface CgroupPlace {
  version: 1 | 2;
  mountPoint: string;
  /** The process's cgroup directory in this hierarchy. */
  dir: string;
}

/** The cgroup directories of a process, one per hierarchy (v1 controllers and the v2 tree). */
function cgroupPlacesOf(pid: number): CgroupPlace[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return [];
  }
  const mounts = readMountInfo().filter((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2');
  const places: CgroupPlace[] = [];
  for (const line of text.trim().split('\n')) {
    const [id, controllers, path] = [
      line.slice(0, line.indexOf(':')),
      line.slice(line.indexOf(':') + 1, line.lastIndexOf(':')),
      line.slice(line.lastIndexOf(':') + 1),
    ];
    const wanted = controllers.split(',').filter(Boolean);
    const mount =
      id === '0'
        ? mounts.find((m) => m.fstype === 'cgroup2')
        : mounts.find((m) => m.fstype === 'cgroup' && wanted.every((c) => m.superOptions.includes(c)));
    if (mount && path.startsWith(mount.root))
      places.push({
        version: mount.fstype === 'cgroup2' ? 2 : 1,
        mountPoint: mount.mountPoint,
        dir: join(mount.mountPoint, path.slice(mount.root.length)),
      });
  }
  return places;
}

/**
 * Where the playground's cgroup is made, in each hierarchy we are in: below
 * the top (NSLAB_CGROUP_PARENT unset or absolute: below that path from the
 * top), or below our own cgroup (NSLAB_CGROUP_PARENT relative, e.g. '.').
 */
export function playgroundCgroupBases(parent = (process.env.NSLAB_CGROUP_PARENT ?? '').trim()): CgroupPlace[] {
  if (parent.split('/').includes('..'))
    throw new CriError('bad-cgroup-parent', `NSLAB_CGROUP_PARENT=${parent}: '..' is not allowed`, {});
  const relative = parent !== '' && !parent.startsWith('/');
  return cgroupPlacesOf(process.pid).map((p) => ({
    ...p,
    dir: relative ? join(p.dir, parent) : join(p.mountPoint, parent),
  }));
}

/** v1 cpuset: give an empty cpuset.cpus / cpuset.mems its parent's, so it can take processes. */
function copyEmptyCpuset(dir: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const file = join(dir, f);
    if (existsSync(file) && readFileSync(file, 'utf8').trim() === '')
      writeFileSync(file, readFileSync(join(dir, '..', f), 'utf8'));
  }
}

/**
 * The resolver configuration the pods get. containerd copies
 * /etc/resolv.conf into each pod; where that is a link into /run
 * (systemd-resolved: /run/systemd/resolve/stub-resolv.conf), the
 * playground's fresh /run would leave it dangling. Written into the
 * playground's directory from the host's file (resolved's full list of
 * upstream servers when it has one: the stub's 127.0.0.53 is the host's
 * loopback, which a pod cannot reach), with the link's target to put it at.
 */
export function resolverForSandbox(
  paths: PlaygroundPaths,
  etc = '/etc/resolv.conf',
): { target: string; file: string } | undefined {
  let target: string;
  try {
    if (!lstatSync(etc).isSymbolicLink()) return undefined;
    target = join(dirname(etc), readlinkSync(etc));
    target = realpathOrSelf(target);
  } catch {
    return undefined;
  }
  if (!target.startsWith('/run/')) return undefined;
  const upstream = join(dirname(target), 'resolv.conf');
  const source = target.endsWith('/stub-resolv.conf') && existsSync(upstream) ? upstream : target;
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch {
    // The link dangles on the host too: the pods get no resolver, as they would there.
    text = '';
  }
  const file = join(paths.dir, 'resolv.conf');
  writeFileSync(file, text, { mode: 0o644 });
  return { target, file };
}

function realpathOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return posix.normalize(p);
  }
}

/**
 * Remove the playground's cgroups, deepest first; the ones still busy are
 * returned. rmdir only: a cgroup that still holds a process stays. Processes
 * killed a moment ago may still be leaving, so busy ones are tried again for
 * a few seconds.
 */
function removeCgroupTrees(paths: PlaygroundPaths): string[] {
  let roots: string[];
  try {
    roots = JSON.parse(readFileSync(paths.cgroupsFile, 'utf8')) as string[];
  } catch {
    return [];
  }
  let left: string[];
  for (let waited = 0; ; waited += 100) {
    left = [];
    for (const root of roots) {
      if (!existsSync(root)) continue;
      const dirs = [
        root,
        ...readdirSync(root, { recursive: true, withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => join(e.parentPath ?? e.path, e.name)),
      ];
      for (const d of dirs.sort((a, b) => b.length - a.length)) {
        try {
          rmdirSync(d);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left.push(d);
        }
      }
    }
    if (left.length === 0 || waited >= 5000) return left;
    sleepMs(100);
  }
}

export interface DownOptions {
  dir: string;
  /** Remove the playground's directory too (default true). */
  removeDir?: boolean;
  crictl?: string;
}

/** Remove every pod and container, stop containerd, and leave no process, namespace or mount behind. */
export function down(opts: DownOptions): { pods: number } {
  const paths = pathsOf(opts.dir);
  let pods = 0;
  const pid = runningServer(paths);
  if (pid !== undefined) {
    const mntNs = readlinkSync(`/proc/${pid}/ns/mnt`);
    // Pods first, through CRI, so CNI gives their addresses back and the shims delete the runtime containers.
    const crictl = opts.crictl ?? which('crictl');
    if (crictl) {
      const list = spawnSync(crictl, ['--config', paths.crictlConfig, 'pods', '-q'], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      pods = list.stdout.trim().split('\n').filter(Boolean).length;
      if (pods)
        spawnSync(crictl, ['--config', paths.crictlConfig, 'rmp', '-f', '-a'], { stdio: 'ignore', timeout: 120_000 });
    }
    // Whatever CRI did not remove (or all of it, without crictl): kill and delete the tasks.
    if (paths.server === 'containerd') {
      const ctr = (...args: string[]) =>
        spawnSync('ctr', ['-a', paths.socket, '-n', CRI_NAMESPACE, ...args], { encoding: 'utf8', timeout: 60_000 });
      for (const id of ctr('containers', 'list', '-q').stdout.trim().split('\n').filter(Boolean)) {
        ctr('tasks', 'kill', '-a', '-s', 'SIGKILL', id);
        ctr('tasks', 'delete', '-f', id);
        ctr('containers', 'delete', id);
      }
    }
    process.kill(pid, 'SIGTERM');
    for (let waited = 0; waited < 10_000 && alive(pid); waited += 100) sleepMs(100);
    // CRI-O's runtime containers are its conmons' children, in mount namespaces of their own: delete what is left through the runtime.
    if (paths.server === 'crio') deleteRuntimeContainers(paths);
    // Shims and anything else still in the playground's mount namespace were started by it: end them.
    for (let round = 0; round < 50; round++) {
      const left = playgroundProcesses(mntNs);
      if (left.length === 0) break;
      for (const p of left) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      sleepMs(100);
    }
  }
  if (pid === undefined && paths.server === 'crio') deleteRuntimeContainers(paths);
  const busy = removeCgroupTrees(paths);
  // The directory keeps the list of cgroups, so that another down can try again.
  if (busy.length)
    throw new CriError('cgroups-busy', `cgroups still in use: ${busy.join(', ')}`, { dir: paths.dir, cgroups: busy });
  if (opts.removeDir ?? true) {
    // The runtime's state is gone with its containers; what is left here is
    // ours. Seen from containerd's mount namespace (nsenter -m), the
    // directory is a mount point of it: emptied, it goes with the namespace.
    if (readMountInfo().some((m) => m.mountPoint === paths.dir))
      for (const name of readdirSync(paths.dir)) rmSync(join(paths.dir, name), { recursive: true, force: true });
    else rmSync(paths.dir, { recursive: true, force: true });
  } else {
    rmSync(paths.socket, { force: true });
    rmSync(paths.pidFile, { force: true });
  }
  return { pods };
}

/** The runtime's containers left in the playground's runtime root (CRI-O's runtime_root), force-deleted with the runtime that made them. */
function deleteRuntimeContainers(paths: PlaygroundPaths): void {
  let ids: string[];
  try {
    ids = readdirSync(paths.runtimeState).filter((n) => existsSync(join(paths.runtimeState, n, 'state.json')));
  } catch {
    return;
  }
  if (ids.length === 0) return;
  let runtime: string | undefined;
  try {
    runtime = /^runtime_path = "(.*)"$/m.exec(readFileSync(paths.config, 'utf8'))?.[1];
  } catch {
    runtime = undefined;
  }
  for (const id of ids)
    spawnSync(runtime ?? 'runc', ['--root', paths.runtimeState, 'delete', '--force', id], {
      stdio: 'ignore',
      timeout: 30_000,
    });
}

export interface Status {
  paths: PlaygroundPaths;
  pid?: number;
  answering: boolean;
  pods: string[];
  containers: string[];
}

export function status(dir: string, crictl?: string): Status {
  const paths = pathsOf(dir);
  const pid = runningServer(paths);
  const isAnswering = pid !== undefined && answering(paths);
  let pods: string[] = [];
  let containers: string[] = [];
  const tool = crictl ?? which('crictl');
  if (isAnswering && tool) {
    pods = spawnSync(tool, ['--config', paths.crictlConfig, 'pods'], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .slice(1)
      .filter(Boolean);
    containers = spawnSync(tool, ['--config', paths.crictlConfig, 'ps', '-a'], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .slice(1)
      .filter(Boolean);
  }
  return { paths, pid, answering: isAnswering, pods, containers };
}

/**
 * The cgroup_parent a pod of this playground should name: CRI-O takes it
 * from the top of each hierarchy (the playground's own cgroup, /pods below
 * it); containerd's runtime takes a relative one below the playground's cgroup.
 */
export function podCgroupParent(paths: PlaygroundPaths): string {
  try {
    return readFileSync(join(paths.dir, 'pod-cgroup-parent'), 'utf8').trim();
  } catch {
    return 'nslab-pods';
  }
}

/** The environment that points crictl at the playground. */
export function crictlEnvironment(paths: PlaygroundPaths): Record<string, string> {
  const common = {
    NSLAB_POD_CGROUP_PARENT: podCgroupParent(paths),
    CONTAINER_RUNTIME_ENDPOINT: `unix://${paths.socket}`,
    IMAGE_SERVICE_ENDPOINT: `unix://${paths.socket}`,
    CRI_CONFIG_FILE: paths.crictlConfig,
  };
  // ctr's variables only where there is a containerd for ctr to reach.
  return paths.server === 'containerd'
    ? { ...common, CONTAINERD_ADDRESS: paths.socket, CONTAINERD_NAMESPACE: CRI_NAMESPACE }
    : common;
}
