// ts-nsenter on the real kernel: the acceptance list of issue 3, compared
// with util-linux nsenter where the two must agree. Every target is a
// process this test started (never PID 1: here it is the machine's own
// supervisor).
import t from 'tap';
import { readFileSync, readlinkSync } from 'node:fs';
import { cleanEnv, inventory, isRoot, registerLeftoverCheck, run, runTool, tool } from '../helpers/tools.js';
import { startBackground } from '../helpers/background.js';
import { waitFor } from '../helpers/wait.js';

const rootOnly = { skip: isRoot() ? false : 'needs root (CI runs as root)' };
const before = inventory();

const psLines = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));

t.test('-p -m into ts-unshare -fp --mount-proc: ps sees sleep as PID 1, and itself', rootOnly, async (t) => {
  const bg = await startBackground([tool('unshare'), '-fp', '--mount-proc', 'sleep', '60'], { comm: 'sleep' });
  t.teardown(bg.stop);
  for (const args of [
    ['-t', String(bg.pid), '-p', '-m'],
    [`--pid=/proc/${bg.pid}/ns/pid`, `--mount=/proc/${bg.pid}/ns/mnt`],
  ]) {
    const r = runTool('nsenter', [...args, 'ps', '-o', 'pid=,comm=']);
    t.equal(r.code, 0, r.stderr);
    const lines = psLines(r.stdout);
    t.same(lines[0], ['1', 'sleep'], `${args.join(' ')}: PID 1 is sleep`);
    t.equal(lines.length, 2, 'two processes: sleep and ps');
    t.equal(lines[1]?.[1], 'ps', 'ps runs inside the pid namespace: it forked after setns');
    t.ok(Number(lines[1]?.[0]) > 1 && Number(lines[1]?.[0]) < 100, 'with a small PID of that namespace');
    const theirs = run(['nsenter', ...args, 'ps', '-o', 'pid=,comm=']);
    t.same(
      psLines(theirs.stdout).map((l) => l[1]),
      lines.map((l) => l[1]),
      'the same processes as util-linux nsenter shows',
    );
  }
  const noFork = runTool('nsenter', ['-t', String(bg.pid), '-p', '-F', 'sh', '-c', 'echo $$']);
  t.ok(Number(noFork.stdout) > 100, '-F: no fork, so the program itself stays outside the pid namespace');
});

t.test('--trace: the setns calls and the fork, in the child', rootOnly, async (t) => {
  const bg = await startBackground([tool('unshare'), '-fp', '--mount-proc', 'sleep', '60'], { comm: 'sleep' });
  t.teardown(bg.stop);
  const r = runTool('nsenter', ['--trace', '-t', String(bg.pid), '-p', '-m', 'true']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /\[pid \d+\] setns\(\d+<[^>]*ns\/pid>, CLONE_NEWPID\) = 0/);
  t.match(r.stderr, /\[pid \d+\] setns\(\d+<[^>]*ns\/mnt>, CLONE_NEWNS\) = 0/);
  t.match(r.stderr, /clone\(CLONE_PARENT\|CLONE_PARENT_SETTID\|SIGCHLD\) = \d+/);
  t.match(r.stderr, /execvp\("true", \["true"\]\) \.\.\.\n/);
});

t.test('unprivileged: -U -m into ts-unshare -Urm (as nobody)', async (t) => {
  const bg = await startBackground([tool('unshare'), '-Urm', 'sleep', '60'], { comm: 'sleep', as: 'nobody' });
  t.teardown(bg.stop);
  const target = readlinkSync(`/proc/${bg.pid}/ns/user`);
  const r = runTool(
    'nsenter',
    ['-t', String(bg.pid), '-U', '-m', '--preserve-credentials', 'sh', '-c', 'id -u; readlink /proc/self/ns/user'],
    { as: 'nobody' },
  );
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.trim().split('\n'), ['0', target], 'uid 0 inside, in the target user namespace');

  // Without --preserve-credentials, setgroups(2) is refused under "setgroups deny".
  const ours = runTool('nsenter', ['-t', String(bg.pid), '-U', '-m', 'id', '-u'], { as: 'nobody' });
  const theirs = run(['nsenter', '-t', String(bg.pid), '-U', '-m', 'id', '-u'], { as: 'nobody' });
  t.equal(theirs.code, 1, 'util-linux fails');
  t.equal(ours.code, theirs.code, 'so does ts-nsenter');
  t.equal(theirs.stderr.trim(), 'nsenter: setgroups failed: Operation not permitted');
  t.equal(
    ours.stderr.split('\n')[0],
    'ts-nsenter: cannot setgroups(0, NULL): EPERM (Operation not permitted)',
    'the same errno; the call as --trace shows it',
  );

  // Two passes: mnt fails before the user namespace is joined, then succeeds.
  const traced = runTool('nsenter', ['--trace', '-t', String(bg.pid), '-U', '-m', '--preserve-credentials', 'true'], {
    as: 'nobody',
  });
  t.equal(traced.code, 0, traced.stderr);
  const setns = traced.stderr.split('\n').filter((l) => l.includes('setns('));
  t.match(setns[0], /CLONE_NEWNS\) = -1 EPERM/, 'first pass: mnt refused');
  t.match(setns[1], /CLONE_NEWUSER\) = 0/, 'then the user namespace');
  t.match(setns[2], /CLONE_NEWNS\) = 0/, 'then mnt again');
  t.equal(setns.length, 3);
});

t.test('unprivileged: -U -p -m forks into the pid namespace (as nobody)', async (t) => {
  const bg = await startBackground([tool('unshare'), '-Urfp', '--mount-proc', 'sleep', '60'], {
    comm: 'sleep',
    as: 'nobody',
  });
  t.teardown(bg.stop);
  const r = runTool(
    'nsenter',
    ['-t', String(bg.pid), '-U', '-p', '-m', '--preserve-credentials', 'ps', '-o', 'pid=,comm='],
    { as: 'nobody' },
  );
  t.equal(r.code, 0, r.stderr);
  const lines = psLines(r.stdout);
  t.same(lines[0], ['1', 'sleep']);
  t.same(
    lines.map((l) => l[1]),
    ['sleep', 'ps'],
  );
});

t.test('-a: all namespaces of a process in the host namespaces', rootOnly, async (t) => {
  const bg = await startBackground(['sleep', '60'], { comm: 'sleep' });
  t.teardown(bg.stop);
  const r = runTool('nsenter', ['-t', String(bg.pid), '-a', 'true']);
  t.equal(r.code, 0, r.stderr);
  const traced = runTool('nsenter', ['--trace', '-t', String(bg.pid), '-a', 'true']);
  t.notMatch(traced.stderr, /CLONE_NEWUSER/, 'the user namespace is ours: skipped, as util-linux does');
  t.match(traced.stderr, /CLONE_NEWCGROUP.*\n(.*\n)*.*CLONE_NEWTIME/, 'every other type is joined');
});

t.test('a missing target: one line naming /proc/999999, exit 1', async (t) => {
  for (const args of [['-a'], ['-n']]) {
    const r = runTool('nsenter', ['-t', '999999', ...args, 'true']);
    t.equal(r.code, 1, args.join(' '));
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    t.match(r.stderr, /^ts-nsenter: .*\/proc\/999999\/ns\/(user|net).*No such file or directory/);
    t.equal(run(['nsenter', '-t', '999999', ...args, 'true']).code, 1, 'util-linux: exit 1 too');
  }
  const noTarget = runTool('nsenter', ['-m', 'true']);
  t.equal(noTarget.code, 1);
  t.equal(noTarget.stderr.trim(), 'ts-nsenter: neither filename nor target pid supplied for ns/mnt');
  const badUid = runTool('nsenter', ['-t', '999999', '-S', 'x', 'true']);
  t.equal(badUid.code, 1);
  t.equal(badUid.stderr, "ts-nsenter: failed to parse uid: 'x'\n");
  t.equal(
    run(['nsenter', '-t', '999999', '-S', 'x', 'true']).stderr,
    "nsenter: failed to parse uid: 'x'\n",
    'as util-linux words it',
  );
});

t.test('-n into a new network namespace; -r, -w, -W, -e; exec failures', rootOnly, async (t) => {
  const bg = await startBackground([tool('unshare'), '-n', 'sleep', '60'], {
    comm: 'sleep',
    cwd: '/tmp',
    env: cleanEnv({ NSLAB_TARGET_ONLY: 'from-the-target' }),
  });
  t.teardown(bg.stop);
  const net = runTool('nsenter', ['-t', String(bg.pid), '-n', 'readlink', '/proc/self/ns/net']);
  t.equal(net.stdout.trim(), readlinkSync(`/proc/${bg.pid}/ns/net`), 'the target network namespace');
  t.not(net.stdout.trim(), readlinkSync('/proc/self/ns/net'));
  t.equal(runTool('nsenter', ['-t', String(bg.pid), '-w', 'pwd']).stdout, '/tmp\n', "-w: the target's cwd");
  t.equal(
    runTool('nsenter', ['-t', String(bg.pid), '-r', '-w', 'pwd']).stdout,
    '/tmp\n',
    "-r -w: the target's root and cwd",
  );
  t.equal(
    runTool('nsenter', ['-t', String(bg.pid), '-m', '-W', '/etc', 'pwd']).stdout,
    '/etc\n',
    '-W: a directory inside',
  );
  t.equal(
    runTool('nsenter', ['-t', String(bg.pid), '-m', 'pwd'], { cwd: '/tmp' }).stdout,
    '/\n',
    'joining a mount namespace moves the cwd to its root',
  );
  const env = runTool('nsenter', ['-t', String(bg.pid), '-n', '-e', 'sh', '-c', 'echo $NSLAB_TARGET_ONLY']);
  t.equal(env.stdout, 'from-the-target\n', "-e: the target's environment");
  t.equal(
    runTool('nsenter', ['-t', String(bg.pid), '-n', 'sh', '-c', 'echo $NSLAB_TARGET_ONLY']).stdout,
    '\n',
    'not without -e',
  );

  const missing = runTool('nsenter', ['-t', String(bg.pid), '-n', 'nslab-no-such-program']);
  t.equal(missing.code, 127);
  t.equal(missing.stderr.trim(), 'ts-nsenter: failed to execute nslab-no-such-program: No such file or directory');
  const status = runTool('nsenter', ['-t', String(bg.pid), '-n', 'sh', '-c', 'exit 7']);
  t.equal(status.code, 7, "the program's exit status");
  const killed = runTool('nsenter', ['-t', String(bg.pid), '-n', 'sh', '-c', 'kill -TERM $$']);
  t.equal(killed.signal, 'SIGTERM', 'or its signal');
});

/**
 * util-linux's "nsenter: X failed: text" / "nsenter: cannot X: text" and our
 * "ts-nsenter: cannot X: ERRNO (text)" (docs/errors.md) in one form.
 */
const sameLine = (line: string) =>
  line
    .replace(/^ts-nsenter: /, 'nsenter: ')
    .replace(/^nsenter: (?!cannot )(.*) failed: /, 'nsenter: cannot $1: ')
    .replace(/: E[A-Z0-9]+ \((.*)\)$/, ': $1');

t.test('option values as util-linux reads them: files, -w/-r directories, numbers', rootOnly, async (t) => {
  const bg = await startBackground(['sleep', '60'], { comm: 'sleep', cwd: '/tmp' });
  t.teardown(bg.stop);
  const pid = String(bg.pid);
  const both = (ours: readonly string[], theirs: readonly string[] = ours, opts: { cwd?: string } = {}) => ({
    ours: runTool('nsenter', [...ours], opts),
    theirs: run(['nsenter', ...theirs], opts),
  });

  // An optional value is all that follows '=': "--uts==x" and "-u=x" name the file "=x".
  for (const [ours, theirs] of [
    [
      ['-t', pid, '--uts==x', 'true'],
      ['-t', pid, '-u=x', 'true'],
    ],
    [
      ['-t', pid, '--net=/nslab-none', 'true'],
      ['-t', pid, '--net=/nslab-none', 'true'],
    ],
  ] as const) {
    const r = both(ours, theirs);
    t.equal(r.ours.code, 1, `${ours.join(' ')}: exit 1`);
    t.equal(r.theirs.code, 1, 'util-linux: exit 1');
    t.equal(r.ours.stderr.split('\n').length, 2, 'one line');
    t.equal(sameLine(r.ours.stderr.trim()), sameLine(r.theirs.stderr.trim()), `${ours.join(' ')}: util-linux's words`);
  }
  t.match(
    runTool('nsenter', ['-t', pid, '--uts==x', 'true']).stderr,
    /^ts-nsenter: cannot open =x: ENOENT \(No such file or directory\)\n$/,
  );

  // A file that is not a namespace of that type: util-linux's words, and a hint that says why.
  for (const file of ['/etc/passwd', `/proc/${pid}/ns/net`]) {
    const r = both(['--uts=' + file, 'true']);
    t.equal(r.ours.code, 1);
    t.equal(r.theirs.code, 1);
    const [line = '', hint] = r.ours.stderr.trim().split('\n');
    t.equal(sameLine(line), sameLine(r.theirs.stderr.trim()), `--uts=${file}: util-linux's words`);
    t.equal(line, "ts-nsenter: cannot reassociate to namespace 'ns/uts': EINVAL (Invalid argument)");
    t.match(
      hint,
      new RegExp(
        `^ts-nsenter: hint: ${file.replace(/\//g, '\\/')} is (not a namespace file|a net namespace file): give --uts= a /proc/PID/ns/uts file`,
      ),
      'the hint names the file, not threads',
    );
    t.notMatch(hint, /thread/);
  }

  // -w and -r with a directory (cwd "/" here, the target's /tmp).
  t.equal(runTool('nsenter', ['-t', pid, '--wd=/etc', 'pwd']).stdout, '/etc\n', '--wd=/etc');
  t.equal(run(['nsenter', '-t', pid, '-w/etc', 'pwd']).stdout, '/etc\n', 'util-linux -w/etc: the same');
  t.equal(
    runTool('nsenter', ['-t', pid, '--wd=etc', 'pwd']).stdout,
    '/etc\n',
    '--wd=etc: relative to our cwd, as util-linux',
  );
  t.equal(
    runTool('nsenter', ['-t', pid, '--root=/', 'pwd']).stdout,
    run(['nsenter', '-t', pid, '-r/', 'pwd']).stdout,
    '--root=/ as util-linux -r/',
  );
  t.equal(runTool('nsenter', ['-t', pid, '--root=/', '--wd=/tmp', 'pwd']).stdout, '/tmp\n');

  // Numbers too large for pid_t / uid_t are refused, not cut down to 32 bits.
  const big = both(['-t', '99999999999999999999', 'true']);
  t.equal(big.ours.code, 1);
  t.equal(big.ours.stderr, big.theirs.stderr.replace(/^nsenter/, 'ts-nsenter'), 'out of range, as util-linux words it');
  t.equal(big.ours.stderr, "ts-nsenter: failed to parse pid: '99999999999999999999': Numerical result out of range\n");
  const bigPid = runTool('nsenter', ['-t', '4294967297', 'true']);
  t.equal(bigPid.code, 1, '2^32+1 is not PID 1');
  t.match(bigPid.stderr, /out of range/);
  const bigUid = runTool('nsenter', ['-t', pid, '-S', '4294967296', 'true']);
  t.equal(bigUid.code, 1);
  t.equal(bigUid.stderr, "ts-nsenter: failed to parse uid: '4294967296': Numerical result out of range\n");
});

// The short forms with a glued value (-w/tmp, -wtmp, -r/, -u=x) are the
// option parser's (the getopt branch); until it is merged these are todo.
t.test('short options with glued values, as util-linux', rootOnly, async (t) => {
  const bg = await startBackground(['sleep', '60'], { comm: 'sleep', cwd: '/tmp' });
  t.teardown(bg.stop);
  const pid = String(bg.pid);
  for (const args of [
    ['-w/tmp', 'pwd'],
    ['-wtmp', 'pwd'],
    ['-r/', 'pwd'],
    ['-u=x', 'true'],
  ]) {
    const ours = runTool('nsenter', ['-t', pid, ...args]);
    const theirs = run(['nsenter', '-t', pid, ...args]);
    t.equal(ours.stdout, theirs.stdout, `${args[0]}: the same output`);
    t.equal(ours.code, theirs.code, `${args[0]}: the same status`);
    t.equal(sameLine(ours.stderr.trim()), sameLine(theirs.stderr.trim()), `${args[0]}: the same error`);
  }
});

t.test('a stopped program stops ts-nsenter; continuing it continues the program', rootOnly, async (t) => {
  const bg = await startBackground([tool('unshare'), '-fp', '--mount-proc', 'sleep', '60'], { comm: 'sleep' });
  t.teardown(bg.stop);
  const entered = await startBackground([tool('nsenter'), '-t', String(bg.pid), '-p', '-m', 'sleep', '61'], {
    comm: 'sleep',
  });
  t.teardown(entered.stop);
  const nsenterPid = entered.parent.pid!;
  const state = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
  const until = (pred: () => boolean) => waitFor(pred, { timeoutMs: 5_000, intervalMs: 25 });
  t.not(entered.pid, nsenterPid, 'the program runs in a child of ts-nsenter');
  process.kill(entered.pid, 'SIGSTOP');
  t.ok(await until(() => state(nsenterPid) === 'T'), 'ts-nsenter stops itself');
  process.kill(nsenterPid, 'SIGCONT');
  t.ok(await until(() => state(entered.pid) !== 'T'), 'and, continued, continues the program');
  const exited = new Promise<number | null>((resolve) => entered.parent.on('exit', (code) => resolve(code)));
  process.kill(entered.pid, 'SIGTERM');
  t.equal(await exited, null, 'killed by the same signal as the program');
  t.equal(entered.parent.signalCode, 'SIGTERM');
});

registerLeftoverCheck(t, before);
