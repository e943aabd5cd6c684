// Shared by the tests: run the built tools (bin/ts-*), as root or as an
// unprivileged user, and take inventories of what the system holds so a
// test can prove it left nothing behind.
import { spawnSync, SpawnSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** run as this unprivileged user through setpriv (uid=gid=65534 for 'nobody') */
  as?: 'nobody';
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeout?: number;
}

export const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'];

let nobodyRoot: string | undefined;
/**
 * A checkout nobody can reach. A home directory is 0700 on Debian 13 (and
 * others), so nobody cannot run the tools of a checkout kept there: then
 * the built tools (bin/, dist/, koffi) are copied once to a world-readable
 * directory under /tmp, removed when the test process exits.
 */
function reachableRoot(): string {
  if (nobodyRoot) return nobodyRoot;
  const probe = spawnSync(NOBODY[0]!, [...NOBODY.slice(1), 'test', '-r', join(ROOT, 'package.json')], {
    stdio: 'ignore',
  });
  if (probe.status === 0) return (nobodyRoot = ROOT);
  const copy = mkdtempSync('/tmp/nslab-tools-for-nobody-');
  for (const part of ['package.json', 'bin', 'dist', 'node_modules/koffi', 'node_modules/@koromix']) {
    if (existsSync(join(ROOT, part))) cpSync(join(ROOT, part), join(copy, part), { recursive: true });
  }
  spawnSync('chmod', ['-R', 'a+rX', copy]);
  process.on('exit', () => rmSync(copy, { recursive: true, force: true }));
  return (nobodyRoot = copy);
}

/**
 * argv run as nobody (setpriv), with this checkout's tools (in argv and on
 * PATH) taken from where nobody can reach them: see reachableRoot().
 */
export function asNobody(argv: string[]): string[] {
  const root = reachableRoot();
  if (root === ROOT) return [...NOBODY, ...argv];
  const bin = join(root, 'bin');
  const moved = argv.map((a) => (a.startsWith(ROOT + '/') ? root + a.slice(ROOT.length) : a));
  const path = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').filter((d) => d !== BIN);
  return [...NOBODY, 'env', `PATH=${bin}:${path.join(':')}`, ...moved];
}
/** Prefix for commands started outside run(): see cleanEnv(). */
export const NO_TAP = ['env', '-u', 'NODE_OPTIONS'];

/**
 * The environment for the tools under test, without the test runner's
 * variables. tap also re-adds NODE_OPTIONS (a preload that writes to .tap/,
 * which a tool running as nobody may not do) to every spawn, so run() starts
 * commands through `env -u NODE_OPTIONS` as well.
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (k !== 'NODE_OPTIONS' && !k.startsWith('TAP') && !k.startsWith('_TAP')) env[k] = v;
  // The tools of this checkout come first on PATH (labs run them by name),
  // whatever `npm link` made global.
  env.PATH = `${BIN}:${env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`;
  // ts-lab records no progress in root's home for the tests (docs/teaching.md).
  env.NSLAB_PROGRESS_FILE ??= 'off';
  // ts-lab records no progress in root's home for the tests (docs/teaching.md).
  env.NSLAB_PROGRESS_FILE ??= 'off';
  return { ...env, ...extra };
}

/** The path of a built tool: tool('unshare') -> .../bin/ts-unshare */
export function tool(name: string): string {
  return join(BIN, `ts-${name}`);
}

export function run(argv: string[], opts: RunOptions = {}): RunResult {
  const full = ['env', '-u', 'NODE_OPTIONS', ...(opts.as === 'nobody' ? asNobody(argv) : argv)];
  const spawnOpts: SpawnSyncOptions = {
    input: opts.input ?? '',
    env: opts.env ?? cleanEnv(),
    cwd: opts.cwd ?? '/',
    timeout: opts.timeout ?? 60_000,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  };
  const r = spawnSync(full[0]!, full.slice(1), spawnOpts);
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Run one of our tools: runTool('unshare', ['-fp', 'true']). */
export function runTool(name: string, args: string[], opts: RunOptions = {}): RunResult {
  return run([tool(name), ...args], opts);
}

export function sh(script: string, opts: RunOptions = {}): RunResult {
  return run(['sh', '-c', script], opts);
}

export function isRoot(): boolean {
  return process.geteuid?.() === 0;
}

/** A skip reason when not root: in CI (root) nothing may skip for this. */
export function needRoot(): string | false {
  return isRoot() ? false : 'needs root (CI runs as root)';
}

/** Mount points of this mount namespace, one string each. */
export function mounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '');
}

export function netnsFiles(): string[] {
  return existsSync('/run/netns') ? readdirSync('/run/netns').sort() : [];
}

export function links(): string[] {
  const r = run(['ip', '-o', 'link']);
  return r.stdout
    .trim()
    .split('\n')
    .flatMap((l) => l.split(': ')[1]?.split('@')[0] || [])
    .sort();
}

/** Direct children of this process (to find leaked background processes). */
export function children(pid = process.pid): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    if (text) out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}

/** Every process below `pid` (children, their children, ...); [] once it has exited. */
export function descendants(pid: number): number[] {
  let direct: number[];
  try {
    direct = children(pid);
  } catch {
    return []; // it has exited meanwhile
  }
  return direct.flatMap((child) => [child, ...descendants(child)]);
}

/** A process's name (/proc/PID/comm), '' once it is gone. */
export function comm(pid: number): string {
  try {
    return existsSync(`/proc/${pid}/comm`) ? readFileSync(`/proc/${pid}/comm`, 'utf8').trim() : '';
  } catch {
    return '';
  }
}

export interface Inventory {
  mounts: string[];
  netns: string[];
  links: string[];
}

export function inventory(): Inventory {
  return { mounts: mounts().sort(), netns: netnsFiles(), links: links() };
}

/**
 * The last test of a file: nothing the file made is left, compared with an
 * inventory taken when it started: no mount, /run/netns file, network
 * interface, or child process.
 */
export function registerLeftoverCheck(t: typeof import('tap').default, before: Inventory): void {
  t.test('the suite leaves nothing behind', async (t) => {
    const after = inventory();
    t.same(after.mounts, before.mounts, 'no mount left behind');
    t.same(after.netns, before.netns, 'no /run/netns file left behind');
    t.same(after.links, before.links, 'no network interface left behind');
    t.same(children(), [], 'no process left behind');
  });
}
