// The cgroup tree below a cgroup, in each hierarchy it is in, with each
// cgroup's limits and usage. Which files hold them (v1 or v2) is the cgroup
// layer's business: this only walks directories and asks it for stats.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { CgroupDir, detectCgroups, hierarchyLabel } from '../../cgroup/hierarchy.js';
import { cgroupAt, cgroupManager } from '../../cgroup/manager.js';
import { cgroupProcs, childCgroups } from '../../cgroup/files.js';
import { formatBytes } from '../../cgroup/limits.js';
import { CgroupStats, Limit } from '../../cgroup/stats.js';
import { Diagram, DiagramGroup, DiagramNode, Mark } from './diagram.js';

/** The controllers a student's limits live in: other v1 hierarchies only repeat the same tree. */
const TAUGHT = ['memory', 'pids', 'cpu'];
const MAX_CHILDREN = 24;
const MAX_PROCESSES = 6;

export interface CgroupDrawOptions {
  /** How many levels below the top to draw (default 4). */
  depth?: number;
}

function limitText(l: Limit | undefined, bytes: boolean): string {
  if (l === undefined) return '?';
  if (l === 'max') return 'no limit';
  return bytes ? formatBytes(l) : String(l);
}

/** "12M of 100M" or "12M, no limit". */
function usageOf(used: string, l: Limit | undefined, bytes: boolean): Mark[] {
  if (l === 'max') return [{ text: used, tone: 'usage' }, { text: ', no limit' }];
  return [{ text: used, tone: 'usage' }, { text: ' of ' }, { text: limitText(l, bytes), tone: 'limit' }];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "memory 12M of 100M", "pids 3 of 20", "cpu 50% of one CPU": usage with its limit. */
export function statsMarks(s: CgroupStats): Mark[][] {
  const lines: Mark[][] = [];
  if (s.memory) {
    const line: Mark[] = [{ text: 'memory ' }, ...usageOf(formatBytes(s.memory.current), s.memory.max, true)];
    if (s.memory.swap?.max !== undefined && s.memory.swap.max !== 'max')
      line.push({ text: ', swap limit ' }, { text: limitText(s.memory.swap.max, true), tone: 'limit' });
    if (s.memory.oom_kill)
      line.push({ text: `, ${s.memory.oom_kill} OOM kill${s.memory.oom_kill === 1 ? '' : 's'}`, tone: 'warn' });
    lines.push(line);
  }
  if (s.pids) lines.push([{ text: 'pids ' }, ...usageOf(String(s.pids.current), s.pids.max, false)]);
  if (s.cpu?.quota_percent !== undefined && s.cpu.quota_percent !== 'max')
    lines.push([{ text: 'cpu ' }, { text: `${s.cpu.quota_percent}% of one CPU`, tone: 'limit' }]);
  if (s.freezer && s.freezer.state !== 'THAWED') lines.push([{ text: s.freezer.state.toLowerCase(), tone: 'warn' }]);
  return lines;
}

function processMarks(dir: string): Mark[][] {
  const procs = cgroupProcs(dir);
  if (procs.length === 0) return [];
  const named = procs.slice(0, MAX_PROCESSES).map((pid) => {
    try {
      return `${pid} ${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}`;
    } catch {
      return String(pid);
    }
  });
  const more = procs.length > MAX_PROCESSES ? `, +${procs.length - MAX_PROCESSES} more` : '';
  return [[{ text: 'processes: ' }, { text: named.join(', ') + more, tone: 'usage' }]];
}

function cgroupNode(c: CgroupDir, top: boolean, depth: number, maxDepth: number, key: string): DiagramNode {
  const stats = cgroupAt(c.path, [c]).stats();
  const kids = depth < maxDepth ? childCgroups(c.dir) : [];
  const children = kids
    .slice(0, MAX_CHILDREN)
    .map((name) =>
      cgroupNode(
        { ...c, path: posix.join(c.path, name), dir: posix.join(c.dir, name) },
        false,
        depth + 1,
        maxDepth,
        key,
      ),
    );
  const details = [...statsMarks(stats), ...processMarks(c.dir)];
  if (kids.length > MAX_CHILDREN)
    details.push([{ text: `+${kids.length - MAX_CHILDREN} more child cgroups not drawn`, tone: 'plain' }]);
  else if (depth >= maxDepth && childCgroups(c.dir).length)
    details.push([
      { text: `${plural(childCgroups(c.dir).length, 'child cgroup')} below, not drawn (--depth)`, tone: 'plain' },
    ]);
  return { id: `cg-${key}-${c.path}`, label: top ? c.path : posix.basename(c.path), details, children };
}

/** The tree below `path` (a cgroup path as ts-cgroup reads it; default the top) in each hierarchy that has it. */
export function drawCgroups(path = '/', opts: CgroupDrawOptions = {}): Diagram {
  const layout = detectCgroups();
  const cgroup = cgroupManager(layout).open(path);
  const taught = cgroup.dirs.filter(
    (c) => c.hierarchy.version === 2 || c.hierarchy.controllers.some((k) => TAUGHT.includes(k)),
  );
  const dirs = taught.length ? taught : cgroup.dirs;
  const groups: DiagramGroup[] = dirs.map((c, i) => ({
    id: `h${i}`,
    label: hierarchyLabel(c.hierarchy),
    note: c.dir,
    nodes: [cgroupNode(c, true, 0, opts.depth ?? 4, String(i))],
  }));
  return {
    kind: 'cgroups',
    title: `cgroups below ${path} (cgroup ${layout.mode})`,
    legend: 'each cgroup: usage of limit (no limit: none set here), and the processes in it',
    groups,
    edges: [],
  };
}
