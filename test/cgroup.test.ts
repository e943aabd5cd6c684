// ts-cgroup on the real kernel of this VM: cgroup v1 controllers plus a
// cgroup2 hierarchy with no controllers. Every cgroup made here is named
// nslab-test-<pid>-... and is nested under the cgroup this test process
// started in (relative PATHs mean exactly that); the teardown proves none is
// left in any hierarchy. The v2 limit translation, which needs v2
// controllers this VM does not have, is tested in cgroup-fake-v2.test.ts.
import t, { Test } from 'tap';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_TAP, ROOT, cleanEnv, children, isRoot, runTool, tool } from './helpers/tools.js';

const PREFIX = `nslab-test-${process.pid}`;
const rootOnly = { skip: isRoot() ? false : 'needs root (CI runs as root)' };
const cg = (name: string) => `${PREFIX}-${name}`;

// ---- where this process's cgroups are, read independently of the tool

interface Mount {
  version: 1 | 2;
  mountPoint: string;
  controllers: string[];
}

function cgroupMounts(): Mount[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [left, right] = l.split(' - ');
      const [fstype, , opts] = right.split(' ');
      if (fstype !== 'cgroup' && fstype !== 'cgroup2') return undefined;
      return { version: fstype === 'cgroup2' ? 2 : 1, mountPoint: left.split(' ')[4], controllers: opts.split(',') } as Mount;
    })
    .filter((m): m is Mount => m !== undefined);
}

/** This process's cgroup directory in the hierarchy that has `controller` (or the v2 one). */
function ownDir(controller: string | 'v2'): string {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  const m = cgroupMounts().find((x) => (controller === 'v2' ? x.version === 2 : x.version === 1 && x.controllers.includes(controller)))!;
  const line = lines.find((l) => (controller === 'v2' ? l.startsWith('0::') : l.split(':')[1].split(',').includes(controller)))!;
  return join(m.mountPoint, line.split(':')[2]);
}

/** Every cgroup directory of this test run, in every hierarchy, deepest first. */
function testCgroups(): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const d = join(dir, e.name);
      if (e.name.startsWith(PREFIX)) found.push(d);
      if (depth < 6) walk(d, depth + 1);
    }
  };
  for (const m of cgroupMounts()) walk(m.mountPoint, 0);
  return found.sort((a, b) => b.length - a.length);
}

function pidsIn(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Clean up without the tool under test: kill what our test cgroups hold (only our own processes), then rmdir. */
async function removeTestCgroups(): Promise<void> {
  for (const dir of testCgroups()) {
    // A frozen task cannot die: thaw first.
    for (const [file, thawed] of [['freezer.state', 'THAWED'], ['cgroup.freeze', '0']]) {
      try {
        if (existsSync(join(dir, file))) writeFileSync(join(dir, file), thawed);
      } catch {
        // best effort
      }
    }
    for (let i = 0; i < 200 && pidsIn(dir).length; i++) {
      for (const pid of pidsIn(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await delay(25);
    }
    try {
      rmdirSync(dir);
    } catch {
      // reported by the teardown's check
    }
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait for a condition (not a timed assertion: the limit only ends a hung test). */
async function until(what: string, cond: () => boolean, limitMs = 30_000): Promise<void> {
  for (let waited = 0; !cond(); waited += 25) {
    if (waited > limitMs) throw new Error(`gave up waiting for ${what}`);
    await delay(25);
  }
}

interface Background {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: ChildProcess[] = [];
function background(args: string[]): Background {
  const child = spawn(NO_TAP[0], [...NO_TAP.slice(1), tool('cgroup'), ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => text, exited };
}

function cgroupTool(args: string[], opts: { as?: 'nobody' } = {}) {
  return runTool('cgroup', args, opts);
}

function oneLineError(t: Test, r: { code: number | null; stderr: string }, pattern: RegExp, what: string): void {
  t.equal(r.code, 1, `${what}: exit 1`);
  t.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line on stderr`);
  t.match(r.stderr, pattern, `${what}: says why`);
  t.match(r.stderr, /^ts-cgroup: /, `${what}: prefixed with the tool name`);
}

// Each test cleans up after itself with the tool; this runs after each one
// (also on failure), notes anything the tool left, and removes it.
const leaked: string[] = [];
async function cleanUp(): Promise<void> {
  leaked.push(...testCgroups());
  await removeTestCgroups();
}

t.before(() => removeTestCgroups());
t.teardown(async () => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await removeTestCgroups();
});

t.test('info: this VM is hybrid, and the caller\'s cgroups match /proc/self/cgroup', rootOnly, async (t) => {
  const r = cgroupTool(['info', '--json']);
  t.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  const hasV1 = cgroupMounts().some((m) => m.version === 1);
  const hasV2 = cgroupMounts().some((m) => m.version === 2);
  t.equal(info.mode, hasV1 && hasV2 ? 'hybrid' : hasV1 ? 'v1' : 'v2');
  const memory = info.hierarchies.find((h: any) => h.controllers.includes('memory'));
  t.ok(memory, 'the memory hierarchy is listed');
  t.equal(join(memory.mountpoint, memory.cgroup), ownDir('memory'), 'own memory cgroup as /proc/self/cgroup says');
  const text = cgroupTool(['info']);
  t.match(text.stdout, /^mode: hybrid/m);
});

t.test('v1 memory: a hog dies at 100M by OOM kill, show and watch report it', rootOnly, async (t) => {
  const name = cg('mem');
  t.teardown(cleanUp);
  const created = cgroupTool(['--trace', 'create', name, '--memory', '100M', '--swappiness', '0']);
  t.equal(created.code, 0, created.stderr);
  const dir = join(ownDir('memory'), name);
  t.equal(readFileSync(join(dir, 'memory.limit_in_bytes'), 'utf8').trim(), String(100 * 1024 * 1024), 'memory.limit_in_bytes is 100M');
  t.equal(readFileSync(join(dir, 'memory.swappiness'), 'utf8').trim(), '0', 'memory.swappiness is 0');
  t.match(created.stderr, `mkdir("${dir}", 0755) = 0`, '--trace shows the mkdir');
  t.match(created.stderr, `write("${dir}/memory.limit_in_bytes", "104857600") = 9`, '--trace shows the limit written');

  const watch = background(['watch', name, '--interval', '0.2']);
  await until('watch to register its eventfd', () => /^watching /m.test(watch.output()));
  t.match(watch.output(), /eventfd \d+ registered in cgroup\.event_control for memory\.oom_control/, 'v1 OOM events come through an eventfd');

  const hog = runTool('cgroup', ['exec', name, '--', process.execPath, join(ROOT, 'dist/programs/memhog.cjs')]);
  t.equal(hog.signal, 'SIGKILL', 'the hog died by SIGKILL (and ts-cgroup exec ended the same way)');
  const totals = hog.stdout.trim().split('\n').map((l) => Number(/^(\d+) MB$/.exec(l)?.[1]));
  t.ok(totals.length >= 1 && totals.every((n) => n > 0), `the hog printed its running total (${totals.join(', ')})`);
  t.ok(totals[totals.length - 1] <= 100, `its last total (${totals[totals.length - 1]} MB) is at most 100 MB`);

  const show = cgroupTool(['show', name, '--json']);
  t.equal(show.code, 0, show.stderr);
  const stats = JSON.parse(show.stdout);
  t.ok(stats.memory.failcnt > 0, `failcnt > 0 (${stats.memory.failcnt})`);
  t.ok(stats.memory.oom_kill >= 1, `an OOM kill is counted (${stats.memory.oom_kill})`);
  t.equal(stats.memory.max, 100 * 1024 * 1024);
  t.equal(stats.memory.swappiness, 0);
  const text = cgroupTool(['show', name]);
  t.match(text.stdout, /^OOM kills\s+1\s+\(memory\.oom_control\)/m, 'show names the file each number comes from');

  await until('watch to print the kill', () => /OOM kill in /.test(watch.output()));
  t.match(watch.output(), /^memory \S+ of 100M/m, 'watch prints memory usage');
  t.match(watch.output(), new RegExp(`^OOM kill in ${name}: .*\\(oom_kill 1\\)$`, 'm'), 'watch printed the kill event');

  // Ctrl-C ends a watch too; its blocked eventfd read must not keep it alive.
  const second = background(['watch', name]);
  await until('the second watch to start', () => /^watching /m.test(second.output()));
  second.child.kill('SIGINT');
  t.same(await second.exited, { code: 0, signal: null }, 'watch ends with status 0 on SIGINT');

  const del = cgroupTool(['delete', name]);
  t.equal(del.code, 0, del.stderr);
  const end = await watch.exited;
  t.equal(end.code, 0, 'watch ends when the cgroup is removed (the eventfd fires on rmdir)');
  t.match(watch.output(), `cgroup ${name} was removed`);
  t.notOk(existsSync(dir), 'the cgroup is gone');
});

t.test('pids: with --pids 20 a shell starting 50 sleeps cannot fork after about 20', rootOnly, async (t) => {
  const name = cg('pids');
  t.teardown(cleanUp);
  const created = cgroupTool(['create', name, '--pids', '20']);
  t.equal(created.code, 0, created.stderr);
  const dir = join(ownDir('pids'), name);
  t.equal(readFileSync(join(dir, 'pids.max'), 'utf8').trim(), '20');

  const script = 'i=0; while [ $i -lt 50 ]; do sleep 1000 >/dev/null 2>&1 </dev/null & i=$((i+1)); echo "started $i"; done';
  const r = cgroupTool(['exec', name, '--', 'sh', '-c', script]);
  t.not(r.code, 0, 'the shell failed');
  t.match(r.stderr, /fork/i, `fork failed: ${r.stderr.trim()}`);
  const last = Number(/started (\d+)\s*$/.exec(r.stdout)?.[1] ?? 0);
  t.ok(last >= 15 && last < 20, `about 20 processes fit: ${last} sleeps and the shell`);

  const stats = JSON.parse(cgroupTool(['show', name, '--json']).stdout);
  t.ok(stats.pids.current <= 20, `pids.current <= 20 (${stats.pids.current})`);
  t.equal(stats.pids.max, 20);
  t.equal(stats.processes.length, last, 'the sleeps are still in the cgroup');

  const busy = cgroupTool(['delete', name]);
  oneLineError(t, busy, new RegExp(`cannot delete ${name}: it has ${last} processes .* use --kill`), 'deleting a busy cgroup');
  t.ok(existsSync(dir), 'the refused cgroup is still there');
  const killed = cgroupTool(['--trace', 'delete', '--kill', name]);
  t.equal(killed.code, 0, killed.stderr);
  t.match(killed.stderr, /kill\(\d+, SIGKILL\) = 0/, 'v1: each task is killed');
  t.match(killed.stderr, `rmdir("${dir}") = 0`);
  t.notOk(existsSync(dir), 'the cgroup is gone');
});

async function freezeThaw(t: Test, name: string, kind: 'v1' | 'v2', dir: string, createArgs: string[]): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'nslab-cgroup-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const counter = join(work, 'counter');
  const created = cgroupTool(['create', name, ...createArgs]);
  t.equal(created.code, 0, created.stderr);
  t.ok(existsSync(dir), `the cgroup is in the ${kind} hierarchy: ${dir}`);
  const lines = () => (existsSync(counter) ? readFileSync(counter, 'utf8').split('\n').filter(Boolean).length : 0);
  const runner = background(['exec', name, '--', 'sh', '-c', `i=0; while :; do i=$((i+1)); echo $i >> ${counter}; sleep 0.02; done`]);
  await until('the counter to run', () => lines() >= 3);

  const frozen = cgroupTool(['--trace', 'freeze', name]);
  t.equal(frozen.code, 0, frozen.stderr);
  t.match(frozen.stderr, kind === 'v1' ? /write\(".*freezer\.state", "FROZEN"\)/ : /write\(".*cgroup\.freeze", "1"\)/, `${kind}: the right file is written`);
  t.match(frozen.stderr, kind === 'v1' ? /read\(".*freezer\.state"\) = "FROZEN"/ : /read\(".*cgroup\.events"\) = ".*frozen 1/, `${kind}: confirmed by the kernel`);
  const atFreeze = lines();
  await delay(400); // 20 steps' worth: any running counter would have moved
  t.equal(lines(), atFreeze, 'the counter does not advance while frozen');
  const stats = JSON.parse(cgroupTool(['show', name, '--json']).stdout);
  t.equal(stats.freezer.state, 'FROZEN');

  const thawed = cgroupTool(['thaw', name]);
  t.equal(thawed.code, 0, thawed.stderr);
  await until('the counter to resume', () => lines() > atFreeze);
  t.pass('the counter resumes after thaw');

  const del = cgroupTool(['delete', '--kill', name]);
  t.equal(del.code, 0, del.stderr);
  const end = await runner.exited;
  t.equal(end.signal, 'SIGKILL', 'delete --kill killed the counter');
  t.notOk(existsSync(dir));
}

t.test('freeze/thaw on the v1 freezer', rootOnly, async (t) => {
  t.teardown(cleanUp);
  const name = cg('freeze1');
  await freezeThaw(t, name, 'v1', join(ownDir('freezer'), name), ['-c', 'freezer']);
});

t.test('freeze/thaw on cgroup.freeze in the v2 hierarchy', rootOnly, async (t) => {
  t.teardown(cleanUp);
  const name = cg('freeze2');
  // No controller asked for: on a hybrid host the cgroup goes to the v2 hierarchy.
  await freezeThaw(t, name, 'v2', join(ownDir('v2'), name), []);
});

t.test('exec: the program is in the cgroup when it starts; add moves a running process', rootOnly, async (t) => {
  t.teardown(cleanUp);
  const name = cg('exec');
  t.equal(cgroupTool(['create', name, '-c', 'pids,memory']).code, 0);
  const r = cgroupTool(['exec', name, '--', 'cat', '/proc/self/cgroup']);
  t.equal(r.code, 0, r.stderr);
  const line = (c: string) => r.stdout.split('\n').find((l) => l.split(':')[1]?.split(',').includes(c));
  t.match(line('pids'), new RegExp(`:/${name}$`), 'cat read its own pids cgroup: the new one');
  t.match(line('memory'), new RegExp(`/${name}$`), 'and its memory cgroup');

  const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
  started.push(sleeper);
  const gone = new Promise<NodeJS.Signals | null>((res) => sleeper.on('exit', (_c, s) => res(s)));
  const added = cgroupTool(['add', name, String(sleeper.pid)]);
  t.equal(added.code, 0, added.stderr);
  t.match(readFileSync(`/proc/${sleeper.pid}/cgroup`, 'utf8'), new RegExp(`pids:/${name}\\n`), 'add moved the sleep');
  const stats = JSON.parse(cgroupTool(['show', name, '--json']).stdout);
  t.same(stats.processes, [sleeper.pid]);
  const tree = cgroupTool(['tree', name]);
  t.equal(tree.code, 0, tree.stderr);
  t.match(tree.stdout, new RegExp(`${name}.*\\[${sleeper.pid} sleep\\]`), 'tree lists the process');
  t.equal(cgroupTool(['delete', '--kill', name]).code, 0);
  t.equal(await gone, 'SIGKILL');
});

t.test('set/get, nested cgroups, tree, --cpu, delete -r', rootOnly, async (t) => {
  t.teardown(cleanUp);
  const name = cg('nest');
  const inner = `${name}/inner`;
  const c = cgroupTool(['create', inner, '--pids', '7', '--cpu', '50%']);
  t.equal(c.code, 0, c.stderr);
  t.equal(readFileSync(join(ownDir('cpu'), inner, 'cpu.cfs_quota_us'), 'utf8').trim(), '50000', '--cpu 50% is cfs_quota_us 50000 of a 100000 period');
  t.equal(cgroupTool(['get', inner, 'pids.max']).stdout, 'pids.max: 7\n');
  t.equal(cgroupTool(['set', inner, 'pids.max=9', 'cpu.cfs_quota_us=25000']).code, 0);
  t.equal(cgroupTool(['get', '-n', inner, 'pids.max', 'cpu.cfs_quota_us']).stdout, '9\n25000\n');
  const tree = cgroupTool(['tree', name]);
  t.match(tree.stdout, /└── inner {2}pids 9/, 'tree draws the child with its limit');
  const refused = cgroupTool(['delete', name]);
  oneLineError(t, refused, /has child cgroups \(inner\).*use -r/, 'delete without -r');
  t.ok(existsSync(join(ownDir('pids'), inner)), 'nothing was removed');
  t.equal(cgroupTool(['delete', '-r', name]).code, 0);
  t.notOk(existsSync(join(ownDir('pids'), name)));
  t.notOk(existsSync(join(ownDir('cpu'), name)));
});

t.test('errors: one line, exit 1, nothing half-made', rootOnly, async (t) => {
  t.teardown(cleanUp);
  const name = cg('err');
  oneLineError(t, cgroupTool(['create', name, '-c', 'nosuchcontroller']), /controller 'nosuchcontroller' is not available/, 'an unknown controller');
  oneLineError(t, cgroupTool(['create', join(ownDir('v2'), name), '--memory', '100M']), /controller 'memory' is not available in .*unified/, 'memory in a v2 hierarchy without it');
  oneLineError(t, cgroupTool(['create', name, '--memory', 'lots']), /invalid --memory 'lots'/, 'a non-numeric memory limit');
  oneLineError(t, cgroupTool(['create', name, '--pids', 'many']), /invalid --pids 'many'/, 'a non-numeric pids limit');
  oneLineError(t, cgroupTool(['create', name, '--cpu', 'half']), /invalid --cpu 'half'/, 'a bad cpu share');
  t.same(testCgroups(), [], 'no cgroup was made by the failures');
  // A failure after mkdir: the memory cgroup is made and limited, then the
  // kernel refuses pids.max above PID_MAX_LIMIT; both directories go again.
  oneLineError(t, cgroupTool(['create', name, '--memory', '100M', '--pids', '99999999']), /^ts-cgroup: cannot write pids\.max: Invalid argument$/m, 'a limit the kernel refuses');
  t.same(testCgroups(), [], 'nothing half-made');

  t.equal(cgroupTool(['create', name, '-c', 'memory']).code, 0);
  oneLineError(t, cgroupTool(['set', name, 'memory.nosuch=1']), /unknown file memory\.nosuch in cgroup/, 'an unknown key');
  oneLineError(t, cgroupTool(['get', name, 'pids.max']), /unknown file pids\.max/, 'a file of a controller the cgroup is not in');
  oneLineError(t, cgroupTool(['set', name, 'memory.limit_in_bytes=abc']), /^ts-cgroup: cannot write memory\.limit_in_bytes: Invalid argument$/m, 'EINVAL from the kernel');
  oneLineError(t, cgroupTool(['create', name, '-c', 'memory']), /File exists/, 'creating it twice');
  oneLineError(t, cgroupTool(['exec', cg('missing'), '--', 'true']), new RegExp(`cgroup ${cg('missing')} does not exist`), 'exec into a missing cgroup');
  oneLineError(t, cgroupTool(['delete', cg('missing')]), /does not exist/, 'deleting a missing cgroup');
  oneLineError(t, cgroupTool(['add', name, 'abc']), /invalid PID 'abc'/, 'a bad PID');
  const usage = cgroupTool(['frobnicate']);
  t.equal(usage.code, 1);
  t.match(usage.stderr, /unknown command 'frobnicate'/);
  t.equal(cgroupTool(['delete', name]).code, 0);
});

t.test('as nobody: one-line permission errors, nothing made, nothing run', async (t) => {
  t.teardown(cleanUp);
  const name = cg('nobody');
  const r = cgroupTool(['create', name, '--memory', '100M', '--pids', '10'], { as: 'nobody' });
  oneLineError(t, r, /cannot create .*: Permission denied/, 'create as nobody');
  t.same(testCgroups(), [], 'no cgroup was made');
  if (!isRoot()) return;
  t.equal(cgroupTool(['create', name, '-c', 'pids']).code, 0);
  const work = mkdtempSync(join(tmpdir(), 'nslab-cgroup-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const marker = join(work, 'ran');
  const e = cgroupTool(['exec', name, '--', 'sh', '-c', `echo > ${marker}`], { as: 'nobody' });
  oneLineError(t, e, /cannot write cgroup\.procs: Permission denied/, 'exec as nobody');
  t.notOk(existsSync(marker), 'the command never ran');
  oneLineError(t, cgroupTool(['delete', name], { as: 'nobody' }), /cannot remove .*: Permission denied/, 'delete as nobody');
  t.ok(existsSync(join(ownDir('pids'), name)), 'the cgroup is untouched');
  t.equal(cgroupTool(['delete', name]).code, 0);
});

t.test('v2 "no internal processes": enabling a controller below a busy cgroup is refused, explained, and undone', rootOnly, async (t) => {
  t.teardown(cleanUp);
  // The only controller this VM's v2 hierarchy has is hugetlb: enough to meet the rule on the real kernel.
  const own = ownDir('v2');
  const available = readFileSync(join(own, 'cgroup.controllers'), 'utf8').split(/\s+/);
  const enabledBefore = readFileSync(join(own, 'cgroup.subtree_control'), 'utf8');
  t.ok(available.includes('hugetlb'), 'hugetlb is available in the v2 hierarchy here');
  const name = cg('internal');
  t.equal(cgroupTool(['create', name]).code, 0);
  const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
  started.push(sleeper);
  const gone = new Promise<NodeJS.Signals | null>((res) => sleeper.on('exit', (_c, s) => res(s)));
  t.equal(cgroupTool(['add', name, String(sleeper.pid)]).code, 0);
  const r = cgroupTool(['create', `${name}/inner`, '-c', 'hugetlb']);
  oneLineError(t, r, /cannot write cgroup\.subtree_control: Device or resource busy \(cgroup v2's "no internal processes" rule: .*leaf/, 'a controller for the children of a cgroup with a process');
  t.notOk(existsSync(join(own, name, 'inner')), 'the child cgroup is removed again');
  t.equal(readFileSync(join(own, 'cgroup.subtree_control'), 'utf8'), enabledBefore, 'the parent\'s subtree_control is as it was');
  t.equal(cgroupTool(['delete', '--kill', name]).code, 0);
  t.equal(await gone, 'SIGKILL');
});

t.test('after the suite no test cgroup remains in any hierarchy', async (t) => {
  t.same(leaked, [], 'no test left a cgroup for the clean-up to remove');
  t.same(testCgroups(), [], 'none is left now');
  for (const c of started) if (c.exitCode === null && c.signalCode === null) await new Promise((r) => c.on('exit', r));
  t.same(children(), [], 'no process left behind');
});
