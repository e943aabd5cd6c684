// Sockets: socket(2), bind(2), setsockopt(2), sendto(2), recvfrom(2), for
// the netlink module. Synchronous on purpose: a socket made inside another
// network namespace belongs to it for good, but the calls must run on the
// thread that made it only while that thread is switched (docs/design.md, "Why the child is a plan").
import { cfunc, lastErrno, resetErrno } from './libc.js';
import { SyscallError } from './errors.js';
import { decodeFlags, FlagTable } from './constants.js';
import { formatResult, sys, traceLine } from './trace.js';

// linux/socket.h, linux/net.h
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_BRIDGE = 7;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
export const MSG_TRUNC = 0x20;

const FAMILY_NAMES: Record<number, string> = {
  [AF_UNSPEC]: 'AF_UNSPEC',
  [AF_INET]: 'AF_INET',
  [AF_BRIDGE]: 'AF_BRIDGE',
  [AF_INET6]: 'AF_INET6',
  [AF_NETLINK]: 'AF_NETLINK',
};
const SOCK_FLAGS: FlagTable = [['SOCK_CLOEXEC', SOCK_CLOEXEC]];

export function familyName(family: number): string {
  return FAMILY_NAMES[family] ?? String(family);
}

/** socket(2); `protocolName` is how the protocol reads in a trace (NETLINK_ROUTE). */
export function socket(
  family: number,
  type: number,
  protocol: number,
  protocolName = String(protocol),
  what?: string,
): number {
  const typeText =
    type & SOCK_RAW
      ? `SOCK_RAW${type & ~SOCK_RAW ? '|' + decodeFlags(SOCK_FLAGS, type & ~SOCK_RAW) : ''}`
      : String(type);
  return sys(
    'socket',
    `${familyName(family)}, ${typeText}, ${protocolName}`,
    () => cfunc('int socket(int domain, int type, int protocol)')(family, type, protocol),
    { what },
  );
}

/** bind(2) with a prepared sockaddr; `show` is the address as a trace shows it. */
export function bind(fd: number, address: Buffer, show: string): void {
  sys('bind', `${fd}, ${show}, ${address.length}`, () =>
    cfunc('int bind(int fd, const void *addr, uint32_t len)')(fd, address, address.length),
  );
}

export function setsockoptInt(fd: number, level: number, option: number, value: number, show: string): number {
  const v = Buffer.alloc(4);
  v.writeInt32LE(value);
  return sys(
    'setsockopt',
    `${fd}, ${show}, [${value}], 4`,
    () =>
      cfunc('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)')(fd, level, option, v, 4),
    { allow: ['ENOPROTOOPT'] },
  );
}

/** sendto(2) with a prepared destination address; returns the bytes sent. */
export function sendto(fd: number, data: Buffer, dest: Buffer, show: string): number {
  return sys('sendto', `${fd}, ${show}, ${data.length}, 0`, () =>
    cfunc('int64_t sendto(int fd, const void *buf, uint64_t len, int flags, const void *addr, uint32_t addrlen)')(
      fd,
      data,
      data.length,
      0,
      dest,
      dest.length,
    ),
  );
}

/**
 * recvfrom(2) into `buffer`; with MSG_TRUNC the result is the datagram's real
 * length even when it did not fit, so the caller can tell. `show` renders the
 * bytes received for the trace line (the reply decoded, strace-style).
 */
export function recvfrom(fd: number, buffer: Buffer, flags: number, show: (received: number) => string): number {
  const recv = cfunc('int64_t recvfrom(int fd, _Out_ void *buf, uint64_t len, int flags, void *addr, void *addrlen)');
  resetErrno();
  const n = Number(recv(fd, buffer, buffer.length, flags, null, null));
  const flagText = flags & MSG_TRUNC ? 'MSG_TRUNC' : String(flags);
  if (n === -1) {
    const errno = lastErrno();
    traceLine(`recvfrom(${fd}, ${buffer.length}, ${flagText}) ${formatResult(-1, errno)}`);
    throw new SyscallError('recvfrom', `recvfrom(${fd})`, errno);
  }
  traceLine(`recvfrom(${fd}, ${show(n)}, ${buffer.length}, ${flagText}) = ${n}`);
  return n;
}
