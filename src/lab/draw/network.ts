// The veth/bridge topology: for each network namespace (this one and the
// named ones in /run/netns), its links and addresses from rtnetlink
// dumps, bridge ports under their bridge, and an edge for each veth pair,
// its two ends found through the ids namespaces give each other
// (IFLA_LINK_NETNSID, RTM_GETNSID).
import { readlinkSync, statSync } from 'node:fs';
import { RouteSocket } from '../../netlink/socket.js';
import { namespaceId } from '../../netlink/route.js';
import { closeFd, openNamespaceFile } from '../../syscalls/namespaces.js';
import { listNetns, netnsPath } from '../../core/netns.js';
import { ShownLink, showLinks } from '../../core/veth.js';
import { Diagram, DiagramEdge, DiagramGroup, DiagramNode, Mark } from './diagram.js';

export interface DrawnNamespace {
  /** 'this' for the caller's own, else the name in /run/netns (or the path given). */
  key: string;
  label: string;
  inode: number;
  links: ShownLink[];
}

interface OpenSpace {
  key: string;
  label: string;
  path: string;
  inode: number;
  fd: number;
}

function inodeOf(path: string): number {
  try {
    const link = readlinkSync(path);
    const m = /\[(\d+)\]/.exec(link);
    if (m) return Number(m[1]);
  } catch {
    // a bind-mounted nsfs file, not a link: its inode is the namespace's
  }
  return statSync(path).ino;
}

/** The namespaces to look at: this one and each named one (an unreadable name is left out). */
function openSpaces(only?: string): OpenSpace[] {
  const spaces: OpenSpace[] = [];
  const add = (key: string, label: string, path: string) => {
    try {
      const inode = inodeOf(path);
      if (spaces.some((s) => s.inode === inode)) return;
      spaces.push({ key, label, path, inode, fd: openNamespaceFile(path) });
    } catch (err) {
      if (key === only) throw err;
    }
  };
  add('this', 'this network namespace', '/proc/thread-self/ns/net');
  if (only && only !== 'this') add(only, `netns ${only}`, netnsPath(only));
  for (const name of listNetns()) add(name, `netns ${name}`, netnsPath(name));
  return spaces;
}

function addressMarks(l: ShownLink): Mark[] {
  const inet = l.addr_info.filter((a) => a.family === 'inet' || (a.family === 'inet6' && a.scope === 'global'));
  return inet.flatMap((a, i) => [
    ...(i ? [{ text: ' ' }] : []),
    { text: `${a.local}/${a.prefixlen}`, tone: 'new' as const },
  ]);
}

export interface NetworkDrawing {
  diagram: Diagram;
  namespaces: DrawnNamespace[];
}

/** Draw every namespace, or only `only` ('this' or a name in /run/netns, or a path such as /proc/PID/ns/net). */
export function drawNetwork(only?: string): NetworkDrawing {
  const spaces = openSpaces(only);
  try {
    const drawn: DrawnNamespace[] = [];
    // key -> (netnsid as that namespace numbers the others -> key)
    const ids = new Map<string, Map<number, string>>();
    for (const sp of spaces) {
      const s = RouteSocket.open(sp.fd);
      try {
        drawn.push({ key: sp.key, label: sp.label, inode: sp.inode, links: showLinks(s) });
        const known = new Map<number, string>();
        for (const other of spaces) {
          if (other === sp) continue;
          try {
            const id = namespaceId(s, other.fd, other.label);
            if (id >= 0) known.set(id, other.key);
          } catch {
            // no id between the two: no link of one refers to the other
          }
        }
        ids.set(sp.key, known);
      } finally {
        s.close();
      }
    }
    const shown = only ? drawn.filter((d) => d.key === only) : drawn;
    const labelOf = new Map(drawn.map((d) => [d.key, d.label]));
    const edges: DiagramEdge[] = [];
    const seen = new Set<string>();
    const groups: DiagramGroup[] = shown.map((ns) => {
      const byName = new Map(ns.links.map((l) => [l.ifname, l]));
      const nodes = new Map<number, DiagramNode>();
      for (const l of ns.links) {
        const state = l.flags.includes('UP') ? (l.operstate === 'UNKNOWN' ? 'UP' : l.operstate) : 'DOWN';
        const details: Mark[][] = [];
        const addrs = addressMarks(l);
        if (addrs.length) details.push([{ text: 'addresses: ' }, ...addrs]);
        let peer: { key: string; ifindex?: number; name?: string } | undefined;
        if (l.link && l.kind === 'veth') peer = { key: ns.key, ifindex: byName.get(l.link)?.ifindex, name: l.link };
        else if (l.link_index !== undefined && l.kind === 'veth') {
          const key = l.link_netnsid === undefined ? undefined : ids.get(ns.key)?.get(l.link_netnsid);
          peer = key
            ? {
                key,
                ifindex: l.link_index,
                name: drawn.find((d) => d.key === key)?.links.find((p) => p.ifindex === l.link_index)?.ifname,
              }
            : undefined;
          if (!peer)
            details.push([{ text: `peer: ifindex ${l.link_index} in a namespace with no name here`, tone: 'plain' }]);
        }
        if (peer) {
          details.push([
            { text: 'peer: ' },
            {
              text: `${peer.name ?? `if${peer.ifindex}`}${peer.key === ns.key ? '' : ` in ${labelOf.get(peer.key)}`}`,
              tone: 'inherited',
            },
          ]);
          const a = `${ns.key}:${l.ifindex}`;
          const b = `${peer.key}:${peer.ifindex}`;
          const pair = [a, b].sort().join(' ');
          if (!seen.has(pair) && shown.some((d) => d.key === peer!.key)) {
            seen.add(pair);
            edges.push({ from: a, to: b, label: 'veth pair' });
          }
        }
        const kind = l.kind ?? (l.link_type === 'loopback' ? 'loopback' : l.link_type);
        nodes.set(l.ifindex, {
          id: `${ns.key}:${l.ifindex}`,
          label: `${l.ifname} ${kind} ${state}`,
          details,
          children: [],
        });
      }
      const roots: DiagramNode[] = [];
      for (const l of ns.links) {
        const n = nodes.get(l.ifindex)!;
        const bridge = l.master ? ns.links.find((b) => b.ifname === l.master) : undefined;
        if (bridge) {
          n.details.unshift([{ text: `port of bridge ${bridge.ifname}`, tone: 'plain' }]);
          nodes.get(bridge.ifindex)!.children.push(n);
        } else roots.push(n);
      }
      return { id: ns.key, label: ns.label, note: `net:[${ns.inode}]`, nodes: roots };
    });
    return {
      diagram: {
        kind: 'network',
        title: only ? `network: ${labelOf.get(only) ?? only}` : 'network namespaces, their links and veth pairs',
        legend:
          'each namespace: its links (bridge ports under their bridge), addresses, and where the other end of each veth is',
        groups,
        edges,
      },
      namespaces: shown,
    };
  } finally {
    for (const sp of spaces) closeFd(sp.fd);
  }
}
