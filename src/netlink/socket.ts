// A NETLINK_ROUTE socket: one request at a time, each with its own sequence
// number, answered by an ack (NLMSG_ERROR with error 0), an error
// (NLMSG_ERROR with -errno), one reply, or a dump (NLM_F_MULTI messages over
// several datagrams, ended by NLMSG_DONE).
import { CLONE } from '../syscalls/constants.js';
import { closeFd, openNamespaceFile, setns } from '../syscalls/namespaces.js';
import {
  AF_NETLINK,
  bind,
  MSG_TRUNC,
  recvfrom,
  sendto,
  setsockoptInt,
  SOCK_CLOEXEC,
  SOCK_RAW,
  socket,
} from '../syscalls/socket.js';
import {
  messageTypeName,
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  NETLINK_ROUTE,
  NLM_F,
  NLM_F_DUMP,
  NLMSG_DONE,
  NLMSG_ERROR,
  SOL_NETLINK,
} from './constants.js';
import { NetlinkError, NetlinkProtocolError } from './errors.js';
import { describeMessage, encodeMessage, Message, parseMessages, readError, Request } from './message.js';
import { tracing } from '../syscalls/trace.js';

/**
 * Run `fn` with this thread in another network namespace, entered by
 * `enter` (a setns, or an unshare for a new one), and come back to the one
 * it was in, by an fd of /proc/thread-self/ns/net kept for the purpose.
 * Allowed from Node's main thread (only user-namespace setns is refused for
 * a multithreaded process); `fn` must be synchronous, since libuv's worker
 * threads stay where they were.
 */
export function inNetworkNamespace<T>(enter: () => void, fn: () => T): T {
  const home = openNamespaceFile('/proc/thread-self/ns/net', 'cannot open /proc/thread-self/ns/net');
  try {
    enter();
    try {
      return fn();
    } finally {
      setns(home, CLONE.CLONE_NEWNET);
    }
  } finally {
    closeFd(home);
  }
}

/** struct sockaddr_nl { u16 family; u16 pad; u32 pid; u32 groups; }: pid 0 is the kernel (or, for bind, "assign me one"). */
function sockaddrNl(): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16LE(AF_NETLINK, 0);
  return b;
}
const KERNEL_ADDRESS_SHOWN = '{nl_family=AF_NETLINK, nl_pid=0, nl_groups=0}';

// A link dump datagram is at most a few pages; 64 KiB leaves room.
const RECEIVE_BUFFER = 64 * 1024;

export class RouteSocket {
  readonly fd: number;
  private seq: number;
  private readonly buffer = Buffer.alloc(RECEIVE_BUFFER);

  private constructor(fd: number) {
    this.fd = fd;
    // Any start will do; iproute2 uses the time so that replies to an older run are told apart.
    this.seq = Math.floor(Date.now() / 1000) >>> 0;
  }

  /**
   * Open a socket in this process's network namespace, or in the one whose
   * nsfs file descriptor is `netnsFd`: a socket belongs to the namespace of
   * the thread that made it, so this thread enters that namespace just for
   * socket(2), then returns (only synchronous calls in between).
   */
  static open(netnsFd?: number): RouteSocket {
    const make = () => socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE, 'NETLINK_ROUTE');
    const fd = netnsFd === undefined ? make() : inNetworkNamespace(() => setns(netnsFd, CLONE.CLONE_NEWNET), make);
    // Extended acks: the kernel adds a text for many errors; capped acks do not echo our request back.
    setsockoptInt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1, 'SOL_NETLINK, NETLINK_EXT_ACK');
    setsockoptInt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1, 'SOL_NETLINK, NETLINK_CAP_ACK');
    bind(fd, sockaddrNl(), KERNEL_ADDRESS_SHOWN);
    return new RouteSocket(fd);
  }

  close(): void {
    closeFd(this.fd);
  }

  private send(req: Request): number {
    const seq = ++this.seq >>> 0;
    const msg = encodeMessage(req, seq);
    const shown = tracing() ? describeMessage(parseMessages(msg)[0]!) : '';
    sendto(this.fd, msg, sockaddrNl(), `[${shown}]`);
    return seq;
  }

  private receive(): Message[] {
    let messages: Message[] = [];
    const n = recvfrom(this.fd, this.buffer, MSG_TRUNC, (got) => {
      // A copy: the next recvfrom reuses the buffer, and a dump's messages must outlive it.
      messages = parseMessages(Buffer.from(this.buffer.subarray(0, Math.min(got, this.buffer.length))));
      return `[${messages.map((m) => describeMessage(m, true)).join(', ')}]`;
    });
    if (n > this.buffer.length)
      throw new NetlinkProtocolError(`a netlink reply of ${n} bytes did not fit in ${this.buffer.length}`);
    return messages;
  }

  /**
   * Send a request and collect what answers it. A refusal is a NetlinkError
   * naming the request and `object` (the link, address or route it was about).
   */
  private exchange(req: Request, object?: string): Message[] {
    const dump = (req.flags & NLM_F_DUMP) === NLM_F_DUMP;
    const seq = this.send(req);
    const replies: Message[] = [];
    for (;;) {
      for (const m of this.receive()) {
        if (m.seq !== seq) continue; // left over from an earlier request
        if (m.type === NLMSG_ERROR) {
          const e = readError(m);
          if (e.errno !== 0)
            throw new NetlinkError(messageTypeName(req.type), e.errno, { object, kernelMessage: e.message });
          return replies; // the ack
        }
        if (m.type === NLMSG_DONE) {
          const err = m.payload.length >= 4 ? -m.payload.readInt32LE(0) : 0;
          if (err > 0) throw new NetlinkError(messageTypeName(req.type), err, { object });
          return replies;
        }
        replies.push(m);
        if (!dump && !(req.flags & NLM_F.NLM_F_ACK) && !(m.flags & NLM_F.NLM_F_MULTI)) return replies;
      }
    }
  }

  /** A change (new/del/set): asks for an ack, so success is confirmed, not assumed. */
  change(req: Omit<Request, 'flags'> & { flags?: number }, object?: string): void {
    this.exchange({ ...req, flags: NLM_F.NLM_F_REQUEST | NLM_F.NLM_F_ACK | (req.flags ?? 0) }, object);
  }

  /** A get of one object: its single reply. */
  get(req: Omit<Request, 'flags'>, object?: string): Message {
    const [reply] = this.exchange({ ...req, flags: NLM_F.NLM_F_REQUEST }, object);
    if (!reply) throw new NetlinkProtocolError(`no reply to ${messageTypeName(req.type)}${object ? ` ${object}` : ''}`);
    return reply;
  }

  /** A dump: every object of a kind, over as many datagrams as it takes. */
  dump(req: Omit<Request, 'flags'>): Message[] {
    for (let attempt = 1; ; attempt++) {
      const replies = this.exchange({ ...req, flags: NLM_F.NLM_F_REQUEST | NLM_F_DUMP });
      // NLM_F_DUMP_INTR: the table changed while the kernel walked it, so the
      // dump may miss or repeat an entry. Ask again (a few times at most).
      if (attempt < 3 && replies.some((m) => m.flags & NLM_F.NLM_F_DUMP_INTR)) continue;
      return replies;
    }
  }
}
