// ts-lab doctor: passes on this machine; with a file it reads shadowed by a
// failing value (NSLAB_DOCTOR_ROOT), it names the problem, its fix, and exits 1.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { needRoot, ROOT } from './helpers/tools.js';
import { cleanEnv, tsLab } from './lab-helpers.js';

function fakeRoot(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-test-doctor-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

t.test('doctor passes here', { skip: needRoot() }, async (t) => {
  const r = tsLab(['doctor']);
  t.equal(r.code, 0, r.stdout);
  t.match(r.stdout, /^ok {4}root: running as root$/m);
  t.match(r.stdout, /^ok {4}user namespace: /m);
  t.match(r.stdout, /^ok {4}cgroups mounted: cgroup (v1|v2|hybrid)/m);
  t.notMatch(r.stdout, /^FAIL/m);
  t.match(r.stdout, /this machine can run every lab/);
});

t.test('Ubuntu restricting unprivileged user namespaces', { skip: needRoot() }, async (t) => {
  const dir = fakeRoot({ 'proc/sys/kernel/apparmor_restrict_unprivileged_userns': '1\n' });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = tsLab(['doctor'], { extraEnv: { NSLAB_DOCTOR_ROOT: dir } });
  t.equal(r.code, 1, 'exit status 1');
  t.match(r.stdout, /^FAIL {2}unprivileged user namespaces \(AppArmor, Ubuntu 23\.10\+\): kernel\.apparmor_restrict_unprivileged_userns = 1$/m, 'the failure');
  t.match(r.stdout, /^ {6}fix: sudo sysctl -w kernel\.apparmor_restrict_unprivileged_userns=0/m, 'and its fix');
  t.match(r.stdout, /^1 problem found$/m);
});

t.test('with Ubuntu\'s restriction, rootless steps are skipped with the fix, not failed', { skip: needRoot() }, async (t) => {
  const dir = fakeRoot({ 'proc/sys/kernel/apparmor_restrict_unprivileged_userns': '1\n' });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lab = tsLab(['check', '--json', 'user-namespace'], { extraEnv: { NSLAB_DOCTOR_ROOT: dir } });
  const report = JSON.parse(lab.stdout);
  const reasons = JSON.stringify(report);
  t.match(reasons, /needs unprivileged user namespaces, which this machine forbids \(kernel\.apparmor_restrict_unprivileged_userns = 1\)/, 'the skip says why');
  t.match(reasons, /sudo sysctl -w kernel\.apparmor_restrict_unprivileged_userns=0/, 'and how to fix it');
  t.equal(report.labs[0].outcome, 'skip', 'the lab is skipped, neither passed nor failed');
  t.same(report.summary.labs, { pass: 0, fail: 0, skip: 1 });
  const clone = tsLab(['check', '--json', 'clone-program'], { extraEnv: { NSLAB_DOCTOR_ROOT: dir } });
  t.match(clone.stdout, /rootless-too[^]*needs unprivileged user namespaces/, 'lab 13: only the rootless step is skipped');
  const grade = tsLab(['grade', 'rootless-container'], { extraEnv: { NSLAB_DOCTOR_ROOT: dir } });
  t.equal(grade.code, 1, 'grading the rootless exercise is refused');
  t.match(grade.stderr, /cannot grade rootless-container on this machine: it needs unprivileged user namespaces/);
});

t.test('user namespaces switched off, an old kernel, JSON', { skip: needRoot() }, async (t) => {
  const dir = fakeRoot({ 'proc/sys/user/max_user_namespaces': '0\n', 'proc/sys/kernel/osrelease': '4.19.0-old\n' });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = tsLab(['doctor', '--json'], { extraEnv: { NSLAB_DOCTOR_ROOT: dir } });
  t.equal(r.code, 1);
  const { checks } = JSON.parse(r.stdout) as { checks: Array<{ name: string; status: string; found: string; fix?: string }> };
  const byName = new Map(checks.map((c) => [c.name, c]));
  t.equal(byName.get('user namespaces allowed')?.status, 'fail');
  t.match(byName.get('user namespaces allowed')?.fix, /user\.max_user_namespaces=15000/);
  t.equal(byName.get('kernel')?.status, 'fail');
  t.equal(byName.get('kernel')?.found, 'Linux 4.19.0-old');
  t.equal(byName.get('root')?.status, 'ok', 'the other checks are unaffected');
});

t.test('a missing binary is named with its package', async (t) => {
  // An empty PATH directory: node is started by its full path, so no binary is found.
  const dir = mkdtempSync(join(tmpdir(), 'nslab-test-doctor-path-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'ts-lab.cjs'), 'doctor'], { encoding: 'utf8', env: cleanEnv({ PATH: dir }) });
  t.equal(r.status, 1);
  t.match(r.stdout, /^FAIL {2}busybox binary: busybox is not on PATH\n {6}fix: install it with 'apt-get install busybox-static'$/m);
});
