// ts-veth: the `ip netns`, `ip link ... type veth|bridge`, `ip addr` and
// `ip route` subset the container networking lessons need, over rtnetlink.
import { ParsedCommandLine, ToolSpec, flag, value } from '../cli/options.js';
import { runTool } from '../cli/run.js';
import type { ExitInfo } from '../syscalls/process.js';
import { ToolError, UsageError } from '../cli/errors.js';
import { errnoName, errnoText, SyscallError } from '../syscalls/errors.js';
import { IFNAMSIZ } from '../netlink/constants.js';
import { Cidr, formatAddress, networkOf, parseCidr } from '../netlink/address.js';
import { NetlinkError, RouteFamilyMismatch, VethNameTaken } from '../netlink/errors.js';
import { RouteSocket } from '../netlink/socket.js';
import {
  addAddress,
  addBridge,
  addRoute,
  addVeth,
  deleteAddress,
  deleteLink,
  deleteRoute,
  findLink,
  moveLink,
  setLinkUp,
  setMaster,
} from '../netlink/route.js';
import {
  addNetns,
  deleteNetns,
  execInNetns,
  InvalidNetnsName,
  listNetns,
  NetnsExists,
  NoSuchNetns,
  openNetns,
  OpenNetns,
} from '../core/netns.js';
import { formatLinks, netnsNames, showLinks } from '../core/veth.js';
import { isUtf8 } from 'node:buffer';
import { existsSync, readFileSync } from 'node:fs';

const spec: ToolSpec = {
  name: 'ts-veth',
  usage: '<command> [arguments] [options]',
  summary: 'Network namespaces, veth pairs, bridges, addresses and routes, over rtnetlink.',
  stopAtPositional: false,
  // ip reads its own words: -1.2.3.4/24 is a bad address there, not options.
  dashDigitOperands: true,
  options: [
    {
      long: 'netns',
      short: 'n',
      arg: 'required',
      value: '<name>',
      help: 'work in this network namespace (for move: the destination)',
    },
    { long: 'peer-netns', arg: 'required', value: '<name>', help: 'add: create the peer in this network namespace' },
    { long: 'bridge', arg: 'required', value: '<name>', help: 'attach: the bridge' },
    { long: 'json', short: 'j', help: 'show: JSON, with the keys of ip -j addr' },
  ],
  epilog: [
    'Commands:',
    '  netns add|del NAME                  create or delete /run/netns/NAME (works with ip netns)',
    '  netns list                          list named network namespaces',
    '  netns exec NAME CMD...              run CMD inside the namespace, with its own /sys',
    '  add NAME peer PEER                  create a veth pair (--peer-netns puts PEER in a namespace)',
    '  del NAME                            delete a link (a veth takes its peer with it)',
    "  move NAME --netns NS|PID            move a link into a named namespace or a process's",
    '  addr add|del CIDR dev NAME          add or remove an address',
    '  up|down NAME                        set a link up or down (lo included)',
    '  bridge add NAME                     create a bridge',
    '  attach NAME --bridge BR             make NAME a port of bridge BR',
    '  route add|del default|CIDR via IP   a route through a gateway',
    '  show [NAME]                         links with peers, flags, state, MAC and addresses',
    '',
    'With --trace, every system call is printed, and each netlink request and reply decoded.',
  ].join('\n'),
  docs: 'docs/veth.md',
};

// ---- operands

/**
 * The command line as the kernel gave it, byte for byte: Node decodes argv as
 * UTF-8 and turns invalid bytes into U+FFFD, so a name with such bytes would
 * silently become another name. Those are refused instead (see mangled).
 */
function rawArguments(): Buffer[] {
  try {
    const all = readFileSync('/proc/self/cmdline');
    const parts: Buffer[] = [];
    for (let start = 0; start < all.length;) {
      const end = all.indexOf(0, start);
      parts.push(all.subarray(start, end < 0 ? all.length : end));
      start = end < 0 ? all.length : end + 1;
    }
    return parts.slice(-(process.argv.length - 2));
  } catch {
    return [];
  }
}
const RAW_ARGUMENTS = rawArguments();

/** Whether `word` came from an argument that was not valid UTF-8. */
function mangled(word: string): boolean {
  return word.includes('\uFFFD') && RAW_ARGUMENTS.some((raw) => !isUtf8(raw) && raw.toString('utf8') === word);
}

/** A name for messages: the bytes that were not UTF-8 as \xNN, as they were typed. */
function shown(word: string): string {
  const raw = mangled(word) ? RAW_ARGUMENTS.find((r) => r.toString('utf8') === word) : undefined;
  if (!raw) return word;
  let out = '';
  for (let i = 0; i < raw.length;) {
    const byte = raw[i]!; // i < raw.length
    const len = byte < 0x80 ? 1 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 0;
    const seq = len ? raw.subarray(i, i + len) : undefined;
    if (seq && seq.length === len && isUtf8(seq)) {
      out += seq.toString('utf8');
      i += len;
    } else out += `\\x${raw[i++]!.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** A required word of the grammar that is missing: one line, no usage hint (ip gives none either). */
function missing(what: string, usage: string): ToolError {
  return new ToolError(`missing ${what} in: ${usage}`);
}

/** The kernel's dev_valid_name(): 1..15 bytes, not . or .., no slash, colon or space; and UTF-8, as typed. */
function deviceName(name: string | undefined, usage: string, role = 'device'): string {
  if (name === undefined) throw missing(`${role} name`, usage);
  const bad = (why: string) => new ToolError(`invalid ${role} name '${shown(name)}': ${why}`);
  if (mangled(name)) throw bad('not valid UTF-8');
  if (!name) throw bad('empty');
  if (Buffer.byteLength(name) >= IFNAMSIZ) throw bad(`${Buffer.byteLength(name)} bytes, at most ${IFNAMSIZ - 1}`);
  if (name === '.' || name === '..' || /[/:\s]/.test(name)) throw bad("no '/', ':' or spaces, and not . or ..");
  return name;
}

const NETNS_NAME_PROBLEM: Record<InvalidNetnsName['reason'], (name: string) => string> = {
  empty: () => 'empty',
  dot: () => '. and .. are not names',
  slash: () => "a name has no '/'",
  'too-long': (name) => `${Buffer.byteLength(name)} bytes, at most 255`,
};

/** A netns name (or, where ip takes one, a path): refused here if it was not UTF-8; the library checks the rest. */
function netnsName(name: string | undefined, usage: string): string {
  if (name === undefined) throw missing('netns name', usage);
  if (mangled(name)) throw new ToolError(`invalid netns name '${shown(name)}': not valid UTF-8`);
  return name;
}

/** A bad value (unlike a bad option) is one line naming it, no usage hint. */
function cidr(text: string | undefined, what: string, usage: string): Cidr {
  if (text === undefined) throw missing(what, usage);
  const c = parseCidr(text);
  if (!c) throw new ToolError(`invalid address '${shown(text)}': expected A.B.C.D/PREFIX (or an IPv6 address/PREFIX)`);
  return c;
}

/** Positional words after the command: `word` must appear where the grammar has it ("peer", "dev", "via"). */
function keyword(words: readonly string[], index: number, word: string, usage: string): void {
  if (words[index] === undefined) throw missing(`'${word}'`, usage);
  if (words[index] !== word)
    throw new ToolError(`expected '${word}' rather than '${shown(words[index])}' in: ${usage}`);
}

/** Words after the last one the grammar has are refused, as ip refuses them ("... is a garbage"). */
function noMore(words: readonly string[], count: number, usage: string): void {
  if (words.length > count) throw new ToolError(`unexpected argument '${shown(words[count]!)}' in: ${usage}`);
}

// ---- failures in the tool's words

function errnoPart(errno: number): string {
  return `${errnoName(errno)} (${errnoText(errno)})`;
}

function isRoot(): boolean {
  return process.geteuid?.() === 0;
}

/** Advice for a refusal: privilege for non-root callers, else the kernel's own sentence. */
function hintFor(err: NetlinkError | SyscallError): string | undefined {
  if ((err.code === 'EPERM' || err.code === 'EACCES') && !isRoot())
    return err instanceof NetlinkError
      ? 'changing links, addresses and routes needs CAP_NET_ADMIN: run as root'
      : 'run as root';
  if (err instanceof NetlinkError && err.kernelMessage) return `the kernel says: ${err.kernelMessage}`;
  return err instanceof SyscallError ? err.hint : undefined;
}

/** "cannot ACTION: ERRNO (text)", the shape every tool's failures take. */
function cannot(action: string, errno: number, hint?: string): ToolError {
  return new ToolError(`cannot ${action}: ${errnoPart(errno)}`, 1, hint);
}

/**
 * A library error in this tool's words: `action` is what the command was
 * doing ("add veth0", "open netns blue"). Anything not recognised passes.
 */
function worded(action: string, err: unknown): unknown {
  if (err instanceof VethNameTaken) {
    if (err.taken === 'name') return worded(action, err.cause);
    return cannot(
      `${action}: its peer ${err.peer}${err.peerElsewhere ? ' in the target netns' : ''}`,
      err.cause.errno,
      hintFor(err.cause),
    );
  }
  if (err instanceof NetlinkError || err instanceof SyscallError) return cannot(action, err.errno, hintFor(err));
  if (err instanceof NetnsExists || err instanceof NoSuchNetns) return cannot(action, err.cause.errno);
  if (err instanceof InvalidNetnsName)
    return new ToolError(`invalid netns name '${err.netns}': ${NETNS_NAME_PROBLEM[err.reason](err.netns)}`);
  if (err instanceof RouteFamilyMismatch)
    return new ToolError(`cannot ${action}: the gateway and the destination are of different address families`);
  return err;
}

/** Run one step of a command; its failure says "cannot ACTION: ...". */
function step<T>(action: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw worded(action, err);
  }
}

// ---- namespaces and sockets

/** The named namespace open during `fn` (none if no name given), closed after. */
function withNetns<T>(name: string | undefined, fn: (ns: OpenNetns | undefined) => T): T {
  const ns =
    name === undefined ? undefined : step(`open netns ${name}`, () => openNetns(netnsName(name, '--netns NAME')));
  try {
    return fn(ns);
  } finally {
    ns?.close();
  }
}

/** A netlink socket in namespace `where` (-n NS) if given, else here; closed after `fn`. */
function withSocket<T>(where: string | undefined, fn: (s: RouteSocket) => T): T {
  return withNetns(where, (ns) => {
    const s = ns ? step(`enter ${ns.label}`, () => RouteSocket.open(ns.fd)) : RouteSocket.open();
    try {
      return fn(s);
    } finally {
      s.close();
    }
  });
}

// ---- the commands

type Option = 'netns' | 'peer-netns' | 'bridge' | 'json';
const OPTIONS: readonly Option[] = ['netns', 'peer-netns', 'bridge', 'json'];

interface Command {
  /** The grammar after the tool's name, for messages: "addr add|del CIDR dev NAME". */
  usage: string;
  /** The tool's options this command reads; any other is refused, like an extra word. */
  options: readonly Option[];
  run(
    words: readonly string[],
    cmd: ParsedCommandLine,
    program: readonly string[],
  ): number | ExitInfo | Promise<number | ExitInfo>;
}

/** move --netns: a named namespace (or path), else a PID's (IFLA_NET_NS_PID). */
function moveTo(name: string, dest: string): void {
  if (/^\d+$/.test(dest) && !existsSync(`/run/netns/${dest}`))
    return withSocket(undefined, (s) =>
      step(`move ${name} to the netns of pid ${dest}`, () => moveLink(s, name, { pid: Number(dest) })),
    );
  withNetns(dest, (ns) =>
    withSocket(undefined, (s) => step(`move ${name} to ${ns!.label}`, () => moveLink(s, name, { fd: ns!.fd }))),
  );
}

/** `del NAME`, `up NAME`, ...: one device name and nothing after it. */
function onlyName(words: readonly string[], usage: string): string {
  const name = deviceName(words[0], usage);
  noMore(words, 1, usage);
  return name;
}

const NETNS_COMMANDS: Record<string, Command> = {
  list: {
    usage: 'netns list',
    options: [],
    run: (words) => {
      noMore(words, 0, 'netns list');
      for (const n of listNetns()) process.stdout.write(n + '\n');
      return 0;
    },
  },
  add: {
    usage: 'netns add NAME',
    options: [],
    run: (words) => {
      const name = netnsName(words[0], 'netns add NAME');
      noMore(words, 1, 'netns add NAME');
      step(`create netns ${name}`, () => addNetns(name));
      return 0;
    },
  },
  del: {
    usage: 'netns del NAME',
    options: [],
    run: (words) => {
      const name = netnsName(words[0], 'netns del NAME');
      noMore(words, 1, 'netns del NAME');
      step(`delete netns ${name}`, () => deleteNetns(name));
      return 0;
    },
  },
  exec: {
    usage: 'netns exec NAME CMD...',
    options: [],
    // The words after NAME were cut off before option parsing (splitProgram): they are CMD's.
    run: async (words, _cmd, program) => {
      const name = netnsName(words[0], 'netns exec NAME CMD...');
      if (program.length === 0) throw missing('command', 'netns exec NAME CMD...');
      const ns = step(`open netns ${name}`, () => openNetns(name));
      try {
        return await execInNetns(ns, program);
      } catch (err) {
        // Each step of the child has its own `what` ("enter netns blue", "mount /sys").
        throw worded(err instanceof SyscallError && err.what ? err.what : `run a command in netns ${name}`, err);
      } finally {
        ns.close();
      }
    },
  },
};
const NETNS_ALIASES: Record<string, string> = { ls: 'list', delete: 'del' };

const COMMANDS: Record<string, Command> = {
  netns: {
    usage: 'netns add|del|list|exec ...',
    options: [],
    run: (words, cmd, program) => {
      // Bare `netns` lists, as `ip netns` does.
      const [sub = 'list', ...rest] = words;
      const command = NETNS_COMMANDS[NETNS_ALIASES[sub] ?? sub];
      if (!command) throw new UsageError(`unknown netns command '${shown(sub)}' (add, del, list, exec)`);
      return command.run(rest, cmd, program);
    },
  },
  add: {
    usage: 'add NAME peer PEER',
    options: ['netns', 'peer-netns'],
    run: (words, cmd) => {
      const usage = 'add NAME peer PEER';
      const name = deviceName(words[0], usage);
      keyword(words, 1, 'peer', usage);
      const peer = deviceName(words[2], usage, 'peer');
      noMore(words, 3, usage);
      withNetns(value(cmd, 'peer-netns'), (peerNs) =>
        withSocket(value(cmd, 'netns'), (s) => step(`add ${name}`, () => addVeth(s, name, peer, peerNs?.fd))),
      );
      return 0;
    },
  },
  del: {
    usage: 'del NAME',
    options: ['netns'],
    run: (words, cmd) => {
      const name = onlyName(words, 'del NAME');
      withSocket(value(cmd, 'netns'), (s) => step(`delete ${name}`, () => deleteLink(s, name)));
      return 0;
    },
  },
  move: {
    usage: 'move NAME --netns NS|PID',
    options: ['netns'],
    run: (words, cmd) => {
      const name = onlyName(words, 'move NAME --netns NS|PID');
      const dest = value(cmd, 'netns');
      if (dest === undefined) throw new ToolError('move: --netns NS|PID is required');
      moveTo(name, dest);
      return 0;
    },
  },
  addr: {
    usage: 'addr add|del CIDR dev NAME',
    options: ['netns'],
    run: (words, cmd) => {
      const usage = 'addr add|del CIDR dev NAME';
      const [op] = words;
      if (op !== 'add' && op !== 'del')
        throw op === undefined
          ? missing('add or del', usage)
          : new ToolError(`expected add or del rather than '${shown(op)}' in: ${usage}`);
      const address = cidr(words[1], 'address', usage);
      keyword(words, 2, 'dev', usage);
      const name = deviceName(words[3], usage);
      noMore(words, 4, usage);
      const text = `${address.text}/${address.prefixlen}`;
      withSocket(value(cmd, 'netns'), (s) => {
        const link = step(`find device ${name}`, () => findLink(s, name));
        if (op === 'add') step(`add ${text} to ${name}`, () => addAddress(s, link, address));
        else step(`delete ${text} from ${name}`, () => deleteAddress(s, link, address));
      });
      return 0;
    },
  },
  up: {
    usage: 'up NAME',
    options: ['netns'],
    run: (words, cmd) => {
      const name = onlyName(words, 'up NAME');
      withSocket(value(cmd, 'netns'), (s) => step(`bring up ${name}`, () => setLinkUp(s, name, true)));
      return 0;
    },
  },
  down: {
    usage: 'down NAME',
    options: ['netns'],
    run: (words, cmd) => {
      const name = onlyName(words, 'down NAME');
      withSocket(value(cmd, 'netns'), (s) => step(`bring down ${name}`, () => setLinkUp(s, name, false)));
      return 0;
    },
  },
  bridge: {
    usage: 'bridge add NAME',
    options: ['netns'],
    run: (words, cmd) => {
      const usage = 'bridge add NAME';
      if (words[0] === undefined) throw missing("'add'", usage);
      if (words[0] !== 'add') throw new UsageError(`unknown bridge command '${shown(words[0])}' (add)`);
      const name = deviceName(words[1], usage, 'bridge');
      noMore(words, 2, usage);
      withSocket(value(cmd, 'netns'), (s) => step(`add ${name}`, () => addBridge(s, name)));
      return 0;
    },
  },
  attach: {
    usage: 'attach NAME --bridge BR',
    options: ['netns', 'bridge'],
    run: (words, cmd) => {
      const usage = 'attach NAME --bridge BR';
      const name = onlyName(words, usage);
      const bridgeWord = value(cmd, 'bridge');
      if (bridgeWord === undefined) throw new ToolError('attach: --bridge BR is required');
      const bridge = deviceName(bridgeWord, usage, 'bridge');
      withSocket(value(cmd, 'netns'), (s) => {
        const master = step(`find device ${bridge}`, () => findLink(s, bridge));
        // The kernel answers EOPNOTSUPP for a master that is not a bridge; say what is wrong.
        if (master.kind !== 'bridge')
          throw new ToolError(`cannot attach ${name} to ${bridge}: ${bridge} is not a bridge`);
        step(`attach ${name} to ${bridge}`, () => setMaster(s, name, master.index));
      });
      return 0;
    },
  },
  route: {
    usage: 'route add|del default|CIDR via IP',
    options: ['netns'],
    run: (words, cmd) => {
      const usage = 'route add|del default|CIDR via IP';
      const [op, dest] = words;
      if (op !== 'add' && op !== 'del')
        throw op === undefined
          ? missing('add or del', usage)
          : new ToolError(`expected add or del rather than '${shown(op)}' in: ${usage}`);
      if (dest === undefined) throw missing('destination', usage);
      const destination = dest === 'default' ? undefined : cidr(dest, 'destination', usage);
      keyword(words, 2, 'via', usage);
      const gateway = cidr(words[3], 'gateway', usage);
      noMore(words, 4, usage);
      const action = `${op === 'add' ? 'add' : 'delete'} route ${dest} via ${words[3]}`;
      withSocket(value(cmd, 'netns'), (s) => {
        try {
          step(action, () => (op === 'add' ? addRoute : deleteRoute)(s, destination, gateway));
        } catch (err) {
          throw withPrefixAdvice(err, destination);
        }
      });
      return 0;
    },
  },
  show: {
    usage: 'show [NAME]',
    options: ['netns', 'json'],
    run: (words, cmd) => {
      const only = words[0] === undefined ? undefined : deviceName(words[0], 'show [NAME]');
      noMore(words, 1, 'show [NAME]');
      const json = flag(cmd, 'json');
      const text = withSocket(value(cmd, 'netns'), (s) => {
        if (only) step(`find device ${only}`, () => findLink(s, only));
        const links = showLinks(s).filter((l) => !only || l.ifname === only);
        return json ? JSON.stringify(links) + '\n' : formatLinks(links, netnsNames(s, links));
      });
      process.stdout.write(text);
      return 0;
    },
  },
};
const ALIASES: Record<string, string> = { delete: 'del', address: 'addr', list: 'show' };

/**
 * A destination with host bits set (10.5.0.5/16): IPv4 refuses it, as ip
 * does; the advice names the network that was probably meant.
 */
function withPrefixAdvice(err: unknown, destination: Cidr | undefined): unknown {
  if (!(err instanceof ToolError) || !destination || networkOf(destination).equals(destination.bytes)) return err;
  if (!err.message.includes('EINVAL')) return err;
  const network = `${formatAddress(networkOf(destination))}/${destination.prefixlen}`;
  const said = err.hint ? `${err.hint}; ` : '';
  return new ToolError(
    err.message,
    err.exitCode,
    `${said}${destination.text}/${destination.prefixlen} has host bits set: the network is ${network}`,
  );
}

function main(cmd: ParsedCommandLine, program: readonly string[]): number | ExitInfo | Promise<number | ExitInfo> {
  const [name, ...words] = cmd.rest;
  if (name === undefined) throw new UsageError('missing command');
  const command = COMMANDS[ALIASES[name] ?? name];
  if (!command) throw new UsageError(`unknown command '${shown(name)}'`);
  for (const option of OPTIONS)
    if (cmd.opts[option] !== undefined && !command.options.includes(option))
      throw new ToolError(`${name} does not take --${option}`);
  return command.run(words, cmd, program);
}

/**
 * `netns exec NAME CMD...`: everything after NAME belongs to CMD (its own
 * options included), as with ip, so it is cut off before option parsing.
 */
function splitProgram(argv: string[]): { own: string[]; program: string[] } {
  for (let i = 0; i + 2 < argv.length; i++) {
    if (argv[i] === 'netns' && argv[i + 1] === 'exec') {
      const end = i + 3;
      if (argv[end] === '--') return { own: argv.slice(0, end), program: argv.slice(end + 1) };
      return { own: argv.slice(0, end), program: argv.slice(end) };
    }
    if (!argv[i]!.startsWith('-')) break;
  }
  return { own: argv, program: [] };
}

const { own, program } = splitProgram(process.argv.slice(2));
runTool(spec, (cmd) => main(cmd, program), own);
