// npm run make-rootfs: an offline root filesystem that works under
// ts-unshare -R and ts-chroot, built again without changes.
import t from 'tap';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, inventory, isRoot, registerLeftoverCheck, ROOT, run, runTool } from '../helpers/tools.js';

const rootOnly = { skip: isRoot() ? false : 'needs root (CI runs as root)' };
const before = inventory();
const env = cleanEnv({ SHELL: '/bin/sh' });
const scratch = mkdtempSync('/tmp/nslab-rootfs-test-');
chmodSync(scratch, 0o755);
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

const makeRootfs = (args: string[]) => run(['node', join(ROOT, 'scripts/make-rootfs.mjs'), ...args]);

t.test('--help, and bad command lines', async (t) => {
  const help = makeRootfs(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: npm run make-rootfs -- \[options\] DIR/);
  t.match(help.stdout, /--with-node/);
  const missing = makeRootfs([]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^make-rootfs: missing DIR/);
  const bad = makeRootfs(['--bogus', join(scratch, 'x')]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^make-rootfs: unrecognized option '--bogus'/);
});

t.test('busybox root filesystem: layout, and a second run changes nothing', rootOnly, async (t) => {
  const dir = join(scratch, 'busybox');
  const first = makeRootfs([dir]);
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, /[1-9]\d* files copied, [1-9]\d* links made/);
  for (const d of ['bin', 'sbin', 'usr/bin', 'etc', 'root', 'tmp', 'proc', 'sys', 'dev', 'var', 'run'])
    t.ok(statSync(join(dir, d)).isDirectory(), `${d}/`);
  t.equal(statSync(join(dir, 'tmp')).mode & 0o7777, 0o1777, 'tmp is 1777');
  t.equal(statSync(join(dir, 'root')).mode & 0o777, 0o700, 'root is 0700');
  t.ok(statSync(join(dir, 'dev/null')).isCharacterDevice(), 'dev/null is a device node');
  t.match(run(['cat', join(dir, 'etc/passwd')]).stdout, /^root:x:0:0:/);
  const second = makeRootfs([dir]);
  t.equal(second.code, 0, second.stderr);
  t.match(second.stdout, / 0 files copied, 0 links made, \d+ already there/, 'idempotent');
});

t.test('ts-unshare -fpmu --mount-proc -R ROOTFS: ps shows PID 1; hostname stays inside', rootOnly, async (t) => {
  const dir = join(scratch, 'busybox');
  makeRootfs(['-q', dir]);
  const ps = runTool('unshare', ['-fpmu', '--mount-proc', '-R', dir, 'ps'], { env });
  t.equal(ps.code, 0, ps.stderr);
  const rows = ps.stdout.trim().split('\n');
  t.match(rows[0], /PID/);
  t.equal(rows.length, 2, 'one process');
  t.match(rows[1], /^\s*1\s+root\s.*\bps$/, 'ps itself, as PID 1');
  const host = hostname();
  const h = runTool(
    'unshare',
    ['-fpmu', '--mount-proc', '-R', dir, '/bin/sh', '-c', 'hostname nslab-rootfs && hostname'],
    { env },
  );
  t.equal(h.code, 0, h.stderr);
  t.equal(h.stdout.trim(), 'nslab-rootfs');
  t.equal(hostname(), host, "the host's hostname is untouched");
  t.same(inventory().mounts, before.mounts, 'the proc mounted inside went with the namespace');
});

t.test('--host: the host binaries run with their shared libraries', rootOnly, async (t) => {
  const dir = join(scratch, 'host');
  const r = makeRootfs(['-q', '--host', dir]);
  t.equal(r.code, 0, r.stderr);
  t.notOk(readdirSync(join(dir, 'bin')).includes('busybox'), 'no busybox');
  const out = runTool('chroot', [dir, '/bin/bash', '-c', 'id -u; cat /etc/hostname; ls / | wc -l; sleep 0'], { env });
  t.equal(out.code, 0, out.stderr);
  t.same(out.stdout.trim().split('\n').slice(0, 2), ['0', 'nslab']);
  const ip = runTool('unshare', ['-n', '-R', dir, 'ip', '-o', 'link'], { env });
  t.equal(ip.code, 0, ip.stderr);
  t.match(ip.stdout, /^1: lo:/, 'ip works inside (a new network namespace has only lo)');
});

t.test('as nobody: bind points instead of device nodes, and a rootless container in it', rootOnly, async (t) => {
  const home = join(scratch, 'nobody');
  mkdirSync(home);
  chownSync(home, 65534, 65534);
  const dir = join(home, 'rootfs');
  const r = run(['node', join(ROOT, 'scripts/make-rootfs.mjs'), dir], { as: 'nobody' });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /mknod not permitted here: 6 empty files in dev\//);
  t.ok(statSync(join(dir, 'dev/null')).isFile(), 'dev/null is a file to bind-mount onto');
  const ps = runTool('unshare', ['-Urfpm', '--mount-proc', '-R', dir, 'ps'], { as: 'nobody', env });
  t.equal(ps.code, 0, ps.stderr);
  t.match(ps.stdout, /\n\s*1 root\s+ps\n$/, 'ps is PID 1, root of its user namespace');
});

registerLeftoverCheck(t, before);
