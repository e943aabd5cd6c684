// What a cgroup uses and may use: one structure for ts-cgroup's `show`
// (text and JSON), `tree` and `watch`, filled by each hierarchy's back end
// from the files its version has, with where each number came from. The
// runtime's `events` uses runc's shape instead (runc-stats.ts).
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
  cpu?: { usage_usec?: number; quota_percent?: Limit; nr_throttled?: number; weight?: number; shares?: number };
  freezer?: { state: string };
  /** stats key -> the file it was read from, for `show` to teach where numbers live. */
  sources: Record<string, string>;
}

// v1 shows "no limit" as the largest page-aligned counter (PAGE_COUNTER_MAX * PAGE_SIZE).
const V1_UNLIMITED = 2 ** 62;

/** A limit file's text: 'max' (v2), -1 or the huge v1 counter are no limit. */
export function parseLimit(text: string | undefined): Limit | undefined {
  if (text === undefined) return undefined;
  if (text === 'max' || text === '-1') return 'max';
  const n = Number(text);
  return n >= V1_UNLIMITED ? 'max' : n;
}

/** The first number of a file's text. */
export function parseNumber(text: string | undefined): number | undefined {
  return text === undefined || text === '' ? undefined : Number(text.split(/\s+/)[0]);
}

/** quota/period as a percentage of one CPU, to one decimal. */
export function quotaPercent(quotaUs: number, periodUs: number): number {
  return Math.round((quotaUs / periodUs) * 1000) / 10;
}
