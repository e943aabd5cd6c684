// The cgroup v2 back end: one tree for every controller.
// - A controller works in a cgroup only if every ancestor lists it in
//   cgroup.subtree_control; create enables what is missing from the top
//   down. A non-root cgroup that has processes may not enable any ("no
//   internal processes"): checked before anything is made.
// - Limits: memory.max, memory.swap.max (swap alone, not memory+swap),
//   pids.max, cpu.max ("QUOTA PERIOD" or "max PERIOD"), cpu.weight (1 to
//   10000). There is no swappiness file.
// - memory.events counts max (limit hits), oom and oom_kill, and the kernel
//   marks the file modified when a counter changes (inotify sees it).
//   memory.peak exists for non-root cgroups since Linux 5.19 (6.1 has it);
//   older kernels simply have no peak.
// - cgroup.freeze asks for a freeze; cgroup.events says "frozen 1" once every
//   task has stopped (Linux 5.2+). cgroup.kill kills the whole subtree in one
//   write (Linux 5.14+).
import { existsSync, watch as watchFile } from 'node:fs';
import { posix } from 'node:path';
import type { CgroupBackend, StatsReader, TranslateOptions, Undo } from './backend.js';
import type { CgroupDir, Hierarchy } from './hierarchy.js';
import { DEFAULT_CPU_PERIOD_US, Limits, Translation, cpuQuotaFor } from './limits.js';
import { CgroupStats, parseLimit, parseNumber, quotaPercent } from './stats.js';
import { ControllerMissingError, InternalProcessesError, UnsupportedLimitError } from './errors.js';
import { cgroupProcs, parseKeyedFile, readCgroupFile, readOptionalFile, writeCgroupFile } from './files.js';
import { RuncCpuStats, RuncMemoryStats, counter, counters, readQuiet } from './runc-stats.js';
import { v2FreezerState } from './freezer-state.js';

// cpu.shares (v1, 2 to 262144) to cpu.weight (v2, 1 to 10000), the linear
// map runc uses so that the v1 minimum, default and maximum line up.
const V1_MIN_SHARES = 2;
const V1_MAX_SHARES = 262144;
const V2_MAX_WEIGHT = 10000;

/** cpu.shares -> cpu.weight: 1 + ((shares - 2) * 9999) / 262142, in whole numbers. */
export function sharesToWeight(shares: number): number {
  return 1 + Math.trunc(((shares - V1_MIN_SHARES) * (V2_MAX_WEIGHT - 1)) / (V1_MAX_SHARES - V1_MIN_SHARES));
}

function translate(limits: Limits, opts: TranslateOptions = {}): Translation {
  const writes: Translation['writes'] = [];
  const notes: string[] = [];
  const w = (controller: string, file: string, value: string | number | bigint) =>
    writes.push({ controller, file, value: String(value) });
  if (limits.memory !== undefined) w('memory', 'memory.max', limits.memory);
  if (limits.swappiness !== undefined) {
    // cgroup v2 has no per-cgroup swappiness; "no swap" is memory.swap.max = 0.
    if (limits.swappiness !== 0 || limits.swap !== undefined)
      throw new UnsupportedLimitError('swappiness', 'v2-no-swappiness');
    notes.push('cgroup v2 has no memory.swappiness: a swappiness of 0 became memory.swap.max = 0');
    w('memory', 'memory.swap.max', 0);
  }
  if (limits.swap !== undefined) w('memory', 'memory.swap.max', limits.swap);
  if (limits.pids !== undefined) w('pids', 'pids.max', limits.pids);
  if (limits.cpuShares !== undefined) w('cpu', 'cpu.weight', sharesToWeight(limits.cpuShares));
  const period = limits.cpuPeriodUs ?? opts.cpuPeriodUs ?? DEFAULT_CPU_PERIOD_US;
  const quota = cpuQuotaFor(limits, period);
  if (quota !== undefined || limits.cpuPeriodUs !== undefined) w('cpu', 'cpu.max', `${quota ?? 'max'} ${period}`);
  return { writes, notes };
}

/** The cgroups from the top of the hierarchy down to the parent of `dir`. */
function ancestors(h: Hierarchy, dir: string): string[] {
  const chain: string[] = [];
  for (let d = posix.dirname(dir); d.startsWith(h.mountPoint); d = posix.dirname(d)) {
    chain.unshift(d);
    if (d === h.mountPoint) break;
  }
  return chain;
}

function enabledFor(d: string): string[] {
  return (readOptionalFile(d, 'cgroup.subtree_control') ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((c) => c.replace(/^\+/, ''));
}

function cgroupPathOf(h: Hierarchy, dir: string): string {
  return posix.join(h.mountRoot, posix.relative(h.mountPoint, dir));
}

function readStats(c: CgroupDir, stats: CgroupStats, from: StatsReader): void {
  const current = parseNumber(from('memory.current', c, 'memory.current'));
  if (current !== undefined) {
    const events = parseKeyedFile(from('memory.failcnt', c, 'memory.events'));
    stats.sources['memory.oom'] = stats.sources['memory.oom_kill'] = stats.sources['memory.failcnt'];
    const swapCurrent = parseNumber(from('memory.swap.current', c, 'memory.swap.current'));
    const swapMax = parseLimit(from('memory.swap.max', c, 'memory.swap.max'));
    stats.memory = {
      current,
      max: parseLimit(from('memory.max', c, 'memory.max')) ?? 'max',
      peak: parseNumber(from('memory.peak', c, 'memory.peak')),
      failcnt: events.max,
      oom: events.oom,
      oom_kill: events.oom_kill,
      swap: swapCurrent === undefined && swapMax === undefined ? undefined : { current: swapCurrent, max: swapMax },
    };
  }
  const cpuMax = from('cpu.quota_percent', c, 'cpu.max');
  const cpuStat = parseKeyedFile(from('cpu.usage_usec', c, 'cpu.stat'));
  if (cpuMax !== undefined || cpuStat.usage_usec !== undefined) {
    const [quota, period] = (cpuMax ?? '').split(/\s+/);
    stats.cpu = { ...stats.cpu, usage_usec: cpuStat.usage_usec, nr_throttled: cpuStat.nr_throttled };
    if (cpuMax !== undefined) {
      stats.cpu.quota_percent = quota === 'max' ? 'max' : quotaPercent(Number(quota), Number(period));
      stats.cpu.weight = parseNumber(from('cpu.weight', c, 'cpu.weight'));
    }
  }
  // On a hybrid host the v1 freezer, if the cgroup is there, is the one in use.
  if (!stats.freezer) {
    const state = v2Backend.freezerState(c.dir);
    if (state !== undefined) {
      from('freezer.state', c, 'cgroup.events');
      stats.freezer = { state };
    }
  }
  const pidsCurrent = parseNumber(from('pids.current', c, 'pids.current'));
  if (pidsCurrent !== undefined)
    stats.pids = { current: pidsCurrent, max: parseLimit(from('pids.max', c, 'pids.max')) ?? 'max' };
}

// runc reports memory.max = max as the largest page-aligned counter, as v1 shows it.
const RUNC_NO_LIMIT = 9223372036854771712n;
const NS_PER_US = 1000;

function runcCpu(dir: string): RuncCpuStats {
  const s = counters(readQuiet(dir, 'cpu.stat'));
  return {
    usage: {
      total: (s.usage_usec ?? 0) * NS_PER_US,
      kernel: (s.system_usec ?? 0) * NS_PER_US,
      user: (s.user_usec ?? 0) * NS_PER_US,
    },
    throttling: {},
  };
}

function runcMemory(dir: string): RuncMemoryStats {
  const max = readQuiet(dir, 'memory.max');
  return {
    usage: {
      limit: max === 'max' ? RUNC_NO_LIMIT : counter(max),
      usage: counter(readQuiet(dir, 'memory.current')),
      max: counter(readQuiet(dir, 'memory.peak')),
      failcnt: counters(readQuiet(dir, 'memory.events')).max ?? 0,
    },
    raw: counters(readQuiet(dir, 'memory.stat')),
  };
}

/** The controllers enabled for the directory (cgroup.controllers), and those just enabled for it. */
function controllersIn(dir: string, enabled: readonly string[]): string[] {
  let listed: string[] = [];
  try {
    listed = readCgroupFile(dir, 'cgroup.controllers').split(/\s+/).filter(Boolean);
  } catch {
    // not there (yet): only what was just enabled
  }
  return [...new Set([...listed, ...enabled])];
}

export const v2Backend: CgroupBackend = {
  version: 2,
  check(h, target, controllers) {
    if (controllers.length === 0) return;
    const topHas = readOptionalFile(h.mountPoint, 'cgroup.controllers')?.split(/\s+/) ?? h.controllers;
    const absent = controllers.filter((c) => !topHas.includes(c));
    if (absent.length)
      throw new ControllerMissingError(
        absent[0],
        posix.join(h.mountPoint, 'cgroup.controllers'),
        topHas.filter(Boolean),
      );
    for (const d of ancestors(h, target.dir)) {
      if (!existsSync(d)) break; // made by create: no processes yet
      const missing = controllers.filter((c) => !enabledFor(d).includes(c));
      // The top of the hierarchy (the root cgroup) is exempt from the rule.
      if (missing.length === 0 || d === h.mountPoint) continue;
      const procs = cgroupProcs(d);
      if (procs.length) throw new InternalProcessesError(cgroupPathOf(h, d), d, procs, missing);
    }
  },
  setUp(h, target, _made, controllers, undo: Undo[]) {
    if (controllers.length === 0) return;
    for (const d of ancestors(h, target.dir)) {
      const missing = controllers.filter((c) => !enabledFor(d).includes(c));
      if (missing.length === 0) continue;
      const available = readOptionalFile(d, 'cgroup.controllers');
      if (available !== undefined) {
        const list = available.split(/\s+/).filter(Boolean);
        const absent = missing.filter((c) => !list.includes(c));
        if (absent.length) throw new ControllerMissingError(absent[0], posix.join(d, 'cgroup.controllers'), list);
      }
      writeCgroupFile(d, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
      undo.push(() => writeCgroupFile(d, 'cgroup.subtree_control', missing.map((c) => `-${c}`).join(' ')));
    }
  },
  translateOptions(dir) {
    const max = readOptionalFile(dir, 'cpu.max');
    return { cpuPeriodUs: max ? Number(max.split(/\s+/)[1]) : DEFAULT_CPU_PERIOD_US };
  },
  translate,
  readStats,
  canFreeze: (c) => existsSync(posix.join(c.dir, 'cgroup.freeze')),
  freezerState: v2FreezerState,
  requestFreeze(dir, frozen, first) {
    if (first) writeCgroupFile(dir, 'cgroup.freeze', frozen ? '1' : '0');
    return new RegExp(`^frozen ${frozen ? 1 : 0}$`, 'm').test(readCgroupFile(dir, 'cgroup.events'));
  },
  killFile: (dir) => existsSync(posix.join(dir, 'cgroup.kill')),
  watchOom(dir, wake) {
    const watcher = watchFile(posix.join(dir, 'memory.events'), () => wake());
    watcher.on('error', () => wake());
    return { how: 'inotify on memory.events', stop: () => watcher.close() };
  },
  oomKillCount: (dir) => parseKeyedFile(readOptionalFile(dir, 'memory.events')).oom_kill,
  hasMemory: (dir) => existsSync(posix.join(dir, 'memory.current')),
  controllersIn: (_h, dir, enabled) => controllersIn(dir, enabled),
  controllerList: (h) => posix.join(h.mountPoint, 'cgroup.controllers'),
  freezeKind: 'v2 cgroup.freeze',
  freezeRank: 1,
  killsFrozenTasks: true,
  // These are written as v1 files only: on v2 each is refused by name (runc maps some, e.g. to
  // cpuset.cpus and memory.low; not done here).
  extraFile: () => undefined,
  // No applyDevices: v2 has no devices files; runc loads an eBPF program (BPF_CGROUP_DEVICE), this runtime does not.
  runcCpu: (cpuacctDir) => runcCpu(cpuacctDir),
  runcMemory,
};
