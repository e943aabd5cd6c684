// containerd's runc shim with ts-runc as its runtime binary (ctr run
// --runc-binary): create, start, exec, ps, pause, resume, kill, delete, and
// a failed create explained from ts-runc's --log json. containerd runs in a
// throwaway network and mount namespace with a tmpfs on /run and its own
// config, state and socket under a scratch directory: never the host's.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { detectCgroups } from '../../src/cgroup/hierarchy.js';
import { join } from 'node:path';
import { cleanEnv, inventory, isRoot, registerLeftoverCheck, ROOT, run, tool } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

const missing = ['containerd', 'ctr', 'umoci', 'containerd-shim-runc-v2'].filter(
  (p) => run(['sh', '-c', `command -v ${p}`]).code !== 0,
);
const skip = !isRoot()
  ? 'needs root (CI runs as root)'
  : missing.length
    ? `not installed: ${missing.join(', ')}`
    : false;
const before = inventory();

/**
 * ctr puts a container of its namespace "default" in the cgroup
 * /default/ID; the runtime removes ID, and the parent stays. The ones this
 * test made, it removes.
 */
const ctrParents = () =>
  detectCgroups()
    .hierarchies.map((h) => join(h.mountPoint, 'default'))
    .filter((d) => existsSync(d));

t.test('ctr run --runc-binary ts-runc', { skip }, async (t) => {
  const parentsBefore = new Set(ctrParents());
  const dir = mkdtempSync('/tmp/nslab-ctrd-');
  chmodSync(dir, 0o755);
  const sock = join(dir, 'containerd.sock');
  // The image: make-rootfs's busybox, as an OCI layout (umoci), imported by ctr.
  const built = run(['node', join(ROOT, 'scripts/make-rootfs.mjs'), '-q', join(dir, 'rootfs')]);
  t.equal(built.code, 0, built.stderr);
  const sh = (script: string) => run(['sh', '-ec', script], { cwd: dir, timeout: 120_000 });
  const img = sh(`umoci init --layout oci && umoci new --image oci:bb && umoci unpack --image oci:bb bundle >/dev/null
    cp -a rootfs/. bundle/rootfs/ && umoci repack --image oci:bb bundle && rm -rf bundle && cd oci && tar -cf ../bb.tar .`);
  t.equal(img.code, 0, img.stderr);
  writeFileSync(
    join(dir, 'config.toml'),
    `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "${sock}"\n[ttrpc]\n  address = "${sock}.ttrpc"\n[debug]\n  address = "${dir}/debug.sock"\n`,
  );
  const daemon = spawn(
    'unshare',
    [
      '-n',
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      `mount -t tmpfs tmpfs /run && exec containerd --config ${dir}/config.toml`,
    ],
    {
      env: cleanEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  daemon.stderr.on('data', (d) => (log += d));
  const exited = new Promise((r) => daemon.on('exit', r));
  t.teardown(async () => {
    daemon.kill('SIGTERM');
    await exited;
    // The shims are gone with their containers; the namespace's mounts with its last process.
    for (
      let i = 0;
      i < 50 &&
      existsSync(`${dir}/root`) &&
      run(['sh', '-c', `grep -c ${dir} /proc/*/mountinfo 2>/dev/null | grep -v ':0$'`]).stdout.trim();
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    rmSync(dir, { recursive: true, force: true });
    // After containerd: its containers' cgroups are gone by now.
    for (const d of ctrParents()) if (!parentsBefore.has(d)) rmdirSync(d);
  });
  await waitFor(() => /successfully booted/.test(log), { timeoutMs: 10_000, intervalMs: 100 });
  t.match(log, /successfully booted/, 'containerd is up');
  // ctr runs in containerd's namespaces: its fifos live in the private /run.
  const ctr = (...args: string[]) => {
    const r = spawnSync('nsenter', ['-t', String(daemon.pid), '-m', '-n', '--', 'ctr', '-a', sock, ...args], {
      env: cleanEnv(),
      encoding: 'utf8',
      timeout: 60_000,
      input: '',
    });
    return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  // ctr's child: the unshare'd sh became containerd (exec), so its pid is containerd's.
  const imp = ctr('images', 'import', '--base-name', 'local/bb', '--digests', bb(dir));
  t.equal(imp.code, 0, imp.stderr);
  const runtime = tool('runc');

  const hello = ctr('run', '--rm', '--runc-binary', runtime, 'local/bb:bb', 'hello', 'echo', 'Hello, world!');
  t.equal(hello.code, 0, hello.stderr);
  t.equal(hello.stdout, 'Hello, world!\n', 'run --rm: the container ran and was deleted');

  t.equal(ctr('run', '-d', '--runc-binary', runtime, 'local/bb:bb', 'box', 'sleep', '300').code, 0, 'run -d');
  t.match(ctr('task', 'ls').stdout, /^box\s+\d+\s+RUNNING$/m);
  const ex = ctr('task', 'exec', '--exec-id', 'e1', 'box', 'sh', '-c', 'echo in-exec; cat /proc/1/comm; exit 3');
  t.equal(ex.code, 3, 'task exec: the exit status');
  t.equal(ex.stdout, 'in-exec\nsleep\n', "task exec: in the container's pid namespace");
  t.match(ctr('task', 'ps', 'box').stdout, /^PID\s+INFO\n\d+/, 'task ps (ts-runc ps --format json)');
  t.equal(ctr('task', 'pause', 'box').code, 0);
  t.match(ctr('task', 'ls').stdout, /^box\s+\d+\s+PAUSED$/m, 'paused');
  t.equal(ctr('task', 'resume', 'box').code, 0);
  t.match(ctr('task', 'ls').stdout, /^box\s+\d+\s+RUNNING$/m, 'resumed');
  t.equal(ctr('task', 'kill', '-s', 'KILL', 'box').code, 0);
  await waitFor(() => /STOPPED/.test(ctr('task', 'ls').stdout), { timeoutMs: 5_000, intervalMs: 100 });
  t.match(ctr('task', 'ls').stdout, /^box\s+\d+\s+STOPPED$/m, 'killed');
  t.equal(ctr('task', 'delete', 'box').code, 0);
  t.equal(ctr('container', 'delete', 'box').code, 0);

  const bad = ctr('run', '--rm', '--runc-binary', runtime, 'local/bb:bb', 'bad', 'no-such-program');
  t.not(bad.code, 0, 'a create that fails');
  t.match(bad.stderr, /executable file not found in \$PATH/, "containerd tells why, from ts-runc's --log json");
  ctr('container', 'delete', 'bad');
  t.equal(ctr('container', 'ls', '-q').stdout, '', 'no container left');
});

function bb(dir: string): string {
  return join(dir, 'bb.tar');
}

registerLeftoverCheck(t, before);
