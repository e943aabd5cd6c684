// The child plan's barrier (runtime create/start): a program's process that
// has done its setup waits on a fifo while the process that started it exits;
// whoever opens the fifo for reading releases it. This test process is the
// subreaper (as containerd's shim is), so the waiting child becomes its child
// when the starter exits, and the test reaps it.
import t, { Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cfunc } from '../../src/syscalls/libc.js';
import { PR, SIG } from '../../src/syscalls/constants.js';
import { kill, waitChildSync } from '../../src/syscalls/process.js';
import { asNobody, ROOT, children, cleanEnv, isRoot } from '../helpers/tools.js';

const STARTER = join(ROOT, 'dist/programs/plan-barrier.cjs');
// open/openat, where the waiting child must be blocked.
const OPENAT: Record<string, number> = { x64: 257, arm64: 56 };

if (
  cfunc('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)')(
    PR.PR_SET_CHILD_SUBREAPER,
    1,
    0,
    0,
    0,
  ) !== 0
)
  throw new Error('cannot become a subreaper');

const started: number[] = [];
t.teardown(() => {
  // A test that failed half-way: the waiting children are ours, end them.
  for (const pid of started)
    if (existsSync(`/proc/${pid}`)) {
      kill(pid, SIG.SIGKILL);
      waitChildSync(pid);
    }
});

function workdir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-barrier-'));
  chmodSync(dir, 0o777); // nobody writes its marker here too
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const mk = spawnSync('mkfifo', ['-m', '0666', join(dir, 'exec.fifo')]);
  if (mk.status !== 0) throw new Error('mkfifo failed');
  return dir;
}

/**
 * Run the starter with stdout and stderr in files: the waiting child
 * inherits them, and a pipe would keep spawnSync waiting for it.
 */
function create(dir: string, args: string[], as?: 'nobody') {
  const errFile = join(dir, 'stderr');
  const err = openSync(errFile, 'a');
  const argv = [
    '-u',
    'NODE_OPTIONS',
    ...(as ? asNobody([process.execPath, STARTER]) : [process.execPath, STARTER]),
    '--fifo',
    join(dir, 'exec.fifo'),
    '--pid-file',
    join(dir, 'pid'),
    ...args,
  ];
  const r = spawnSync('env', argv, { stdio: ['ignore', err, err], env: cleanEnv(), cwd: dir, timeout: 30_000 });
  closeSync(err);
  const pid = existsSync(join(dir, 'pid')) ? Number(readFileSync(join(dir, 'pid'), 'utf8')) : undefined;
  if (pid) started.push(pid);
  return { status: r.status, pid, stderr: () => readFileSync(errFile, 'utf8') };
}

function field(pid: number, name: string): string | undefined {
  return new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
}

/** Open the fifo for reading, as `start` does: returns what the child wrote. */
function release(dir: string): string {
  const r = spawnSync('cat', [join(dir, 'exec.fifo')], { encoding: 'utf8', timeout: 30_000 });
  return r.stdout;
}

function checkWaiting(t: Test, pid: number, dir: string) {
  t.ok(existsSync(`/proc/${pid}`), 'the child outlived the process that started it');
  t.equal(Number(field(pid, 'PPid')), process.pid, 'and is now the child of the subreaper');
  t.match(field(pid, 'State'), /^S/, 'it sleeps');
  const syscall = readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0];
  if (OPENAT[process.arch] !== undefined) t.equal(Number(syscall), OPENAT[process.arch], 'in openat(), on the fifo');
  t.notOk(existsSync(join(dir, 'marker')), 'the program has not run');
}

t.test('the child waits at the barrier after its starter exits, and runs once released', async (t) => {
  const dir = workdir(t);
  const c = create(dir, ['--chdir', dir, 'sh', '-c', 'echo ran > marker']);
  t.equal(c.status, 0, 'the starter exits 0 once the child is at the barrier');
  t.equal(c.stderr(), '', 'and says nothing');
  if (!c.pid) return t.fail('no pid file');
  checkWaiting(t, c.pid, dir);
  t.equal(release(dir), '0', 'the reader of the fifo gets one byte, then end-of-file');
  const exit = waitChildSync(c.pid);
  t.same(exit, { pid: c.pid, code: 0 }, 'the program ran and exited 0');
  t.equal(readFileSync(join(dir, 'marker'), 'utf8'), 'ran\n', 'in the directory its setup chose');
  t.same(children(), [], 'nothing else was left with the subreaper');
});

t.test('as nobody too', async (t) => {
  const dir = workdir(t);
  const c = create(dir, ['sh', '-c', 'id -u > marker'], 'nobody');
  t.equal(c.status, 0, 'the starter exits 0');
  if (!c.pid) return t.fail(`no pid file: ${c.stderr()}`);
  checkWaiting(t, c.pid, dir);
  t.equal(release(dir), '0', 'released');
  t.same(waitChildSync(c.pid), { pid: c.pid, code: 0 }, 'the program exited 0');
  t.equal(readFileSync(join(dir, 'marker'), 'utf8'), '65534\n', 'as nobody');
});

t.test(
  'setup that drops to nobody before the barrier (as a runtime does)',
  { skip: isRoot() ? false : 'needs root to change ids' },
  async (t) => {
    const dir = workdir(t);
    const c = create(dir, ['--ids', '65534', 'sh', '-c', 'id -u > marker']);
    t.equal(c.status, 0, 'the starter exits 0');
    if (!c.pid) return t.fail(`no pid file: ${c.stderr()}`);
    checkWaiting(t, c.pid, dir);
    t.equal(field(c.pid, 'Uid')?.split(/\s+/)[0], '65534', 'the waiting child is already nobody');
    t.equal(release(dir), '0', 'it could still reopen the fifo through /proc/self/fd');
    t.same(waitChildSync(c.pid), { pid: c.pid, code: 0 }, 'the program exited 0');
    t.equal(readFileSync(join(dir, 'marker'), 'utf8'), '65534\n', 'as nobody');
  },
);

t.test('a failed setup step is reported by the starter and leaves no process', async (t) => {
  const dir = workdir(t);
  const c = create(dir, ['--chdir', join(dir, 'missing'), 'sh', '-c', 'echo ran > marker']);
  t.equal(c.status, 1, 'the starter fails');
  t.match(
    c.stderr(),
    /^plan-barrier: cannot chdir to '.*\/missing': ENOENT \(No such file or directory\)\n/,
    'naming the step',
  );
  t.equal(c.pid, undefined, 'and reports no child');
  t.same(children(), [], 'the child was killed and reaped, not left waiting');
});

t.test(
  'a fifo the child may not open is found before the barrier',
  { skip: isRoot() ? false : 'needs root to make a fifo nobody may open' },
  async (t) => {
    const dir = workdir(t);
    chmodSync(join(dir, 'exec.fifo'), 0o600);
    const c = create(dir, ['true'], 'nobody');
    t.equal(c.status, 1, 'the starter fails');
    t.match(c.stderr(), /for writing: EACCES/, 'with the error of the check');
    t.equal(c.pid, undefined, 'and reports no child');
    t.same(children(), [], 'nothing left');
  },
);

t.test('not a fifo: refused before any child exists', async (t) => {
  const dir = workdir(t);
  const c = create(dir, ['--fifo', join(dir, 'stderr'), 'true']);
  t.equal(c.status, 1, 'the starter fails');
  t.match(c.stderr(), /not a fifo/, 'saying why');
  t.same(children(), [], 'nothing left');
});

t.test('a failed exec after the barrier: one line on the inherited stderr, exit 127', async (t) => {
  const dir = workdir(t);
  const c = create(dir, ['/nonexistent/program']);
  t.equal(c.status, 0, 'the setup succeeded, so the starter exits 0');
  if (!c.pid) return t.fail('no pid file');
  t.equal(release(dir), '0', 'released');
  t.same(waitChildSync(c.pid), { pid: c.pid, code: 127 }, 'the child exits 127');
  t.equal(c.stderr(), 'plan-barrier: failed to execute /nonexistent/program\n', 'after one line on its fd 2');
});

t.test('a child nobody releases is killed cleanly', async (t) => {
  const dir = workdir(t);
  const c = create(dir, ['sh', '-c', 'echo ran > marker']);
  if (!c.pid) return t.fail('no pid file');
  checkWaiting(t, c.pid, dir);
  t.equal(kill(c.pid, SIG.SIGKILL), 0, 'SIGKILL');
  t.same(waitChildSync(c.pid), { pid: c.pid, signal: SIG.SIGKILL, coreDumped: false }, 'it dies of it');
  t.notOk(existsSync(`/proc/${c.pid}`), 'and is gone');
  t.notOk(existsSync(join(dir, 'marker')), 'the program never ran');
  t.same(children(), [], 'nothing left');
});
