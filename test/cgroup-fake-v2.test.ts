// Layout detection and limit translation without the kernel: a FAKE cgroup2
// tree in a temporary directory (plain files standing in for cgroupfs) and
// fake mountinfo texts. This VM's cgroup2 hierarchy has no memory, pids or
// cpu controller, so this is where the v2 files (memory.max,
// memory.swap.max, pids.max, cpu.max, cgroup.subtree_control) are checked.
import t, { Test } from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectCgroups, existingCgroup, parseProcCgroup, resolveCgroup } from '../src/cgroup/hierarchy.js';
import { formatBytes, parseLimits, parseSize, translateLimits } from '../src/cgroup/limits.js';
import { createCgroup } from '../src/cgroup/manage.js';
import { readStats } from '../src/cgroup/stats.js';
import { watchCgroup } from '../src/core/cgroup.js';

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
  t.same(v1.hierarchies.map((h) => [h.mountPoint, h.controllers, h.own]), [
    ['/sys/fs/cgroup/cpu,cpuacct', ['cpu', 'cpuacct'], '/a'],
    ['/sys/fs/cgroup/memory', ['memory'], '/box'],
    ['/sys/fs/cgroup/systemd', [], '/user.slice'],
  ], 'one entry per hierarchy (a second mount of memory counts once), with the caller\'s cgroup in each');
  t.equal(v1.hierarchies[2].name, 'systemd');

  const { layout: v2 } = fakeCgroup2(t, 'cpu memory pids', '/user.slice/session-1.scope');
  t.equal(v2.mode, 'v2');
  t.same(v2.hierarchies[0].controllers, ['cpu', 'memory', 'pids'], 'v2 controllers come from cgroup.controllers of the top');
  t.equal(v2.hierarchies[0].own, '/user.slice/session-1.scope');

  const hybrid = detectCgroups({
    mountinfo: '34 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n40 30 0:37 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n',
    procCgroup: '4:memory:/\n0::/\n',
  });
  t.equal(hybrid.mode, 'hybrid');
  t.equal(detectCgroups({ mountinfo: '1 0 8:1 / / rw - ext4 /dev/sda1 rw\n', procCgroup: '' }).mode, 'none');
  t.same(parseProcCgroup('0::/a:b\n'), [{ id: 0, controllers: '', path: '/a:b' }], 'a colon in a cgroup name survives');
});

t.test('fake cgroup2 tree: PATH forms resolve to the right directories', async (t) => {
  const { root, layout } = fakeCgroup2(t, 'memory', '/user.slice');
  t.same(resolveCgroup(layout, 'box').map((c) => [c.path, c.dir]), [['/user.slice/box', join(root, 'user.slice/box')]], 'relative: below the caller\'s own cgroup');
  t.same(resolveCgroup(layout, '/box').map((c) => [c.path, c.dir]), [['/box', join(root, 'box')]], 'absolute: from the top');
  t.same(resolveCgroup(layout, join(root, 'x/y')).map((c) => [c.path, c.dir]), [['/x/y', join(root, 'x/y')]], 'a directory in the cgroup filesystem');
  t.throws(() => existingCgroup(layout, 'nope'), { message: 'cgroup nope does not exist' });
});

t.test('v2 limit translation (pure): memory.max, memory.swap.max, pids.max, cpu.max', async (t) => {
  const limits = parseLimits({ memory: '100M', swap: '0', pids: '20', cpu: '50%' });
  t.same(translateLimits(limits, 2).writes.map((w) => [w.file, w.value]), [
    ['memory.max', String(100 * MB)],
    ['memory.swap.max', '0'],
    ['pids.max', '20'],
    ['cpu.max', '50000 100000'],
  ]);
  t.same(translateLimits(parseLimits({ memory: 'max', cpu: '150%' }), 2, { cpuPeriodUs: 200000 }).writes.map((w) => [w.file, w.value]), [
    ['memory.max', 'max'],
    ['cpu.max', '300000 200000'],
  ], '"max" and the period already in use');
  const swappiness = translateLimits(parseLimits({ memory: '100M', swappiness: '0' }), 2);
  t.same(swappiness.writes.map((w) => [w.file, w.value]), [['memory.max', String(100 * MB)], ['memory.swap.max', '0']], 'v2 has no swappiness: 0 becomes memory.swap.max 0');
  t.match(swappiness.notes[0], /no memory\.swappiness/, 'and says so');
  t.throws(() => translateLimits(parseLimits({ swappiness: '60' }), 2), /cgroup v2 has no memory.swappiness/);
  t.throws(() => translateLimits(parseLimits({ cpu: '0.5%' }), 2), /below the kernel's minimum quota/);
});

t.test('v1 limit translation (pure), for comparison', async (t) => {
  const w = translateLimits(parseLimits({ memory: '100M', swap: '50M', swappiness: '0', pids: 'max', cpu: '25%' }), 1, { swapAccounting: true });
  t.same(w.writes.map((x) => [x.file, x.value]), [
    ['memory.limit_in_bytes', String(100 * MB)],
    ['memory.memsw.limit_in_bytes', String(150 * MB)],
    ['memory.swappiness', '0'],
    ['pids.max', 'max'],
    ['cpu.cfs_quota_us', '25000'],
  ], 'memsw is memory+swap, written after the memory limit');
  t.throws(() => translateLimits(parseLimits({ swap: '0' }), 1, { swapAccounting: true }), /needs --memory too/);
  t.throws(() => translateLimits(parseLimits({ memory: '1G', swap: '0' }), 1, { swapAccounting: false }), /swap accounting/);
});

t.test('sizes and bad input', async (t) => {
  t.equal(parseSize('100M', 'x'), 100n * 1048576n);
  t.equal(parseSize('1g', 'x'), 1073741824n);
  t.equal(parseSize('4096', 'x'), 4096n);
  t.equal(parseSize('-1', 'x'), 'max');
  t.equal(formatBytes(100 * MB), '100M');
  t.equal(formatBytes(1.5 * MB), '1.5M');
  t.throws(() => parseLimits({ memory: 'lots' }), { message: /invalid --memory 'lots'/ });
  t.throws(() => parseLimits({ memory: '10X' }), { message: /invalid --memory/ });
  t.throws(() => parseLimits({ pids: '-3' }), { message: /invalid --pids/ });
  t.throws(() => parseLimits({ swappiness: '300' }), { message: /0 to 200/ });
  t.throws(() => parseLimits({ cpu: '50' }), { message: /invalid --cpu '50'/ });
});

t.test('fake cgroup2 tree: create enables controllers top-down, then writes the v2 files', async (t) => {
  const { root, layout } = fakeCgroup2(t, 'cpu io memory pids', '/');
  const result = createCgroup(layout, 'box', { controllers: [], limits: parseLimits({ memory: '100M', swappiness: '0', pids: '20', cpu: '50%' }) });
  t.same(result.cgroups.map((c) => c.dir), [join(root, 'box')]);
  t.equal(read(join(root, 'cgroup.subtree_control')), '+memory +pids +cpu', 'the parent hands the controllers down in one write');
  t.equal(read(join(root, 'box/memory.max')), String(100 * MB));
  t.equal(read(join(root, 'box/memory.swap.max')), '0');
  t.equal(read(join(root, 'box/pids.max')), '20');
  t.equal(read(join(root, 'box/cpu.max')), '50000 100000');
  t.match(result.notes, [/swappiness/]);
});

t.test('fake cgroup2 tree: nested create below the caller\'s cgroup enables only what is missing', async (t) => {
  const { root, layout } = fakeCgroup2(t, 'memory pids', '/user.slice');
  mkdirSync(join(root, 'user.slice'));
  writeFileSync(join(root, 'cgroup.subtree_control'), 'memory pids');
  writeFileSync(join(root, 'user.slice/cgroup.controllers'), 'memory pids');
  writeFileSync(join(root, 'user.slice/cgroup.subtree_control'), 'memory');
  createCgroup(layout, 'lab/box', { controllers: ['memory'], limits: parseLimits({ pids: '5' }) });
  t.equal(read(join(root, 'cgroup.subtree_control')), 'memory pids', 'the top already had both: not written');
  t.equal(read(join(root, 'user.slice/cgroup.subtree_control')), '+pids', 'user.slice gets only pids');
  t.equal(read(join(root, 'user.slice/lab/cgroup.subtree_control')), '+memory +pids', 'the new intermediate cgroup hands both on');
  t.equal(read(join(root, 'user.slice/lab/box/pids.max')), '5');
  t.notOk(existsSync(join(root, 'user.slice/lab/box/memory.max')), 'no memory limit asked for: none written');
});

t.test('fake cgroup2 tree: a missing controller is refused before anything is made', async (t) => {
  const { root, layout } = fakeCgroup2(t, 'memory', '/');
  t.throws(() => createCgroup(layout, 'box', { controllers: [], limits: parseLimits({ memory: '100M', cpu: '50%' }) }), {
    message: `controller 'cpu' is not available: not mounted as cgroup v1, and not in ${join(root, 'cgroup.controllers')} (memory)`,
  });
  t.notOk(existsSync(join(root, 'box')), 'no directory');
  t.equal(read(join(root, 'cgroup.subtree_control')), '', 'subtree_control untouched');
});

t.test('fake cgroup2 tree: show reads memory.events, memory.peak, swap and pids', async (t) => {
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
    'cpu.stat': 'usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\nnr_throttled 0\n',
    'cgroup.events': 'populated 1\nfrozen 0\n',
    'cgroup.freeze': '0',
  };
  for (const [f, v] of Object.entries(files)) writeFileSync(join(box, f), v);
  const stats = readStats('box', existingCgroup(layout, 'box'));
  t.same(stats.processes, [101, 102]);
  t.same(stats.memory, { current: 50 * MB, max: 100 * MB, peak: 99 * MB, failcnt: 7, oom: 2, oom_kill: 1, swap: { current: 0, max: 0 } });
  t.same(stats.pids, { current: 2, max: 'max' });
  t.same(stats.cpu, { usage_usec: 1500000, quota_percent: 'max', nr_throttled: 0 });
  t.same(stats.freezer, { state: 'THAWED' });
  t.equal(stats.sources['memory.failcnt'], join(box, 'memory.events'));
});

t.test('fake cgroup2 tree: watch prints an OOM kill when memory.events changes, and ends when the cgroup goes', async (t) => {
  const { root, layout } = fakeCgroup2(t);
  const box = join(root, 'box');
  mkdirSync(box);
  writeFileSync(join(box, 'memory.current'), String(10 * MB));
  writeFileSync(join(box, 'memory.max'), 'max');
  writeFileSync(join(box, 'memory.events'), 'max 0\noom 0\noom_kill 0\n');
  const lines: string[] = [];
  const ended = watchCgroup('box', existingCgroup(layout, 'box'), { intervalMs: 50, print: (l) => lines.push(l) });
  t.match(lines[0], /^watching box .*inotify on memory\.events/);
  writeFileSync(join(box, 'memory.events'), 'max 3\noom 1\noom_kill 1\n');
  for (let i = 0; i < 400 && !lines.some((l) => l.startsWith('OOM kill')); i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(lines.includes('OOM kill in box: the kernel killed a process at the memory limit (oom_kill 1)'), 'one event line for the kill');
  rmSync(box, { recursive: true });
  t.equal(await ended, 0);
  t.equal(lines[lines.length - 1], 'cgroup box was removed');
});
