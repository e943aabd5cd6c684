// ts-chroot on the real kernel, against coreutils chroot; the chroot escape
// under chroot (it reaches the host) and under --pivot (it cannot).
import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, inventory, isRoot, registerLeftoverCheck, ROOT, run, runTool } from '../helpers/tools.js';

const rootOnly = { skip: isRoot() ? false : 'needs root (CI runs as root)' };
const before = inventory();
// Node warns on stderr when NODE_EXTRA_CA_CERTS names a file the root filesystem lacks.
const env = cleanEnv({ NODE_EXTRA_CA_CERTS: undefined, SHELL: '/bin/sh' });

// The root filesystem: busybox, plus Node and the escape program (--with-node).
const scratch = mkdtempSync('/tmp/nslab-chroot-test-');
chmodSync(scratch, 0o755); // nobody must reach it for the unprivileged cases
const rootfs = join(scratch, 'rootfs');
const marker = join('/tmp', `nslab-escape-marker-${process.pid}`);
t.teardown(() => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(marker, { force: true });
});
const built = run(['node', join(ROOT, 'scripts/make-rootfs.mjs'), '-q', '--with-node', rootfs]);
if (built.code !== 0) throw new Error(`make-rootfs failed: ${built.stderr}`);

const topLevel = () =>
  readdirSync(rootfs)
    .filter((f) => !f.startsWith('.'))
    .sort();
/**
 * coreutils quotes command names with ‘’ in a UTF-8 locale, '' in C; our
 * lines name the errno before its text (docs/errors.md): "ENOENT (No such
 * file or directory)" reads as coreutils' "No such file or directory".
 */
const sameText = (s: string) =>
  s
    .replace(/[‘’]/g, "'")
    .replace(/^(ts-)?chroot: /gm, 'chroot: ')
    .replace(/: E[A-Z0-9]+ \((.*)\)$/gm, ': $1');

t.test("ls / lists the root filesystem's top level", rootOnly, async (t) => {
  const r = runTool('chroot', [rootfs, '/bin/sh', '-c', 'ls /'], { env });
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.trim().split('\n').sort(), topLevel());
  t.equal(r.stdout, run(['chroot', rootfs, '/bin/sh', '-c', 'ls /'], { env }).stdout, 'as coreutils chroot lists it');
  t.equal(runTool('chroot', [rootfs, '/bin/sh', '-c', 'pwd'], { env, cwd: '/tmp' }).stdout, '/\n', 'cwd is the new /');
  t.equal(runTool('chroot', [rootfs, '/bin/sh', '-c', 'exit 7'], { env }).code, 7, "the command's exit status");
  const shell = runTool('chroot', [rootfs], { env, input: 'echo from-the-shell; exit 3\n' });
  t.equal(shell.code, 3, 'no command: "$SHELL -i"');
  t.match(shell.stdout, /from-the-shell/);
});

t.test('--trace: chroot(2) and chdir(2), then the exec, in place', rootOnly, async (t) => {
  const r = runTool('chroot', ['--trace', rootfs, 'true'], { env });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, new RegExp(`chroot\\("${rootfs}"\\) = 0\\n.*chdir\\("/"\\) = 0`));
  t.match(r.stderr, /execvp\("true", \["true"\]\)/);
});

t.test('the chroot escape: out under chroot, not under --pivot', rootOnly, async (t) => {
  const secret = `escaped-${process.pid}`;
  writeFileSync(marker, secret + '\n');
  const escape = ['/usr/local/bin/node', '/opt/nslab/programs/chroot-escape.cjs', 'cat', marker];
  const jailed = runTool('chroot', [rootfs, 'cat', marker], { env });
  t.not(jailed.code, 0, 'inside the chroot the marker is not at its host path');

  const out = runTool('chroot', [rootfs, ...escape], { env });
  t.equal(out.code, 0, out.stderr);
  t.equal(out.stdout.trim(), secret, "under chroot the escape reads the host's file");

  const pivoted = runTool('chroot', ['--pivot', rootfs, ...escape], { env });
  t.not(pivoted.code, 0, 'under --pivot the walk up ends at the new root');
  t.notMatch(pivoted.stdout, secret);
  t.match(pivoted.stderr, /No such file or directory/);

  const traced = runTool('chroot', [rootfs, ...escape.slice(0, 2), '--trace', 'true'], { env });
  t.match(
    traced.stderr,
    /chroot\(".nslab-escape"\) = 0\n.*chdir\(".."\) = 0\n.*more chdir\(".."\)\n.*chroot\("."\) = 0/,
    'the escape shows its calls',
  );
});

t.test('--pivot: nothing of the host stays mounted inside', rootOnly, async (t) => {
  const r = runTool(
    'chroot',
    ['--pivot', rootfs, '/bin/sh', '-c', 'mount -t proc proc /proc && cut -d" " -f5 /proc/self/mountinfo'],
    { env },
  );
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.trim().split('\n').sort(), ['/', '/proc'], 'only the new root and the proc mounted inside');
  t.same(
    runTool('chroot', ['--pivot', rootfs, '/bin/sh', '-c', 'ls /'], { env }).stdout.trim().split('\n').sort(),
    topLevel(),
  );
  const traced = runTool('chroot', ['--trace', '--pivot', rootfs, 'true'], { env });
  t.match(
    traced.stderr,
    /unshare\(CLONE_NEWNS\) = 0\n.*MS_REC\|MS_PRIVATE.*= 0\n.*MS_BIND\|MS_REC.*= 0\n.*chdir.*\n.*pivot_root\("\.", "\."\) = 0\n.*umount2\("\.", MNT_DETACH\) = 0/,
  );
});

t.test('--userspec and --groups, as coreutils', rootOnly, async (t) => {
  for (const args of [
    ['--userspec=nobody:nogroup'],
    ['--userspec=65534'],
    ['--groups=0,65534'],
    ['--userspec=0:0', '--groups=65534'],
  ]) {
    const ours = runTool('chroot', [...args, rootfs, 'id'], { env });
    t.equal(ours.code, 0, ours.stderr);
    t.equal(
      ours.stdout,
      run(['chroot', ...args, rootfs, 'id'], { env }).stdout,
      `${args.join(' ')}: the same ids as coreutils`,
    );
  }
  t.match(runTool('chroot', ['--userspec=nobody', rootfs, 'id', '-u'], { env }).stdout, /^65534\n/);
});

t.test('errors: coreutils messages and exit statuses, nothing mounted', async (t) => {
  const empty = join(scratch, 'empty');
  mkdirSync(empty, { recursive: true });
  const file = join(scratch, 'file');
  writeFileSync(file, '');
  const noexec = join(rootfs, 'not-executable');
  writeFileSync(noexec, 'echo no\n');
  const cases: Array<[string, string[], number]> = [
    ['missing NEWROOT', ['/nonexistent-nslab', 'true'], 125],
    ['NEWROOT without the command', [empty, 'ls'], 127],
    ['a non-directory', [file, 'ls'], 125],
    ['a command that cannot be run', [rootfs, '/not-executable'], 126],
    ['no operand', [], 125],
    ['--skip-chdir with a new root', ['--skip-chdir', empty, 'ls'], 125],
    ['a bad option', ['--bogus'], 125],
  ];
  for (const [what, args, status] of cases) {
    if (!isRoot() && args[0] !== '--bogus' && args.length > 1) continue; // EPERM first as nobody: below
    const ours = runTool('chroot', args, { env });
    const theirs = run(['chroot', ...args], { env });
    t.equal(ours.code, status, `${what}: exit ${status}`);
    t.equal(theirs.code, status, `${what}: coreutils agrees`);
    t.equal(
      sameText(ours.stderr).replace(/ts-chroot/g, 'chroot'),
      sameText(theirs.stderr),
      `${what}: coreutils' message`,
    );
  }
  if (isRoot()) {
    for (const args of [
      ['--pivot', '/nonexistent-nslab', 'true'],
      ['--pivot', file, 'true'],
    ]) {
      const r = runTool('chroot', args, { env });
      t.equal(r.code, 125, `${args.join(' ')}: exit 125`);
      t.match(
        r.stderr,
        /^ts-chroot: cannot change root directory to '[^']+': (ENOENT \(No such file or directory|ENOTDIR \(Not a directory)\)\n$/,
      );
    }
  }
  // coreutils words a bad user spec without the name; our hint line adds it.
  for (const args of [
    ['--userspec=nslab-no-such-user', '/', 'true'],
    ['--userspec=0:nslab-no-such-group', '/', 'true'],
    ['--groups=nslab-no-such-group', '/', 'true'],
  ]) {
    const ours = runTool('chroot', args, { env });
    const theirs = run(['chroot', ...args], { env });
    t.equal(ours.code, 125, `${args[0]}: exit 125`);
    t.equal(theirs.code, 125, `${args[0]}: coreutils agrees`);
    t.equal(
      sameText(ours.stderr.split('\n')[0] ?? ''),
      sameText(theirs.stderr.trim()),
      `${args[0]}: coreutils' message`,
    );
    t.match(
      ours.stderr.split('\n')[1],
      /^ts-chroot: hint: no (user|group) 'nslab-no-such-(user|group)' in \/etc\/(passwd|group)$/,
      'and a hint naming it',
    );
  }
  t.same(inventory().mounts, before.mounts, 'nothing left mounted');
});

t.test('as nobody: EPERM like coreutils; root of a user namespace may chroot', async (t) => {
  const ours = runTool('chroot', [rootfs, '/bin/true'], { as: 'nobody', env });
  const theirs = run(['chroot', rootfs, '/bin/true'], { as: 'nobody', env });
  t.equal(ours.code, 125);
  t.equal(theirs.code, 125);
  t.equal(sameText(ours.stderr.split('\n')[0] ?? ''), sameText(theirs.stderr.trim()));
  t.match(ours.stderr.split('\n')[1], /hint: .*CAP_SYS_CHROOT/);
  // NEWROOT "/" changes nothing, but chroot(2) is still the permission check.
  const same = runTool('chroot', ['/', 'true'], { as: 'nobody', env });
  const sameTheirs = run(['chroot', '/', 'true'], { as: 'nobody', env });
  t.equal(sameTheirs.code, 125, 'coreutils: / as nobody is EPERM, exit 125');
  t.equal(same.code, 125, 'so is ts-chroot /');
  t.equal(sameText(same.stderr.split('\n')[0] ?? ''), sameText(sameTheirs.stderr.trim()));
  const traced = runTool('chroot', ['--trace', '/', 'true'], { as: 'nobody', env });
  t.match(traced.stderr, /chroot\("\/"\) = -1 EPERM/, 'chroot(2) was called');
  const inUserns = run(
    [join(ROOT, 'bin/ts-unshare'), '-r', join(ROOT, 'bin/ts-chroot'), rootfs, '/bin/sh', '-c', 'id -u; ls /'],
    { as: 'nobody', env },
  );
  t.equal(inUserns.code, 0, inUserns.stderr);
  t.same(inUserns.stdout.trim().split('\n'), ['0', ...topLevel()]);
  const pivot = run(
    [join(ROOT, 'bin/ts-unshare'), '-r', join(ROOT, 'bin/ts-chroot'), '--pivot', rootfs, '/bin/sh', '-c', 'ls /'],
    { as: 'nobody', env },
  );
  t.equal(pivot.code, 0, pivot.stderr);
});

registerLeftoverCheck(t, before);
