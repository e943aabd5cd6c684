// The container init's calls (initCalls) for a set of configs, as a
// readable snapshot: one line per call, as --trace prints it, with the
// plan's marks (gate, optional, a step the parent takes after it, fork).
// Nothing runs: the calls are data. Regenerate after an intended change with
//   TAP_SNAPSHOT=1 npx tap test/unit/init-calls.test.ts
// and read the diff of tap-snapshots/.
//
// Host-independent on purpose: paths in the rootfs are opened the way a
// kernel without openat2 needs (NSLAB_NO_OPENAT2=1, set before the plan
// asks the kernel), the temporary rootfs and bundle are shown as <rootfs> and <bundle>, and the mount
// point above it (read from /proc/self/mountinfo) as <parent mount>.
process.env.NSLAB_NO_OPENAT2 = '1';
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { parseConfig } = await import('../../src/runtime/config.js');
const { initCalls } = await import('../../src/runtime/init-plan.js');
const { defaultSpec } = await import('../../src/runtime/spec.js');
const { CLONE } = await import('../../src/syscalls/constants.js');
type InitPlanOptions = import('../../src/runtime/init-plan.js').InitPlanOptions;
type Call = import('../../src/syscalls/call.js').Call;

const bundle = mkdtempSync(join(tmpdir(), 'nslab-unit-'));
t.teardown(() => rmSync(bundle, { recursive: true, force: true }));
const rootfs = join(bundle, 'rootfs');
// A bind mount's source must exist when the plan is made.
const dataDir = join(bundle, 'data');
mkdirSync(dataDir);

const noop = () => undefined;

function options(extra: Partial<InitPlanOptions> = {}): InitPlanOptions {
  return {
    noPivot: false,
    joinFds: [],
    unshareFlags: 0,
    forkAfter: false,
    cgroupMounts: [
      { name: 'memory', source: '/sys/fs/cgroup/memory/box' },
      { name: 'pids', source: '/sys/fs/cgroup/pids/box' },
    ],
    cgroup2: false,
    program: '/bin/sh',
    first: [],
    console: [],
    ...extra,
  };
}

/** The calls as --trace shows them, one a line, with the marks the plan acts on. */
function listing(calls: Call[]): string {
  const lines = calls.map((c) => {
    const marks = [
      c.gate && 'gate',
      c.optional && 'optional',
      c.after && 'then the parent acts',
      c.forks && 'forks',
    ].filter(Boolean);
    return c.show + (marks.length ? `   [${marks.join(', ')}]` : '');
  });
  return (
    lines
      .join('\n')
      .split(rootfs)
      .join('<rootfs>')
      .split(bundle)
      .join('<bundle>')
      .replace(
        /mount\(NULL, "[^"]*", NULL, MS_PRIVATE, NULL\)/,
        'mount(NULL, "<parent mount>", NULL, MS_PRIVATE, NULL)',
      ) + '\n'
  );
}

const spec = (change: (c: any) => void = noop, rootless?: { uid: number; gid: number }, cgroupns = false) => {
  const c = defaultSpec(rootless, cgroupns) as any;
  change(c);
  return parseConfig(c, bundle);
};

t.test("ts-runc spec's config (root, cgroup v1 mounts)", async (t) => {
  t.matchSnapshot(listing(initCalls(spec(), options())));
});

t.test('rootless: a new user namespace, sysfs bound from the host', async (t) => {
  t.matchSnapshot(listing(initCalls(spec(noop, { uid: 1000, gid: 1000 }), options({ afterUnshare: noop }))));
});

t.test('a new cgroup namespace on a cgroup v2 host: moved, unshared, cgroup2 mounted', async (t) => {
  const config = spec(noop, undefined, true);
  t.matchSnapshot(
    listing(initCalls(config, options({ cgroupMounts: [], cgroup2: true, joinCgroups: noop, unshareCgroupns: true }))),
  );
});

t.test(
  'joined namespaces: a user namespace by path owns the new ones (unshare, then fork into the pid one)',
  async (t) => {
    const config = spec((c) => {
      c.linux.namespaces = [
        { type: 'user', path: '/proc/100/ns/user' },
        { type: 'network', path: '/run/netns/n1' },
        { type: 'pid' },
        { type: 'mount' },
        { type: 'uts' },
      ];
      delete c.linux.resources;
    });
    const joinFds = [
      { fd: 7, flag: CLONE.CLONE_NEWNET, path: '/run/netns/n1' },
      { fd: 6, flag: CLONE.CLONE_NEWUSER, path: '/proc/100/ns/user' },
    ];
    const unshareFlags = CLONE.CLONE_NEWPID | CLONE.CLONE_NEWNS | CLONE.CLONE_NEWUTS;
    t.matchSnapshot(
      listing(initCalls(config, options({ joinFds, unshareFlags, forkAfter: true, afterUnshare: noop }))),
    );
  },
);

t.test('no namespaces: the host root, only the process calls', async (t) => {
  const config = parseConfig(
    {
      ociVersion: '1.0.2',
      root: { path: 'rootfs' },
      process: { args: ['true'], cwd: '/', user: { uid: 1000, gid: 1000, umask: 0o027 } },
    },
    bundle,
  );
  t.matchSnapshot(listing(initCalls(config, options({ cgroupMounts: [], program: '/usr/bin/true', preserveFds: 2 }))));
});

t.test('masks, read-only paths, devices, sysctls, hostname, propagation and no pivot_root', async (t) => {
  const config = spec((c) => {
    c.linux.rootfsPropagation = 'rprivate';
    c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }];
    c.mounts.push({ destination: '/data', type: 'bind', source: dataDir, options: ['rbind', 'ro', 'rslave'] });
    c.process.rlimits.push({ type: 'RLIMIT_CORE', hard: 0, soft: 0 });
  });
  t.matchSnapshot(listing(initCalls(config, options({ noPivot: true }))));
});
