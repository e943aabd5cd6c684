// Netlink messages as bytes: building requests (nlmsghdr, the fixed header
// of the family, then rtattrs, nested or not, each padded to 4 bytes as
// NLMSG_ALIGN/RTA_ALIGN want) and reading replies, plus the strace-style
// rendering --trace prints for both.
import { decodeFlags, FlagTable } from '../syscalls/constants.js';
import { errnoName } from '../syscalls/errors.js';
import { familyName } from '../syscalls/socket.js';
import {
  ARPHRD,
  IFA,
  IFF,
  IFLA,
  IFLA_INFO,
  messageTypeName,
  NETNSA,
  nameOf,
  NLM_FLAGS_ACK,
  NLM_FLAGS_COMMON,
  NLM_FLAGS_GET,
  NLM_FLAGS_NEW,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSGERR_ATTR_MSG,
  NLM_F_ACKFLAGS,
  RT_SCOPE,
  RTA,
  RTM,
  VETH_INFO_PEER,
} from './constants.js';
import { formatAddress } from './address.js';

/** NLMSG_ALIGN / RTA_ALIGN: everything in a netlink message starts on a 4-byte boundary. */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

// ---------------------------------------------------------------- building

/** One rtattr to send: raw bytes, or nested attributes (optionally after a fixed header, as VETH_INFO_PEER has). */
export type Attr = { type: number; data: Buffer } | { type: number; head?: Buffer; children: Attr[] };

export function stringAttr(type: number, value: string): Attr {
  return { type, data: Buffer.from(value + '\0') };
}

export function u32Attr(type: number, value: number): Attr {
  const data = Buffer.alloc(4);
  data.writeUInt32LE(value >>> 0);
  return { type, data };
}

export function bytesAttr(type: number, data: Buffer): Attr {
  return { type, data };
}

export function nestedAttr(type: number, children: Attr[], head?: Buffer): Attr {
  return { type, children, head };
}

/** struct rtattr { u16 rta_len; u16 rta_type; } + payload, padded. rta_len excludes the padding. */
export function encodeAttrs(attrs: readonly Attr[]): Buffer {
  const parts: Buffer[] = [];
  for (const attr of attrs) {
    const payload =
      'data' in attr ? attr.data : Buffer.concat([attr.head ?? Buffer.alloc(0), encodeAttrs(attr.children)]);
    const buf = Buffer.alloc(align4(4 + payload.length));
    buf.writeUInt16LE(4 + payload.length, 0);
    buf.writeUInt16LE(attr.type, 2);
    payload.copy(buf, 4);
    parts.push(buf);
  }
  return Buffer.concat(parts);
}

export interface Request {
  type: number;
  flags: number;
  /** The family's fixed header: ifinfomsg, ifaddrmsg, rtmsg. */
  header: Buffer;
  attrs: Attr[];
}

export function encodeMessage(req: Request, seq: number): Buffer {
  const body = Buffer.concat([req.header, encodeAttrs(req.attrs)]);
  const msg = Buffer.alloc(NLMSG_HDRLEN + align4(body.length));
  msg.writeUInt32LE(NLMSG_HDRLEN + body.length, 0);
  msg.writeUInt16LE(req.type, 4);
  msg.writeUInt16LE(req.flags, 6);
  msg.writeUInt32LE(seq >>> 0, 8);
  msg.writeUInt32LE(0, 12); // nlmsg_pid 0: the message is for the kernel
  body.copy(msg, NLMSG_HDRLEN);
  return msg;
}

/** struct ifinfomsg { u8 family; u8 pad; u16 type; s32 index; u32 flags; u32 change; } */
export function ifinfomsg(fields: { family?: number; index?: number; flags?: number; change?: number } = {}): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(fields.family ?? 0, 0);
  b.writeInt32LE(fields.index ?? 0, 4);
  b.writeUInt32LE((fields.flags ?? 0) >>> 0, 8);
  b.writeUInt32LE((fields.change ?? 0) >>> 0, 12);
  return b;
}

/** struct ifaddrmsg { u8 family; u8 prefixlen; u8 flags; u8 scope; u32 index; } */
export function ifaddrmsg(fields: { family: number; prefixlen?: number; scope?: number; index?: number }): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(fields.family, 0);
  b.writeUInt8(fields.prefixlen ?? 0, 1);
  b.writeUInt8(fields.scope ?? 0, 3);
  b.writeUInt32LE(fields.index ?? 0, 4);
  return b;
}

/** struct rtmsg { u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags; } */
export function rtmsg(fields: {
  family: number;
  dstLen?: number;
  table?: number;
  protocol?: number;
  scope?: number;
  type?: number;
}): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(fields.family, 0);
  b.writeUInt8(fields.dstLen ?? 0, 1);
  b.writeUInt8(fields.table ?? 0, 4);
  b.writeUInt8(fields.protocol ?? 0, 5);
  b.writeUInt8(fields.scope ?? 0, 6);
  b.writeUInt8(fields.type ?? 0, 7);
  return b;
}

// ---------------------------------------------------------------- reading

export interface Message {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** Everything after the nlmsghdr. */
  payload: Buffer;
}

/** Split a datagram into messages (NLMSG_OK / NLMSG_NEXT). */
export function parseMessages(buf: Buffer): Message[] {
  const out: Message[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

export interface RawAttr {
  /** Without NLA_F_NESTED / NLA_F_NET_BYTEORDER. */
  type: number;
  data: Buffer;
}

export function parseAttrs(buf: Buffer): RawAttr[] {
  const out: RawAttr[] = [];
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    out.push({ type: buf.readUInt16LE(off + 2) & 0x3fff, data: buf.subarray(off + 4, off + len) });
    off += align4(len);
  }
  return out;
}

export function attrMap(buf: Buffer): Map<number, Buffer> {
  return new Map(parseAttrs(buf).map((a) => [a.type, a.data]));
}

export function attrString(data: Buffer | undefined): string | undefined {
  if (!data) return undefined;
  const nul = data.indexOf(0);
  return data.toString('utf8', 0, nul === -1 ? data.length : nul);
}

export function attrU32(data: Buffer | undefined): number | undefined {
  return data && data.length >= 4 ? data.readUInt32LE(0) : undefined;
}

export function attrS32(data: Buffer | undefined): number | undefined {
  return data && data.length >= 4 ? data.readInt32LE(0) : undefined;
}

export interface IfInfo {
  family: number;
  type: number;
  index: number;
  flags: number;
  change: number;
}

export function readIfinfomsg(p: Buffer): IfInfo {
  return {
    family: p.readUInt8(0),
    type: p.readUInt16LE(2),
    index: p.readInt32LE(4),
    flags: p.readUInt32LE(8),
    change: p.readUInt32LE(12),
  };
}

export interface IfAddr {
  family: number;
  prefixlen: number;
  flags: number;
  scope: number;
  index: number;
}

export function readIfaddrmsg(p: Buffer): IfAddr {
  return {
    family: p.readUInt8(0),
    prefixlen: p.readUInt8(1),
    flags: p.readUInt8(2),
    scope: p.readUInt8(3),
    index: p.readUInt32LE(4),
  };
}

/** struct nlmsgerr { int error; struct nlmsghdr msg; ... } and the extended-ack message, if any. */
export function readError(m: Message): { errno: number; seq: number; message?: string } {
  const errno = -m.payload.readInt32LE(0);
  const seq = m.payload.readUInt32LE(4 + 8);
  let message: string | undefined;
  if (m.flags & NLM_F_ACKFLAGS.NLM_F_ACK_TLVS) {
    // The request is echoed back unless the ack is capped; the TLVs follow it.
    const echoed = m.flags & NLM_F_ACKFLAGS.NLM_F_CAPPED ? NLMSG_HDRLEN : m.payload.readUInt32LE(4);
    const tlvs = attrMap(m.payload.subarray(4 + align4(echoed)));
    message = attrString(tlvs.get(NLMSGERR_ATTR_MSG));
  }
  return { errno, seq, message };
}

// ---------------------------------------------------------------- --trace rendering

type Kind = 'string' | 'u8' | 'u32' | 's32' | 'mac' | 'addr' | 'linkinfo' | 'infodata' | 'peer' | 'extmask';
type Schema = Record<number, readonly [string, Kind]>;

function schema(names: Record<string, number>, kinds: Record<string, Kind>, fallback: Kind = 'u32'): Schema {
  const s: Schema = {};
  for (const [name, n] of Object.entries(names)) s[n] = [name, kinds[name] ?? fallback];
  return s;
}

const LINK_SCHEMA = schema(IFLA, {
  IFLA_ADDRESS: 'mac',
  IFLA_BROADCAST: 'mac',
  IFLA_IFNAME: 'string',
  IFLA_QDISC: 'string',
  IFLA_LINKINFO: 'linkinfo',
  IFLA_OPERSTATE: 'u8',
  IFLA_LINKMODE: 'u8',
  IFLA_CARRIER: 'u8',
  IFLA_LINK_NETNSID: 's32',
  IFLA_EXT_MASK: 'extmask',
});
const LINKINFO_SCHEMA = schema(IFLA_INFO, {
  IFLA_INFO_KIND: 'string',
  IFLA_INFO_SLAVE_KIND: 'string',
  IFLA_INFO_DATA: 'infodata',
});
const VETH_SCHEMA: Schema = { [VETH_INFO_PEER]: ['VETH_INFO_PEER', 'peer'] };
const ADDR_SCHEMA = schema(IFA, {
  IFA_ADDRESS: 'addr',
  IFA_LOCAL: 'addr',
  IFA_BROADCAST: 'addr',
  IFA_ANYCAST: 'addr',
  IFA_MULTICAST: 'addr',
  IFA_LABEL: 'string',
  IFA_PROTO: 'u8',
});
const NSID_SCHEMA = schema(NETNSA, { NETNSA_NSID: 's32', NETNSA_PID: 'u32', NETNSA_FD: 'u32' });
const ROUTE_SCHEMA = schema(RTA, {
  RTA_DST: 'addr',
  RTA_SRC: 'addr',
  RTA_GATEWAY: 'addr',
  RTA_PREFSRC: 'addr',
  RTA_PREF: 'u8',
});

const IFF_FLAGS: FlagTable = Object.entries(IFF).map(([name, bit]) => ['IFF_' + name, bit] as const);

function hex(data: Buffer): string {
  return data.toString('hex');
}

export function formatMac(data: Buffer): string {
  return [...data].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

function renderAttrs(buf: Buffer, s: Schema, brief: boolean): string {
  const attrs = parseAttrs(buf);
  const shown: string[] = [];
  let hidden = 0;
  for (const a of attrs) {
    const entry = s[a.type];
    if (!entry) {
      if (brief) hidden++;
      else shown.push(`{type=${a.type}, ${a.data.length} bytes}`);
      continue;
    }
    const [name, kind] = entry;
    shown.push(`${name}=${renderValue(a.data, kind, attrs, brief)}`);
  }
  if (hidden) shown.push(`...${hidden} more`);
  return `[${shown.join(', ')}]`;
}

function renderValue(data: Buffer, kind: Kind, siblings: RawAttr[], brief: boolean): string {
  switch (kind) {
    case 'string':
      return JSON.stringify(attrString(data));
    case 'u8':
      return String(data.readUInt8(0));
    case 'u32':
      return data.length >= 4 ? String(data.readUInt32LE(0)) : hex(data);
    case 's32':
      return data.length >= 4 ? String(data.readInt32LE(0)) : hex(data);
    case 'mac':
      return formatMac(data);
    case 'addr':
      return formatAddress(data);
    case 'extmask':
      return decodeFlags(
        [
          ['RTEXT_FILTER_VF', 1],
          ['RTEXT_FILTER_SKIP_STATS', 8],
        ],
        data.readUInt32LE(0),
      );
    case 'linkinfo':
      return renderAttrs(data, LINKINFO_SCHEMA, brief);
    case 'infodata': {
      // IFLA_INFO_DATA is per link kind: only veth's is decoded here.
      const kindAttr = siblings.find((a) => a.type === IFLA_INFO.IFLA_INFO_KIND);
      if (attrString(kindAttr?.data) === 'veth') return renderAttrs(data, VETH_SCHEMA, brief);
      return `<${data.length} bytes>`;
    }
    case 'peer':
      return `${renderIfinfo(readIfinfomsg(data))}, ${renderAttrs(data.subarray(16), LINK_SCHEMA, brief)}`;
  }
}

function renderIfinfo(i: IfInfo): string {
  return `{ifi_family=${familyName(i.family)}, ifi_type=${i.type}, ifi_index=${i.index}, ifi_flags=${decodeFlags(IFF_FLAGS, i.flags)}, ifi_change=${decodeFlags(IFF_FLAGS, i.change)}}`;
}

function scopeName(scope: number): string {
  return nameOf(RT_SCOPE, scope) ?? String(scope);
}

function messageFlags(type: number, flags: number): string {
  let high: FlagTable = [];
  if (type === NLMSG_ERROR) high = NLM_FLAGS_ACK;
  else if (type >= RTM.RTM_NEWLINK && type % 4 === 2) high = NLM_FLAGS_GET;
  else if (type >= RTM.RTM_NEWLINK && type % 4 === 0) high = NLM_FLAGS_NEW;
  return decodeFlags([...NLM_FLAGS_COMMON, ...high], flags);
}

/**
 * One message as strace would show it: the header, the family's fixed
 * header, and the attributes by name. `brief` (used for replies) leaves out
 * attributes this tool does not use, counting them.
 */
export function describeMessage(m: Message, brief = false): string {
  const head = `{type=${messageTypeName(m.type)}, flags=${messageFlags(m.type, m.flags)}, seq=${m.seq}, pid=${m.pid}}`;
  const p = m.payload;
  if (m.type === NLMSG_ERROR) {
    const e = readError(m);
    const what = e.errno === 0 ? 'ack' : `error=-${errnoName(e.errno)}`;
    return `${head}, {${what}${e.message ? `, msg=${JSON.stringify(e.message)}` : ''}}`;
  }
  if (m.type === NLMSG_DONE) return head;
  switch (m.type) {
    case RTM.RTM_NEWLINK:
    case RTM.RTM_DELLINK:
    case RTM.RTM_GETLINK:
    case RTM.RTM_SETLINK:
      if (p.length < 16) break;
      return `${head}, ${renderIfinfo(readIfinfomsg(p))}, ${renderAttrs(p.subarray(16), LINK_SCHEMA, brief)}`;
    case RTM.RTM_NEWADDR:
    case RTM.RTM_DELADDR:
    case RTM.RTM_GETADDR: {
      if (p.length < 8) break;
      const a = readIfaddrmsg(p);
      return `${head}, {ifa_family=${familyName(a.family)}, ifa_prefixlen=${a.prefixlen}, ifa_flags=${a.flags}, ifa_scope=${scopeName(a.scope)}, ifa_index=${a.index}}, ${renderAttrs(p.subarray(8), ADDR_SCHEMA, brief)}`;
    }
    case RTM.RTM_NEWNSID:
    case RTM.RTM_GETNSID:
      return `${head}, {rtgen_family=${familyName(p[0]!)}}, ${renderAttrs(p.subarray(4), NSID_SCHEMA, brief)}`;
    case RTM.RTM_NEWROUTE:
    case RTM.RTM_DELROUTE:
    case RTM.RTM_GETROUTE: {
      if (p.length < 12) break;
      return `${head}, {rtm_family=${familyName(p[0]!)}, rtm_dst_len=${p[1]}, rtm_table=${p[4]}, rtm_protocol=${p[5]}, rtm_scope=${scopeName(p[6]!)}, rtm_type=${p[7]}}, ${renderAttrs(p.subarray(12), ROUTE_SCHEMA, brief)}`;
    }
  }
  return `${head}, <${p.length} bytes>`;
}

export function linkTypeName(arphrd: number): string {
  return ARPHRD[arphrd] ?? `[${arphrd}]`;
}
