// Each exercise's grader fails on the untouched system and passes after a
// reference solution. The solutions live here, never in labs/: students see
// the task and the hints only. Everything runs inside a throwaway network
// and mount namespace (NetSandbox); cgroups are made below the test's own.
import t from 'tap';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { NetSandbox } from '../helpers/sandbox.js';
import { cleanEnv, BIN, needRoot, ROOT, tool } from '../helpers/tools.js';
import { labInventory, leftSince } from '../helpers/lab.js';

const env = () => cleanEnv({ PATH: `${BIN}:${process.env.PATH}` });

/** The exercise files must not give the solution away. */
t.test('exercise files hold no reference solution', async (t) => {
  for (const name of ['bridge', 'pids-limit', 'rootless-container']) {
    const text = readFileSync(`${ROOT}/labs/exercises/${name}.json`, 'utf8');
    const ex = JSON.parse(text);
    t.ok(ex.task.length && ex.hints.length && ex.grader.length, `${name}: task, hints and grader`);
    t.notOk('solution' in ex, `${name}: no solution field`);
  }
});

t.test('bridge: two namespaces and the host on br-lab', { skip: needRoot() }, async (t) => {
  const box = await NetSandbox.start();
  t.teardown(() => box.stop());
  const grade = () => box.run([tool('lab'), 'grade', 'bridge'], { env: env() });

  const untouched = grade();
  t.equal(untouched.code, 1, 'the grader fails on the untouched system');
  t.match(untouched.stdout, /^FAIL {2}the namespaces red and blue exist$/m);
  t.match(
    untouched.stdout,
    /^ {6}why: The output should show both red and blue in the list of named namespaces, and does not\. It printed nothing\.$/m,
    'why, in words, not a regular expression',
  );
  const tap = box.run([tool('lab'), 'grade', '--tap', 'bridge'], { env: env() });
  t.match(
    tap.stdout,
    /^not ok 1 - the namespaces red and blue exist\n {2}# why: The output should show both red and blue/m,
    'TAP: the why is a comment',
  );
  t.notMatch(tap.stdout, /^ +why:/m, 'no line TAP cannot parse');

  const solution = box.sh(
    [
      'set -e',
      'ts-veth netns add red',
      'ts-veth netns add blue',
      'ts-veth bridge add br-lab',
      'ts-veth addr add 10.44.0.1/24 dev br-lab',
      'ts-veth up br-lab',
      'for ns in red blue; do',
      '  ts-veth add veth-$ns peer eth0 --peer-netns $ns',
      '  ts-veth attach veth-$ns --bridge br-lab',
      '  ts-veth up veth-$ns',
      '  ts-veth up lo -n $ns',
      '  ts-veth up eth0 -n $ns',
      'done',
      'ts-veth addr add 10.44.0.2/24 dev eth0 -n red',
      'ts-veth addr add 10.44.0.3/24 dev eth0 -n blue',
      'ts-veth route add default via 10.44.0.1 -n red',
      'ts-veth route add default via 10.44.0.1 -n blue',
      // The sandbox has no uplink: an address on its lo stands for the host's own address.
      'ip link set lo up && ip addr add 192.0.2.1/32 dev lo',
    ].join('\n'),
    { env: env() },
  );
  t.equal(solution.code, 0, `the reference solution runs: ${solution.stderr}`);

  const done = grade();
  t.equal(done.code, 0, done.stdout);
  t.match(done.stdout, /^ok {4}red reaches a host address outside the bridge's subnet, through its default route$/m);
  t.match(done.stdout, /all \d+ checks passed/);

  // Half a solution: without the default routes, only those checks fail.
  box.sh('ip -n red route del default; ip -n blue route del default');
  const half = grade();
  t.equal(half.code, 1);
  t.match(half.stdout, /^FAIL {2}red has a default route via 10\.44\.0\.1$/m);
  t.match(half.stdout, /^ok {4}red reaches blue$/m);
});

t.test('pids-limit: a cgroup capped at 20 processes', { skip: needRoot() }, async (t) => {
  const pidFile = '/tmp/nslab-pids.pid';
  rmSync(pidFile, { force: true });
  const before = labInventory();
  const box = await NetSandbox.start();
  t.teardown(async () => {
    // Only what this test started: the process in the pid file and its children.
    box.sh(`p=$(cat ${pidFile}) && kill -KILL $(pgrep -P $p) $p`);
    box.run([tool('cgroup'), 'delete', '--kill', 'nslab-lab-test-pids'], { env: env() });
    rmSync(pidFile, { force: true });
    await box.stop();
  });
  const grade = () => box.run([tool('lab'), 'grade', 'pids-limit'], { env: env() });

  const untouched = grade();
  t.equal(untouched.code, 1, 'the grader fails on the untouched system');
  t.match(untouched.stdout, /^FAIL {2}\/tmp\/nslab-pids\.pid names a running process$/m);

  // A cgroup without the limit is not enough.
  // Started through two shells that wait for it, as 'sudo cmd &' from a
  // user shell does (sudo, its monitor, then the command): $! is the outer one.
  const unlimited = box.sh(
    `ts-cgroup create nslab-lab-test-pids -c pids && { sh -c 'sh -c "ts-cgroup exec nslab-lab-test-pids -- sleep 1000; :"; :' >/dev/null 2>&1 </dev/null & echo $! > ${pidFile}; }`,
    { env: env() },
  );
  t.equal(unlimited.code, 0, unlimited.stderr);
  const wrong = grade();
  t.equal(wrong.code, 1, 'a cgroup without pids.max = 20 fails');
  t.match(wrong.stdout, /^FAIL {2}the process \(or one it started\) is in a cgroup limited to 20 processes$/m);
  t.match(wrong.stdout, /^FAIL {2}a fork is refused at the limit$/m);

  const limit = box.sh('ts-cgroup set nslab-lab-test-pids pids.max=20', { env: env() });
  t.equal(limit.code, 0, limit.stderr);
  const done = grade();
  t.equal(done.code, 0, done.stdout);
  t.match(done.stdout, /^ok {4}a fork is refused at the limit$/m, 'the grader saw fork refused');
  t.equal(
    box.sh('grep -l nslab-lab-test-pids /proc/[0-9]*/cgroup 2>/dev/null | wc -l').stdout.trim(),
    '1',
    "the grader's test processes are gone: only the sleep is left in the cgroup",
  );

  // The sleep dies with its cgroup's kill; the two shells waiting for it then end.
  t.equal(
    box.run([tool('cgroup'), 'delete', '--kill', 'nslab-lab-test-pids'], { env: env() }).code,
    0,
    'the cgroup is removed',
  );
  rmSync(pidFile, { force: true });

  // The limit on a parent cgroup, the process in a child without one of its own: the effective limit is 20.
  const parent = box.sh(
    `ts-cgroup create nslab-lab-test-pids -c pids --pids 20 && ts-cgroup create nslab-lab-test-pids/leaf -c pids && { ts-cgroup exec nslab-lab-test-pids/leaf -- sleep 1000 >/dev/null 2>&1 </dev/null & echo $! > ${pidFile}; }`,
    { env: env() },
  );
  t.equal(parent.code, 0, parent.stderr);
  const viaParent = grade();
  t.equal(viaParent.code, 0, `a limit on the parent cgroup is accepted: ${viaParent.stdout}`);
  t.match(viaParent.stdout, /^ok {4}the process \(or one it started\) is in a cgroup limited to 20 processes$/m);
  t.match(viaParent.stdout, /^ok {4}a fork is refused at the limit$/m);
  t.equal(box.run([tool('cgroup'), 'delete', '--kill', 'nslab-lab-test-pids/leaf'], { env: env() }).code, 0);
  t.equal(
    box.run([tool('cgroup'), 'delete', 'nslab-lab-test-pids'], { env: env() }).code,
    0,
    'the cgroups are removed',
  );
  rmSync(pidFile, { force: true });
  t.same((await leftSince(before)).cgroups, undefined, 'no cgroup left');
});

t.test('rootless-container: nobody, root inside, own name and /proc', { skip: needRoot() }, async (t) => {
  const pidFile = '/tmp/nslab-rootless.pid';
  rmSync(pidFile, { force: true });
  const box = await NetSandbox.start();
  t.teardown(async () => {
    box.sh(`p=$(cat ${pidFile}) && kill -KILL $(pgrep -P $p) $p`);
    rmSync(pidFile, { force: true });
    await box.stop();
  });
  const grade = () => box.run([tool('lab'), 'grade', 'rootless-container'], { env: env() });

  const untouched = grade();
  t.equal(untouched.code, 1, 'the grader fails on the untouched system');

  // Started as root, it is not rootless: the grader must say so.
  const asRoot = box.sh(
    `ts-unshare -fpu --mount-proc sh -c 'hostname lab-rootless; exec sleep 1000' >/dev/null 2>&1 </dev/null & echo $! > ${pidFile}`,
    { env: env() },
  );
  t.equal(asRoot.code, 0);
  const wrong = grade();
  t.equal(wrong.code, 1, 'a container made by root fails');
  t.match(wrong.stdout, /^FAIL {2}the container is in a user namespace of its own$/m);
  box.sh(`p=$(cat ${pidFile}) && kill -KILL $(pgrep -P $p) $p`);

  const solution = box.sh(
    `setpriv --reuid=65534 --regid=65534 --clear-groups -- ts-unshare -r -fpu --mount-proc sh -c 'hostname lab-rootless; exec sleep 1000' >/dev/null 2>&1 </dev/null & echo $! > ${pidFile}
     # Wait until the container's shell has named itself and become sleep.
     p=$(cat ${pidFile}); for i in $(seq 200); do c=$(pgrep -P $p -x sleep) && break; sleep 0.05; done; echo "container $c"`,
    { env: env() },
  );
  t.match(solution.stdout, /^container \d+$/m, 'the reference solution starts the container');
  const done = grade();
  t.equal(done.code, 0, done.stdout);
  t.match(done.stdout, /^ok {4}it has its own PID namespace and a \/proc that shows it$/m);
  t.ok(existsSync(pidFile));
});
