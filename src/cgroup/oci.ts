// The OCI runtime spec's linux.resources (config.json) as friendly limits,
// so a runtime hands the cgroup layer the object it read and each back end
// writes its own files. OCI's numbers are v1's: memory.swap is the limit on
// memory+swap (memory.memsw.limit_in_bytes), -1 means no limit, and cpu
// shares are v1 shares. 0 or absent means "leave as is".
import { Limits } from './limits.js';
import { OciResourcesError } from './errors.js';

export interface OciLinuxResources {
  memory?: {
    limit?: number;
    reservation?: number;
    swap?: number;
    kernel?: number;
    kernelTCP?: number;
    swappiness?: number;
    disableOOMKiller?: boolean;
  };
  cpu?: {
    shares?: number;
    quota?: number;
    period?: number;
    realtimeRuntime?: number;
    realtimePeriod?: number;
    cpus?: string;
    mems?: string;
    idle?: number;
  };
  pids?: { limit?: number };
  [other: string]: unknown;
}

// OCI's "no limit".
const OCI_UNLIMITED = -1;

function size(n: number): bigint | 'max' {
  return n === OCI_UNLIMITED ? 'max' : BigInt(n);
}

/**
 * linux.resources -> Limits. Swap becomes swap alone (what v2's
 * memory.swap.max takes; the v1 back end adds the memory limit back):
 * memory+swap must not be below memory, and needs a memory limit to be
 * split. Unlimited memory with swap unset means both unlimited, as runc reads it.
 */
export function fromOciResources(r: OciLinuxResources): Limits {
  const limits: Limits = {};
  const mem = r.memory ?? {};
  const limit = mem.limit ?? 0;
  const swap = mem.swap ?? 0;
  if (limit !== 0) {
    if (limit < OCI_UNLIMITED) throw new OciResourcesError('memory.limit', `${limit} is not a size`);
    limits.memory = size(limit);
  }
  if (swap !== 0) {
    if (swap === OCI_UNLIMITED) limits.swap = 'max';
    else if (limit === 0 || limit === OCI_UNLIMITED)
      throw new OciResourcesError('memory.swap', 'a memory+swap limit needs a memory limit');
    else if (swap < limit)
      throw new OciResourcesError('memory.swap', `memory+swap (${swap}) is below memory.limit (${limit})`);
    else limits.swap = BigInt(swap - limit);
  } else if (limit === OCI_UNLIMITED) {
    limits.swap = 'max';
  }
  if (r.pids?.limit !== undefined && r.pids.limit !== 0) limits.pids = r.pids.limit <= 0 ? 'max' : r.pids.limit;
  const cpu = r.cpu ?? {};
  if (cpu.shares) limits.cpuShares = cpu.shares;
  if (cpu.quota !== undefined && cpu.quota !== 0) limits.cpuQuotaUs = cpu.quota < 0 ? 'max' : cpu.quota;
  if (cpu.period) limits.cpuPeriodUs = cpu.period;
  return limits;
}

/** The fields of linux.resources that fromOciResources does not turn into limits, for a runtime to warn about. */
export function ignoredOciResources(r: OciLinuxResources): string[] {
  const ignored: string[] = [];
  const known: Record<string, readonly string[]> = {
    memory: ['limit', 'swap'],
    cpu: ['shares', 'quota', 'period'],
    pids: ['limit'],
  };
  for (const [key, value] of Object.entries(r)) {
    if (value === undefined || value === null) continue;
    if (!(key in known)) {
      ignored.push(key);
      continue;
    }
    for (const [field, v] of Object.entries(value as Record<string, unknown>))
      if (v !== undefined && !known[key].includes(field)) ignored.push(`${key}.${field}`);
  }
  return ignored;
}
