// `events`: the container's resource usage as runc's stats event
// ({"type":"stats","id":...,"data":{cpu,memory,pids,blkio,hugetlb,...}}),
// read through the cgroup layer (each hierarchy's back end knows its
// files), and "oom" events.
import { cgroupAt } from '../cgroup/manager.js';
import type { SavedState } from './state.js';

/** JSON with bigints written as plain numbers, as Go writes uint64. */
export function eventJson(event: unknown): string {
  return JSON.stringify(event, (_k, v) => (typeof v === 'bigint' ? `\u0000${v}` : v)).replace(/"\\u0000(\d+)"/g, '$1');
}

/** The cgroup as state.json recorded it, every directory kept (one gone reads as zeros). */
function savedCgroup(state: SavedState) {
  return cgroupAt(state.cgroup?.path ?? state.id, state.cgroup?.dirs ?? []);
}

export function containerStats(state: SavedState): Record<string, unknown> {
  const data: Record<string, unknown> = savedCgroup(state).runcStats();
  data.blkio = {};
  data.hugetlb = {};
  data.intel_rdt = {};
  data.network_interfaces = null;
  return { type: 'stats', id: state.id, data };
}

/** OOM kills so far (v1 memory.oom_control oom_kill, v2 memory.events oom_kill). */
export function oomKills(state: SavedState): number {
  return savedCgroup(state).oomKills() ?? 0;
}
