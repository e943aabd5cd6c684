// ts-unshare on the real kernel: the acceptance list of the foundation issue,
// compared with util-linux unshare where the two must agree.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, existsSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import {
  children,
  cleanEnv,
  comm,
  descendants,
  inventory,
  isRoot,
  NO_TAP,
  registerLeftoverCheck,
  run,
  runTool,
  sh,
  tool,
} from '../helpers/tools.js';
import { TmuxSession } from '../helpers/pty.js';
import { waitFor } from '../helpers/wait.js';

const NS = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'pid_for_children', 'time', 'time_for_children', 'user', 'uts'];
const rootOnly = { skip: isRoot() ? false : 'needs root (CI runs as root)' };
const before = inventory();

function fullCapMask(): string {
  const last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  return (2n ** BigInt(last + 1) - 1n).toString(16).padStart(16, '0');
}

t.test('-fp --mount-proc: ps sees only itself, as PID 1', rootOnly, async (t) => {
  const r = runTool('unshare', ['-fp', '--mount-proc', 'ps', '-o', 'pid=,comm=']);
  t.equal(r.code, 0, r.stderr);
  t.same(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim()),
    ['1 ps'],
  );
});

t.test('-u: the hostname changes inside only', rootOnly, async (t) => {
  const host = hostname();
  const r = runTool('unshare', ['-u', 'sh', '-c', 'hostname lab-host; hostname']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), 'lab-host');
  t.equal(hostname(), host, "the host's hostname is unchanged");
});

t.test('-m: a tmpfs mounted inside stays inside', rootOnly, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-unshare-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = runTool('unshare', [
    '-m',
    'sh',
    '-c',
    `mount -t tmpfs nslab-test ${dir} && grep -c ' ${dir} ' /proc/mounts`,
  ]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), '1', "the tmpfs is in the namespace's /proc/mounts");
  t.notMatch(readFileSync('/proc/mounts', 'utf8'), dir, "and not in the host's");
});

t.test('unprivileged user namespaces (as nobody)', async (t) => {
  const U = runTool('unshare', ['-U', 'id', '-u'], { as: 'nobody' });
  t.equal(U.stdout.trim(), '65534', '-U alone maps nothing: the overflow uid');
  const r = runTool('unshare', ['-r', 'id', '-u'], { as: 'nobody' });
  t.equal(r.stdout.trim(), '0', '-r: root inside');
  const map = runTool('unshare', ['-r', 'cat', '/proc/self/uid_map'], { as: 'nobody' });
  t.same(map.stdout.trim().split(/\s+/), ['0', '65534', '1'], 'uid_map is 0 -> 65534, length 1');
  const gmap = runTool('unshare', ['-r', 'sh', '-c', 'cat /proc/self/gid_map /proc/self/setgroups'], { as: 'nobody' });
  t.same(gmap.stdout.trim().split(/\s+/), ['0', '65534', '1', 'deny'], 'gid_map after setgroups deny');
  const pid1 = runTool('unshare', ['-Urfp', '--mount-proc', 'sh', '-c', 'echo $$; grep CapEff /proc/self/status'], {
    as: 'nobody',
  });
  t.equal(pid1.code, 0, pid1.stderr);
  const [pid, caps = ''] = pid1.stdout.trim().split('\n');
  t.equal(pid, '1', 'the shell is PID 1');
  t.equal(caps.split(/\s+/)[1], fullCapMask(), 'with a full capability mask');
  const ps = runTool('unshare', ['-Urfp', '--mount-proc', 'ps', '-o', 'pid=,comm='], { as: 'nobody' });
  t.same(
    ps.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim()),
    ['1 ps'],
    '/proc is the new one',
  );
});

t.test('-m as nobody without -U: EPERM, with a hint', async (t) => {
  const r = runTool('unshare', ['-m', 'true'], { as: 'nobody' });
  t.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  t.equal(lines[0], 'ts-unshare: cannot unshare(CLONE_NEWNS): EPERM (Operation not permitted)');
  t.equal(lines.length, 2, 'one error line and one hint, no usage line');
  t.match(
    run(['unshare', '-m', 'true'], { as: 'nobody' }).stderr,
    /^unshare: unshare failed: Operation not permitted\n$/,
    'util-linux: the same errno, one line',
  );
  t.match(lines[1], /-U\/-r/, 'the hint names -U/-r');
});

// Which namespaces differ from the host's, seen by a child of the program
// (pid and time namespaces apply to children).
// find reads its own /proc/self: no fork, which matters for -p without -f
// (the first child would be PID 1 of a namespace that dies with it).
function changedNamespaces(argv: string[]): string[] {
  const r = run([...argv, 'find', '/proc/self/ns/', '-mindepth', '1', '-printf', '%f %l\n']);
  // pid_for_children of a pid namespace that has no process yet cannot be
  // read (find then exits 1): that one counts as changed.
  const seen = new Map(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string]),
  );
  if (r.code !== 0 && !/pid_for_children/.test(r.stderr)) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return NS.filter((n) => seen.get(n) !== readlinkSync(`/proc/self/ns/${n}`)).sort();
}

t.test('each namespace flag changes exactly what util-linux changes', rootOnly, async (t) => {
  const cases: Array<[string[], string[]]> = [
    [['-m'], ['mnt']],
    [['-u'], ['uts']],
    [['-i'], ['ipc']],
    [['-n'], ['net']],
    [['-fp'], ['pid', 'pid_for_children']],
    [['-U'], ['user']],
    [['-C'], ['cgroup']],
    [['-fT'], ['time', 'time_for_children']],
    [['-p'], ['pid_for_children']],
  ];
  for (const [flags, expected] of cases) {
    const ours = changedNamespaces([tool('unshare'), ...flags]);
    const theirs = changedNamespaces(['unshare', ...flags]);
    t.same(ours, theirs, `${flags.join(' ')}: same as util-linux`);
    t.same(ours, expected, `${flags.join(' ')}: ${expected.join(', ')}`);
  }
  // -T without -f: newer kernels move a process that unshared a time
  // namespace into it at execve(2); older ones (Debian 12's 6.1) leave it
  // outside, so only time_for_children changes. Either way, as util-linux.
  const ours = changedNamespaces([tool('unshare'), '-T']);
  t.same(ours, changedNamespaces(['unshare', '-T']), '-T: same as util-linux');
  t.ok(
    [['time', 'time_for_children'].join(), ['time_for_children'].join()].includes(ours.join()),
    `-T: time_for_children changes, and time too where execve(2) moves the process (${ours.join(', ')})`,
  );
  const all = changedNamespaces([tool('unshare'), '-fpmuinUCT']);
  t.same(all, changedNamespaces(['unshare', '-fpmuinUCT']), 'all eight at once: same as util-linux');
  t.same(all, [...NS].sort(), 'every namespace file differs');
});

t.test('--net=FILE keeps the namespace; umount releases it', rootOnly, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-persist-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // In a private mount namespace of its own, so the bind mount cannot leak.
  const script = [
    `touch ${dir}/net`,
    `${tool('unshare')} --net=${dir}/net true || exit 10`,
    `nsenter --net=${dir}/net ip -o link | awk -F': ' '{print $2}'`,
    `ino=$(stat -L -c %i ${dir}/net)`,
    `grep -q nsfs /proc/self/mountinfo || exit 11`,
    `umount ${dir}/net || exit 12`,
    `grep -q " ${dir}/net " /proc/self/mountinfo && exit 13`,
    `echo released`,
  ].join('\n');
  const r = run(['unshare', '-m', '--propagation', 'private', 'sh', '-c', script]);
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.trim().split('\n'), ['lo', 'released'], 'only lo inside, then the bind mount is gone');
});

t.test('exit statuses and messages as util-linux', async (t) => {
  t.equal(runTool('unshare', ['-f', 'sh', '-c', 'exit 7']).code, 7, "-f: the child's status");
  const killed = runTool('unshare', ['-f', 'sh', '-c', 'kill -TERM $$']);
  t.equal(killed.signal, 'SIGTERM', 'a child killed by SIGTERM: ts-unshare ends by SIGTERM');
  const missing = runTool('unshare', ['nosuchcmd']);
  t.equal(missing.code, 127);
  t.equal(missing.stderr.trim(), 'ts-unshare: failed to execute nosuchcmd: No such file or directory');
  const missingF = runTool('unshare', ['-f', 'nosuchcmd']);
  t.equal(missingF.code, 127, 'the same with -f');
  t.equal(missingF.stderr.trim(), 'ts-unshare: failed to execute nosuchcmd: No such file or directory');
  const notExec = runTool('unshare', ['/tmp']);
  t.equal(notExec.code, 126, 'found but not executable: 126');
  t.match(notExec.stderr, /failed to execute \/tmp: Permission denied/);
  const bogus = runTool('unshare', ['--bogus']);
  t.equal(bogus.code, 1);
  t.equal(bogus.stderr, "ts-unshare: unrecognized option '--bogus'\nTry 'ts-unshare --help' for more information.\n");
  const shortBogus = runTool('unshare', ['-X']);
  t.equal(shortBogus.code, 1);
  t.match(shortBogus.stderr, /invalid option -- 'X'/);
  const mono = runTool('unshare', ['--monotonic', '5', 'true']);
  t.equal(mono.code, 1);
  t.match(mono.stderr, /--monotonic and --boottime require unsharing of a time namespace/);
  const prop = runTool('unshare', ['-m', '--propagation', 'sideways', 'true']);
  t.equal(prop.code, 1);
  t.match(prop.stderr, /unsupported propagation mode: sideways/);
  const sig = runTool('unshare', ['--kill-child=NOPE', 'true']);
  t.match(sig.stderr, /unknown signal: NOPE/);
  const uid = runTool('unshare', ['-S', 'abc', 'true']);
  t.equal(uid.code, 1);
  t.match(uid.stderr, /failed to parse uid: 'abc'/);
  const needArg = runTool('unshare', ['-R']);
  t.equal(needArg.code, 1);
  t.match(needArg.stderr, /option requires an argument -- 'R'/);
  const allow = runTool('unshare', ['-r', '--setgroups=allow', 'true']);
  t.equal(allow.code, 1);
  t.match(allow.stderr, /options --setgroups=allow and --map-group are mutually exclusive/);
  const help = runTool('unshare', ['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /--mount-proc/);

  // A "Try ... --help" line where util-linux prints one (a bad option), none for a bad value.
  for (const args of [
    ['--propagation', 'sideways', 'true'],
    ['--kill-child=NOPE', 'true'],
    ['-S', 'abc', 'true'],
    ['-G', 'abc', 'true'],
    ['--setgroups=x', 'true'],
    ['-r', '--setgroups=allow', 'true'],
    ['-T', '--monotonic', 'x', 'true'],
    ['--map-user=nslab-no-such-user', 'true'],
  ]) {
    const ours = runTool('unshare', args);
    const theirs = run(['unshare', ...args]);
    t.equal(theirs.code, 1, `${args.join(' ')}: util-linux exits 1`);
    t.equal(ours.code, 1, `${args.join(' ')}: exit 1`);
    t.equal(ours.stderr.split('\n').length, 2, `${args.join(' ')}: one line, as util-linux: ${theirs.stderr.trim()}`);
    t.equal(theirs.stderr.split('\n').length, 2);
  }
  for (const args of [
    ['-S', 'abc', 'true'],
    ['--propagation', 'sideways', 'true'],
    ['--kill-child=NOPE', 'true'],
  ]) {
    t.equal(
      runTool('unshare', args).stderr,
      run(['unshare', ...args]).stderr.replace(/^unshare/, 'ts-unshare'),
      `${args.join(' ')}: util-linux's words`,
    );
  }
  const bigUid = runTool('unshare', ['-S', '4294967296', 'true']);
  t.equal(bigUid.code, 1);
  t.equal(
    bigUid.stderr,
    "ts-unshare: failed to parse uid: '4294967296': Numerical result out of range\n",
    'a uid beyond 32 bits is refused, not cut down',
  );
  for (const args of [['--bogus'], ['-X'], ['-R']])
    t.match(
      runTool('unshare', args).stderr,
      /\nTry 'ts-unshare --help' for more information\.\n$/,
      `${args[0]}: the usage line, as util-linux`,
    );
});

t.test("without -f the program keeps ts-unshare's PID (exec in place)", rootOnly, async (t) => {
  const child = spawn(NO_TAP[0]!, [...NO_TAP.slice(1), tool('unshare'), '-u', 'sh', '-c', 'echo $$'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: cleanEnv(),
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise((resolve) => child.on('close', resolve));
  t.equal(Number(out.trim()), child.pid);
});

t.test('stdin, stdout, environment and working directory pass through', async (t) => {
  t.equal(sh(`echo hello | ${tool('unshare')} -f cat`).stdout, 'hello\n');
  t.equal(sh(`${tool('unshare')} -f seq 1 200000 | tail -n1`).stdout, '200000\n');
  t.equal(
    runTool('unshare', ['-f', 'sh', '-c', 'echo $NSLAB_PROBE'], { env: cleanEnv({ NSLAB_PROBE: 'kept' }) }).stdout,
    'kept\n',
  );
  t.equal(runTool('unshare', ['-f', 'pwd'], { cwd: '/tmp' }).stdout, '/tmp\n');
  t.equal(runTool('unshare', ['pwd'], { cwd: '/tmp' }).stdout, '/tmp\n', 'in place too');
  // Node sets O_NONBLOCK on some stdio; a reader that loops on stdin must see a blocking fd.
  const big = sh(`head -c 3000000 /dev/zero | ${tool('unshare')} -f wc -c`);
  t.equal(big.stdout.trim(), '3000000');
  const flags = sh(`${tool('unshare')} -f sh -c 'grep flags /proc/self/fdinfo/0' < /dev/null`);
  t.equal(Number.parseInt(flags.stdout.split(/\s+/)[1] ?? '', 8) & 0o4000, 0, 'fd 0 is not O_NONBLOCK in the child');
});

t.test("--trace shows the calls with decoded flags and results, the child's too", rootOnly, async (t) => {
  const r = runTool('unshare', ['--trace', '-fp', '--mount-proc', 'true']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /unshare\(CLONE_NEWNS\|CLONE_NEWPID\) = 0/);
  // No CLONE_VM: the child has its own copy of memory, so its errno is its own (src/syscalls/plan.ts).
  t.match(r.stderr, /clone\(SIGCHLD\) = (\d+)/);
  t.notMatch(r.stderr, /CLONE_VM/);
  const pid = /clone\(SIGCHLD\) = (\d+)/.exec(r.stderr)![1];
  t.match(
    r.stderr,
    new RegExp(`\\[pid ${pid}\\] mount\\("proc", "/proc", "proc", MS_NOSUID\\|MS_NODEV\\|MS_NOEXEC, NULL\\) = 0`),
  );
  t.match(r.stderr, new RegExp(`\\[pid ${pid}\\] execvp\\("true", \\["true"\\]\\) \\.\\.\\.\n`));
  const fail = runTool('unshare', ['--trace', '-f', 'nosuchcmd']);
  t.match(fail.stderr, /execvp\("nosuchcmd", \["nosuchcmd"\]\) = -1 ENOENT \(No such file or directory\)/);
  const user = runTool('unshare', ['--trace', '-r', 'true'], { as: 'nobody' });
  t.match(user.stderr, /clone\(CLONE_NEWUSER\|SIGCHLD\) = \d+/);
  t.match(user.stderr, /write\("\/proc\/\d+\/uid_map", "0 65534 1\\n"\) = 10/);
});

t.test('-R, -w, -S, -G, --map-users, --keep-caps, --kill-child', async (t) => {
  if (isRoot()) t.equal(runTool('unshare', ['-R', '/', '-w', '/tmp', 'pwd']).stdout, '/tmp\n', '-R then -w');
  if (isRoot()) {
    const ids = runTool('unshare', ['-S', '65534', '-G', '65534', 'id']);
    t.equal(
      ids.stdout.trim(),
      'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)',
      '-S/-G set ids and drop groups',
    );
    const big = runTool('unshare', [
      '--map-users=0:100000:65536',
      '--map-groups',
      '100000,0,65536',
      'sh',
      '-c',
      'cat /proc/self/uid_map /proc/self/gid_map',
    ]);
    t.same(
      big.stdout.trim().split(/\s+/),
      ['0', '100000', '65536', '0', '100000', '65536'],
      `both range syntaxes (exit ${big.code}, ${big.signal ?? 'no signal'}: ${big.stderr.trim()})`,
    );
  }
  const amb = runTool('unshare', ['-r', '--keep-caps', 'grep', 'CapAmb', '/proc/self/status'], { as: 'nobody' });
  t.equal(amb.stdout.split(/\s+/)[1], fullCapMask(), '--keep-caps fills the ambient set');
  const noAmb = runTool('unshare', ['-r', 'grep', 'CapAmb', '/proc/self/status'], { as: 'nobody' });
  t.equal(noAmb.stdout.split(/\s+/)[1], '0000000000000000', 'and without it the ambient set is empty');

  // --kill-child: when ts-unshare dies, its child gets SIGKILL.
  const parent = spawn(NO_TAP[0]!, [...NO_TAP.slice(1), tool('unshare'), '--kill-child', 'sleep', '60'], {
    stdio: 'ignore',
    env: cleanEnv(),
  });
  let sleeper = 0;
  // Wait until the child has exec'd sleep (it is a plan child before that).
  const running = await waitFor(
    () => {
      sleeper = children(parent.pid!)[0] ?? 0;
      return sleeper !== 0 && comm(sleeper) === 'sleep';
    },
    { timeoutMs: 5_000, intervalMs: 50 },
  );
  t.ok(running, 'the child runs');
  const closed = new Promise((r) => parent.on('close', r));
  parent.kill('SIGKILL');
  await closed;
  const gone = await waitFor(
    () => {
      try {
        return readFileSync(`/proc/${sleeper}/stat`, 'utf8').split(' ')[2] === 'Z';
      } catch {
        return true; // reaped between two looks
      }
    },
    { timeoutMs: 5_000, intervalMs: 50 },
  );
  t.ok(gone, 'the child was killed with its parent');
});

t.test('interactive: -fp --mount-proc bash under a terminal', rootOnly, async (t) => {
  const term = new TmuxSession(
    `sh -c '${tool('unshare')} -fp --mount-proc bash --norc --noprofile; echo STATUS=$?; sleep 60'`,
  );
  t.teardown(() => term.kill());
  await term.waitFor((s) => /[#$] *$/m.test(s));
  term.type('echo "pid=$$"');
  term.send('Enter');
  await term.waitFor((s) => /^pid=1$/m.test(s));
  t.pass('echo $$ prints 1');
  // Ctrl-C at the prompt: bash ignores it, and ts-unshare must too.
  term.send('C-c');
  term.type('echo "prompt=ok"');
  term.send('Enter');
  await term.waitFor((s) => /^prompt=ok$/m.test(s));
  t.notMatch(term.screen(), /STATUS=/, 'Ctrl-C at the prompt: ts-unshare lives on');
  term.type('sleep 30');
  term.send('Enter');
  // Ctrl-C once sleep runs (before, bash would take it at the prompt).
  const sleeping = await waitFor(() => descendants(term.panePid()).some((p) => comm(p) === 'sleep'));
  t.ok(sleeping, 'sleep 30 runs in the pane');
  term.send('C-c');
  term.type('echo "alive=$?"');
  term.send('Enter');
  await term.waitFor((s) => /^alive=130$/m.test(s));
  t.notMatch(term.screen(), /STATUS=/, 'Ctrl-C reached the child (sleep: 130), ts-unshare lives on');
  term.type('exit 3');
  term.send('Enter');
  // The pane runs ts-unshare under sh, which prints its exit status.
  await term.waitFor((s) => /^STATUS=\d+$/m.test(s));
  t.match(term.screen(), /^STATUS=3$/m, 'exit 3 makes ts-unshare exit 3');
});

t.test('--map-auto and --map-users through newuidmap, with /etc/subuid in an overlay', rootOnly, async (t) => {
  // The host's /etc stays as it is: the test writes subuid/subgid into an
  // overlay mounted on /etc inside a private mount namespace.
  const dir = mkdtempSync(join(tmpdir(), 'nslab-subuid-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const nobody = 'setpriv --reuid=65534 --regid=65534 --clear-groups';
  const script = [
    `mkdir ${dir}/up ${dir}/work`,
    `mount -t overlay overlay -o lowerdir=/etc,upperdir=${dir}/up,workdir=${dir}/work /etc || exit 10`,
    `printf 'root:300000:65536\\nnobody:200000:65536\\n' > /etc/subuid; cp /etc/subuid /etc/subgid`,
    `echo root; ${tool('unshare')} --map-auto cat /proc/self/uid_map /proc/self/gid_map`,
    `echo nobody; ${nobody} ${tool('unshare')} --map-auto cat /proc/self/uid_map`,
    `echo users; ${nobody} ${tool('unshare')} --map-users=0:200000:1000 --map-groups=200000,0,1000 cat /proc/self/uid_map /proc/self/gid_map`,
    `echo refused; ${nobody} ${tool('unshare')} --map-users=0:100:10 true; echo "status=$?"`,
  ].join('\n');
  const r = run(['unshare', '-m', '--propagation', 'private', 'sh', '-c', script]);
  const words = r.stdout.trim().split(/\s+/);
  t.same(
    words.slice(0, 7),
    ['root', '0', '300000', '65536', '0', '300000', '65536'],
    'root: the first subordinate range at 0',
  );
  t.same(words.slice(7, 11), ['nobody', '0', '200000', '65536'], 'nobody: through newuidmap');
  t.same(
    words.slice(11, 18),
    ['users', '0', '200000', '1000', '0', '200000', '1000'],
    'explicit ranges, both syntaxes',
  );
  t.same(words.slice(18), ['refused', 'status=1'], 'a range not granted in /etc/subuid: exit 1');
  t.match(r.stderr, /ts-unshare: newuidmap failed: /, "with newuidmap's reason");
  t.ok(existsSync(`${dir}/up/subuid`), 'the test wrote into the overlay');
  t.notOk(
    existsSync('/etc/subuid') && readFileSync('/etc/subuid', 'utf8').includes('root:300000'),
    "and the host's /etc is untouched",
  );
});

t.test('nested: ts-unshare -Urfp inside ts-unshare -Urfp without --mount-proc', async (t) => {
  // The inner one sees the host's /proc, where its child has another PID.
  const r = runTool(
    'unshare',
    ['-Urfp', tool('unshare'), '-Urfp', 'sh', '-c', 'echo $$; id -u; cat /proc/self/uid_map'],
    { as: 'nobody' },
  );
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.trim().split(/\s+/), ['1', '0', '0', '0', '1']);
  if (isRoot()) {
    const persist = run(['unshare', '-fp', tool('unshare'), '-r', 'cat', '/proc/self/uid_map']);
    t.same(persist.stdout.trim().split(/\s+/), ['0', '0', '1'], 'inside util-linux unshare -fp too');
  }
});

t.test('-T with -U and -f: the child unshares time and forks, as util-linux', async (t) => {
  // As nobody: the time namespace must be owned by the new user namespace.
  const script = 'echo $$; cut -d" " -f1 /proc/uptime; readlink /proc/self/ns/time';
  const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const r = runTool('unshare', ['-UrfpT', '--boottime', '100000', '--mount-proc', 'sh', '-c', script], {
    as: 'nobody',
  });
  t.equal(r.code, 0, r.stderr);
  const [pid, uptime, timeNs] = r.stdout.trim().split('\n');
  t.equal(pid, '1', 'the program is PID 1');
  t.ok(Number(uptime) >= hostUptime + 100000, 'and sees the boottime offset in /proc/uptime');
  t.not(timeNs, readlinkSync('/proc/self/ns/time'), 'in a new time namespace');
  const trace = runTool('unshare', ['--trace', '-UrfT', 'true'], { as: 'nobody' });
  t.match(
    trace.stderr,
    /unshare\(CLONE_NEWTIME\) = 0[^]*clone\(CLONE_PARENT\|CLONE_PARENT_SETTID\|SIGCHLD\) = \d+/,
    'the trace shows unshare, then the fork',
  );
});

registerLeftoverCheck(t, before);
