// Shared by the ts-lab tests: run ts-lab without the test runner's
// environment, and take a machine-wide inventory of what a lab could leave
// behind, to compare before and after.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inventory, run, RunOptions, RunResult, tool } from './helpers/tools.js';

/** The environment without tap's variables (it preloads code through NODE_OPTIONS). */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (k !== 'NODE_OPTIONS' && !k.startsWith('TAP') && !k.startsWith('_TAP')) env[k] = v;
  return { ...env, ...extra };
}

export function tsLab(args: string[], opts: RunOptions & { extraEnv?: NodeJS.ProcessEnv } = {}): RunResult {
  return run([tool('lab'), ...args], { timeout: 600_000, ...opts, env: cleanEnv(opts.extraEnv) });
}

function cgroupDirsNamed(prefix: string, dir = '/sys/fs/cgroup', depth = 0): string[] {
  if (depth > 8) return [];
  const out: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const full = join(dir, n);
    try {
      if (!statSync(full).isDirectory()) continue;
    } catch {
      continue;
    }
    if (n.startsWith(prefix)) out.push(full);
    out.push(...cgroupDirsNamed(prefix, full, depth + 1));
  }
  return out;
}

/** Processes started by a lab: every command a lab runs has LAB_ID in its environment. */
function labProcesses(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').some((e) => e.startsWith('LAB_ID='))) out.push(`${pid} ${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}`);
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
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
    cgroups: cgroupDirsNamed('nslab-lab'),
    processes: labProcesses(),
    labDirs: existsSync('/tmp') ? readdirSync('/tmp').filter((n) => /^nslab-[a-z0-9-]+-\w{6}$/.test(n)) : [],
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
