// Which leftovers are the lab's own. The inventory (inventory.ts) sees the
// whole machine: a docker container started during a lab adds mounts, links
// and netns files too. Only what the lab could have made fails it:
//   - processes: always (they are the runner's own descendants);
//   - System V message queues: always (nothing names them; few programs make them);
//   - mounts: under the lab's directory, at a path its commands name, or
//     below such a path unless it is a directory everyone shares (/tmp, /run);
//   - netns files, network devices: a name its commands use;
//   - cgroups: an nslab-lab-* directory its commands name (and anything below).
// Commands are the lab's setup, steps, sessions, probes and cleanup. What a
// lab makes under names chosen by another program (a CNI plugin's veth1234)
// it declares in `owns`: glob patterns (* matches anything) tried on the
// thing's name and on its full path.
import { basename } from 'node:path';
import { Lab } from './types.js';

/** Directories that many programs mount under: a lab naming one owns only the exact path, not everything below. */
const SHARED_DIRS = new Set([
  '/',
  '/proc',
  '/sys',
  '/sys/fs',
  '/sys/fs/cgroup',
  '/dev',
  '/run',
  '/run/netns',
  '/var/run',
  '/tmp',
  '/var',
  '/var/tmp',
  '/var/lib',
  '/mnt',
  '/media',
  '/home',
  '/usr',
  '/etc',
  '/opt',
  '/srv',
  '/root',
]);

/** Every command the lab runs, as one text. */
export function labCommands(lab: Lab): string {
  const parts: string[] = [...(lab.setup ?? []), ...(lab.cleanup ?? [])];
  for (const s of Object.values(lab.sessions ?? {})) parts.push(s.start);
  for (const step of lab.steps) {
    parts.push(step.run);
    for (const c of [...(step.checks ?? []), ...(step.guard ?? [])]) if (c.probe) parts.push(c.probe.run);
  }
  return parts.join('\n');
}

export interface Ownership {
  /** Words of the lab's commands: names of links, netns, cgroups. */
  words: Set<string>;
  /** Absolute paths its commands name (variables left out). */
  paths: string[];
  labDir: string;
  owns: RegExp[];
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

export function ownership(lab: Lab, labDir: string): Ownership {
  const text = labCommands(lab);
  const words = new Set(text.match(/[A-Za-z0-9_.@:+-]+/g) ?? []);
  // A path stops at what the shell would end it with; $VAR/... paths are not literal.
  const paths = [
    ...new Set((text.match(/(?<![\w$}])\/[^\s'"`;|&()<>$]*/g) ?? []).map((p) => p.replace(/\/+$/, '') || '/')),
  ];
  return { words, paths, labDir, owns: (lab.owns ?? []).map(glob) };
}

function declared(o: Ownership, item: string): boolean {
  return o.owns.some((re) => re.test(item) || re.test(basename(item)));
}

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);
}

/** Is this leftover ("kind: item", as inventory.ts words it) something the lab could have made? */
export function isLabsOwn(o: Ownership, line: string): boolean {
  const at = line.indexOf(': ');
  const kind = line.slice(0, at);
  const item = line.slice(at + 2);
  switch (kind) {
    case 'mounts': {
      // "/mnt/x (tmpfs)": mount points with spaces are escaped in mountinfo, so the last " (" ends the path.
      const point = item.slice(0, item.lastIndexOf(' ('));
      if (o.labDir && under(point, o.labDir)) return true;
      if (point.startsWith('/run/netns/') && o.words.has(basename(point))) return true;
      return declared(o, point) || o.paths.some((p) => p === point || (!SHARED_DIRS.has(p) && under(point, p)));
    }
    case 'netns files':
    case 'network devices':
      return o.words.has(basename(item)) || declared(o, item);
    case 'cgroups':
      return item.split('/').some((part) => part.startsWith('nslab-lab') && o.words.has(part)) || declared(o, item);
    default:
      return true;
  }
}

/** The leftovers that are the lab's own, and the rest (other programs' activity during the lab). */
export function ownLeftovers(lab: Lab, labDir: string, found: string[]): { own: string[]; others: string[] } {
  const o = ownership(lab, labDir);
  const own: string[] = [];
  const others: string[] = [];
  for (const line of found) (isLabsOwn(o, line) ? own : others).push(line);
  return { own, others };
}
