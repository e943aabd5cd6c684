// IP addresses as the kernel wants them in IFA_LOCAL / RTA_GATEWAY: network
// byte order, 4 or 16 bytes. Parsing and printing go through libc's
// inet_pton(3) and inet_ntop(3), so ts-veth accepts and prints exactly what
// iproute2 does.
import { cfunc } from '../syscalls/libc.js';
import { AF_INET, AF_INET6 } from '../syscalls/socket.js';

export interface Cidr {
  family: number;
  /** The address as written, and in network byte order. */
  text: string;
  bytes: Buffer;
  prefixlen: number;
}

export function parseAddress(text: string): { family: number; bytes: Buffer } | undefined {
  const pton = cfunc('int inet_pton(int af, const char *src, _Out_ uint8_t *dst)');
  for (const [family, size] of [
    [AF_INET, 4],
    [AF_INET6, 16],
  ] as const) {
    const dst = Buffer.alloc(size);
    if (pton(family, text, dst) === 1) return { family, bytes: dst };
  }
  return undefined;
}

/** "172.2.0.1/24" (a missing prefix means a host address: /32 or /128, as ip does); undefined if invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text);
  if (!m) return undefined;
  const addressText = m[1]!; // group 1 always takes part in a match
  const addr = parseAddress(addressText);
  if (!addr) return undefined;
  const max = addr.bytes.length * 8;
  const prefixlen = m[2] === undefined ? max : Number(m[2]);
  if (prefixlen > max) return undefined;
  return { family: addr.family, text: addressText, bytes: addr.bytes, prefixlen };
}

/** The network part of a CIDR (route destinations must have host bits clear). */
export function networkOf(c: Cidr): Buffer {
  const out = Buffer.from(c.bytes);
  for (let bit = c.prefixlen; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}

export function formatAddress(bytes: Buffer): string {
  const family = bytes.length === 4 ? AF_INET : bytes.length === 16 ? AF_INET6 : 0;
  if (!family) return bytes.toString('hex');
  const ntop = cfunc('const char *inet_ntop(int af, const uint8_t *src, _Out_ char *dst, uint32_t size)');
  const dst = Buffer.alloc(64);
  ntop(family, bytes, dst, dst.length);
  return dst.toString('latin1', 0, dst.indexOf(0));
}
