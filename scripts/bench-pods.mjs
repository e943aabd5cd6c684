// npm run bench (or alone: sudo node scripts/bench-pods.mjs): how long a
// CRI server takes to run the web pod — runp + create + start — with ts-runc
// and with runc as its runtime, under CRI-O (where installed) and under
// containerd. Goal: ts-runc within 1.5x of runc under each.
//
// One playground per server and runtime: each binds its runtime handler to
// one binary, so two playgrounds of a server (the same config, images and
// CNI network; only the runtime's path differs) compare the runtimes and
// nothing else. All stay up for the whole run and are measured in turn,
// round after round, so machine noise hits them alike. Removing each pod
// (rmp -f) is not timed.
//
// Everything runs inside a throwaway network and mount namespace (unshare
// -n -m, a tmpfs on /run): the bridges, pods and sockets never reach the
// host, and each playground keeps its own namespaces inside that one.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(process.env.BENCH_POD_ROUNDS ?? 10);
const INSIDE = 'NSLAB_BENCH_PODS_INSIDE';
const CGROUP_PARENT = 'nslab-bench-pods';

function say(line) {
  console.log(line);
}

function which(program) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, program);
    try {
      if (dir && statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** crictl from PATH, the tests' cache, or the copy beside the checkout (unpacked into a scratch directory). */
function findCrictl(scratch) {
  const onPath = which('crictl');
  if (onPath) return onPath;
  if (existsSync('/var/cache/nslab-test-tools/crictl')) return '/var/cache/nslab-test-tools/crictl';
  const copy = join(root, '..', 'shared', 'tools', 'crictl-v1.32.0-linux-amd64.xz');
  if (existsSync(copy) && process.arch === 'x64') {
    const xz = spawnSync('xz', ['-dc', copy], { maxBuffer: 256 * 1024 * 1024 });
    if (xz.status === 0) {
      const file = join(scratch, 'crictl');
      writeFileSync(file, xz.stdout);
      chmodSync(file, 0o755);
      return file;
    }
  }
  return undefined;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function outside() {
  if (process.geteuid() !== 0) {
    console.error('bench-pods: run as root (containerd, namespaces, cgroups)');
    process.exit(1);
  }
  const missing = ['containerd', 'ctr', 'unshare', 'runc'].filter((p) => !which(p));
  const crioMissing = ['crio', 'pinns', 'conmon', 'skopeo'].filter((p) => !which(p));
  if (crioMissing.length)
    say(`pods: CRI-O skipped: ${crioMissing.join(', ')} not installed (docs/cri.md, "Getting CRI-O")`);
  if (missing.length) {
    say(`pods: skipped: ${missing.join(', ')} not installed (scripts/setup-vm.sh installs them)`);
    return 0;
  }
  const env = { ...process.env, [INSIDE]: '1' };
  delete env.NODE_OPTIONS;
  // A throwaway network and mount namespace with lo up and its own /run.
  const prepare = 'ip link set lo up && mount -t tmpfs -o mode=755 nslab-bench-run /run && exec "$@"';
  const r = spawnSync(
    'unshare',
    [
      '--net',
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      prepare,
      'sh',
      process.execPath,
      fileURLToPath(import.meta.url),
    ],
    { stdio: 'inherit', env },
  );
  // The pods' cgroup parent runc makes at the top of a cgroup v2 tree stays behind, empty: ours to remove.
  removeCgroupParents();
  return r.status ?? 1;
}

function removeCgroupParents() {
  const r = spawnSync('find', ['/sys/fs/cgroup', '-maxdepth', '8', '-type', 'd', '-name', CGROUP_PARENT], {
    encoding: 'utf8',
  });
  for (const d of r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(d);
    } catch (err) {
      console.error(`bench-pods: ${d} kept: ${err.message}`);
    }
  }
}

function inside() {
  const scratch = mkdtempSync('/run/nslab-bench-pods-');
  const crictl = findCrictl(scratch);
  if (!crictl) {
    say('pods: skipped: crictl is not installed (docs/cri.md, "Getting crictl")');
    rmSync(scratch, { recursive: true, force: true });
    return 0;
  }
  const tsRunc = join(root, 'bin', 'ts-runc');
  const runtimes = [];
  if (existsSync(tsRunc) && existsSync(join(root, 'dist', 'ts-runc.cjs')))
    runtimes.push({ name: 'ts-runc', binary: tsRunc });
  else say('pods: ts-runc skipped: not built (bin/ts-runc, dist/ts-runc.cjs: npm run build)');
  runtimes.push({ name: 'runc', binary: which('runc') });
  const servers = ['crio', 'pinns', 'conmon', 'skopeo'].every((p) => which(p))
    ? ['crio', 'containerd']
    : ['containerd'];
  const playgrounds = servers.flatMap((server) => runtimes.map((rt) => ({ ...rt, server })));

  const env = { ...process.env, PATH: `${join(root, 'bin')}:${dirname(crictl)}:${process.env.PATH}` };
  delete env.NODE_OPTIONS;
  const run = (argv, what) => {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env, timeout: 120_000 });
    if (r.status !== 0)
      throw new Error(`${what ?? argv.join(' ')} failed: ${(r.stderr || r.stdout || r.error?.message || '').trim()}`);
    return r.stdout.trim();
  };

  const logs = join(scratch, 'logs');
  const sandboxYml = (n, cgroupParent) => {
    const file = join(scratch, `sandbox-${n}.yml`);
    writeFileSync(
      file,
      [
        'metadata:',
        `  name: bench-${n}`,
        '  namespace: nslab-bench',
        `  uid: bench-${n}`,
        '  attempt: 0',
        `log_directory: ${logs}`,
        'linux:',
        `  cgroup_parent: ${cgroupParent}`,
        '',
      ].join('\n'),
    );
    return file;
  };
  const webYml = join(scratch, 'web.yml');
  writeFileSync(
    webYml,
    ['metadata:', '  name: web', 'image:', '  image: docker.io/nslab/web:latest', 'log_path: web.log', ''].join('\n'),
  );

  const up = [];
  let failure;
  try {
    for (const rt of playgrounds) {
      rt.dir = join('/run', `nslab-bench-${rt.server}-${rt.name}`);
      run(
        [join(root, 'bin', 'ts-cri'), 'up', '--server', rt.server, '--runtime', rt.binary, '--dir', rt.dir],
        `ts-cri up --server ${rt.server} --runtime ${rt.name}`,
      );
      up.push(rt);
      // CRI-O takes the pods' cgroup parent from the top of each hierarchy: the one ts-cri names (below the playground's cgroup).
      rt.cgroupParent =
        rt.server === 'crio'
          ? /NSLAB_POD_CGROUP_PARENT=(\S+)/.exec(run([join(root, 'bin', 'ts-cri'), 'env', '--dir', rt.dir]))[1]
          : CGROUP_PARENT;
      rt.times = { runp: [], create: [], start: [], total: [] };
    }
    let n = 0;
    const once = (rt, record) => {
      const cri = (...args) => run([crictl, '--config', join(rt.dir, 'crictl.yaml'), ...args]);
      const sandbox = sandboxYml(n++, rt.cgroupParent);
      const t0 = process.hrtime.bigint();
      const pod = cri('runp', sandbox);
      const t1 = process.hrtime.bigint();
      const web = cri('create', pod, webYml, sandbox);
      const t2 = process.hrtime.bigint();
      cri('start', web);
      const t3 = process.hrtime.bigint();
      cri('rmp', '-f', pod);
      if (record) {
        const ms = (a, b) => Number(b - a) / 1e6;
        rt.times.runp.push(ms(t0, t1));
        rt.times.create.push(ms(t1, t2));
        rt.times.start.push(ms(t2, t3));
        rt.times.total.push(ms(t0, t3));
      }
    };
    for (const rt of up) once(rt, false); // warm the page cache and containerd
    for (let i = 0; i < rounds; i++) {
      // Alternate which runtime goes first, so neither always follows the other.
      const order = i % 2 ? [...up].reverse() : up;
      for (const rt of order) once(rt, true);
    }
  } catch (err) {
    failure = err;
  } finally {
    for (const rt of up)
      spawnSync(join(root, 'bin', 'ts-cri'), ['down', '--dir', rt.dir], { env, stdio: 'ignore', timeout: 120_000 });
    rmSync(scratch, { recursive: true, force: true });
  }
  if (failure) {
    console.error(`bench-pods: ${failure.message}`);
    return 1;
  }

  say(
    `\npods: crictl runp + create + start of the web pod, ${rounds} rounds per server and runtime, interleaved; median ms\n`,
  );
  say(
    'server'.padEnd(12) +
      'runtime'.padEnd(10) +
      ['runp', 'create', 'start', 'total'].map((k) => k.padStart(10)).join(''),
  );
  for (const rt of up)
    say(
      rt.server.padEnd(12) +
        rt.name.padEnd(10) +
        ['runp', 'create', 'start', 'total'].map((k) => median(rt.times[k]).toFixed(1).padStart(10)).join(''),
    );
  say('');
  for (const server of servers) {
    const ts = up.find((r) => r.server === server && r.name === 'ts-runc');
    const rc = up.find((r) => r.server === server && r.name === 'runc');
    if (!ts || !rc) continue;
    const ratio = median(ts.times.total) / median(rc.times.total);
    say(
      `${server}: ts-runc / runc = ${ratio.toFixed(2)}x (goal 1.5x): ${ratio <= 1.5 ? 'within the goal' : 'OVER THE GOAL'}`,
    );
  }
  return 0;
}

process.exitCode = process.env[INSIDE] ? inside() : outside();
