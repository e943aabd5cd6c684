// The cgroup layer's interface (src/cgroup/manager.ts), called directly on
// the real kernel the way the runtime calls it: create, applyResources,
// addProcess, processes, stats, freeze/thaw, kill with a signal, and the
// domain errors of delete. It works on whichever version this host has; the
// cgroup is named nslab-test-<pid>-api, below this process's own cgroup, and
// the last test proves it is gone.
import t from 'tap';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot } from '../helpers/tools.js';
import { detectCgroups } from '../../src/cgroup/hierarchy.js';
import { cgroupManager } from '../../src/cgroup/manager.js';
import { CgroupBusyError } from '../../src/cgroup/errors.js';
import { waitFor } from '../helpers/wait.js';

const NAME = `nslab-test-${process.pid}-api`;
const layout = detectCgroups();
const v2 = layout.hierarchies.find((h) => h.version === 2);
const pidsV1 = layout.hierarchies.find((h) => h.version === 1 && h.controllers.includes('pids'));
// On v2 a controller below our own cgroup needs it to be the root (no internal processes).
const pidsOk = !!pidsV1 || (!!v2 && v2.controllers.includes('pids') && v2.own === '/');
const freezable = layout.hierarchies.some((h) => h.version === 1 && h.controllers.includes('freezer')) || !!v2;
const skip = !isRoot()
  ? 'needs root (CI runs as root)'
  : !freezable
    ? 'no v1 freezer and no cgroup v2 hierarchy here'
    : false;

const started: ChildProcess[] = [];
function sleeper(): { child: ChildProcess; exited: Promise<NodeJS.Signals | null> } {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  started.push(child);
  return { child, exited: new Promise((res) => child.on('exit', (_c, s) => res(s))) };
}

t.teardown(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

t.test('create, applyResources, addProcess, stats, freeze/thaw, kill(SIGTERM), delete', { skip }, async (t) => {
  const m = cgroupManager(layout);
  // pids when this host can give it below us; a freezer either way.
  const controllers = layout.hierarchies.some((h) => h.version === 1 && h.controllers.includes('freezer'))
    ? ['freezer']
    : [];
  const cg = m.create(NAME, { controllers });
  t.teardown(() => {
    if (cg.dirs.some((d) => existsSync(d.dir))) cg.delete({ kill: true, recursive: true });
  });
  t.ok(
    cg.dirs.length >= 1 && cg.dirs.every((d) => existsSync(d.dir)),
    `made in ${cg.dirs.map((d) => d.dir).join(', ')}`,
  );
  if (pidsOk) {
    // v1: not in the pids hierarchy yet. (On v2 the parent may hand pids down already.)
    if (pidsV1) t.equal(cg.stats().pids, undefined, 'made without the pids controller');
    cg.setLimits({ pids: 20 });
    t.equal(
      cg.stats().pids?.max,
      20,
      `setLimits gave it pids, pids.max 20 (${pidsV1 ? 'v1: made in the pids hierarchy' : 'v2: enabled in our subtree_control'})`,
    );
    cg.applyResources({ pids: { limit: 30 }, devices: [] });
    const dir = cg.fileDir('pids.max').dir;
    t.equal(readFileSync(join(dir, 'pids.max'), 'utf8').trim(), '30', 'an OCI pids.limit is written to pids.max');
  }

  const s = sleeper();
  cg.addProcess(s.child.pid!);
  t.same(cg.processes(), [s.child.pid], 'the process is in it');
  t.same(m.open(NAME).processes(), [s.child.pid], 'and open() finds it again');

  cg.freeze();
  t.equal(cg.freezerState(), 'FROZEN', `frozen (${cg.freezeKind()})`);
  t.match(readFileSync(`/proc/${s.child.pid}/status`, 'utf8'), /^State:\s+[SD]/m, 'a frozen task sleeps in the kernel');
  cg.thaw();
  t.equal(cg.freezerState(), 'THAWED');

  t.throws(
    () => cg.delete(),
    new CgroupBusyError(NAME, cg.dirs[0]!.dir, [], [s.child.pid!]),
    'delete of a cgroup with a process: the error carries the process',
  );
  cg.kill('SIGTERM');
  t.equal(await s.exited, 'SIGTERM', 'kill(SIGTERM) reached the process');
  await waitFor(() => cg.processes().length === 0, { timeoutMs: 2_000, intervalMs: 10 });
  cg.delete();
  t.ok(
    cg.dirs.every((d) => !existsSync(d.dir)),
    'delete removed it from every hierarchy',
  );
});

t.test('nothing is left', async (t) => {
  for (const h of layout.hierarchies)
    t.notOk(existsSync(join(h.mountPoint, h.own, NAME)), `no ${NAME} in ${h.mountPoint}`);
  for (const c of started) if (c.exitCode === null && c.signalCode === null) await new Promise((r) => c.on('exit', r));
});
