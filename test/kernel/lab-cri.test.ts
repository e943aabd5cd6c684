// The pod labs (cri-pod-sandbox, cri-containers) under `ts-lab check
// --sandbox`, under CRI-O (where installed) and under containerd, with
// ts-runc (when it is built) and with runc as the runtime: every check passes, and nothing is left on the machine (cgroups,
// links, processes, the playground's files, CNI's and containerd's state
// outside the playground). Also: the labs refuse to run outside the sandbox,
// and say how to get what is missing (crictl, ts-runc).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { directoriesBelow, processesWithEnv } from '../../src/lab/inventory.js';
import { expandBinary, unmet } from '../../src/lab/requirements.js';
import { crictlForTests } from '../helpers/crictl.js';
import { ROOT, children, links, mounts, needRoot, netnsFiles, tool } from '../helpers/tools.js';
import { tsLab } from '../helpers/lab.js';

const LABS = ['cri-pod-sandbox', 'cri-containers'];
const crictl = crictlForTests();
const missing = [
  '/usr/bin/containerd',
  '/usr/bin/ctr',
  '/usr/lib/cni/bridge',
  '/usr/lib/cni/host-local',
  '/usr/lib/cni/loopback',
  '/usr/bin/catatonit',
  '/bin/busybox',
].filter((p) => !existsSync(p));
const machineSkip =
  needRoot() ||
  (missing.length
    ? `missing ${missing.join(', ')}: apt-get install containerd containernetworking-plugins catatonit busybox-static`
    : false) ||
  (crictl.path ? false : crictl.why);
/** The PATH the labs get: the system's, plus where the tests' crictl is. */
const PATH = `${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}${crictl.dir ? `:${crictl.dir}` : ''}`;

const tsRuncBuilt = existsSync(tool('runc')) && existsSync(join(ROOT, 'dist', 'ts-runc.cjs'));
const RUNTIMES: Array<{ name: string; env: NodeJS.ProcessEnv; why?: string }> = [
  // The labs' default: ts-runc from this checkout, no variable set.
  {
    name: 'ts-runc',
    env: {},
    why: tsRuncBuilt
      ? undefined
      : 'ts-runc is not built in this checkout (bin/ts-runc and dist/ts-runc.cjs; npm run build once the runc branch is merged)',
  },
  {
    name: 'runc',
    env: { NSLAB_CRI_RUNTIME: 'runc' },
    why:
      existsSync('/usr/sbin/runc') || existsSync('/usr/bin/runc')
        ? undefined
        : 'runc is not installed (apt-get install runc)',
  },
];

const crioMissing = ['crio', 'pinns', 'conmon', 'skopeo'].filter(
  (p) => spawnSync('sh', ['-c', `command -v ${p}`]).status !== 0,
);
const SERVERS: Array<{ name: string; why?: string; todo?: string }> = [
  {
    name: 'crio',
    // Known failure, issue 21 still open: on the merged main the pod labs
    // under CRI-O fail (lab 17's on-containerd step finds no parent for the
    // pause process; lab 17 is back to its containerd version), lab 18 too.
    todo: 'the pod labs under CRI-O are not yet passing on main (issue 21 open): lab 17 is back to its containerd version, lab 18 fails under CRI-O',
    why: crioMissing.length
      ? `CRI-O is not installed (${crioMissing.join(', ')} missing: scripts/setup-vm.sh, docs/cri.md "Getting CRI-O")`
      : undefined,
  },
  { name: 'containerd' },
];

/**
 * The labs' cgroups go below this test's own (NSLAB_CGROUP_PARENT=.). CRI-O's
 * cgroupfs driver needs the playground's cgroup at one path in every
 * hierarchy: where this test's cgroup differs between v1 hierarchies (a
 * memory cgroup of its own, say), nesting below it everywhere cannot be
 * expressed, and CRI-O's playgrounds go below one absolute path of this
 * test's instead, removed at the end.
 */
const OWN_CGROUP_PATHS = new Set(
  readFileSync('/proc/self/cgroup', 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.slice(l.lastIndexOf(':') + 1)),
);
const CRIO_CGROUP_PARENT = OWN_CGROUP_PATHS.size > 1 ? `/nslab-lab-cri-test-${process.pid}` : '.';
t.teardown(() => {
  if (CRIO_CGROUP_PARENT === '.') return;
  const dirs = spawnSync(
    'find',
    ['/sys/fs/cgroup', '-maxdepth', '3', '-type', 'd', '-name', CRIO_CGROUP_PARENT.slice(1)],
    { encoding: 'utf8' },
  )
    .stdout.trim()
    .split('\n')
    .filter(Boolean);
  for (const d of dirs) spawnSync('rmdir', [d]);
});

/** The pods' cgroup parents the labs name, and the cgroups ts-cri makes for the labs' playgrounds (a hash of the directory, then a random part). */
const OUR_CGROUPS = ['nslab-lab-pod-sandbox', 'nslab-lab-containers'];
// Lab 17 also starts a containerd playground beside its own, in /run/nslab-cri-pod-sandbox-containerd.
const PLAYGROUND_DIRS = [
  ...LABS.map((id) => `/run/nslab-cri-${id.replace(/^cri-/, '')}`),
  '/run/nslab-cri-pod-sandbox-containerd',
];
const PLAYGROUND_CGROUP = new RegExp(
  `^(${PLAYGROUND_DIRS.map((dir) => `nslab-cri-${createHash('sha256').update(dir).digest('hex').slice(0, 8)}`).join('|')})-[0-9a-f]{6}$`,
);

function readFileOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * What the pod labs could leave on the machine, as far as it is theirs (other
 * tests come and go meanwhile): the playgrounds, their cgroups, processes and
 * lab directories, state a containerd or CNI would keep in /var/lib or /opt,
 * links, mounts and netns files.
 */
function machineState(): Record<string, string[]> {
  const list = (dir: string) => {
    const r = spawnSync('find', [dir, '-maxdepth', '3'], { encoding: 'utf8' });
    return r.stdout.trim().split('\n').filter(Boolean).sort();
  };
  return {
    playgrounds: existsSync('/run') ? readdirSync('/run').filter((n) => n.startsWith('nslab-cri-')) : [],
    cgroups: directoriesBelow('/sys/fs/cgroup', 8).filter(
      (d) => OUR_CGROUPS.includes(basename(d)) || PLAYGROUND_CGROUP.test(basename(d)),
    ),
    processes: [
      ...spawnSync('pgrep', ['-af', '[/]run/nslab-cri-(pod-sandbox|containers)'], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n')
        .filter(Boolean),
      // CRI-O's processes, running ones only: one killed a moment ago may be a zombie until its new parent reaps it.
      ...spawnSync('pgrep', ['-x', '(crio|conmon|pinns)'], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n')
        .filter((pid) => pid && !/^\d+ \(.*\) Z/s.test(readFileOr(`/proc/${pid}/stat`)))
        .map((pid) => `${pid} ${readFileOr(`/proc/${pid}/comm`).trim()}`),
      ...[...processesWithEnv('LAB_ID')].filter(([, lab]) => LABS.includes(lab)).map(([pid, lab]) => `${pid} (${lab})`),
    ],
    'cni state': list('/var/lib/cni'),
    'containerd opt': list('/opt/containerd'),
    'lab directories': readdirSync('/tmp').filter((n) => LABS.some((id) => new RegExp(`^nslab-${id}-\\w{6}$`).test(n))),
    links: links(),
    mounts: mounts(),
    'netns files': netnsFiles(),
  };
}

/** What `after` has that `before` had not, by kind (others' playgrounds may come and go meanwhile). */
function added(before: Record<string, string[]>, after: Record<string, string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [kind, items] of Object.entries(after)) {
    const extra = items.filter((x) => !before[kind]?.includes(x));
    if (extra.length) out[kind] = extra;
  }
  return out;
}

interface JsonCheck {
  that: string;
  outcome: string;
  why?: string;
}
interface JsonLab {
  id: string;
  outcome: string;
  skipReason?: string;
  steps: Array<{ id: string; outcome: string; checks: JsonCheck[]; error?: string }>;
  leftovers: string[];
  cleanupProblems: string[];
}

t.test('the requirements: sandbox only, the runtime the student chose', async (t) => {
  t.equal(expandBinary('${NSLAB_CRI_RUNTIME:-ts-runc}', {}), 'ts-runc', 'the default when the variable is unset');
  t.equal(
    expandBinary('${NSLAB_CRI_RUNTIME:-ts-runc}', { NSLAB_CRI_RUNTIME: 'runc' }),
    'runc',
    'the variable when set',
  );
  t.equal(expandBinary('$X', { X: '/usr/sbin/runc' }), '/usr/sbin/runc');
  t.equal(expandBinary('crictl', {}), 'crictl', 'a plain name stays');
  // This test process is not in a sandbox: a sandbox-only lab is skipped, and says how to run it.
  t.match(unmet({ sandbox: true }, '/usr/bin'), /runs only in the sandbox.*--sandbox/);
  t.match(
    unmet({ binaries: ['/nonexistent/runtime'] }, '/usr/bin'),
    /needs \/nonexistent\/runtime, which is not an executable file/,
  );
  t.match(
    unmet({ binaries: ['crictl'] }, '/nonexistent'),
    /needs crictl, which is not on PATH: .*docs\/cri\.md, "Getting crictl"/,
  );
});

t.test(
  'outside the sandbox the pod labs are skipped with the way to run them, and start nothing',
  { skip: needRoot() },
  async (t) => {
    const before = machineState();
    const r = tsLab(['check', '--no-sandbox', ...LABS], { extraEnv: { PATH, NSLAB_CRI_RUNTIME: 'runc' } });
    t.equal(r.code, 2, 'skips only: exit 2');
    for (const lab of LABS)
      t.match(
        r.stdout,
        new RegExp(`result ${lab} skip \\(runs only in the sandbox.*add --sandbox`),
        `${lab}: skipped, with how to run it`,
      );
    t.same(added(before, machineState()), {}, 'no playground, cgroup, process or link was made');
  },
);

t.test('without crictl the labs are skipped with the fix', { skip: needRoot() }, async (t) => {
  const bare = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .filter((d) => d && !existsSync(join(d, 'crictl')))
    .join(':');
  const r = tsLab(['check', '--sandbox', '--json', ...LABS], { extraEnv: { PATH: bare, NSLAB_CRI_RUNTIME: 'runc' } });
  t.equal(r.code, 2, r.stderr);
  const labs: JsonLab[] = JSON.parse(r.stdout).labs;
  for (const lab of labs)
    t.match(
      lab.skipReason,
      /needs crictl, which is not on PATH: sudo bash scripts\/setup-vm\.sh installs cri-tools v1\.32\.0 .*docs\/cri\.md, "Getting crictl"/,
      `${lab.id}: the reason and the fix`,
    );
});

t.test(
  'with NSLAB_CRI_RUNTIME naming a missing program the labs are skipped, naming the variable',
  { skip: needRoot() },
  async (t) => {
    const r = tsLab(['check', '--sandbox', '--json', ...LABS], {
      extraEnv: { PATH, NSLAB_CRI_RUNTIME: '/nonexistent/runtime' },
    });
    t.equal(r.code, 2, r.stderr);
    for (const lab of JSON.parse(r.stdout).labs as JsonLab[])
      t.match(
        lab.skipReason,
        /needs \/nonexistent\/runtime, which is not an executable file; or choose another program with NSLAB_CRI_RUNTIME=/,
      );
  },
);

if (!tsRuncBuilt)
  t.test(
    'without ts-runc built, the default runtime is skipped with the fix',
    { skip: needRoot() || (crictl.path ? false : crictl.why) },
    async (t) => {
      const r = tsLab(['check', '--sandbox', '--json', ...LABS], { extraEnv: { PATH } });
      t.equal(r.code, 2, r.stderr);
      for (const lab of JSON.parse(r.stdout).labs as JsonLab[])
        t.match(lab.skipReason, /needs ts-runc, .*npm run build.*NSLAB_CRI_RUNTIME=/);
    },
  );

for (const [server, runtime] of SERVERS.flatMap((s) => RUNTIMES.map((r) => [s, r] as const))) {
  t.test(
    `ts-lab check --sandbox ${LABS.join(' ')} under ${server.name} with ${runtime.name} passes and leaves nothing`,
    { skip: machineSkip || server.why || runtime.why || false, todo: server.todo ?? false, timeout: 900_000 },
    async (t) => {
      const before = machineState();
      const r = tsLab(['check', '--sandbox', '--json', ...LABS], {
        extraEnv: {
          PATH,
          NSLAB_CRI_SERVER: server.name,
          ...(server.name === 'crio' ? { NSLAB_CGROUP_PARENT: CRIO_CGROUP_PARENT } : {}),
          ...runtime.env,
        },
        timeout: 900_000,
      });
      const report = JSON.parse(r.stdout || '{"labs": []}');
      t.equal(report.sandboxed, true, 'the run says it was sandboxed');
      const labs: JsonLab[] = report.labs;
      t.same(
        labs.map((l) => l.id),
        LABS,
        'both labs ran',
      );
      for (const lab of labs) {
        const failed = lab.steps.flatMap((s) => [
          ...(s.error ? [`${s.id}: ${s.error}`] : []),
          ...s.checks
            .filter((c) => c.outcome !== 'pass')
            .map((c) => `${s.id}: ${c.that}: ${c.outcome}: ${c.why ?? ''}`),
        ]);
        t.equal(lab.outcome, 'pass', `${lab.id} passes${lab.skipReason ? ` (skipped: ${lab.skipReason})` : ''}`);
        t.same(failed, [], `${lab.id}: every check passed`);
        t.ok(
          lab.steps.reduce((n, s) => n + s.checks.length, 0) >= 30,
          `${lab.id}: it checked (${lab.steps.reduce((n, s) => n + s.checks.length, 0)} checks)`,
        );
        t.same(lab.leftovers, [], `${lab.id}: the runner saw nothing left`);
        t.same(lab.cleanupProblems, [], `${lab.id}: its cleanup had nothing to complain about`);
      }
      t.equal(r.code, 0, `exit 0 ${r.stderr}`);
      t.same(
        added(before, machineState()),
        {},
        'no playground directory, cgroup, process, lab directory, CNI or containerd state, link, mount or netns file left on the machine',
      );
    },
  );
}

t.test('the file leaves no child process', async (t) => {
  t.same(children(), []);
});
