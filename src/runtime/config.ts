// The bundle's config.json, read and checked: every field this runtime acts
// on is validated with an error naming it, and every field it does not
// implement is refused by name rather than silently ignored.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { BundleError, ConfigError } from './errors.js';
import { SeccompConfig, readSeccomp } from './seccomp.js';
import { NAMESPACES, NamespaceName, NamespaceType, decodeNamespaceFlags } from '../syscalls/namespaces.js';
import { Call, makeCall } from '../syscalls/call.js';
import { PROPAGATION_FLAGS } from '../syscalls/mount.js';
import { MS } from '../syscalls/constants.js';

export interface User {
  uid: number;
  gid: number;
  additionalGids: number[];
  umask?: number;
}

export interface Capabilities {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable: string[];
  ambient: string[];
}

export interface Rlimit {
  type: string;
  hard: number;
  soft: number;
}

export interface ProcessSpec {
  terminal: boolean;
  user: User;
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: Capabilities;
  rlimits: Rlimit[];
  noNewPrivileges: boolean;
  oomScoreAdj?: number;
  /** AppArmor profile the program is confined by from its execve (runc: apparmor.ApplyProfile). */
  apparmorProfile?: string;
}

export interface MountSpec {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export interface NamespaceSpec {
  type: NamespaceKind;
  path?: string;
}

export type NamespaceKind = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';
export const NAMESPACE_KINDS: readonly NamespaceKind[] = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup'];

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface DeviceRule {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}

export interface DeviceNode {
  path: string;
  type: 'c' | 'b' | 'u' | 'p';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface Resources {
  memory?: {
    limit?: number;
    swap?: number;
    reservation?: number;
    kernel?: number;
    kernelTCP?: number;
    swappiness?: number;
    disableOOMKiller?: boolean;
  };
  pids?: { limit: number };
  cpu?: {
    shares?: number;
    quota?: number;
    period?: number;
    realtimeRuntime?: number;
    realtimePeriod?: number;
    cpus?: string;
    mems?: string;
  };
  devices: DeviceRule[];
}

export interface Hook {
  path: string;
  args: string[];
  env: string[];
  timeout?: number;
}

export type HookKind = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

export interface ContainerConfig {
  ociVersion: string;
  bundle: string;
  rootfs: string;
  readonlyRoot: boolean;
  process: ProcessSpec;
  hostname?: string;
  mounts: MountSpec[];
  namespaces: NamespaceSpec[];
  uidMappings: IdMapping[];
  gidMappings: IdMapping[];
  resources?: Resources;
  cgroupsPath?: string;
  maskedPaths: string[];
  readonlyPaths: string[];
  devices: DeviceNode[];
  sysctl: Record<string, string>;
  rootfsPropagation?: string;
  hooks: Partial<Record<HookKind, Hook[]>>;
  annotations: Record<string, string>;
  /** linux.seccomp, checked; compiled by createContainer (and again by exec). */
  seccomp?: SeccompConfig;
  /** What the config asks for that this runtime does not do, to be printed as warnings. */
  warnings: string[];
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Field readers that name the field on error. */
export class Reader {
  constructor(
    readonly path: string,
    readonly obj: Json,
  ) {}
  at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }
  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }
  string(key: string, required = false): string | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (required) throw new ConfigError(this.at(key), 'missing');
      return undefined;
    }
    if (typeof v !== 'string') throw new ConfigError(this.at(key), 'must be a string');
    return v;
  }
  bool(key: string): boolean | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw new ConfigError(this.at(key), 'must be true or false');
    return v;
  }
  int(key: string, required = false, min = -Infinity): number | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (required) throw new ConfigError(this.at(key), 'missing');
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(this.at(key), 'must be an integer');
    if (v < min) throw new ConfigError(this.at(key), `must be at least ${min}`);
    return v;
  }
  strings(key: string): string[] | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
      throw new ConfigError(this.at(key), 'must be a list of strings');
    return v as string[];
  }
  ints(key: string): number[] | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isInteger(x)))
      throw new ConfigError(this.at(key), 'must be a list of integers');
    return v as number[];
  }
  object(key: string): Reader | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) throw new ConfigError(this.at(key), 'must be an object');
    return new Reader(this.at(key), v);
  }
  list(key: string): Reader[] {
    const v = this.obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new ConfigError(this.at(key), 'must be a list');
    return v.map((x, i) => {
      if (!isObject(x)) throw new ConfigError(`${this.at(key)}[${i}]`, 'must be an object');
      return new Reader(`${this.at(key)}[${i}]`, x);
    });
  }
  /** Refuse a field this runtime does not implement, when it is set to something. */
  refuse(key: string): void {
    const v = this.obj[key];
    if (
      v === undefined ||
      v === null ||
      v === '' ||
      (Array.isArray(v) && v.length === 0) ||
      (isObject(v) && Object.keys(v).length === 0)
    )
      return;
    throw new ConfigError(this.at(key), 'setting it', true);
  }
}

export const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

export const CAPABILITY_NAMES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

function readProcess(r: Reader, forExec = false): ProcessSpec {
  const args = r.strings('args');
  if (!args || args.length === 0) throw new ConfigError(r.at('args'), 'must name the program to run');
  const cwd = r.string('cwd') ?? (forExec ? '/' : undefined);
  if (cwd === undefined) throw new ConfigError(r.at('cwd'), 'missing');
  if (!isAbsolute(cwd)) throw new ConfigError(r.at('cwd'), 'must be an absolute path');
  const u = r.object('user');
  const user: User = { uid: 0, gid: 0, additionalGids: [] };
  if (u) {
    user.uid = u.int('uid', false, 0) ?? 0;
    user.gid = u.int('gid', false, 0) ?? 0;
    user.additionalGids = u.ints('additionalGids') ?? [];
    user.umask = u.int('umask', false, 0);
    u.refuse('username');
  }
  let capabilities: Capabilities | undefined;
  const c = r.object('capabilities');
  if (c) {
    const set = (k: string) => {
      const names = c.strings(k) ?? [];
      names.forEach((n, i) => {
        if (!CAPABILITY_NAMES.includes(n))
          throw new ConfigError(`${c.at(k)}[${i}]`, `unknown capability ${JSON.stringify(n)}`);
      });
      return names;
    };
    capabilities = {
      bounding: set('bounding'),
      effective: set('effective'),
      permitted: set('permitted'),
      inheritable: set('inheritable'),
      ambient: set('ambient'),
    };
  }
  const rlimits = r.list('rlimits').map((l) => {
    const type = l.string('type', true)!;
    if (!(type in RLIMITS)) throw new ConfigError(l.at('type'), `unknown rlimit ${JSON.stringify(type)}`);
    return { type, hard: l.int('hard', true, 0)!, soft: l.int('soft', true, 0)! };
  });
  for (const key of ['selinuxLabel', 'consoleSize', 'ioPriority', 'scheduler', 'execCPUAffinity']) {
    if (key === 'consoleSize') continue; // only a size hint for the terminal
    r.refuse(key);
  }
  const oom = r.int('oomScoreAdj');
  const apparmor = r.string('apparmorProfile');
  if (oom !== undefined && (oom < -1000 || oom > 1000))
    throw new ConfigError(r.at('oomScoreAdj'), 'must be between -1000 and 1000');
  return {
    terminal: r.bool('terminal') ?? false,
    user,
    args,
    env: r.strings('env') ?? [],
    cwd,
    capabilities,
    rlimits,
    noNewPrivileges: r.bool('noNewPrivileges') ?? false,
    oomScoreAdj: oom,
    ...(apparmor ? { apparmorProfile: apparmor } : {}),
  };
}

/** A process.json for exec (the same shape as config.json's process). */
export function parseProcess(json: unknown, path = 'process'): ProcessSpec {
  if (!isObject(json)) throw new ConfigError(path, 'must be an object');
  return readProcess(new Reader(path, json), true);
}

/** The hooks of the OCI spec, in the order they run; REFUSED_HOOKS are the ones this runtime does not run. */
export const HOOK_KINDS: readonly HookKind[] = [
  'prestart',
  'createRuntime',
  'createContainer',
  'startContainer',
  'poststart',
  'poststop',
];
export const REFUSED_HOOKS: readonly HookKind[] = ['createContainer'];

function readHooks(r: Reader | undefined): ContainerConfig['hooks'] {
  const hooks: ContainerConfig['hooks'] = {};
  if (!r) return hooks;
  const kinds = HOOK_KINDS;
  for (const kind of kinds) {
    const list = r.list(kind);
    if (!list.length) continue;
    if (REFUSED_HOOKS.includes(kind)) r.refuse(kind);
    hooks[kind] = list.map((h) => {
      const path = h.string('path', true)!;
      if (!isAbsolute(path)) throw new ConfigError(h.at('path'), 'must be an absolute path');
      return {
        path,
        args: h.strings('args') ?? [path],
        env: h.strings('env') ?? [],
        timeout: h.int('timeout', false, 1),
      };
    });
  }
  for (const key of Object.keys(r.obj))
    if (!kinds.includes(key as HookKind)) throw new ConfigError(r.at(key), 'an unknown hook', true);
  return hooks;
}

function readResources(r: Reader | undefined): Resources | undefined {
  if (!r) return undefined;
  const res: Resources = { devices: [] };
  const m = r.object('memory');
  if (m) {
    res.memory = {
      limit: m.int('limit'),
      swap: m.int('swap'),
      reservation: m.int('reservation'),
      kernel: m.int('kernel'),
      kernelTCP: m.int('kernelTCP'),
      swappiness: m.int('swappiness', false, 0),
      disableOOMKiller: m.bool('disableOOMKiller'),
    };
    if (res.memory.swappiness !== undefined && res.memory.swappiness > 100)
      throw new ConfigError(m.at('swappiness'), 'must be between 0 and 100');
    for (const k of ['useHierarchy', 'checkBeforeUpdate']) m.refuse(k);
  }
  const p = r.object('pids');
  if (p) res.pids = { limit: p.int('limit', true)! };
  const c = r.object('cpu');
  if (c) {
    res.cpu = {
      shares: c.int('shares', false, 0),
      quota: c.int('quota'),
      period: c.int('period', false, 0),
      realtimeRuntime: c.int('realtimeRuntime'),
      realtimePeriod: c.int('realtimePeriod', false, 0),
      cpus: c.string('cpus') || undefined,
      mems: c.string('mems') || undefined,
    };
    for (const k of ['idle', 'burst']) c.refuse(k);
  }
  res.devices = r.list('devices').map((d) => {
    const access = d.string('access');
    if (access !== undefined && !/^[rwm]*$/.test(access))
      throw new ConfigError(d.at('access'), `invalid access ${JSON.stringify(access)}`);
    const type = d.string('type');
    if (type !== undefined && !['a', 'b', 'c'].includes(type))
      throw new ConfigError(d.at('type'), `invalid device type ${JSON.stringify(type)}`);
    const allow = d.bool('allow');
    if (allow === undefined) throw new ConfigError(d.at('allow'), 'missing');
    return { allow, type, major: d.int('major'), minor: d.int('minor'), access };
  });
  for (const k of ['blockIO', 'hugepageLimits', 'network', 'rdma', 'unified']) r.refuse(k);
  return res;
}

/** OCI's namespace names -> the kernel's, whose table (flag, /proc/PID/ns file) is syscalls/namespaces.ts. */
const KERNEL_NAMESPACE: Record<NamespaceKind, NamespaceName> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
};

function namespaceType(kind: NamespaceKind): NamespaceType {
  return NAMESPACES.find((n) => n.name === KERNEL_NAMESPACE[kind])!;
}

/** The CLONE_NEW* flag of an OCI namespace type. */
export function namespaceFlag(kind: NamespaceKind): number {
  return namespaceType(kind).flag;
}

/**
 * The order the runtime joins a container's namespaces in (setns(2)), as
 * runc does: user first (it owns the rest), mount last (the /proc paths of
 * the others still resolve). util-linux's order (syscalls/namespaces.ts)
 * differs only in where cgroup comes.
 */
export const JOIN_ORDER: readonly NamespaceKind[] = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'mount'];

/** setns(2) into a namespace by fd, shown as strace shows it (the file, the decoded flag); a gate of the plan. */
export function joinNamespaceCall(fd: number, path: string, kind: NamespaceKind, what: string): Call {
  const flag = namespaceFlag(kind);
  return makeCall('setns', [fd, flag], `setns(${fd}<${path}>, ${decodeNamespaceFlags(flag)})`, { what, gate: true });
}

/** The file of an OCI namespace type in /proc/PID/ns. */
export function namespaceFile(kind: NamespaceKind): string {
  return namespaceType(kind).name;
}

function readMounts(top: Reader): MountSpec[] {
  return top.list('mounts').map((m) => {
    const destination = m.string('destination', true)!;
    if (!isAbsolute(destination))
      throw new ConfigError(m.at('destination'), `must be an absolute path, not ${JSON.stringify(destination)}`);
    return {
      destination,
      type: m.string('type') ?? 'none',
      source: m.string('source') ?? '',
      options: m.strings('options') ?? [],
    };
  });
}

function readNamespaces(linux: Reader): NamespaceSpec[] {
  const seen = new Set<string>();
  return linux.list('namespaces').map((n) => {
    const type = n.string('type', true)!;
    if (!NAMESPACE_KINDS.includes(type as NamespaceKind)) {
      if (type === 'time') throw new ConfigError(n.at('type'), 'a time namespace', true);
      throw new ConfigError(n.at('type'), `unknown namespace type ${JSON.stringify(type)}`);
    }
    if (seen.has(type)) throw new ConfigError(n.at('type'), `namespace ${JSON.stringify(type)} is listed twice`);
    seen.add(type);
    const path = n.string('path');
    if (path !== undefined && path !== '' && !isAbsolute(path))
      throw new ConfigError(n.at('path'), 'must be an absolute path');
    return { type: type as NamespaceKind, ...(path ? { path } : {}) };
  });
}

function readIdMappings(linux: Reader, key: 'uidMappings' | 'gidMappings'): IdMapping[] {
  return linux.list(key).map((m) => ({
    containerID: m.int('containerID', true, 0)!,
    hostID: m.int('hostID', true, 0)!,
    size: m.int('size', true, 1)!,
  }));
}

function readDevices(linux: Reader): DeviceNode[] {
  return linux.list('devices').map((d) => {
    const path = d.string('path', true)!;
    if (!isAbsolute(path)) throw new ConfigError(d.at('path'), 'must be an absolute path');
    const type = d.string('type', true)!;
    if (!['c', 'b', 'u', 'p'].includes(type))
      throw new ConfigError(d.at('type'), `invalid device type ${JSON.stringify(type)}`);
    const number = (key: string) => d.int(key, type !== 'p', 0) ?? 0;
    return {
      path,
      type: type as DeviceNode['type'],
      major: number('major'),
      minor: number('minor'),
      fileMode: d.int('fileMode', false, 0),
      uid: d.int('uid', false, 0),
      gid: d.int('gid', false, 0),
    };
  });
}

/** A string -> string object (linux.sysctl, annotations). */
function readStringMap(r: Reader | undefined): Record<string, string> {
  const map: Record<string, string> = {};
  if (r) for (const k of Object.keys(r.obj)) map[k] = r.string(k, true)!;
  return map;
}

function readPaths(linux: Reader, key: 'maskedPaths' | 'readonlyPaths'): string[] {
  const list = linux.strings(key) ?? [];
  list.forEach((p, i) => {
    if (!isAbsolute(p)) throw new ConfigError(`linux.${key}[${i}]`, 'must be an absolute path');
  });
  return list;
}

/** Fields of the spec this runtime does not implement: refused by name when set. */
function refuseUnsupported(top: Reader, linux: Reader): void {
  for (const key of ['intelRdt', 'personality', 'mountLabel', 'timeOffsets']) linux.refuse(key);
  for (const key of ['solaris', 'windows', 'vm']) top.refuse(key);
}

/** Parse a config.json already read as JSON (each field's type and form); `bundle` is absolute. Then CONFIG_CHECKS. */
export function parseConfig(json: unknown, bundle: string): ContainerConfig {
  if (!isObject(json)) throw new ConfigError('config.json', 'must be a JSON object');
  const top = new Reader('', json);
  const ociVersion = top.string('ociVersion', true)!;
  const root = top.object('root');
  if (!root) throw new ConfigError('root', 'missing');
  const rootfs = resolve(bundle, root.string('path', true)!);
  const proc = top.object('process');
  if (!proc) throw new ConfigError('process', 'missing');
  const process = readProcess(proc);
  const mounts = readMounts(top);
  const linux = top.object('linux') ?? new Reader('linux', {});
  const propagation = linux.string('rootfsPropagation');
  if (propagation !== undefined && propagation !== '' && !PROPAGATIONS[propagation])
    throw new ConfigError('linux.rootfsPropagation', `invalid propagation ${JSON.stringify(propagation)}`);
  const config: ContainerConfig = {
    ociVersion,
    bundle,
    rootfs,
    readonlyRoot: root.bool('readonly') ?? false,
    process,
    hostname: top.string('hostname') || undefined,
    mounts,
    namespaces: readNamespaces(linux),
    uidMappings: readIdMappings(linux, 'uidMappings'),
    gidMappings: readIdMappings(linux, 'gidMappings'),
    devices: readDevices(linux),
    sysctl: readStringMap(linux.object('sysctl')),
    rootfsPropagation: propagation || undefined,
    seccomp: readSeccomp(linux.object('seccomp')),
    annotations: readStringMap(top.object('annotations')),
    resources: readResources(linux.object('resources')),
    cgroupsPath: linux.string('cgroupsPath') || undefined,
    maskedPaths: readPaths(linux, 'maskedPaths'),
    readonlyPaths: readPaths(linux, 'readonlyPaths'),
    hooks: readHooks(top.object('hooks')),
    warnings: [],
  };
  refuseUnsupported(top, linux);
  for (const check of CONFIG_CHECKS) check.run(config);
  return config;
}

/** One rule between fields of a parsed config; `run` throws a ConfigError naming the field. */
export interface ConfigCheck {
  name: string;
  run: (config: ContainerConfig) => void;
}

const IPC_SYSCTLS = [
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
];

/** The namespace a sysctl belongs to; undefined: it is the host's. */
function sysctlNamespace(key: string): NamespaceKind | undefined {
  if (IPC_SYSCTLS.includes(key) || key.startsWith('fs.mqueue.')) return 'ipc';
  if (key.startsWith('net.')) return 'network';
  if (key === 'kernel.hostname' || key === 'kernel.domainname') return 'uts';
  return undefined;
}

const has = (config: ContainerConfig, type: NamespaceKind) => config.namespaces.some((n) => n.type === type);

/** The checks between fields, in the order they are made. */
export const CONFIG_CHECKS: readonly ConfigCheck[] = [
  {
    name: 'id mappings need a user namespace',
    run: (c) => {
      if ((c.uidMappings.length || c.gidMappings.length) && !has(c, 'user'))
        throw new ConfigError('linux.uidMappings', 'id mappings need a user namespace in linux.namespaces');
    },
  },
  {
    name: 'a new user namespace needs both maps',
    run: (c) => {
      const userns = c.namespaces.find((n) => n.type === 'user');
      if (userns && !userns.path && (!c.uidMappings.length || !c.gidMappings.length))
        throw new ConfigError('linux.uidMappings', 'a new user namespace needs uidMappings and gidMappings');
    },
  },
  {
    name: 'a hostname needs a uts namespace',
    run: (c) => {
      if (c.hostname && !has(c, 'uts'))
        throw new ConfigError('hostname', 'setting a hostname needs a uts namespace in linux.namespaces');
    },
  },
  {
    // Only sysctls of a namespace the container has of its own: any other would be written for the whole host.
    name: 'sysctls only of namespaces of its own',
    run: (c) => {
      for (const key of Object.keys(c.sysctl)) {
        const needs = sysctlNamespace(key);
        if (!needs)
          throw new ConfigError(`linux.sysctl.${key}`, 'not a namespaced sysctl: it would change the host', true);
        if (!c.namespaces.some((n) => n.type === needs && !n.path))
          throw new ConfigError(`linux.sysctl.${key}`, `needs a new ${needs} namespace in linux.namespaces`);
      }
    },
  },
  {
    // Without a mount namespace of its own the container shares the host's
    // root and mounts (runc then mounts nothing, and neither do we): paths
    // cannot be masked or made read-only for it alone, so that is refused, as runc does.
    name: 'masked and read-only paths need a mount namespace',
    run: (c) => {
      for (const key of ['maskedPaths', 'readonlyPaths'] as const) {
        if (c[key].length && !has(c, 'mount'))
          throw new ConfigError(`linux.${key}`, 'unable to restrict sys entries without a private MNT namespace');
      }
    },
  },
];

/** MS_* flags of linux.rootfsPropagation and of the propagation mount options: each type, and its r-form with MS_REC. */
export const PROPAGATIONS: Record<string, number> = Object.fromEntries(
  Object.entries(PROPAGATION_FLAGS).flatMap(([name, flag]) => [
    [name, flag],
    [`r${name}`, flag | MS.MS_REC],
  ]),
);

/** Read BUNDLE/config.json. */
export function loadConfig(bundleDir: string): ContainerConfig {
  const bundle = resolve(bundleDir);
  const file = join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new BundleError(file, 'JSON specification file config.json not found');
    throw new BundleError(file, `cannot read ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BundleError(file, `config.json: ${(err as Error).message}`);
  }
  return parseConfig(json, bundle);
}
