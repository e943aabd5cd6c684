// The lesson must show: a sandboxed run says so, the start-up trace of a
// session is shown, an interrupted run reports nothing more, and
// `ts-lab shell --sandbox` is a shell whose network, mounts and host name
// stay in there, graded with `grade --sandbox`. Every network command of
// these tests runs in a sandbox, and the shell test checks it is one before
// sending any.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetSandbox } from '../helpers/sandbox.js';
import { cleanEnv, needRoot, run, tool } from '../helpers/tools.js';
import { labInventory, tsLab, leftSince } from '../helpers/lab.js';

t.test('a sandboxed run says so', { skip: needRoot() }, async (t) => {
  const plain = tsLab(['run', '--sandbox', 'uts-namespace']);
  t.equal(plain.code, 0, plain.stderr);
  t.match(plain.stdout, /^sandbox: this runs in a throwaway network, mount and UTS namespace/, 'a banner first');
  t.match(plain.stdout, /^ {4}\[host, sandboxed\] \$ /m, 'host steps are shown as [host, sandboxed]');
  t.notMatch(plain.stdout, /^ {4}\[host\] \$ /m);
  t.match(plain.stdout, /^ {4}\[box\] \$ /m, 'sessions keep their names');
  const tap = tsLab(['check', '--sandbox', '--tap', 'uts-namespace']);
  t.match(tap.stdout, /^TAP version 14\n# sandbox: /, 'TAP: a comment');
  const json = tsLab(['check', '--sandbox', '--json', 'uts-namespace']);
  t.equal(JSON.parse(json.stdout).sandboxed, true, 'JSON: sandboxed: true');
});

t.test('--trace shows how a session starts', { skip: needRoot() }, async (t) => {
  const r = tsLab(['check', '--sandbox', '--json', '--trace', 'pid-namespace', 'user-namespace']);
  t.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const started = (lab: string) =>
    report.labs
      .find((l: { id: string }) => l.id === lab)
      .steps.filter((s: { sessions?: unknown[] }) => s.sessions)
      .map((s: { id: string; sessions: Array<{ command: string; output: string }> }) => ({
        id: s.id,
        ...s.sessions[0],
      }));
  const [pid] = started('pid-namespace');
  t.equal(pid.id, 'shell-as-pid-1', 'pid-namespace: the step that opens the session');
  t.match(pid.command, /^ts-unshare --trace -fp --mount-proc bash/);
  t.match(pid.output, /^\[ts-unshare \d+\] unshare\(CLONE_NEWNS\|CLONE_NEWPID\) = 0$/m, 'its unshare call');
  t.match(pid.output, /mount\("proc", "\/proc", "proc"/, 'the new /proc');
  t.match(pid.output, /execvp\("bash"/, 'and the exec of the shell');
  t.notMatch(pid.output, /\n\n/, 'no blank lines');
  const user = started('user-namespace');
  t.ok(
    user.some((s: { output: string }) => /(unshare|clone)\([A-Z_|]*CLONE_NEWUSER[A-Z_|]*\) = \d+/.test(s.output)),
    'user-namespace: the session start shows the user namespace being made',
  );

  const plain = tsLab(['run', '--sandbox', '--trace', 'pid-namespace']);
  t.match(
    plain.stdout,
    /^ {2}session container \([^)]*\): ts-unshare --trace -fp --mount-proc bash.*\n {4}\| \[ts-unshare \d+\] unshare\(CLONE_NEWNS\|CLONE_NEWPID\) = 0$/m,
    'run shows the trace under the session line',
  );
});

t.test('an interrupted run reports nothing after "interrupted"', { skip: needRoot() }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-test-labs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lab = {
    id: 'slow',
    order: 1,
    title: 'Slow',
    intro: ['A step that takes its time.'],
    steps: [{ id: 'wait', explain: 'waits', run: 'sleep 30', checks: [{ that: 'done', exit: 0 }] }],
  };
  writeFileSync(join(dir, 'slow.json'), JSON.stringify(lab));
  const box = await NetSandbox.start();
  t.teardown(() => box.stop());
  const before = labInventory();
  // SIGINT to ts-lab while the step runs, as Ctrl-C would send it.
  const r = box.run(['timeout', '--preserve-status', '-s', 'INT', '3', tool('lab'), 'run', '--labs-dir', dir, 'slow'], {
    env: cleanEnv(),
  });
  t.equal(r.code, 130, 'exit status 130');
  const after = r.stdout.slice(r.stdout.indexOf('interrupted: cleaning up'));
  t.match(r.stdout, /interrupted: cleaning up/);
  t.notMatch(after, /FAIL|done|137|result/, 'the killed step is not reported as a failed check');
  t.same(await leftSince(before), {}, 'nothing left');
});

/** A sandbox shell started with pipes: send it commands, wait for what it prints. */
class Shell {
  output = '';
  readonly exited: Promise<number | null>;
  private readonly child = spawn('env', ['-u', 'NODE_OPTIONS', tool('lab'), 'shell', '--sandbox'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: cleanEnv(),
  });
  constructor() {
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }
  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }
  async waitFor(re: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = this.output.match(re);
      if (m) return m;
      if (Date.now() > end) throw new Error(`timed out waiting for ${re}; the shell printed:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  end(): Promise<number | null> {
    this.child.stdin.end();
    return this.exited;
  }
}

t.test('ts-lab shell --sandbox: what happens there stays there', { skip: needRoot() }, async (t) => {
  const before = labInventory();
  const hostname = readFileSync('/proc/sys/kernel/hostname', 'utf8');
  const host = ['net', 'mnt', 'uts'].map((ns) => readlinkSync(`/proc/self/ns/${ns}`));

  const none = tsLab(['grade', '--sandbox', 'bridge']);
  t.equal(none.code, 1, 'grade --sandbox without a sandbox shell fails');
  t.match(none.stderr, /^ts-lab: no sandbox shell is running$/m);

  const sh = new Shell();
  t.teardown(() => sh.end());
  // Before any network command: the shell's namespaces must differ from ours, else stop.
  sh.send(
    `for ns in net mnt uts; do [ "$(readlink /proc/self/ns/$ns)" != "$(case $ns in net) echo '${host[0]}';; mnt) echo '${host[1]}';; uts) echo '${host[2]}';; esac)" ] || { echo "NOT-SANDBOXED $ns"; exit 99; }; done; echo SANDBOX-OK`,
  );
  const [seen] = await sh.waitFor(/SANDBOX-OK|NOT-SANDBOXED \w+/);
  if (seen !== 'SANDBOX-OK') {
    t.fail(`the shell is not in a sandbox (${seen}): nothing more is sent to it`);
    return;
  }
  t.match(sh.output, /You are in a sandbox/, 'the shell says where it is');

  sh.send(
    'ip link add nslab-tbr0 type bridge && ts-veth netns add nslab-tred && hostname nslab-sandboxed && echo MADE $(cat /proc/sys/kernel/hostname)',
  );
  await sh.waitFor(/MADE nslab-sandboxed/);
  t.not(run(['ip', 'link', 'show', 'nslab-tbr0']).code, 0, 'the bridge made in the shell is not on the host');
  t.notOk(existsSync('/run/netns/nslab-tred'), 'nor its named network namespace');
  t.equal(readFileSync('/proc/sys/kernel/hostname', 'utf8'), hostname, 'the host kept its name');

  // The bridge exercise, graded from the host in the shell's sandbox.
  const untouched = tsLab(['grade', '--sandbox', 'bridge']);
  t.equal(untouched.code, 1, 'grade --sandbox fails before the work is done');
  t.match(untouched.stdout, /^sandbox: /, 'and says it graded the sandbox');
  t.match(
    untouched.stdout,
    /^FAIL {2}the namespaces red and blue exist\n {6}why: The output should show both red and blue in the list of named namespaces, and does not\. It printed:\n {13}nslab-tred/m,
    'why, in words, with the output below',
  );
  sh.send(
    [
      'ts-veth netns add red && ts-veth netns add blue && ts-veth bridge add br-lab && ts-veth addr add 10.44.0.1/24 dev br-lab && ts-veth up br-lab',
      'for ns in red blue; do ts-veth add veth-$ns peer eth0 --peer-netns $ns && ts-veth attach veth-$ns --bridge br-lab && ts-veth up veth-$ns && ts-veth up lo -n $ns && ts-veth up eth0 -n $ns; done',
      'ts-veth addr add 10.44.0.2/24 dev eth0 -n red && ts-veth addr add 10.44.0.3/24 dev eth0 -n blue',
      'ts-veth route add default via 10.44.0.1 -n red && ts-veth route add default via 10.44.0.1 -n blue && echo SOLVED',
    ].join('\n'),
  );
  await sh.waitFor(/SOLVED/);
  const done = tsLab(['grade', '--sandbox', 'bridge']);
  t.equal(done.code, 0, 'the solved exercise passes');
  t.match(done.stdout, /^all 13 checks passed: well done$/m);
  t.match(
    done.stdout,
    /^ok {4}red reaches a host address outside the bridge's subnet, through its default route$/m,
    "the sandbox's stand-in address is reachable",
  );
  sh.send('ts-lab grade bridge >/dev/null && echo GRADED-INSIDE');
  await sh.waitFor(/GRADED-INSIDE/);
  t.pass('grading inside the shell works too');
  t.not(run(['ip', 'link', 'show', 'br-lab']).code, 0, 'br-lab is not on the host');

  t.equal(await sh.end(), 0, 'the shell ends with its last status');
  t.same(await leftSince(before), {}, 'nothing left on the machine');
  t.match(
    tsLab(['grade', '--sandbox', 'bridge']).stderr,
    /no sandbox shell is running/,
    'the sandbox went with the shell',
  );
});
