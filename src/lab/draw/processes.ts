// The process tree with each process's namespaces, from /proc/PID/ns/*
// (the inode of each link is the namespace's identity): for every process,
// which namespaces are new (not its parent's), which it inherited from a
// parent that is not in the host's, and which are the host's (PID 1's).
import { readFileSync } from 'node:fs';
import { NAMESPACES, NamespaceName } from '../../syscalls/namespaces.js';
import { ProcessInfo, readProcesses } from '../../core/lsns.js';
import { Diagram, DiagramNode, Mark } from './diagram.js';

/** The order namespaces are listed in. */
export const NAMESPACE_ORDER: NamespaceName[] = NAMESPACES.map((n) => n.name);

/** A process not to be found (gone, or never there). */
export class NoSuchProcessError extends Error {
  constructor(readonly pid: number) {
    super(`no process ${pid}`);
  }
}

export interface NamespaceComparison {
  /** Not the parent's (for a top process: not its parent's either). */
  fresh: NamespaceName[];
  /** The parent's, but not the host's. */
  inherited: NamespaceName[];
  /** The host's (PID 1's). */
  host: NamespaceName[];
}

export function compareNamespaces(
  proc: ProcessInfo,
  parent: ProcessInfo | undefined,
  host: ProcessInfo | undefined,
): NamespaceComparison {
  const out: NamespaceComparison = { fresh: [], inherited: [], host: [] };
  for (const type of NAMESPACE_ORDER) {
    const ns = proc.namespaces.get(type);
    if (ns === undefined) continue;
    if (host?.namespaces.get(type) === ns) out.host.push(type);
    else if (parent && parent.namespaces.get(type) === ns) out.inherited.push(type);
    else out.fresh.push(type);
  }
  return out;
}

/**
 * Whose namespaces count as the host's: PID 1's, or, where PID 1's cannot be
 * read (some container platforms hide them), the first process whose can.
 */
export function hostReference(procs: readonly ProcessInfo[]): ProcessInfo | undefined {
  return procs.find((p) => p.pid === 1) ?? [...procs].sort((a, b) => a.pid - b.pid)[0];
}

/** The PIDs of a process in each pid namespace, outermost first (NSpid of /proc/PID/status). */
export function namespacePids(pid: number): number[] {
  try {
    const line = /^NSpid:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return line ? line[1].trim().split(/\s+/).map(Number) : [pid];
  } catch {
    return [pid];
  }
}

const COMMAND_WIDTH = 60;

function shortCommand(command: string): string {
  return command.length > COMMAND_WIDTH ? `${command.slice(0, COMMAND_WIDTH - 1)}…` : command;
}

function processNode(
  proc: ProcessInfo,
  parent: ProcessInfo | undefined,
  host: ProcessInfo | undefined,
  children: Map<number, ProcessInfo[]>,
  depth: number,
  keep?: Set<number>,
): DiagramNode {
  const c = compareNamespaces(proc, parent, host);
  const ids = (types: NamespaceName[], tone: Mark['tone']): Mark[] =>
    types.flatMap((t, i) => [...(i ? [{ text: ', ' }] : []), { text: `${t}:[${proc.namespaces.get(t)}]`, tone }]);
  const details: Mark[][] = [];
  if (c.fresh.length) details.push([{ text: 'new:       ' }, ...ids(c.fresh, 'new')]);
  if (c.inherited.length) details.push([{ text: 'inherited: ' }, ...ids(c.inherited, 'inherited')]);
  if (c.host.length) details.push([{ text: "host's:    " }, { text: c.host.join(' '), tone: 'host' }]);
  const pids = namespacePids(proc.pid);
  const badge: Mark | undefined =
    pids.length > 1 ? { text: `PID ${pids[pids.length - 1]} in its pid namespace`, tone: 'new' } : undefined;
  const kids = depth < 12 ? (children.get(proc.pid) ?? []).filter((k) => !keep || keep.has(k.pid)) : [];
  return {
    id: `pid-${proc.pid}`,
    label: `${proc.pid} ${shortCommand(proc.command)}`,
    ...(badge ? { badge } : {}),
    details,
    children: kids.map((k) => processNode(k, proc, host, children, depth + 1, keep)),
  };
}

export interface ProcessDrawing {
  diagram: Diagram;
  /** The processes drawn, by PID, with their namespaces (for JSON readers and tests). */
  processes: ProcessInfo[];
}

/**
 * The tree below `pid` (its parent shown as where it came from), or, with
 * no pid, every subtree of processes that are not entirely in the host's
 * namespaces, each from the parent that started it.
 */
export function drawProcesses(pid?: number, procs: ProcessInfo[] = readProcesses()): ProcessDrawing {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const host = hostReference(procs);
  const children = new Map<number, ProcessInfo[]>();
  for (const p of procs) {
    // Kernel threads (children of kthreadd) have no namespaces of their own worth drawing.
    if (p.ppid === 2 || p.pid === 2) continue;
    children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  }
  let roots: ProcessInfo[];
  let title: string;
  /** Without a PID: only the processes on the way to those in namespaces of their own. */
  let keep: Set<number> | undefined;
  if (pid !== undefined) {
    const top = byPid.get(pid);
    if (!top) throw new NoSuchProcessError(pid);
    roots = [top];
    title = `processes from PID ${pid} and their namespaces`;
  } else {
    const differs = (p: ProcessInfo) =>
      host !== undefined && p.pid !== host.pid && [...p.namespaces].some(([t, ns]) => host.namespaces.get(t) !== ns);
    const tops = procs.filter((p) => differs(p) && p.ppid !== 2 && !(byPid.get(p.ppid) && differs(byPid.get(p.ppid)!)));
    // Each such subtree from the process that started it (the host side of the boundary).
    const starters = new Map<number, ProcessInfo>();
    for (const t of tops) {
      const parent = byPid.get(t.ppid);
      const root = parent && parent.pid !== host?.pid ? parent : t;
      starters.set(root.pid, root);
    }
    roots = [...starters.values()].sort((a, b) => a.pid - b.pid);
    keep = new Set(procs.filter(differs).map((p) => p.pid));
    title = "processes in namespaces that are not the host's, from the process that started each";
  }
  const nodes = roots.map((r) => processNode(r, byPid.get(r.ppid), host, children, 0, keep));
  const drawn: ProcessInfo[] = [];
  const collect = (n: DiagramNode) => {
    drawn.push(byPid.get(Number(n.id.slice(4)))!);
    n.children.forEach(collect);
  };
  nodes.forEach(collect);
  return {
    diagram: {
      kind: 'processes',
      title,
      legend:
        "new: not the parent's namespace; inherited: the parent's, not the host's; host's: the same as PID 1's (or the first readable process's)",
      groups: [
        {
          id: 'processes',
          label: 'process tree',
          note: host ? `host's = those of PID ${host.pid} (${host.command.split(' ')[0]})` : undefined,
          nodes,
        },
      ],
      edges: [],
    },
    processes: drawn,
  };
}
