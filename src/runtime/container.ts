// What the runtime does to containers: create (the init runs the plan of
// init-plan.ts), start, run, state, kill, delete, pause, resume, exec, ps.
// Everything it needs later is in the state directory (state.ts); the
// status is worked out from the init process on every call.
import { chmodSync, closeSync, openSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { constants as fsConstants } from 'node:fs';
import { dirname, join } from 'node:path';
import { Call } from '../syscalls/call.js';
import { CLONE, F_SETFD } from '../syscalls/constants.js';
import { writeIdMap, writeSetgroups } from '../syscalls/identity.js';
import { startProgram } from '../core/program.js';
import { ChildDefences, PlanOptions, forkCall } from '../syscalls/plan.js';
import { callNow, makeCall } from '../syscalls/call.js';
import { kill } from '../syscalls/process.js';
import { writeKernelFile } from '../syscalls/fs.js';
import { reexecSealed, runningSealed } from '../syscalls/sealed.js';
import {
  ContainerConfig,
  JOIN_ORDER,
  ProcessSpec,
  Resources,
  joinNamespaceCall,
  loadConfig,
  namespaceFile,
  namespaceFlag,
} from './config.js';
import type { OciLinuxResources } from '../cgroup/oci.js';
import { ConfigError, ContainerNotFound, WrongState } from './errors.js';
import { runHooks } from './hooks.js';
import { STATE_GUARD, guard } from './guard.js';
import {
  closeFromCall,
  cwdOpenCalls,
  execveCall,
  identityCalls,
  initCalls,
  initNameCalls,
  resolveProgram,
  rlimitCalls,
  apparmorCalls,
} from './init-plan.js';
import { compileSeccomp, seccompAt, seccompLoad } from './seccomp.js';
import { runStartContainerHooks } from './start-hooks.js';
import {
  ContainerCgroup,
  cgroupPids,
  containerCgroup,
  createContainerCgroup,
  defaultCgroupManager,
  moveIntoCgroups,
} from './cgroups.js';
import type { CgroupManager } from '../cgroup/manager.js';
import { startMoveGracePeriod } from '../cgroup/grace-period.js';
import { cgroup2Unified, detectCgroups } from '../cgroup/hierarchy.js';
import { connectConsoleSocket, consoleCalls, consoleSocketPair } from './console.js';
import {
  EXEC_FIFO,
  OciState,
  SavedState,
  Status,
  claimId,
  currentStatus,
  initAlive,
  loadState,
  nowRfc3339Nano,
  ociState,
  processStart,
  removeStateDir,
  saveState,
} from './state.js';

/** Starts a program from its calls in a child (core/program.ts): the seam tests replace. */
export type Launcher = (calls: readonly Call[], opts: PlanOptions) => { pid: number };

export interface Runtime {
  root: string;
  /** Where to say what the config asks for and this runtime does not do. */
  warn?: (message: string) => void;
  /** The container's cgroups are made through it (default: cgroupfs, laid out as runc lays it out). */
  cgroups?: CgroupManager;
  /** Starts the init (default: startProgram, a real clone). */
  launch?: Launcher;
}

/** The runtime's cgroup manager: the one it was given, or the host's (read once). */
function cgroupsOf(rt: Runtime): CgroupManager {
  return (rt.cgroups ??= defaultCgroupManager());
}

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  noPivot: boolean;
  consoleSocket?: string;
  /** The runtime will not stay to wait for the container (create, run -d). */
  detached: boolean;
  /** create: the init waits at the exec fifo until start. */
  barrier?: boolean;
  /** --preserve-fds: fds 3..3+N-1 of the runtime reach the container's process. */
  preserveFds?: number;
}

export interface Created {
  state: SavedState;
  pid: number;
  /** A foreground terminal: our end of the socket the pty master came on. */
  consoleFd?: number;
}

/** Write a pid file the way runc does: the number, no newline, renamed into place. */
export function writePidFile(path: string, pid: number): void {
  const tmp = join(dirname(path), `.${pid}.pid.tmp`);
  writeFileSync(tmp, String(pid));
  renameSync(tmp, path);
}

function checkSupported(config: ContainerConfig, opts: CreateOptions): void {
  if (config.process.terminal && !opts.consoleSocket && opts.detached)
    throw new ConfigError('process.terminal', 'cannot allocate tty if runc will detach without setting console socket');
  if (opts.consoleSocket && !config.process.terminal)
    throw new ConfigError('process.terminal', 'cannot use console socket if runc will not detach or allocate tty');
}

/**
 * Where the init sends its pty master: a connection to --console-socket, or
 * (a terminal in the foreground) one end of a socket pair we keep.
 */
function consoleChannel(
  terminal: boolean,
  socketPath: string | undefined,
): { childFd: number; ourFd?: number } | undefined {
  if (!terminal) return undefined;
  if (socketPath) return { childFd: connectConsoleSocket(socketPath) };
  const [ours, theirs] = consoleSocketPair();
  return { childFd: theirs, ourFd: ours };
}

/**
 * The state a hook sees on stdin: the OCI state with the status the caller
 * names and the init's pid. prestart and createRuntime are given 'created'
 * (runc says 'creating' there; kept as ts-runc has always said it).
 */
function hookState(root: string, state: SavedState, status: Status): OciState {
  return { ...ociState(root, state), status, pid: state.pid };
}

/**
 * Socket activation, as runc's create and run do it: when LISTEN_PID names
 * this process, its LISTEN_FDS fds (from 3 on) go to the container's
 * process, which is told so with LISTEN_FDS=N and LISTEN_PID=1.
 */
function listenFds(): number {
  const n = Number(process.env.LISTEN_FDS);
  return process.env.LISTEN_PID === String(process.pid) && Number.isInteger(n) && n > 0 ? n : 0;
}

/**
 * The fds 3..2+n a program gets as they are (socket activation,
 * --preserve-fds): not close-on-exec (runc clears the flag too).
 */
function passFdCalls(n: number): Call[] {
  return Array.from({ length: n }, (_, i) =>
    makeCall('fcntl', [3 + i, F_SETFD, 0], `fcntl(${3 + i}, F_SETFD, 0) /* passed to the container */`, {
      what: `pass fd ${3 + i}`,
    }),
  );
}

/**
 * The defences of a child of the runtime (plan.ts, ChildDefences): it is
 * not dumpable from its first call, and holds only stdio, the fds it
 * passes on, and `held` (the fds its calls use).
 */
function childDefences(passed: number, held: Array<{ fd: number; name: string }>, nonDumpable = true): ChildDefences {
  return { nonDumpable, fds: { through: 2 + passed, held } };
}

/**
 * Could a process of the container pass ptrace access checks on the
 * runtime's children, non-dumpable as they are (ChildDefences)? Only with
 * CAP_SYS_PTRACE in the host's user namespace: the container has no user
 * namespace of its own, and a process may hold the capability (in its
 * bounding set, or no capabilities set at all). Then the runtime runs from a
 * sealed copy of its executable (sealed.ts), as runc's init always does.
 */
function mayPtraceRuntime(config: ContainerConfig, procs: readonly ProcessSpec[]): boolean {
  if (config.namespaces.some((n) => n.type === 'user')) return false;
  return procs.some((p) => !p.capabilities || p.capabilities.bounding.includes('CAP_SYS_PTRACE'));
}

/** Which namespaces the init makes, which it joins by path, and how (clone, setns, unshare). */
export interface NamespacePlan {
  /** Namespaces joined by path: the fds are opened here and closed by the caller. */
  joinFds: Array<{ fd: number; flag: number; path: string }>;
  /** Every namespace to make, as CLONE_NEW* flags. */
  newFlags: number;
  /** Made by clone(2): all new ones, except the cgroup namespace (see below), unless a joined user namespace must own them. */
  cloneFlags: number;
  /** Made by unshare(2) after the setns calls: a joined user namespace must own the new ones. */
  unshareFlags: number;
  joinsUser: boolean;
  /** A new cgroup namespace takes the process's cgroups at that moment as its root. */
  newCgroupns: boolean;
  /** The parent moves the init into its cgroups right after clone (before its unshare). */
  moveEarly: boolean;
  /** The init forks once more, so that its child is in the joined or unshared pid namespace. */
  forkAfter: boolean;
}

/** Step 1: the namespaces from the config. Opens the namespace paths to join (closed by the caller, also on failure). */
export function namespacesFromConfig(config: ContainerConfig, joinFds: NamespacePlan['joinFds'] = []): NamespacePlan {
  let newFlags = 0;
  for (const n of config.namespaces) {
    const flag = namespaceFlag(n.type);
    if (!n.path) {
      newFlags |= flag;
      continue;
    }
    let fd: number;
    try {
      fd = openSync(n.path, 'r');
    } catch (err) {
      throw new ConfigError(
        `linux.namespaces (${n.type})`,
        `cannot open namespace path ${n.path}: ${(err as NodeJS.ErrnoException).code}`,
      );
    }
    joinFds.push({ fd, flag, path: n.path });
  }
  const joinsUser = joinFds.some((j) => j.flag === CLONE.CLONE_NEWUSER);
  const joinsPid = joinFds.some((j) => j.flag === CLONE.CLONE_NEWPID);
  // The init unshares a new cgroup namespace once it is in its cgroups, as
  // runc does (or, in a joined user namespace, the parent moves it before the unshare).
  const newCgroupns = (newFlags & CLONE.CLONE_NEWCGROUP) !== 0;
  return {
    joinFds,
    newFlags,
    cloneFlags: joinsUser ? 0 : newFlags & ~CLONE.CLONE_NEWCGROUP,
    unshareFlags: joinsUser ? newFlags : 0,
    joinsUser,
    newCgroupns,
    moveEarly: joinsUser && newCgroupns,
    forkAfter: joinsPid || (joinsUser && (newFlags & CLONE.CLONE_NEWPID) !== 0),
  };
}

/** The state.json of a container whose init is not started yet (pid 0: set when it is ready). */
function initialState(opts: CreateOptions, config: ContainerConfig, cg: ContainerCgroup | undefined): SavedState {
  return {
    id: opts.id,
    pid: 0,
    startTime: '',
    bundle: config.bundle,
    rootfs: config.rootfs,
    created: nowRfc3339Nano(),
    cgroups: cg?.dirs.map((d) => d.dir) ?? [],
    cgroup: cg ? { path: cg.path, dirs: cg.dirs } : undefined,
    freezer: cg?.freezer,
    namespacePaths: {},
    config,
  };
}

/** The id maps of a new user namespace, written by the parent (setgroups "deny" first when unprivileged). */
function idMapWriter(config: ContainerConfig, ns: NamespacePlan, isRoot: boolean): (pid: number) => void {
  return (pid) => {
    if (!(ns.newFlags & CLONE.CLONE_NEWUSER)) return;
    if (!isRoot) writeSetgroups(pid, 'deny');
    writeIdMap(
      pid,
      'uid',
      config.uidMappings.map((m) => ({ inner: m.containerID, outer: m.hostID, count: m.size })),
    );
    writeIdMap(
      pid,
      'gid',
      config.gidMappings.map((m) => ({ inner: m.containerID, outer: m.hostID, count: m.size })),
    );
  };
}

/**
 * Step 3, record the state: the last step before exec. The init exists,
 * every namespace and mount is in place, and it waits for us. Move it into
 * its cgroups (unless that happened earlier, for a new cgroup namespace),
 * save state.json, and run the hooks that belong to this moment.
 */
function recordState(
  rt: Runtime,
  opts: CreateOptions,
  state: SavedState,
  moveInit: (pid: number) => void,
  movedEarlier: boolean,
) {
  const config = state.config;
  return (pid: number) => {
    if (!movedEarlier) moveInit(pid);
    if (config.process.oomScoreAdj !== undefined)
      writeKernelFile(`/proc/${pid}/oom_score_adj`, String(config.process.oomScoreAdj));
    state.pid = pid;
    state.startTime = processStart(pid)?.startTime ?? '';
    for (const n of config.namespaces)
      state.namespacePaths[n.type] = n.path ?? `/proc/${pid}/ns/${namespaceFile(n.type)}`;
    saveState(rt.root, state);
    runHooks('prestart', config.hooks.prestart, hookState(rt.root, state, 'created'));
    runHooks('createRuntime', config.hooks.createRuntime, hookState(rt.root, state, 'created'));
    // run: the init goes straight on to exec, so its startContainer hooks run now (create: at start).
    if (!opts.barrier) runStartContainerHooks(state, hookState(rt.root, state, 'created'));
  };
}

interface InitParts {
  config: ContainerConfig;
  ns: NamespacePlan;
  cg: ContainerCgroup | undefined;
  program: string;
  channel: ReturnType<typeof consoleChannel>;
  seccomp: ReturnType<typeof compileSeccomp> | undefined;
  moveInit: (pid: number) => void;
  writeMaps: (pid: number) => void;
  ready: (pid: number) => void;
  /** fds 3.. passed on as they are (socket activation, --preserve-fds). */
  passed: number;
  listening: number;
}

/** Step 2a: the init's calls, with the step that records the state placed right before exec (or the barrier). */
function planInit(opts: CreateOptions, p: InitParts): Call[] {
  const { config, ns } = p;
  const load = p.seccomp && seccompLoad(p.seccomp, seccompState(opts.id, config));
  const initProcess = p.listening
    ? { ...config.process, env: [...config.process.env, `LISTEN_FDS=${p.listening}`, 'LISTEN_PID=1'] }
    : config.process;
  const cgroupMounts = (p.cg?.dirs ?? [])
    .filter((d) => d.hierarchy.version === 1)
    .map((d) => ({ name: d.hierarchy.controllers.join(',') || `name=${d.hierarchy.name}`, source: d.dir }));
  const calls = initCalls(
    { ...config, process: initProcess },
    {
      noPivot: opts.noPivot,
      joinFds: ns.joinFds,
      unshareFlags: ns.unshareFlags,
      // With a new cgroup namespace, before the identity calls (its unshare needs CAP_SYS_ADMIN); otherwise at ready, as late as can be.
      joinCgroups: p.cg && ns.newCgroupns && !ns.moveEarly ? p.moveInit : undefined,
      unshareCgroupns: ns.newCgroupns && !ns.joinsUser,
      afterUnshare: p.writeMaps,
      forkAfter: ns.forkAfter,
      cgroupMounts,
      cgroup2: cgroup2Unified(),
      program: p.program,
      first: opts.barrier ? initNameCalls() : [],
      console: p.channel ? consoleCalls(p.channel.childFd) : [],
      seccomp: load,
      preserveFds: p.passed,
    },
  );
  calls.unshift(...passFdCalls(p.passed));
  // A step that always succeeds, right before exec (or the barrier): the
  // parent records the container there (an optional step's failure would
  // skip its after()). Before a seccomp load that comes right before exec
  // (no_new_privs): the filter may refuse getpid.
  const late = load && config.process.noNewPrivileges ? calls.indexOf(load) : -1;
  calls.splice(
    late >= 0 ? late : calls.length - 1,
    0,
    makeCall('getpid', [], 'getpid() /* ready */', { after: p.ready }),
  );
  return calls;
}

/** What a seccomp agent is told about the container while it is made (linux.seccomp.listenerPath). */
function seccompState(id: string, config: ContainerConfig) {
  return {
    id,
    bundle: config.bundle,
    annotations: config.annotations,
    ociVersion: config.ociVersion,
    status: 'creating' as const,
    initPid: () => 0,
  };
}

/** Step 2b, launch: clone the init and start its calls; with a barrier it waits at the exec fifo. */
function launchInit(rt: Runtime, opts: CreateOptions, p: InitParts, calls: Call[], isRoot: boolean): number {
  const fifo = join(rt.root, opts.id, EXEC_FIFO);
  if (opts.barrier) makeFifo(fifo);
  const held = [
    ...p.ns.joinFds.map((j) => ({ fd: j.fd, name: `namespace ${j.path}` })),
    ...(p.channel ? [{ fd: p.channel.childFd, name: 'console socket' }] : []),
  ];
  const child = (rt.launch ?? startProgram)(calls, {
    cloneFlags: p.ns.cloneFlags,
    label: 'init',
    // The init's calls after a failure stay inside its namespaces up to the next gate (init-plan.ts).
    runAhead: true,
    barrier: opts.barrier ? { fifo, tool: 'ts-runc' } : undefined,
    // Not dumpable from its first call (after afterClone has written its
    // id maps). One case stays dumpable: an unprivileged runtime whose init
    // makes its user namespace after joining another one writes the maps
    // after the init's first calls, and could not once its /proc files
    // belong to root.
    defences: childDefences(p.passed, held, isRoot || !(p.ns.unshareFlags & CLONE.CLONE_NEWUSER)),
    afterClone: (pid) => {
      if (p.ns.moveEarly) p.moveInit(pid);
      if (!p.ns.joinsUser) p.writeMaps(pid);
    },
  });
  return child.pid;
}

/** Undo on failure: the steps taken so far, last first; the first failure is the one reported. */
function undoAll(undo: Array<() => void>): void {
  for (const u of undo.reverse()) {
    try {
      u();
    } catch {
      // report the first failure
    }
  }
}

/** Before anything is made: the config, what this runtime refuses, and the seccomp filter compiled. */
function prepareCreate(rt: Runtime, opts: CreateOptions) {
  const config = loadConfig(opts.bundle);
  checkSupported(config, opts);
  // Before anything is made: the process starts over from the copy.
  if (mayPtraceRuntime(config, [config.process]) && !runningSealed()) reexecSealed();
  for (const w of config.warnings) rt.warn?.(w);
  // Compiled before anything exists: a profile that cannot be applied refuses the create.
  const seccomp = config.seccomp ? compileSeccomp(config.seccomp) : undefined;
  return { config, seccomp };
}

/**
 * Make the container: state directory, cgroup, the init through its plan.
 * Returns once the init is started (create: waiting at the exec fifo; run:
 * on its way to exec). On failure nothing is left behind: each step that
 * makes something pushes its undo.
 */
export function createContainer(rt: Runtime, opts: CreateOptions): Created {
  const { config, seccomp } = prepareCreate(rt, opts);
  claimId(rt.root, opts.id);
  const undo: Array<() => void> = [() => removeStateDir(rt.root, opts.id)];
  const joinFds: NamespacePlan['joinFds'] = [];
  let channel: ReturnType<typeof consoleChannel>;
  try {
    const isRoot = process.geteuid?.() === 0;
    // First the cgroup: making it starts the grace period the init's move
    // will wait for (cgroups.ts), and the work below runs meanwhile.
    const made =
      isRoot || config.resources
        ? createContainerCgroup(cgroupsOf(rt), opts.id, config.cgroupsPath, config.resources, rt.warn)
        : undefined;
    if (made) undo.push(() => made.cgroup.delete({ kill: true, recursive: true }));
    const cg = made?.saved;
    // Without a mount namespace the process keeps the host's root (runc changes no root then).
    const ownRoot = config.namespaces.some((n) => n.type === 'mount');
    const program = resolveProgram(ownRoot ? config.rootfs : '/', config.process);
    channel = consoleChannel(config.process.terminal, opts.consoleSocket);
    const ns = namespacesFromConfig(config, joinFds);
    const state = initialState(opts, config, cg);
    // Into its cgroups once its mounts are made (at ready, or with a new
    // cgroup namespace just before its unshare): the first move waits for
    // the RCU grace period that createContainerCgroup started, and it has
    // passed while the init mounted.
    const moveInit = (pid: number) => moveIntoCgroups(cg?.dirs.map((d) => d.dir) ?? [], pid, 'the init');
    const listening = listenFds();
    const parts: InitParts = {
      config,
      ns,
      cg,
      program,
      channel,
      seccomp,
      moveInit,
      writeMaps: idMapWriter(config, ns, isRoot),
      ready: recordState(rt, opts, state, moveInit, ns.newCgroupns),
      passed: listening + (opts.preserveFds ?? 0),
      listening,
    };
    const pid = launchInit(rt, opts, parts, planInit(opts, parts), isRoot);
    if (opts.pidFile) writePidFile(opts.pidFile, pid);
    return { state, pid, consoleFd: channel?.ourFd };
  } catch (err) {
    if (channel?.ourFd !== undefined) closeSync(channel.ourFd);
    undoAll(undo);
    throw err;
  } finally {
    for (const j of joinFds) closeSync(j.fd);
  }
}

/** The exec fifo: writable by any uid the container's init may have become (runc's 0622). */
function makeFifo(path: string): void {
  callNow(makeCall('mkfifo', [path, 0o622], `mkfifo(${JSON.stringify(path)}, 0622)`, { what: `create ${path}` }));
  chmodSync(path, 0o622);
}

/**
 * start: open the exec fifo for reading, which releases the init blocked
 * opening it for writing; it writes one byte and execs. The fifo goes, and
 * with it the created status.
 */
export function startContainer(rt: Runtime, id: string): SavedState {
  const state = loadState(rt.root, id);
  guard('start', id, currentStatus(rt.root, state));
  try {
    runStartContainerHooks(state, hookState(rt.root, state, 'created'));
  } catch (err) {
    // As in runc, whose init fails at this point: the container stops.
    kill(state.pid, 9);
    throw err;
  }
  const fifo = join(rt.root, id, EXEC_FIFO);
  // Non-blocking, so a dead init cannot hang us: read until the byte comes,
  // giving up when the init is gone.
  const fd = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  try {
    const buf = Buffer.alloc(1);
    for (;;) {
      let n = -1;
      try {
        n = readSync(fd, buf, 0, 1, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      if (n === 1) break;
      if (!initAlive(state)) guard('start', id, 'stopped');
      Atomics.wait(sleeper, 0, 0, 1);
    }
  } finally {
    closeSync(fd);
    rmSync(fifo, { force: true });
  }
  return state;
}

export function poststart(rt: Runtime, state: SavedState): void {
  runHooks('poststart', state.config.hooks.poststart, hookState(rt.root, state, 'running'));
}

export function statusOf(rt: Runtime, state: SavedState): Status {
  return currentStatus(rt.root, state);
}

/** Wait (polling) until the init is gone or a zombie. */
function waitGone(state: SavedState, ms = 10_000): boolean {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; waited < ms; waited += 10) {
    if (!initAlive(state)) return true;
    Atomics.wait(sleeper, 0, 0, 10);
  }
  return false;
}

/** Remove what the container holds: its processes, cgroup, state; then the poststop hooks. */
export function destroy(rt: Runtime, state: SavedState): void {
  if (initAlive(state)) kill(state.pid, 9);
  if (state.cgroup) {
    const cg = containerCgroup(state.cgroup);
    // A frozen task cannot die: thaw first.
    const freezer = cg.dirs.length ? cg.freezerState() : undefined;
    if (freezer !== undefined && freezer !== 'THAWED') cg.thaw();
    // Kills whatever is left (a container without a pid namespace may leave some), waits, removes.
    if (cg.dirs.length) cg.delete({ kill: true, recursive: true });
  }
  waitGone(state);
  removeStateDir(rt.root, state.id);
  runHooks('poststop', state.config.hooks.poststop, hookState(rt.root, state, 'stopped'));
}

export function deleteContainer(rt: Runtime, id: string, force: boolean): void {
  const state = loadState(rt.root, id);
  if (!force) guard('delete', id, currentStatus(rt.root, state));
  destroy(rt, state);
}

export function killContainer(rt: Runtime, id: string, signal: number, all: boolean): void {
  const state = loadState(rt.root, id);
  const status = currentStatus(rt.root, state);
  // --all signals whatever is still in the cgroup, also once the init is
  // gone (runc 1.1 does; containerd's shim sends it to stopped containers).
  if (all) {
    for (const pid of cgroupPids(state.cgroups)) kill(pid, signal);
    return;
  }
  guard('kill', id, status);
  // Gone since the status was read.
  if (kill(state.pid, signal) !== 0) throw new WrongState(id, status, STATE_GUARD.kill.refusal(id, 'stopped'));
}

export function pauseContainer(rt: Runtime, id: string, frozen: boolean): void {
  const state = loadState(rt.root, id);
  const status = currentStatus(rt.root, state);
  guard(frozen ? 'pause' : 'resume', id, status);
  if (!state.freezer || !state.cgroup) throw new WrongState(id, status, 'the container has no freezer cgroup');
  const cg = containerCgroup(state.cgroup);
  if (frozen) cg.freeze();
  else cg.thaw();
}

export function containerPids(rt: Runtime, id: string): number[] {
  const state = loadState(rt.root, id);
  const status = currentStatus(rt.root, state);
  if (status === 'stopped') return [];
  const pids = cgroupPids(state.cgroups);
  return pids.length ? pids : [state.pid];
}

export function exists(rt: Runtime, id: string): boolean {
  try {
    loadState(rt.root, id);
    return true;
  } catch (err) {
    if (err instanceof ContainerNotFound) return false;
    throw err;
  }
}

export interface ExecOptions {
  id: string;
  /** From a process.json (-p); else the container's process with the overrides below. */
  process?: ProcessSpec;
  args: string[];
  env: string[];
  user?: { uid: number; gid?: number };
  cwd?: string;
  tty: boolean;
  consoleSocket?: string;
  detached: boolean;
  pidFile?: string;
  /** --preserve-fds: fds 3..3+N-1 of the runtime reach the process. */
  preserveFds?: number;
}

function execProcessSpec(state: SavedState, opts: ExecOptions): ProcessSpec {
  if (opts.process) return opts.process;
  const base = state.config.process;
  const env = [...base.env];
  for (const e of opts.env) {
    const key = e.split('=')[0];
    const at = env.findIndex((x) => x.split('=')[0] === key);
    if (at >= 0) env[at] = e;
    else env.push(e);
  }
  return {
    ...base,
    terminal: opts.tty,
    args: opts.args,
    env,
    cwd: opts.cwd ?? base.cwd,
    user: opts.user ? { uid: opts.user.uid, gid: opts.user.gid ?? 0, additionalGids: [] } : base.user,
    // rlimits are the container's already: the process inherits nothing else to set.
    rlimits: [],
  };
}

/**
 * exec: a new process in the container's namespaces and cgroup, with the
 * container's (or process.json's) identity. The child joins with setns(2)
 * and forks, so that it is inside the pid namespace too.
 */
export function execInContainer(
  rt: Runtime,
  opts: ExecOptions,
): { pid: number; state: SavedState; consoleFd?: number } {
  const state = loadState(rt.root, opts.id);
  const status = currentStatus(rt.root, state);
  guard('exec', opts.id, status);
  const proc = execProcessSpec(state, opts);
  if (proc.args.length === 0) throw new ConfigError('args', 'exec needs a command (or a process.json with args)');
  if (proc.terminal && !opts.consoleSocket && opts.detached)
    throw new ConfigError('process.terminal', 'cannot allocate tty if runc will detach without setting console socket');
  if (mayPtraceRuntime(state.config, [state.config.process, proc]) && !runningSealed()) reexecSealed();
  const program = resolveProgram(`/proc/${state.pid}/root`, proc);
  const seccomp = state.config.seccomp && compileSeccomp(state.config.seccomp);
  // Its move into the container's cgroups will wait for an RCU grace period: start it now.
  if (state.cgroups.length) startMoveGracePeriod(detectCgroups());
  const fds: number[] = [];
  let channel: ReturnType<typeof consoleChannel>;
  try {
    channel = consoleChannel(proc.terminal, opts.consoleSocket);
    const passed = opts.preserveFds ?? 0;
    const calls: Call[] = [...passFdCalls(passed)];
    const held: Array<{ fd: number; name: string }> = [];
    if (channel) held.push({ fd: channel.childFd, name: 'console socket' });
    const inUserns = state.config.namespaces.some((n) => n.type === 'user');
    for (const type of JOIN_ORDER) {
      if (!state.config.namespaces.some((n) => n.type === type)) continue;
      const path = `/proc/${state.pid}/ns/${namespaceFile(type)}`;
      const fd = openSync(path, 'r');
      fds.push(fd);
      held.push({ fd, name: `namespace ${path}` });
      calls.push(joinNamespaceCall(fd, path, type, `join the container's ${type} namespace`));
    }
    // Joined: the namespace fds go before anything of the container can see this process.
    for (const fd of fds) calls.push(makeCall('close', [fd], `close(${fd}) /* joined */`, { optional: true }));
    // setns(CLONE_NEWPID) moves only the children: fork into it.
    calls.push(forkCall());
    if (channel) calls.push(...consoleCalls(channel.childFd));
    // Before the rlimits: an RLIMIT_NOFILE below 1003 would refuse the fd.
    calls.push(...cwdOpenCalls(proc.cwd));
    calls.push(...apparmorCalls(proc));
    calls.push(...rlimitCalls(proc));
    const c = state.config;
    const load =
      seccomp &&
      seccompLoad(seccomp, {
        id: opts.id,
        bundle: c.bundle,
        annotations: c.annotations,
        ociVersion: c.ociVersion,
        status: 'running',
        initPid: () => state.pid,
      });
    calls.push(...seccompAt(proc, load, 'before-identity'));
    calls.push(...identityCalls(proc, { setgroups: !inUserns || process.geteuid?.() === 0, cwd: true }));
    calls.push(makeCall('umask', [proc.user.umask ?? 0o022], `umask(0${(proc.user.umask ?? 0o022).toString(8)})`));
    calls.push(closeFromCall(3 + passed));
    calls.push(...seccompAt(proc, load, 'before-exec'));
    calls.push(execveCall(program, proc));
    const child = startProgram(calls, {
      label: 'exec',
      runAhead: true,
      defences: childDefences(passed, held),
      // While it joins the namespaces: in the cgroups before it forks.
      alongside: (pid) => moveIntoCgroups(state.cgroups, pid, 'the process'),
    });
    if (opts.pidFile) writePidFile(opts.pidFile, child.pid);
    return { pid: child.pid, state, consoleFd: channel?.ourFd };
  } catch (err) {
    if (channel?.ourFd !== undefined) closeSync(channel.ourFd);
    throw err;
  } finally {
    for (const fd of fds) closeSync(fd);
    if (channel) closeSync(channel.childFd);
  }
}

/**
 * update: new limits for a container that exists (memory, swap, pids, cpu),
 * written through the cgroup layer; the new values are kept in state.json.
 */
export function updateContainer(rt: Runtime, id: string, resources: OciLinuxResources): void {
  const state = loadState(rt.root, id);
  const status = currentStatus(rt.root, state);
  guard('update', id, status);
  if (!state.cgroup) throw new WrongState(id, status, 'the container has no cgroup');
  containerCgroup(state.cgroup).applyResources(resources);
  const r = (state.config.resources ??= { devices: [] });
  if (resources.memory) r.memory = { ...r.memory, ...resources.memory };
  if (resources.pids?.limit !== undefined) r.pids = { limit: resources.pids.limit };
  if (resources.cpu) r.cpu = { ...r.cpu, ...resources.cpu } as Resources['cpu'];
  saveState(rt.root, state);
}
