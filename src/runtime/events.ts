// `events`: the container's resource usage as runc's stats event
// ({"type":"stats","id":...,"data":{cpu,memory,pids,blkio,hugetlb,...}}),
// read from whichever cgroup files each hierarchy has, and "oom" events.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { CgroupDir } from '../cgroup/hierarchy.js';
import type { SavedState } from './state.js';

function read(dir: string | undefined, file: string): string | undefined {
  if (!dir) return undefined;
  try {
    return readFileSync(posix.join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A counter; v1's "no limit" (2^63 rounded to pages) does not fit a double, so it stays a bigint. */
function num(text: string | undefined): number | bigint {
  if (text === undefined || text === '' || text === 'max') return 0;
  const n = Number(text.split(/\s+/)[0]);
  return Number.isSafeInteger(n) ? n : BigInt(text.split(/\s+/)[0]);
}

/** JSON with bigints written as plain numbers, as Go writes uint64. */
export function eventJson(event: unknown): string {
  return JSON.stringify(event, (_k, v) => (typeof v === 'bigint' ? `\u0000${v}` : v)).replace(/"\\u0000(\d+)"/g, '$1');
}

function keyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.split(/\s+/);
    if (k && v !== undefined) out[k] = num(v) as number;
  }
  return out;
}

// v1 reports "no limit" as the largest page-aligned counter; runc passes it on as is.
const V2_NO_LIMIT = 9223372036854771712n;

function dirWith(dirs: readonly CgroupDir[], controller: string): CgroupDir | undefined {
  return dirs.find((d) => d.hierarchy.version === 1 && d.hierarchy.controllers.includes(controller)) ?? dirs.find((d) => d.hierarchy.version === 2 && d.hierarchy.controllers.includes(controller));
}

export function containerStats(state: SavedState): Record<string, unknown> {
  const dirs = state.cgroup?.dirs ?? [];
  const data: Record<string, unknown> = {};
  const cpu = dirWith(dirs, 'cpuacct') ?? dirWith(dirs, 'cpu');
  if (cpu?.hierarchy.version === 1) {
    const ticks = keyed(read(cpu.dir, 'cpuacct.stat'));
    const nsPerTick = 1e9 / 100; // USER_HZ
    const cpuDir = dirWith(dirs, 'cpu');
    const throttle = keyed(read(cpuDir?.dir, 'cpu.stat'));
    data.cpu = {
      usage: {
        total: num(read(cpu.dir, 'cpuacct.usage')),
        percpu: (read(cpu.dir, 'cpuacct.usage_percpu') ?? '').split(/\s+/).filter(Boolean).map(Number),
        kernel: Number(ticks.system ?? 0) * nsPerTick,
        user: Number(ticks.user ?? 0) * nsPerTick,
      },
      throttling: throttle.nr_periods ? { periods: throttle.nr_periods, throttled_periods: throttle.nr_throttled, throttled_time: throttle.throttled_time } : {},
    };
  } else if (cpu) {
    const s = keyed(read(cpu.dir, 'cpu.stat'));
    data.cpu = { usage: { total: (s.usage_usec ?? 0) * 1000, kernel: (s.system_usec ?? 0) * 1000, user: (s.user_usec ?? 0) * 1000 }, throttling: {} };
  }
  const mem = dirWith(dirs, 'memory');
  if (mem?.hierarchy.version === 1) {
    const entry = (prefix: string) => ({
      limit: num(read(mem.dir, `${prefix}.limit_in_bytes`)),
      usage: num(read(mem.dir, `${prefix}.usage_in_bytes`)),
      max: num(read(mem.dir, `${prefix}.max_usage_in_bytes`)),
      failcnt: num(read(mem.dir, `${prefix}.failcnt`)),
    });
    const memory: Record<string, unknown> = { usage: entry('memory') };
    if (read(mem.dir, 'memory.memsw.usage_in_bytes') !== undefined) memory.swap = entry('memory.memsw');
    if (read(mem.dir, 'memory.kmem.usage_in_bytes') !== undefined) memory.kernel = entry('memory.kmem');
    memory.raw = keyed(read(mem.dir, 'memory.stat'));
    data.memory = memory;
  } else if (mem) {
    const max = read(mem.dir, 'memory.max');
    data.memory = {
      usage: { limit: max === 'max' ? V2_NO_LIMIT : num(max), usage: num(read(mem.dir, 'memory.current')), max: num(read(mem.dir, 'memory.peak')), failcnt: keyed(read(mem.dir, 'memory.events')).max ?? 0 },
      raw: keyed(read(mem.dir, 'memory.stat')),
    };
  }
  const pids = dirWith(dirs, 'pids');
  if (pids) {
    const max = read(pids.dir, 'pids.max');
    data.pids = { current: num(read(pids.dir, 'pids.current')), ...(max && max !== 'max' ? { limit: num(max) } : {}) };
  }
  data.blkio = {};
  data.hugetlb = {};
  data.intel_rdt = {};
  data.network_interfaces = null;
  return { type: 'stats', id: state.id, data };
}

/** OOM kills so far (v1 memory.oom_control oom_kill, v2 memory.events oom_kill). */
export function oomKills(state: SavedState): number {
  const mem = dirWith(state.cgroup?.dirs ?? [], 'memory');
  if (!mem) return 0;
  const file = mem.hierarchy.version === 1 ? 'memory.oom_control' : 'memory.events';
  return keyed(read(mem.dir, file)).oom_kill ?? 0;
}
