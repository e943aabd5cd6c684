// Failures of rtnetlink requests, as data. The kernel's answer is an errno
// (and, with extended acks, a sentence of its own); which request it was and
// which object it was about stay with the error, so the tool can say
// "cannot add veth0: EEXIST (File exists)" in its own words.
import { DomainError } from '../errors.js';
import { errnoName } from '../syscalls/errors.js';

/** A request the kernel refused with an errno. */
export class NetlinkError extends DomainError {
  readonly kind = 'netlink-refused';
  /** The request's message type, by name: "RTM_NEWLINK". */
  readonly request: string;
  readonly errno: number;
  readonly code: string;
  /** The object the request was about: a link name, "10.0.0.1/24", "default". */
  readonly object?: string;
  /** The kernel's extended-ack text, when it gave one ("Invalid prefix for given prefix length"). */
  readonly kernelMessage?: string;

  constructor(request: string, errno: number, opts: { object?: string; kernelMessage?: string } = {}) {
    super(
      `${request}${opts.object ? ` ${opts.object}` : ''}: ${errnoName(errno)}${opts.kernelMessage ? ` (${opts.kernelMessage})` : ''}`,
    );
    this.request = request;
    this.errno = errno;
    this.code = errnoName(errno);
    this.object = opts.object;
    this.kernelMessage = opts.kernelMessage;
  }
}

/**
 * A veth pair refused because a name is taken: which one. The kernel answers
 * EEXIST for either end; the peer may even be in another namespace.
 */
export class VethNameTaken extends DomainError {
  readonly kind = 'veth-name-taken';
  constructor(
    /** The name that exists: the one asked for, or its peer's. */
    readonly taken: 'name' | 'peer',
    readonly link: string,
    readonly peer: string,
    /** The peer was to be made in another namespace (where its name is taken). */
    readonly peerElsewhere: boolean,
    override readonly cause: NetlinkError,
  ) {
    super(`${taken === 'peer' ? peer : link} exists`, { cause });
  }
}

/** A route whose destination and gateway are of different address families. */
export class RouteFamilyMismatch extends DomainError {
  readonly kind = 'route-family-mismatch';
  constructor(
    readonly destination: string,
    readonly gateway: string,
  ) {
    super(`destination ${destination} and gateway ${gateway} are of different address families`);
  }
}

/** The netlink conversation itself went wrong (no reply, a datagram too big): a bug or a kernel surprise. */
export class NetlinkProtocolError extends DomainError {
  readonly kind = 'netlink-protocol';
}
