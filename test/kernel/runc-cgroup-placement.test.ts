// Where ts-runc puts a container's cgroup when config.json has no
// cgroupsPath, or a relative one: where runc 1.1's cgroupfs driver does.
// The rule on every layout (fake layouts, no kernel needed), then both
// runtimes side by side on this host, comparing /proc/PID/cgroup.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { join, posix } from 'node:path';
import { CgroupLayout, detectCgroups, unifiedHierarchy } from '../../src/cgroup/hierarchy.js';
import { cgroupSpec, runcLayout } from '../../src/runtime/cgroups.js';
import { cleanEnv, isRoot, ROOT, run, tool } from '../helpers/tools.js';

const v2 = (own: string): CgroupLayout => ({
  mode: 'v2',
  hierarchies: [{ version: 2, mountPoint: '/sys/fs/cgroup', mountRoot: '/', controllers: ['memory', 'pids'], own }],
});
const hybrid = (own: string): CgroupLayout => ({
  mode: 'hybrid',
  hierarchies: [
    { version: 1, mountPoint: '/sys/fs/cgroup/memory', mountRoot: '/', controllers: ['memory'], own },
    { version: 2, mountPoint: '/sys/fs/cgroup/unified', mountRoot: '/', controllers: [], own },
  ],
});

t.test('the rule, as runc 1.1 has it (specconv, fs/paths.go, fs2/defaultpath.go)', async (t) => {
  const session = '/user.slice/user-1000.slice/session-3.scope';
  t.equal(
    cgroupSpec('web', undefined, v2(session)),
    '/user.slice/user-1000.slice/web',
    'pure v2, no cgroupsPath: the id beside the session scope, not in it',
  );
  t.equal(
    cgroupSpec('web', 'pods/web', v2(session)),
    '/user.slice/user-1000.slice/pods/web',
    'pure v2, relative: below the parent of our cgroup',
  );
  t.equal(cgroupSpec('web', 'web', v2('/')), '/web', 'pure v2 from the root cgroup: below the root');
  t.equal(cgroupSpec('web', '/machine/web', v2(session)), '/machine/web', 'absolute: from the top, on every layout');
  t.equal(
    cgroupSpec('web', undefined, hybrid(session)),
    'web',
    'hybrid (and v1): relative to our own cgroup in each hierarchy',
  );
  t.equal(cgroupSpec('web', '../../web', hybrid(session)), 'web', "'..' cannot climb out (runc's CleanPath)");
  t.equal(cgroupSpec('web', '/a/../../b', v2(session)), '/b', 'nor above the top');
  t.throws(
    () => cgroupSpec('web', 'system.slice:runc:web', v2(session)),
    /systemd/,
    'the systemd driver form is refused by name',
  );
  const h = runcLayout(hybrid(session));
  t.same(
    h.hierarchies.map((x) => x.own),
    [session, '/'],
    'hybrid: a relative path is below our cgroup in v1, from the top of the unified hierarchy (runc\'s GetOwnCgroupPath("") is the hybrid mount point)',
  );
  const pure = v2(session);
  t.equal(runcLayout(pure), pure, 'pure v2: the layout as it is (cgroupSpec takes the parent)');
});

const haveRunc = existsSync('/usr/sbin/runc');
const skip = !isRoot()
  ? 'needs root (CI runs as root)'
  : !haveRunc
    ? 'runc is not installed (apt-get install runc)'
    : false;

t.test('ts-runc and runc put the same container in the same cgroups', { skip, timeout: 120_000 }, async (t) => {
  const layout = detectCgroups();
  const scratch = mkdtempSync('/tmp/nslab-placement-');
  chmodSync(scratch, 0o755);
  const rootfs = join(scratch, 'rootfs');
  const built = run(['node', join(ROOT, 'scripts/make-rootfs.mjs'), '-q', rootfs]);
  if (built.code !== 0) throw new Error(`make-rootfs failed: ${built.stderr}`);
  // On a pure v2 host the runtimes work from the parent of the caller's
  // cgroup: start them from a cgroup of ours below the test's own, so the
  // containers stay inside it (the tests' rule).
  const uni = unifiedHierarchy(layout);
  let wrapDir: string | undefined;
  const tag = `nslab-place-${process.pid}`;
  if (layout.mode === 'v2' && uni) {
    wrapDir = join(uni.mountPoint, posix.relative(uni.mountRoot, uni.own), tag, 'runner');
    mkdirSync(wrapDir, { recursive: true });
  }
  const wrap = (argv: string[]) =>
    wrapDir ? ['sh', '-c', `echo $$ > ${wrapDir}/cgroup.procs && exec "$@"`, 'sh', ...argv] : argv;
  const rel = `${tag}-rel`;
  t.teardown(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  const start = (runtime: string, root: string, id: string, cgroupsPath?: string): string => {
    const b = join(scratch, `b-${id}`);
    mkdirSync(b);
    const spec = spawnSync(tool('runc'), ['spec', '-b', b], { env: cleanEnv() });
    if (spec.status !== 0) throw new Error(String(spec.stderr));
    const c = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
    c.root.path = rootfs;
    c.process.terminal = false;
    c.process.args = ['sleep', '60'];
    if (cgroupsPath) c.linux.cgroupsPath = cgroupsPath;
    writeFileSync(join(b, 'config.json'), JSON.stringify(c));
    const out = openSync(join(scratch, `${id}.out`), 'w');
    const r = spawnSync(
      wrap([runtime, '--root', root, 'run', '-d', '--bundle', b, id])[0]!,
      wrap([runtime, '--root', root, 'run', '-d', '--bundle', b, id]).slice(1),
      { stdio: ['ignore', out, out], env: cleanEnv(), timeout: 30_000 },
    );
    closeSync(out);
    if (r.status !== 0) throw new Error(`${runtime} run -d ${id}: ${readFileSync(join(scratch, `${id}.out`), 'utf8')}`);
    const state = JSON.parse(String(spawnSync(runtime, ['--root', root, 'state', id], { env: cleanEnv() }).stdout));
    return readFileSync(`/proc/${state.pid}/cgroup`, 'utf8');
  };
  const remove = (runtime: string, root: string, id: string) =>
    spawnSync(runtime, ['--root', root, 'delete', '-f', id], { env: cleanEnv() });
  const ours = join(scratch, 'ts-state');
  const theirs = join(scratch, 'runc-state');
  for (const [what, cgroupsPath] of [
    ['no cgroupsPath', undefined],
    ['a relative cgroupsPath', `${rel}/ID`],
  ] as const) {
    const n = cgroupsPath ? 'r' : 'd';
    const tsId = `tsp${n}-${process.pid}`;
    const rcId = `rcp${n}-${process.pid}`;
    let a: string;
    let b: string;
    try {
      a = start(tool('runc'), ours, tsId, cgroupsPath?.replace('ID', tsId));
      b = start('/usr/sbin/runc', theirs, rcId, cgroupsPath?.replace('ID', rcId));
    } finally {
      remove(tool('runc'), ours, tsId);
      remove('/usr/sbin/runc', theirs, rcId);
    }
    // Compared hierarchy by hierarchy (by the controllers the line names):
    // where ts-runc made the container a cgroup, runc made the same one.
    // runc also joins hierarchies ts-runc has no use for (name=systemd):
    // those are listed, not compared.
    const byHierarchy = (text: string, id: string) =>
      new Map(
        text
          .split('\n')
          .filter(Boolean)
          .map((l) => {
            const [, ctl, path] = /^\d+:([^:]*):(.*)$/.exec(l)!;
            return [ctl, path!.replaceAll(id, 'ID')];
          }),
      );
    const mine = byHierarchy(a, tsId);
    const runcs = byHierarchy(b, rcId);
    const joined = [...mine].filter(([, p]) => p.includes('ID'));
    t.ok(joined.length > 0, `${what}: ts-runc made the container cgroups`);
    for (const [ctl, p] of joined) t.equal(p, runcs.get(ctl), `${what}: ${ctl || 'cgroup2'}: ${p}`);
    const onlyRunc = [...runcs]
      .filter(([ctl, p]) => p.includes('ID') && !mine.get(ctl)?.includes('ID'))
      .map(([ctl]) => ctl);
    if (onlyRunc.length) t.comment(`${what}: runc also joins ${onlyRunc.join(', ')}; ts-runc does not`);
  }
  // runc leaves the parents of a relative path; remove ours and theirs (empty), deepest first.
  for (const h of layout.hierarchies) {
    const own = join(h.mountPoint, posix.relative(h.mountRoot, h.own));
    const base = layout.mode === 'v2' && wrapDir ? join(own, tag) : own;
    for (const d of [join(base, rel), ...(wrapDir && h === uni ? [wrapDir, join(own, tag)] : [])]) {
      try {
        rmdirSync(d);
      } catch {
        // not made in this hierarchy
      }
    }
  }
  const left = layout.hierarchies.flatMap((h) =>
    run([
      'find',
      h.mountPoint,
      '-maxdepth',
      '8',
      '-type',
      'd',
      '(',
      '-name',
      `*${tag}*`,
      '-o',
      '-name',
      `*p-${process.pid}`,
      ')',
    ])
      .stdout.split('\n')
      .filter(Boolean),
  );
  t.same(left, [], 'no cgroup left behind');
});
