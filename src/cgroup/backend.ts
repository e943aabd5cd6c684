// What differs between cgroup v1 and v2, behind one interface: the files a
// limit becomes, how a cgroup is prepared after mkdir(2), where the numbers
// of `stats` live, how freezing, killing and OOM events work. The manager
// (manager.ts) picks a back end per hierarchy at run time, so a hybrid host
// uses v1 for the controllers bound to v1 and v2 for the rest (including
// v2's cgroup.freeze and cgroup.kill when the cgroup is in the v2 tree).
import type { CgroupDir, CgroupVersion, Hierarchy } from './hierarchy.js';
import type { Limits, Translation } from './limits.js';
import type { CgroupStats } from './stats.js';
import type { RuncCpuStats, RuncMemoryStats } from './runc-stats.js';

/** Steps to take back if a later step of create fails. */
export type Undo = () => void;

export interface TranslateOptions {
  /** v1: the hierarchy has memory.memsw.* (swap accounting is on). */
  swapAccounting?: boolean;
  /** The CFS period the cgroup has now (cpu.cfs_period_us, or the second field of cpu.max). */
  cpuPeriodUs?: number;
}

export interface OomWatch {
  /** How events arrive, for the user: which files and calls. */
  how: string;
  stop(): void;
}

/** A read of one cgroup file that also records where a stats number came from. */
export type StatsReader = (key: string, c: CgroupDir, file: string) => string | undefined;

export type FreezerState = 'THAWED' | 'FREEZING' | 'FROZEN';

/** One OCI device access rule (linux.resources.devices[]). */
export interface DeviceRule {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}

/**
 * OCI resources the Limits of limits.ts do not cover, named by their
 * linux.resources field: written as the file a version has for them.
 */
export type ExtraResource =
  | 'memory.reservation'
  | 'memory.swappiness'
  | 'memory.disableOOMKiller'
  | 'cpu.cpus'
  | 'cpu.mems'
  | 'cpu.realtimePeriod'
  | 'cpu.realtimeRuntime';

export interface ExtraFile {
  controller: string;
  file: string;
}

export interface CgroupBackend {
  readonly version: CgroupVersion;
  /**
   * Before anything is made: refuse what the kernel would refuse later
   * (a controller the parent cannot hand down, v2's no-internal-processes
   * rule), so a refusal leaves nothing behind.
   */
  check(h: Hierarchy, target: CgroupDir, controllers: readonly string[]): void;
  /** After mkdir: make the new directories (`made`, top first) usable for `controllers`. */
  setUp(h: Hierarchy, target: CgroupDir, made: readonly string[], controllers: readonly string[], undo: Undo[]): void;
  /** The options translate() needs, read from the cgroup's current files. */
  translateOptions(dir: string): TranslateOptions;
  /** Limits -> the files of this version, in an order the kernel accepts. Pure. */
  translate(limits: Limits, opts?: TranslateOptions): Translation;
  /** Fill in what this hierarchy's files say. */
  readStats(c: CgroupDir, stats: CgroupStats, from: StatsReader): void;
  /** The cgroup can be frozen through this hierarchy. */
  canFreeze(c: CgroupDir): boolean;
  freezerState(dir: string): FreezerState | undefined;
  /** Ask for the state once; true when the kernel already confirms it. */
  requestFreeze(dir: string, frozen: boolean, first: boolean): boolean;
  /** The kernel kills every process of the subtree in one write (v2 cgroup.kill, Linux 5.14+). */
  killFile(dir: string): boolean;
  /** Calls `wake` whenever the kernel says something happened to the cgroup's memory. */
  watchOom(dir: string, wake: () => void, onError: (err: Error) => void): OomWatch;
  /** OOM kills counted so far. */
  oomKillCount(dir: string): number | undefined;
  /** The cgroup has the memory controller's files here. */
  hasMemory(dir: string): boolean;
  /** The controllers whose files the directory has (v1: the hierarchy's; v2: cgroup.controllers and what was just enabled). */
  controllersIn(h: Hierarchy, dir: string, enabled: readonly string[]): string[];
  /** Where the hierarchy lists its controllers, for an error naming it. */
  controllerList(h: Hierarchy): string;
  /** How freezing works here, for the user ('v1 freezer', 'v2 cgroup.freeze'). */
  readonly freezeKind: string;
  /** Which freezer a cgroup in several hierarchies uses: the lowest rank that can freeze it. */
  readonly freezeRank: number;
  /** A fatal signal reaches a frozen task (v2); else the cgroup must be thawed for it to die (v1). */
  readonly killsFrozenTasks: boolean;
  /** The file an extra resource is written to, or undefined when this version has none. */
  extraFile(resource: ExtraResource): ExtraFile | undefined;
  /**
   * Device access rules through a `devices` controller: deny all, then the
   * rules in order, then `always` (runc's defaults). Absent: this version
   * cannot apply device rules with files (v2 needs an eBPF program).
   */
  applyDevices?(dir: string, rules: readonly DeviceRule[], always: readonly string[]): void;
  /** runc's stats event: cpu usage from the cpuacct (or cpu) directory, throttling from the cpu one. */
  runcCpu(cpuacctDir: string, cpuDir: string | undefined): RuncCpuStats;
  runcMemory(dir: string): RuncMemoryStats;
}
