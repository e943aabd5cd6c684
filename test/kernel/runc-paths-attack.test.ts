// A hostile rootfs against ts-runc, with runc 1.1.5 as the oracle in the
// same test and on the same bundle: symlinks where the config names a mount
// destination, /proc, /dev/null, a device node or process.cwd, and a
// directory swapped for a symlink while containers are created. Whatever
// runc does, ts-runc must never create or mount anything outside the rootfs
// (a victim directory beside it shows), and must refuse or stay inside
// where runc does. Each runtime gets its own copy of the rootfs.
import t, { Test } from 'tap';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ROOT, cleanEnv, inventory, isRoot, registerLeftoverCheck, run, tool } from '../helpers/tools.js';

const RUNC = '/usr/sbin/runc';
const skip = !isRoot()
  ? 'needs root (CI runs as root)'
  : !existsSync(RUNC)
    ? `runc is not installed at ${RUNC} (scripts/setup-vm.sh installs it)`
    : false;
if (skip) {
  t.comment(`skipped: ${skip}`);
  t.pass('skipped');
  process.exit(0);
}
const before = inventory();

const scratch = mkdtempSync('/tmp/nslab-paths-');
chmodSync(scratch, 0o755);
const base = join(scratch, 'base-rootfs');
const built = run(['node', join(ROOT, 'scripts/make-rootfs.mjs'), '-q', base]);
if (built.code !== 0) throw new Error(`make-rootfs failed: ${built.stderr}`);
const payload = join(scratch, 'payload');
writeFileSync(payload, 'PAYLOAD\n');
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

type Runtime = 'runc' | 'ts-runc';
const RUNTIMES: Runtime[] = ['runc', 'ts-runc'];
const binary = (rt: Runtime) => (rt === 'runc' ? RUNC : tool('runc'));
const stateRoot = (rt: Runtime) => join(scratch, `state-${rt}`);

interface Case {
  dir: string;
  rootfs: string;
  /** A directory outside the rootfs the attack aims at: it must stay empty. */
  victim: string;
  bundle: string;
}

let count = 0;
/** A bundle of its own for one runtime: a copy of the base rootfs, changed by `prepare`, and runc's spec config, changed by `edit`. */
function makeCase(rt: Runtime, prepare: (c: Case) => void, edit: (config: any, c: Case) => void): Case {
  const dir = join(scratch, `case-${++count}-${rt}`);
  mkdirSync(dir);
  const c: Case = { dir, rootfs: join(dir, 'rootfs'), victim: join(scratch, `victim-${count}`), bundle: dir };
  mkdirSync(c.victim);
  if (run(['cp', '-a', base, c.rootfs]).code !== 0) throw new Error('cp -a of the rootfs failed');
  prepare(c);
  const spec = run([RUNC, 'spec', '-b', dir]);
  if (spec.code !== 0) throw new Error(spec.stderr);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.root.path = c.rootfs;
  config.process.terminal = false;
  edit(config, c);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return c;
}

function runIn(rt: Runtime, c: Case, id: string) {
  const r = run([binary(rt), '--root', stateRoot(rt), 'run', '-b', c.bundle, id], { timeout: 60_000 });
  // runc leaves a container whose init failed in its state dir only if asked to; delete it quietly either way.
  run([binary(rt), '--root', stateRoot(rt), 'delete', '-f', id]);
  return r;
}

/** What a victim directory holds (recursively), to show in a failure. */
function contents(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).sort() : ['(the victim itself is gone)'];
}

/** The msg of a logrus error line, or the last stderr line. */
function errorOf(stderr: string): string {
  const m = /level=error msg=("(?:[^"\\]|\\.)*")/.exec(stderr);
  return m ? JSON.parse(m[1]!) : (stderr.trim().split('\n').pop() ?? '');
}

/** Cgroup directories named `id` below this test's own cgroups. */
function cgroupsNamed(id: string): string[] {
  const found: string[] = [];
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
    const [, controllers = '', path = ''] = line.split(':');
    const name = controllers === '' ? 'unified' : controllers.replace(/^name=/, '');
    for (const top of [join('/sys/fs/cgroup', name), ...(controllers === '' ? ['/sys/fs/cgroup'] : [])]) {
      const dir = join(top, path, id);
      if (existsSync(dir)) found.push(dir);
    }
  }
  return found;
}

/** A refused create: one error line, non-zero exit, no state directory, no cgroup. */
function refusedCleanly(t: Test, rt: Runtime, r: ReturnType<typeof run>, id: string, why: RegExp): void {
  t.not(r.code, 0, `${rt}: non-zero exit`);
  t.match(errorOf(r.stderr), why, `${rt}: the error says why`);
  if (rt !== 'ts-runc') return;
  t.equal(r.stderr.trim().split('\n').length, 1, `${rt}: one line (${r.stderr.trim()})`);
  t.notOk(existsSync(join(stateRoot(rt), id)), `${rt}: no state directory left`);
  t.same(cgroupsNamed(id), [], `${rt}: no cgroup left`);
}

const tmpfsAt = (destination: string) => ({
  destination,
  type: 'tmpfs',
  source: 'tmpfs',
  options: ['nosuid', 'nodev'],
});
const bindAt = (destination: string) => ({ destination, type: 'bind', source: payload, options: ['bind', 'ro'] });

for (const kind of ['absolute', 'relative'] as const) {
  t.test(
    `a mount destination through a symlink to the host (${kind}): nothing outside, the mounts land inside`,
    async (t) => {
      const outcomes: Record<string, { code: number | null; out: string }> = {};
      for (const rt of RUNTIMES) {
        // rootfs/link -> the victim: by its host path, or ../../victim-N (which from the host's view is the victim too).
        const c = makeCase(
          rt,
          (c) =>
            symlinkSync(kind === 'absolute' ? c.victim : `../../${c.victim.split('/').pop()}`, join(c.rootfs, 'link')),
          (config) => {
            config.mounts.push(tmpfsAt('/link/sub'), bindAt('/link/file'));
            config.process.args = [
              'sh',
              '-c',
              'cat /link/file; grep -c " /link/sub \\| $(readlink -f /link)/sub " /proc/self/mountinfo',
            ];
          },
        );
        const r = runIn(rt, c, `paths-${kind}-${rt}`);
        outcomes[rt] = { code: r.code, out: r.stdout };
        t.same(contents(c.victim), [], `${rt}: nothing created outside the rootfs`);
        if (r.code === 0)
          t.equal(
            r.stdout,
            'PAYLOAD\n1\n',
            `${rt}: the bind mount and the tmpfs are inside, where the symlink leads in the rootfs`,
          );
        else t.comment(`${rt} refused: ${errorOf(r.stderr)}`);
      }
      t.equal(
        outcomes['ts-runc']?.code === 0,
        outcomes.runc?.code === 0,
        'ts-runc mounts where runc mounts, and refuses where it refuses',
      );
      t.equal(outcomes['ts-runc']?.out, outcomes.runc?.out, 'the same output as with runc');
    },
  );
}

t.test('/proc as a symlink in the rootfs is refused', async (t) => {
  for (const rt of RUNTIMES) {
    const c = makeCase(
      rt,
      (c) => {
        rmSync(join(c.rootfs, 'proc'), { recursive: true });
        symlinkSync(c.victim, join(c.rootfs, 'proc'));
      },
      (config) => (config.process.args = ['true']),
    );
    const id = `paths-proc-${rt}`;
    const r = runIn(rt, c, id);
    refusedCleanly(t, rt, r, id, /filesystem "proc" must be mounted on ordinary directory/);
    t.same(contents(c.victim), [], `${rt}: nothing mounted or created in the symlink's target`);
  }
});

t.test('a mount inside /proc is refused, as runc refuses it', async (t) => {
  for (const rt of RUNTIMES) {
    const c = makeCase(
      rt,
      () => {},
      (config) => {
        config.mounts.push(bindAt('/proc/version'));
        config.process.args = ['true'];
      },
    );
    const id = `paths-inproc-${rt}`;
    refusedCleanly(t, rt, runIn(rt, c, id), id, /cannot be mounted because it is inside \/proc/);
  }
});

t.test('maskedPaths with a /dev/null that is a symlink, or a plain file: still masked, or refused', async (t) => {
  for (const fake of ['symlink', 'file'] as const)
    for (const rt of RUNTIMES) {
      // No /dev mount: /dev/null is what the image made it.
      const c = makeCase(
        rt,
        (c) => {
          writeFileSync(join(c.rootfs, 'etc/secret'), 'SECRET\n');
          writeFileSync(join(c.rootfs, 'etc/masked'), 'MASKED-CONTENT\n');
          rmSync(join(c.rootfs, 'dev/null'), { force: true });
          if (fake === 'symlink') symlinkSync('/etc/secret', join(c.rootfs, 'dev/null'));
          else writeFileSync(join(c.rootfs, 'dev/null'), 'FAKE-NULL\n');
        },
        (config) => {
          config.mounts = config.mounts.filter((m: any) => !m.destination.startsWith('/dev'));
          config.root.readonly = false; // without a /dev mount runc 1.1.5's read-only remount of / fails here (EBUSY) before the masks can be seen
          config.linux.maskedPaths.push('/etc/masked');
          config.process.args = ['sh', '-c', 'cat /etc/masked; echo end'];
        },
      );
      const r = runIn(rt, c, `paths-null-${fake}-${rt}`);
      const masked = r.code === 0 && r.stdout === 'end\n';
      if (rt === 'ts-runc')
        t.ok(
          masked || r.code !== 0,
          `${rt} (${fake}): the masked file reads empty, or the create is refused (${errorOf(r.stderr) || JSON.stringify(r.stdout)})`,
        );
      // runc 1.1.5 binds whatever /dev/null is, and reopens fds 0-2 onto it when their st_rdev equals its (0 for a pipe
      // and for a plain file): its output can vanish into the fake, so this only reports what runc printed.
      else
        t.comment(
          `runc (${fake}): exit ${r.code}, stdout ${JSON.stringify(r.stdout)} (masked would be "end\\n")${r.code ? `: ${errorOf(r.stderr)}` : ''}`,
        );
      if (rt === 'ts-runc' && r.code !== 0) refusedCleanly(t, rt, r, `paths-null-${fake}-${rt}`, /\/dev\/null/);
    }
});

t.test('a device node whose path goes through a symlink to the host', async (t) => {
  const outs: Record<string, string> = {};
  for (const rt of RUNTIMES) {
    const c = makeCase(
      rt,
      (c) => symlinkSync(c.victim, join(c.rootfs, 'devlink')),
      (config) => {
        config.linux.devices = [
          { path: '/devlink/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
        ];
        config.process.args = [
          'sh',
          '-c',
          'ls -l /devlink/zero | cut -c1; ls -lL /devlink/zero | tr -s " " | cut -d" " -f5,6',
        ];
      },
    );
    const r = runIn(rt, c, `paths-dev-${rt}`);
    outs[rt] = `${r.code} ${r.stdout}`;
    t.same(contents(c.victim), [], `${rt}: no device node outside the rootfs`);
  }
  t.equal(
    outs['ts-runc'],
    outs.runc,
    'the node is where runc makes it (inside, where the symlink leads in the rootfs)',
  );
  t.match(outs['ts-runc'], /^0 c\n1, 5\n$/, 'a character device 1:5');
});

t.test('process.cwd through a symlink to the host', async (t) => {
  const outs: Record<string, string> = {};
  for (const rt of RUNTIMES) {
    const c = makeCase(
      rt,
      (c) => symlinkSync(c.victim, join(c.rootfs, 'work')),
      (config) => {
        config.process.cwd = '/work/sub';
        config.process.args = ['sh', '-c', 'echo here > f; cat /work/sub/f'];
      },
    );
    const r = runIn(rt, c, `paths-cwd-${rt}`);
    outs[rt] = `${r.code} ${r.stdout}`;
    t.same(contents(c.victim), [], `${rt}: the working directory is not made or used outside the rootfs`);
  }
  t.equal(outs['ts-runc'], outs.runc, 'the same as runc: made inside, where the symlink leads in the rootfs');
});

t.test('a directory swapped for a symlink to the host while containers are created', async (t) => {
  const runs = 12;
  for (const rt of RUNTIMES) {
    const c = makeCase(
      rt,
      (c) => {
        mkdirSync(join(c.rootfs, 'race'));
        symlinkSync(c.victim, join(c.rootfs, 'race.link'));
      },
      (config) => {
        config.mounts.push(tmpfsAt('/race/a/b'), bindAt('/race/c/file'));
        config.linux.devices = [
          { path: '/race/d/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
        ];
        config.process.cwd = '/race/e';
        config.process.args = ['true'];
      },
    );
    // Swap rootfs/race between the directory and the symlink as fast as mv goes.
    const swapper = spawn(
      'sh',
      [
        '-c',
        'cd "$1" && while :; do mv -T race race.dir; mv -T race.link race; mv -T race race.link; mv -T race.dir race; done 2>/dev/null',
        'swap',
        c.rootfs,
      ],
      { stdio: 'ignore', env: cleanEnv() },
    );
    let ok = 0;
    try {
      for (let i = 0; i < runs; i++) if (runIn(rt, c, `paths-race-${rt}-${i}`).code === 0) ok++;
    } finally {
      swapper.kill('SIGKILL');
      await new Promise((resolve) => swapper.once('exit', resolve));
    }
    const outside = contents(c.victim);
    if (rt === 'ts-runc')
      t.same(outside, [], `${rt}: nothing outside the rootfs after ${runs} creates (${ok} started, the rest refused)`);
    else t.comment(`runc: ${ok} of ${runs} started; outside the rootfs: ${JSON.stringify(outside)}`);
  }
});

t.test('no container left in either state root', async (t) => {
  for (const rt of RUNTIMES)
    t.same(existsSync(stateRoot(rt)) ? readdirSync(stateRoot(rt)) : [], [], `${rt}: state root empty`);
});

registerLeftoverCheck(t, before);
