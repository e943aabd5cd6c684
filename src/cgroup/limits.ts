// Friendly limits (--memory 100M, --swap 0, --swappiness 0, --pids 20,
// --cpu 50%) and the files they become on each cgroup version. Pure
// functions: the tests check the translation without a kernel.
import { ToolError } from '../syscalls/errors.js';
import type { CgroupVersion } from './hierarchy.js';

export type Unlimited = 'max';

export interface Limits {
  memory?: bigint | Unlimited;
  swap?: bigint | Unlimited;
  swappiness?: number;
  pids?: number | Unlimited;
  /** Percent of one CPU: 50 is half a CPU, 200 two CPUs. */
  cpuPercent?: number | Unlimited;
}

export interface RawLimits {
  memory?: string;
  swap?: string;
  swappiness?: string;
  pids?: string;
  cpu?: string;
}

/** One file to write in the cgroup of `controller`. */
export interface LimitWrite {
  controller: string;
  file: string;
  value: string;
}

const SUFFIX: Record<string, bigint> = { '': 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n };

/** Sizes as the kernel's memparse() reads them: bytes, or K/M/G/T (powers of 1024); 'max' or -1 for no limit. */
export function parseSize(text: string, what: string): bigint | Unlimited {
  if (text === 'max' || text === '-1') return 'max';
  const m = /^(\d+)([KMGT]?)(i?B)?$/i.exec(text.trim());
  if (!m) throw new ToolError(`invalid ${what} '${text}': expected bytes with an optional K, M, G or T suffix, or 'max'`);
  return BigInt(m[1]) * SUFFIX[m[2].toUpperCase()];
}

function parseCount(text: string, what: string): number | Unlimited {
  if (text === 'max') return 'max';
  if (!/^\d+$/.test(text)) throw new ToolError(`invalid ${what} '${text}': expected a whole number or 'max'`);
  return Number(text);
}

function parsePercent(text: string): number | Unlimited {
  if (text === 'max') return 'max';
  const m = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (!m || Number(m[1]) <= 0) throw new ToolError(`invalid --cpu '${text}': expected a percentage of one CPU such as 50% (150% is one and a half CPUs), or 'max'`);
  return Number(m[1]);
}

export function parseLimits(raw: RawLimits): Limits {
  const limits: Limits = {};
  if (raw.memory !== undefined) limits.memory = parseSize(raw.memory, '--memory');
  if (raw.swap !== undefined) limits.swap = parseSize(raw.swap, '--swap');
  if (raw.swappiness !== undefined) {
    const n = parseCount(raw.swappiness, '--swappiness');
    if (n === 'max' || n > 200) throw new ToolError(`invalid --swappiness '${raw.swappiness}': expected 0 to 200`);
    limits.swappiness = n;
  }
  if (raw.pids !== undefined) limits.pids = parseCount(raw.pids, '--pids');
  if (raw.cpu !== undefined) limits.cpuPercent = parsePercent(raw.cpu);
  return limits;
}

/** The controllers a set of limits needs. */
export function controllersFor(limits: Limits): string[] {
  const out: string[] = [];
  if (limits.memory !== undefined || limits.swap !== undefined || limits.swappiness !== undefined) out.push('memory');
  if (limits.pids !== undefined) out.push('pids');
  if (limits.cpuPercent !== undefined) out.push('cpu');
  return out;
}

/** The part of `limits` that these controllers enforce (one hierarchy's share on v1). */
export function limitsForControllers(limits: Limits, controllers: readonly string[]): Limits {
  const { memory, swap, swappiness, pids, cpuPercent } = limits;
  return {
    ...(controllers.includes('memory') ? { memory, swap, swappiness } : {}),
    ...(controllers.includes('pids') ? { pids } : {}),
    ...(controllers.includes('cpu') ? { cpuPercent } : {}),
  };
}

// CFS bandwidth: the kernel refuses a quota under 1 ms per period.
const MIN_CPU_QUOTA_US = 1000;
export const DEFAULT_CPU_PERIOD_US = 100_000;

function cpuQuota(percent: number, periodUs: number): number {
  const quota = Math.round((percent / 100) * periodUs);
  if (quota < MIN_CPU_QUOTA_US) throw new ToolError(`--cpu ${percent}% is below the kernel's minimum quota of ${MIN_CPU_QUOTA_US} us per ${periodUs} us period`);
  return quota;
}

export interface TranslateOptions {
  /** v1: the hierarchy has memory.memsw.* (swap accounting is on). */
  swapAccounting?: boolean;
  /** The CFS period in use (cpu.cfs_period_us, or the second field of cpu.max). */
  cpuPeriodUs?: number;
}

export interface Translation {
  writes: LimitWrite[];
  /** What was adapted to the version, for the user to read. */
  notes: string[];
}

/**
 * The files to write, in an order the kernel accepts: on v1 the memory
 * limit before memory+swap (memsw may never be below it).
 */
export function translateLimits(limits: Limits, version: CgroupVersion, opts: TranslateOptions = {}): Translation {
  const writes: LimitWrite[] = [];
  const notes: string[] = [];
  const w = (controller: string, file: string, value: string | number | bigint) => writes.push({ controller, file, value: String(value) });
  const period = opts.cpuPeriodUs ?? DEFAULT_CPU_PERIOD_US;
  if (version === 1) {
    if (limits.memory !== undefined) w('memory', 'memory.limit_in_bytes', limits.memory === 'max' ? -1 : limits.memory);
    if (limits.swap !== undefined) {
      // v1 has no swap-only limit: memory.memsw.limit_in_bytes caps memory+swap.
      if (!opts.swapAccounting) throw new ToolError('--swap needs swap accounting (memory.memsw.limit_in_bytes), which this kernel does not have: use --swappiness 0, or boot with swapaccount=1');
      if (limits.memory === undefined) throw new ToolError('--swap on cgroup v1 needs --memory too: the kernel limits memory+swap (memory.memsw.limit_in_bytes), not swap alone');
      const memsw = limits.memory === 'max' || limits.swap === 'max' ? -1 : limits.memory + limits.swap;
      w('memory', 'memory.memsw.limit_in_bytes', memsw);
    }
    if (limits.swappiness !== undefined) w('memory', 'memory.swappiness', limits.swappiness);
    if (limits.pids !== undefined) w('pids', 'pids.max', limits.pids);
    if (limits.cpuPercent !== undefined) w('cpu', 'cpu.cfs_quota_us', limits.cpuPercent === 'max' ? -1 : cpuQuota(limits.cpuPercent, period));
    return { writes, notes };
  }
  if (limits.memory !== undefined) w('memory', 'memory.max', limits.memory);
  if (limits.swappiness !== undefined) {
    // cgroup v2 has no per-cgroup swappiness; "no swap" is memory.swap.max = 0.
    if (limits.swappiness !== 0 || limits.swap !== undefined)
      throw new ToolError('cgroup v2 has no memory.swappiness: use --swap 0 (memory.swap.max) to keep the cgroup out of swap');
    notes.push('cgroup v2 has no memory.swappiness: --swappiness 0 became memory.swap.max = 0');
    w('memory', 'memory.swap.max', 0);
  }
  if (limits.swap !== undefined) w('memory', 'memory.swap.max', limits.swap);
  if (limits.pids !== undefined) w('pids', 'pids.max', limits.pids);
  if (limits.cpuPercent !== undefined) w('cpu', 'cpu.max', `${limits.cpuPercent === 'max' ? 'max' : cpuQuota(limits.cpuPercent, period)} ${period}`);
  return { writes, notes };
}

/** 104857600 -> "100M", for output; exact when it divides evenly. */
export function formatBytes(bytes: number | bigint | undefined): string {
  if (bytes === undefined) return '-';
  const n = Number(bytes);
  for (const [unit, size] of [['T', 2 ** 40], ['G', 2 ** 30], ['M', 2 ** 20], ['K', 2 ** 10]] as const) {
    if (n >= size) return n % size === 0 ? `${n / size}${unit}` : `${(n / size).toFixed(1)}${unit}`;
  }
  return String(n);
}
