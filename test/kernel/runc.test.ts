// ts-runc on the real kernel: spec against runc's, config errors naming the
// field, ids, run in the foreground (namespaces, mounts, pivot_root, devices,
// masked and read-only paths, hostname, capabilities, rlimits, user, exit
// status), run -d with state, list, ps, pause, resume, kill and delete, the
// --log json lines, and nothing left behind.
import t from 'tap';
import { cgroup2Unified } from '../../src/cgroup/hierarchy.js';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { TmuxSession } from '../helpers/pty.js';
import { cleanEnv, inventory, isRoot, registerLeftoverCheck, ROOT, run, runTool, tool } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

const rootOnly = { skip: isRoot() ? false : 'needs root (CI runs as root)' };
const haveRunc = run(['sh', '-c', 'command -v runc']).code === 0;
const before = inventory();

const scratch = mkdtempSync('/tmp/nslab-runc-test-');
chmodSync(scratch, 0o755);
const stateRoot = join(scratch, 'state');
const rootfs = join(scratch, 'rootfs');
const built = run(['node', join(ROOT, 'scripts/make-rootfs.mjs'), '-q', rootfs]);
if (built.code !== 0) throw new Error(`make-rootfs failed: ${built.stderr}`);

let made: string[] = [];
t.teardown(() => {
  for (const id of made) runc(['delete', '-f', id]);
  rmSync(scratch, { recursive: true, force: true });
});

function runc(args: string[], opts: { input?: string; cwd?: string } = {}) {
  const r = runTool('runc', ['--root', stateRoot, ...args], { ...opts, timeout: 30_000 });
  return { ...r, error: errorOf(r.stderr) };
}

/**
 * A command whose container outlives it (run -d): the container inherits
 * fds 0-2, so they are files, not the pipes spawnSync would wait on.
 */
function runcDetached(args: string[]) {
  const outFile = join(scratch, 'detached.out');
  const errFile = join(scratch, 'detached.err');
  const o = openSync(outFile, 'w');
  const e = openSync(errFile, 'w');
  const r = spawnSync(tool('runc'), ['--root', stateRoot, ...args], {
    stdio: ['ignore', o, e],
    env: cleanEnv(),
    timeout: 30_000,
  });
  closeSync(o);
  closeSync(e);
  const stderr = readFileSync(errFile, 'utf8');
  return { code: r.status, stdout: readFileSync(outFile, 'utf8'), stderr, error: errorOf(stderr) };
}

/** The msg of runc's logrus error line: time="..." level=error msg="..." */
function errorOf(stderr: string): string {
  const m = /level=error msg=("(?:[^"\\]|\\.)*")/.exec(stderr);
  return m ? JSON.parse(m[1]!) : '';
}

/** A bundle with ts-runc spec's config, edited; the rootfs is shared. */
let bundleCount = 0;
function bundle(edit: (c: any) => void = () => {}): string {
  const dir = join(scratch, `bundle-${++bundleCount}`);
  mkdirSync(dir);
  const r = runTool('runc', ['spec', '-b', dir]);
  if (r.code !== 0) throw new Error(r.stderr);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.root.path = rootfs;
  config.process.terminal = false;
  edit(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}

function withArgs(...args: string[]) {
  return (c: any) => {
    c.process.args = args;
  };
}

/** Every cgroup directory holding `name` under the hierarchies' own cgroups. */
function cgroupDirsNamed(name: string): string[] {
  const found: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const top = join('/sys/fs/cgroup', h);
    const own = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[1]?.split(',').includes(h) || (h === 'unified' && l.startsWith('0::')));
    const dir = join(top, own?.split(':')[2] ?? '/', name);
    if (existsSync(dir)) found.push(dir);
  }
  return found;
}

t.test("spec writes runc 1.1's default config, byte for byte", async (t) => {
  const ours = join(scratch, 'spec-ours');
  const theirs = join(scratch, 'spec-runc');
  mkdirSync(ours);
  mkdirSync(theirs);
  const r = runTool('runc', ['spec', '--bundle', ours]);
  t.equal(r.code, 0, r.stderr);
  const again = runTool('runc', ['spec', '-b', ours]);
  t.equal(again.code, 1, 'refuses to overwrite');
  t.equal(errorOf(again.stderr), 'File config.json exists. Remove it first');
  const rootless = join(ours, 'rootless');
  mkdirSync(rootless);
  t.equal(
    runTool('runc', ['spec', '--rootless', '-bundle', rootless]).code,
    0,
    'single-dash long options, as urfave/cli takes them',
  );
  const cfg = JSON.parse(readFileSync(join(rootless, 'config.json'), 'utf8'));
  // runc adds a cgroup namespace where /sys/fs/cgroup is cgroup2 (a pure v2 host).
  const cgroupNs = cgroup2Unified() ? ['cgroup'] : [];
  t.same(
    cfg.linux.namespaces.map((n: any) => n.type),
    ['pid', 'ipc', 'uts', 'mount', ...cgroupNs, 'user'],
    'rootless: a user namespace, no network namespace',
  );
  t.same(
    cfg.linux.uidMappings,
    [{ containerID: 0, hostID: process.geteuid!(), size: 1 }],
    "the caller's uid mapped to 0",
  );
  if (!haveRunc) {
    t.comment('runc is not installed: no byte comparison');
    return;
  }
  t.equal(run(['runc', 'spec', '-b', theirs]).code, 0);
  // ts-runc writes runc 1.1.5's spec version; later 1.1 releases write their
  // own (Debian 13's runc 1.1.15: "1.2.0"), the only line that differs.
  const ourVersion = JSON.parse(readFileSync(join(ours, 'config.json'), 'utf8')).ociVersion as string;
  const runcVersion = /^spec: (\S+)$/m.exec(run(['runc', '--version']).stdout)?.[1] ?? ourVersion;
  if (runcVersion !== ourVersion)
    t.comment(
      `this runc writes ociVersion ${runcVersion}, ts-runc ${ourVersion} (runc 1.1.5's): compared with that line aligned`,
    );
  const theirsText = (file: string) =>
    readFileSync(file, 'utf8').replace(`"ociVersion": "${runcVersion}"`, `"ociVersion": "${ourVersion}"`);
  t.equal(
    readFileSync(join(ours, 'config.json'), 'utf8'),
    theirsText(join(theirs, 'config.json')),
    'same bytes as runc spec',
  );
  mkdirSync(join(theirs, 'rootless'));
  run(['runc', 'spec', '--rootless', '-b', join(theirs, 'rootless')]);
  t.equal(
    readFileSync(join(rootless, 'config.json'), 'utf8'),
    theirsText(join(theirs, 'rootless', 'config.json')),
    'rootless: same bytes as runc spec --rootless',
  );
});

t.test("ids, missing containers and usage errors are runc's", async (t) => {
  const bad = runc(['run', '-b', bundle(), 'bad/id']);
  t.equal(bad.code, 1);
  t.equal(bad.error, 'runc run failed: invalid container ID format');
  const missing = runc(['state', 'nosuch']);
  t.equal(missing.code, 1);
  t.equal(missing.error, 'container does not exist');
  t.equal(runc(['delete', 'nosuch']).code, 1);
  t.equal(runc(['delete', '-f', 'nosuch']).code, 0, 'delete --force of a missing container succeeds, as runc');
  const kill = runc(['kill', 'nosuch', 'KILL']);
  t.match(kill.stderr, /container does not exist/);
  const noarg = runc(['start']);
  t.equal(noarg.code, 1);
  t.equal(noarg.error, 'runc: "start" requires exactly 1 argument(s)');
  t.match(noarg.stdout, /^Incorrect Usage\./, 'the usage on stdout, as urfave/cli prints it');
  const unknown = runc(['bogus']);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /No help topic for 'bogus'/);
  const list = runc(['list']);
  t.equal(
    list.stdout,
    'ID          PID         STATUS      BUNDLE      CREATED     OWNER\n',
    'an empty list is the header',
  );
  t.equal(runc(['list', '-f', 'json']).stdout, 'null\n', 'an empty JSON list is null, as runc prints it');
  t.match(runTool('runc', ['--version']).stdout, /^ts-runc version .*\ncommit: .*\nspec: 1\.0\.2-dev\n$/);
});

t.test('config errors name the field and leave nothing', async (t) => {
  const cases: Array<[string, (c: any) => void, RegExp]> = [
    ['no args', (c) => (c.process.args = []), /process\.args: must name the program/],
    ['bad cwd', (c) => (c.process.cwd = 'relative'), /process\.cwd: must be an absolute path/],
    [
      'bad namespace',
      (c) => c.linux.namespaces.push({ type: 'bogus' }),
      /linux\.namespaces\[\d+\]\.type: unknown namespace type "bogus"/,
    ],
    [
      'bad capability',
      (c) => (c.process.capabilities.bounding = ['CAP_NOPE']),
      /process\.capabilities\.bounding\[0\]: unknown capability "CAP_NOPE"/,
    ],
    [
      'bad rlimit',
      (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOPE', hard: 1, soft: 1 }]),
      /process\.rlimits\[0\]\.type: unknown rlimit/,
    ],
    ['intelRdt', (c) => (c.linux.intelRdt = { closID: 'x' }), /linux\.intelRdt: setting it is not supported/],
    [
      'host sysctl',
      (c) => (c.linux.sysctl = { 'vm.swappiness': '1' }),
      /linux\.sysctl\.vm\.swappiness: not a namespaced sysctl: it would change the host is not supported/,
    ],
    [
      'net sysctl, host network',
      (c) => {
        c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
        c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'network');
      },
      /linux\.sysctl\.net\.ipv4\.ip_forward: needs a new network namespace/,
    ],
    [
      'relative mount',
      (c) => c.mounts.push({ destination: 'tmp', type: 'tmpfs', source: 'tmpfs' }),
      /mounts\[7\]\.destination: must be an absolute path/,
    ],
    [
      'missing program',
      withArgs('no-such-program'),
      /^runc run failed: unable to start container process: exec: "no-such-program": executable file not found in \$PATH$/,
    ],
    [
      'terminal, detached, no socket',
      (c) => (c.process.terminal = true),
      /cannot allocate tty if runc will detach without setting console socket/,
    ],
    [
      'masked paths, no mount namespace',
      (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'mount')),
      /linux\.maskedPaths: unable to restrict sys entries without a private MNT namespace/,
    ],
  ];
  for (const [name, edit, message] of cases) {
    const r = runcDetached(['run', '-d', '-b', bundle(edit), 'cfg']);
    t.equal(r.code, 1, `${name}: exit 1`);
    t.match(r.error, message, name);
    t.notOk(existsSync(join(stateRoot, 'cfg')), `${name}: no state directory`);
  }
  t.same(cgroupDirsNamed('cfg'), [], 'no cgroup left');
});

t.test('run: the process in its namespaces, root, devices and identity', rootOnly, async (t) => {
  const script = [
    'echo pid=$$',
    'hostname',
    'id -u; id -g',
    'ls /dev | tr "\\n" " "; echo',
    'grep -E "^Cap(Eff|Bnd)" /proc/self/status',
    'ulimit -n',
    'touch /root-is-rw 2>/dev/null && echo rw || echo ro',
    'echo x > /proc/sys/kernel/hostname 2>/dev/null && echo sys-rw || echo sys-ro',
    'wc -c < /proc/keys',
    'ls /proc/acpi | wc -l',
    'ip link 2>/dev/null | grep -c "^[0-9]" || cat /proc/net/dev | tail -n +3 | wc -l',
    'pwd',
    'exit 7',
  ].join('; ');
  const r = runc([
    'run',
    '-b',
    bundle((c) => {
      c.process.args = ['sh', '-c', script];
      c.process.cwd = '/tmp';
      c.hostname = 'box';
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 512, soft: 256 }];
    }),
    'fg',
  ]);
  t.equal(r.code, 7, `the program's exit status passes through (${r.stderr})`);
  const lines = r.stdout.trim().split('\n');
  t.equal(lines[0], 'pid=1', 'PID 1 in a new pid namespace');
  t.equal(lines[1], 'box', 'hostname from the config, in a new uts namespace');
  t.same(lines.slice(2, 4), ['0', '0'], 'uid and gid 0');
  for (const dev of [
    'null',
    'zero',
    'full',
    'random',
    'urandom',
    'tty',
    'pts',
    'shm',
    'mqueue',
    'ptmx',
    'fd',
    'stdin',
    'stdout',
    'stderr',
  ])
    t.match(lines[4], new RegExp(`(^| )${dev}( |$)`), `/dev/${dev}`);
  t.equal(lines[5], 'CapEff:\t0000000020000420', 'effective: AUDIT_WRITE, KILL, NET_BIND_SERVICE');
  t.equal(lines[6], 'CapBnd:\t0000000020000420', 'bounding set cut down to the same three');
  t.equal(lines[7], '256', 'RLIMIT_NOFILE soft limit');
  t.equal(lines[8], 'ro', 'root.readonly: the root is read-only');
  t.equal(lines[9], 'sys-ro', 'readonlyPaths: /proc/sys is read-only');
  t.equal(lines[10], '0', 'maskedPaths: /proc/keys is /dev/null');
  t.equal(lines[11], '0', 'maskedPaths: /proc/acpi is an empty tmpfs');
  t.equal(lines[12], '1', 'a new network namespace: only lo');
  t.equal(lines[13], '/tmp', 'process.cwd');
  t.notOk(existsSync(join(stateRoot, 'fg')), 'run deletes the container when it exits');
  t.same(cgroupDirsNamed('fg'), [], 'and its cgroup');
  if (haveRunc) {
    // The same bundle under runc prints the same lines (pids and all).
    const b = bundle((c) => {
      c.process.args = ['sh', '-c', script];
      c.process.cwd = '/tmp';
      c.hostname = 'box';
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 512, soft: 256 }];
    });
    const theirs = run(['runc', '--root', join(scratch, 'runc-state'), 'run', '-b', b, 'fg-runc']);
    t.equal(theirs.code, 7);
    t.equal(r.stdout, theirs.stdout, 'the same output as runc run');
  }
});

t.test("a cgroup namespace has the container's cgroups as its root, as with runc", rootOnly, async (t) => {
  const b = bundle((c) => {
    c.process.args = ['cat', '/proc/self/cgroup'];
    // runc spec has one already on a pure v2 host
    if (!c.linux.namespaces.some((n: { type: string }) => n.type === 'cgroup'))
      c.linux.namespaces.push({ type: 'cgroup' });
  });
  const r = runc(['run', '-b', b, 'cgns']);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.ok(lines.length > 0 && lines.every((l) => l.endsWith(':/')), `every hierarchy shows / (${lines.join(', ')})`);
  t.same(cgroupDirsNamed('cgns'), [], 'the cgroup is gone after run');
  if (haveRunc) {
    const theirs = run(['runc', '--root', join(scratch, 'runc-state'), 'run', '-b', b, 'cgns-runc']);
    t.equal(r.stdout, theirs.stdout, 'the same lines as runc run');
  }
});

const pureV2 = cgroup2Unified()
  ? rootOnly
  : { skip: 'this host is not pure cgroup v2 (/sys/fs/cgroup is no cgroup2 filesystem); npm run test:vm runs this' };
t.test(
  "pure cgroup v2: the default spec has a cgroup namespace, and /sys/fs/cgroup is the container's cgroup2",
  pureV2,
  async (t) => {
    const b = bundle((c) => {
      c.process.args = [
        'sh',
        '-c',
        'cat /proc/self/cgroup; test -f /sys/fs/cgroup/cgroup.procs && echo cgroup2; cat /sys/fs/cgroup/cgroup.procs',
      ];
    });
    t.ok(
      JSON.parse(readFileSync(join(b, 'config.json'), 'utf8')).linux.namespaces.some(
        (n: { type: string }) => n.type === 'cgroup',
      ),
      'spec adds a cgroup namespace, as runc does here',
    );
    const r = runc(['run', '-b', b, 'v2ns']);
    t.equal(r.code, 0, r.stderr);
    t.match(
      r.stdout,
      /^0::\/\ncgroup2\n1\n$/,
      "its cgroup is the namespace's top; a cgroup2 filesystem with only the init in it",
    );
    if (haveRunc) {
      const theirs = run(['runc', '--root', join(scratch, 'runc-state'), 'run', '-b', b, 'v2ns-runc']);
      t.equal(r.stdout, theirs.stdout, 'the same lines as runc run');
    }
  },
);

t.test("no mount namespace: the host's root, and nothing mounted", rootOnly, async (t) => {
  const hostOnly = (c: any) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'mount');
    c.linux.maskedPaths = [];
    c.linux.readonlyPaths = [];
    c.process.args = ['sh', '-c', `readlink /proc/self/ns/mnt; test -e ${scratch} && echo host-root`];
  };
  const ours = runc(['run', '-b', bundle(hostOnly), 'nomnt']);
  t.equal(ours.code, 0, ours.stderr);
  t.equal(ours.stdout, `${readlinkSync('/proc/self/ns/mnt')}\nhost-root\n`, "the host's mount namespace and root");
  // Not compared with runc here: runc 1.1 still mounts the config's mounts
  // under the rootfs in the host's mount namespace then, and leaves them.
});

t.test("sysctls in the container's namespaces; a user namespace", rootOnly, async (t) => {
  const host = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  const r = runc(
    [
      'run',
      '-b',
      bundle((c) => {
        c.process.args = [
          'sh',
          '-c',
          'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax; readlink /proc/self/fd/0 | grep -c /proc/sys; true',
        ];
        c.linux.sysctl = { 'net.ipv4.ip_forward': host.trim() === '1' ? '0' : '1', 'kernel.shmmax': '12345678' };
      }),
      'sys',
    ],
    { input: '' },
  );
  t.equal(r.code, 0, r.stderr);
  t.match(
    r.stdout,
    new RegExp(`^${host.trim() === '1' ? 0 : 1}\\n12345678\\n0\\n$`),
    'set in the container, stdin back in place',
  );
  t.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), host, 'the host keeps its value');
  const u = runc([
    'run',
    '-b',
    bundle((c) => {
      c.process.args = ['sh', '-c', 'id -u; cat /proc/self/uid_map; mkdir /dev/made && echo made'];
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }),
    'userns',
  ]);
  t.equal(u.code, 0, u.stderr);
  t.match(u.stdout, /^0\n\s+0\s+100000\s+65536\nmade\n$/, 'root of a user namespace mapped to 100000');
});

t.test('a seccomp profile is applied, with no warning (the rest: runc-seccomp.test.ts)', rootOnly, async (t) => {
  const r = runc([
    'run',
    '-b',
    bundle((c) => {
      c.process.args = ['grep', 'Seccomp:', '/proc/self/status'];
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
    }),
    'sec',
  ]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'Seccomp:\t2\n');
  // On pure cgroup v2 every default config warns that its device rules are
  // not applied (no eBPF device filter yet, issue 20); nothing else may warn.
  const others = r.stderr.split('\n').filter((l) => l && !l.includes('linux.resources.devices: not applied'));
  t.same(others, [], 'no warning about seccomp');
});

t.test('run: user, groups, no_new_privs, a bind mount and a signal', rootOnly, async (t) => {
  const host = join(scratch, 'shared');
  mkdirSync(host);
  writeFileSync(join(host, 'hello'), 'from the host\n');
  const r = runc([
    'run',
    '-b',
    bundle((c) => {
      c.process.args = [
        'sh',
        '-c',
        'id; cat /mnt/shared/hello; touch /mnt/shared/x 2>/dev/null || echo bind-ro; grep NoNewPrivs /proc/self/status',
      ];
      c.process.user = { uid: 1000, gid: 1000, additionalGids: [20, 30] };
      c.mounts.push({ destination: '/mnt/shared', type: 'bind', source: host, options: ['rbind', 'ro'] });
    }),
    'usr',
  ]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^uid=1000 gid=1000 groups=20,30\n/, 'uid, gid and additionalGids');
  t.match(r.stdout, /from the host\nbind-ro\n/, 'a read-only bind mount of a host directory');
  t.match(r.stdout, /NoNewPrivs:\t1/, 'noNewPrivileges');
  // The init of a pid namespace ignores a SIGKILL sent from inside: without one, sh dies of it.
  const killed = runc([
    'run',
    '-b',
    bundle((c) => {
      c.process.args = ['sh', '-c', 'echo $$; kill -9 $$'];
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'pid');
    }),
    'sig',
  ]);
  t.equal(killed.code, 137, 'killed by a signal: 128 + signal, as runc');
  t.not(killed.stdout.trim(), '1', "no pid namespace: the host's numbering");
  const noPivot = runc(['run', '--no-pivot', '-b', bundle(withArgs('sh', '-c', 'echo ok; exit 0')), 'np']);
  t.equal(noPivot.code, 0, noPivot.stderr);
  t.equal(noPivot.stdout, 'ok\n', '--no-pivot: chroot after moving the rootfs onto /');
});

t.test('run -d: state, list, ps, pause, resume, kill, delete', rootOnly, async (t) => {
  const id = 'life';
  made.push(id);
  const b = bundle(withArgs('sleep', '300'));
  const pidFile = join(scratch, 'life.pid');
  const r = runcDetached(['run', '-d', '--pid-file', pidFile, '-b', b, id]);
  t.equal(r.code, 0, r.stderr);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  t.ok(pid > 0, "the pid file holds the init's pid (no newline)");
  const state = JSON.parse(runc(['state', id]).stdout);
  t.match(state, { ociVersion: '1.0.2-dev', id, pid, status: 'running', bundle: b, rootfs, owner: '' });
  t.match(state.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'created is RFC 3339');
  t.same(
    Object.keys(state),
    ['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'owner'],
    "runc's field order",
  );
  const again = runcDetached(['run', '-d', '-b', b, id]);
  t.equal(again.code, 1);
  t.equal(again.error, 'runc run failed: container with given ID already exists');
  t.match(runc(['list']).stdout, new RegExp(`^${id} +${pid} +running +${b} +\\S+ +root$`, 'm'));
  t.same(
    JSON.parse(runc(['list', '--format', 'json']).stdout).map((c: any) => c.id),
    [id],
  );
  t.equal(runc(['list', '-q']).stdout, `${id}\n`);
  t.same(JSON.parse(runc(['ps', '--format', 'json', id]).stdout), [pid], 'ps --format json: the pids of the container');
  const ps = runc(['ps', id]);
  t.match(ps.stdout, /^UID +PID +PPID/, 'ps: the header of ps -ef');
  t.match(ps.stdout, new RegExp(`\\n\\S+ +${pid} .*sleep 300\\n$`), "ps: only the container's processes");
  const del = runc(['delete', id]);
  t.equal(del.code, 1);
  t.equal(del.error, 'cannot delete container life that is not stopped: running');
  t.equal(runc(['pause', id]).code, 0);
  t.equal(JSON.parse(runc(['state', id]).stdout).status, 'paused');
  t.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /State:\tS|State:\tD/, 'the init is stopped by the freezer');
  t.equal(runc(['pause', id]).error, 'container not running', 'pause of a paused container');
  t.equal(runc(['resume', id]).code, 0);
  t.equal(JSON.parse(runc(['state', id]).stdout).status, 'running');
  t.equal(runc(['resume', id]).error, 'container not paused');
  t.equal(runc(['kill', id, 'FOO']).error, 'unknown signal "FOO"');
  t.equal(runc(['kill', id, 'KILL']).code, 0);
  await waitFor(() => JSON.parse(runc(['state', id]).stdout).status === 'stopped', { timeoutMs: 5_000 });
  const stopped = JSON.parse(runc(['state', id]).stdout);
  t.equal(stopped.status, 'stopped', 'stopped once the init is gone');
  t.equal(stopped.pid, 0, 'a stopped container shows pid 0');
  t.equal(runc(['kill', id]).error, 'container not running');
  t.equal(
    runc(['kill', '--all', id, 'KILL']).code,
    0,
    'kill --all of a stopped container: nothing to signal, no error (runc 1.1; containerd sends it)',
  );
  const cgroups = JSON.parse(readFileSync(join(stateRoot, id, 'state.json'), 'utf8')).cgroups as string[];
  t.ok(cgroups.length > 0, 'the container had cgroups');
  t.equal(runc(['delete', id]).code, 0);
  t.notOk(existsSync(join(stateRoot, id)), 'delete removes the state directory');
  t.same(
    cgroups.filter((d) => existsSync(d)),
    [],
    'and the cgroups',
  );
  made = made.filter((m) => m !== id);
});

t.test('create waits at the exec fifo; start releases it', rootOnly, async (t) => {
  const id = 'cs';
  made.push(id);
  const b = bundle(withArgs('sh', '-c', 'echo started > /dev/shm/mark; exec sleep 300'));
  const pidFile = join(scratch, 'cs.pid');
  const r = runcDetached(['create', '--bundle', b, '--pid-file', pidFile, id]);
  t.equal(r.code, 0, r.stderr);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  const created = JSON.parse(runc(['state', id]).stdout);
  t.match(created, { status: 'created', pid }, "created, with the init's pid");
  t.ok(existsSync(join(stateRoot, id, 'exec.fifo')), 'the exec fifo is in the state directory');
  t.same(JSON.parse(runc(['ps', '-f', 'json', id]).stdout), [pid], 'only the init is in the container');
  t.notOk(existsSync(`/proc/${pid}/root/dev/shm/mark`), 'the program has not run');
  const again = runcDetached(['create', '-b', b, id]);
  t.equal(again.error, 'runc create failed: container with given ID already exists');
  const s = runc(['start', id]);
  t.equal(s.code, 0, s.stderr);
  await waitFor(() => existsSync(`/proc/${pid}/root/dev/shm/mark`), { timeoutMs: 5_000 });
  t.ok(existsSync(`/proc/${pid}/root/dev/shm/mark`), 'start released the program');
  t.equal(JSON.parse(runc(['state', id]).stdout).status, 'running');
  t.notOk(existsSync(join(stateRoot, id, 'exec.fifo')), 'the fifo is gone after start');
  t.equal(runc(['start', id]).error, 'cannot start an already running container');
  t.equal(runc(['delete', '-f', id]).code, 0);
  t.equal(runc(['start', id]).error, 'container does not exist');

  // A created container is deleted without --force (it never ran), as runc does.
  t.equal(runcDetached(['create', '-b', b, id]).code, 0);
  const pid2 = JSON.parse(runc(['state', id]).stdout).pid;
  t.equal(runc(['delete', id]).code, 0);
  t.notOk(existsSync(join(stateRoot, id)));
  t.notOk(
    existsSync(`/proc/${pid2}/stat`) && !/\) Z /.test(readFileSync(`/proc/${pid2}/stat`, 'utf8')),
    'its init is gone',
  );

  // A created container whose init was killed: stopped, and start says so.
  t.equal(runcDetached(['create', '-b', b, id]).code, 0);
  t.equal(runc(['kill', id, 'KILL']).code, 0);
  await waitFor(() => JSON.parse(runc(['state', id]).stdout).status === 'stopped', { timeoutMs: 5_000 });
  t.equal(runc(['start', id]).error, 'cannot start a container that has stopped');
  t.equal(runc(['delete', id]).code, 0);
  made = made.filter((m) => m !== id);
});

t.test('exec: a process in the container, foreground and detached', rootOnly, async (t) => {
  const id = 'ex';
  made.push(id);
  t.equal(runcDetached(['run', '-d', '-b', bundle(withArgs('sleep', '300')), id]).code, 0);
  const hello = runc(['exec', id, 'echo', 'Hello, world!']);
  t.equal(hello.code, 0, hello.stderr);
  t.equal(hello.stdout, 'Hello, world!\n', "the blog's hello");
  const inside = runc(['exec', id, 'sh', '-c', 'echo $$; hostname; readlink /proc/1/exe; exit 4']);
  t.equal(inside.code, 4, "the process's exit status");
  const [pidInside, host, initExe] = inside.stdout.trim().split('\n');
  t.not(pidInside, '1', 'not the init');
  t.ok(Number(pidInside) < 100, "numbered in the container's pid namespace");
  t.equal(host, 'runc', "the container's hostname");
  t.equal(initExe, '/bin/busybox', "the container's root");
  const as = runc([
    'exec',
    '-u',
    '1000:1000',
    '--cwd',
    '/tmp',
    '-e',
    'FOO=bar',
    '--env',
    'PATH=/bin',
    id,
    'sh',
    '-c',
    'id; pwd; echo $FOO $PATH',
  ]);
  t.equal(as.stdout, 'uid=1000 gid=1000\n/tmp\nbar /bin\n', '-u, --cwd, -e');
  const procFile = join(scratch, 'process.json');
  writeFileSync(
    procFile,
    JSON.stringify({
      args: ['sh', '-c', 'echo from process.json; id -u'],
      cwd: '/',
      env: ['PATH=/bin'],
      user: { uid: 7, gid: 7 },
    }),
  );
  const p = runc(['exec', '--process', procFile, id]);
  t.equal(p.stdout, 'from process.json\n7\n', '-p process.json');
  const missing = runc(['exec', id, 'no-such-program']);
  t.equal(missing.code, 255, 'a program that cannot start: 255');
  t.equal(
    missing.error,
    'exec failed: unable to start container process: exec: "no-such-program": executable file not found in $PATH',
  );
  t.equal(runc(['exec', id]).error, 'exec failed: process args cannot be empty');
  const pidFile = join(scratch, 'exec.pid');
  const d = runcDetached(['exec', '-d', '--pid-file', pidFile, id, 'sleep', '300']);
  t.equal(d.code, 0, d.stderr);
  const execPid = Number(readFileSync(pidFile, 'utf8'));
  t.ok(
    JSON.parse(runc(['ps', '-f', 'json', id]).stdout).includes(execPid),
    "the detached process is in the container's cgroup",
  );
  t.equal(
    readFileSync(`/proc/${execPid}/status`, 'utf8').match(/^PPid:\s+(\d+)/m)?.[1] !== String(process.pid),
    true,
    'and nothing of ts-runc waits for it',
  );
  t.equal(runc(['delete', '-f', id]).code, 0);
  const gone = runc(['exec', id, 'true']);
  t.equal(gone.code, 255);
  t.equal(gone.error, 'exec failed: container does not exist');
  made = made.filter((m) => m !== id);
});

t.test('resources: memory and pids limits, events --stats, an OOM kill and its event', rootOnly, async (t) => {
  const id = 'res';
  made.push(id);
  // The inner shell fills its memory until the OOM killer ends it; the init
  // lives on. The hog and its pipeline ask to be the OOM killer's first
  // choice (oom_score_adj 1000), else the kernel may take the init as well.
  const hog =
    'while [ ! -e /dev/shm/go ]; do sleep 0.05; done; sh -c "echo 1000 > /proc/self/oom_score_adj; x=\\$(head -c 200000000 /dev/zero | tr \\"\\\\0\\" a)"; echo hog-done > /dev/shm/hog; sleep 300';
  const b = bundle((c) => {
    c.process.args = ['sh', '-c', hog];
    c.linux.resources.memory = { limit: 16 * 1024 * 1024 };
    c.linux.resources.pids = { limit: 20 };
  });
  t.equal(runcDetached(['run', '-d', '-b', b, id]).code, 0);
  const stats = JSON.parse(runc(['events', '--stats', id]).stdout);
  t.equal(stats.type, 'stats');
  t.equal(stats.id, id);
  t.equal(stats.data.memory.usage.limit, 16 * 1024 * 1024, 'memory.limit reached the cgroup');
  t.equal(stats.data.pids.limit, 20, 'pids.limit reached the cgroup');
  t.ok(stats.data.pids.current >= 1, 'pids.current counts the init');
  t.ok(stats.data.cpu.usage.total > 0, 'cpu usage in ns');
  const events = spawn(tool('runc'), ['--root', stateRoot, 'events', '--interval', '200ms', id], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Listened for at once: events may end before the OOM is seen (the container stopped).
  const exited = new Promise((r) => events.on('exit', r));
  let text = '';
  const sawOom = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 15_000);
    events.on('exit', () => {
      clearTimeout(timer);
      resolve(/"type":"oom"/.test(text));
    });
    events.stdout.on('data', (d) => {
      // Once events has its first numbers, let the hog go.
      if (!text) runc(['exec', id, 'touch', '/dev/shm/go']);
      text += d;
      if (/"type":"oom"/.test(text)) {
        clearTimeout(timer);
        resolve(true);
      }
    });
  });
  events.kill();
  await exited;
  t.ok(sawOom, 'events reports the OOM kill');
  t.match(text, /^\{"type":"stats","id":"res","data":\{/m, 'and stats every interval');
  t.equal(JSON.parse(runc(['state', id]).stdout).status, 'running', 'the init survived');
  t.equal(runc(['update', '--memory', '64M', '--pids-limit', '30', id]).code, 0, 'update');
  const after = JSON.parse(runc(['events', '--stats', id]).stdout).data;
  t.equal(after.memory.usage.limit, 64 * 1024 * 1024, 'update --memory reached the cgroup');
  t.equal(after.pids.limit, 30, 'update --pids-limit reached the cgroup');
  t.equal(runc(['update', '--memory', 'lots', id]).error, 'invalid value for memory: lots');
  t.equal(runc(['delete', '-f', id]).code, 0);
  made = made.filter((m) => m !== id);
});

t.test('terminal: ts-recvtty gets the pty on the console socket; exec -t and run relay it', rootOnly, async (t) => {
  const id = 'tty';
  made.push(id);
  const sock = join(scratch, 'tty.sock');
  const pidFile = join(scratch, 'recvtty.pid');
  const session = new TmuxSession(`${tool('recvtty')} --pid-file ${pidFile} ${sock}`);
  t.teardown(() => session.kill());
  await waitFor(() => existsSync(sock), { timeoutMs: 5_000, intervalMs: 50 });
  t.ok(existsSync(sock), 'ts-recvtty listens');
  const b = bundle((c) => {
    c.process.terminal = true;
    c.process.args = ['sh'];
  });
  const r = runcDetached(['create', '--console-socket', sock, '-b', b, id]);
  t.equal(r.code, 0, r.stderr);
  t.equal(runc(['start', id]).code, 0);
  session.type('echo "Hello from $(hostname)"; tty; ls -l /proc/self/fd/0');
  session.send('Enter');
  const screen = await session.waitFor((s) => /Hello from runc\n\/dev\/pts\/0\n/.test(s));
  t.match(screen, /0 -> \/dev\/pts\/0/, "the container's stdin is its own pty");
  const ex = runc(['exec', '-t', id, 'sh', '-c', 'tty; echo exec-ok']);
  t.equal(ex.code, 0, ex.stderr);
  t.match(ex.stdout, /^\/dev\/pts\/1\r?\nexec-ok\r?\n/, 'exec -t: a second pty, relayed to our stdout');
  t.equal(runc(['delete', '-f', id]).code, 0);
  // Done means: the pane's process exited, or it has let go of every fd and
  // is on its way out (a Node process at exit can linger a moment in tty
  // teardown under tmux).
  const recvttyPid = readFileSync(pidFile, 'utf8').trim();
  const released = () => {
    if (session.exitStatus() !== undefined) return true;
    try {
      return readdirSync(`/proc/${recvttyPid}/fd`).length === 0;
    } catch {
      return true;
    }
  };
  await waitFor(released, { timeoutMs: 15_000, intervalMs: 100 });
  t.ok(released(), 'ts-recvtty (single) ends with the container');
  t.ok([undefined, 0].includes(session.exitStatus()), 'with status 0');
  t.notOk(existsSync(sock), 'and removes its socket');
  made = made.filter((m) => m !== id);

  const run = runc([
    'run',
    '-b',
    bundle((c) => {
      c.process.terminal = true;
      c.process.args = ['sh', '-c', 'tty; exit 5'];
    }),
    'tty-fg',
  ]);
  t.equal(run.code, 5, 'run in the foreground with a terminal: the exit status');
  t.match(run.stdout, /^\/dev\/pts\/0\r?\n$/, 'and the pty relayed');
  const noTty = runcDetached(['run', '-d', '--console-socket', sock, '-b', bundle(withArgs('true')), 'tty-no']);
  t.equal(
    noTty.error,
    'runc run failed: process.terminal: cannot use console socket if runc will not detach or allocate tty',
  );
});

t.test('delete -f kills a running container; kill -a signals every process', rootOnly, async (t) => {
  const id = 'force';
  made.push(id);
  t.equal(runcDetached(['run', '-d', '-b', bundle(withArgs('sh', '-c', 'sleep 300 & sleep 300 & wait')), id]).code, 0);
  let pids: number[] = [];
  await waitFor(() => (pids = JSON.parse(runc(['ps', '-f', 'json', id]).stdout)).length >= 3, { timeoutMs: 5_000 });
  t.equal(pids.length, 3, 'the shell and its two sleeps');
  t.equal(runc(['kill', '--all', id, 'STOP']).code, 0);
  const stopped = (p: number) => /State:\tT/.test(readFileSync(`/proc/${p}/status`, 'utf8'));
  await waitFor(() => pids.every(stopped), { timeoutMs: 5_000 });
  for (const p of pids) t.ok(stopped(p), `kill -a STOP reached ${p}`);
  t.equal(runc(['kill', '-a', id, 'CONT']).code, 0);
  const r = runc(['delete', '--force', id]);
  t.equal(r.code, 0, r.stderr);
  t.notOk(existsSync(join(stateRoot, id)));
  for (const p of pids)
    t.notOk(
      existsSync(`/proc/${p}/stat`) && !/\) Z /.test(readFileSync(`/proc/${p}/stat`, 'utf8')),
      `process ${p} is gone`,
    );
  made = made.filter((m) => m !== id);
});

t.test('--log --log-format json: errors as JSON lines for containerd', async (t) => {
  const log = join(scratch, 'log.json');
  const r = runTool('runc', ['--root', stateRoot, '--log', log, '--log-format', 'json', 'state', 'nosuch']);
  t.equal(r.code, 1);
  t.equal(r.stderr, 'container does not exist\n', 'stderr has the plain message');
  const line = JSON.parse(readFileSync(log, 'utf8').trim());
  t.same(Object.keys(line), ['level', 'msg', 'time']);
  t.match(line, { level: 'error', msg: 'container does not exist' });
  t.match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

t.test('the state root is left empty', async (t) => {
  t.same(existsSync(stateRoot) ? readdirSync(stateRoot) : [], [], 'no state directory left');
  for (const id of [
    'fg',
    'usr',
    'sig',
    'np',
    'life',
    'force',
    'cfg',
    'cs',
    'ex',
    'res',
    'tty',
    'tty-fg',
    'tty-no',
    'sec',
  ])
    t.same(cgroupDirsNamed(id), [], `no cgroup ${id} left`);
});

registerLeftoverCheck(t, before);

// containerd and CRI-O set process.apparmorProfile where AppArmor is enabled
// (Debian 13, Ubuntu): ts-runc writes "exec PROFILE" to the container's
// /proc/self/attr/apparmor/exec before execve, as runc does. Without
// AppArmor the kernel refuses the write, and the create fails with both.
t.test('process.apparmorProfile is applied at execve, as by runc', rootOnly, async (t) => {
  const enabled = (() => {
    try {
      return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
    } catch {
      return false;
    }
  })();
  const b = bundle((c) => {
    c.process.apparmorProfile = 'unconfined';
    c.process.args = ['cat', '/proc/self/attr/current'];
  });
  const r = runc(['run', '-b', b, 'aa']);
  if (enabled) {
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^unconfined/, 'the program runs unconfined');
  } else {
    t.equal(r.code, 1, 'AppArmor is not enabled here: the create fails');
    t.match(r.error, /apply apparmor profile "unconfined": EINVAL/, 'naming the profile');
  }
  t.notOk(existsSync(join(stateRoot, 'aa')), 'no state left');
  t.same(cgroupDirsNamed('aa'), [], 'no cgroup left');
  if (haveRunc) {
    const theirs = run(['runc', '--root', join(scratch, 'runc-state'), 'run', '-b', b, 'aa-runc']);
    t.equal(theirs.code === 0, r.code === 0, `runc agrees (${theirs.code === 0 ? 'runs' : 'fails'})`);
    if (enabled) t.equal(theirs.stdout, r.stdout, 'the same attr/current');
  }
});
