// Numbers of the netlink and rtnetlink protocol, from the kernel's uapi
// headers (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h,
// linux/if_addr.h, linux/veth.h, linux/if.h), with the names --trace prints.
import { FlagTable } from '../syscalls/constants.js';

export const NETLINK_ROUTE = 0;
// linux/netlink.h: setsockopt level and options
export const SOL_NETLINK = 270;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;

// struct nlmsghdr { u32 len; u16 type; u16 flags; u32 seq; u32 pid; }
export const NLMSG_HDRLEN = 16;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLM_F = {
  NLM_F_REQUEST: 0x01,
  NLM_F_MULTI: 0x02,
  NLM_F_ACK: 0x04,
  NLM_F_ECHO: 0x08,
  NLM_F_DUMP_INTR: 0x10,
  NLM_F_DUMP_FILTERED: 0x20,
} as const;
// The high byte means different things for GET, NEW and DELETE requests and for acks.
export const NLM_F_GET = { NLM_F_ROOT: 0x100, NLM_F_MATCH: 0x200, NLM_F_ATOMIC: 0x400 } as const;
export const NLM_F_DUMP = NLM_F_GET.NLM_F_ROOT | NLM_F_GET.NLM_F_MATCH;
export const NLM_F_NEW = { NLM_F_REPLACE: 0x100, NLM_F_EXCL: 0x200, NLM_F_CREATE: 0x400, NLM_F_APPEND: 0x800 } as const;
export const NLM_F_ACKFLAGS = { NLM_F_CAPPED: 0x100, NLM_F_ACK_TLVS: 0x200 } as const;
// struct nlmsgerr is followed by TLVs when NLM_F_ACK_TLVS is set (extended ack).
export const NLMSGERR_ATTR_MSG = 1;

export const RTM = {
  RTM_NEWLINK: 16,
  RTM_DELLINK: 17,
  RTM_GETLINK: 18,
  RTM_SETLINK: 19,
  RTM_NEWADDR: 20,
  RTM_DELADDR: 21,
  RTM_GETADDR: 22,
  RTM_NEWROUTE: 24,
  RTM_DELROUTE: 25,
  RTM_GETROUTE: 26,
  RTM_NEWNSID: 88,
  RTM_GETNSID: 90,
} as const;

// linux/net_namespace.h: a network namespace's id as seen from another one
// (what IFLA_LINK_NETNSID refers to), asked for by an fd of the namespace.
export const NETNSA = { NETNSA_NSID: 1, NETNSA_PID: 2, NETNSA_FD: 3 } as const;

// linux/if_link.h
export const IFLA = {
  IFLA_ADDRESS: 1,
  IFLA_BROADCAST: 2,
  IFLA_IFNAME: 3,
  IFLA_MTU: 4,
  IFLA_LINK: 5,
  IFLA_QDISC: 6,
  IFLA_MASTER: 10,
  IFLA_TXQLEN: 13,
  IFLA_OPERSTATE: 16,
  IFLA_LINKMODE: 17,
  IFLA_LINKINFO: 18,
  IFLA_NET_NS_PID: 19,
  IFLA_GROUP: 27,
  IFLA_NET_NS_FD: 28,
  IFLA_EXT_MASK: 29,
  IFLA_PROMISCUITY: 30,
  IFLA_NUM_TX_QUEUES: 31,
  IFLA_NUM_RX_QUEUES: 32,
  IFLA_CARRIER: 33,
  IFLA_CARRIER_CHANGES: 35,
  IFLA_LINK_NETNSID: 37,
  IFLA_MIN_MTU: 50,
  IFLA_MAX_MTU: 51,
} as const;
export const IFLA_INFO = {
  IFLA_INFO_KIND: 1,
  IFLA_INFO_DATA: 2,
  IFLA_INFO_XSTATS: 3,
  IFLA_INFO_SLAVE_KIND: 4,
  IFLA_INFO_SLAVE_DATA: 5,
} as const;
// linux/veth.h: the peer is described by a whole ifinfomsg plus IFLA_* attributes.
export const VETH_INFO_PEER = 1;
// linux/rtnetlink.h: ask for a smaller link dump (no VF details, no statistics).
export const RTEXT_FILTER_VF = 1 << 0;
export const RTEXT_FILTER_SKIP_STATS = 1 << 3;

// linux/if_addr.h
export const IFA = {
  IFA_ADDRESS: 1,
  IFA_LOCAL: 2,
  IFA_LABEL: 3,
  IFA_BROADCAST: 4,
  IFA_ANYCAST: 5,
  IFA_CACHEINFO: 6,
  IFA_MULTICAST: 7,
  IFA_FLAGS: 8,
  IFA_RT_PRIORITY: 9,
  IFA_PROTO: 11,
} as const;

// linux/rtnetlink.h
export const RTA = {
  RTA_DST: 1,
  RTA_SRC: 2,
  RTA_IIF: 3,
  RTA_OIF: 4,
  RTA_GATEWAY: 5,
  RTA_PRIORITY: 6,
  RTA_PREFSRC: 7,
  RTA_TABLE: 15,
  RTA_PREF: 20,
} as const;
export const RT_TABLE_MAIN = 254;
export const RTPROT_BOOT = 3;
export const RT_SCOPE = {
  RT_SCOPE_UNIVERSE: 0,
  RT_SCOPE_SITE: 200,
  RT_SCOPE_LINK: 253,
  RT_SCOPE_HOST: 254,
  RT_SCOPE_NOWHERE: 255,
} as const;
export const RTN_UNICAST = 1;

// linux/if.h: net_device_flags, in the order iproute2 prints them.
export const IFF = {
  LOOPBACK: 0x8,
  BROADCAST: 0x2,
  POINTOPOINT: 0x10,
  MULTICAST: 0x1000,
  NOARP: 0x80,
  ALLMULTI: 0x200,
  PROMISC: 0x100,
  NOTRAILERS: 0x20,
  DEBUG: 0x4,
  DYNAMIC: 0x8000,
  AUTOMEDIA: 0x4000,
  PORTSEL: 0x2000,
  MASTER: 0x400,
  SLAVE: 0x800,
  UP: 0x1,
  LOWER_UP: 0x10000,
  DORMANT: 0x20000,
  ECHO: 0x40000,
} as const;
export const IFF_UP = IFF.UP;
export const IFF_RUNNING = 0x40;

// linux/if.h: RFC 2863 operational states (IFLA_OPERSTATE)
export const OPERSTATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'] as const;

// linux/if_arp.h: ifi_type
export const ARPHRD: Record<number, string> = { 1: 'ether', 772: 'loopback', 776: 'sit', 778: 'gre', 65534: 'none' };

export const IFNAMSIZ = 16;

function table(obj: Record<string, number>): FlagTable {
  return Object.entries(obj);
}
export const NLM_FLAGS_COMMON = table(NLM_F);
export const NLM_FLAGS_GET = table(NLM_F_GET);
export const NLM_FLAGS_NEW = table(NLM_F_NEW);
export const NLM_FLAGS_ACK = table(NLM_F_ACKFLAGS);

export function nameOf(obj: Record<string, number>, value: number): string | undefined {
  for (const [name, v] of Object.entries(obj)) if (v === value) return name;
  return undefined;
}

export function messageTypeName(type: number): string {
  if (type === NLMSG_NOOP) return 'NLMSG_NOOP';
  if (type === NLMSG_ERROR) return 'NLMSG_ERROR';
  if (type === NLMSG_DONE) return 'NLMSG_DONE';
  if (type === NLMSG_OVERRUN) return 'NLMSG_OVERRUN';
  return nameOf(RTM, type) ?? String(type);
}
