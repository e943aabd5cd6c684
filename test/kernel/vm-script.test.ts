// npm run test:vm (scripts/test-vm.sh): the throwaway VM really is a pure
// cgroup v2 machine on Debian's kernel, the command's output and exit status
// come back, nothing the VM writes reaches this machine, a timeout stops it
// cleanly, and nothing is left behind.
import t from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, ROOT, run, sh } from '../helpers/tools.js';

const script = join(ROOT, 'scripts/test-vm.sh');
const vm = (args: string[], timeout = 900_000) => run(['bash', script, ...args], { timeout });
const jobDirs = () =>
  readdirSync('/tmp')
    .filter((f) => f.startsWith('nslab-vm.'))
    .sort();

const haveQemu = sh('command -v qemu-system-x86_64').code === 0;
const insideVm = existsSync('/run/nslab-vm/init2.sh');
const bootable = insideVm
  ? 'already inside the test VM (no VM in a VM)'
  : !isRoot()
    ? 'needs root (CI runs as root)'
    : !haveQemu
      ? 'qemu-system-x86_64 is missing (scripts/setup-vm.sh installs qemu-system-x86)'
      : false;

t.test('bad command lines: one line, exit 2, no VM', async (t) => {
  for (const [args, msg] of [
    [['--bogus'], /^test-vm: unknown option '--bogus'$/m],
    [['--timeout', 'soon', 'test/x.test.ts'], /^test-vm: 'soon' is not a positive whole number$/m],
    [['--accel', 'hvf', '--check'], /^test-vm: --accel is tcg or kvm, not 'hvf'$/m],
    [[], /^test-vm: name test files, --lab, --grade, --check or -- COMMAND$/m],
    [['--'], /^test-vm: nothing to run after --$/m],
  ] as const) {
    const r = vm([...args]);
    t.equal(r.code, 2, `${args.join(' ')}: exit 2`);
    t.match(r.stderr.split('\n')[0], msg, `${args.join(' ')}: says why`);
  }
  const help = vm(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: npm run test:vm -- \[options\] \[test files\.\.\.\]/);
});

t.test('--check: Debian kernel, cgroup2 alone at /sys/fs/cgroup, every controller', { skip: bootable }, async (t) => {
  const before = jobDirs();
  const r = vm(['--check']);
  t.equal(r.code, 0, r.stderr);
  const facts = Object.fromEntries(
    r.stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  t.match(facts.kernel, /^6\.1\.0-\d+-amd64$/, 'the kernel is Debian 12 generic flavour');
  t.match(facts.kernel_version, /Debian 6\.1\.\d+/, 'built by Debian');
  t.equal(facts.cgroup_fstype, 'cgroup2fs', 'stat -fc %T /sys/fs/cgroup');
  t.equal(facts.cgroup_v1_mounts, '', 'no cgroup v1 hierarchy is mounted');
  for (const c of ['cpu', 'memory', 'pids', 'io'])
    t.match(facts.cgroup_subtree_control, new RegExp(`\\b${c}\\b`), `${c} is enabled below the root`);
  t.match(r.stderr, /^test-vm: exit status 0; kernel 6\.1\.0-\d+-amd64; booted in [\d.]+ s/m);
  t.same(jobDirs(), before, 'the job directory is removed');
});

t.test('a command: its output and exit status; writes stay in the VM; no network', { skip: bootable }, async (t) => {
  const probe = join(ROOT, `.vm-write-probe-${process.pid}`);
  const before = jobDirs();
  const r = vm([
    '--no-build',
    '--',
    'sh',
    '-c',
    `echo "out $((6 * 7))"; cat /proc/self/cgroup; id -u; pwd; touch ${probe} && echo written; ip -o link | grep -vc ': lo:'; echo "to stderr" >&2; exit 7`,
  ]);
  t.equal(r.code, 7, `the command's exit status: ${r.stderr}`);
  t.equal(
    r.stdout,
    `out 42\n0::/\n0\n${ROOT}\nwritten\n0\nto stderr\n`,
    'pure v2 (/proc/self/cgroup has one line, 0::/), as root, in this checkout, no link but lo',
  );
  t.notOk(existsSync(probe), 'a file written in the VM is not on this machine');
  t.same(jobDirs(), before, 'the job directory is removed');
});

t.test('--cgroup: the command runs in a nested cgroup, controllers enabled above it', { skip: bootable }, async (t) => {
  const r = vm([
    '--no-build',
    '--cgroup',
    '/test.slice/run.scope',
    '--',
    'sh',
    '-c',
    'cat /proc/self/cgroup; cat /sys/fs/cgroup/test.slice/cgroup.subtree_control',
  ]);
  t.equal(r.code, 0, r.stderr);
  const [own, enabled] = r.stdout.split('\n');
  t.equal(own, '0::/test.slice/run.scope');
  t.match(enabled, /\bmemory\b.*\bpids\b/);
});

t.test('a timeout stops the VM: exit 124, says so, leaves nothing', { skip: bootable }, async (t) => {
  const before = jobDirs();
  const r = vm(['--no-build', '--timeout', '3', '--', 'sleep', '600'], 120_000);
  t.equal(r.code, 124);
  t.match(r.stderr, /^test-vm: timed out after 3 s: the VM was killed$/m);
  t.same(jobDirs(), before, 'the job directory is removed');
  // A qemu whose job directory is gone would be one the script left behind.
  const orphans = sh("pgrep -af 'mount_tag=nslabjob' | grep -o 'path=/tmp/nslab-vm\\.[A-Za-z0-9]*' | cut -d= -f2")
    .stdout.split('\n')
    .filter((d) => d && !existsSync(d));
  t.same(orphans, [], 'no qemu is left running');
});
