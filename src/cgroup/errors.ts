// What can go wrong with cgroups, as data. These errors speak in the
// kernel's and the cgroup filesystem's terms (paths, files, counts,
// controller names) and never in a tool's: src/tools/cgroup.ts (and the
// runtime) turn them into their own words and advice.
import { DomainError } from '../errors.js';

export abstract class CgroupError extends DomainError {}

/** A cgroup file the kernel refused to read or write, or a mkdir/rmdir it refused. */
export class CgroupFileError extends CgroupError {
  readonly kind = 'cgroup-file';
  constructor(
    readonly op: 'read' | 'write' | 'create' | 'remove',
    /** The file name (memory.max) for read/write, the directory for create/remove. */
    readonly file: string,
    readonly errno: number,
    readonly code: string,
    /** The kernel's reason, strerror(3) text. */
    readonly reason: string,
    /** Why the kernel says no, in cgroup terms, when it is one of the well-known refusals. */
    readonly explanation?: string,
  ) {
    super(`cannot ${op} ${file}: ${reason}${explanation ? ` (${explanation})` : ''}`);
  }
}

/** rmdir(2) would fail: the cgroup still has child cgroups or processes. */
export class CgroupBusyError extends CgroupError {
  readonly kind = 'cgroup-busy';
  constructor(
    readonly path: string,
    readonly dir: string,
    readonly children: readonly string[],
    readonly processes: readonly number[],
  ) {
    super(`cgroup ${path} is busy: ${children.length} child cgroups and ${processes.length} processes in ${dir}`);
  }
}

/** No hierarchy offers a controller (not a v1 mount, not in the v2 cgroup.controllers). */
export class ControllerMissingError extends CgroupError {
  readonly kind = 'controller-missing';
  constructor(
    readonly controller: string,
    /** The file or mount that was looked at: /sys/fs/cgroup/cgroup.controllers, or a v1 mount point. */
    readonly where: string | undefined,
    /** What that place has instead. */
    readonly available: readonly string[],
  ) {
    super(
      `controller '${controller}' is not available${where ? ` in ${where} (${available.join(' ') || 'none'})` : ''}`,
    );
  }
}

/**
 * cgroup v2's "no internal processes" rule: a non-root cgroup that has
 * processes cannot enable controllers for its children.
 */
export class InternalProcessesError extends CgroupError {
  readonly kind = 'internal-processes';
  constructor(
    readonly path: string,
    readonly dir: string,
    readonly processes: readonly number[],
    readonly controllers: readonly string[],
  ) {
    super(
      `cgroup ${path} has ${processes.length} processes, so it cannot enable ${controllers.join(' ')} for its children`,
    );
  }
}

/** Only cgroup v1 hierarchies, and no controller named: there is nowhere to put the cgroup. */
export class NoHierarchyError extends CgroupError {
  readonly kind = 'no-hierarchy';
  constructor(readonly path: string) {
    super(`no controller named for ${path}, and no cgroup v2 hierarchy to hold a cgroup without one`);
  }
}

export class CgroupNotFoundError extends CgroupError {
  readonly kind = 'cgroup-not-found';
  constructor(readonly path: string) {
    super(`cgroup ${path} does not exist`);
  }
}

export class CgroupExistsError extends CgroupError {
  readonly kind = 'cgroup-exists';
  constructor(
    readonly path: string,
    readonly dir: string,
  ) {
    super(`cgroup ${path} already exists (${dir})`);
  }
}

/** A PATH the cgroup layer will not resolve: empty, with '..', or outside what a mount shows. */
export class CgroupPathError extends CgroupError {
  readonly kind = 'cgroup-path';
  constructor(
    readonly path: string,
    readonly reason: 'empty' | 'dot-dot' | 'outside-mount',
    readonly mountPoint?: string,
  ) {
    super(
      reason === 'empty'
        ? 'empty cgroup path'
        : reason === 'dot-dot'
          ? `cgroup path ${path} has a '..' component`
          : `cgroup ${path} is outside what ${mountPoint} shows`,
    );
  }
}

/** A file name for raw reads and writes that is not a plain cgroup file name, or that the cgroup does not have. */
export class CgroupFileNameError extends CgroupError {
  readonly kind = 'cgroup-file-name';
  constructor(
    readonly path: string,
    readonly file: string,
    readonly reason: 'invalid' | 'unknown',
    readonly lookedIn: readonly string[],
  ) {
    super(
      reason === 'invalid'
        ? `invalid cgroup file name '${file}'`
        : `unknown file ${file} in cgroup ${path} (looked in ${lookedIn.join(', ')})`,
    );
  }
}

/** The friendly names of limits, the keys of Limits and RawLimits. */
export type LimitName = 'memory' | 'swap' | 'swappiness' | 'pids' | 'cpu';

/** A friendly limit value that does not parse. */
export class InvalidLimitError extends CgroupError {
  readonly kind = 'invalid-limit';
  constructor(
    readonly limit: LimitName,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`invalid ${limit} limit '${value}': expected ${expected}`);
  }
}

/** A limit this cgroup version or kernel cannot express as asked. */
export class UnsupportedLimitError extends CgroupError {
  readonly kind = 'unsupported-limit';
  constructor(
    readonly limit: LimitName,
    readonly reason: 'v2-no-swappiness' | 'no-swap-accounting' | 'v1-swap-needs-memory' | 'cpu-quota-too-small',
    /** Numbers that go with the reason (the minimum quota and the period, for cpu). */
    readonly detail: Record<string, number> = {},
  ) {
    super(`cannot set the ${limit} limit: ${reason}`);
  }
}

/** The kernel did not confirm a freeze or thaw in time. */
export class FreezeTimeoutError extends CgroupError {
  readonly kind = 'freeze-timeout';
  constructor(
    readonly path: string,
    readonly frozen: boolean,
    readonly waitedMs: number,
  ) {
    super(`cgroup ${path} did not become ${frozen ? 'frozen' : 'thawed'} after ${waitedMs} ms`);
  }
}

/** The cgroup cannot be frozen: no v1 freezer for it and no cgroup.freeze (the v2 root, or Linux before 5.2). */
export class NotFreezableError extends CgroupError {
  readonly kind = 'not-freezable';
  constructor(readonly path: string) {
    super(`cgroup ${path} cannot be frozen`);
  }
}

/** Processes still there after SIGKILL and the wait. */
export class KillTimeoutError extends CgroupError {
  readonly kind = 'kill-timeout';
  constructor(
    readonly path: string,
    readonly dir: string,
    readonly processes: readonly number[],
    readonly waitedMs: number,
  ) {
    super(`${processes.length} processes in ${dir} were still there ${waitedMs} ms after SIGKILL`);
  }
}

/** An OCI linux.resources value that cannot be a limit (swap below memory, swap without memory). */
export class OciResourcesError extends CgroupError {
  readonly kind = 'oci-resources';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`linux.resources.${field}: ${reason}`);
  }
}

/** An OCI resource no hierarchy of the cgroup has a file for (named with the file it would take). */
export class ResourceUnsupportedError extends CgroupError {
  readonly kind = 'resource-unsupported';
  constructor(
    /** The linux.resources field, e.g. "memory.swappiness". */
    readonly resource: string,
    readonly controller: string,
    readonly file: string,
  ) {
    super(`cannot set ${resource}: no ${controller} ${file}`);
  }
}
