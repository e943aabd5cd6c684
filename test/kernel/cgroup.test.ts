// ts-cgroup on the real kernel of whatever host runs it: cgroup v1, v2 or
// hybrid. The layout is read here, independently of the tool, and each test
// asserts what THIS host must show (v1 file names on v1 hierarchies, v2's on
// v2); a test that needs a controller this host cannot give below our own
// cgroup skips with the reason. Every cgroup made here is named
// nslab-test-<pid>-... and is nested under the cgroup this test process
// started in (relative PATHs mean exactly that); the teardown proves none is
// left in any hierarchy. The pure translation and a fake v2 tree are in
// cgroup-fake-v2.test.ts.
import t, { Test } from 'tap';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_TAP, ROOT, cleanEnv, children, isRoot, runTool, tool } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

const PREFIX = `nslab-test-${process.pid}`;
const rootOnly = { skip: isRoot() ? false : 'needs root (CI runs as root)' };
const cg = (name: string) => `${PREFIX}-${name}`;

// ---- where this process's cgroups are, read independently of the tool

interface Mount {
  version: 1 | 2;
  mountPoint: string;
  /** v1: from the mount options; v2: cgroup.controllers of the top. */
  controllers: string[];
}

function cgroupMounts(): Mount[] {
  const seen = new Set<string>();
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [left = '', right = ''] = l.split(' - ');
      const [fstype, , opts = ''] = right.split(' ');
      if (fstype !== 'cgroup' && fstype !== 'cgroup2') return undefined;
      const device = left.split(' ')[2] ?? '';
      if (seen.has(device)) return undefined;
      seen.add(device);
      const mountPoint = left.split(' ')[4] ?? '';
      if (fstype === 'cgroup2')
        return { version: 2, mountPoint, controllers: readWords(join(mountPoint, 'cgroup.controllers')) } as Mount;
      return { version: 1, mountPoint, controllers: opts.split(',') } as Mount;
    })
    .filter((m): m is Mount => m !== undefined);
}

function readWords(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

const MOUNTS = cgroupMounts();
const V1 = MOUNTS.filter((m) => m.version === 1);
const V2 = MOUNTS.find((m) => m.version === 2);
const MODE = V1.length && V2 ? 'hybrid' : V1.length ? 'v1' : V2 ? 'v2' : 'none';

/** This process's cgroup path in the hierarchy that has `controller` (or the v2 one). */
function ownPath(controller: string | 'v2'): string {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  const line = lines.find((l) =>
    controller === 'v2'
      ? l.startsWith('0::')
      : l.split(':')[0] !== '0' && (l.split(':')[1] ?? '').split(',').includes(controller),
  )!;
  return line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
}

/** Where a cgroup with `controller` goes, as the kernel allows it here; or why it cannot be made below our own cgroup. */
interface Place {
  version: 1 | 2;
  /** Our own cgroup's directory in that hierarchy. */
  own: string;
}

function place(controller: string | 'none'): Place | string {
  const v1 = V1.find((m) => controller !== 'none' && m.controllers.includes(controller));
  if (v1) return { version: 1, own: join(v1.mountPoint, ownPath(controller)) };
  if (!V2)
    return controller === 'none'
      ? 'no cgroup v2 hierarchy (a cgroup without a controller lives there)'
      : `no ${controller} controller on this host`;
  const own = join(V2.mountPoint, ownPath('v2'));
  if (controller === 'none') return { version: 2, own };
  if (!V2.controllers.includes(controller))
    return `no ${controller} controller: not a v1 hierarchy, not in ${V2.mountPoint}/cgroup.controllers`;
  // cgroup v2 "no internal processes": only a cgroup without processes (or
  // the root) can give a controller to its children, and this process is in its own.
  if (ownPath('v2') !== '/' && !readWords(join(own, 'cgroup.subtree_control')).includes(controller))
    return `cgroup v2: our cgroup ${ownPath('v2')} has processes (this test among them), so the kernel lets no child of it have the ${controller} controller; run the tests from the root cgroup`;
  return { version: 2, own };
}

/** The places of several controllers, or the first reason one is missing. */
function places(...controllers: string[]): Record<string, Place> | string {
  const out: Record<string, Place> = {};
  for (const c of controllers) {
    const p = place(c);
    if (typeof p === 'string') return p;
    out[c] = p;
  }
  return out;
}

function kernelAtLeast(major: number, minor: number): boolean {
  const [a = 0, b = 0] = release()
    .split('.')
    .map((x) => parseInt(x, 10));
  return a > major || (a === major && b >= minor);
}

const skipUnless = (p: unknown) => ({
  skip: !isRoot() ? 'needs root (CI runs as root)' : typeof p === 'string' ? p : false,
});

/** The line of /proc/PID/cgroup (text) that holds `controller` on this host. */
function lineFor(text: string, controller: string): string | undefined {
  const p = place(controller);
  const v2 = typeof p !== 'string' && p.version === 2;
  return text
    .split('\n')
    .find((l) =>
      v2 ? l.startsWith('0::') : l.split(':')[0] !== '0' && l.split(':')[1]?.split(',').includes(controller),
    );
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
  for (const m of MOUNTS) walk(m.mountPoint, 0);
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
    for (const [file, thawed] of [
      ['freezer.state', 'THAWED'],
      ['cgroup.freeze', '0'],
    ] as const) {
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
  if (!(await waitFor(cond, { timeoutMs: limitMs, intervalMs: 25 }))) throw new Error(`gave up waiting for ${what}`);
}

interface Background {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: ChildProcess[] = [];
function background(args: string[]): Background {
  const child = spawn(NO_TAP[0]!, [...NO_TAP.slice(1), tool('cgroup'), ...args], {
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
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

// Controllers this run added to our own v2 cgroup's subtree_control (only
// possible when that is the root cgroup): taken back at the end.
const v2Own = V2 ? join(V2.mountPoint, ownPath('v2')) : undefined;
const enabledBefore = v2Own ? readWords(join(v2Own, 'cgroup.subtree_control')) : [];

t.before(() => removeTestCgroups());
t.teardown(async () => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await removeTestCgroups();
  if (v2Own) {
    const added = readWords(join(v2Own, 'cgroup.subtree_control')).filter((c) => !enabledBefore.includes(c));
    for (const c of added) {
      try {
        writeFileSync(join(v2Own, 'cgroup.subtree_control'), `-${c}`);
      } catch {
        // another cgroup below ours uses it: leave it
      }
    }
  }
});

const MODE_LINE: Record<string, RegExp> = { v1: /^mode: v1 /m, v2: /^mode: v2 /m, hybrid: /^mode: hybrid /m };

t.test(`info: this host is ${MODE}, and the caller's cgroups match /proc/self/cgroup`, rootOnly, async (t) => {
  const r = cgroupTool(['info', '--json']);
  t.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  t.equal(info.mode, MODE, 'the mode read from /proc/self/mountinfo');
  t.equal(info.hierarchies.length, MOUNTS.length, 'one entry per hierarchy');
  for (const h of info.hierarchies) {
    const own = h.version === 2 ? ownPath('v2') : ownPath(h.controllers[0] ?? `name=${h.name}`);
    t.equal(h.cgroup, own, `own cgroup in ${h.mountpoint} as /proc/self/cgroup says`);
  }
  if (V1.some((m) => m.controllers.includes('memory')) || V2?.controllers.includes('memory'))
    t.ok(
      info.hierarchies.some((h: { controllers: string[] }) => h.controllers.includes('memory')),
      'the memory controller is listed',
    );
  const text = cgroupTool(['info']);
  t.match(text.stdout, MODE_LINE[MODE], `the text starts with "mode: ${MODE}", as labs match it`);
  oneLineUsage(t, cgroupTool(['info', 'extra']), /info: unexpected operand 'extra'/, 'an extra operand');
});

function oneLineUsage(t: Test, r: { code: number | null; stderr: string }, pattern: RegExp, what: string): void {
  t.equal(r.code, 1, `${what}: exit 1`);
  t.match(r.stderr, pattern, `${what}: says why`);
  t.match(r.stderr, /Try 'ts-cgroup --help'/, `${what}: with the usage hint`);
}

const memPlace = place('memory');
t.test(
  `memory: a hog dies at 100M by OOM kill, show and watch report it${typeof memPlace === 'string' ? '' : ` (v${memPlace.version})`}`,
  skipUnless(memPlace),
  async (t) => {
    const { version, own } = memPlace as Place;
    const name = cg('mem');
    t.teardown(cleanUp);
    const dir = join(own, name);
    // v1: no memsw limit, so memory.failcnt counts the limit hits; v2: no swap at all.
    const swapArgs =
      version === 1
        ? ['--swappiness', '0']
        : existsSync(join(own, 'memory.swap.max')) || ownPath('v2') === '/'
          ? ['--swap', '0']
          : [];
    const created = cgroupTool(['--trace', 'create', name, '--memory', '100M', ...swapArgs]);
    t.equal(created.code, 0, created.stderr);
    const limitFile = version === 1 ? 'memory.limit_in_bytes' : 'memory.max';
    t.equal(readFileSync(join(dir, limitFile), 'utf8').trim(), String(100 * 1024 * 1024), `${limitFile} is 100M`);
    if (version === 1)
      t.equal(readFileSync(join(dir, 'memory.swappiness'), 'utf8').trim(), '0', 'memory.swappiness is 0');
    else if (swapArgs.length)
      t.equal(readFileSync(join(dir, 'memory.swap.max'), 'utf8').trim(), '0', 'memory.swap.max is 0');
    t.match(created.stderr, `mkdir("${dir}", 0755) = 0`, '--trace shows the mkdir');
    t.match(created.stderr, `write("${dir}/${limitFile}", "104857600") = 9`, '--trace shows the limit written');
    if (version === 2)
      t.ok(
        readWords(join(own, 'cgroup.subtree_control')).includes('memory'),
        "v2: memory is enabled in our cgroup's cgroup.subtree_control",
      );

    const watch = background(['watch', name, '--interval', '0.2']);
    await until('watch to start', () => /^watching /m.test(watch.output()));
    if (version === 1)
      t.match(
        watch.output(),
        /eventfd \d+ registered in cgroup\.event_control for memory\.oom_control/,
        'v1 OOM events come through an eventfd',
      );
    else t.match(watch.output(), /OOM kills via inotify on memory\.events/, 'v2 OOM events come from memory.events');

    const hog = runTool('cgroup', ['exec', name, '--', process.execPath, join(ROOT, 'dist/programs/memhog.cjs')]);
    t.equal(hog.signal, 'SIGKILL', 'the hog died by SIGKILL (and ts-cgroup exec ended the same way)');
    const totals = hog.stdout
      .trim()
      .split('\n')
      .map((l) => Number(/^(\d+) MB$/.exec(l)?.[1]));
    t.ok(totals.length >= 1 && totals.every((n) => n > 0), `the hog printed its running total (${totals.join(', ')})`);
    t.ok(totals.at(-1)! <= 100, `its last total (${totals.at(-1)} MB) is at most 100 MB`);

    const show = cgroupTool(['show', name, '--json']);
    t.equal(show.code, 0, show.stderr);
    const stats = JSON.parse(show.stdout);
    t.ok(
      stats.memory.failcnt > 0,
      `limit hits > 0 (${stats.memory.failcnt}, from ${version === 1 ? 'memory.failcnt' : 'the max line of memory.events'})`,
    );
    t.ok(stats.memory.oom_kill >= 1, `an OOM kill is counted (${stats.memory.oom_kill})`);
    if (version === 2) {
      const events = readFileSync(join(dir, 'memory.events'), 'utf8');
      t.match(events, /^oom_kill [1-9]/m, 'memory.events counts the kill, read directly');
      t.equal(stats.memory.oom_kill, Number(/^oom_kill (\d+)/m.exec(events)![1]), 'show reports the same count');
    }
    t.equal(stats.memory.max, 100 * 1024 * 1024);
    if (version === 1) t.equal(stats.memory.swappiness, 0);
    const text = cgroupTool(['show', name]);
    t.match(
      text.stdout,
      version === 1 ? /^OOM kills\s+1\s+\(memory\.oom_control\)/m : /^OOM kills\s+1\s+\(memory\.events\)/m,
      'show names the file each number comes from',
    );

    await until('watch to print the kill', () => /OOM kill in /.test(watch.output()));
    t.match(watch.output(), /^memory \S+ of 100M/m, 'watch prints memory usage');
    t.match(
      watch.output(),
      new RegExp(`^OOM kill in ${name}: .*\\(oom_kill 1\\)$`, 'm'),
      'watch printed the kill event',
    );

    // Ctrl-C ends a watch too; its blocked read (v1 eventfd) must not keep it alive.
    const second = background(['watch', name]);
    await until('the second watch to start', () => /^watching /m.test(second.output()));
    second.child.kill('SIGINT');
    t.same(await second.exited, { code: 0, signal: null }, 'watch ends with status 0 on SIGINT');

    const del = cgroupTool(['delete', name]);
    t.equal(del.code, 0, del.stderr);
    const end = await watch.exited;
    t.equal(end.code, 0, 'watch ends when the cgroup is removed');
    t.match(watch.output(), `cgroup ${name} was removed`);
    t.notOk(existsSync(dir), 'the cgroup is gone');
  },
);

const pidsPlace = place('pids');
t.test(
  'pids: with --pids 20 a shell starting 50 sleeps cannot fork after about 20',
  skipUnless(pidsPlace),
  async (t) => {
    const { version, own } = pidsPlace as Place;
    const name = cg('pids');
    t.teardown(cleanUp);
    const created = cgroupTool(['create', name, '--pids', '20']);
    t.equal(created.code, 0, created.stderr);
    const dir = join(own, name);
    t.equal(readFileSync(join(dir, 'pids.max'), 'utf8').trim(), '20');

    const script =
      'i=0; while [ $i -lt 50 ]; do sleep 1000 >/dev/null 2>&1 </dev/null & i=$((i+1)); echo "started $i"; done';
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
    oneLineError(
      t,
      busy,
      new RegExp(`cannot delete ${name}: it has ${last} processes .* use --kill`),
      'deleting a busy cgroup',
    );
    t.ok(existsSync(dir), 'the refused cgroup is still there');
    const killed = cgroupTool(['--trace', 'delete', '--kill', name]);
    t.equal(killed.code, 0, killed.stderr);
    // The cgroup is in the v2 tree on v2 and on hybrid hosts (made there next
    // to the v1 controllers): cgroup.kill there (Linux 5.14+), else kill(2) each task.
    if (V2 && kernelAtLeast(5, 14))
      t.match(
        killed.stderr,
        `write("${join(v2Own!, name)}/cgroup.kill", "1") = 1`,
        `${MODE}: one write to cgroup.kill in the v2 tree`,
      );
    else
      t.match(
        killed.stderr,
        /kill\(\d+, SIGKILL\) = 0/,
        `${MODE}${version === 2 ? ' before 5.14' : ''}: each task is killed`,
      );
    t.match(killed.stderr, `rmdir("${dir}") = 0`);
    t.notOk(existsSync(dir), 'the cgroup is gone');
  },
);

async function freezeThaw(t: Test, name: string, kind: 'v1' | 'v2', dir: string, createArgs: string[]): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'nslab-cgroup-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const counter = join(work, 'counter');
  const created = cgroupTool(['create', name, ...createArgs]);
  t.equal(created.code, 0, created.stderr);
  t.ok(existsSync(dir), `the cgroup is in the ${kind} hierarchy: ${dir}`);
  const lines = () => (existsSync(counter) ? readFileSync(counter, 'utf8').split('\n').filter(Boolean).length : 0);
  const runner = background([
    'exec',
    name,
    '--',
    'sh',
    '-c',
    `i=0; while :; do i=$((i+1)); echo $i >> ${counter}; sleep 0.02; done`,
  ]);
  await until('the counter to run', () => lines() >= 3);

  const frozen = cgroupTool(['--trace', 'freeze', name]);
  t.equal(frozen.code, 0, frozen.stderr);
  t.match(
    frozen.stderr,
    kind === 'v1' ? /write\(".*freezer\.state", "FROZEN"\)/ : /write\(".*cgroup\.freeze", "1"\)/,
    `${kind}: the right file is written`,
  );
  t.match(
    frozen.stderr,
    kind === 'v1' ? /read\(".*freezer\.state"\) = "FROZEN"/ : /read\(".*cgroup\.events"\) = ".*frozen 1/,
    `${kind}: confirmed by the kernel`,
  );
  const atFreeze = lines();
  await delay(400); // 20 steps' worth: any running counter would have moved
  t.equal(lines(), atFreeze, 'the counter does not advance while frozen');
  const stats = JSON.parse(cgroupTool(['show', name, '--json']).stdout);
  t.equal(stats.freezer.state, 'FROZEN');

  const thawed = cgroupTool(['thaw', name]);
  t.equal(thawed.code, 0, thawed.stderr);
  await until('the counter to resume', () => lines() > atFreeze);
  t.pass('the counter resumes after thaw');

  // Frozen again, then delete --kill: the tasks must die although frozen.
  t.equal(cgroupTool(['freeze', name]).code, 0, 'frozen again');
  const del = cgroupTool(['--trace', 'delete', '--kill', name]);
  t.equal(
    del.code,
    0,
    `delete --kill of a frozen cgroup: ${del.stderr
      .split('\n')
      .filter((l) => !l.startsWith('['))
      .join(' ')}`,
  );
  if (kind === 'v1')
    t.match(del.stderr, /write\(".*freezer\.state", "THAWED"\)/, 'v1: thawed after the SIGKILL, so the tasks can die');
  else if (kernelAtLeast(5, 14))
    t.match(del.stderr, `write("${dir}/cgroup.kill", "1") = 1`, 'v2: cgroup.kill, which a freeze does not stop');
  const end = await runner.exited;
  t.equal(end.signal, 'SIGKILL', 'delete --kill killed the counter');
  t.notOk(existsSync(dir));
}

const freezerV1 = V1.find((m) => m.controllers.includes('freezer'));
t.test(
  'freeze/thaw on the v1 freezer',
  skipUnless(
    freezerV1 ? place('freezer') : 'no v1 freezer hierarchy on this host (v2 freezes with cgroup.freeze, tested next)',
  ),
  async (t) => {
    t.teardown(cleanUp);
    const name = cg('freeze1');
    await freezeThaw(t, name, 'v1', join((place('freezer') as Place).own, name), ['-c', 'freezer']);
  },
);

const v2Freeze = !V2
  ? 'no cgroup v2 hierarchy on this host'
  : !kernelAtLeast(5, 2)
    ? 'this kernel has no cgroup.freeze (Linux 5.2+)'
    : false;
t.test('freeze/thaw on cgroup.freeze in the v2 hierarchy', skipUnless(v2Freeze || place('none')), async (t) => {
  t.teardown(cleanUp);
  const name = cg('freeze2');
  // No controller asked for: the cgroup goes to the v2 hierarchy (on a hybrid host too).
  await freezeThaw(t, name, 'v2', join((place('none') as Place).own, name), []);
});

// With pids and memory where this host can give them below us; else (a v2
// cgroup with processes) a cgroup without controllers.
const execPlaces = places('pids', 'memory');
const execControllers = typeof execPlaces !== 'string';
t.test(
  `exec: the program is in the cgroup when it starts; add moves a running process${execControllers ? '' : ' (no controllers)'}`,
  skipUnless(execControllers ? execPlaces : place('none')),
  async (t) => {
    t.teardown(cleanUp);
    const name = cg('exec');
    t.equal(cgroupTool(['create', name, ...(execControllers ? ['-c', 'pids,memory'] : [])]).code, 0);
    const r = cgroupTool(['exec', name, '--', 'cat', '/proc/self/cgroup']);
    t.equal(r.code, 0, r.stderr);
    // The line of /proc/self/cgroup that shows it: the controller's (v1) or 0:: (v2).
    const which = (c: string) =>
      execControllers && (execPlaces as Record<string, Place>)[c]?.version === 1 ? c : 'v2';
    const line = (text: string, c: string) =>
      which(c) === 'v2' ? text.split('\n').find((l) => l.startsWith('0::')) : lineFor(text, c);
    t.equal(
      line(r.stdout, 'pids')?.split(':')[2],
      join(ownPath(which('pids')), name),
      'cat read its own cgroup: the new one',
    );
    t.equal(
      line(r.stdout, 'memory')?.split(':')[2],
      join(ownPath(which('memory')), name),
      'and its memory cgroup (the same on v2)',
    );

    const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
    started.push(sleeper);
    const gone = new Promise<NodeJS.Signals | null>((res) => sleeper.on('exit', (_c, s) => res(s)));
    const added = cgroupTool(['add', name, String(sleeper.pid)]);
    t.equal(added.code, 0, added.stderr);
    t.match(
      line(readFileSync(`/proc/${sleeper.pid}/cgroup`, 'utf8'), 'pids'),
      new RegExp(`/${name}$`),
      'add moved the sleep',
    );
    const stats = JSON.parse(cgroupTool(['show', name, '--json']).stdout);
    t.same(stats.processes, [sleeper.pid]);
    const tree = cgroupTool(['tree', name]);
    t.equal(tree.code, 0, tree.stderr);
    t.match(tree.stdout, new RegExp(`${name}.*\\[${sleeper.pid} sleep\\]`), 'tree lists the process');
    t.equal(cgroupTool(['delete', '--kill', name]).code, 0);
    t.equal(await gone, 'SIGKILL');
  },
);

const nestPlaces = places('pids', 'cpu');
t.test('set/get, nested cgroups, tree, --cpu, delete -r', skipUnless(nestPlaces), async (t) => {
  t.teardown(cleanUp);
  const { pids, cpu } = nestPlaces as Record<'pids' | 'cpu', Place>;
  const name = cg('nest');
  const inner = `${name}/inner`;
  const c = cgroupTool(['create', inner, '--pids', '7', '--cpu', '50%']);
  t.equal(c.code, 0, c.stderr);
  if (cpu.version === 1) {
    t.equal(
      readFileSync(join(cpu.own, inner, 'cpu.cfs_quota_us'), 'utf8').trim(),
      '50000',
      '--cpu 50% is cfs_quota_us 50000 of a 100000 period',
    );
  } else {
    t.equal(
      readFileSync(join(cpu.own, inner, 'cpu.max'), 'utf8').trim(),
      '50000 100000',
      '--cpu 50% is cpu.max "50000 100000"',
    );
    t.same(
      readWords(join(cpu.own, name, 'cgroup.subtree_control'))
        .filter((x) => x === 'cpu' || x === 'pids')
        .sort(),
      ['cpu', 'pids'],
      'v2: the new parent hands cpu and pids down in cgroup.subtree_control',
    );
  }
  t.equal(cgroupTool(['get', inner, 'pids.max']).stdout, 'pids.max: 7\n');
  const quotaKey = cpu.version === 1 ? 'cpu.cfs_quota_us' : 'cpu.max';
  const quotaValue = cpu.version === 1 ? '25000' : '25000 100000';
  t.equal(cgroupTool(['set', inner, 'pids.max=9', `${quotaKey}=${quotaValue}`]).code, 0);
  t.equal(cgroupTool(['get', '-n', inner, 'pids.max', quotaKey]).stdout, `9\n${quotaValue}\n`);
  const tree = cgroupTool(['tree', name]);
  t.match(tree.stdout, /└── inner {2}pids 9/, 'tree draws the child with its limit');
  const refused = cgroupTool(['delete', name]);
  oneLineError(t, refused, /has child cgroups \(inner\).*use -r/, 'delete without -r');
  t.ok(existsSync(join(pids.own, inner)), 'nothing was removed');
  t.equal(cgroupTool(['delete', '-r', name]).code, 0);
  t.notOk(existsSync(join(pids.own, name)));
  t.notOk(existsSync(join(cpu.own, name)));
});

// With the pids controller where this host can give it below us; else a
// cgroup without controllers (v2), which every host with a v2 tree allows.
const withPids = typeof pidsPlace !== 'string';
const anyPlace = withPids ? pidsPlace : place('none');
const anyArgs = withPids ? ['-c', 'pids'] : [];
t.test('errors: one line, exit 1, nothing half-made', skipUnless(anyPlace), async (t) => {
  t.teardown(cleanUp);
  const name = cg('err');
  oneLineError(
    t,
    cgroupTool(['create', name, '-c', 'nosuchcontroller']),
    /controller 'nosuchcontroller' is not available/,
    'an unknown controller',
  );
  const v2WithoutMemory = V2 && !V2.controllers.includes('memory');
  if (v2WithoutMemory)
    oneLineError(
      t,
      cgroupTool(['create', join(v2Own!, name), '--memory', '100M']),
      new RegExp(`controller 'memory' is not available in ${V2.mountPoint}/cgroup.controllers`),
      'memory in a v2 hierarchy without it',
    );
  oneLineError(
    t,
    cgroupTool(['create', name, '--memory', 'lots']),
    /invalid --memory 'lots'/,
    'a non-numeric memory limit',
  );
  oneLineError(t, cgroupTool(['create', name, '--pids', 'many']), /invalid --pids 'many'/, 'a non-numeric pids limit');
  oneLineError(t, cgroupTool(['create', name, '--cpu', 'half']), /invalid --cpu 'half'/, 'a bad cpu share');
  oneLineError(
    t,
    cgroupTool(['create', name, '--cpu', '0.5%']),
    /--cpu is below the kernel's minimum quota of 1000 us/,
    'a cpu quota below 1 ms',
  );
  t.same(testCgroups(), [], 'no cgroup was made by the failures');
  // A failure after mkdir: the cgroup is made, then the kernel refuses
  // pids.max above PID_MAX_LIMIT; the directories go again.
  if (withPids) {
    oneLineError(
      t,
      cgroupTool(['create', name, '--pids', '99999999']),
      /^ts-cgroup: cannot write pids\.max: Invalid argument$/m,
      'a limit the kernel refuses',
    );
    t.same(testCgroups(), [], 'nothing half-made');
  }

  // '..' would climb out of our own cgroup: refused, nothing made anywhere.
  for (const bad of ['../nslab-qa-up', `${name}/../../x`]) {
    const r = cgroupTool(['create', bad]);
    oneLineUsage(t, r, /'\.\.' is not allowed in a cgroup path/, `create ${bad}`);
  }
  for (const m of MOUNTS)
    t.notOk(existsSync(join(m.mountPoint, 'nslab-qa-up')), `nothing made at the top of ${m.mountPoint}`);
  oneLineUsage(t, cgroupTool(['show', name, 'extra']), /show: unexpected operand 'extra'/, 'an extra operand to show');

  t.equal(cgroupTool(['create', name, ...anyArgs]).code, 0);
  oneLineError(t, cgroupTool(['set', name, 'pids.nosuch=1']), /unknown file pids\.nosuch in cgroup/, 'an unknown key');
  // A file every such cgroup has, and a value its kernel parser rejects.
  const [file, bad] = withPids ? ['pids.max', 'abc'] : ['cgroup.freeze', 'abc'];
  oneLineError(
    t,
    cgroupTool(['set', name, `${file}=${bad}`]),
    new RegExp(`^ts-cgroup: cannot write ${file.replace('.', '\\.')}: Invalid argument$`, 'm'),
    'EINVAL from the kernel',
  );
  oneLineError(t, cgroupTool(['create', name, ...anyArgs]), /File exists/, 'creating it twice');
  oneLineError(
    t,
    cgroupTool(['exec', cg('missing'), '--', 'true']),
    new RegExp(`cgroup ${cg('missing')} does not exist`),
    'exec into a missing cgroup',
  );
  oneLineError(t, cgroupTool(['delete', cg('missing')]), /does not exist/, 'deleting a missing cgroup');
  oneLineError(t, cgroupTool(['add', name, 'abc']), /invalid PID 'abc'/, 'a bad PID');
  const usage = cgroupTool(['frobnicate']);
  t.equal(usage.code, 1);
  t.match(usage.stderr, /unknown command 'frobnicate'/);
  t.equal(cgroupTool(['delete', name]).code, 0);
});

t.test('as nobody: one-line permission errors, nothing made, nothing run', skipUnless(anyPlace), async (t) => {
  t.teardown(cleanUp);
  const name = cg('nobody');
  const r = cgroupTool(['create', name, ...(withPids ? ['--pids', '10'] : [])], { as: 'nobody' });
  oneLineError(t, r, /cannot create .*: Permission denied/, 'create as nobody');
  t.same(testCgroups(), [], 'no cgroup was made');
  t.equal(cgroupTool(['create', name, ...anyArgs]).code, 0);
  const work = mkdtempSync(join(tmpdir(), 'nslab-cgroup-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const marker = join(work, 'ran');
  const e = cgroupTool(['exec', name, '--', 'sh', '-c', `echo > ${marker}`], { as: 'nobody' });
  oneLineError(t, e, /cannot write cgroup\.procs: Permission denied/, 'exec as nobody');
  t.notOk(existsSync(marker), 'the command never ran');
  oneLineError(
    t,
    cgroupTool(['delete', name], { as: 'nobody' }),
    /cannot remove .*: Permission denied/,
    'delete as nobody',
  );
  t.ok(existsSync(join((anyPlace as Place).own, name)), 'the cgroup is untouched');
  t.equal(cgroupTool(['delete', name]).code, 0);
});

// A controller our v2 cgroup can hand to a child of ours: whatever it
// enables already, or (as the root) whatever it has.
const v2Controller =
  v2Own && (ownPath('v2') === '/' ? V2!.controllers : readWords(join(v2Own, 'cgroup.subtree_control')))[0];
t.test(
  'v2 "no internal processes": a controller below a cgroup with a process is refused before anything changes',
  skipUnless(
    !V2
      ? 'no cgroup v2 hierarchy'
      : !v2Controller
        ? `our v2 cgroup ${ownPath('v2')} can give no controller to its children`
        : false,
  ),
  async (t) => {
    t.teardown(cleanUp);
    const name = cg('internal');
    t.equal(cgroupTool(['create', name]).code, 0);
    const enabled = readFileSync(join(v2Own!, 'cgroup.subtree_control'), 'utf8');
    const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
    started.push(sleeper);
    const gone = new Promise<NodeJS.Signals | null>((res) => sleeper.on('exit', (_c, s) => res(s)));
    t.equal(cgroupTool(['add', name, String(sleeper.pid)]).code, 0);
    const r = cgroupTool(['create', `${name}/inner`, '-c', v2Controller!]);
    t.equal(r.code, 1);
    t.match(
      r.stderr,
      new RegExp(
        `^ts-cgroup: cannot enable ${v2Controller} below ${join(ownPath('v2'), name)}: it has 1 process \\(${sleeper.pid}\\), and cgroup v2's "no internal processes" rule`,
        'm',
      ),
      'says which cgroup, which process and which rule',
    );
    t.match(r.stderr, /^ts-cgroup: hint: use an absolute PATH/m, 'and what to do instead');
    t.notOk(existsSync(join(v2Own!, name, 'inner')), 'the child cgroup was not made');
    t.equal(readFileSync(join(v2Own!, 'cgroup.subtree_control'), 'utf8'), enabled, 'our subtree_control is as it was');
    t.equal(
      readFileSync(join(v2Own!, name, 'cgroup.subtree_control'), 'utf8').trim(),
      '',
      "the busy cgroup's subtree_control is as it was",
    );
    t.equal(cgroupTool(['delete', '--kill', name]).code, 0);
    t.equal(await gone, 'SIGKILL');
  },
);

t.test(
  'v2, our own cgroup busy: a relative cgroup with a controller is refused and explained',
  skipUnless(
    !V2 || MODE !== 'v2'
      ? 'only on a pure v2 host'
      : ownPath('v2') === '/'
        ? 'our v2 cgroup is the root, which the rule exempts'
        : false,
  ),
  async (t) => {
    t.teardown(cleanUp);
    const name = cg('busy-own');
    const r = cgroupTool(['create', name, '--pids', '10']);
    t.equal(r.code, 1);
    t.match(r.stderr, new RegExp(`cannot enable pids below ${ownPath('v2')}: it has \\d+ process`), 'names our cgroup');
    t.same(testCgroups(), [], 'nothing made');
    t.equal(cgroupTool(['create', name]).code, 0, 'a cgroup without a controller is still allowed there');
    t.equal(cgroupTool(['delete', name]).code, 0);
  },
);

t.test('after the suite no test cgroup remains in any hierarchy', async (t) => {
  t.same(leaked, [], 'no test left a cgroup for the clean-up to remove');
  t.same(testCgroups(), [], 'none is left now');
  for (const c of started) if (c.exitCode === null && c.signalCode === null) await new Promise((r) => c.on('exit', r));
  t.same(children(), [], 'no process left behind');
});
