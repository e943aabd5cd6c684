// ts-unshare: util-linux unshare(1), over real system calls.
import { ParsedCommandLine, ToolSpec, flag, value, values } from '../cli/options.js';
import { Described, runTool } from '../cli/run.js';
import { ToolError } from '../cli/errors.js';
import { SyscallError } from '../syscalls/errors.js';
import { CLONE, signalNumber } from '../syscalls/constants.js';
import { IdRange, lookupGroup, lookupUid, parseIdRange, subordinateRanges, userName } from '../syscalls/identity.js';
import { NAMESPACES } from '../syscalls/namespaces.js';
import { PROPAGATION, Propagation } from '../syscalls/mount.js';
import { IdMapHelperError, runUnshare, UnshareOptions } from '../core/unshare.js';

const NS_HELP: Record<string, string> = {
  mount: 'unshare mounts namespace',
  uts: 'unshare UTS namespace (hostname etc)',
  ipc: 'unshare System V IPC namespace',
  net: 'unshare network namespace',
  pid: 'unshare pid namespace',
  user: 'unshare user namespace',
  cgroup: 'unshare cgroup namespace',
  time: 'unshare time namespace',
};

const spec: ToolSpec = {
  name: 'ts-unshare',
  usage: '[options] [<program> [<argument>...]]',
  summary: 'Run a program with some namespaces unshared from the parent.',
  options: [
    ...['mount', 'uts', 'ipc', 'net', 'pid', 'user', 'cgroup', 'time'].map((long) => ({
      long,
      short: NAMESPACES.find((n) => n.option === long)!.letter,
      arg: 'optional' as const,
      // util-linux: the short form takes no file (-n=FILE is an error), only --net=FILE does.
      shortArg: 'none' as const,
      value: '<file>',
      help: NS_HELP[long]!,
    })),
    { long: 'fork', short: 'f', help: 'fork before launching <program>', gap: true },
    {
      long: 'map-user',
      arg: 'required',
      valueSep: '=',
      value: '<uid>|<name>',
      help: 'map current user to uid (implies --user)',
    },
    {
      long: 'map-group',
      arg: 'required',
      valueSep: '=',
      value: '<gid>|<name>',
      help: 'map current group to gid (implies --user)',
    },
    { long: 'map-root-user', short: 'r', help: 'map current user to root (implies --user)' },
    { long: 'map-current-user', short: 'c', help: 'map current user to itself (implies --user)' },
    { long: 'map-auto', help: 'map users and groups automatically from /etc/subuid and /etc/subgid (implies --user)' },
    {
      long: 'map-users',
      arg: 'required',
      repeat: true,
      valueSep: '=',
      value: '<inner>:<outer>:<count>',
      help: 'map count users from <outer> to <inner>\n(implies --user); also <outer>,<inner>,<count>',
    },
    {
      long: 'map-groups',
      arg: 'required',
      repeat: true,
      valueSep: '=',
      value: '<inner>:<outer>:<count>',
      help: 'map count groups from <outer> to <inner>\n(implies --user); also <outer>,<inner>,<count>',
    },
    {
      long: 'kill-child',
      arg: 'optional',
      value: '<signame>',
      help: 'when dying, kill the forked child (implies --fork)\ndefaults to SIGKILL',
      gap: true,
      check: (v) => v && killSignal(v),
    },
    { long: 'mount-proc', arg: 'optional', value: '<dir>', help: 'mount proc filesystem first (implies --mount)' },
    {
      long: 'propagation',
      arg: 'required',
      value: 'slave|shared|private|unchanged',
      help: 'modify mount propagation in mount namespace',
      check: (v) => propagationMode(v!),
    },
    {
      long: 'setgroups',
      arg: 'required',
      value: 'allow|deny',
      help: 'control the setgroups syscall in user namespaces',
      check: (v) => setgroupsMode(v!),
    },
    { long: 'keep-caps', help: 'retain capabilities granted in user namespaces' },
    {
      long: 'root',
      short: 'R',
      arg: 'required',
      valueSep: '=',
      value: '<dir>',
      help: 'run the command with root directory set to <dir>',
      gap: true,
    },
    {
      long: 'wd',
      short: 'w',
      arg: 'required',
      valueSep: '=',
      value: '<dir>',
      help: 'change working directory to <dir>',
    },
    {
      long: 'setuid',
      short: 'S',
      arg: 'required',
      value: '<uid>',
      help: 'set uid in entered namespace',
      check: (v) => parseId(v!, 'uid'),
    },
    {
      long: 'setgid',
      short: 'G',
      arg: 'required',
      value: '<gid>',
      help: 'set gid in entered namespace',
      check: (v) => parseId(v!, 'gid'),
    },
    {
      long: 'monotonic',
      arg: 'required',
      value: '<offset>',
      help: 'set clock monotonic offset (seconds) in time namespaces',
      check: (v) => parseOffset(v!, 'monotonic'),
    },
    {
      long: 'boottime',
      arg: 'required',
      value: '<offset>',
      help: 'set clock boottime offset (seconds) in time namespaces',
      check: (v) => parseOffset(v!, 'boottime'),
    },
  ],
  epilog: "With --trace, every system call is printed with its result, the child's included.",
  docs: 'README.md, section ts-unshare',
  // The checks above run as each option is read, as util-linux's option loop
  // does them: `--propagation bogus -x` reports the mode, not the -x.
  // util-linux's table order: `--map` lists its possibilities in this order.
  longOrder: [
    'help',
    'version',
    'mount',
    'uts',
    'ipc',
    'net',
    'pid',
    'user',
    'cgroup',
    'time',
    'fork',
    'kill-child',
    'mount-proc',
    'map-user',
    'map-users',
    'map-group',
    'map-groups',
    'map-root-user',
    'map-current-user',
    'map-auto',
    'propagation',
    'setgroups',
    'keep-caps',
    'setuid',
    'setgid',
    'root',
    'wd',
    'monotonic',
    'boottime',
  ],
};

// Bad values are one line, no usage hint, as util-linux words them (errx).
function parseId(text: string, what: 'uid' | 'gid'): number {
  if (!/^\d+$/.test(text)) throw new ToolError(`failed to parse ${what}: '${text}'`);
  // uid_t and gid_t are 32 bits: a larger number is refused, not cut down.
  if (BigInt(text) > 2n ** 32n - 1n)
    throw new ToolError(`failed to parse ${what}: '${text}': Numerical result out of range`);
  return Number(text);
}

function parseOffset(text: string, what: string): bigint {
  if (!/^-?\d+$/.test(text)) throw new ToolError(`failed to parse ${what} offset: '${text}'`);
  return BigInt(text);
}

function propagationMode(text: string): Propagation {
  if (!(text in PROPAGATION)) throw new ToolError(`unsupported propagation mode: ${text}`);
  return text as Propagation;
}

function setgroupsMode(text: string): 'allow' | 'deny' {
  if (text !== 'allow' && text !== 'deny') throw new ToolError(`unsupported --setgroups argument '${text}'`);
  return text;
}

function killSignal(name: string): number {
  const signal = signalNumber(name);
  if (!signal) throw new ToolError(`unknown signal: ${name}`);
  return signal;
}

/**
 * The uid and gid maps the --map-* options ask for, in util-linux's order,
 * and whether one of them maps a single group (then setgroups must stay
 * denied).
 */
function idMapsFromOptions(
  cmd: ParsedCommandLine,
  euid: number,
  egid: number,
): { uidMap: IdRange[]; gidMap: IdRange[]; singleGroupMapped: boolean } {
  const uidMap: IdRange[] = [];
  const gidMap: IdRange[] = [];
  const mapUser = (inner: number) => uidMap.push({ inner, outer: euid, count: 1 });
  const mapGroup = (inner: number) => gidMap.push({ inner, outer: egid, count: 1 });
  if (flag(cmd, 'map-root-user')) {
    mapUser(0);
    mapGroup(0);
  }
  if (flag(cmd, 'map-current-user')) {
    mapUser(euid);
    mapGroup(egid);
  }
  const mu = value(cmd, 'map-user');
  if (mu !== undefined) {
    const uid = lookupUid(mu);
    if (uid === undefined) throw new ToolError(`failed to parse uid: '${mu}'`);
    mapUser(uid);
  }
  const mg = value(cmd, 'map-group');
  if (mg !== undefined) {
    const gid = lookupGroup(mg);
    if (gid === undefined) throw new ToolError(`failed to parse gid: '${mg}'`);
    mapGroup(gid);
  }
  for (const text of values(cmd, 'map-users')) {
    const r = parseIdRange(text, lookupUid);
    if (!r)
      throw new ToolError(
        `invalid --map-users argument '${text}': expected <inner>:<outer>:<count> or <outer>,<inner>,<count>`,
      );
    uidMap.push(r);
  }
  for (const text of values(cmd, 'map-groups')) {
    const r = parseIdRange(text, lookupGroup);
    if (!r)
      throw new ToolError(
        `invalid --map-groups argument '${text}': expected <inner>:<outer>:<count> or <outer>,<inner>,<count>`,
      );
    gidMap.push(r);
  }
  if (flag(cmd, 'map-auto')) {
    const name = userName(euid) ?? String(euid);
    const su = subordinateRanges('uid', name, euid)[0];
    const sg = subordinateRanges('gid', name, egid)[0];
    if (!su) throw new ToolError(`no subordinate uid range for ${name} in /etc/subuid`);
    if (!sg) throw new ToolError(`no subordinate gid range for ${name} in /etc/subgid`);
    uidMap.push({ inner: 0, outer: su.start, count: su.count });
    gidMap.push({ inner: 0, outer: sg.start, count: sg.count });
  }
  const singleGroupMapped = flag(cmd, 'map-root-user') || flag(cmd, 'map-current-user') || mg !== undefined;
  return { uidMap, gidMap, singleGroupMapped };
}

function toUnshareOptions(cmd: ParsedCommandLine): UnshareOptions {
  let flags = 0;
  const persist = new Map<string, string>();
  for (const ns of NAMESPACES) {
    const v = cmd.opts[ns.option];
    if (v === undefined) continue;
    flags |= ns.flag;
    if (typeof v === 'string' && v !== '') persist.set(ns.name, v);
  }
  const euid = process.geteuid!();
  const egid = process.getegid!();
  let fork = flag(cmd, 'fork');

  let killChildSignal: number | undefined;
  if (flag(cmd, 'kill-child')) {
    killChildSignal = killSignal(value(cmd, 'kill-child') || 'KILL');
    fork = true;
  }

  let mountProc: string | undefined;
  if (flag(cmd, 'mount-proc')) {
    mountProc = value(cmd, 'mount-proc') || '/proc';
    flags |= CLONE.CLONE_NEWNS;
  }

  const prop = propagationMode(value(cmd, 'propagation') ?? 'private');

  const setgroupsText = value(cmd, 'setgroups');
  const setgroups = setgroupsText === undefined ? undefined : setgroupsMode(setgroupsText);

  const { uidMap, gidMap, singleGroupMapped } = idMapsFromOptions(cmd, euid, egid);
  if (uidMap.length || gidMap.length) flags |= CLONE.CLONE_NEWUSER;
  if (setgroups === 'allow' && singleGroupMapped)
    throw new ToolError('options --setgroups=allow and --map-group are mutually exclusive');

  const monotonic = value(cmd, 'monotonic');
  const boottime = value(cmd, 'boottime');
  if ((monotonic !== undefined || boottime !== undefined) && !(flags & CLONE.CLONE_NEWTIME))
    throw new ToolError('options --monotonic and --boottime require unsharing of a time namespace (-T)');

  const uidText = value(cmd, 'setuid');
  const gidText = value(cmd, 'setgid');
  return {
    flags,
    persist,
    fork,
    killChildSignal,
    mountProc,
    propagation: PROPAGATION[prop],
    setgroups,
    keepCaps: flag(cmd, 'keep-caps'),
    root: value(cmd, 'root'),
    wd: value(cmd, 'wd'),
    uid: uidText === undefined ? undefined : parseId(uidText, 'uid'),
    gid: gidText === undefined ? undefined : parseId(gidText, 'gid'),
    monotonic: monotonic === undefined ? undefined : parseOffset(monotonic, 'monotonic'),
    boottime: boottime === undefined ? undefined : parseOffset(boottime, 'boottime'),
    uidMap,
    gidMap,
    program: cmd.rest,
  };
}

/** ts-unshare's advice: the kernel's refusals, with the flags that get round them. */
function describe(err: unknown): Described | undefined {
  if (err instanceof IdMapHelperError && err.missing) return { hint: 'install the uidmap package, or run as root' };
  if (
    err instanceof SyscallError &&
    (err.code === 'EPERM' || err.code === 'EACCES') &&
    process.geteuid?.() !== 0 &&
    /^(unshare|clone|mount|sethostname|chroot)$/.test(err.call)
  )
    return { hint: 'this needs CAP_SYS_ADMIN: run as root, or add -U/-r to do it inside a new user namespace' };
  return undefined;
}

runTool(spec, (cmd) => runUnshare(toUnshareOptions(cmd)), { describe });
