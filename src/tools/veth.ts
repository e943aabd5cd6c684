// ts-veth: the `ip netns`, `ip link ... type veth|bridge`, `ip addr` and
// `ip route` subset the container networking lessons need, over rtnetlink.
import { ParsedCommandLine, ToolSpec, flag, value } from '../cli/options.js';
import { runTool } from '../cli/run.js';
import { ToolError, UsageError } from '../syscalls/errors.js';
import { IFNAMSIZ } from '../netlink/constants.js';
import { Cidr, parseCidr } from '../netlink/address.js';
import { RouteSocket } from '../netlink/socket.js';
import { addAddress, addBridge, addRoute, addVeth, deleteAddress, deleteLink, deleteRoute, findLink, moveLink, setLinkUp, setMaster } from '../netlink/route.js';
import { addNetns, deleteNetns, execInNetns, listNetns, naming, openNetns, OpenNetns } from '../core/netns.js';
import type { ExitInfo } from '../syscalls/process.js';
import { formatLinks, netnsNames, showLinks } from '../core/veth.js';
import { existsSync } from 'node:fs';

export const spec: ToolSpec = {
  name: 'ts-veth',
  usage: '<command> [arguments] [options]',
  summary: 'Network namespaces, veth pairs, bridges, addresses and routes, over rtnetlink.',
  stopAtPositional: false,
  options: [
    { long: 'netns', short: 'n', arg: 'required', value: '<name>', help: 'work in this network namespace (for move: the destination)' },
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
    '  move NAME --netns NS|PID            move a link into a named namespace or a process\'s',
    '  addr add|del CIDR dev NAME          add or remove an address',
    '  up|down NAME                        set a link up or down (lo included)',
    '  bridge add NAME                     create a bridge',
    '  attach NAME --bridge BR             make NAME a port of bridge BR',
    '  route add|del default|CIDR via IP   a route through a gateway',
    '  show [NAME]                         links with peers, flags, state, MAC and addresses',
    '',
    'With --trace, every system call is printed, and each netlink request and reply decoded.',
  ].join('\n'),
};

/** The kernel's dev_valid_name(): 1..15 bytes, not . or .., no slash, colon or space. */
function deviceName(name: string | undefined, role = 'device'): string {
  if (name === undefined) throw new UsageError(`missing ${role} name`);
  if (!name || Buffer.byteLength(name) >= IFNAMSIZ || name === '.' || name === '..' || /[/:\s]/.test(name))
    throw new ToolError(`invalid ${role} name '${name}': 1 to ${IFNAMSIZ - 1} characters, no '/', ':' or spaces`);
  return name;
}

/** A bad value (unlike a bad option) is one line naming it, no usage hint. */
function cidr(text: string | undefined): Cidr {
  if (text === undefined) throw new UsageError('missing address');
  const c = parseCidr(text);
  if (!c) throw new ToolError(`invalid address '${text}': expected A.B.C.D/PREFIX (or an IPv6 address/PREFIX)`);
  return c;
}

/** Positional words after the command: `keyword` must appear where the grammar has it ("peer", "dev", "via"). */
function keyword(words: readonly string[], index: number, word: string, usage: string): void {
  if (words[index] !== word) throw new UsageError(`expected '${word}' in: ${usage}`);
}

function noMore(words: readonly string[], count: number): void {
  if (words.length > count) throw new UsageError(`unexpected argument '${words[count]}'`);
}

/** The named namespace open during `fn` (none if no name given), closed after. */
function withNetns<T>(name: string | undefined, fn: (ns: OpenNetns | undefined) => T): T {
  const ns = name === undefined ? undefined : openNetns(name);
  try {
    return fn(ns);
  } finally {
    ns?.close();
  }
}

/** A netlink socket in namespace `where` (-n NS) if given, else here; closed after `fn`. */
function withSocket<T>(where: string | undefined, fn: (s: RouteSocket) => T): T {
  return withNetns(where, (ns) => {
    const s = ns ? naming(`enter ${ns.label}`, () => RouteSocket.open(ns.fd)) : RouteSocket.open();
    try {
      return fn(s);
    } finally {
      s.close();
    }
  });
}

/** move --netns: a named namespace (or path), else a PID's (IFLA_NET_NS_PID). */
function moveTo(name: string, dest: string): void {
  if (/^\d+$/.test(dest) && !existsSync(`/run/netns/${dest}`))
    return withSocket(undefined, (s) => moveLink(s, name, { pid: Number(dest), label: `the netns of pid ${dest}` }));
  withNetns(dest, (ns) => withSocket(undefined, (s) => moveLink(s, name, { fd: ns!.fd, label: ns!.label })));
}

/** The one operand of `del NAME`, `up NAME`, ...: a device name and nothing after it. */
function onlyName(words: readonly string[]): string {
  noMore(words, 1);
  return deviceName(words[0]);
}

function netnsCommand(words: string[]): number {
  const [sub, name] = words;
  if (sub === 'list' || sub === 'ls' || sub === undefined) {
    noMore(words, 1);
    for (const n of listNetns()) process.stdout.write(n + '\n');
    return 0;
  }
  if (name === undefined) throw new UsageError(`netns ${sub}: missing namespace name`);
  noMore(words, 2);
  if (sub === 'add') addNetns(name);
  else if (sub === 'del' || sub === 'delete') deleteNetns(name);
  else throw new UsageError(`unknown netns command '${sub}'`);
  return 0;
}

function main(cmd: ParsedCommandLine, program: string[]): number | Promise<ExitInfo> {
  const [command, ...words] = cmd.rest;
  switch (command) {
    case 'netns':
      if (words[0] === 'exec') {
        if (!words[1]) throw new UsageError('netns exec: missing namespace name');
        noMore(words, 2);
        return execInNetns(words[1], program);
      }
      return netnsCommand(words);
    case 'add': {
      const usage = 'add NAME peer PEER';
      const name = deviceName(words[0]);
      keyword(words, 1, 'peer', usage);
      const peer = deviceName(words[2], 'peer');
      noMore(words, 3);
      withNetns(value(cmd, 'peer-netns'), (peerNs) => withSocket(value(cmd, 'netns'), (s) => addVeth(s, name, peer, peerNs?.fd)));
      return 0;
    }
    case 'del':
    case 'delete': {
      const name = onlyName(words);
      withSocket(value(cmd, 'netns'), (s) => deleteLink(s, name));
      return 0;
    }
    case 'move': {
      const name = onlyName(words);
      const dest = value(cmd, 'netns');
      if (dest === undefined) throw new UsageError('move: --netns NS|PID is required');
      moveTo(name, dest);
      return 0;
    }
    case 'addr':
    case 'address': {
      const usage = 'addr add|del CIDR dev NAME';
      const [op] = words;
      if (op !== 'add' && op !== 'del') throw new UsageError(`expected add or del in: ${usage}`);
      const address = cidr(words[1]);
      keyword(words, 2, 'dev', usage);
      const name = deviceName(words[3]);
      noMore(words, 4);
      withSocket(value(cmd, 'netns'), (s) => {
        const link = findLink(s, name);
        (op === 'add' ? addAddress : deleteAddress)(s, link, address);
      });
      return 0;
    }
    case 'up':
    case 'down': {
      const name = onlyName(words);
      withSocket(value(cmd, 'netns'), (s) => setLinkUp(s, name, command === 'up'));
      return 0;
    }
    case 'bridge': {
      if (words[0] !== 'add') throw new UsageError('expected: bridge add NAME');
      const name = deviceName(words[1], 'bridge');
      noMore(words, 2);
      withSocket(value(cmd, 'netns'), (s) => addBridge(s, name));
      return 0;
    }
    case 'attach': {
      const name = onlyName(words);
      const bridge = deviceName(value(cmd, 'bridge'), 'bridge');
      withSocket(value(cmd, 'netns'), (s) => {
        const master = findLink(s, bridge);
        // The kernel answers EOPNOTSUPP for a master that is not a bridge; say what is wrong.
        if (master.kind !== 'bridge') throw new ToolError(`cannot attach ${name} to ${bridge}: ${bridge} is not a bridge`);
        setMaster(s, name, master.index, `attach ${name} to ${bridge}`);
      });
      return 0;
    }
    case 'route': {
      const usage = 'route add|del default|CIDR via IP';
      const [op, dest] = words;
      if (op !== 'add' && op !== 'del') throw new UsageError(`expected add or del in: ${usage}`);
      if (dest === undefined) throw new UsageError(`missing destination in: ${usage}`);
      const destination = dest === 'default' ? undefined : cidr(dest);
      keyword(words, 2, 'via', usage);
      const gateway = cidr(words[3]);
      noMore(words, 4);
      const what = `${op === 'add' ? 'add' : 'delete'} route ${dest} via ${words[3]}`;
      withSocket(value(cmd, 'netns'), (s) => (op === 'add' ? addRoute : deleteRoute)(s, destination, gateway, what));
      return 0;
    }
    case 'show':
    case 'list': {
      const only = words[0] === undefined ? undefined : deviceName(words[0]);
      noMore(words, 1);
      const json = flag(cmd, 'json');
      const text = withSocket(value(cmd, 'netns'), (s) => {
        if (only) findLink(s, only); // "cannot find device X: No such device"
        const links = showLinks(s).filter((l) => !only || l.ifname === only);
        return json ? JSON.stringify(links) + '\n' : formatLinks(links, netnsNames(s, links));
      });
      process.stdout.write(text);
      return 0;
    }
    case undefined:
      throw new UsageError('missing command');
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
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
    if (!argv[i].startsWith('-')) break;
  }
  return { own: argv, program: [] };
}

const { own, program } = splitProgram(process.argv.slice(2));
runTool(spec, (cmd) => main(cmd, program), own);
