// Moving a process into a cgroup (a write to cgroup.procs) takes the
// kernel's cgroup_threadgroup_rwsem for writing, and the first writer after
// a quiet spell waits in rcu_sync_enter() for an RCU grace period: about
// 10 ms on a 2-core VM, more than all the rest a container's start asks of
// the kernel. Writers that come while that grace period runs wait only for
// its end, and those that come up to about one grace period after the last
// writer do not wait at all. runc hides the wait behind the start of its
// `runc init`; a runtime in Node can start it early instead, with a move
// that changes nothing, written on a worker thread. The waiting writer
// holds cgroup_mutex (cgroup_procs_write_start), so every other cgroup
// operation (mkdir, limits) must come before the early move, not during it.
// The file stays open (writable, on the host's hierarchy) while ts-runc
// clones the init or an exec'd process: their first calls close it with
// every other fd of Node's (ChildDefences in syscalls/plan.ts), before
// anything of the container can reach them.
import { writeInBackground } from '../syscalls/fs.js';
import { CgroupLayout, resolveCgroup } from './hierarchy.js';

/**
 * Start the grace period the next cgroup move will need: write "0" (the
 * writer's own process) into the cgroup.procs of the cgroup this process is
 * already in, in the background. Nothing moves; a failure (no permission
 * in a delegated tree) only means the later move waits as usual.
 */
export function startMoveGracePeriod(layout: CgroupLayout): void {
  const h = layout.hierarchies.find((x) => x.version === 2) ?? layout.hierarchies[0];
  if (!h) return;
  const own = resolveCgroup(layout, h.own, [h])[0];
  if (own)
    writeInBackground(
      `${own.dir}/cgroup.procs`,
      '0',
      'moves nothing; starts the RCU grace period that the next move waits for',
    );
}
