// What `lsns` does (util-linux sys-utils/lsns.c): read /proc/*/ns/* to find
// every namespace some process is in, count the processes of each, name the
// one with the lowest PID, and ask the kernel how namespaces relate through
// ioctls on the namespace files (NS_GET_PARENT, NS_GET_USERNS).
// Processes whose /proc entries cannot be read are skipped, not errors.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import {
  NAMESPACES,
  NamespaceName,
  closeFd,
  openNamespaceFile,
  relatedNamespace,
  userNamespaceOwner,
} from '../syscalls/namespaces.js';
import { RouteSocket } from '../netlink/socket.js';
import { namespaceId } from '../netlink/route.js';
import { userName } from '../syscalls/identity.js';
import { traceLine } from '../syscalls/trace.js';
import { readMountInfo } from '../syscalls/mountinfo.js';
import { DomainError } from '../errors.js';

/** No process is in the namespace asked for (and no such namespace is known). */
export class NamespaceNotFoundError extends DomainError {
  readonly kind = 'namespace-not-found';
  constructor(readonly ns: bigint) {
    super(`no namespace ${ns}`);
  }
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  uid: number;
  command: string;
  /** namespace type -> inode */
  namespaces: Map<NamespaceName, number>;
}

export interface NamespaceInfo {
  ns: number;
  type: NamespaceName;
  /** Processes in it, lowest PID first. */
  processes: ProcessInfo[];
  /** Parent namespace (pid and user namespaces), via NS_GET_PARENT. */
  parent?: number;
  /** Owning user namespace, via NS_GET_USERNS. */
  owner?: number;
  /** For a user namespace not listed by a process: the uid that made it. */
  ownerUid?: number;
  children?: NamespaceInfo[];
}

export type TreeRelation = 'owner' | 'parent' | 'process';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes as text, keeping those that are not UTF-8: each becomes U+DC80+byte
 * (U+DC80 to U+DCFF: lone surrogates, which valid UTF-8 never decodes to), so the table can
 * print the byte itself as \xNN instead of a replacement character.
 */
function keepBytes(buf: Uint8Array): string {
  try {
    return decoder.decode(buf);
  } catch {
    // not all UTF-8: decode sequence by sequence
  }
  let out = '';
  for (let i = 0; i < buf.length;) {
    const b = buf[i]!; // i < buf.length
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len && i + len <= buf.length) {
      try {
        out += decoder.decode(buf.subarray(i, i + len));
        i += len;
        continue;
      } catch {
        // an invalid sequence: keep its first byte
      }
    }
    out += String.fromCharCode(0xdc00 + b);
    i++;
  }
  return out;
}

function readProcess(pid: number): ProcessInfo | undefined {
  const namespaces = new Map<NamespaceName, number>();
  for (const { name } of NAMESPACES) {
    try {
      // 'net:[4026531840]': the inode is the namespace's identity.
      const link = readlinkSync(`/proc/${pid}/ns/${name}`);
      namespaces.set(name, Number(/\[(\d+)\]/.exec(link)?.[1]));
    } catch {
      // gone, or not ours to look at
    }
  }
  if (namespaces.size === 0) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const cmdline = keepBytes(readFileSync(`/proc/${pid}/cmdline`))
      .replace(/\0+$/, '')
      .replace(/\0/g, ' ');
    // Kernel threads have no command line: their name, as ps shows it.
    const command = cmdline || keepBytes(readFileSync(`/proc/${pid}/comm`)).replace(/\n$/, '');
    return { pid, ppid, uid: statSync(`/proc/${pid}`).uid, command, namespaces };
  } catch {
    return undefined;
  }
}

export function readProcesses(): ProcessInfo[] {
  const pids = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .sort((a, b) => a - b);
  const procs = pids.map(readProcess).filter((p): p is ProcessInfo => p !== undefined);
  traceLine(`readlink("/proc/*/ns/*"): ${procs.length} of ${pids.length} processes readable`);
  return procs;
}

/** One entry per namespace, sorted by inode, with its processes (lowest PID first). */
export function collectNamespaces(procs: readonly ProcessInfo[]): Map<number, NamespaceInfo> {
  const all = new Map<number, NamespaceInfo>();
  for (const proc of procs) {
    for (const [type, ns] of proc.namespaces) {
      let info = all.get(ns);
      if (!info) all.set(ns, (info = { ns, type, processes: [] }));
      info.processes.push(proc);
    }
  }
  return new Map([...all.entries()].sort((a, b) => a[0] - b[0]));
}

export function namespacePath(info: NamespaceInfo): string | undefined {
  const proc = info.processes[0];
  return proc ? `/proc/${proc.pid}/ns/${info.type}` : undefined;
}

/** PNS and ONS: what the kernel says through ioctls on the namespace file. */
export function addRelations(info: NamespaceInfo): void {
  const path = namespacePath(info);
  if (!path || info.owner !== undefined || info.parent !== undefined) return;
  info.parent = relatedNamespace(path, 'parent');
  info.owner = relatedNamespace(path, 'owner');
}

export interface ListOptions {
  types?: ReadonlySet<NamespaceName>;
  pid?: number;
  /** An inode number as given (it may be larger than any inode). */
  ns?: bigint;
}

export function selectNamespaces(all: Map<number, NamespaceInfo>, opts: ListOptions): NamespaceInfo[] {
  let only: Set<number> | undefined;
  if (opts.pid !== undefined) {
    // A process that is gone (or not ours to read) lists nothing, as in util-linux.
    only = new Set(readProcess(opts.pid)?.namespaces.values() ?? []);
  }
  const ns = opts.ns === undefined ? undefined : Number(opts.ns);
  if (opts.ns !== undefined && (BigInt(ns!) !== opts.ns || !all.has(ns!))) throw new NamespaceNotFoundError(opts.ns);
  return [...all.values()].filter(
    (info) =>
      (!opts.types || opts.types.has(info.type)) &&
      (!only || only.has(info.ns)) &&
      (ns === undefined || info.ns === ns),
  );
}

/**
 * Nest the listed namespaces: under their owning user namespace ('owner',
 * -T's default; a user namespace under its parent), under their parent
 * ('parent': pid and user namespaces), or by processes ('process', lsns'
 * default without -l): a row goes under the last row made so far for the
 * parent process of its first process, in inode order. An owner or parent
 * that was not listed is added, as util-linux does, with no processes.
 */
export function namespaceTree(
  listed: NamespaceInfo[],
  all: Map<number, NamespaceInfo>,
  relation: TreeRelation,
): NamespaceInfo[] {
  if (relation === 'process') return processTree(listed);
  const inTree = new Map<number, NamespaceInfo>(listed.map((info) => [info.ns, { ...info, children: [] }]));
  const parentOf = (info: NamespaceInfo): number | undefined => {
    addRelations(info);
    if (relation === 'parent' || info.type === 'user') return info.parent;
    return info.owner;
  };
  const pending = [...inTree.values()];
  const roots: NamespaceInfo[] = [];
  while (pending.length) {
    const node = pending.shift()!;
    const up = parentOf(node);
    if (up === undefined) {
      roots.push(node);
      continue;
    }
    let parent: NamespaceInfo | undefined = inTree.get(up);
    if (!parent) {
      parent = unlistedAncestor(up, all);
      inTree.set(up, parent);
      pending.push(parent);
    }
    if (parent) parent.children!.push(node);
    else roots.push(node);
  }
  const sortTree = (nodes: NamespaceInfo[]) => {
    nodes.sort((a, b) => a.ns - b.ns);
    for (const n of nodes) if (n.children) sortTree(n.children);
    return nodes;
  };
  sortTree(roots);
  // util-linux lists the user namespace trees first (they own everything else).
  return [...roots.filter((r) => r.type === 'user'), ...roots.filter((r) => r.type !== 'user')];
}

function processTree(listed: NamespaceInfo[]): NamespaceInfo[] {
  const lastRowOf = new Map<number, NamespaceInfo>();
  const roots: NamespaceInfo[] = [];
  for (const info of listed) {
    const node: NamespaceInfo = { ...info, children: [] };
    const proc = info.processes[0];
    const parent = proc && lastRowOf.get(proc.ppid);
    (parent ? parent.children! : roots).push(node);
    if (proc) lastRowOf.set(proc.pid, node);
  }
  return roots;
}

/** An owner or parent that is not listed: shown with no processes, asked further up through its file. */
function unlistedAncestor(ns: number, all: Map<number, NamespaceInfo>): NamespaceInfo {
  const known = all.get(ns);
  if (!known) return { ns, type: 'user', processes: [], children: [] };
  addRelations(known);
  const path = namespacePath(known);
  const ownerUid = path && known.type === 'user' ? userNamespaceOwner(path) : undefined;
  return { ...known, processes: [], children: [], ownerUid };
}

/** Where namespaces are kept alive by bind mounts (ip netns add, unshare --net=FILE): inode -> mount points. */
export function nsfsMounts(): Map<number, string[]> {
  const found = new Map<number, string[]>();
  for (const m of readMountInfo()) {
    if (m.fstype !== 'nsfs') continue;
    // The root of an nsfs mount names the namespace: "net:[4026531840]".
    const ino = Number(/\[(\d+)\]/.exec(m.root)?.[1]);
    found.set(ino, [...(found.get(ino) ?? []), m.mountPoint]);
  }
  return found;
}

let routeSocket: RouteSocket | undefined;
/**
 * NETNSID: the id this network namespace gives the other one (RTM_GETNSID
 * with NETNSA_FD over rtnetlink), or 'unassigned' as util-linux prints -1.
 */
export function netnsId(info: NamespaceInfo): string | undefined {
  const path = namespacePath(info);
  if (info.type !== 'net' || !path) return undefined;
  const fd = openNamespaceFile(path);
  try {
    routeSocket ??= RouteSocket.open();
    const nsid = namespaceId(routeSocket, fd, path);
    return nsid < 0 ? 'unassigned' : String(nsid);
  } catch {
    return undefined;
  } finally {
    closeFd(fd);
  }
}

export function ownerName(uid: number | undefined): string | undefined {
  if (uid === undefined) return undefined;
  return userName(uid) ?? String(uid);
}
