// Layout detection, limit translation (both back ends, friendly and OCI)
// without the kernel: a FAKE cgroup2 tree in a temporary directory (plain
// files standing in for cgroupfs) and fake mountinfo texts. Translation is
// pure and means the same on every host. The fake tree stands in for a v2
// hierarchy with controllers, which a hybrid host does not have; on a v2
// host test/kernel/cgroup.test.ts checks the same files on the real kernel.
import t, { Test } from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectCgroups, existingCgroup, parseProcCgroup, resolveCgroup } from '../../src/cgroup/hierarchy.js';
import { Limits, formatBytes, parseLimits, parseSize } from '../../src/cgroup/limits.js';
import { cgroupManager } from '../../src/cgroup/manager.js';
import { fromOciResources, ignoredOciResources } from '../../src/cgroup/oci.js';
import {
  CgroupPathError,
  ControllerMissingError,
  InternalProcessesError,
  InvalidLimitError,
  OciResourcesError,
  UnsupportedLimitError,
} from '../../src/cgroup/errors.js';
import { v1Backend } from '../../src/cgroup/v1.js';
import { sharesToWeight, v2Backend } from '../../src/cgroup/v2.js';
import { watchCgroup } from '../../src/core/cgroup.js';
import { waitFor } from '../helpers/wait.js';
const v2 = (l: Limits, opts = {}) => v2Backend.translate(l, opts);
const v1 = (l: Limits, opts = {}) => v1Backend.translate(l, opts);
const files = (t: { writes: Array<{ file: string; value: string }> }) => t.writes.map((w) => [w.file, w.value]);

const MB = 1024 * 1024;

/** A fake cgroup2 filesystem: the top's files, as the kernel would show them. */
function fakeCgroup2(t: Test, controllers = 'cpu io memory pids', own = '/') {
  const root = mkdtempSync(join(tmpdir(), 'nslab-fake-cgroup2-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'cgroup.controllers'), controllers + '\n');
  writeFileSync(join(root, 'cgroup.subtree_control'), '');
  writeFileSync(join(root, 'cgroup.procs'), '');
  const mountinfo = `25 1 0:26 / ${root} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n`;
  const layout = detectCgroups({ mountinfo, procCgroup: `0::${own}\n` });
  return { root, layout };
}

const read = (file: string) => readFileSync(file, 'utf8');

t.test('detection from fake mountinfo: v1, v2, hybrid, none', async (t) => {
  const v1 = detectCgroups({
    mountinfo: [
      '31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
      '34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
      '39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
      '50 30 0:31 / /mnt/memory-again rw,relatime - cgroup cgroup rw,memory',
    ].join('\n'),
    procCgroup: '4:memory:/box\n2:cpu,cpuacct:/a\n1:name=systemd:/user.slice\n',
  });
  t.equal(v1.mode, 'v1');
  t.same(
    v1.hierarchies.map((h) => [h.mountPoint, h.controllers, h.own]),
    [
      ['/sys/fs/cgroup/cpu,cpuacct', ['cpu', 'cpuacct'], '/a'],
      ['/sys/fs/cgroup/memory', ['memory'], '/box'],
      ['/sys/fs/cgroup/systemd', [], '/user.slice'],
    ],
    "one entry per hierarchy (a second mount of memory counts once), with the caller's cgroup in each",
  );
  t.equal(v1.hierarchies[2]?.name, 'systemd');

  const { layout: v2 } = fakeCgroup2(t, 'cpu memory pids', '/user.slice/session-1.scope');
  t.equal(v2.mode, 'v2');
  t.same(
    v2.hierarchies[0]?.controllers,
    ['cpu', 'memory', 'pids'],
    'v2 controllers come from cgroup.controllers of the top',
  );
  t.equal(v2.hierarchies[0]?.own, '/user.slice/session-1.scope');

  const hybrid = detectCgroups({
    mountinfo:
      '34 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n',
    procCgroup: '4:memory:/\n0::/\n',
  });
  t.equal(hybrid.mode, 'hybrid');
  t.equal(detectCgroups({ mountinfo: '1 0 8:1 / / rw - ext4 /dev/sda1 rw\n', procCgroup: '' }).mode, 'none');
  t.same(parseProcCgroup('0::/a:b\n'), [{ id: 0, controllers: '', path: '/a:b' }], 'a colon in a cgroup name survives');
});

t.test('fake cgroup2 tree: PATH forms resolve to the right directories; .. is refused', async (t) => {
  const { root, layout } = fakeCgroup2(t, 'memory', '/user.slice');
  t.same(
    resolveCgroup(layout, 'box').map((c) => [c.path, c.dir]),
    [['/user.slice/box', join(root, 'user.slice/box')]],
    "relative: below the caller's own cgroup",
  );
  t.same(
    resolveCgroup(layout, '/box').map((c) => [c.path, c.dir]),
    [['/box', join(root, 'box')]],
    'absolute: from the top',
  );
  t.same(
    resolveCgroup(layout, join(root, 'x/y')).map((c) => [c.path, c.dir]),
    [['/x/y', join(root, 'x/y')]],
    'a directory in the cgroup filesystem',
  );
  t.throws(() => existingCgroup(layout, 'nope'), {
    message: 'cgroup nope does not exist',
    kind: 'cgroup-not-found',
    path: 'nope',
  });
  for (const bad of ['../qa-up', 'a/../../b', '/x/..', `${root}/user.slice/..`])
    t.throws(
      () => resolveCgroup(layout, bad),
      new CgroupPathError(bad, 'dot-dot'),
      `${bad}: a '..' component is refused`,
    );
  t.throws(() => resolveCgroup(layout, ''), { name: 'CgroupPathError', kind: 'cgroup-path', reason: 'empty' });
});

t.test('v2 back end translation (pure): memory.max, memory.swap.max, pids.max, cpu.max, cpu.weight', async (t) => {
  const limits = parseLimits({ memory: '100M', swap: '0', pids: '20', cpu: '50%' });
  t.same(files(v2(limits)), [
    ['memory.max', String(100 * MB)],
    ['memory.swap.max', '0'],
    ['pids.max', '20'],
    ['cpu.max', '50000 100000'],
  ]);
  t.same(
    files(v2(parseLimits({ memory: 'max', cpu: '150%' }), { cpuPeriodUs: 200000 })),
    [
      ['memory.max', 'max'],
      ['cpu.max', '300000 200000'],
    ],
    '"max" and the period already in use',
  );
  const swappiness = v2(parseLimits({ memory: '100M', swappiness: '0' }));
  t.same(
    files(swappiness),
    [
      ['memory.max', String(100 * MB)],
      ['memory.swap.max', '0'],
    ],
    'v2 has no swappiness: 0 becomes memory.swap.max 0',
  );
  t.match(swappiness.notes[0], /no memory\.swappiness/, 'and says so');
  t.throws(() => v2(parseLimits({ swappiness: '60' })), new UnsupportedLimitError('swappiness', 'v2-no-swappiness'));
  t.throws(() => v2(parseLimits({ cpu: '0.5%' })), {
    name: 'UnsupportedLimitError',
    kind: 'unsupported-limit',
    reason: 'cpu-quota-too-small',
    detail: { quotaUs: 500, minimumUs: 1000, periodUs: 100000 },
  });
  t.same(
    files(v2({ cpuShares: 1024 })),
    [['cpu.weight', '39']],
    'cpu.shares 1024 (the v1 default) is cpu.weight 39, as runc maps it',
  );
  t.same([2, 1024, 262144, 512].map(sharesToWeight), [1, 39, 10000, 20], 'the ends of the ranges line up');
  t.same(files(v2({ cpuQuotaUs: 'max', cpuPeriodUs: 50000 })), [['cpu.max', 'max 50000']]);
});

t.test('v1 back end translation (pure), for comparison', async (t) => {
  const w = v1(parseLimits({ memory: '100M', swap: '50M', swappiness: '0', pids: 'max', cpu: '25%' }), {
    swapAccounting: true,
  });
  t.same(
    files(w),
    [
      ['memory.limit_in_bytes', String(100 * MB)],
      ['memory.memsw.limit_in_bytes', String(150 * MB)],
      ['memory.swappiness', '0'],
      ['pids.max', 'max'],
      ['cpu.cfs_quota_us', '25000'],
    ],
    'memsw is memory+swap, written after the memory limit',
  );
  t.throws(() => v1(parseLimits({ swap: '0' }), { swapAccounting: true }), {
    name: 'UnsupportedLimitError',
    kind: 'unsupported-limit',
    reason: 'v1-swap-needs-memory',
  });
  t.throws(() => v1(parseLimits({ memory: '1G', swap: '0' }), { swapAccounting: false }), {
    name: 'UnsupportedLimitError',
    reason: 'no-swap-accounting',
  });
  t.same(
    files(v1({ memory: 'max', cpuShares: 512, cpuQuotaUs: 20000, cpuPeriodUs: 50000 })),
    [
      ['memory.limit_in_bytes', '-1'],
      ['cpu.shares', '512'],
      ['cpu.cfs_period_us', '50000'],
      ['cpu.cfs_quota_us', '20000'],
    ],
    'no limit is -1; the period before the quota',
  );
});

t.test("OCI linux.resources -> limits -> each back end's files (pure)", async (t) => {
  const resources = {
    memory: { limit: 100 * MB, swap: 150 * MB },
    pids: { limit: 20 },
    cpu: { shares: 1024, quota: 50000, period: 100000 },
  };
  const limits = fromOciResources(resources);
  t.same(
    limits,
    {
      memory: BigInt(100 * MB),
      swap: BigInt(50 * MB),
      pids: 20,
      cpuShares: 1024,
      cpuQuotaUs: 50000,
      cpuPeriodUs: 100000,
    },
    'OCI swap is memory+swap: the friendly swap is the difference',
  );
  t.same(
    files(v2(limits)),
    [
      ['memory.max', String(100 * MB)],
      ['memory.swap.max', String(50 * MB)],
      ['pids.max', '20'],
      ['cpu.weight', '39'],
      ['cpu.max', '50000 100000'],
    ],
    'v2: memory.swap.max is swap alone',
  );
  t.same(
    files(v1(limits, { swapAccounting: true })),
    [
      ['memory.limit_in_bytes', String(100 * MB)],
      ['memory.memsw.limit_in_bytes', String(150 * MB)],
      ['pids.max', '20'],
      ['cpu.shares', '1024'],
      ['cpu.cfs_period_us', '100000'],
      ['cpu.cfs_quota_us', '50000'],
    ],
    'v1: memsw gets the OCI number back',
  );
  t.same(
    fromOciResources({ memory: { limit: 64 * MB, swap: 64 * MB } }),
    { memory: BigInt(64 * MB), swap: 0n },
    'swap equal to memory is no swap',
  );
  t.same(
    fromOciResources({ memory: { limit: -1 } }),
    { memory: 'max', swap: 'max' },
    'unlimited memory with swap unset: both unlimited',
  );
  t.same(fromOciResources({ memory: { limit: 64 * MB, swap: -1 } }), { memory: BigInt(64 * MB), swap: 'max' });
  t.same(fromOciResources({ pids: { limit: -1 }, cpu: { quota: -1 } }), { pids: 'max', cpuQuotaUs: 'max' });
  t.same(
    fromOciResources({ memory: { limit: 0, swap: 0 }, pids: { limit: 0 }, cpu: { shares: 0 } }),
    {},
    '0 means unset',
  );
  t.throws(
    () => fromOciResources({ memory: { swap: 100 } }),
    new OciResourcesError('memory.swap', 'a memory+swap limit needs a memory limit'),
  );
  t.throws(() => fromOciResources({ memory: { limit: 200, swap: 100 } }), {
    name: 'OciResourcesError',
    kind: 'oci-resources',
    field: 'memory.swap',
  });
  t.same(
    ignoredOciResources({ memory: { limit: 1, reservation: 2 }, devices: [], cpu: { cpus: '0' } }),
    ['memory.reservation', 'devices', 'cpu.cpus'],
    'what is not translated is listed',
  );
});

t.test('sizes and bad input: errors carry the limit, the value and what was expected', async (t) => {
  t.equal(parseSize('100M', 'memory'), 100n * 1048576n);
  t.equal(parseSize('1g', 'memory'), 1073741824n);
  t.equal(parseSize('4096', 'memory'), 4096n);
  t.equal(parseSize('-1', 'memory'), 'max');
  t.equal(formatBytes(100 * MB), '100M');
  t.equal(formatBytes(1.5 * MB), '1.5M');
  t.throws(() => parseLimits({ memory: 'lots' }), {
    name: 'InvalidLimitError',
    kind: 'invalid-limit',
    limit: 'memory',
    value: 'lots',
  });
  t.throws(() => parseLimits({ memory: '10X' }), InvalidLimitError);
  t.throws(() => parseLimits({ pids: '-3' }), { name: 'InvalidLimitError', limit: 'pids', value: '-3' });
  t.throws(() => parseLimits({ swappiness: '300' }), {
    name: 'InvalidLimitError',
    limit: 'swappiness',
    expected: '0 to 200',
  });
  t.throws(() => parseLimits({ cpu: '50' }), { name: 'InvalidLimitError', limit: 'cpu', value: '50' });
  for (const e of [new InvalidLimitError('memory', 'x', 'y'), new UnsupportedLimitError('swap', 'no-swap-accounting')])
    t.notMatch(e.message, /--/, 'the cgroup layer names no flag');
});

t.test('fake cgroup2 tree: create enables controllers top-down, then writes the v2 files', async (t) => {
  const { root, layout } = fakeCgroup2(t, 'cpu io memory pids', '/');
  const made = cgroupManager(layout).create('box', {
    limits: parseLimits({ memory: '100M', swappiness: '0', pids: '20', cpu: '50%' }),
  });
  t.same(
    made.dirs.map((c) => c.dir),
    [join(root, 'box')],
  );
  t.equal(
    read(join(root, 'cgroup.subtree_control')),
    '+memory +pids +cpu',
    'the parent hands the controllers down in one write',
  );
  t.equal(read(join(root, 'box/memory.max')), String(100 * MB));
  t.equal(read(join(root, 'box/memory.swap.max')), '0');
  t.equal(read(join(root, 'box/pids.max')), '20');
  t.equal(read(join(root, 'box/cpu.max')), '50000 100000');
  t.match(made.notes, [/swappiness/]);
});

t.test('fake cgroup2 tree: applyResources writes an OCI object through the v2 back end', async (t) => {
  const { root, layout } = fakeCgroup2(t, 'cpu memory pids', '/');
  writeFileSync(join(root, 'cgroup.subtree_control'), 'cpu memory pids');
  const box = cgroupManager(layout).create('ctr');
  writeFileSync(join(root, 'ctr/cgroup.controllers'), 'cpu memory pids');
  box.applyResources({
    memory: { limit: 64 * MB, swap: 64 * MB },
    pids: { limit: 10 },
    cpu: { shares: 2, quota: 25000, period: 100000 },
  });
  t.equal(read(join(root, 'ctr/memory.max')), String(64 * MB));
  t.equal(read(join(root, 'ctr/memory.swap.max')), '0');
  t.equal(read(join(root, 'ctr/pids.max')), '10');
  t.equal(read(join(root, 'ctr/cpu.weight')), '1');
  t.equal(read(join(root, 'ctr/cpu.max')), '25000 100000');
});

t.test(
  'fake cgroup2 tree: create(path) without limits, then applyResources enables what the limits need',
  async (t) => {
    const { root, layout } = fakeCgroup2(t, 'cpu memory pids', '/');
    const box = cgroupManager(layout).create('ctr');
    t.equal(read(join(root, 'cgroup.subtree_control')), '', 'nothing enabled for a cgroup without limits');
    box.applyResources({ memory: { limit: 32 * MB }, pids: { limit: 5 } });
    t.equal(read(join(root, 'cgroup.subtree_control')), '+memory +pids', 'the parent hands down memory and pids');
    t.equal(read(join(root, 'ctr/memory.max')), String(32 * MB));
    t.equal(read(join(root, 'ctr/pids.max')), '5');
    box.setLimits({ cpuShares: 100 });
    t.equal(
      read(join(root, 'cgroup.subtree_control')),
      '+cpu',
      'then cpu, for a cpu limit (the fake file keeps the last write)',
    );
    t.equal(read(join(root, 'ctr/cpu.weight')), '4', 'cpu.shares 100 is cpu.weight 4');

    const other = fakeCgroup2(t, 'memory', '/');
    const lone = cgroupManager(other.layout).create('ctr');
    t.throws(
      () => lone.applyResources({ cpu: { quota: 50000 } }),
      new ControllerMissingError('cpu', join(other.root, 'cgroup.controllers'), ['memory']),
      'a controller the hierarchy lacks: refused',
    );
    t.equal(read(join(other.root, 'cgroup.subtree_control')), '', 'and nothing enabled');
  },
);

t.test("fake cgroup2 tree: nested create below the caller's cgroup enables only what is missing", async (t) => {
  const { root, layout } = fakeCgroup2(t, 'memory pids', '/user.slice');
  mkdirSync(join(root, 'user.slice'));
  writeFileSync(join(root, 'cgroup.subtree_control'), 'memory pids');
  writeFileSync(join(root, 'user.slice/cgroup.controllers'), 'memory pids');
  writeFileSync(join(root, 'user.slice/cgroup.subtree_control'), 'memory');
  writeFileSync(join(root, 'user.slice/cgroup.procs'), '');
  cgroupManager(layout).create('lab/box', { controllers: ['memory'], limits: parseLimits({ pids: '5' }) });
  t.equal(read(join(root, 'cgroup.subtree_control')), 'memory pids', 'the top already had both: not written');
  t.equal(read(join(root, 'user.slice/cgroup.subtree_control')), '+pids', 'user.slice gets only pids');
  t.equal(
    read(join(root, 'user.slice/lab/cgroup.subtree_control')),
    '+memory +pids',
    'the new intermediate cgroup hands both on',
  );
  t.equal(read(join(root, 'user.slice/lab/box/pids.max')), '5');
  t.notOk(existsSync(join(root, 'user.slice/lab/box/memory.max')), 'no memory limit asked for: none written');
});

t.test('fake cgroup2 tree: "no internal processes" is refused before anything is made', async (t) => {
  const { root, layout } = fakeCgroup2(t, 'memory pids', '/user.slice/session-1.scope');
  mkdirSync(join(root, 'user.slice/session-1.scope'), { recursive: true });
  writeFileSync(join(root, 'cgroup.subtree_control'), 'memory pids');
  writeFileSync(join(root, 'user.slice/cgroup.subtree_control'), 'memory pids');
  writeFileSync(join(root, 'user.slice/cgroup.procs'), '');
  writeFileSync(join(root, 'user.slice/session-1.scope/cgroup.subtree_control'), '');
  writeFileSync(join(root, 'user.slice/session-1.scope/cgroup.procs'), '812\n905\n');
  t.throws(
    () => cgroupManager(layout).create('box', { limits: parseLimits({ memory: '100M' }) }),
    new InternalProcessesError(
      '/user.slice/session-1.scope',
      join(root, 'user.slice/session-1.scope'),
      [812, 905],
      ['memory'],
    ),
  );
  t.notOk(existsSync(join(root, 'user.slice/session-1.scope/box')), 'no directory');
  t.equal(read(join(root, 'user.slice/session-1.scope/cgroup.subtree_control')), '', 'subtree_control untouched');
  cgroupManager(layout).create('plain');
  t.ok(
    existsSync(join(root, 'user.slice/session-1.scope/plain')),
    'a cgroup without controllers is allowed there (it only groups, freezes and kills)',
  );
  cgroupManager(layout).create('/nslab/box', { limits: parseLimits({ memory: '100M' }) });
  t.equal(
    read(join(root, 'nslab/box/memory.max')),
    String(100 * MB),
    'an absolute path below the root cgroup, which the rule exempts',
  );
});

t.test('fake cgroup2 tree: a missing controller is refused before anything is made', async (t) => {
  const { root, layout } = fakeCgroup2(t, 'memory', '/');
  t.throws(
    () => cgroupManager(layout).create('box', { limits: parseLimits({ memory: '100M', cpu: '50%' }) }),
    new ControllerMissingError('cpu', join(root, 'cgroup.controllers'), ['memory']),
  );
  t.notOk(existsSync(join(root, 'box')), 'no directory');
  t.equal(read(join(root, 'cgroup.subtree_control')), '', 'subtree_control untouched');
});

t.test(
  'fake cgroup2 tree: stats read memory.events, memory.peak, swap and pids; a kernel without memory.peak has no peak',
  async (t) => {
    const { root, layout } = fakeCgroup2(t);
    const box = join(root, 'box');
    mkdirSync(box);
    const files: Record<string, string> = {
      'cgroup.procs': '101\n102\n',
      'memory.current': String(50 * MB),
      'memory.max': String(100 * MB),
      'memory.peak': String(99 * MB),
      'memory.events': 'low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\noom_group_kill 0\n',
      'memory.swap.current': '0',
      'memory.swap.max': '0',
      'pids.current': '2',
      'pids.max': 'max',
      'cpu.max': 'max 100000',
      'cpu.weight': '100',
      'cpu.stat': 'usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\nnr_throttled 0\n',
      'cgroup.events': 'populated 1\nfrozen 0\n',
      'cgroup.freeze': '0',
    };
    for (const [f, v] of Object.entries(files)) writeFileSync(join(box, f), v);
    const cg = cgroupManager(layout).open('box');
    const stats = cg.stats();
    t.same(stats.processes, [101, 102]);
    t.same(stats.memory, {
      current: 50 * MB,
      max: 100 * MB,
      peak: 99 * MB,
      failcnt: 7,
      oom: 2,
      oom_kill: 1,
      swap: { current: 0, max: 0 },
    });
    t.same(stats.pids, { current: 2, max: 'max' });
    t.same(stats.cpu, { usage_usec: 1500000, quota_percent: 'max', nr_throttled: 0, weight: 100 });
    t.same(stats.freezer, { state: 'THAWED' });
    t.equal(cg.freezerState(), 'THAWED');
    t.equal(cg.oomKills(), 1);
    t.equal(stats.sources['memory.failcnt'], join(box, 'memory.events'));
    rmSync(join(box, 'memory.peak'));
    t.equal(cg.stats().memory?.peak, undefined, 'no memory.peak (before 5.19, or the root cgroup): no peak, no error');
  },
);

t.test(
  'fake cgroup2 tree: watch prints an OOM kill when memory.events changes, and ends when the cgroup goes',
  async (t) => {
    const { root, layout } = fakeCgroup2(t);
    const box = join(root, 'box');
    mkdirSync(box);
    writeFileSync(join(box, 'memory.current'), String(10 * MB));
    writeFileSync(join(box, 'memory.max'), 'max');
    writeFileSync(join(box, 'memory.events'), 'max 0\noom 0\noom_kill 0\n');
    const lines: string[] = [];
    const ended = watchCgroup(cgroupManager(layout).open('box'), { intervalMs: 50, print: (l) => lines.push(l) });
    t.match(lines[0], /^watching box .*inotify on memory\.events/);
    writeFileSync(join(box, 'memory.events'), 'max 3\noom 1\noom_kill 1\n');
    await waitFor(() => lines.some((l) => l.startsWith('OOM kill')), { timeoutMs: 4_000, intervalMs: 10 });
    t.ok(
      lines.includes('OOM kill in box: the kernel killed a process at the memory limit (oom_kill 1)'),
      'one event line for the kill',
    );
    rmSync(box, { recursive: true });
    t.equal(await ended, 0);
    t.equal(lines[lines.length - 1], 'cgroup box was removed');
  },
);
