// A lab broken on purpose: the network lab without the step that brings lo
// up. The report must name the check that fails and print its hint, the
// cleanup must still run, and the exit status must be 1.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, needRoot, ROOT, run, tool } from '../helpers/tools.js';
import { labInventory, tsLab, leftSince } from '../helpers/lab.js';

function labsWith(file: string, change: (lab: any) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-test-labs-'));
  const lab = JSON.parse(readFileSync(join(ROOT, 'labs', file), 'utf8'));
  change(lab);
  writeFileSync(join(dir, file), JSON.stringify(lab, null, 2));
  return dir;
}

t.test('the network lab without lo-up', { skip: needRoot() }, async (t) => {
  const dir = labsWith('09-network-namespace.json', (lab) => {
    lab.steps = lab.steps.filter((s: { id: string }) => s.id !== 'lo-up');
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const before = labInventory();

  const plain = tsLab(['check', '--sandbox', 'network-namespace'], { extraEnv: { NSLAB_LABS_DIR: dir } });
  t.equal(plain.code, 1, 'exit status 1');
  t.match(plain.stdout, /^ {2}FAIL {3}loopback-works: ping gets its reply$/m, 'the failed check is named');
  t.match(plain.stdout, /^\s+hint: Is lo up in mynet\? ts-veth up lo -n mynet$/m, 'its hint is printed');
  t.match(
    plain.stdout,
    /^\s+why: The command failed \(exit status [12]\), but it should have succeeded\. It printed:\n {16}\S/m,
    'and why it failed, in a sentence with the output indented below',
  );
  t.match(plain.stdout, /^ {2}ok {5}loopback-down: ping fails$/m, 'the checks before it still pass');
  t.notMatch(plain.stdout, /^ {2}LEFT/m, 'cleanup ran: nothing left in the sandbox');
  t.match(plain.stdout, /^result network-namespace fail /m);

  const tap = tsLab(['check', '--sandbox', '--tap', 'network-namespace'], { extraEnv: { NSLAB_LABS_DIR: dir } });
  t.equal(tap.code, 1);
  t.match(
    tap.stdout,
    /^not ok \d+ - network-namespace \/ loopback-works: ping gets its reply\n {2}---\n {2}why: .*\n {2}hint: "Is lo up in mynet\? ts-veth up lo -n mynet"/m,
    'TAP: not ok with the hint in its diagnostics',
  );

  const json = tsLab(['check', '--sandbox', '--json', 'network-namespace'], { extraEnv: { NSLAB_LABS_DIR: dir } });
  const report = JSON.parse(json.stdout);
  const step = report.labs[0].steps.find((s: { id: string }) => s.id === 'loopback-works');
  t.equal(step.outcome, 'fail');
  t.equal(step.checks[0].hint, 'Is lo up in mynet? ts-veth up lo -n mynet');
  t.same(await leftSince(before), {}, 'nothing left on the machine');
});

t.test('a step that needs a missing binary is skipped with how to install it', { skip: needRoot() }, async (t) => {
  const dir = labsWith('06-uts-namespace.json', (lab) => {
    lab.steps[0].needs = { binaries: ['nslab-no-such-binary'] };
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = tsLab(['check', '--sandbox', 'uts-namespace'], { extraEnv: { NSLAB_LABS_DIR: dir } });
  t.equal(r.code, 2, 'a skip is not a failure, and not green either');
  t.match(
    r.stdout,
    /^ {2}skip {3}same-name-at-first: needs nslab-no-such-binary, which is not on PATH: install the package that provides nslab-no-such-binary$/m,
  );
  t.match(
    r.stdout,
    /^result uts-namespace skip \(\d+ passed, 0 failed, 2 skipped\)$/m,
    'the lab is reported incomplete, not passed',
  );
  t.equal(
    tsLab(['check', '--sandbox', '--allow-skips', 'uts-namespace'], { extraEnv: { NSLAB_LABS_DIR: dir } }).code,
    0,
    'exit 0 with --allow-skips',
  );
});

t.test('a guard keeps a command from running where it would touch the host', { skip: needRoot() }, async (t) => {
  // The box session without -u: the guard must refuse to run `hostname lab-container`.
  const dir = labsWith('06-uts-namespace.json', (lab) => {
    lab.sessions.box.start = 'bash --norc --noprofile';
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const hostname = readFileSync('/proc/sys/kernel/hostname', 'utf8');
  // ts-lab itself runs in a UTS namespace of its own, so that even a broken
  // guard could only rename that one: the host's name is never at risk.
  const r = run([tool('unshare'), '-u', '--', tool('lab'), 'check', '--sandbox', 'uts-namespace'], {
    env: cleanEnv({ NSLAB_LABS_DIR: dir }),
  });
  t.equal(r.code, 1);
  t.match(r.stdout, /FAIL {3}rename-inside: before running: the shell has its own UTS namespace/);
  t.equal(r.stdout.match(/never rename the host/g)?.length, 1, 'the refusal is reported once');
  t.notMatch(r.stdout, /error {2}rename-inside/, 'not also as an error line');
  t.equal(readFileSync('/proc/sys/kernel/hostname', 'utf8'), hostname, 'the host kept its name');
});

t.test('a lab file with a mistake is reported by file and field', async (t) => {
  const dir = labsWith('06-uts-namespace.json', (lab) => {
    lab.steps[1].in = 'nowhere';
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = tsLab(['list'], { extraEnv: { NSLAB_LABS_DIR: dir } });
  t.equal(r.code, 1);
  t.match(
    r.stderr,
    /06-uts-namespace\.json: step 'rename-inside': runs in session 'nowhere', which the lab does not define/,
  );
});
