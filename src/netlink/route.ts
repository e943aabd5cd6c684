// rtnetlink operations (man 7 rtnetlink): links, veth pairs, bridges,
// addresses and routes, each one request to the kernel over a RouteSocket.
// A refusal is a NetlinkError (src/netlink/errors.ts) that names the
// request and the object; the tool words it.
import { AF_INET, AF_INET6, AF_UNSPEC } from '../syscalls/socket.js';
import {
  IFA,
  IFF,
  IFF_RUNNING,
  IFF_UP,
  IFLA,
  IFLA_INFO,
  OPERSTATES,
  RT_SCOPE,
  RT_TABLE_MAIN,
  RTA,
  RTEXT_FILTER_SKIP_STATS,
  RTEXT_FILTER_VF,
  RTM,
  RTN_UNICAST,
  RTPROT_BOOT,
  NETNSA,
  NLM_F_NEW,
  VETH_INFO_PEER,
} from './constants.js';
import {
  Attr,
  attrMap,
  attrS32,
  attrString,
  attrU32,
  bytesAttr,
  formatMac,
  ifaddrmsg,
  ifinfomsg,
  Message,
  nestedAttr,
  readIfaddrmsg,
  readIfinfomsg,
  rtmsg,
  stringAttr,
  u32Attr,
} from './message.js';
import { Cidr, formatAddress } from './address.js';
import { NetlinkError, RouteFamilyMismatch, VethNameTaken } from './errors.js';
import { RouteSocket } from './socket.js';

export interface Link {
  index: number;
  name: string;
  /** ifi_flags: IFF_UP, IFF_LOWER_UP, ... */
  flags: number;
  /** ARPHRD_* (1 ether, 772 loopback) */
  type: number;
  mtu?: number;
  operstate: string;
  address?: string;
  broadcast?: string;
  /** IFLA_LINK: for a veth, the peer's ifindex (in the namespace named by linkNetnsid, if set) */
  peerIndex?: number;
  linkNetnsid?: number;
  /** IFLA_MASTER: the bridge this link is a port of */
  masterIndex?: number;
  /** IFLA_INFO_KIND: "veth", "bridge", ... */
  kind?: string;
}

export interface Address {
  family: number;
  index: number;
  prefixlen: number;
  scope: number;
  local?: string;
  /** IFA_ADDRESS: the peer's address on point-to-point links, else the same as local */
  address?: string;
  broadcast?: string;
  label?: string;
}

const NEW_EXCL = NLM_F_NEW.NLM_F_CREATE | NLM_F_NEW.NLM_F_EXCL;
// Link dumps and gets: no VF details, no statistics (what iproute2 asks too).
const EXT_MASK = u32Attr(IFLA.IFLA_EXT_MASK, RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS);

export function parseLink(m: Message): Link {
  const info = readIfinfomsg(m.payload);
  const attrs = attrMap(m.payload.subarray(16));
  const linkinfo = attrs.get(IFLA.IFLA_LINKINFO);
  const peer = attrS32(attrs.get(IFLA.IFLA_LINK));
  const mac = attrs.get(IFLA.IFLA_ADDRESS);
  const brd = attrs.get(IFLA.IFLA_BROADCAST);
  const operstate = attrs.get(IFLA.IFLA_OPERSTATE);
  return {
    index: info.index,
    name: attrString(attrs.get(IFLA.IFLA_IFNAME)) ?? `if${info.index}`,
    flags: info.flags,
    type: info.type,
    mtu: attrU32(attrs.get(IFLA.IFLA_MTU)),
    operstate: operstate ? (OPERSTATES[operstate[0]!] ?? String(operstate[0])) : 'UNKNOWN',
    address: mac ? formatMac(mac) : undefined,
    broadcast: brd ? formatMac(brd) : undefined,
    // The kernel sends IFLA_LINK only for a link with a lower device (or a
    // peer in another namespace, where the index may even equal this one's).
    peerIndex: peer,
    linkNetnsid: attrS32(attrs.get(IFLA.IFLA_LINK_NETNSID)),
    masterIndex: attrU32(attrs.get(IFLA.IFLA_MASTER)),
    kind: linkinfo ? attrString(attrMap(linkinfo).get(IFLA_INFO.IFLA_INFO_KIND)) : undefined,
  };
}

export function parseAddress(m: Message): Address {
  const a = readIfaddrmsg(m.payload);
  const attrs = attrMap(m.payload.subarray(8));
  const addr = (type: number) => {
    const b = attrs.get(type);
    return b ? formatAddress(b) : undefined;
  };
  return {
    family: a.family,
    index: a.index,
    prefixlen: a.prefixlen,
    scope: a.scope,
    local: addr(IFA.IFA_LOCAL) ?? addr(IFA.IFA_ADDRESS),
    address: addr(IFA.IFA_ADDRESS),
    broadcast: addr(IFA.IFA_BROADCAST),
    label: attrString(attrs.get(IFA.IFA_LABEL)),
  };
}

export function listLinks(s: RouteSocket): Link[] {
  return s.dump({ type: RTM.RTM_GETLINK, header: ifinfomsg({ family: AF_UNSPEC }), attrs: [EXT_MASK] }).map(parseLink);
}

export function listAddresses(s: RouteSocket): Address[] {
  return s.dump({ type: RTM.RTM_GETADDR, header: ifaddrmsg({ family: AF_UNSPEC }), attrs: [] }).map(parseAddress);
}

/** RTM_GETLINK by name: the kernel answers with the one link, or ENODEV. */
export function findLink(s: RouteSocket, name: string): Link {
  return parseLink(
    s.get({ type: RTM.RTM_GETLINK, header: ifinfomsg(), attrs: [EXT_MASK, stringAttr(IFLA.IFLA_IFNAME, name)] }, name),
  );
}

/** Whether a link of that name exists (to say which of two names a refusal was about). */
export function linkExists(s: RouteSocket, name: string): boolean {
  try {
    findLink(s, name);
    return true;
  } catch (err) {
    if (err instanceof NetlinkError && err.code === 'ENODEV') return false;
    throw err;
  }
}

/**
 * A veth pair in one RTM_NEWLINK: IFLA_LINKINFO { IFLA_INFO_KIND "veth",
 * IFLA_INFO_DATA { VETH_INFO_PEER { ifinfomsg, IFLA_IFNAME peer,
 * [IFLA_NET_NS_FD] } } }. NLM_F_EXCL: an existing name is an error, not a
 * reuse; since the kernel's EEXIST is for either name, it becomes a
 * VethNameTaken that says which.
 */
export function addVeth(s: RouteSocket, name: string, peer: string, peerNetnsFd?: number): void {
  const peerAttrs: Attr[] = [stringAttr(IFLA.IFLA_IFNAME, peer)];
  if (peerNetnsFd !== undefined) peerAttrs.push(u32Attr(IFLA.IFLA_NET_NS_FD, peerNetnsFd));
  const linkinfo = nestedAttr(IFLA.IFLA_LINKINFO, [
    stringAttr(IFLA_INFO.IFLA_INFO_KIND, 'veth'),
    nestedAttr(IFLA_INFO.IFLA_INFO_DATA, [nestedAttr(VETH_INFO_PEER, peerAttrs, ifinfomsg())]),
  ]);
  try {
    s.change(
      {
        type: RTM.RTM_NEWLINK,
        flags: NEW_EXCL,
        header: ifinfomsg(),
        attrs: [stringAttr(IFLA.IFLA_IFNAME, name), linkinfo],
      },
      name,
    );
  } catch (err) {
    if (!(err instanceof NetlinkError) || err.code !== 'EEXIST') throw err;
    const elsewhere = peerNetnsFd !== undefined;
    // Here, the peer's name can be checked; in another namespace it is the peer's if not ours.
    const taken = linkExists(s, name) ? 'name' : elsewhere || linkExists(s, peer) ? 'peer' : undefined;
    if (!taken) throw err;
    throw new VethNameTaken(taken, name, peer, elsewhere, err);
  }
}

export function addBridge(s: RouteSocket, name: string): void {
  const linkinfo = nestedAttr(IFLA.IFLA_LINKINFO, [stringAttr(IFLA_INFO.IFLA_INFO_KIND, 'bridge')]);
  s.change(
    {
      type: RTM.RTM_NEWLINK,
      flags: NEW_EXCL,
      header: ifinfomsg(),
      attrs: [stringAttr(IFLA.IFLA_IFNAME, name), linkinfo],
    },
    name,
  );
}

/** RTM_DELLINK by name; deleting either end of a veth destroys both. */
export function deleteLink(s: RouteSocket, name: string): void {
  s.change({ type: RTM.RTM_DELLINK, header: ifinfomsg(), attrs: [stringAttr(IFLA.IFLA_IFNAME, name)] }, name);
}

/** Without NLM_F_CREATE, RTM_NEWLINK changes an existing link found by name (ENODEV if none). */
function changeLink(s: RouteSocket, name: string, header: Buffer, attrs: Attr[]): void {
  s.change({ type: RTM.RTM_NEWLINK, header, attrs: [stringAttr(IFLA.IFLA_IFNAME, name), ...attrs] }, name);
}

export type NetnsTarget = { fd: number } | { pid: number };

/** IFLA_NET_NS_FD (an open nsfs file) or IFLA_NET_NS_PID (that process's namespace). */
export function moveLink(s: RouteSocket, name: string, target: NetnsTarget): void {
  const attr = 'fd' in target ? u32Attr(IFLA.IFLA_NET_NS_FD, target.fd) : u32Attr(IFLA.IFLA_NET_NS_PID, target.pid);
  changeLink(s, name, ifinfomsg(), [attr]);
}

/** ifi_change says which flag bits to touch: only IFF_UP. */
export function setLinkUp(s: RouteSocket, name: string, up: boolean): void {
  changeLink(s, name, ifinfomsg({ flags: up ? IFF_UP : 0, change: IFF_UP }), []);
}

/** IFLA_MASTER: make `name` a port of the bridge with index `masterIndex` (0 detaches). */
export function setMaster(s: RouteSocket, name: string, masterIndex: number): void {
  changeLink(s, name, ifinfomsg(), [u32Attr(IFLA.IFLA_MASTER, masterIndex)]);
}

/** iproute2's default: 127.0.0.0/8 and ::1 are host scope, anything else global. */
function defaultScope(c: Cidr): number {
  if (c.family === AF_INET && c.bytes[0] === 127) return RT_SCOPE.RT_SCOPE_HOST;
  if (c.family === AF_INET6 && c.bytes.subarray(0, 15).every((b) => b === 0) && c.bytes[15] === 1)
    return RT_SCOPE.RT_SCOPE_HOST;
  return RT_SCOPE.RT_SCOPE_UNIVERSE;
}

function addressRequest(link: Link, c: Cidr): { header: Buffer; attrs: Attr[] } {
  return {
    header: ifaddrmsg({ family: c.family, prefixlen: c.prefixlen, scope: defaultScope(c), index: link.index }),
    attrs: [bytesAttr(IFA.IFA_LOCAL, c.bytes), bytesAttr(IFA.IFA_ADDRESS, c.bytes)],
  };
}

export function addAddress(s: RouteSocket, link: Link, c: Cidr): void {
  s.change({ type: RTM.RTM_NEWADDR, flags: NEW_EXCL, ...addressRequest(link, c) }, `${c.text}/${c.prefixlen}`);
}

export function deleteAddress(s: RouteSocket, link: Link, c: Cidr): void {
  s.change({ type: RTM.RTM_DELADDR, ...addressRequest(link, c) }, `${c.text}/${c.prefixlen}`);
}

/**
 * A unicast route in the main table through a gateway: rtmsg, then RTA_DST
 * (absent for default) and RTA_GATEWAY. The destination goes as written, as
 * ip sends it: with host bits set, IPv4 refuses it (EINVAL, "Invalid prefix
 * for given prefix length") and IPv6 clears them.
 */
function routeRequest(
  destination: Cidr | undefined,
  gateway: Cidr,
  fields: { protocol?: number; scope: number; type?: number },
): { header: Buffer; attrs: Attr[] } {
  if (destination && destination.family !== gateway.family)
    throw new RouteFamilyMismatch(routeObject(destination), gateway.text);
  const attrs: Attr[] = [];
  if (destination && destination.prefixlen > 0) attrs.push(bytesAttr(RTA.RTA_DST, destination.bytes));
  attrs.push(bytesAttr(RTA.RTA_GATEWAY, gateway.bytes));
  return {
    header: rtmsg({ family: gateway.family, dstLen: destination?.prefixlen ?? 0, table: RT_TABLE_MAIN, ...fields }),
    attrs,
  };
}

/** "default" or "10.0.0.0/8": the route's name in errors. */
function routeObject(destination: Cidr | undefined): string {
  return destination ? `${destination.text}/${destination.prefixlen}` : 'default';
}

export function addRoute(s: RouteSocket, destination: Cidr | undefined, gateway: Cidr): void {
  const req = routeRequest(destination, gateway, {
    protocol: RTPROT_BOOT,
    scope: RT_SCOPE.RT_SCOPE_UNIVERSE,
    type: RTN_UNICAST,
  });
  s.change({ type: RTM.RTM_NEWROUTE, flags: NEW_EXCL, ...req }, routeObject(destination));
}

/** RT_SCOPE_NOWHERE in a delete request means "any scope" (as iproute2 sends it). */
export function deleteRoute(s: RouteSocket, destination: Cidr | undefined, gateway: Cidr): void {
  s.change(
    { type: RTM.RTM_DELROUTE, ...routeRequest(destination, gateway, { scope: RT_SCOPE.RT_SCOPE_NOWHERE }) },
    routeObject(destination),
  );
}

/**
 * The id this namespace gives the namespace open at `netnsFd` (the number in
 * IFLA_LINK_NETNSID): RTM_GETNSID with NETNSA_FD, answered by RTM_NEWNSID.
 * -1 when none is assigned yet.
 */
export function namespaceId(s: RouteSocket, netnsFd: number, label: string): number {
  // struct rtgenmsg { u8 family; }, padded to 4 bytes like everything else.
  const reply = s.get(
    { type: RTM.RTM_GETNSID, header: Buffer.alloc(4), attrs: [u32Attr(NETNSA.NETNSA_FD, netnsFd)] },
    label,
  );
  return attrS32(attrMap(reply.payload.subarray(4)).get(NETNSA.NETNSA_NSID)) ?? -1;
}

/** Link flags as `ip link` prints them: NO-CARRIER when up without carrier, then the IFF_ names. */
export function linkFlagNames(flags: number): string[] {
  const names: string[] = [];
  if (flags & IFF_UP && !(flags & IFF_RUNNING)) names.push('NO-CARRIER');
  for (const [name, bit] of Object.entries(IFF)) if (flags & bit) names.push(name);
  return names;
}
