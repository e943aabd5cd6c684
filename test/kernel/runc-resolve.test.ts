// How ts-runc finds the container's program before the init starts: down
// the process's PATH, inside the rootfs, following symlinks there (absolute
// ones relative to the rootfs, never to the host). Runs as any user.
import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProcessSpec } from '../../src/runtime/config.js';
import { resolveInRoot, resolveProgram } from '../../src/runtime/init-plan.js';

const rootfs = mkdtempSync(join(tmpdir(), 'nslab-resolve-'));
t.teardown(() => rmSync(rootfs, { recursive: true, force: true }));
for (const d of ['bin', 'usr/bin', 'opt/tools/bin']) mkdirSync(join(rootfs, d), { recursive: true });
writeFileSync(join(rootfs, 'bin/busybox'), '#!/bin/sh\n');
chmodSync(join(rootfs, 'bin/busybox'), 0o755);
writeFileSync(join(rootfs, 'usr/bin/notes'), 'not a program\n');
symlinkSync('busybox', join(rootfs, 'bin/true')); // relative
symlinkSync('/bin/busybox', join(rootfs, 'usr/bin/abs')); // absolute: inside the rootfs
symlinkSync('/opt/tools', join(rootfs, 'usr/local')); // a directory on the way
writeFileSync(join(rootfs, 'opt/tools/bin/hello'), '#!/bin/sh\n');
chmodSync(join(rootfs, 'opt/tools/bin/hello'), 0o755);
symlinkSync('/nowhere/at/all', join(rootfs, 'bin/dangling'));

const proc = (name: string, path = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'): ProcessSpec =>
  ({
    terminal: false,
    user: { uid: 0, gid: 0, additionalGids: [] },
    args: [name],
    env: [`PATH=${path}`],
    cwd: '/',
    rlimits: [],
    noNewPrivileges: false,
  }) as ProcessSpec;

t.test('the first executable on PATH, as the container names it', async (t) => {
  t.equal(resolveProgram(rootfs, proc('true')), '/bin/true', 'a relative symlink to an executable');
  t.equal(resolveProgram(rootfs, proc('abs')), '/usr/bin/abs', 'an absolute symlink, followed inside the rootfs');
  t.equal(resolveProgram(rootfs, proc('hello')), '/usr/local/bin/hello', 'through a symlinked directory');
  t.equal(
    resolveProgram(rootfs, proc('true', '/usr/bin:/bin:/usr/bin')),
    '/bin/true',
    'the first directory that has it',
  );
});

t.test('not found: a missing name, a file that is not executable, a dangling symlink', async (t) => {
  for (const name of ['no-such-program', 'notes', 'dangling'])
    t.throws(
      () => resolveProgram(rootfs, proc(name)),
      { message: `unable to start container process: exec: "${name}": executable file not found in $PATH` },
      name,
    );
});

t.test('a name with a slash is taken as it is (execve will say why it fails)', async (t) => {
  t.equal(resolveProgram(rootfs, proc('/bin/true')), '/bin/true');
  t.equal(resolveProgram(rootfs, proc('/no/such/file')), '/no/such/file');
});

t.test('resolveInRoot: host paths inside the rootfs', async (t) => {
  t.equal(resolveInRoot(rootfs, '/usr/bin/abs').host, join(rootfs, 'bin/busybox'));
  t.equal(resolveInRoot(rootfs, '/usr/local/bin/hello').host, join(rootfs, 'opt/tools/bin/hello'));
  t.ok(resolveInRoot(rootfs, '/usr/local/bin/hello').st?.isFile(), 'with the status of the file itself');
  t.same(
    resolveInRoot(rootfs, '/usr/local/missing/x'),
    { host: join(rootfs, 'opt/tools/missing/x') },
    'a missing path, joined below what exists, without a status',
  );
});
