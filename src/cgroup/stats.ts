// What a cgroup uses and may use, read from whichever files its version has
// (the table in REFERENCE.md): one structure for `show`, `show --json`,
// `tree` and `watch`, and where each number came from.
import { posix } from 'node:path';
import { CgroupDir } from './hierarchy.js';
import { cgroupProcs, parseKeyedFile, readOptionalFile } from './files.js';

export type Limit = number | 'max';

export interface CgroupStats {
  path: string;
  /** Each hierarchy the cgroup is in: "memory (v1)" -> directory. */
  hierarchies: Array<{ version: 1 | 2; controllers: string[]; dir: string }>;
  processes: number[];
  memory?: {
    current: number;
    max: Limit;
    peak?: number;
    /** times the limit was hit: v1 memory.failcnt, v2 the "max" count of memory.events */
    failcnt?: number;
    /** OOM situations (v2 only: memory.events "oom") */
    oom?: number;
    oom_kill?: number;
    swap?: { current?: number; max?: Limit };
    swappiness?: number;
  };
  pids?: { current: number; max: Limit };
  cpu?: { usage_usec?: number; quota_percent?: Limit; nr_throttled?: number };
  freezer?: { state: string };
  /** stats key -> the file it was read from, for `show` to teach where numbers live. */
  sources: Record<string, string>;
}

// v1 shows "no limit" as the largest page-aligned counter (PAGE_COUNTER_MAX * PAGE_SIZE).
const V1_UNLIMITED = 2 ** 62;

function limit(text: string | undefined): Limit | undefined {
  if (text === undefined) return undefined;
  if (text === 'max' || text === '-1') return 'max';
  const n = Number(text);
  return n >= V1_UNLIMITED ? 'max' : n;
}

function num(text: string | undefined): number | undefined {
  return text === undefined || text === '' ? undefined : Number(text.split(/\s+/)[0]);
}

export function readStats(spec: string, cgroups: readonly CgroupDir[]): CgroupStats {
  const sources: Record<string, string> = {};
  const stats: CgroupStats = {
    path: spec,
    hierarchies: cgroups.map((c) => ({ version: c.hierarchy.version, controllers: c.hierarchy.controllers, dir: c.dir })),
    processes: [...new Set(cgroups.flatMap((c) => cgroupProcs(c.dir)))].sort((a, b) => a - b),
    sources,
  };
  const from = (key: string, c: CgroupDir, file: string): string | undefined => {
    const v = readOptionalFile(c.dir, file);
    if (v !== undefined) sources[key] = posix.join(c.dir, file);
    return v;
  };
  for (const c of cgroups) {
    if (c.hierarchy.version === 1) {
      if (from('memory.current', c, 'memory.usage_in_bytes') !== undefined) {
        const oomControl = parseKeyedFile(from('memory.oom_kill', c, 'memory.oom_control'));
        const memsw = num(from('memory.swap.current', c, 'memory.memsw.usage_in_bytes'));
        const usage = num(readOptionalFile(c.dir, 'memory.usage_in_bytes'))!;
        stats.memory = {
          current: usage,
          max: limit(from('memory.max', c, 'memory.limit_in_bytes')) ?? 'max',
          peak: num(from('memory.peak', c, 'memory.max_usage_in_bytes')),
          failcnt: num(from('memory.failcnt', c, 'memory.failcnt')),
          oom_kill: oomControl.oom_kill,
          swap: memsw === undefined ? undefined : { current: Math.max(0, memsw - usage), max: swapLimitV1(from('memory.swap.max', c, 'memory.memsw.limit_in_bytes'), from('memory.max', c, 'memory.limit_in_bytes')) },
          swappiness: num(from('memory.swappiness', c, 'memory.swappiness')),
        };
      }
      const quota = num(from('cpu.quota_percent', c, 'cpu.cfs_quota_us'));
      if (quota !== undefined) {
        const period = num(readOptionalFile(c.dir, 'cpu.cfs_period_us')) ?? 100_000;
        stats.cpu = { ...stats.cpu, quota_percent: quota < 0 ? 'max' : Math.round((quota / period) * 1000) / 10, nr_throttled: parseKeyedFile(from('cpu.nr_throttled', c, 'cpu.stat')).nr_throttled };
      }
      const usageNs = num(from('cpu.usage_usec', c, 'cpuacct.usage'));
      if (usageNs !== undefined) stats.cpu = { ...stats.cpu, usage_usec: Math.round(usageNs / 1000) };
      const state = from('freezer.state', c, 'freezer.state');
      if (state !== undefined) stats.freezer = { state };
    } else {
      const current = num(from('memory.current', c, 'memory.current'));
      if (current !== undefined) {
        const events = parseKeyedFile(from('memory.failcnt', c, 'memory.events'));
        sources['memory.oom'] = sources['memory.oom_kill'] = sources['memory.failcnt'];
        const swapCurrent = num(from('memory.swap.current', c, 'memory.swap.current'));
        const swapMax = limit(from('memory.swap.max', c, 'memory.swap.max'));
        stats.memory = {
          current,
          max: limit(from('memory.max', c, 'memory.max')) ?? 'max',
          peak: num(from('memory.peak', c, 'memory.peak')),
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
        if (cpuMax !== undefined) stats.cpu.quota_percent = quota === 'max' ? 'max' : Math.round((Number(quota) / Number(period)) * 1000) / 10;
      }
      const freeze = from('freezer.state', c, 'cgroup.events');
      if (freeze !== undefined && !stats.freezer) stats.freezer = { state: /^frozen 1$/m.test(freeze) ? 'FROZEN' : readOptionalFile(c.dir, 'cgroup.freeze') === '1' ? 'FREEZING' : 'THAWED' };
    }
    const pidsCurrent = num(from('pids.current', c, 'pids.current'));
    if (pidsCurrent !== undefined) stats.pids = { current: pidsCurrent, max: limit(from('pids.max', c, 'pids.max')) ?? 'max' };
  }
  return stats;
}

/** v1 limits memory+swap; the swap part is the difference. */
function swapLimitV1(memsw: string | undefined, mem: string | undefined): Limit | undefined {
  const both = limit(memsw);
  const memory = limit(mem);
  if (both === undefined) return undefined;
  if (both === 'max' || memory === 'max' || memory === undefined) return 'max';
  return both - memory;
}
