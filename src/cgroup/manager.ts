// One interface for cgroups, whatever the host has: cgroupManager(layout)
// makes or opens a cgroup, and a Cgroup takes limits (friendly or OCI),
// processes, and answers stats, OOM events, freeze/thaw, kill and delete.
// Each hierarchy the cgroup lives in is served by its version's back end
// (v1.ts, v2.ts), chosen at run time; a hybrid host uses v1 for the
// controllers bound to v1 and the v2 tree for the rest (and for
// cgroup.freeze / cgroup.kill when the cgroup is there).
//
// Kernel rules kept here, the same on both versions:
// - Moving a process is one write of its PID to cgroup.procs.
// - rmdir(2) fails with EBUSY while a cgroup has processes or children, and
//   a killed task leaves its cgroup a moment after it dies.
import { existsSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { CgroupBackend, DeviceRule, ExtraResource, FreezerState, OomWatch, Undo } from './backend.js';
import {
  CgroupDir,
  CgroupLayout,
  Hierarchy,
  detectCgroups,
  existingCgroup,
  hierarchyForController,
  hierarchyOfDirectory,
  resolveCgroup,
  unifiedHierarchy,
} from './hierarchy.js';
import {
  CgroupBusyError,
  CgroupExistsError,
  CgroupFileError,
  CgroupFileNameError,
  CgroupPathError,
  ControllerMissingError,
  FreezeTimeoutError,
  KillTimeoutError,
  NoHierarchyError,
  NotFreezableError,
  ResourceUnsupportedError,
} from './errors.js';
import {
  cgroupProcs,
  childCgroups,
  makeCgroupDir,
  readCgroupFile,
  removeCgroupDir,
  sleepMs,
  writeCgroupFile,
} from './files.js';
import { Limits, controllersFor, limitsForControllers } from './limits.js';
import { OciLinuxResources, fromOciResources } from './oci.js';
import { CgroupStats } from './stats.js';
import { runcPids } from './runc-stats.js';
import { v1Backend } from './v1.js';
import { v2Backend } from './v2.js';
import { signalNumber } from '../syscalls/constants.js';
import { kill as killProcess } from '../syscalls/process.js';
import { sys } from '../syscalls/trace.js';

export type { OomWatch, FreezerState, DeviceRule, ExtraResource } from './backend.js';

export function backendFor(h: Hierarchy): CgroupBackend {
  return h.version === 1 ? v1Backend : v2Backend;
}

export interface CreateOptions {
  /** Controllers asked for by name, besides those the limits need. */
  controllers?: readonly string[];
  limits?: Limits;
}

export interface DeleteOptions {
  /** Remove child cgroups too (else a cgroup with children is refused). */
  recursive?: boolean;
  /** Kill the processes first (else a cgroup with processes is refused). */
  kill?: boolean;
}

export interface CgroupManager {
  readonly layout: CgroupLayout;
  /** Make a cgroup (and missing parents) with these controllers and limits; all or nothing. */
  create(path: string, opts?: CreateOptions): Cgroup;
  /** A cgroup that exists in at least one hierarchy. */
  open(path: string): Cgroup;
}

export interface Cgroup {
  /** The PATH as given. */
  readonly path: string;
  /** Its directory in each hierarchy it is in. */
  readonly dirs: readonly CgroupDir[];
  /** Notes from the last limits written (what was adapted to the version). */
  readonly notes: readonly string[];
  setLimits(limits: Limits): string[];
  applyResources(resources: OciLinuxResources): string[];
  addProcess(pid: number): void;
  /** The processes in the cgroup itself (not its children), over every hierarchy. */
  processes(): number[];
  /** The processes in the cgroup and every cgroup below it. */
  allProcesses(): number[];
  children(): string[];
  stats(): CgroupStats;
  /** Calls `wake` when the kernel reports memory events; undefined if the cgroup has no memory controller. */
  watchOom(wake: () => void, onError: (err: Error) => void): OomWatch | undefined;
  oomKills(): number | undefined;
  /** The directory of the memory controller, if the cgroup has one. */
  memoryDir(): CgroupDir | undefined;
  freezerState(): FreezerState | undefined;
  /** The directory whose files freeze the cgroup, if any. */
  freezerDir(): CgroupDir | undefined;
  /** How freezing works here, for the user: 'v1 freezer' or 'v2 cgroup.freeze'. */
  freezeKind(): string;
  /** Some hierarchy of the cgroup applies device rules with files (a v1 devices controller). */
  canApplyDevices(): boolean;
  /** Deny all, then `rules`, then `always`, wherever device rules apply (see canApplyDevices). */
  applyDevices(rules: readonly DeviceRule[], always: readonly string[]): void;
  /** Write resources limits.ts does not cover; one no hierarchy has a file for is refused by name. */
  applyExtras(extras: Partial<Record<ExtraResource, string | number>>): void;
  /** runc's stats event data (cpu, memory, pids), from whichever hierarchy has each controller. */
  runcStats(): Record<string, unknown>;
  freeze(): void;
  thaw(): void;
  /** Send a signal to every process of the subtree; for SIGKILL, v2's cgroup.kill where it exists. Does not wait. */
  kill(signal?: string | number): void;
  delete(opts?: DeleteOptions): void;
  /** The directory that has `file` (for raw reads and writes). */
  fileDir(file: string): CgroupDir;
}

const FREEZE_RETRIES = 100;
const FREEZE_STEP_MS = 50;
const KILL_WAIT_STEPS = 200;
const KILL_STEP_MS = 25;
// Signal again every this many steps: a task forked while we were killing is caught by the next round.
const KILL_RESEND_EVERY = 20;
const SIGKILL = signalNumber('SIGKILL')!;

class CgroupHandle implements Cgroup {
  notes: string[] = [];
  dirs: CgroupDir[];
  /** Controllers ensureControllers enabled, by directory (cgroup.controllers says so too, on a real kernel). */
  private readonly ensured = new Map<string, string[]>();
  constructor(
    readonly path: string,
    dirs: readonly CgroupDir[],
    /** Where controllers the cgroup lacks can come from (absent for a handle on bare directories). */
    private readonly layout?: CgroupLayout,
  ) {
    this.dirs = [...dirs];
  }

  /**
   * Give the cgroup controllers it does not have yet, as create would:
   * v1 makes it in the controller's hierarchy, v2 has the ancestors hand
   * the controller down. So create(path) then applyResources() works.
   */
  private ensureControllers(wanted: readonly string[]): void {
    const have = new Set(this.dirs.flatMap((c) => this.controllersOf(c)));
    const missing = wanted.filter((c) => !have.has(c));
    if (missing.length === 0 || !this.layout) return;
    const undo: Undo[] = [];
    try {
      for (const [h, ctrls] of placeControllers(this.layout, this.path, missing)) {
        if (ctrls.length === 0) continue;
        const target =
          this.dirs.find((c) => c.hierarchy === h) ??
          resolveCgroup(this.layout, this.path, [h]).find((c) => c.hierarchy === h);
        if (!target) throw new CgroupPathError(this.path, 'outside-mount', h.mountPoint);
        const b = backendFor(h);
        b.check(h, target, ctrls);
        const made = makeDirs(h, target.dir, undo);
        b.setUp(h, target, made, ctrls, undo);
        if (!this.dirs.includes(target)) this.dirs.push(target);
        this.ensured.set(target.dir, [...(this.ensured.get(target.dir) ?? []), ...ctrls]);
      }
    } catch (err) {
      undoAll(undo);
      throw err;
    }
  }

  setLimits(limits: Limits): string[] {
    this.ensureControllers(controllersFor(limits));
    const notes: string[] = [];
    // Translate everything first: a limit the version cannot express changes nothing.
    const plans = this.dirs.map((c) => {
      const b = backendFor(c.hierarchy);
      return { c, t: b.translate(limitsForControllers(limits, this.controllersOf(c)), b.translateOptions(c.dir)) };
    });
    const wanted = controllersFor(limits);
    const placed = new Set(this.dirs.flatMap((c) => this.controllersOf(c)));
    const missing = wanted.find((c) => !placed.has(c));
    if (missing) throw new ControllerMissingError(missing, this.dirs.map((c) => c.dir).join(', '), [...placed]);
    for (const { c, t } of plans) {
      notes.push(...t.notes);
      for (const w of t.writes) writeCgroupFile(c.dir, w.file, w.value);
    }
    this.notes = notes;
    return notes;
  }

  applyResources(resources: OciLinuxResources): string[] {
    return this.setLimits(fromOciResources(resources));
  }

  /** The controllers whose files this directory has: v1 the hierarchy's, v2 the enabled ones (cgroup.controllers). */
  private controllersOf(c: CgroupDir): string[] {
    return backendFor(c.hierarchy).controllersIn(c.hierarchy, c.dir, this.ensured.get(c.dir) ?? []);
  }

  /** The directory of the hierarchy that has `controller`. */
  private dirWith(controller: string): CgroupDir | undefined {
    return this.dirs.find((c) => c.hierarchy.controllers.includes(controller));
  }

  canApplyDevices(): boolean {
    return this.dirs.some((c) => backendFor(c.hierarchy).applyDevices && c.hierarchy.controllers.includes('devices'));
  }

  applyDevices(rules: readonly DeviceRule[], always: readonly string[]): void {
    for (const c of this.dirs) {
      const b = backendFor(c.hierarchy);
      if (b.applyDevices && c.hierarchy.controllers.includes('devices')) b.applyDevices(c.dir, rules, always);
    }
  }

  applyExtras(extras: Partial<Record<ExtraResource, string | number>>): void {
    for (const [resource, value] of Object.entries(extras) as Array<[ExtraResource, string | number | undefined]>) {
      if (value === undefined) continue;
      const target = this.dirs
        .map((c) => ({ c, f: backendFor(c.hierarchy).extraFile(resource) }))
        .find(
          ({ c, f }) => f && c.hierarchy.controllers.includes(f.controller) && existsSync(posix.join(c.dir, f.file)),
        );
      if (!target?.f) {
        // Named as the file a hierarchy of this cgroup, else v1, would have used.
        const wanted =
          this.dirs.map((c) => backendFor(c.hierarchy).extraFile(resource)).find(Boolean) ??
          v1Backend.extraFile(resource)!;
        throw new ResourceUnsupportedError(resource, wanted.controller, wanted.file);
      }
      // As written before this moved here: the kernel's refusal as Node words it (EINVAL: invalid argument, write).
      writeFileSync(posix.join(target.c.dir, target.f.file), String(value));
    }
  }

  runcStats(): Record<string, unknown> {
    const data: Record<string, unknown> = {};
    const cpu = this.dirWith('cpuacct') ?? this.dirWith('cpu');
    if (cpu) data.cpu = backendFor(cpu.hierarchy).runcCpu(cpu.dir, this.dirWith('cpu')?.dir);
    const mem = this.dirWith('memory');
    if (mem) data.memory = backendFor(mem.hierarchy).runcMemory(mem.dir);
    const pids = this.dirWith('pids');
    if (pids) data.pids = runcPids(pids.dir);
    return data;
  }

  addProcess(pid: number): void {
    for (const c of this.dirs) writeCgroupFile(c.dir, 'cgroup.procs', String(pid));
  }

  processes(): number[] {
    return [...new Set(this.dirs.flatMap((c) => cgroupProcs(c.dir)))].sort((a, b) => a - b);
  }

  allProcesses(): number[] {
    const walk = (dir: string): number[] => [
      ...cgroupProcs(dir),
      ...childCgroups(dir).flatMap((d) => walk(posix.join(dir, d))),
    ];
    return [...new Set(this.dirs.flatMap((c) => walk(c.dir)))].sort((a, b) => a - b);
  }

  children(): string[] {
    return [...new Set(this.dirs.flatMap((c) => childCgroups(c.dir)))].sort();
  }

  stats(): CgroupStats {
    const stats: CgroupStats = {
      path: this.path,
      hierarchies: this.dirs.map((c) => ({
        version: c.hierarchy.version,
        controllers: c.hierarchy.controllers,
        dir: c.dir,
      })),
      processes: this.processes(),
      sources: {},
    };
    for (const c of this.dirs) {
      backendFor(c.hierarchy).readStats(c, stats, (key, d, file) => {
        const v = readOptionalFileQuiet(d.dir, file);
        if (v !== undefined) stats.sources[key] = posix.join(d.dir, file);
        return v;
      });
    }
    return stats;
  }

  memoryDir(): CgroupDir | undefined {
    return this.dirs.find((c) => backendFor(c.hierarchy).hasMemory(c.dir));
  }

  watchOom(wake: () => void, onError: (err: Error) => void): OomWatch | undefined {
    const m = this.memoryDir();
    return m && backendFor(m.hierarchy).watchOom(m.dir, wake, onError);
  }

  oomKills(): number | undefined {
    const m = this.memoryDir();
    return m && backendFor(m.hierarchy).oomKillCount(m.dir);
  }

  /** Of the hierarchies that can freeze the cgroup, the one its back end ranks first (v1's freezer before v2's cgroup.freeze). */
  freezerDir(): CgroupDir | undefined {
    // Ranked first (no file looked at), then the first that can: one stat per directory at most.
    const ranked = [...this.dirs].sort(
      (a, b) => backendFor(a.hierarchy).freezeRank - backendFor(b.hierarchy).freezeRank,
    );
    return ranked.find((c) => backendFor(c.hierarchy).canFreeze(c));
  }

  private freezer(): CgroupDir | undefined {
    return this.freezerDir();
  }

  freezerState(): FreezerState | undefined {
    const f = this.freezer();
    return f && backendFor(f.hierarchy).freezerState(f.dir);
  }

  freezeKind(): string {
    const f = this.freezer();
    if (!f) throw new NotFreezableError(this.path);
    return backendFor(f.hierarchy).freezeKind;
  }

  private setFrozen(frozen: boolean): void {
    const f = this.freezer();
    if (!f) throw new NotFreezableError(this.path);
    const b = backendFor(f.hierarchy);
    for (let i = 0; i < FREEZE_RETRIES; i++) {
      if (b.requestFreeze(f.dir, frozen, i === 0)) return;
      sleepMs(FREEZE_STEP_MS);
    }
    throw new FreezeTimeoutError(this.path, frozen, FREEZE_RETRIES * FREEZE_STEP_MS);
  }

  freeze(): void {
    this.setFrozen(true);
  }

  thaw(): void {
    this.setFrozen(false);
  }

  kill(signal: string | number = SIGKILL): void {
    const sig = typeof signal === 'number' ? signal : signalNumber(signal);
    if (sig === undefined) throw new RangeError(`unknown signal ${signal}`);
    const all = this.allProcesses();
    const killer = this.dirs.find((c) => backendFor(c.hierarchy).killFile(c.dir));
    if (sig === SIGKILL && killer) {
      const inThere = new Set(cgroupProcsDeep(killer.dir));
      if (all.every((p) => inThere.has(p))) {
        writeCgroupFile(killer.dir, 'cgroup.kill', '1'); // the whole subtree at once
        return;
      }
    }
    // ESRCH: it died on its own since we read cgroup.procs.
    for (const pid of all)
      sys('kill', `${pid}, ${signalLabel(sig)}`, () => killProcess(pid, sig), { allow: ['ESRCH'] });
  }

  /**
   * Check first, then remove: a busy cgroup is refused before anything is
   * removed, so a refusal leaves everything as it was.
   */
  delete(opts: DeleteOptions = {}): void {
    if (opts.kill && opts.recursive) {
      // Nothing to refuse: first try each directory as it is. The kernel
      // removes a cgroup without processes or children in one rmdir(2), and
      // refuses (EBUSY) otherwise; only those go through kill and walk.
      this.dirs = this.dirs.filter((c) => !removedAtOnce(c.dir));
      if (this.dirs.length === 0) return;
    }
    for (const c of this.dirs) {
      const children = opts.recursive ? [] : childCgroups(c.dir);
      const procs = opts.kill ? [] : this.allProcessesIn(c.dir);
      if (children.length || procs.length) throw new CgroupBusyError(this.path, c.dir, children, procs);
    }
    if (opts.kill) this.killAndWait();
    for (const c of this.dirs) removeTree(c.dir);
  }

  private allProcessesIn(dir: string): number[] {
    return cgroupProcsDeep(dir);
  }

  /**
   * SIGKILL to every process of the subtree, then wait until none is left.
   * A frozen v1 cgroup keeps its tasks stopped even for SIGKILL, so it is
   * thawed after the signal is sent (they die without running again); v2
   * lets a fatal signal through a freeze (killsFrozenTasks).
   */
  private killAndWait(): void {
    const f = this.freezer();
    const b = f && backendFor(f.hierarchy);
    const mustThaw = !!f && !!b && !b.killsFrozenTasks && b.freezerState(f.dir) !== 'THAWED';
    for (let i = 0; i < KILL_WAIT_STEPS; i++) {
      if (this.allProcesses().length === 0) return;
      if (i % KILL_RESEND_EVERY === 0) {
        this.kill(SIGKILL);
        if (mustThaw && i === 0) this.thaw();
      }
      sleepMs(KILL_STEP_MS);
    }
    const left = this.allProcesses();
    if (left.length)
      throw new KillTimeoutError(
        this.path,
        this.dirs.map((c) => c.dir).join(', '),
        left,
        KILL_WAIT_STEPS * KILL_STEP_MS,
      );
  }

  fileDir(file: string): CgroupDir {
    if (!/^[A-Za-z0-9_.-]+$/.test(file) || file.startsWith('.'))
      throw new CgroupFileNameError(this.path, file, 'invalid', []);
    const c = this.dirs.find((g) => existsSync(posix.join(g.dir, file)));
    if (!c)
      throw new CgroupFileNameError(
        this.path,
        file,
        'unknown',
        this.dirs.map((g) => g.dir),
      );
    return c;
  }
}

function signalLabel(sig: number): string {
  return sig === SIGKILL ? 'SIGKILL' : String(sig);
}

function readOptionalFileQuiet(dir: string, file: string): string | undefined {
  if (!existsSync(posix.join(dir, file))) return undefined;
  try {
    return readCgroupFile(dir, file);
  } catch {
    return undefined;
  }
}

function cgroupProcsDeep(dir: string): number[] {
  return [...cgroupProcs(dir), ...childCgroups(dir).flatMap((d) => cgroupProcsDeep(posix.join(dir, d)))];
}

/** rmdir(2) a cgroup if the kernel lets it go now: false when it is busy (processes or children). */
function removedAtOnce(dir: string): boolean {
  try {
    removeCgroupDir(dir);
    return true;
  } catch (err) {
    if (err instanceof CgroupFileError && err.code === 'EBUSY') return false;
    throw err;
  }
}

/** Depth first: children before parents, as rmdir(2) requires. */
function removeTree(dir: string): void {
  for (const name of childCgroups(dir)) removeTree(posix.join(dir, name));
  // A killed task leaves its cgroup a moment after it dies.
  for (let i = 0; ; i++) {
    try {
      removeCgroupDir(dir);
      return;
    } catch (err) {
      if (!(err instanceof CgroupFileError) || err.code !== 'EBUSY' || i >= KILL_WAIT_STEPS) throw err;
      sleepMs(KILL_STEP_MS);
    }
  }
}

/** The hierarchies a new cgroup goes into, by controller. */
function placeControllers(
  layout: CgroupLayout,
  path: string,
  controllers: readonly string[],
): Map<Hierarchy, string[]> {
  const placed = new Map<Hierarchy, string[]>();
  // A directory inside one cgroup filesystem names its hierarchy outright.
  const only = hierarchyOfDirectory(layout, path);
  for (const c of controllers) {
    const h = only ?? hierarchyForController(layout, c);
    if (!h.controllers.includes(c)) throw new ControllerMissingError(c, backendFor(h).controllerList(h), h.controllers);
    placed.set(h, [...(placed.get(h) ?? []), c]);
  }
  // A v2 cgroup, even without controllers, freezes (cgroup.freeze) and kills
  // (cgroup.kill) its processes: on a hybrid host the cgroup is made there
  // too, next to the v1 controllers, unless a directory named one hierarchy.
  const v2 = unifiedHierarchy(layout);
  if (!only && v2 && !placed.has(v2)) placed.set(v2, []);
  if (placed.size === 0) {
    if (!only) throw new NoHierarchyError(path);
    placed.set(only, []);
  }
  return placed;
}

function undoAll(undo: Undo[]): void {
  for (const u of undo.reverse()) {
    try {
      u();
    } catch {
      // best effort: report the first failure, not the clean-up's
    }
  }
}

/** mkdir -p inside one hierarchy; returns the directories it made, top first. */
function makeDirs(h: Hierarchy, dir: string, undo: Undo[]): string[] {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d) && d.startsWith(h.mountPoint) && d !== h.mountPoint; d = posix.dirname(d))
    missing.unshift(d);
  for (const d of missing) {
    makeCgroupDir(d);
    undo.push(() => removeCgroupDir(d));
  }
  return missing;
}

function createCgroup(layout: CgroupLayout, path: string, opts: CreateOptions): Cgroup {
  const limits = opts.limits ?? {};
  const controllers = [...new Set([...(opts.controllers ?? []), ...controllersFor(limits)])];
  const placed = placeControllers(layout, path, controllers);
  // Resolve, translate and check everything before the first mkdir.
  const plan = [...placed].map(([h, ctrls]) => {
    const target = resolveCgroup(layout, path, [h]).find((c) => c.hierarchy === h);
    if (!target) throw new CgroupPathError(path, 'outside-mount', h.mountPoint);
    if (existsSync(target.dir)) throw new CgroupExistsError(path, target.dir);
    const b = backendFor(h);
    // Limits the version cannot express first: they are the caller's mistake, the rest is the host's state.
    b.translate(limitsForControllers(limits, ctrls), { swapAccounting: true });
    b.check(h, target, ctrls);
    return { h, ctrls, target, b };
  });
  const undo: Undo[] = [];
  const notes: string[] = [];
  try {
    for (const { h, ctrls, target, b } of plan) {
      const made = makeDirs(h, target.dir, undo);
      b.setUp(h, target, made, ctrls, undo);
      const t = b.translate(limitsForControllers(limits, ctrls), b.translateOptions(target.dir));
      notes.push(...t.notes);
      for (const w of t.writes) writeCgroupFile(target.dir, w.file, w.value);
    }
  } catch (err) {
    undoAll(undo);
    throw err;
  }
  const handle = new CgroupHandle(
    path,
    plan.map((p) => p.target),
    layout,
  );
  handle.notes = notes;
  return handle;
}

export function cgroupManager(layout: CgroupLayout = detectCgroups()): CgroupManager {
  return {
    layout,
    create: (path, opts = {}) => createCgroup(layout, path, opts),
    open: (path) => new CgroupHandle(path, existingCgroup(layout, path), layout),
  };
}

/** A cgroup handle over directories already resolved (a subtree walk, `tree`). */
export function cgroupAt(path: string, dirs: readonly CgroupDir[]): Cgroup {
  return new CgroupHandle(path, dirs);
}
