// Making, filling, freezing and removing cgroups, on whichever version owns
// each controller. Kernel rules this file follows:
// - v1: a cgroup is created once per controller hierarchy; a new cpuset
//   cgroup has no CPUs or memory nodes and takes no process until given some.
// - v2: a controller works in a cgroup only if every ancestor lists it in
//   cgroup.subtree_control, and a non-root cgroup with processes may not
//   enable any ("no internal processes").
// - Moving a process is one write of its PID to cgroup.procs.
// - rmdir(2) fails with EBUSY while a cgroup has processes or children.
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { ToolError } from '../syscalls/errors.js';
import { CgroupDir, CgroupLayout, Hierarchy, hierarchyForController, hierarchyOfDirectory, resolveCgroup, unifiedHierarchy } from './hierarchy.js';
import { CgroupFileError, cgroupProcs, childCgroups, makeCgroupDir, readCgroupFile, readOptionalFile, removeCgroupDir, sleepMs, writeCgroupFile } from './files.js';
import { DEFAULT_CPU_PERIOD_US, Limits, controllersFor, limitsForControllers, translateLimits } from './limits.js';
import { kill } from '../syscalls/process.js';
import { SIG } from '../syscalls/constants.js';
import { sys } from '../syscalls/trace.js';

export interface CreateOptions {
  /** Controllers asked for with -c, besides those the limits need. */
  controllers: string[];
  limits: Limits;
}

export interface CreateResult {
  cgroups: CgroupDir[];
  notes: string[];
}

/** The hierarchies a new cgroup goes into, by controller. */
function placeControllers(layout: CgroupLayout, spec: string, controllers: string[]): Map<Hierarchy, string[]> {
  const placed = new Map<Hierarchy, string[]>();
  // A directory inside one cgroup filesystem names its hierarchy outright.
  const only = hierarchyOfDirectory(layout, spec);
  for (const c of controllers) {
    const h = only ?? hierarchyForController(layout, c);
    if (!h.controllers.includes(c)) throw new ToolError(`controller '${c}' is not available in ${h.mountPoint} (it has: ${h.controllers.join(' ') || 'none'})`);
    placed.set(h, [...(placed.get(h) ?? []), c]);
  }
  if (placed.size === 0) {
    // No controller: a v2 cgroup still freezes, kills and groups processes.
    const h = only ?? unifiedHierarchy(layout);
    if (!h) throw new ToolError(`name the controllers for ${spec} with -c (e.g. -c memory,pids): this host has only cgroup v1, where each controller is its own hierarchy`);
    placed.set(h, []);
  }
  return placed;
}

/** Undo list for create: what to put back if a later step fails. */
type Undo = () => void;

/** mkdir -p inside one hierarchy; returns the directories it made, top first. */
function makeDirs(h: Hierarchy, dir: string, undo: Undo[]): string[] {
  const made: string[] = [];
  const missing: string[] = [];
  for (let d = dir; !existsSync(d) && d.startsWith(h.mountPoint) && d !== h.mountPoint; d = posix.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    makeCgroupDir(d);
    undo.push(() => removeCgroupDir(d));
    made.push(d);
  }
  return made;
}

/** v1 cpuset: copy the parent's CPUs and memory nodes so the new cgroup can take processes. */
function fillCpuset(dirs: string[]): void {
  for (const d of dirs) {
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (readOptionalFile(d, file) === '') writeCgroupFile(d, file, readCgroupFile(posix.dirname(d), file));
    }
  }
}

/** v2: enable controllers in cgroup.subtree_control of every ancestor from the top down to the parent. */
function enableControllers(h: Hierarchy, dir: string, controllers: string[], undo: Undo[]): void {
  if (controllers.length === 0) return;
  const chain: string[] = [];
  for (let d = posix.dirname(dir); d.startsWith(h.mountPoint); d = posix.dirname(d)) {
    chain.unshift(d);
    if (d === h.mountPoint) break;
  }
  for (const d of chain) {
    const enabled = (readOptionalFile(d, 'cgroup.subtree_control') ?? '').split(/\s+/).map((c) => c.replace(/^\+/, ''));
    const missing = controllers.filter((c) => !enabled.includes(c));
    if (missing.length === 0) continue;
    const available = readOptionalFile(d, 'cgroup.controllers');
    if (available !== undefined) {
      const absent = missing.filter((c) => !available.split(/\s+/).includes(c));
      if (absent.length) throw new ToolError(`controller '${absent[0]}' is not available in ${d} (cgroup.controllers: ${available || 'empty'}): enable it in the parent's cgroup.subtree_control first`);
    }
    writeCgroupFile(d, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
    undo.push(() => writeCgroupFile(d, 'cgroup.subtree_control', missing.map((c) => `-${c}`).join(' ')));
  }
}

/**
 * Create a cgroup with the controllers and limits asked for. All or
 * nothing: if any step fails, what was made is removed again.
 */
export function createCgroup(layout: CgroupLayout, spec: string, opts: CreateOptions): CreateResult {
  const controllers = [...new Set([...opts.controllers, ...controllersFor(opts.limits)])];
  const placed = placeControllers(layout, spec, controllers);
  const undo: Undo[] = [];
  const cgroups: CgroupDir[] = [];
  const notes: string[] = [];
  try {
    for (const [h, ctrls] of placed) {
      const target = resolveCgroup(layout, spec, [h]).find((c) => c.hierarchy === h);
      if (!target) throw new ToolError(`cgroup ${spec} is outside what ${h.mountPoint} shows`);
      if (existsSync(target.dir)) throw new ToolError(`cannot create ${target.dir}: File exists`);
      const made = makeDirs(h, target.dir, undo);
      if (h.version === 1 && ctrls.includes('cpuset')) fillCpuset(made);
      if (h.version === 2) enableControllers(h, target.dir, ctrls, undo);
      cgroups.push(target);
      const t = translateLimits(limitsForControllers(opts.limits, ctrls), h.version, {
        swapAccounting: existsSync(posix.join(target.dir, 'memory.memsw.limit_in_bytes')),
        cpuPeriodUs: cpuPeriod(target.dir, h),
      });
      notes.push(...t.notes);
      for (const w of t.writes) writeCgroupFile(target.dir, w.file, w.value);
    }
  } catch (err) {
    for (const u of undo.reverse()) {
      try {
        u();
      } catch {
        // best effort: report the first failure, not the clean-up's
      }
    }
    throw err;
  }
  return { cgroups, notes };
}

function cpuPeriod(dir: string, h: Hierarchy): number {
  if (h.version === 1) return Number(readOptionalFile(dir, 'cpu.cfs_period_us') ?? DEFAULT_CPU_PERIOD_US);
  const max = readOptionalFile(dir, 'cpu.max');
  return max ? Number(max.split(/\s+/)[1]) : DEFAULT_CPU_PERIOD_US;
}

/** Move a process (all its threads) into the cgroup, in every hierarchy it exists in. */
export function moveProcess(cgroups: readonly CgroupDir[], pid: number): void {
  for (const c of cgroups) writeCgroupFile(c.dir, 'cgroup.procs', String(pid));
}

/** Raw file access for set/get: the hierarchy directory that has `file`, or a clear error. */
export function findCgroupFile(cgroups: readonly CgroupDir[], file: string, spec: string): CgroupDir {
  if (!/^[A-Za-z0-9_.-]+$/.test(file) || file.startsWith('.')) throw new ToolError(`invalid cgroup file name '${file}'`);
  const c = cgroups.find((g) => existsSync(posix.join(g.dir, file)));
  if (!c) throw new ToolError(`unknown file ${file} in cgroup ${spec} (looked in ${cgroups.map((g) => g.dir).join(', ')})`);
  return c;
}

// ---- freeze / thaw

const FREEZE_RETRIES = 100;
const FREEZE_STEP_MS = 50;

export interface FreezeTarget {
  cgroup: CgroupDir;
  kind: 'v1 freezer' | 'v2 cgroup.freeze';
}

/** v1: the freezer hierarchy if the cgroup is there; else v2's cgroup.freeze (Linux 5.2+). */
export function freezeTarget(cgroups: readonly CgroupDir[], spec: string): FreezeTarget {
  const v1 = cgroups.find((c) => c.hierarchy.version === 1 && existsSync(posix.join(c.dir, 'freezer.state')));
  if (v1) return { cgroup: v1, kind: 'v1 freezer' };
  const v2 = cgroups.find((c) => c.hierarchy.version === 2 && existsSync(posix.join(c.dir, 'cgroup.freeze')));
  if (v2) return { cgroup: v2, kind: 'v2 cgroup.freeze' };
  throw new ToolError(`cgroup ${spec} cannot be frozen: it is not in a v1 freezer hierarchy and has no cgroup.freeze (the root cgroup cannot be frozen)`);
}

/**
 * Freeze or thaw and wait until the kernel confirms. v1: writing FROZEN may
 * leave freezer.state at FREEZING while tasks are busy in the kernel; write
 * it again until FROZEN (as lxc does). v2: cgroup.freeze is a request,
 * cgroup.events says "frozen 1" once every task has stopped.
 */
export function setFrozen(target: FreezeTarget, frozen: boolean): void {
  const dir = target.cgroup.dir;
  for (let i = 0; i < FREEZE_RETRIES; i++) {
    if (target.kind === 'v1 freezer') {
      const want = frozen ? 'FROZEN' : 'THAWED';
      if (i === 0 || readCgroupFile(dir, 'freezer.state') === 'FREEZING') writeCgroupFile(dir, 'freezer.state', want);
      if (readCgroupFile(dir, 'freezer.state') === want) return;
    } else {
      if (i === 0) writeCgroupFile(dir, 'cgroup.freeze', frozen ? '1' : '0');
      const events = readCgroupFile(dir, 'cgroup.events');
      if (new RegExp(`^frozen ${frozen ? 1 : 0}$`, 'm').test(events)) return;
    }
    sleepMs(FREEZE_STEP_MS);
  }
  throw new ToolError(`cgroup ${target.cgroup.path} did not become ${frozen ? 'frozen' : 'thawed'} after ${(FREEZE_RETRIES * FREEZE_STEP_MS) / 1000} s`);
}

// ---- delete

const KILL_WAIT_STEPS = 200;
const KILL_STEP_MS = 25;

/** Kill every process in the cgroup and wait until it is empty. v2 has cgroup.kill (Linux 5.14+); v1 signals each task. */
export function killAll(c: CgroupDir): void {
  const useKillFile = c.hierarchy.version === 2 && existsSync(posix.join(c.dir, 'cgroup.kill'));
  for (let i = 0; i < KILL_WAIT_STEPS; i++) {
    const procs = cgroupProcs(c.dir);
    if (procs.length === 0) return;
    // A task forked while we were killing is caught by the next round.
    if (i % 20 === 0) {
      if (useKillFile) writeCgroupFile(c.dir, 'cgroup.kill', '1');
      else
        // ESRCH: it died on its own since we read cgroup.procs.
        for (const pid of procs) sys('kill', `${pid}, SIGKILL`, () => kill(pid, SIG.SIGKILL), { allow: ['ESRCH'] });
    }
    sleepMs(KILL_STEP_MS);
  }
  throw new ToolError(`processes in ${c.dir} did not die after SIGKILL`);
}

export interface DeleteOptions {
  recursive: boolean;
  kill: boolean;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 'es'}`;
}

/**
 * Check first, then remove: a busy cgroup is refused before anything is
 * removed, so a refusal leaves everything as it was.
 */
export function deleteCgroup(cgroups: readonly CgroupDir[], spec: string, opts: DeleteOptions): void {
  for (const c of cgroups) {
    const children = childCgroups(c.dir);
    if (children.length && !opts.recursive) throw new ToolError(`cannot delete ${spec}: it has child cgroups (${children.join(', ')}) in ${c.dir}; use -r`);
    if (!opts.kill) {
      const procs = allProcs(c.dir);
      if (procs.length)
        throw new ToolError(`cannot delete ${spec}: it has ${plural(procs.length, 'process')} (${procs.slice(0, 5).join(' ')}${procs.length > 5 ? ' ...' : ''}) in ${c.dir}; use --kill to kill them first`);
    }
  }
  for (const c of cgroups) removeTree(c, opts.kill);
}

function allProcs(dir: string): number[] {
  return [...cgroupProcs(dir), ...childCgroups(dir).flatMap((d) => allProcs(posix.join(dir, d)))];
}

/** Depth first: children before parents, as rmdir(2) requires. */
function removeTree(c: CgroupDir, killFirst: boolean): void {
  if (killFirst && c.hierarchy.version === 2 && existsSync(posix.join(c.dir, 'cgroup.kill'))) killAll(c); // kills the whole subtree at once
  for (const name of childCgroups(c.dir)) removeTree({ ...c, path: posix.join(c.path, name), dir: posix.join(c.dir, name) }, killFirst);
  if (killFirst) killAll(c);
  // A killed task leaves its cgroup a moment after it dies.
  for (let i = 0; ; i++) {
    try {
      removeCgroupDir(c.dir);
      return;
    } catch (err) {
      if (!(err instanceof CgroupFileError) || err.code !== 'EBUSY' || i >= KILL_WAIT_STEPS) throw err;
      sleepMs(KILL_STEP_MS);
    }
  }
}
