// createContainer against a fake cgroup manager and a fake launcher (the
// Runtime's seams): no root, no clone, no cgroup. What is real: the bundle,
// the state directory and state.json (files in a temporary directory). The
// fakes are named so: FakeCgroupManager records what the runtime asks of
// the cgroup layer, fakeLauncher records the init's calls and plays the
// init's "ready" step with a pid no process has.
process.env.NSLAB_NO_OPENAT2 = '1'; // the same calls on every kernel (init-calls.test.ts)
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { createContainer } = await import('../../src/runtime/container.js');
const { DEVICES_NOT_APPLIED } = await import('../../src/runtime/cgroups.js');
const { ResourceUnsupportedError } = await import('../../src/cgroup/errors.js');
const { CLONE } = await import('../../src/syscalls/constants.js');
type Runtime = import('../../src/runtime/container.js').Runtime;
type Cgroup = import('../../src/cgroup/manager.js').Cgroup;
type CgroupManager = import('../../src/cgroup/manager.js').CgroupManager;
type CreateOptions = import('../../src/cgroup/manager.js').CreateOptions;
type CgroupDir = import('../../src/cgroup/hierarchy.js').CgroupDir;
type Call = import('../../src/syscalls/call.js').Call;
type PlanOptions = import('../../src/syscalls/plan.js').PlanOptions;

const work = mkdtempSync(join(tmpdir(), 'nslab-unit-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

/** A pid that no process has (above pid_max's largest value). */
const NO_SUCH_PID = 4194305;

/** Records what the runtime asks of the cgroup layer; its one directory is a plain directory standing for a v1 cgroup. */
class FakeCgroup implements Cgroup {
  readonly notes: string[] = [];
  readonly calls: string[] = [];
  constructor(
    readonly path: string,
    readonly dirs: CgroupDir[],
    private readonly devices: boolean,
    private readonly failExtras = false,
  ) {}
  private unused(name: string): never {
    throw new Error(`FakeCgroup.${name}: not used by createContainer`);
  }
  canApplyDevices() {
    return this.devices;
  }
  applyDevices(rules: readonly unknown[], always: readonly string[]) {
    this.calls.push(`applyDevices(${rules.length} rules, ${always.length} always)`);
  }
  applyExtras(extras: Record<string, unknown>) {
    const set = Object.entries(extras).filter(([, v]) => v !== undefined);
    this.calls.push(`applyExtras(${set.map(([k, v]) => `${k}=${v}`).join(', ')})`);
    if (this.failExtras) throw new ResourceUnsupportedError('memory.swappiness', 'memory', 'memory.swappiness');
  }
  freezerDir() {
    return this.dirs[0];
  }
  delete(opts?: object) {
    this.calls.push(`delete(${JSON.stringify(opts)})`);
  }
  setLimits(): string[] {
    return this.unused('setLimits');
  }
  applyResources(): string[] {
    return this.unused('applyResources');
  }
  addProcess(): void {
    this.unused('addProcess');
  }
  processes(): number[] {
    return this.unused('processes');
  }
  allProcesses(): number[] {
    return this.unused('allProcesses');
  }
  children(): string[] {
    return this.unused('children');
  }
  stats(): never {
    return this.unused('stats');
  }
  watchOom(): never {
    return this.unused('watchOom');
  }
  oomKills(): never {
    return this.unused('oomKills');
  }
  memoryDir(): never {
    return this.unused('memoryDir');
  }
  freezerState(): never {
    return this.unused('freezerState');
  }
  freezeKind(): never {
    return this.unused('freezeKind');
  }
  freeze(): void {
    this.unused('freeze');
  }
  thaw(): void {
    this.unused('thaw');
  }
  kill(): void {
    this.unused('kill');
  }
  fileDir(): never {
    return this.unused('fileDir');
  }
  runcStats(): never {
    return this.unused('runcStats');
  }
}

class FakeCgroupManager implements CgroupManager {
  // No hierarchies: no controllers to ask for, and no grace period to start.
  readonly layout = { mode: 'v1' as const, hierarchies: [] };
  created: Array<{ path: string; opts: CreateOptions; cgroup: FakeCgroup }> = [];
  constructor(private readonly opts: { devices?: boolean; failExtras?: boolean } = {}) {}
  create(path: string, opts: CreateOptions = {}): Cgroup {
    const dir = mkdtempSync(join(work, 'cgroup-'));
    const hierarchy = { version: 1 as const, mountPoint: work, mountRoot: '/', controllers: ['freezer'], own: '/' };
    const cgroup = new FakeCgroup(path, [{ hierarchy, path, dir }], this.opts.devices ?? true, this.opts.failExtras);
    this.created.push({ path, opts, cgroup });
    return cgroup;
  }
  open(): Cgroup {
    throw new Error('FakeCgroupManager.open: not used by createContainer');
  }
}

interface Launch {
  calls: readonly Call[];
  opts: PlanOptions;
}

/** Records the init's calls; plays the clone (afterClone) and the ready step (the getpid whose after() records the state). */
function fakeLauncher(launches: Launch[], fail?: Error) {
  return (calls: readonly Call[], opts: PlanOptions) => {
    launches.push({ calls, opts });
    if (fail) throw fail;
    opts.afterClone?.(NO_SUCH_PID);
    for (const c of calls) c.after?.(NO_SUCH_PID);
    return { pid: NO_SUCH_PID };
  };
}

let bundles = 0;
function bundle(change: (c: any) => void = () => undefined): string {
  const dir = join(work, `bundle-${bundles++}`);
  mkdirSync(join(dir, 'rootfs'), { recursive: true });
  const config: any = {
    ociVersion: '1.0.2',
    root: { path: 'rootfs' },
    // No CAP_SYS_PTRACE: the runtime does not re-exec itself from a sealed copy (container.ts, mayPtraceRuntime).
    process: { args: ['/bin/true'], cwd: '/', capabilities: { bounding: ['CAP_KILL'], effective: [], permitted: [] } },
    hostname: 'box',
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'network' }],
      resources: { pids: { limit: 10 }, memory: { swappiness: 0 }, devices: [{ allow: false, access: 'rwm' }] },
    },
  };
  change(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

function runtime(cgroups: CgroupManager, launches: Launch[], fail?: Error): Runtime & { warnings: string[] } {
  const root = mkdtempSync(join(work, 'root-'));
  const warnings: string[] = [];
  return { root, cgroups, launch: fakeLauncher(launches, fail), warn: (m) => warnings.push(m), warnings };
}

t.test(
  'create: the cgroup asked of the manager, the init launched with the namespaces of the config, the state recorded at ready',
  async (t) => {
    const manager = new FakeCgroupManager();
    const launches: Launch[] = [];
    const rt = runtime(manager, launches);
    const created = createContainer(rt, { id: 'c1', bundle: bundle(), noPivot: false, detached: true });

    t.equal(manager.created.length, 1, 'one cgroup made');
    t.equal(manager.created[0].path, 'c1', 'named after the id (no cgroupsPath)');
    t.same(
      manager.created[0].opts,
      { controllers: [], limits: { pids: 10 } },
      'pids through Limits (the layout offers no controllers)',
    );
    t.same(
      manager.created[0].cgroup.calls,
      ['applyDevices(1 rules, 12 always)', 'applyExtras(memory.swappiness=0)'],
      "device rules with runc's defaults, then the extras",
    );

    t.equal(launches.length, 1, 'launched once');
    const { calls, opts } = launches[0];
    t.equal(
      opts.cloneFlags,
      CLONE.CLONE_NEWPID | CLONE.CLONE_NEWNS | CLONE.CLONE_NEWUTS | CLONE.CLONE_NEWNET,
      'the new namespaces are clone flags',
    );
    t.equal(opts.barrier, undefined, 'run: no exec fifo');
    const shows = calls.map((c) => c.show);
    const ready = shows.indexOf('getpid() /* ready */');
    t.ok(ready > 0, 'a ready step');
    t.match(shows[ready + 1], /^execve\("\/bin\/true"/, 'right before exec');
    t.ok(shows.includes('sethostname("box")'), 'the hostname');

    const state = JSON.parse(readFileSync(join(rt.root, 'c1', 'state.json'), 'utf8'));
    t.equal(state.pid, NO_SUCH_PID, 'state.json has the init');
    t.same(state.cgroups, [manager.created[0].cgroup.dirs[0].dir], 'and its cgroup directories');
    t.same(
      state.freezer,
      { dir: manager.created[0].cgroup.dirs[0].dir, version: 1 },
      'and the freezer the manager named',
    );
    t.same(
      state.namespacePaths,
      {
        pid: `/proc/${NO_SUCH_PID}/ns/pid`,
        mount: `/proc/${NO_SUCH_PID}/ns/mnt`,
        uts: `/proc/${NO_SUCH_PID}/ns/uts`,
        network: `/proc/${NO_SUCH_PID}/ns/net`,
      },
      'namespace files by type',
    );
    t.equal(
      readFileSync(join(manager.created[0].cgroup.dirs[0].dir, 'cgroup.procs'), 'utf8'),
      String(NO_SUCH_PID),
      'the init moved into its cgroup at ready',
    );
    t.equal(created.pid, NO_SUCH_PID, 'returns the pid');
    t.same(rt.warnings, [], 'no warning');
  },
);

t.test('create with a barrier: the init waits at the exec fifo', async (t) => {
  const launches: Launch[] = [];
  const rt = runtime(new FakeCgroupManager(), launches);
  // mkfifo(3) in the state directory: a file, not a kernel object that outlives the test.
  createContainer(rt, { id: 'c2', bundle: bundle(), noPivot: false, detached: true, barrier: true });
  t.same(
    launches[0].opts.barrier,
    { fifo: join(rt.root, 'c2', 'exec.fifo'), tool: 'ts-runc' },
    'the fifo in the state directory',
  );
  t.ok(existsSync(join(rt.root, 'c2', 'exec.fifo')), 'made');
});

t.test('undo on failure: a launch that fails leaves no state directory, and the cgroup is deleted', async (t) => {
  const manager = new FakeCgroupManager();
  const rt = runtime(manager, [], new Error('clone failed'));
  t.throws(() => createContainer(rt, { id: 'c3', bundle: bundle(), noPivot: false, detached: true }), {
    message: 'clone failed',
  });
  t.notOk(existsSync(join(rt.root, 'c3')), 'no state directory');
  t.same(manager.created[0].cgroup.calls.at(-1), 'delete({"kill":true,"recursive":true})', 'the cgroup deleted');
});

t.test('a resource no hierarchy has a file for is refused by name, and the cgroup deleted', async (t) => {
  const manager = new FakeCgroupManager({ failExtras: true });
  const launches: Launch[] = [];
  const rt = runtime(manager, launches);
  t.throws(() => createContainer(rt, { id: 'c4', bundle: bundle(), noPivot: false, detached: true }), {
    field: 'linux.resources.memory.swappiness',
    message:
      "linux.resources.memory.swappiness: setting it on this host's cgroups (no memory memory.swappiness) is not supported by this runtime",
  });
  t.equal(launches.length, 0, 'nothing launched');
  t.match(
    manager.created[0].cgroup.calls,
    ['applyDevices(1 rules, 12 always)', /^applyExtras/, 'delete({"kill":true})'],
    'deleted',
  );
  t.notOk(existsSync(join(rt.root, 'c4')), 'no state directory');
});

t.test('device rules where no hierarchy applies them (cgroup v2): said by name, not applied', async (t) => {
  const manager = new FakeCgroupManager({ devices: false });
  const rt = runtime(manager, []);
  createContainer(rt, { id: 'c5', bundle: bundle(), noPivot: false, detached: true });
  t.same(rt.warnings, [DEVICES_NOT_APPLIED], 'a warning naming linux.resources.devices');
  t.notOk(
    manager.created[0].cgroup.calls.some((c) => c.startsWith('applyDevices')),
    'not applied',
  );
});

t.test('an id already taken is refused before anything is made', async (t) => {
  const manager = new FakeCgroupManager();
  const launches: Launch[] = [];
  const rt = runtime(manager, launches);
  createContainer(rt, { id: 'c6', bundle: bundle(), noPivot: false, detached: true });
  t.throws(() => createContainer(rt, { id: 'c6', bundle: bundle(), noPivot: false, detached: true }), {
    message: 'container with given ID already exists',
  });
  t.equal(manager.created.length, 1, 'no second cgroup');
  t.equal(launches.length, 1, 'no second launch');
});
