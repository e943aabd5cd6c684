// The fds of a container's processes, ts-runc beside runc 1.1.5 (the oracle):
// a created container's init, waiting for start, holds stdio and the exec
// fifo's fd (runc: also its Go runtime's epoll and pipe), and no fd on a
// file of the host, with and without a user namespace; --preserve-fds and
// socket activation (LISTEN_FDS) pass fds 3.. to the process as they are;
// an exec'd process gets stdio only. docs/runc.md, "Defences".
import t from 'tap';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cleanEnv, isRoot, ROOT, run, tool } from '../helpers/tools.js';
import { addUserNamespace } from '../helpers/oci.js';
import { waitFor } from '../helpers/wait.js';

const haveRunc = existsSync('/usr/sbin/runc');
const skip = !isRoot()
  ? 'needs root (CI runs as root)'
  : !haveRunc
    ? 'runc (the oracle) is not installed at /usr/sbin/runc'
    : false;

const scratch = mkdtempSync('/tmp/nslab-runc-fds-');
chmodSync(scratch, 0o755);
const rootfs = join(scratch, 'rootfs');
const made: Array<{ rt: Runtime; id: string }> = [];

interface Runtime {
  name: string;
  argv: string[];
  root: string;
  suffix: string;
}
// Ids differ between the two (suffix): with no cgroupsPath both would put a
// container in a cgroup named after its id, and delete -f kills what is there.
const ts: Runtime = { name: 'ts-runc', argv: [tool('runc')], root: join(scratch, 'ts-state'), suffix: '-ts' };
const runc: Runtime = { name: 'runc', argv: ['/usr/sbin/runc'], root: join(scratch, 'runc-state'), suffix: '-runc' };

t.teardown(() => {
  for (const { rt, id } of made)
    spawnSync(rt.argv[0]!, [...rt.argv.slice(1), '--root', rt.root, 'delete', '-f', id + rt.suffix], {
      env: cleanEnv(),
      stdio: 'ignore',
      timeout: 30_000,
    });
  rmSync(scratch, { recursive: true, force: true });
});

t.before(() => {
  if (skip) return;
  const built = run(['node', join(ROOT, 'scripts/make-rootfs.mjs'), '-q', rootfs]);
  if (built.code !== 0) throw new Error(`make-rootfs failed: ${built.stderr}`);
});

/** Container ids the tests use; cmd() adds the runtime's suffix. */
const IDS = new Set(['fds', 'ex', 'pass', 'lowfd']);
let count = 0;
function bundle(opts: { userns?: boolean; args?: string[] } = {}): string {
  const dir = join(scratch, `bundle-${++count}`);
  mkdirSync(dir);
  const r = run([tool('runc'), 'spec', '-b', dir]);
  if (r.code !== 0) throw new Error(r.stderr);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.root.path = rootfs;
  config.process.terminal = false;
  config.process.args = opts.args ?? ['sleep', '1000'];
  if (opts.userns) addUserNamespace(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}

/**
 * Run the runtime with fds 0-2 on files (the container keeps them) and
 * `extra` as fds 3..; `shellPrefix` runs it from sh -c (LISTEN_PID=$$).
 */
function cmd(
  rt: Runtime,
  args: string[],
  opts: { cwd?: string; extra?: number[]; env?: NodeJS.ProcessEnv; listenFds?: number } = {},
) {
  const err = join(scratch, `stderr-${++count}`);
  const out = join(scratch, `stdout-${count}`);
  const e = openSync(err, 'w');
  const o = openSync(out, 'w');
  const argv = [...rt.argv, '--root', rt.root, ...args.map((a) => (IDS.has(a) ? a + rt.suffix : a))];
  const full = opts.listenFds
    ? ['sh', '-c', `LISTEN_PID=$$ LISTEN_FDS=${opts.listenFds} exec "$@"`, 'sh', ...argv]
    : argv;
  const r = spawnSync(full[0]!, full.slice(1), {
    stdio: ['ignore', o, e, ...(opts.extra ?? [])],
    env: opts.env ?? cleanEnv(),
    cwd: opts.cwd ?? '/',
    timeout: 30_000,
  });
  closeSync(e);
  closeSync(o);
  return { code: r.status, stderr: readFileSync(err, 'utf8'), stdout: readFileSync(out, 'utf8'), stdoutFile: out };
}

/** Create; returns the init's PID and the file the container's stdout goes to. */
function create(
  rt: Runtime,
  id: string,
  dir: string,
  opts: { extra?: number[]; preserve?: number; listenFds?: number } = {},
): { pid: number; stdout: string } {
  made.push({ rt, id });
  const r = cmd(rt, ['create', ...(opts.preserve ? ['--preserve-fds', String(opts.preserve)] : []), id], {
    cwd: dir,
    extra: opts.extra,
    listenFds: opts.listenFds,
  });
  if (r.code !== 0) throw new Error(`${rt.name} create: ${r.stderr}`);
  return { pid: JSON.parse(cmd(rt, ['state', id]).stdout).pid, stdout: r.stdoutFile };
}

function remove(rt: Runtime, id: string): void {
  cmd(rt, ['delete', '-f', id]);
  made.splice(
    made.findIndex((m) => m.rt === rt && m.id === id),
    1,
  );
}

/** fd number -> what it names, as the host sees a process's fds. */
function fds(pid: number): Map<number, string> {
  const m = new Map<number, string>();
  for (const n of readdirSync(`/proc/${pid}/fd`)) {
    try {
      m.set(Number(n), readlinkSync(`/proc/${pid}/fd/${n}`));
    } catch {
      // closed meanwhile
    }
  }
  return m;
}

/** The fds that name a file of the host other than the runtime's own state (the exec fifo) and the test's stdio files. */
function hostFiles(f: Map<number, string>, rt: Runtime): string[] {
  return [...f.entries()]
    .filter(([n, what]) => n > 2 && what.startsWith('/') && !what.startsWith(rt.root + '/'))
    .map(([n, what]) => `${n} -> ${what}`);
}

for (const userns of [false, true]) {
  t.test(
    `a created container's init holds stdio and the exec fifo${userns ? ' (user namespace)' : ''}`,
    { skip },
    async (t) => {
      const dir = bundle({ userns });
      const ours = fds(create(ts, 'fds', dir).pid);
      const theirs = fds(create(runc, 'fds', dir).pid);
      t.comment(`ts-runc: ${JSON.stringify([...ours])}`);
      t.comment(`runc: ${JSON.stringify([...theirs])}`);
      t.same(hostFiles(theirs, runc), [], 'runc: no host file');
      t.same(hostFiles(ours, ts), [], 'ts-runc: no host file (no cgroup.procs, no namespace file)');
      t.same(
        [...ours.keys()].filter((n) => n <= 2),
        [0, 1, 2],
        'stdio',
      );
      const fifo = [...ours.entries()].filter(([, what]) => what === join(ts.root, 'fds-ts', 'exec.fifo'));
      t.equal(fifo.length, 1, 'the exec fifo');
      t.equal(ours.size, 4, 'and nothing else');
      t.ok(ours.size <= theirs.size, `no more fds than runc's init (${ours.size} vs ${theirs.size})`);
      const listing = (rt: Runtime) => cmd(rt, ['exec', 'fds', 'ls', '/proc/1/fd']);
      const inside = listing(ts);
      const insideRunc = listing(runc);
      if (userns) {
        // Not dumpable: /proc/1/fd belongs to the host's root, a stranger in here.
        t.not(insideRunc.code, 0, "runc: the init's fds cannot even be listed from inside");
        t.not(inside.code, 0, 'ts-runc: the same');
        t.match(inside.stderr, /Permission denied/);
      } else {
        t.equal(insideRunc.code, 0);
        t.same(
          inside.stdout
            .trim()
            .split(/\s+/)
            .map(Number)
            .sort((a, b) => a - b),
          [...ours.keys()].sort((a, b) => a - b),
          'ls /proc/1/fd inside shows the same',
        );
      }
      const pidOf = (rt: Runtime) => JSON.parse(cmd(rt, ['state', 'fds']).stdout).pid;
      // Each init execs the program after start: wait for the exec (its exe changes).
      const exe = (pid: number) => {
        try {
          return readlinkSync(`/proc/${pid}/exe`);
        } catch {
          return '';
        }
      };
      const initExe = new Map([ts, runc].map((rt) => [rt, exe(pidOf(rt))]));
      t.equal(cmd(ts, ['start', 'fds']).code, 0, 'start');
      t.equal(cmd(runc, ['start', 'fds']).code, 0);
      for (const rt of [ts, runc])
        t.ok(await waitFor(() => exe(pidOf(rt)) !== initExe.get(rt)), `${rt.name}: the program was exec'd`);
      t.same([...fds(pidOf(ts)).keys()], [0, 1, 2], 'the program: stdio only');
      t.same([...fds(pidOf(runc)).keys()], [0, 1, 2], 'runc: the same');
      remove(ts, 'fds');
      remove(runc, 'fds');
    },
  );
}

t.test('exec: the process gets stdio only', { skip }, async (t) => {
  const dir = bundle();
  create(ts, 'ex', dir);
  create(runc, 'ex', dir);
  for (const rt of [ts, runc]) {
    const r = cmd(rt, ['exec', 'ex', 'ls', '/proc/self/fd']);
    t.equal(r.code, 0, r.stderr);
    // ls's own directory fd is 3.
    t.same(r.stdout.trim().split(/\s+/), ['0', '1', '2', '3'], `${rt.name}: 0-2 and ls's directory`);
    remove(rt, 'ex');
  }
});

t.test('--preserve-fds and LISTEN_FDS pass fds 3.. as they are', { skip }, async (t) => {
  const files = [0, 1].map((i) => {
    const path = join(scratch, `passed-${i}`);
    writeFileSync(path, `file ${i}\n`);
    return path;
  });
  const dir = bundle({ args: ['sh', '-c', 'cat <&3; cat <&4; echo "$LISTEN_FDS:$LISTEN_PID"; ls /proc/self/fd'] });
  for (const [label, extra] of [
    ['--preserve-fds 2', { preserve: 2 }],
    ['LISTEN_FDS=1 and --preserve-fds 1', { listenFds: 1, preserve: 1 }],
  ] as const) {
    const outs: string[] = [];
    for (const rt of [ts, runc]) {
      const opened = files.map((f) => openSync(f, 'r'));
      let created: { pid: number; stdout: string };
      try {
        created = create(rt, 'pass', dir, { extra: opened, ...extra });
      } finally {
        for (const fd of opened) closeSync(fd);
      }
      const { pid, stdout } = created;
      t.same(
        [...fds(pid).keys()].filter((n) => n === 3 || n === 4),
        [3, 4],
        `${rt.name} ${label}: the init holds 3 and 4`,
      );
      t.equal(cmd(rt, ['start', 'pass']).code, 0);
      // The program ends after its output; then it is all in the file.
      t.ok(
        await waitFor(() => JSON.parse(cmd(rt, ['state', 'pass']).stdout).status === 'stopped'),
        `${rt.name} ${label}: the program ended`,
      );
      // The container writes to the stdout create was given.
      outs.push(readFileSync(stdout, 'utf8'));
      remove(rt, 'pass');
    }
    t.equal(outs[0], outs[1], `${label}: the program sees what runc's sees`);
    t.match(outs[0], /^file 0\nfile 1\n/, 'it reads both files');
  }
});

t.test('--trace shows the defences as the init makes them', { skip }, async (t) => {
  const dir = bundle();
  made.push({ rt: ts, id: 'fds' });
  const r = cmd(ts, ['--trace', 'create', 'fds'], { cwd: dir });
  t.equal(r.code, 0, r.stderr);
  const init = r.stderr.split('\n').filter((l) => l.startsWith('[init] '));
  t.match(init[0], /^\[init\] prctl\(PR_SET_DUMPABLE, 0\) .* = 0$/, 'the first call: not dumpable');
  // The defence's closes (flags 0), not the close-on-exec pass before execve.
  const closes = init.slice(1).filter((l) => /close_range\(\d+, (\d+|~0U), 0\)/.test(l));
  t.ok(closes.length >= 1, 'then close_range');
  t.match(closes[closes.length - 1] ?? '', /close_range\(\d+, ~0U, 0\) = 0/, 'up to the last fd');
  t.match(
    r.stderr,
    /\[init\] close\(<result pipe>\), close\(<go pipe>\), open\("\/proc\/self\/fd\/\d+", O_WRONLY\|O_CLOEXEC\) \.\.\./,
    'the pipes go at the barrier',
  );
  remove(ts, 'fds');
});

// The runtime parks the container's stdin and its own fds (rootfs, /dev/null,
// cwd) on high fd numbers while it builds the container; a process whose
// RLIMIT_NOFILE is below them must still get its stdin and its cwd.
t.test('a low RLIMIT_NOFILE keeps stdin and process.cwd, as with runc', { skip }, async (t) => {
  const outs: string[] = [];
  for (const rt of [ts, runc]) {
    const dir = bundle({ args: ['sh', '-c', 'cat; pwd; ulimit -n'] });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    config.process.cwd = '/tmp';
    config.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 16, soft: 16 }];
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const argv = [...rt.argv, '--root', rt.root, 'run', '-b', dir, 'lowfd' + rt.suffix];
    const r = spawnSync(argv[0], argv.slice(1), {
      input: 'from stdin\n',
      env: cleanEnv(),
      encoding: 'utf8',
      timeout: 30_000,
    });
    t.equal(r.status, 0, `${rt.name} run: ${r.stderr}`);
    outs.push(r.stdout);
  }
  t.equal(outs[0], 'from stdin\n/tmp\n16\n', 'ts-runc: stdin read, cwd entered, the limit set');
  t.equal(outs[0], outs[1], 'the same as runc');
});
