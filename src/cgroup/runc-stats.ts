// The numbers of runc's stats event (libcontainer's cgroups.Stats as
// JSON: `ts-runc events`), read by each hierarchy's back end from the files
// its version has. Unlike CgroupStats (stats.ts, for ts-cgroup), these keep
// runc's names and units, and v1's "no limit" counter as it is.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';

export interface RuncMemoryEntry {
  limit: number | bigint;
  usage: number | bigint;
  max: number | bigint;
  failcnt: number | bigint;
}

export type RuncCpuStats = Record<string, unknown>;
export type RuncMemoryStats = Record<string, unknown>;

/** A cgroup file's text, trimmed; undefined if it cannot be read. */
export function readQuiet(dir: string | undefined, file: string): string | undefined {
  if (!dir) return undefined;
  try {
    return readFileSync(posix.join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A counter; v1's "no limit" (2^63 rounded to pages) does not fit a double, so it stays a bigint. */
export function counter(text: string | undefined): number | bigint {
  if (text === undefined || text === '' || text === 'max') return 0;
  const first = text.split(/\s+/)[0];
  const n = Number(first);
  return Number.isSafeInteger(n) ? n : BigInt(first);
}

/** "key value" lines as counters. */
export function counters(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.split(/\s+/);
    if (k && v !== undefined) out[k] = counter(v) as number;
  }
  return out;
}

/** pids.current and pids.max are the same files on both versions. */
export function runcPids(dir: string): Record<string, unknown> {
  const max = readQuiet(dir, 'pids.max');
  return { current: counter(readQuiet(dir, 'pids.current')), ...(max && max !== 'max' ? { limit: counter(max) } : {}) };
}
