// parseConfig without root and without the kernel: every field it reads, and
// every refusal, on plain JSON. The built binary's tests (test/runc*.test.ts)
// check that the same config does what it says on a real kernel.
import t, { Test } from 'tap';
import { CONFIG_CHECKS, parseConfig, parseProcess } from '../../src/runtime/config.js';
import { ConfigError } from '../../src/runtime/errors.js';
import { defaultSpec } from '../../src/runtime/spec.js';

type Json = Record<string, any>;

/** The smallest config parseConfig takes, with `change` applied to a copy. */
function config(change: (c: Json) => void = () => undefined): Json {
  const c: Json = { ociVersion: '1.0.2', root: { path: 'rootfs' }, process: { args: ['sh'], cwd: '/' } };
  change(c);
  return c;
}

const parse = (c: Json) => parseConfig(c, '/bundle');

/** parseConfig refuses `c` with a ConfigError naming `field`, whose message matches `message`. */
function refuses(t: Test, c: Json, field: string, message: RegExp, unsupported = false): void {
  try {
    parse(c);
    t.fail(`${field}: accepted`);
  } catch (err) {
    t.ok(err instanceof ConfigError, `${field}: a ConfigError`);
    const e = err as ConfigError;
    t.equal(e.field, field, `names ${field}`);
    t.match(e.message, message, `${field}: ${e.message}`);
    t.equal(e.unsupported, unsupported, unsupported ? 'refused as not supported' : 'refused as wrong');
  }
}

t.test('the smallest config: every default', async (t) => {
  const c = parse(config());
  t.same(c, {
    ociVersion: '1.0.2',
    bundle: '/bundle',
    rootfs: '/bundle/rootfs',
    readonlyRoot: false,
    process: {
      terminal: false,
      user: { uid: 0, gid: 0, additionalGids: [] },
      args: ['sh'],
      env: [],
      cwd: '/',
      capabilities: undefined,
      rlimits: [],
      noNewPrivileges: false,
      oomScoreAdj: undefined,
    },
    hostname: undefined,
    mounts: [],
    namespaces: [],
    uidMappings: [],
    gidMappings: [],
    devices: [],
    sysctl: {},
    rootfsPropagation: undefined,
    seccomp: undefined,
    annotations: {},
    resources: undefined,
    cgroupsPath: undefined,
    maskedPaths: [],
    readonlyPaths: [],
    hooks: {},
    warnings: [],
  });
  t.equal(
    parse(config((c) => (c.root.path = '/abs/root'))).rootfs,
    '/abs/root',
    'an absolute root.path is taken as it is',
  );
});

t.test('every field read', async (t) => {
  const c = parse(
    config((c) => {
      c.root.readonly = true;
      c.hostname = 'box';
      c.process = {
        terminal: true,
        user: { uid: 1000, gid: 100, additionalGids: [5, 6], umask: 0o077 },
        args: ['/bin/echo', 'hi'],
        env: ['A=1'],
        cwd: '/work',
        capabilities: {
          bounding: ['CAP_KILL'],
          effective: ['CAP_KILL'],
          permitted: ['CAP_KILL'],
          inheritable: [],
          ambient: [],
        },
        rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 512 }],
        noNewPrivileges: true,
        oomScoreAdj: 100,
        consoleSize: { height: 24, width: 80 },
        apparmorProfile: 'cri-containerd.apparmor.d',
      };
      c.mounts = [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/data', source: '/host', options: ['rbind', 'ro'] },
      ];
      c.hooks = {
        prestart: [{ path: '/bin/true' }],
        poststop: [{ path: '/bin/echo', args: ['echo', 'x'], env: ['B=2'], timeout: 3 }],
      };
      c.annotations = { 'org.example': 'yes' };
      c.linux = {
        namespaces: [
          { type: 'pid' },
          { type: 'network' },
          { type: 'mount' },
          { type: 'ipc' },
          { type: 'uts' },
          { type: 'user' },
          { type: 'cgroup', path: '/proc/1/ns/cgroup' },
        ],
        uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
        gidMappings: [{ containerID: 0, hostID: 100, size: 1 }],
        devices: [
          { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
          { path: '/dev/p', type: 'p' },
        ],
        sysctl: {
          'net.ipv4.ip_forward': '1',
          'kernel.shmmax': '1000',
          'fs.mqueue.msg_max': '20',
          'kernel.domainname': 'd',
        },
        rootfsPropagation: 'rslave',
        cgroupsPath: '/box',
        maskedPaths: ['/proc/kcore'],
        readonlyPaths: ['/proc/sys'],
        resources: {
          memory: {
            limit: 1 << 20,
            swap: 2 << 20,
            reservation: 1 << 19,
            kernel: 0,
            kernelTCP: 0,
            swappiness: 10,
            disableOOMKiller: true,
          },
          pids: { limit: 20 },
          cpu: {
            shares: 512,
            quota: 50000,
            period: 100000,
            realtimeRuntime: 0,
            realtimePeriod: 0,
            cpus: '0',
            mems: '0',
          },
          devices: [
            { allow: false, access: 'rwm' },
            { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
          ],
        },
      };
    }),
  );
  t.equal(c.readonlyRoot, true, 'root.readonly');
  t.equal(c.hostname, 'box', 'hostname');
  t.same(c.process.user, { uid: 1000, gid: 100, additionalGids: [5, 6], umask: 0o077 }, 'process.user');
  t.same(
    [c.process.terminal, c.process.noNewPrivileges, c.process.oomScoreAdj, c.process.cwd],
    [true, true, 100, '/work'],
    'process flags and cwd',
  );
  t.equal(
    c.process.apparmorProfile,
    'cri-containerd.apparmor.d',
    'process.apparmorProfile (applied at execve: init-plan apparmorCalls)',
  );
  t.same(c.process.capabilities?.bounding, ['CAP_KILL'], 'capabilities');
  t.same(c.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 512 }], 'rlimits');
  t.same(
    c.mounts,
    [
      { destination: '/proc', type: 'proc', source: 'proc', options: [] },
      { destination: '/data', type: 'none', source: '/host', options: ['rbind', 'ro'] },
    ],
    'mounts, with type none and no options by default',
  );
  t.same(
    c.namespaces.map((n) => n.type),
    ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup'],
    'namespaces, in order',
  );
  t.equal(c.namespaces[6].path, '/proc/1/ns/cgroup', 'a namespace path');
  t.same(c.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }], 'uidMappings');
  t.same(
    c.devices[1],
    { path: '/dev/p', type: 'p', major: 0, minor: 0, fileMode: undefined, uid: undefined, gid: undefined },
    'a fifo needs no numbers',
  );
  t.equal(Object.keys(c.sysctl).length, 4, 'namespaced sysctls of ipc, network and uts');
  t.equal(c.rootfsPropagation, 'rslave', 'rootfsPropagation');
  t.equal(c.cgroupsPath, '/box', 'cgroupsPath');
  t.same([c.maskedPaths, c.readonlyPaths], [['/proc/kcore'], ['/proc/sys']], 'masked and read-only paths');
  t.same(c.hooks.poststop, [{ path: '/bin/echo', args: ['echo', 'x'], env: ['B=2'], timeout: 3 }], 'hooks');
  t.same(
    c.hooks.prestart,
    [{ path: '/bin/true', args: ['/bin/true'], env: [], timeout: undefined }],
    'a hook without args runs as its path',
  );
  t.same(c.annotations, { 'org.example': 'yes' }, 'annotations');
  t.same(c.resources?.pids, { limit: 20 }, 'resources.pids');
  t.equal(c.resources?.memory?.swappiness, 10, 'resources.memory');
  t.equal(c.resources?.cpu?.cpus, '0', 'resources.cpu');
  t.same(c.resources?.devices[1], { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }, 'resources.devices');
});

t.test("ts-runc spec's config parses (root and rootless, with and without a cgroup namespace)", async (t) => {
  for (const rootless of [undefined, { uid: 1000, gid: 1000 }])
    for (const cgroupns of [false, true]) {
      const c = parse(defaultSpec(rootless, cgroupns) as Json);
      t.equal(
        c.namespaces.some((n) => n.type === 'cgroup'),
        cgroupns,
        `rootless ${!!rootless}, cgroupns ${cgroupns}`,
      );
    }
});

t.test('every refusal', async (t) => {
  const cases: Array<[string, (c: Json) => void, string, RegExp, boolean?]> = [
    ['ociVersion missing', (c) => delete c.ociVersion, 'ociVersion', /missing/],
    ['ociVersion not a string', (c) => (c.ociVersion = 1), 'ociVersion', /must be a string/],
    ['root missing', (c) => delete c.root, 'root', /missing/],
    ['root.path missing', (c) => (c.root = {}), 'root.path', /missing/],
    ['root.readonly not a boolean', (c) => (c.root.readonly = 'yes'), 'root.readonly', /must be true or false/],
    ['process missing', (c) => delete c.process, 'process', /missing/],
    ['process not an object', (c) => (c.process = []), 'process', /must be an object/],
    ['no args', (c) => (c.process.args = []), 'process.args', /must name the program/],
    ['args not strings', (c) => (c.process.args = [1]), 'process.args', /list of strings/],
    ['cwd missing', (c) => delete c.process.cwd, 'process.cwd', /missing/],
    ['cwd relative', (c) => (c.process.cwd = 'work'), 'process.cwd', /absolute path/],
    ['negative uid', (c) => (c.process.user = { uid: -1 }), 'process.user.uid', /at least 0/],
    ['gid not an integer', (c) => (c.process.user = { gid: 1.5 }), 'process.user.gid', /must be an integer/],
    [
      'additionalGids not integers',
      (c) => (c.process.user = { additionalGids: ['a'] }),
      'process.user.additionalGids',
      /list of integers/,
    ],
    [
      'username',
      (c) => (c.process.user = { username: 'root' }),
      'process.user.username',
      /setting it is not supported/,
      true,
    ],
    [
      'unknown capability',
      (c) => (c.process.capabilities = { bounding: ['CAP_NOPE'] }),
      'process.capabilities.bounding[0]',
      /unknown capability "CAP_NOPE"/,
    ],
    [
      'unknown rlimit',
      (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOPE', hard: 1, soft: 1 }]),
      'process.rlimits[0].type',
      /unknown rlimit/,
    ],
    [
      'rlimit without hard',
      (c) => (c.process.rlimits = [{ type: 'RLIMIT_CORE', soft: 1 }]),
      'process.rlimits[0].hard',
      /missing/,
    ],
    ['rlimits not a list', (c) => (c.process.rlimits = {}), 'process.rlimits', /must be a list/],
    ['rlimit not an object', (c) => (c.process.rlimits = [1]), 'process.rlimits[0]', /must be an object/],
    ['selinuxLabel', (c) => (c.process.selinuxLabel = 'l'), 'process.selinuxLabel', /not supported/, true],
    [
      'ioPriority',
      (c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_IDLE' }),
      'process.ioPriority',
      /not supported/,
      true,
    ],
    ['scheduler', (c) => (c.process.scheduler = { policy: 'SCHED_IDLE' }), 'process.scheduler', /not supported/, true],
    [
      'execCPUAffinity',
      (c) => (c.process.execCPUAffinity = { initial: '0' }),
      'process.execCPUAffinity',
      /not supported/,
      true,
    ],
    [
      'oomScoreAdj out of range',
      (c) => (c.process.oomScoreAdj = 1001),
      'process.oomScoreAdj',
      /between -1000 and 1000/,
    ],
    ['mount destination missing', (c) => (c.mounts = [{ source: 'x' }]), 'mounts[0].destination', /missing/],
    [
      'mount destination relative',
      (c) => (c.mounts = [{ destination: 'proc' }]),
      'mounts[0].destination',
      /absolute path, not "proc"/,
    ],
    [
      'mount options not strings',
      (c) => (c.mounts = [{ destination: '/x', options: [1] }]),
      'mounts[0].options',
      /list of strings/,
    ],
    ['linux not an object', (c) => (c.linux = 'x'), 'linux', /must be an object/],
    [
      'unknown namespace',
      (c) => (c.linux = { namespaces: [{ type: 'nope' }] }),
      'linux.namespaces[0].type',
      /unknown namespace type "nope"/,
    ],
    [
      'time namespace',
      (c) => (c.linux = { namespaces: [{ type: 'time' }] }),
      'linux.namespaces[0].type',
      /a time namespace is not supported/,
      true,
    ],
    [
      'namespace twice',
      (c) => (c.linux = { namespaces: [{ type: 'pid' }, { type: 'pid' }] }),
      'linux.namespaces[1].type',
      /listed twice/,
    ],
    [
      'namespace path relative',
      (c) => (c.linux = { namespaces: [{ type: 'pid', path: 'ns/pid' }] }),
      'linux.namespaces[0].path',
      /absolute path/,
    ],
    [
      'mapping size 0',
      (c) => (c.linux = { namespaces: [{ type: 'user' }], uidMappings: [{ containerID: 0, hostID: 0, size: 0 }] }),
      'linux.uidMappings[0].size',
      /at least 1/,
    ],
    [
      'mappings without a user namespace',
      (c) => (c.linux = { uidMappings: [{ containerID: 0, hostID: 0, size: 1 }] }),
      'linux.uidMappings',
      /need a user namespace/,
    ],
    [
      'new user namespace without gid maps',
      (c) => (c.linux = { namespaces: [{ type: 'user' }], uidMappings: [{ containerID: 0, hostID: 0, size: 1 }] }),
      'linux.uidMappings',
      /needs uidMappings and gidMappings/,
    ],
    ['hostname without uts', (c) => (c.hostname = 'box'), 'hostname', /needs a uts namespace/],
    [
      'device path relative',
      (c) => (c.linux = { devices: [{ path: 'dev/x', type: 'c', major: 1, minor: 1 }] }),
      'linux.devices[0].path',
      /absolute path/,
    ],
    [
      'device type unknown',
      (c) => (c.linux = { devices: [{ path: '/dev/x', type: 'z' }] }),
      'linux.devices[0].type',
      /invalid device type "z"/,
    ],
    [
      'char device without major',
      (c) => (c.linux = { devices: [{ path: '/dev/x', type: 'c', minor: 1 }] }),
      'linux.devices[0].major',
      /missing/,
    ],
    [
      'sysctl value not a string',
      (c) => (c.linux = { namespaces: [{ type: 'network' }], sysctl: { 'net.x': 1 } }),
      'linux.sysctl.net.x',
      /must be a string/,
    ],
    [
      'host sysctl',
      (c) => (c.linux = { sysctl: { 'vm.swappiness': '1' } }),
      'linux.sysctl.vm.swappiness',
      /it would change the host is not supported/,
      true,
    ],
    [
      'net sysctl without a network namespace',
      (c) => (c.linux = { sysctl: { 'net.ipv4.ip_forward': '1' } }),
      'linux.sysctl.net.ipv4.ip_forward',
      /needs a new network namespace/,
    ],
    [
      'ipc sysctl in a joined ipc namespace',
      (c) => (c.linux = { namespaces: [{ type: 'ipc', path: '/proc/1/ns/ipc' }], sysctl: { 'kernel.shmmax': '1' } }),
      'linux.sysctl.kernel.shmmax',
      /needs a new ipc namespace/,
    ],
    [
      'rootfsPropagation unknown',
      (c) => (c.linux = { rootfsPropagation: 'sideways' }),
      'linux.rootfsPropagation',
      /invalid propagation "sideways"/,
    ],
    [
      'maskedPaths relative',
      (c) => (c.linux = { namespaces: [{ type: 'mount' }], maskedPaths: ['proc/kcore'] }),
      'linux.maskedPaths[0]',
      /absolute path/,
    ],
    [
      'maskedPaths without a mount namespace',
      (c) => (c.linux = { maskedPaths: ['/proc/kcore'] }),
      'linux.maskedPaths',
      /without a private MNT namespace/,
    ],
    [
      'readonlyPaths without a mount namespace',
      (c) => (c.linux = { readonlyPaths: ['/proc/sys'] }),
      'linux.readonlyPaths',
      /without a private MNT namespace/,
    ],
    ['intelRdt', (c) => (c.linux = { intelRdt: { closID: 'x' } }), 'linux.intelRdt', /not supported/, true],
    [
      'personality',
      (c) => (c.linux = { personality: { domain: 'LINUX32' } }),
      'linux.personality',
      /not supported/,
      true,
    ],
    ['mountLabel', (c) => (c.linux = { mountLabel: 'l' }), 'linux.mountLabel', /not supported/, true],
    [
      'timeOffsets',
      (c) => (c.linux = { timeOffsets: { monotonic: { secs: 1 } } }),
      'linux.timeOffsets',
      /not supported/,
      true,
    ],
    ['solaris', (c) => (c.solaris = { milestone: 'x' }), 'solaris', /not supported/, true],
    ['windows', (c) => (c.windows = { layerFolders: ['x'] }), 'windows', /not supported/, true],
    ['vm', (c) => (c.vm = { kernel: { path: '/k' } }), 'vm', /not supported/, true],
    ['annotation not a string', (c) => (c.annotations = { a: 1 }), 'annotations.a', /must be a string/],
    [
      'hook path relative',
      (c) => (c.hooks = { prestart: [{ path: 'true' }] }),
      'hooks.prestart[0].path',
      /absolute path/,
    ],
    [
      'hook timeout 0',
      (c) => (c.hooks = { prestart: [{ path: '/bin/true', timeout: 0 }] }),
      'hooks.prestart[0].timeout',
      /at least 1/,
    ],
    [
      'createContainer hook',
      (c) => (c.hooks = { createContainer: [{ path: '/bin/true' }] }),
      'hooks.createContainer',
      /not supported/,
      true,
    ],
    [
      'unknown hook',
      (c) => (c.hooks = { preStart: [{ path: '/bin/true' }] }),
      'hooks.preStart',
      /an unknown hook is not supported/,
      true,
    ],
    [
      'swappiness over 100',
      (c) => (c.linux = { resources: { memory: { swappiness: 101 } } }),
      'linux.resources.memory.swappiness',
      /between 0 and 100/,
    ],
    [
      'memory useHierarchy',
      (c) => (c.linux = { resources: { memory: { useHierarchy: true } } }),
      'linux.resources.memory.useHierarchy',
      /not supported/,
      true,
    ],
    ['pids without limit', (c) => (c.linux = { resources: { pids: {} } }), 'linux.resources.pids.limit', /missing/],
    [
      'negative cpu shares',
      (c) => (c.linux = { resources: { cpu: { shares: -1 } } }),
      'linux.resources.cpu.shares',
      /at least 0/,
    ],
    [
      'cpu idle',
      (c) => (c.linux = { resources: { cpu: { idle: 1 } } }),
      'linux.resources.cpu.idle',
      /not supported/,
      true,
    ],
    [
      'cpu burst',
      (c) => (c.linux = { resources: { cpu: { burst: 1 } } }),
      'linux.resources.cpu.burst',
      /not supported/,
      true,
    ],
    [
      'device rule access',
      (c) => (c.linux = { resources: { devices: [{ allow: true, access: 'x' }] } }),
      'linux.resources.devices[0].access',
      /invalid access "x"/,
    ],
    [
      'device rule type',
      (c) => (c.linux = { resources: { devices: [{ allow: true, type: 'z' }] } }),
      'linux.resources.devices[0].type',
      /invalid device type "z"/,
    ],
    [
      'device rule without allow',
      (c) => (c.linux = { resources: { devices: [{ access: 'r' }] } }),
      'linux.resources.devices[0].allow',
      /missing/,
    ],
    [
      'blockIO',
      (c) => (c.linux = { resources: { blockIO: { weight: 10 } } }),
      'linux.resources.blockIO',
      /not supported/,
      true,
    ],
    [
      'hugepageLimits',
      (c) => (c.linux = { resources: { hugepageLimits: [{ pageSize: '2MB', limit: 1 }] } }),
      'linux.resources.hugepageLimits',
      /not supported/,
      true,
    ],
    [
      'network',
      (c) => (c.linux = { resources: { network: { classID: 1 } } }),
      'linux.resources.network',
      /not supported/,
      true,
    ],
    ['rdma', (c) => (c.linux = { resources: { rdma: { x: {} } } }), 'linux.resources.rdma', /not supported/, true],
    [
      'unified',
      (c) => (c.linux = { resources: { unified: { 'memory.high': '1' } } }),
      'linux.resources.unified',
      /not supported/,
      true,
    ],
    // linux.seccomp (read by seccomp.ts's readSeccomp, compiled only at create)
    [
      'seccomp unknown action',
      (c) => (c.linux = { seccomp: { defaultAction: 'SCMP_ACT_NOPE' } }),
      'linux.seccomp.defaultAction',
      /unknown action "SCMP_ACT_NOPE"/,
    ],
    [
      'seccomp empty syscall name',
      (c) =>
        (c.linux = {
          seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [''], action: 'SCMP_ACT_ERRNO' }] },
        }),
      'linux.seccomp.syscalls[0].names[0]',
      /empty string/,
    ],
    [
      'seccomp rule without action',
      (c) => (c.linux = { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'] }] } }),
      'linux.seccomp.syscalls[0].action',
      /missing/,
    ],
    [
      'seccomp argument index 6',
      (c) =>
        (c.linux = {
          seccomp: {
            defaultAction: 'SCMP_ACT_ALLOW',
            syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, op: 'SCMP_CMP_EQ' }] }],
          },
        }),
      'linux.seccomp.syscalls[0].args[0].index',
      /at most 6 arguments/,
    ],
    [
      'seccomp unknown operator',
      (c) =>
        (c.linux = {
          seccomp: {
            defaultAction: 'SCMP_ACT_ALLOW',
            syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, op: 'SCMP_CMP_NOPE' }] }],
          },
        }),
      'linux.seccomp.syscalls[0].args[0].op',
      /unknown operator/,
    ],
    [
      'seccomp value above 2^53',
      (c) =>
        (c.linux = {
          seccomp: {
            defaultAction: 'SCMP_ACT_ALLOW',
            syscalls: [
              { names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 2 ** 60 }] },
            ],
          },
        }),
      'linux.seccomp.syscalls[0].args[0].value',
      /above 2\^53 are not supported/,
    ],
    [
      'seccomp unknown architecture',
      (c) => (c.linux = { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['x86'] } }),
      'linux.seccomp.architectures[0]',
      /unknown architecture "x86"/,
    ],
    [
      'seccomp unknown flag',
      (c) => (c.linux = { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NOPE'] } }),
      'linux.seccomp.flags[0]',
      /unknown seccomp flag/,
    ],
    [
      'seccomp notify as default',
      (c) => (c.linux = { seccomp: { defaultAction: 'SCMP_ACT_NOTIFY' } }),
      'linux.seccomp.defaultAction',
      /cannot be used as default action/,
    ],
    [
      'seccomp notify for write',
      (c) =>
        (c.linux = {
          seccomp: {
            defaultAction: 'SCMP_ACT_ALLOW',
            listenerPath: '/run/a.sock',
            syscalls: [{ names: ['write'], action: 'SCMP_ACT_NOTIFY' }],
          },
        }),
      'linux.seccomp.syscalls[0].names',
      /cannot be used for the write syscall/,
    ],
    [
      'seccomp notify without a listener',
      (c) =>
        (c.linux = {
          seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_NOTIFY' }] },
        }),
      'linux.seccomp.listenerPath',
      /listenerPath is not set/,
    ],
  ];
  for (const [name, change, field, message, unsupported] of cases) {
    t.test(name, async (t) => refuses(t, config(change), field, message, unsupported ?? false));
  }
});

t.test('a config that is not an object', async (t) => {
  t.throws(() => parseConfig([], '/b'), { field: 'config.json', message: 'config.json: must be a JSON object' });
});

t.test('empty values of unsupported fields are not refusals', async (t) => {
  t.doesNotThrow(() =>
    parse(config((c) => ((c.linux = { intelRdt: {}, personality: null, mountLabel: '' }), (c.solaris = {})))),
  );
});

t.test('the checks between fields are a named list', async (t) => {
  t.same(
    CONFIG_CHECKS.map((c) => c.name),
    [
      'id mappings need a user namespace',
      'a new user namespace needs both maps',
      'a hostname needs a uts namespace',
      'sysctls only of namespaces of its own',
      'masked and read-only paths need a mount namespace',
    ],
  );
});

t.test('parseProcess (exec -p): cwd defaults to /, refusals name the file', async (t) => {
  t.equal(parseProcess({ args: ['ls'] }).cwd, '/', 'cwd /');
  t.throws(() => parseProcess('x'), { field: 'process', message: /must be an object/ });
  t.throws(() => parseProcess({ args: [] }), { field: 'process.args', message: /must name the program/ });
});
