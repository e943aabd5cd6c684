// The state directory: one directory per container under the runtime's root
// (default /run/ts-runc), holding state.json (what the runtime needs to find
// the container again) and, while the container is created but not
// started, the exec fifo its init waits on. The status is never stored as
// truth: it is worked out on every call from the init process itself.
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ContainerConfig } from './config.js';
import type { CgroupDir } from '../cgroup/hierarchy.js';
import { freezerStateOf } from '../cgroup/freezer-state.js';
import { ContainerExists, ContainerNotFound, InvalidId } from './errors.js';
import { OCI_VERSION } from './spec.js';

export const DEFAULT_ROOT = '/run/ts-runc';
export const STATE_FILE = 'state.json';
export const EXEC_FIFO = 'exec.fifo';

export type Status = 'created' | 'running' | 'paused' | 'stopped';

export interface SavedState {
  id: string;
  /** The container's init, as this runtime's pid namespace numbers it. */
  pid: number;
  /** Field 22 of /proc/PID/stat when the init started: tells a reused PID apart. */
  startTime: string;
  bundle: string;
  rootfs: string;
  /** RFC 3339 with nanoseconds, as runc writes it. */
  created: string;
  /** Cgroup directories of the container, one per hierarchy. */
  cgroups: string[];
  /** The cgroup as the cgroup layer knows it (path as given, and its directories). */
  cgroup?: { path: string; dirs: CgroupDir[] };
  /** The freezer file used for pause/resume, if any. */
  freezer?: { dir: string; version: 1 | 2 };
  /** Namespace files of the init at creation, by config type, for exec. */
  namespacePaths: Record<string, string>;
  config: ContainerConfig;
}

/** runc's rule: letters, digits, _ + - . and not . or .. alone. */
export function validateId(id: string): void {
  if (!/^[\w+.-]+$/.test(id) || id === '.' || id === '..') throw new InvalidId(id);
}

export function containerDir(root: string, id: string): string {
  validateId(id);
  return join(root, id);
}

/** The runtime's root directory, made if missing (mode 0700, like runc's). */
export function ensureRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
}

/** Claim the id: make its state directory, or refuse if it exists. */
export function claimId(root: string, id: string): string {
  const dir = containerDir(root, id);
  ensureRoot(root);
  try {
    mkdirSync(dir, { mode: 0o711 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ContainerExists(id);
    throw err;
  }
  return dir;
}

export function saveState(root: string, state: SavedState): void {
  const dir = containerDir(root, state.id);
  const tmp = join(dir, `.${STATE_FILE}.tmp`);
  writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
  renameSync(tmp, join(dir, STATE_FILE));
}

export function loadState(root: string, id: string): SavedState {
  const dir = containerDir(root, id);
  let text: string;
  try {
    text = readFileSync(join(dir, STATE_FILE), 'utf8');
  } catch {
    throw new ContainerNotFound(id);
  }
  return JSON.parse(text) as SavedState;
}

export function removeStateDir(root: string, id: string): void {
  const dir = containerDir(root, id);
  // What the runtime puts there, then the directory: a recursive rmSync
  // costs a millisecond and more of every run. Anything else: rmSync.
  try {
    for (const f of [STATE_FILE, EXEC_FIFO]) if (existsSync(join(dir, f))) unlinkSync(join(dir, f));
    rmdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') rmSync(dir, { recursive: true, force: true });
  }
}

/** Ids with a state directory, in directory order. */
export function listIds(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, d.name, STATE_FILE)))
    .map((d) => d.name)
    .sort();
}

/** Field 22 (starttime) of /proc/PID/stat, and the state letter; undefined if the process is gone. */
export function processStart(pid: number): { startTime: string; state: string } | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], startTime: fields[19] };
  } catch {
    return undefined;
  }
}

/** Is the init still the process we started (not gone, not a zombie, not a reused PID)? */
export function initAlive(state: SavedState): boolean {
  const now = processStart(state.pid);
  return !!now && now.startTime === state.startTime && now.state !== 'Z' && now.state !== 'X';
}

/**
 * The freezer the container was made with says FROZEN (the cgroup layer
 * reads it, v1 or v2; its light module: this runs for every command).
 */
function frozen(state: SavedState): boolean {
  const f = state.freezer;
  return !!f && freezerStateOf(f.dir, f.version) === 'FROZEN';
}

export function currentStatus(root: string, state: SavedState): Status {
  if (!initAlive(state)) return 'stopped';
  if (existsSync(join(root, state.id, EXEC_FIFO))) return 'created';
  if (frozen(state)) return 'paused';
  return 'running';
}

/** The OCI state a `state` command prints (runc's field order). */
export interface OciState {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

export function ociState(root: string, state: SavedState, owner = ''): OciState {
  const status = currentStatus(root, state);
  const out: OciState = {
    ociVersion: OCI_VERSION,
    id: state.id,
    pid: status === 'stopped' ? 0 : state.pid,
    status,
    bundle: state.bundle,
    rootfs: state.rootfs,
    created: state.created,
    owner,
  };
  if (Object.keys(state.config.annotations ?? {}).length) out.annotations = state.config.annotations;
  return out;
}

/** The owner list shows: the user name of the state directory's uid. */
export function ownerOf(root: string, id: string): string {
  const uid = statSync(join(root, id)).uid;
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && Number(f[2]) === uid && f[2] !== '') return f[0];
  }
  return `#${uid}`;
}

/**
 * A UTC time as RFC 3339 to the second, "2026-11-29T12:35:18", built from
 * the getters: the first toISOString() of a process costs about 1 ms.
 */
export function utcSeconds(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
  return `${date}T${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** Now in RFC 3339 with nanoseconds, as Go's time.Time marshals (UTC). */
export function nowRfc3339Nano(): string {
  const ns = process.hrtime.bigint() % 1_000_000n;
  const d = new Date();
  let frac = String(d.getUTCMilliseconds()).padStart(3, '0') + String(ns).padStart(6, '0');
  let end = frac.length;
  while (end > 0 && frac[end - 1] === '0') end--; // Go drops trailing zeros
  frac = frac.slice(0, end);
  return utcSeconds(d) + (frac ? `.${frac}Z` : 'Z');
}
