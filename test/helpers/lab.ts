// Shared by the ts-lab tests: run ts-lab without the test runner's
// environment (cleanEnv, from tools.ts), and take a machine-wide inventory of
// what a lab could leave behind, to compare before and after.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { allWorkDirs } from '../../src/lab/workdir.js';
import { basename, join } from 'node:path';
import { directoriesBelow, processesWithEnv } from '../../src/lab/inventory.js';
import { cleanEnv, inventory, ROOT, run, RunOptions, RunResult, tool } from './tools.js';

/**
 * ts-lab as the tests run it: the labs' cgroups below the test's own
 * cgroup (NSLAB_CGROUP_PARENT=.), not below the root where a student's go,
 * and no progress recorded in root's home (NSLAB_PROGRESS_FILE=off).
 */
export function tsLab(args: string[], opts: RunOptions & { extraEnv?: NodeJS.ProcessEnv } = {}): RunResult {
  return run([tool('lab'), ...args], {
    timeout: 600_000,
    ...opts,
    env: cleanEnv({ NSLAB_CGROUP_PARENT: '.', NSLAB_PROGRESS_FILE: 'off', ...opts.extraEnv }),
  });
}

export function labIds(): string[] {
  const dir = join(ROOT, 'labs');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')).id as string);
}

/** Processes started by a lab: every command a lab runs has LAB_ID in its environment. */
function labProcesses(): string[] {
  return [...processesWithEnv('LAB_ID').keys()].map((pid) => {
    try {
      return `${pid} ${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}`;
    } catch {
      return `${pid} (gone)`;
    }
  });
}

export interface LabInventory {
  mounts: string[];
  netns: string[];
  links: string[];
  cgroups: string[];
  processes: string[];
  labDirs: string[];
}

export function labInventory(): LabInventory {
  const base = inventory();
  return {
    ...base,
    cgroups: directoriesBelow('/sys/fs/cgroup', 8).filter((d) => basename(d).startsWith('nslab-lab')),
    processes: labProcesses(),
    // Lab directories only (nslab-<lab id>-XXXXXX): other tests use /tmp/nslab-* too.
    labDirs: allWorkDirs().flatMap((base) =>
      existsSync(base)
        ? readdirSync(base)
            .filter((n) => labIds().some((id) => new RegExp(`^nslab-${id}-\\w{6}$`).test(n)))
            .map((n) => join(base, n))
        : [],
    ),
  };
}

/** Things in `after` that were not in `before`, by kind. */
export function newSince(before: LabInventory, after: LabInventory): Partial<LabInventory> {
  const out: Partial<LabInventory> = {};
  for (const k of Object.keys(after) as Array<keyof LabInventory>) {
    const had = new Set(before[k]);
    const extra = after[k].filter((x) => !had.has(x));
    if (extra.length) out[k] = extra;
  }
  return out;
}

/**
 * What is new since `before`, once things settle: a process that is ending,
 * or a cgroup the kernel is still removing, gets a few seconds (a loaded
 * machine is slow to reap), then whatever is still there is reported.
 */
export async function leftSince(before: LabInventory, settleMs = 10_000): Promise<Partial<LabInventory>> {
  let left = newSince(before, labInventory());
  for (let waited = 0; Object.keys(left).length && waited < settleMs; waited += 250) {
    await new Promise((r) => setTimeout(r, 250));
    left = newSince(before, labInventory());
  }
  return left;
}
