// What `ts-veth show` shows: links and their addresses from two rtnetlink
// dumps, joined by ifindex, in the shape of `ip -j addr` (the same keys, so
// a reader or a test can compare the two) and as `ip addr`-like text.
import { AF_INET, AF_INET6 } from '../syscalls/socket.js';
import { IFF_UP, RT_SCOPE, nameOf } from '../netlink/constants.js';
import { linkTypeName } from '../netlink/message.js';
import { Address, Link, linkFlagNames, listAddresses, listLinks, namespaceId } from '../netlink/route.js';
import { listNetns, openNetns } from './netns.js';
import { RouteSocket } from '../netlink/socket.js';

export interface ShownAddress {
  family: 'inet' | 'inet6' | string;
  local: string;
  prefixlen: number;
  broadcast?: string;
  scope: string;
  label?: string;
}

export interface ShownLink {
  ifindex: number;
  ifname: string;
  /** The peer's name when it is in this namespace (a veth's other end), as ip prints "veth0@veth1". */
  link?: string;
  /** The peer's ifindex when it is in another namespace ("veth0@if7"), with the id this namespace gave that one. */
  link_index?: number;
  link_netnsid?: number;
  flags: string[];
  mtu?: number;
  master?: string;
  operstate: string;
  link_type: string;
  kind?: string;
  address?: string;
  broadcast?: string;
  addr_info: ShownAddress[];
}

function scopeText(scope: number): string {
  const name = nameOf(RT_SCOPE, scope);
  if (name === 'RT_SCOPE_UNIVERSE') return 'global';
  return name ? name.slice('RT_SCOPE_'.length).toLowerCase() : String(scope);
}

function familyText(family: number): string {
  return family === AF_INET ? 'inet' : family === AF_INET6 ? 'inet6' : String(family);
}

function shownAddress(a: Address): ShownAddress {
  const out: ShownAddress = {
    family: familyText(a.family),
    local: a.local ?? '',
    prefixlen: a.prefixlen,
    scope: scopeText(a.scope),
  };
  if (a.broadcast) out.broadcast = a.broadcast;
  if (a.family === AF_INET && a.label) out.label = a.label;
  return out;
}

export function describeLinks(links: readonly Link[], addresses: readonly Address[]): ShownLink[] {
  const byIndex = new Map(links.map((l) => [l.index, l]));
  return links.map((l) => {
    const flags = linkFlagNames(l.flags);
    const shown: ShownLink = {
      ifindex: l.index,
      ifname: l.name,
      flags,
      operstate: l.operstate,
      link_type: linkTypeName(l.type),
      addr_info: [],
    };
    if (l.peerIndex !== undefined) {
      const peer = l.linkNetnsid === undefined ? byIndex.get(l.peerIndex) : undefined;
      if (peer) {
        shown.link = peer.name;
        // ip marks a link whose lower device (here: the peer) is down.
        if (!(peer.flags & IFF_UP)) flags.push('M-DOWN');
      } else {
        shown.link_index = l.peerIndex;
        if (l.linkNetnsid !== undefined) shown.link_netnsid = l.linkNetnsid;
      }
    }
    if (l.mtu !== undefined) shown.mtu = l.mtu;
    if (l.masterIndex) shown.master = byIndex.get(l.masterIndex)?.name ?? `if${l.masterIndex}`;
    if (l.kind) shown.kind = l.kind;
    if (l.address) shown.address = l.address;
    if (l.broadcast) shown.broadcast = l.broadcast;
    shown.addr_info = addresses.filter((a) => a.index === l.index).map(shownAddress);
    return shown;
  });
}

/** Both dumps over one socket. */
export function showLinks(s: RouteSocket): ShownLink[] {
  return describeLinks(listLinks(s), listAddresses(s));
}

/**
 * Names for the netnsids the links refer to, as ip prints "link-netns
 * mynet": ask the id of each namespace in /run/netns until all are named.
 * A namespace that cannot be opened is left unnamed, not an error.
 */
export function netnsNames(s: RouteSocket, links: readonly ShownLink[]): Map<number, string> {
  const wanted = new Set(links.flatMap((l) => (l.link_netnsid === undefined ? [] : [l.link_netnsid])));
  const names = new Map<number, string>();
  for (const name of listNetns()) {
    if (names.size === wanted.size) break;
    try {
      const ns = openNetns(name);
      try {
        const id = namespaceId(s, ns.fd, ns.label);
        if (wanted.has(id) && !names.has(id)) names.set(id, name);
      } finally {
        ns.close();
      }
    } catch {
      // not a namespace file (or gone meanwhile): leave its id unnamed
    }
  }
  return names;
}

/** `ip addr`-like text. */
export function formatLinks(links: readonly ShownLink[], netnsNames: ReadonlyMap<number, string> = new Map()): string {
  const lines: string[] = [];
  for (const l of links) {
    const peer = l.link ? `@${l.link}` : l.link_index !== undefined ? `@if${l.link_index}` : '';
    const parts = [`${l.ifindex}: ${l.ifname}${peer}: <${l.flags.join(',')}>`];
    if (l.mtu !== undefined) parts.push(`mtu ${l.mtu}`);
    if (l.master) parts.push(`master ${l.master}`);
    parts.push(`state ${l.operstate}`);
    if (l.kind) parts.push(`type ${l.kind}`);
    lines.push(parts.join(' '));
    const hw = [`    link/${l.link_type}`];
    if (l.address) hw.push(l.address);
    if (l.broadcast) hw.push('brd', l.broadcast);
    if (l.link_netnsid !== undefined) {
      const name = netnsNames.get(l.link_netnsid);
      hw.push(...(name ? ['link-netns', name] : ['link-netnsid', String(l.link_netnsid)]));
    }
    lines.push(hw.join(' '));
    for (const a of l.addr_info) {
      const addr = [`    ${a.family} ${a.local}/${a.prefixlen}`];
      if (a.broadcast) addr.push('brd', a.broadcast);
      addr.push('scope', a.scope);
      if (a.label) addr.push(a.label);
      lines.push(addr.join(' '));
    }
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}
