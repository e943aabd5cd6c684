// Friendly limits (a memory size such as 100M, swap, swappiness, a pids
// count, a CPU percentage, or an OCI linux.resources object through oci.ts) and the
// controllers they need. Which files they become is each back end's
// business (v1.ts, v2.ts). Pure functions: tests need no kernel.
import { InvalidLimitError, LimitName, UnsupportedLimitError } from './errors.js';

export type Unlimited = 'max';

export interface Limits {
  memory?: bigint | Unlimited;
  /** Swap alone (not memory+swap): v2 memory.swap.max; v1 adds the memory limit. */
  swap?: bigint | Unlimited;
  swappiness?: number;
  pids?: number | Unlimited;
  /** Percent of one CPU: 50 is half a CPU, 200 two CPUs. */
  cpuPercent?: number | Unlimited;
  /** CFS quota per period in microseconds, as OCI gives it (instead of cpuPercent). */
  cpuQuotaUs?: number | Unlimited;
  /** CFS period in microseconds; unset keeps the period the cgroup has. */
  cpuPeriodUs?: number;
  /** Relative CPU weight in v1 units (cpu.shares, 2 to 262144; 1024 is the default). */
  cpuShares?: number;
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

export interface Translation {
  writes: LimitWrite[];
  /** What was adapted to the version, for the user to read. */
  notes: string[];
}

const SUFFIX: Record<string, bigint> = { '': 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n };
const SIZE_EXPECTED = "bytes with an optional K, M, G or T suffix, or 'max'";
// The most the kernel takes for memory.swappiness.
const MAX_SWAPPINESS = 200;

/** Sizes as the kernel's memparse() reads them: bytes, or K/M/G/T (powers of 1024); 'max' or -1 for no limit. */
export function parseSize(text: string, what: LimitName): bigint | Unlimited {
  if (text === 'max' || text === '-1') return 'max';
  const m = /^(\d+)([KMGT]?)(i?B)?$/i.exec(text.trim());
  if (!m) throw new InvalidLimitError(what, text, SIZE_EXPECTED);
  return BigInt(m[1]) * SUFFIX[m[2].toUpperCase()];
}

function parseCount(text: string, what: LimitName): number | Unlimited {
  if (text === 'max') return 'max';
  if (!/^\d+$/.test(text)) throw new InvalidLimitError(what, text, "a whole number or 'max'");
  return Number(text);
}

function parsePercent(text: string): number | Unlimited {
  if (text === 'max') return 'max';
  const m = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (!m || Number(m[1]) <= 0)
    throw new InvalidLimitError(
      'cpu',
      text,
      "a percentage of one CPU such as 50% (150% is one and a half CPUs), or 'max'",
    );
  return Number(m[1]);
}

export function parseLimits(raw: RawLimits): Limits {
  const limits: Limits = {};
  if (raw.memory !== undefined) limits.memory = parseSize(raw.memory, 'memory');
  if (raw.swap !== undefined) limits.swap = parseSize(raw.swap, 'swap');
  if (raw.swappiness !== undefined) {
    const n = parseCount(raw.swappiness, 'swappiness');
    if (n === 'max' || n > MAX_SWAPPINESS)
      throw new InvalidLimitError('swappiness', raw.swappiness, `0 to ${MAX_SWAPPINESS}`);
    limits.swappiness = n;
  }
  if (raw.pids !== undefined) limits.pids = parseCount(raw.pids, 'pids');
  if (raw.cpu !== undefined) limits.cpuPercent = parsePercent(raw.cpu);
  return limits;
}

function hasCpu(limits: Limits): boolean {
  return (
    limits.cpuPercent !== undefined ||
    limits.cpuQuotaUs !== undefined ||
    limits.cpuPeriodUs !== undefined ||
    limits.cpuShares !== undefined
  );
}

/** The controllers a set of limits needs. */
export function controllersFor(limits: Limits): string[] {
  const out: string[] = [];
  if (limits.memory !== undefined || limits.swap !== undefined || limits.swappiness !== undefined) out.push('memory');
  if (limits.pids !== undefined) out.push('pids');
  if (hasCpu(limits)) out.push('cpu');
  return out;
}

/** The part of `limits` that these controllers enforce (one hierarchy's share on v1). */
export function limitsForControllers(limits: Limits, controllers: readonly string[]): Limits {
  const { memory, swap, swappiness, pids, cpuPercent, cpuQuotaUs, cpuPeriodUs, cpuShares } = limits;
  const defined = (o: Limits): Limits => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return defined({
    ...(controllers.includes('memory') ? { memory, swap, swappiness } : {}),
    ...(controllers.includes('pids') ? { pids } : {}),
    ...(controllers.includes('cpu') ? { cpuPercent, cpuQuotaUs, cpuPeriodUs, cpuShares } : {}),
  });
}

// CFS bandwidth: the kernel refuses a quota under 1 ms per period, and uses
// 100 ms as the period until someone changes it.
export const MIN_CPU_QUOTA_US = 1000;
export const DEFAULT_CPU_PERIOD_US = 100_000;

/** The CFS quota for these limits in a cgroup whose period is `periodUs`: 'max', a number, or undefined if none asked. */
export function cpuQuotaFor(limits: Limits, periodUs: number): number | Unlimited | undefined {
  let quota: number | Unlimited | undefined = limits.cpuQuotaUs;
  if (quota === undefined && limits.cpuPercent !== undefined)
    quota = limits.cpuPercent === 'max' ? 'max' : Math.round((limits.cpuPercent / 100) * periodUs);
  if (typeof quota === 'number' && quota < MIN_CPU_QUOTA_US)
    throw new UnsupportedLimitError('cpu', 'cpu-quota-too-small', {
      quotaUs: quota,
      minimumUs: MIN_CPU_QUOTA_US,
      periodUs,
    });
  return quota;
}

/** 104857600 -> "100M", for output; exact when it divides evenly. */
export function formatBytes(bytes: number | bigint | undefined): string {
  if (bytes === undefined) return '-';
  const n = Number(bytes);
  for (const [unit, size] of [
    ['T', 2 ** 40],
    ['G', 2 ** 30],
    ['M', 2 ** 20],
    ['K', 2 ** 10],
  ] as const) {
    if (n >= size) return n % size === 0 ? `${n / size}${unit}` : `${(n / size).toFixed(1)}${unit}`;
  }
  return String(n);
}
