// The early no-op cgroup move (src/cgroup/grace-period.ts) that ts-runc
// makes to start the RCU grace period its init's move will wait for: on
// the real kernel it must move nothing (this process stays in every cgroup
// it was in), and a file it cannot write is no error. How long the kernel
// then waits is a matter for `npm run bench`, not for a test.
import t, { Test } from 'tap';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { detectCgroups } from '../../src/cgroup/hierarchy.js';
import { startMoveGracePeriod } from '../../src/cgroup/grace-period.js';
import { writeInBackground } from '../../src/syscalls/fs.js';
import { isRoot } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

const layout = detectCgroups();
const skip = !isRoot()
  ? 'needs root to write cgroup.procs (CI runs as root)'
  : layout.hierarchies.length === 0
    ? 'this host mounts no cgroup hierarchy'
    : false;

/** This process's open fds on files whose path ends in `suffix`. */
function openOn(suffix: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.endsWith(suffix) ? [target] : [];
    } catch {
      return []; // the directory's own fd, closed meanwhile
    }
  });
}

/**
 * Wait until koffi's worker thread has finished the writes and their
 * callbacks have run: each callback closes the file it wrote, so this
 * process is back to the `before` fds it had open on such files.
 */
const settle = async (t: Test, suffix: string, before = 0) =>
  t.ok(await waitFor(() => openOn(suffix).length <= before), `the background writes to ${suffix} are done`);

t.test('the early move leaves this process in the cgroups it was in', { skip }, async (t) => {
  const before = readFileSync('/proc/self/cgroup', 'utf8');
  startMoveGracePeriod(layout);
  await settle(t, '/cgroup.procs');
  t.equal(readFileSync('/proc/self/cgroup', 'utf8'), before, '/proc/self/cgroup is unchanged');
});

t.test('a background write to a file that cannot be opened is no error', async (t) => {
  t.doesNotThrow(() => writeInBackground('/proc/nslab-no-such-dir/cgroup.procs', '0'));
  await settle(t, '/nslab-no-such-dir/cgroup.procs');
});

t.test("the environment is as it was: UV_THREADPOOL_SIZE is set only while libuv's pool starts", async (t) => {
  const saved = process.env.UV_THREADPOOL_SIZE;
  t.teardown(() => {
    if (saved === undefined) delete process.env.UV_THREADPOOL_SIZE;
    else process.env.UV_THREADPOOL_SIZE = saved;
  });
  delete process.env.UV_THREADPOOL_SIZE;
  const nullFds = openOn('/dev/null').length; // tap's stdin may be one
  writeInBackground('/dev/null', '0');
  t.equal(process.env.UV_THREADPOOL_SIZE, undefined, 'unset before, unset after');
  process.env.UV_THREADPOOL_SIZE = '3';
  writeInBackground('/dev/null', '0');
  t.equal(process.env.UV_THREADPOOL_SIZE, '3', "a caller's own value is left alone");
  await settle(t, '/dev/null', nullFds);
});
