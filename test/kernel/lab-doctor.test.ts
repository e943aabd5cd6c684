// ts-lab doctor: passes on this machine; with a file it reads shadowed by a
// failing value (NSLAB_DOCTOR_ROOT), it names the problem, its fix, and exits 1.
import t from 'tap';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cleanEnv, needRoot, ROOT } from '../helpers/tools.js';
import { tsLab } from '../helpers/lab.js';

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
  t.match(
    r.stdout,
    /^FAIL {2}unprivileged user namespaces \(AppArmor, Ubuntu 23\.10\+\): kernel\.apparmor_restrict_unprivileged_userns = 1$/m,
    'the failure',
  );
  t.match(r.stdout, /^ {6}fix: sudo sysctl -w kernel\.apparmor_restrict_unprivileged_userns=0/m, 'and its fix');
  t.match(r.stdout, /^1 problem found$/m);
});

t.test(
  "with Ubuntu's restriction, rootless steps are skipped with the fix, not failed",
  { skip: needRoot() },
  async (t) => {
    const dir = fakeRoot({ 'proc/sys/kernel/apparmor_restrict_unprivileged_userns': '1\n' });
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const lab = tsLab(['check', '--json', 'user-namespace'], { extraEnv: { NSLAB_DOCTOR_ROOT: dir } });
    const report = JSON.parse(lab.stdout);
    const reasons = JSON.stringify(report);
    t.match(
      reasons,
      /needs unprivileged user namespaces, which this machine forbids \(kernel\.apparmor_restrict_unprivileged_userns = 1\)/,
      'the skip says why',
    );
    t.match(reasons, /sudo sysctl -w kernel\.apparmor_restrict_unprivileged_userns=0/, 'and how to fix it');
    t.equal(report.labs[0].outcome, 'skip', 'the lab is skipped, neither passed nor failed');
    t.same(report.summary.labs, { pass: 0, fail: 0, skip: 1 });
    const clone = tsLab(['check', '--json', 'clone-program'], { extraEnv: { NSLAB_DOCTOR_ROOT: dir } });
    t.match(
      clone.stdout,
      /rootless-too[^]*needs unprivileged user namespaces/,
      'lab 13: only the rootless step is skipped',
    );
    const grade = tsLab(['grade', 'rootless-container'], { extraEnv: { NSLAB_DOCTOR_ROOT: dir } });
    t.equal(grade.code, 1, 'grading the rootless exercise is refused');
    t.match(grade.stderr, /cannot grade rootless-container on this machine: it needs unprivileged user namespaces/);
  },
);

t.test('user namespaces switched off, an old kernel, JSON', { skip: needRoot() }, async (t) => {
  const dir = fakeRoot({ 'proc/sys/user/max_user_namespaces': '0\n', 'proc/sys/kernel/osrelease': '4.19.0-old\n' });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = tsLab(['doctor', '--json'], { extraEnv: { NSLAB_DOCTOR_ROOT: dir } });
  t.equal(r.code, 1);
  const { checks } = JSON.parse(r.stdout) as {
    checks: Array<{ name: string; status: string; found: string; fix?: string }>;
  };
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
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'ts-lab.cjs'), 'doctor'], {
    encoding: 'utf8',
    env: cleanEnv({ PATH: dir }),
  });
  t.equal(r.status, 1);
  t.match(
    r.stdout,
    /^FAIL {2}busybox binary: busybox is not on PATH\n {6}fix: install it with 'apt-get install busybox-static'$/m,
  );
});

// The conditions of a fresh Debian 13 (issue 17), made here inside a
// private mount namespace (unshare -m): the doctor must see each one.
const inPrivateMounts = (script: string, env: NodeJS.ProcessEnv = {}) =>
  spawnSync('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', script], {
    encoding: 'utf8',
    env: cleanEnv(env),
    timeout: 120_000,
  });

t.test('a nodev /tmp: the labs work elsewhere, and the doctor says so', { skip: needRoot() }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-test-nodev-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lab = join(dir, 'labs');
  mkdirSync(lab);
  writeFileSync(
    join(lab, 'where.json'),
    JSON.stringify({
      id: 'where',
      order: 1,
      title: 'where',
      intro: ['x'],
      steps: [
        {
          id: 'dir',
          explain: 'x',
          run: 'echo "$LAB_DIR"',
          checks: [{ that: 'in /var/tmp, not the nodev directory', match: '^/var/tmp/nslab-where-\\w{6}$' }],
        },
      ],
    }),
  );
  const tsLabCmd = `node ${join(ROOT, 'dist', 'ts-lab.cjs')}`;
  const r = inPrivateMounts(
    `mkdir -p ${dir}/tmp && mount -t tmpfs -o nodev nslab-nodev ${dir}/tmp && ${tsLabCmd} doctor --json; echo ===; ${tsLabCmd} check --labs-dir ${lab} where; echo ===; NSLAB_WORK_DIR=${dir}/tmp ${tsLabCmd} doctor`,
    { TMPDIR: `${dir}/tmp`, NSLAB_CGROUP_PARENT: '.' },
  );
  const [json = '', check, forced] = r.stdout.split('===\n');
  const { checks, labs } = JSON.parse(json) as {
    checks: Array<{ name: string; status: string; found: string }>;
    labs: Array<{ id: string; outcome: string; why?: string }>;
  };
  const work = checks.find((c) => c.name === 'lab work directory');
  t.equal(work?.status, 'ok', 'another directory is found');
  t.match(
    work?.found,
    new RegExp(`^/var/tmp \\(passed over: ${dir}/tmp \\(nodev\\)\\)$`),
    `it says which and why: ${work?.found}`,
  );
  t.equal(labs.find((l) => l.id === 'putting-it-together')?.outcome, 'run', 'lab 14 will run');
  t.match(check, /^ {2}ok {5}dir: in \/var\/tmp, not the nodev directory$/m, 'a lab gets its directory there');
  t.match(
    forced,
    /^FAIL {2}lab work directory: .*\/tmp is mounted nodev$/m,
    'NSLAB_WORK_DIR on a nodev mount: a failure',
  );
  t.match(
    forced,
    /^fail +14 putting-it-together: lab work directory: its root filesystem is built in .* mounted nodev$/m,
    'and lab 14 is forecast to fail',
  );
  t.notOk(
    readdirSync('/var/tmp').some((n) => n.startsWith('nslab-where-')),
    'the lab directory is removed',
  );
});

t.test(
  'resolv.conf a link into an empty /run: the doctor warns; with the file there, ok',
  { skip: needRoot() },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'nslab-test-resolv-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'etc'));
    const tsLabCmd = `node ${join(ROOT, 'dist', 'ts-lab.cjs')}`;
    // /etc/resolv.conf replaced (by a bind mount of a directory holding only the link) in this namespace only.
    const script = [
      `ln -s ../run/systemd/resolve/stub-resolv.conf ${dir}/etc/resolv.conf`,
      `mount --bind ${dir}/etc /etc`,
      'mount -t tmpfs nslab-empty-run /run',
      `${tsLabCmd} doctor | grep '^.... *resolv.conf'`,
      'mkdir -p /run/systemd/resolve && echo "nameserver 127.0.0.53" > /run/systemd/resolve/stub-resolv.conf',
      `${tsLabCmd} doctor | grep '^.... *resolv.conf'`,
    ].join(' && ');
    const r = inPrivateMounts(script, { NSLAB_CGROUP_PARENT: '.' });
    const [before = '', after = ''] = r.stdout.trim().split('\n');
    t.match(
      before,
      /^warn {2}resolv\.conf: \/etc\/resolv\.conf is a link to \/run\/systemd\/resolve\/stub-resolv\.conf, which does not exist/,
      before,
    );
    t.match(
      after,
      /^ok {4}resolv\.conf: \/etc\/resolv\.conf is a link to \/run\/systemd\/resolve\/stub-resolv\.conf: ts-cri writes that file into the playground/,
      after,
    );
  },
);

t.test(
  'tools in a 0700 home: the doctor says nobody cannot run them, and which labs fail',
  { skip: needRoot() },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'nslab-test-home-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const home = join(dir, 'home');
    mkdirSync(home, { mode: 0o700 });
    const checkout = join(home, 'nslab');
    for (const part of ['bin', 'dist', 'labs', 'package.json', 'scripts'])
      cpSync(join(ROOT, part), join(checkout, part), { recursive: true });
    for (const m of ['koffi', '@koromix'])
      cpSync(join(ROOT, 'node_modules', m), join(checkout, 'node_modules', m), { recursive: true, dereference: true });
    const r = spawnSync(join(checkout, 'bin', 'ts-lab'), ['doctor'], {
      encoding: 'utf8',
      env: cleanEnv({ NSLAB_CGROUP_PARENT: '.' }),
    });
    t.equal(r.status, 1, 'a problem');
    t.match(
      r.stdout,
      new RegExp(
        `^FAIL {2}tools for nobody: nobody cannot run ${checkout}/bin/ts-unshare: .*\\(${home} is closed to other users\\)$`,
        'm',
      ),
      'names the closed directory',
    );
    t.match(r.stdout, /^ {6}fix: install the tools outside your home .*scripts\/setup-vm\.sh/m, 'and the fix');
    for (const [n, id] of [
      [10, 'user-namespace'],
      [13, 'clone-program'],
    ] as const)
      t.match(r.stdout, new RegExp(`^fail +${n} ${id}: tools for nobody: `, 'm'), `lab ${n} is forecast to fail`);
    t.match(r.stdout, /^run +8 pid-namespace$/m, 'a lab that runs nothing as nobody still runs');
  },
);
