// ts-nsenter: util-linux nsenter(1), over real system calls.
import { ParsedCommandLine, ToolSpec, flag, value } from '../cli/options.js';
import { Described, cannot, runTool } from '../cli/run.js';
import { ToolError } from '../cli/errors.js';
import { SyscallError } from '../syscalls/errors.js';
import { NAMESPACES, NamespaceName } from '../syscalls/namespaces.js';
import { NoTargetError, NotNamespaceFileError, runNsenter, NsenterOptions } from '../core/nsenter.js';

const NS_HELP: Record<string, string> = {
  mount: 'enter mount namespace',
  uts: 'enter UTS namespace (hostname etc)',
  ipc: 'enter System V IPC namespace',
  net: 'enter network namespace',
  pid: 'enter pid namespace',
  cgroup: 'enter cgroup namespace',
  user: 'enter user namespace',
  time: 'enter time namespace',
};

const spec: ToolSpec = {
  name: 'ts-nsenter',
  usage: '[options] [<program> [<argument>...]]',
  summary: 'Run a program with namespaces of other processes.',
  options: [
    { long: 'all', short: 'a', help: 'enter all namespaces' },
    { long: 'target', short: 't', arg: 'required', value: '<pid>', help: 'target process to get namespaces from' },
    ...Object.entries(NS_HELP).map(([long, help]) => ({
      long,
      short: NAMESPACES.find((n) => n.option === long)!.letter,
      arg: 'optional' as const,
      value: '<file>',
      help,
    })),
    { long: 'setuid', short: 'S', arg: 'required', value: '<uid>', help: 'set uid in entered namespace' },
    { long: 'setgid', short: 'G', arg: 'required', value: '<gid>', help: 'set gid in entered namespace' },
    { long: 'preserve-credentials', help: 'do not touch uids or gids' },
    { long: 'root', short: 'r', arg: 'optional', value: '<dir>', help: 'set the root directory' },
    { long: 'wd', short: 'w', arg: 'optional', value: '<dir>', help: 'set the working directory' },
    // util-linux 2.38: -W requires a directory, --wdns only takes one with '=' (--wdns alone sets none).
    {
      long: 'wdns',
      short: 'W',
      arg: 'optional',
      shortArg: 'required',
      value: '<dir>',
      help: 'set the working directory in namespace',
    },
    { long: 'env', short: 'e', help: 'inherit environment variables from target process' },
    { long: 'no-fork', short: 'F', help: "do not fork before exec'ing <program>" },
  ],
  epilog:
    "The namespaces are joined in a child process (Node may not setns() into a user or mount namespace), so the program never has ts-nsenter's PID. With --trace, every system call is printed with its result, the child's included.",
  docs: 'docs/nsenter.md',
  // util-linux's table order: ambiguous prefixes (--w) list their possibilities in it.
  longOrder: [
    'all',
    'help',
    'version',
    'target',
    'mount',
    'uts',
    'ipc',
    'net',
    'pid',
    'user',
    'cgroup',
    'time',
    'setuid',
    'setgid',
    'root',
    'wd',
    'wdns',
    'no-fork',
    'preserve-credentials',
    'env',
  ],
};

/** The largest pid_t and uid_t/gid_t. */
const MAX = { pid: 2 ** 31 - 1, uid: 2 ** 32 - 1, gid: 2 ** 32 - 1 };

function parseNumber(text: string, what: 'pid' | 'uid' | 'gid'): number {
  // util-linux reports these without the usage hint (errx, exit 1). A value
  // too large is refused, where util-linux would cut it down to 32 bits.
  if (!/^\d+$/.test(text)) throw new ToolError(`failed to parse ${what}: '${text}'`);
  if (BigInt(text) > BigInt(MAX[what]))
    throw new ToolError(`failed to parse ${what}: '${text}': Numerical result out of range`);
  return Number(text);
}

function toNsenterOptions(cmd: ParsedCommandLine): NsenterOptions {
  const namespaces = new Map<NamespaceName, string>();
  for (const ns of NAMESPACES) {
    const v = cmd.opts[ns.option];
    if (v !== undefined) namespaces.set(ns.name, typeof v === 'string' ? v : '');
  }
  const target = value(cmd, 'target');
  const uid = value(cmd, 'setuid');
  const gid = value(cmd, 'setgid');
  return {
    target: target === undefined ? undefined : parseNumber(target, 'pid'),
    all: flag(cmd, 'all'),
    namespaces,
    uid: uid === undefined ? undefined : parseNumber(uid, 'uid'),
    gid: gid === undefined ? undefined : parseNumber(gid, 'gid'),
    preserveCredentials: flag(cmd, 'preserve-credentials'),
    root: flag(cmd, 'root') ? (value(cmd, 'root') ?? '') : undefined,
    wd: flag(cmd, 'wd') ? (value(cmd, 'wd') ?? '') : undefined,
    wdns: value(cmd, 'wdns') || undefined,
    fork: !flag(cmd, 'no-fork'),
    env: flag(cmd, 'env'),
    program: cmd.rest,
  };
}

/** ts-nsenter's wording of the library's errors, with its own flags. */
function describe(err: unknown): Described | undefined {
  if (err instanceof NoTargetError) {
    if (err.need === 'all' || err.need === 'env') return { message: `no target PID specified for --${err.need}` };
    return { message: `neither filename nor target pid supplied for ${err.need}` };
  }
  if (err instanceof NotNamespaceFileError) {
    const ns = NAMESPACES.find((n) => n.name === err.type)!;
    const actually = err.actualType ? `a ${err.actualType} namespace file` : 'not a namespace file';
    return {
      message: cannot(`reassociate to namespace 'ns/${err.type}'`, err.errno),
      hint: `${err.path} is ${actually}: give --${ns.option}= a /proc/PID/ns/${err.type} file (or a bind mount of one), or -t PID`,
    };
  }
  if (err instanceof SyscallError && err.call === 'setns' && err.code === 'EPERM' && process.geteuid?.() === 0)
    return { hint: 'the target may be in a user namespace you do not own: enter it too, with -U' };
  return undefined;
}

runTool(spec, (cmd) => runNsenter(toNsenterOptions(cmd)), { describe });
