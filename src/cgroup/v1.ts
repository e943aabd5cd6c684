// The cgroup v1 back end. A v1 cgroup exists once per controller hierarchy
// (memory, pids, cpu,cpuacct, freezer, ...), each a directory tree of its own.
// - Limits: memory.limit_in_bytes; swap only as memory+swap in
//   memory.memsw.limit_in_bytes (with swap accounting); memory.swappiness;
//   pids.max; cpu.cfs_quota_us per cpu.cfs_period_us; cpu.shares.
// - A new cpuset cgroup has no CPUs and memory nodes and takes no process
//   until given some: copy the parent's.
// - OOM events: an eventfd registered in cgroup.event_control for
//   memory.oom_control; the kernel bumps it on every OOM in the cgroup and
//   once more when the cgroup is removed. memory.oom_control counts kills.
// - Freezing: freezer.state; writing FROZEN may stop at FREEZING while tasks
//   are busy in the kernel, so it is written again until FROZEN (as lxc does).
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { CgroupBackend, DeviceRule, ExtraFile, ExtraResource, StatsReader, TranslateOptions } from './backend.js';
import type { CgroupDir } from './hierarchy.js';
import { DEFAULT_CPU_PERIOD_US, Limits, Translation, cpuQuotaFor } from './limits.js';
import { CgroupStats, Limit, parseLimit, parseNumber, quotaPercent } from './stats.js';
import { UnsupportedLimitError } from './errors.js';
import { parseKeyedFile, readCgroupFile, readOptionalFile, writeCgroupFile } from './files.js';
import { eventfd, onEventfd, openReadOnly } from '../syscalls/eventfd.js';
import { RuncCpuStats, RuncMemoryStats, counter, counters, readQuiet } from './runc-stats.js';
import { v1FreezerState } from './freezer-state.js';

// v1 writes -1 for "no limit" in the files that take a number.
const V1_NO_LIMIT = -1;
const NS_PER_US = 1000;

function translate(limits: Limits, opts: TranslateOptions = {}): Translation {
  const writes: Translation['writes'] = [];
  const w = (controller: string, file: string, value: string | number | bigint) =>
    writes.push({ controller, file, value: String(value) });
  if (limits.memory !== undefined)
    w('memory', 'memory.limit_in_bytes', limits.memory === 'max' ? V1_NO_LIMIT : limits.memory);
  // Unlimited swap where the kernel does not account swap: nothing to lift.
  if (limits.swap !== undefined && !(limits.swap === 'max' && !opts.swapAccounting)) {
    // v1 has no swap-only limit: memory.memsw.limit_in_bytes caps memory+swap,
    // and must be written after the memory limit (it may never be below it).
    if (!opts.swapAccounting) throw new UnsupportedLimitError('swap', 'no-swap-accounting');
    if (limits.memory === undefined) throw new UnsupportedLimitError('swap', 'v1-swap-needs-memory');
    w(
      'memory',
      'memory.memsw.limit_in_bytes',
      limits.memory === 'max' || limits.swap === 'max' ? V1_NO_LIMIT : limits.memory + limits.swap,
    );
  }
  if (limits.swappiness !== undefined) w('memory', 'memory.swappiness', limits.swappiness);
  if (limits.pids !== undefined) w('pids', 'pids.max', limits.pids);
  if (limits.cpuShares !== undefined) w('cpu', 'cpu.shares', limits.cpuShares);
  // The period first: the quota is checked against it.
  if (limits.cpuPeriodUs !== undefined) w('cpu', 'cpu.cfs_period_us', limits.cpuPeriodUs);
  const quota = cpuQuotaFor(limits, limits.cpuPeriodUs ?? opts.cpuPeriodUs ?? DEFAULT_CPU_PERIOD_US);
  if (quota !== undefined) w('cpu', 'cpu.cfs_quota_us', quota === 'max' ? V1_NO_LIMIT : quota);
  return { writes, notes: [] };
}

function readStats(c: CgroupDir, stats: CgroupStats, from: StatsReader): void {
  if (from('memory.current', c, 'memory.usage_in_bytes') !== undefined) {
    const usage = parseNumber(readOptionalFile(c.dir, 'memory.usage_in_bytes'))!;
    const oomControl = parseKeyedFile(from('memory.oom_kill', c, 'memory.oom_control'));
    const memsw = parseNumber(from('memory.swap.current', c, 'memory.memsw.usage_in_bytes'));
    const max = from('memory.max', c, 'memory.limit_in_bytes');
    stats.memory = {
      current: usage,
      max: parseLimit(max) ?? 'max',
      peak: parseNumber(from('memory.peak', c, 'memory.max_usage_in_bytes')),
      failcnt: parseNumber(from('memory.failcnt', c, 'memory.failcnt')),
      oom_kill: oomControl.oom_kill,
      swap:
        memsw === undefined
          ? undefined
          : {
              current: Math.max(0, memsw - usage),
              max: swapLimit(from('memory.swap.max', c, 'memory.memsw.limit_in_bytes'), max),
            },
      swappiness: parseNumber(from('memory.swappiness', c, 'memory.swappiness')),
    };
  }
  const quota = parseNumber(from('cpu.quota_percent', c, 'cpu.cfs_quota_us'));
  if (quota !== undefined) {
    const period = parseNumber(readOptionalFile(c.dir, 'cpu.cfs_period_us')) ?? DEFAULT_CPU_PERIOD_US;
    stats.cpu = {
      ...stats.cpu,
      quota_percent: quota < 0 ? 'max' : quotaPercent(quota, period),
      nr_throttled: parseKeyedFile(from('cpu.nr_throttled', c, 'cpu.stat')).nr_throttled,
      shares: parseNumber(from('cpu.shares', c, 'cpu.shares')),
    };
  }
  const usageNs = parseNumber(from('cpu.usage_usec', c, 'cpuacct.usage'));
  if (usageNs !== undefined) stats.cpu = { ...stats.cpu, usage_usec: Math.round(usageNs / NS_PER_US) };
  const state = from('freezer.state', c, 'freezer.state');
  if (state !== undefined) stats.freezer = { state };
  const pidsCurrent = parseNumber(from('pids.current', c, 'pids.current'));
  if (pidsCurrent !== undefined)
    stats.pids = { current: pidsCurrent, max: parseLimit(from('pids.max', c, 'pids.max')) ?? 'max' };
}

/** v1 limits memory+swap; the swap part is the difference. */
function swapLimit(memsw: string | undefined, mem: string | undefined): Limit | undefined {
  const both = parseLimit(memsw);
  const memory = parseLimit(mem);
  if (both === undefined) return undefined;
  if (both === 'max' || memory === 'max' || memory === undefined) return 'max';
  return both - memory;
}

/** OCI resources written as v1 files as they are (what runc does on v1). */
const EXTRA_FILES: Record<ExtraResource, ExtraFile> = {
  'memory.reservation': { controller: 'memory', file: 'memory.soft_limit_in_bytes' },
  'memory.swappiness': { controller: 'memory', file: 'memory.swappiness' },
  'memory.disableOOMKiller': { controller: 'memory', file: 'memory.oom_control' },
  'cpu.cpus': { controller: 'cpuset', file: 'cpuset.cpus' },
  'cpu.mems': { controller: 'cpuset', file: 'cpuset.mems' },
  'cpu.realtimePeriod': { controller: 'cpu', file: 'cpu.rt_period_us' },
  'cpu.realtimeRuntime': { controller: 'cpu', file: 'cpu.rt_runtime_us' },
};

function deviceRule(d: DeviceRule): string {
  const major = d.major === undefined || d.major < 0 ? '*' : String(d.major);
  const minor = d.minor === undefined || d.minor < 0 ? '*' : String(d.minor);
  const type = d.type ?? 'a';
  return type === 'a' ? 'a' : `${type} ${major}:${minor} ${d.access || 'rwm'}`;
}

/** v1 devices: deny all, then the rules in order, then the ones always allowed. */
function applyDevices(dir: string, rules: readonly DeviceRule[], always: readonly string[]): void {
  writeFileSync(posix.join(dir, 'devices.deny'), 'a');
  for (const d of rules) writeFileSync(posix.join(dir, d.allow ? 'devices.allow' : 'devices.deny'), deviceRule(d));
  for (const line of always) writeFileSync(posix.join(dir, 'devices.allow'), line);
}

// cpuacct.stat counts in USER_HZ ticks.
const NS_PER_TICK = 1e9 / 100;

function runcCpu(cpuacctDir: string, cpuDir: string | undefined): RuncCpuStats {
  const ticks = counters(readQuiet(cpuacctDir, 'cpuacct.stat'));
  const throttle = counters(readQuiet(cpuDir, 'cpu.stat'));
  return {
    usage: {
      total: counter(readQuiet(cpuacctDir, 'cpuacct.usage')),
      percpu: (readQuiet(cpuacctDir, 'cpuacct.usage_percpu') ?? '').split(/\s+/).filter(Boolean).map(Number),
      kernel: Number(ticks.system ?? 0) * NS_PER_TICK,
      user: Number(ticks.user ?? 0) * NS_PER_TICK,
    },
    throttling: throttle.nr_periods
      ? {
          periods: throttle.nr_periods,
          throttled_periods: throttle.nr_throttled,
          throttled_time: throttle.throttled_time,
        }
      : {},
  };
}

function runcMemory(dir: string): RuncMemoryStats {
  const entry = (prefix: string) => ({
    limit: counter(readQuiet(dir, `${prefix}.limit_in_bytes`)),
    usage: counter(readQuiet(dir, `${prefix}.usage_in_bytes`)),
    max: counter(readQuiet(dir, `${prefix}.max_usage_in_bytes`)),
    failcnt: counter(readQuiet(dir, `${prefix}.failcnt`)),
  });
  const memory: RuncMemoryStats = { usage: entry('memory') };
  if (readQuiet(dir, 'memory.memsw.usage_in_bytes') !== undefined) memory.swap = entry('memory.memsw');
  if (readQuiet(dir, 'memory.kmem.usage_in_bytes') !== undefined) memory.kernel = entry('memory.kmem');
  memory.raw = counters(readQuiet(dir, 'memory.stat'));
  return memory;
}

export const v1Backend: CgroupBackend = {
  version: 1,
  check: () => undefined,
  setUp(_h, _target, made, controllers) {
    if (!controllers.includes('cpuset')) return;
    for (const d of made) {
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        if (readOptionalFile(d, file) === '') writeCgroupFile(d, file, readCgroupFile(posix.dirname(d), file));
      }
    }
  },
  translateOptions: (dir) => ({
    swapAccounting: existsSync(posix.join(dir, 'memory.memsw.limit_in_bytes')),
    cpuPeriodUs: parseNumber(readOptionalFile(dir, 'cpu.cfs_period_us')) ?? DEFAULT_CPU_PERIOD_US,
  }),
  translate,
  readStats,
  // Only the freezer hierarchy has the file: the others are not looked at.
  canFreeze: (c) => c.hierarchy.controllers.includes('freezer') && existsSync(posix.join(c.dir, 'freezer.state')),
  freezerState: v1FreezerState,
  requestFreeze(dir, frozen, first) {
    const want = frozen ? 'FROZEN' : 'THAWED';
    if (first || readCgroupFile(dir, 'freezer.state') === 'FREEZING') writeCgroupFile(dir, 'freezer.state', want);
    return readCgroupFile(dir, 'freezer.state') === want;
  },
  killFile: () => false,
  watchOom(dir, wake, onError) {
    const efd = eventfd();
    const ofd = openReadOnly(posix.join(dir, 'memory.oom_control'));
    writeCgroupFile(dir, 'cgroup.event_control', `${efd} ${ofd}`);
    const cancel = onEventfd(
      efd,
      () => {
        wake();
        // The kernel signals once more when the cgroup is removed; nothing follows.
        return existsSync(dir);
      },
      onError,
    );
    return {
      how: `eventfd ${efd} registered in cgroup.event_control for memory.oom_control (fd ${ofd})`,
      stop: cancel,
    };
  },
  oomKillCount: (dir) => parseKeyedFile(readOptionalFile(dir, 'memory.oom_control')).oom_kill,
  hasMemory: (dir) => existsSync(posix.join(dir, 'memory.usage_in_bytes')),
  controllersIn: (h) => h.controllers,
  controllerList: (h) => h.mountPoint,
  freezeKind: 'v1 freezer',
  // On a hybrid host the v1 freezer, if the cgroup is there, is the one in use.
  freezeRank: 0,
  killsFrozenTasks: false,
  extraFile: (resource) => EXTRA_FILES[resource],
  applyDevices,
  runcCpu,
  runcMemory,
};
