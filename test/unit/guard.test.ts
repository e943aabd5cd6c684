// The state guard's table: for every operation and status, allowed or
// refused with runc's message. Pure: no container, no root.
import t from 'tap';
import { STATE_GUARD, allows, guard } from '../../src/runtime/guard.js';
import { WrongState } from '../../src/runtime/errors.js';
import type { Status } from '../../src/runtime/state.js';

const STATUSES: Status[] = ['created', 'running', 'paused', 'stopped'];

// What each status allows, as a table to read: the answer to "can I ... ?".
const EXPECTED: Record<string, Status[]> = {
  start: ['created'],
  delete: ['created', 'stopped'],
  kill: ['created', 'running', 'paused'],
  pause: ['created', 'running'],
  resume: ['paused'],
  exec: ['created', 'running'],
  update: ['created', 'running', 'paused'],
  events: ['created', 'running', 'paused'],
};

// runc's words, which containerd and runtime-tools may match on.
const REFUSALS: Record<string, Partial<Record<Status, string>>> = {
  start: {
    running: 'cannot start an already running container',
    paused: 'cannot start an already running container',
    stopped: 'cannot start a container that has stopped',
  },
  delete: {
    running: 'cannot delete container c1 that is not stopped: running',
    paused: 'cannot delete container c1 that is not stopped: paused',
  },
  kill: { stopped: 'container not running' },
  pause: { paused: 'container not running', stopped: 'container not running' },
  resume: { created: 'container not paused', running: 'container not paused', stopped: 'container not paused' },
  exec: { paused: 'cannot exec in a paused container', stopped: 'cannot exec in a stopped container' },
  update: { stopped: 'container not running' },
  events: { stopped: 'container not running' },
};

t.same(Object.keys(STATE_GUARD).sort(), Object.keys(EXPECTED).sort(), 'every operation is in the table');

for (const [op, allowed] of Object.entries(EXPECTED)) {
  t.test(op, async (t) => {
    for (const status of STATUSES) {
      const o = op as keyof typeof STATE_GUARD;
      t.equal(
        allows(o, status),
        allowed.includes(status),
        `${op} when ${status}: ${allowed.includes(status) ? 'allowed' : 'refused'}`,
      );
      if (allowed.includes(status)) {
        t.doesNotThrow(() => guard(o, 'c1', status));
        continue;
      }
      try {
        guard(o, 'c1', status);
        t.fail('not refused');
      } catch (err) {
        t.ok(err instanceof WrongState, 'one error: WrongState');
        t.equal((err as WrongState).status, status, 'with the status');
        t.equal((err as Error).message, REFUSALS[op][status], "runc's message");
      }
    }
  });
}
