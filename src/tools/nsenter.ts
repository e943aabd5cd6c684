// ts-nsenter: util-linux nsenter(1), over real system calls.
import { ParsedCommandLine, ToolSpec, flag, value } from '../cli/options.js';
import { runTool } from '../cli/run.js';
import { ToolError } from '../syscalls/errors.js';
import { NAMESPACES, NamespaceName } from '../syscalls/namespaces.js';
import { runNsenter, NsenterOptions } from '../core/nsenter.js';

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

export const spec: ToolSpec = {
  name: 'ts-nsenter',
  usage: '[options] [<program> [<argument>...]]',
  summary: 'Run a program with namespaces of other processes.',
  options: [
    { long: 'all', short: 'a', help: 'enter all namespaces' },
    { long: 'target', short: 't', arg: 'required', value: '<pid>', help: 'target process to get namespaces from' },
    ...Object.keys(NS_HELP).map((long) => ({
      long,
      short: NAMESPACES.find((n) => n.option === long)!.letter,
      arg: 'optional' as const,
      value: '<file>',
      help: NS_HELP[long],
    })),
    { long: 'setuid', short: 'S', arg: 'required', value: '<uid>', help: 'set uid in entered namespace' },
    { long: 'setgid', short: 'G', arg: 'required', value: '<gid>', help: 'set gid in entered namespace' },
    { long: 'preserve-credentials', help: 'do not touch uids or gids' },
    { long: 'root', short: 'r', arg: 'optional', value: '<dir>', help: 'set the root directory' },
    { long: 'wd', short: 'w', arg: 'optional', value: '<dir>', help: 'set the working directory' },
    // util-linux 2.38: -W requires a directory, --wdns only takes one with '=' (--wdns alone sets none).
    { long: 'wdns', short: 'W', arg: 'optional', shortArg: 'required', value: '<dir>', help: 'set the working directory in namespace' },
    { long: 'env', short: 'e', help: 'inherit environment variables from target process' },
    { long: 'no-fork', short: 'F', help: "do not fork before exec'ing <program>" },
  ],
  epilog:
    'The namespaces are joined in a child process (Node may not setns() into a user or mount namespace), so the program never has ts-nsenter\'s PID. With --trace, every system call is printed with its result, the child\'s included.',
  docs: 'docs/nsenter.md',
  // util-linux's table order: ambiguous prefixes (--w) list their possibilities in it.
  longOrder: ['all', 'help', 'version', 'target', 'mount', 'uts', 'ipc', 'net', 'pid', 'user', 'cgroup', 'time', 'setuid', 'setgid', 'root', 'wd', 'wdns', 'no-fork', 'preserve-credentials', 'env'],
};

function parseNumber(text: string, what: string): number {
  // util-linux reports these without the usage hint (errx, exit 1).
  if (!/^\d+$/.test(text)) throw new ToolError(`failed to parse ${what}: '${text}'`);
  return Number(text);
}

export function toNsenterOptions(cmd: ParsedCommandLine): NsenterOptions {
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
    root: flag(cmd, 'root') ? value(cmd, 'root') ?? '' : undefined,
    wd: flag(cmd, 'wd') ? value(cmd, 'wd') ?? '' : undefined,
    wdns: value(cmd, 'wdns') || undefined,
    fork: !flag(cmd, 'no-fork'),
    env: flag(cmd, 'env'),
    program: cmd.rest,
  };
}

runTool(spec, (cmd) => runNsenter(toNsenterOptions(cmd)));
