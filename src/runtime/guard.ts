// The state guard: which operations each container status allows, in one
// table, checked in one place, refused with one error (WrongState). The
// refusals are worded as runc words them (containerd and runtime-tools
// match on some of them). Pure: the status is worked out by the caller
// (state.ts, currentStatus).
import { WrongState } from './errors.js';
import type { Status } from './state.js';

export type Operation = 'start' | 'delete' | 'kill' | 'pause' | 'resume' | 'exec' | 'update' | 'events';

interface Rule {
  allowed: readonly Status[];
  /** runc's message when the status is not allowed. */
  refusal: (id: string, status: Status) => string;
}

const notRunning = () => 'container not running';

export const STATE_GUARD: Readonly<Record<Operation, Rule>> = {
  start: {
    allowed: ['created'],
    refusal: (_id, status) =>
      status === 'stopped' ? 'cannot start a container that has stopped' : 'cannot start an already running container',
  },
  // runc deletes a created container without --force: it never ran. --force skips the guard.
  delete: {
    allowed: ['created', 'stopped'],
    refusal: (id, status) => `cannot delete container ${id} that is not stopped: ${status}`,
  },
  // kill --all skips the guard: it signals whatever is left in the cgroup, also once the init is gone.
  kill: { allowed: ['created', 'running', 'paused'], refusal: notRunning },
  pause: { allowed: ['created', 'running'], refusal: notRunning },
  resume: { allowed: ['paused'], refusal: () => 'container not paused' },
  exec: { allowed: ['created', 'running'], refusal: (_id, status) => `cannot exec in a ${status} container` },
  update: { allowed: ['created', 'running', 'paused'], refusal: notRunning },
  events: { allowed: ['created', 'running', 'paused'], refusal: notRunning },
};

export function allows(op: Operation, status: Status): boolean {
  return STATE_GUARD[op].allowed.includes(status);
}

/** Refuse `op` unless the container's status allows it. */
export function guard(op: Operation, id: string, status: Status): void {
  if (!allows(op, status)) throw new WrongState(id, status, STATE_GUARD[op].refusal(id, status));
}
