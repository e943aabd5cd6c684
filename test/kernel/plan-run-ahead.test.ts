// A child plan that runs ahead (PlanOptions.runAhead), on the real kernel:
// the child goes from call to call without waiting, the parent still reads
// every report in order; a gate stops the child until the parent has seen
// the call succeed; and the child's errno is its own while the parent works
// alongside (a child sharing the parent's memory would share its errno).
// Runs as any user: mkdir, chdir and access need no privilege.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCall } from '../../src/syscalls/call.js';
import { SyscallError } from '../../src/syscalls/errors.js';
import { cfunc } from '../../src/syscalls/libc.js';
import { chdirCall } from '../../src/syscalls/mount.js';
import { startPlan } from '../../src/syscalls/plan.js';
import { execCall, waitChildSync } from '../../src/syscalls/process.js';

const scratch = mkdtempSync(join(tmpdir(), 'nslab-run-ahead-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

const mkdir = (path: string) => makeCall('mkdir', [path, 0o755], `mkdir(${JSON.stringify(path)}, 0755)`);
const trueProgram = () => execCall('true', ['true']);

t.test('a plan that runs ahead makes every call and execs', async (t) => {
  const dirs = Array.from({ length: 20 }, (_, i) => join(scratch, `ok-${i}`));
  const child = startPlan([...dirs.map(mkdir), trueProgram()], { runAhead: true });
  t.ok(child.execed, 'the program runs');
  t.same(waitChildSync(child.pid), { pid: child.pid, code: 0 }, 'and ends with status 0');
  t.ok(
    dirs.every((d) => existsSync(d)),
    'every call was made',
  );
});

t.test('a failed call: the parent reads it in order, kills the child before exec, and throws', async (t) => {
  const before = join(scratch, 'before-failure');
  t.throws(
    () =>
      startPlan([mkdir(before), chdirCall('/nonexistent/nslab'), mkdir(join(scratch, 'maybe')), trueProgram()], {
        runAhead: true,
      }),
    { name: 'SyscallError', call: 'chdir', code: 'ENOENT' },
  );
  t.ok(existsSync(before), 'the call before the failure was made');
});

t.test('a gate: the child does not go past a call until the parent has seen it succeed', async (t) => {
  const after = join(scratch, 'after-gate');
  const gate = { ...chdirCall('/nonexistent/nslab'), gate: true };
  t.throws(() => startPlan([gate, mkdir(after), trueProgram()], { runAhead: true }), SyscallError);
  t.notOk(existsSync(after), 'the call after the failed gate never ran');
});

t.test("the child's errno is its own while the parent works alongside", async (t) => {
  // The parent sets its errno over and over (close(-1): EBADF) while the
  // child makes calls that succeed. A child sharing the parent's memory
  // would report some of them failed with EBADF.
  const close = cfunc('int close(int fd)');
  const calls = Array.from({ length: 200 }, () => makeCall('access', ['/', 0], 'access("/", F_OK)'));
  for (let round = 0; round < 5; round++) {
    const child = startPlan([...calls, trueProgram()], {
      runAhead: true,
      alongside: () => {
        for (let i = 0; i < 20_000; i++) close(-1);
      },
    });
    waitChildSync(child.pid);
    t.ok(child.execed, `round ${round + 1}: 200 reports of success, then the exec`);
  }
});
