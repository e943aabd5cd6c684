// The container's terminal, the way runc hands it over: the init opens a
// pty in the container's own devpts, sends the master over a unix socket
// with SCM_RIGHTS, and takes the slave as fds 0-2 and controlling terminal.
//
// The init is a child plan, whose calls have fixed arguments, so every fd
// number is made predictable: closing fd 0 just before open() makes the
// master fd 0, closing fd 1 before TIOCGPTPEER makes the slave fd 1, and the
// message (iovec, cmsghdr with "fd 0") is built here before the clone.
import { closeSync } from 'node:fs';
import { Call, makeCall } from '../syscalls/call.js';
import { O } from '../syscalls/constants.js';
import { SyscallError } from '../syscalls/errors.js';
import { cfunc, koffi } from '../syscalls/libc.js';
import { traceLine } from '../syscalls/trace.js';
import { q } from '../syscalls/trace.js';
import { DomainError } from '../core/errors.js';

export class ConsoleSocketError extends DomainError {
  readonly kind = 'console-socket';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`failed to connect to the console socket ${path}: ${detail}`);
  }
}

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
// asm-generic/ioctls.h
const TIOCSPTLCK = 0x40045431;
const TIOCGPTPEER = 0x5441;
const TIOCSCTTY = 0x540e;

/** sockaddr_un for a path. */
function unixAddress(path: string): Buffer {
  const addr = Buffer.alloc(110);
  addr.writeUInt16LE(AF_UNIX, 0);
  if (Buffer.byteLength(path) > 107)
    throw new ConsoleSocketError(path, 'the path is longer than a unix socket address allows');
  addr.write(path, 2);
  return addr;
}

function check(rc: number, call: string, show: string): number {
  if (rc === -1) throw new SyscallError(call, show, koffi.errno());
  traceLine(`${show} = ${rc}`);
  return rc;
}

/** A connected stream socket to `path` (close-on-exec: the container's program does not keep it). */
export function connectConsoleSocket(path: string): number {
  const fd = check(
    cfunc('int socket(int, int, int)')(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) as number,
    'socket',
    'socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0)',
  );
  const addr = unixAddress(path);
  if ((cfunc('int connect(int, void *, int)')(fd, addr, addr.length) as number) === -1) {
    const errno = koffi.errno();
    closeSync(fd);
    throw new ConsoleSocketError(
      path,
      new SyscallError('connect', 'connect', errno).message.replace(/^connect failed: /, ''),
    );
  }
  traceLine(`connect(${fd}, {AF_UNIX, ${q(path)}}) = 0`);
  return fd;
}

/** A socket pair for a runtime that keeps the terminal itself (run in the foreground): [ours, the init's]. */
export function consoleSocketPair(): [number, number] {
  const fds = new Int32Array(2);
  check(
    cfunc('int socketpair(int, int, int, _Out_ int *sv)')(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) as number,
    'socketpair',
    'socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC)',
  );
  return [fds[0], fds[1]];
}

/**
 * The init's calls: open the pty, unlock it, open its slave, send the master
 * over `socketFd`, and make the slave fds 0-2 and the controlling terminal
 * of a new session. `ptmx` is the path inside the container.
 */
export function consoleCalls(socketFd: number, ptmx = '/dev/ptmx'): Call[] {
  const zero = Buffer.alloc(4);
  const name = Buffer.from(ptmx);
  // struct iovec { base, len }
  const iov = Buffer.alloc(16);
  iov.writeBigUInt64LE(koffi.address(name), 0);
  iov.writeBigUInt64LE(BigInt(name.length), 8);
  // struct cmsghdr { size_t len; int level; int type; int fd } padded to CMSG_SPACE(4) = 24
  const cmsg = Buffer.alloc(24);
  cmsg.writeBigUInt64LE(20n, 0);
  cmsg.writeInt32LE(SOL_SOCKET, 8);
  cmsg.writeInt32LE(SCM_RIGHTS, 12);
  cmsg.writeInt32LE(0, 16); // the master, fd 0
  // struct msghdr { name, namelen, iov, iovlen, control, controllen, flags }
  const msg = Buffer.alloc(56);
  msg.writeBigUInt64LE(koffi.address(iov), 16);
  msg.writeBigUInt64LE(1n, 24);
  msg.writeBigUInt64LE(koffi.address(cmsg), 32);
  msg.writeBigUInt64LE(24n, 40);
  return [
    makeCall('close', [0], 'close(0)', { optional: true }),
    makeCall(
      'open',
      [ptmx, O.O_RDWR | O.O_NOCTTY | O.O_CLOEXEC],
      `open(${q(ptmx)}, O_RDWR|O_NOCTTY|O_CLOEXEC) /* = 0, the master */`,
      { what: `open ${ptmx}` },
    ),
    makeCall('ioctl', [0, TIOCSPTLCK, zero], 'ioctl(0, TIOCSPTLCK, [0])', { what: 'unlock the pty' }),
    makeCall('close', [1], 'close(1)', { optional: true }),
    makeCall(
      'ioctl',
      [0, TIOCGPTPEER, O.O_RDWR | O.O_NOCTTY],
      'ioctl(0, TIOCGPTPEER, O_RDWR|O_NOCTTY) /* = 1, the slave */',
      { what: 'open the pty slave' },
    ),
    makeCall('sendmsg', [socketFd, msg, 0], `sendmsg(${socketFd}, {iov=${q(ptmx)}, SCM_RIGHTS [0]}, 0)`, {
      what: 'send the pty master to the console socket',
      keep: [name, iov, cmsg, zero],
    }),
    makeCall('dup2', [1, 0], 'dup2(1, 0)', { what: 'make the pty stdin' }),
    makeCall('dup2', [1, 2], 'dup2(1, 2)', { what: 'make the pty stderr' }),
    makeCall('setsid', [], 'setsid()', { what: 'setsid' }),
    makeCall('ioctl', [0, TIOCSCTTY, 0], 'ioctl(0, TIOCSCTTY, 0)', { what: 'make the pty the controlling terminal' }),
  ];
}

/** recvmsg(2) one fd sent with SCM_RIGHTS; returns it and the message text. */
export function receiveFd(socketFd: number): { fd: number; name: string } {
  const data = Buffer.alloc(4096);
  const iov = Buffer.alloc(16);
  iov.writeBigUInt64LE(koffi.address(data), 0);
  iov.writeBigUInt64LE(BigInt(data.length), 8);
  const cmsg = Buffer.alloc(64);
  const msg = Buffer.alloc(56);
  msg.writeBigUInt64LE(koffi.address(iov), 16);
  msg.writeBigUInt64LE(1n, 24);
  msg.writeBigUInt64LE(koffi.address(cmsg), 32);
  msg.writeBigUInt64LE(BigInt(cmsg.length), 40);
  const MSG_CMSG_CLOEXEC = 0x40000000;
  const n = Number(cfunc('int64_t recvmsg(int, void *, int)')(socketFd, msg, MSG_CMSG_CLOEXEC));
  if (n === -1) throw new SyscallError('recvmsg', `recvmsg(${socketFd})`, koffi.errno());
  const controlLen = Number(msg.readBigUInt64LE(40));
  if (controlLen < 20 || cmsg.readInt32LE(8) !== SOL_SOCKET || cmsg.readInt32LE(12) !== SCM_RIGHTS)
    throw new ConsoleSocketError('(socket)', 'the message carried no file descriptor');
  const fd = cmsg.readInt32LE(16);
  traceLine(`recvmsg(${socketFd}, {SCM_RIGHTS [${fd}]}) = ${n}`);
  return { fd, name: data.subarray(0, n).toString() };
}

/** A listening unix socket at `path` (recvtty). */
export function listenConsoleSocket(path: string): number {
  const fd = check(
    cfunc('int socket(int, int, int)')(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) as number,
    'socket',
    'socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0)',
  );
  const addr = unixAddress(path);
  check(
    cfunc('int bind(int, void *, int)')(fd, addr, addr.length) as number,
    'bind',
    `bind(${fd}, {AF_UNIX, ${q(path)}})`,
  );
  check(cfunc('int listen(int, int)')(fd, 16) as number, 'listen', `listen(${fd}, 16)`);
  return fd;
}

/** accept(2), blocking: one container's connection. */
export function acceptConsole(listener: number): number {
  return check(
    cfunc('int accept4(int, void *, void *, int)')(listener, null, null, SOCK_CLOEXEC) as number,
    'accept4',
    `accept4(${listener})`,
  );
}
