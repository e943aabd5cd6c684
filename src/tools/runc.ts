// ts-runc: an OCI runtime with runc 1.1's command line. Global flags, one
// table of commands, and runc's way of reporting errors (logrus lines on
// stderr, or JSON lines in --log for containerd's shim). The work is done
// by src/runtime/.
import { appendFileSync, closeSync, readFileSync, writeSync } from 'node:fs';
import {
  OptionSpec,
  ParsedCommandLine,
  ToolSpec,
  flag,
  parseCommandLine,
  renderHelp,
  value,
  values,
} from '../cli/options.js';
import { UsageError } from '../cli/errors.js';
import { VERSION, runMain } from '../cli/run.js';
import { ExecError, SyscallError, errnoText } from '../syscalls/errors.js';
import { signalNumber } from '../syscalls/constants.js';
import { enableTrace } from '../syscalls/trace.js';
import { DomainError } from '../core/errors.js';
import { writeSpec } from '../runtime/spec.js';
import { DEFAULT_ROOT, listIds, loadState, ociState, ownerOf, utcSeconds, validateId } from '../runtime/state.js';
import type { Runtime } from '../runtime/container.js';

const GLOBAL: ToolSpec = {
  name: 'ts-runc',
  usage: '[global options] command [command options] [arguments...]',
  summary:
    'An OCI container runtime with the command line of runc 1.1, made of the same kernel calls, shown with --trace.',
  options: [
    {
      long: 'root',
      arg: 'required',
      value: 'DIR',
      help: `root directory for storage of container state (default: "${DEFAULT_ROOT}")`,
    },
    {
      long: 'log',
      arg: 'required',
      value: 'FILE',
      help: 'set the log file to write runc logs to (default is /dev/stderr)',
    },
    { long: 'log-format', arg: 'required', value: 'text|json', help: 'set the log format (default: "text")' },
    { long: 'debug', help: 'enable debug logging' },
    { long: 'systemd-cgroup', help: 'not supported: cgroups are managed through cgroupfs' },
    {
      long: 'rootless',
      arg: 'required',
      value: 'true|false|auto',
      help: 'accepted for compatibility; rootless mode follows the config',
    },
    {
      long: 'criu',
      arg: 'required',
      value: 'PATH',
      help: 'accepted for compatibility; checkpointing is not supported',
    },
  ],
  epilog:
    'Commands: spec, create, start, run, state, list, ps, exec, kill, delete, pause, resume, events, update, features. ' +
    "'ts-runc COMMAND --help' shows a command's options.",
};

interface Command {
  usage: string;
  summary: string;
  options: OptionSpec[];
  /** [min, max] operands; max undefined: any number. */
  args: [number, number | undefined];
  /** How runc prefixes errors of this command ("runc run failed: ..."). */
  prefix?: string;
  run: (rt: Runtime, cmd: ParsedCommandLine) => number | Promise<number>;
}

const BUNDLE: OptionSpec = {
  long: 'bundle',
  short: 'b',
  arg: 'required',
  value: 'DIR',
  help: 'path to the root of the bundle directory, defaults to the current directory',
};
const CONSOLE: OptionSpec = {
  long: 'console-socket',
  arg: 'required',
  value: 'PATH',
  help: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal",
};
const PIDFILE: OptionSpec = {
  long: 'pid-file',
  arg: 'required',
  value: 'FILE',
  help: 'specify the file to write the process id to',
};
const NOPIVOT: OptionSpec = {
  long: 'no-pivot',
  help: 'do not use pivot root to jail process inside rootfs (chroot after moving the rootfs onto /)',
};
const NOKEYRING: OptionSpec = { long: 'no-new-keyring', help: 'do not create a new session keyring for the container' };
const PRESERVE: OptionSpec = {
  long: 'preserve-fds',
  arg: 'required',
  value: 'N',
  help: 'Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total) (default: 0)',
};
const FORMAT: OptionSpec = {
  long: 'format',
  short: 'f',
  arg: 'required',
  value: 'table|json',
  help: 'select one of: table or json (default: "table")',
};

async function runtime() {
  return import('../runtime/container.js');
}

function bundleOf(cmd: ParsedCommandLine): string {
  return value(cmd, 'bundle') ?? process.cwd();
}

/** --preserve-fds N: fds 3..3+N-1 (after the LISTEN_FDS ones) go to the container's process. */
function checkPreserveFds(cmd: ParsedCommandLine): number {
  const n = value(cmd, 'preserve-fds');
  if (n === undefined) return 0;
  if (!/^\d+$/.test(n) || Number(n) > 1 << 20)
    throw new UsageError(`invalid value "${n}" for flag -preserve-fds: parse error`);
  return Number(n);
}

const COMMANDS: Record<string, Command> = {
  spec: {
    usage: 'spec [command options]',
    summary: 'create a new specification file (config.json)',
    options: [BUNDLE, { long: 'rootless', help: 'generate a configuration for a rootless container' }],
    args: [0, 0],
    run: (_rt, cmd) => {
      const rootless = flag(cmd, 'rootless') ? { uid: process.geteuid!(), gid: process.getegid!() } : undefined;
      writeSpec(value(cmd, 'bundle') ?? '.', rootless);
      return 0;
    },
  },
  create: {
    usage: 'create [command options] <container-id>',
    summary: 'create a container',
    options: [BUNDLE, CONSOLE, PIDFILE, NOPIVOT, NOKEYRING, PRESERVE],
    args: [1, 1],
    prefix: 'runc create failed: ',
    run: async (rt, cmd) => {
      const preserveFds = checkPreserveFds(cmd);
      const id = cmd.rest[0];
      validateId(id);
      const r = await runtime();
      r.createContainer(rt, {
        id,
        bundle: bundleOf(cmd),
        pidFile: value(cmd, 'pid-file'),
        noPivot: flag(cmd, 'no-pivot'),
        consoleSocket: value(cmd, 'console-socket'),
        detached: true,
        barrier: true,
        preserveFds,
      });
      return 0;
    },
  },
  run: {
    usage: 'run [command options] <container-id>',
    summary: 'create and run a container',
    options: [
      BUNDLE,
      CONSOLE,
      { long: 'detach', short: 'd', help: "detach from the container's process" },
      { long: 'keep', help: 'do not delete the container after it exits' },
      PIDFILE,
      NOPIVOT,
      NOKEYRING,
      PRESERVE,
    ],
    args: [1, 1],
    prefix: 'runc run failed: ',
    run: async (rt, cmd) => {
      const preserveFds = checkPreserveFds(cmd);
      const id = cmd.rest[0];
      validateId(id);
      const r = await runtime();
      const detached = flag(cmd, 'detach');
      const { state, pid, consoleFd } = r.createContainer(rt, {
        id,
        bundle: bundleOf(cmd),
        pidFile: value(cmd, 'pid-file'),
        noPivot: flag(cmd, 'no-pivot'),
        consoleSocket: value(cmd, 'console-socket'),
        detached,
        preserveFds,
      });
      r.poststart(rt, state);
      if (detached) return 0;
      let status: number;
      try {
        status = await waitForeground(pid, consoleFd);
      } catch (err) {
        r.destroy(rt, state); // nothing of a container run in the foreground outlives a failure here
        throw err;
      }
      if (!flag(cmd, 'keep')) r.destroy(rt, state);
      return status;
    },
  },
  start: {
    usage: 'start <container-id>',
    summary: 'executes the user defined process in a created container',
    options: [],
    args: [1, 1],
    run: async (rt, cmd) => {
      const r = await runtime();
      const state = r.startContainer(rt, cmd.rest[0]);
      r.poststart(rt, state);
      return 0;
    },
  },
  state: {
    usage: 'state <container-id>',
    summary: 'output the state of a container',
    options: [],
    args: [1, 1],
    run: (rt, cmd) => {
      const state = loadState(rt.root, cmd.rest[0]);
      out(JSON.stringify(ociState(rt.root, state), null, 2));
      return 0;
    },
  },
  list: {
    usage: 'list [command options]',
    summary: 'lists containers started by runc with the given root',
    options: [FORMAT, { long: 'quiet', short: 'q', help: 'display only container IDs' }],
    args: [0, 0],
    run: (rt, cmd) => {
      const format = value(cmd, 'format') ?? 'table';
      if (format !== 'table' && format !== 'json') throw new UsageErrorPlain(`invalid format option`);
      const rows = listIds(rt.root).flatMap((id) => {
        try {
          return [{ ...ociState(rt.root, loadState(rt.root, id)), owner: ownerOf(rt.root, id) }];
        } catch {
          return [];
        }
      });
      if (flag(cmd, 'quiet')) {
        for (const r of rows) out(r.id + '\n');
        return 0;
      }
      if (format === 'json') {
        out((rows.length ? JSON.stringify(rows.map(({ annotations: _a, ...r }) => r)) : 'null') + '\n');
        return 0;
      }
      out(
        goTable([
          ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
          ...rows.map((r) => [r.id, String(r.pid), r.status, r.bundle, r.created, r.owner]),
        ]),
      );
      return 0;
    },
  },
  ps: {
    usage: 'ps [command options] <container-id> [ps options]',
    summary: 'ps displays the processes running inside a container',
    options: [FORMAT],
    args: [1, undefined],
    run: async (rt, cmd) => {
      const [id, ...psArgs] = cmd.rest;
      const r = await runtime();
      const pids = r.containerPids(rt, id);
      const format = value(cmd, 'format') ?? 'table';
      if (format === 'json') {
        out(JSON.stringify(pids) + '\n');
        return 0;
      }
      if (format !== 'table') throw new UsageErrorPlain('invalid format option');
      const { spawnSync } = process.getBuiltinModule('node:child_process') as typeof import('node:child_process');
      const res = spawnSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
      if (res.status !== 0) throw new UsageErrorPlain(`ps: ${res.stderr.trim() || 'failed'}`);
      const lines = res.stdout.split('\n');
      const col = lines[0].trim().split(/\s+/).indexOf('PID');
      if (col < 0) throw new UsageErrorPlain("couldn't find PID field in ps output");
      const keep = [lines[0], ...lines.slice(1).filter((l) => l && pids.includes(Number(l.trim().split(/\s+/)[col])))];
      out(keep.join('\n') + '\n');
      return 0;
    },
  },
  exec: {
    usage: 'exec [command options] <container-id> <command> [command options]',
    summary: 'execute new process inside the container',
    options: [
      CONSOLE,
      { long: 'cwd', arg: 'required', value: 'DIR', help: 'current working directory in the container' },
      { long: 'env', short: 'e', arg: 'required', repeat: true, value: 'K=V', help: 'set environment variables' },
      { long: 'tty', short: 't', help: 'allocate a pseudo-TTY' },
      { long: 'user', short: 'u', arg: 'required', value: 'UID[:GID]', help: 'UID (format: <uid>[:<gid>])' },
      { long: 'process', short: 'p', arg: 'required', value: 'FILE', help: 'path to the process.json' },
      { long: 'detach', short: 'd', help: "detach from the container's process" },
      PIDFILE,
      PRESERVE,
    ],
    args: [1, undefined],
    prefix: 'exec failed: ',
    run: async (rt, cmd) => {
      const preserveFds = checkPreserveFds(cmd);
      const [id, ...args] = cmd.rest;
      validateId(id);
      const r = await runtime();
      let proc;
      const file = value(cmd, 'process');
      if (file !== undefined) {
        const { parseProcess } = await import('../runtime/config.js');
        let json: unknown;
        try {
          json = JSON.parse(readFileSync(file, 'utf8'));
        } catch (err) {
          throw new UsageErrorPlain(`cannot read ${file}: ${(err as Error).message}`);
        }
        proc = parseProcess(json);
      } else if (args.length === 0) {
        throw new UsageErrorPlain('process args cannot be empty');
      }
      let user;
      const u = value(cmd, 'user');
      if (u !== undefined) {
        const m = /^(\d+)(?::(\d+))?$/.exec(u);
        if (!m) throw new UsageErrorPlain(`parsing ${u} as int: invalid syntax`);
        user = { uid: Number(m[1]), gid: m[2] === undefined ? undefined : Number(m[2]) };
      }
      const detached = flag(cmd, 'detach');
      const { pid, consoleFd } = r.execInContainer(rt, {
        id,
        process: proc,
        args,
        env: values(cmd, 'env'),
        user,
        cwd: value(cmd, 'cwd'),
        tty: flag(cmd, 'tty'),
        consoleSocket: value(cmd, 'console-socket'),
        detached,
        pidFile: value(cmd, 'pid-file'),
        preserveFds,
      });
      if (detached) return 0;
      return waitForeground(pid, consoleFd);
    },
  },
  events: {
    usage: 'events [command options] <container-id>',
    summary: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
    options: [
      { long: 'interval', arg: 'required', value: 'DURATION', help: 'set the stats collection interval (default: 5s)' },
      { long: 'stats', help: "display the container's stats then exit" },
    ],
    args: [1, 1],
    run: async (rt, cmd) => {
      const id = cmd.rest[0];
      const r = await runtime();
      const { containerStats, eventJson, oomKills } = await import('../runtime/events.js');
      const { allows, guard } = await import('../runtime/guard.js');
      const state = loadState(rt.root, id);
      guard('events', id, r.statusOf(rt, state));
      if (flag(cmd, 'stats')) {
        out(eventJson(containerStats(state)) + '\n');
        return 0;
      }
      const interval = goDuration(value(cmd, 'interval') ?? '5s');
      // Stats every interval, an "oom" event for each new OOM kill, until the container stops.
      let ooms = oomKills(state);
      let next = Date.now();
      for (;;) {
        if (!allows('events', r.statusOf(rt, state))) return 0;
        const now = oomKills(state);
        for (; ooms < now; ooms++) out(JSON.stringify({ type: 'oom', id }) + '\n');
        if (Date.now() >= next) {
          out(eventJson(containerStats(state)) + '\n');
          next = Date.now() + interval;
        }
        await new Promise((res) => setTimeout(res, Math.min(100, interval)));
      }
    },
  },
  update: {
    usage: 'update [command options] <container-id>',
    summary: 'update container resource constraints',
    options: [
      {
        long: 'resources',
        short: 'r',
        arg: 'required',
        value: 'FILE',
        help: "path to a JSON file with linux.resources to update, or '-' for standard input",
      },
      {
        long: 'memory',
        arg: 'required',
        value: 'BYTES',
        help: 'memory limit (in bytes, or with K, M, G suffix; -1 for none)',
      },
      {
        long: 'memory-swap',
        arg: 'required',
        value: 'BYTES',
        help: 'total memory usage (memory + swap); -1 for unlimited swap',
      },
      { long: 'pids-limit', arg: 'required', value: 'N', help: 'maximum number of pids allowed in the container' },
      { long: 'cpu-quota', arg: 'required', value: 'USECS', help: 'CPU CFS hardcap limit (in usecs) per period' },
      { long: 'cpu-period', arg: 'required', value: 'USECS', help: 'CPU CFS period (in usecs)' },
      { long: 'cpu-share', arg: 'required', value: 'N', help: 'CPU shares (relative weight vs. other containers)' },
    ],
    args: [1, 1],
    run: async (rt, cmd) => {
      const r = await runtime();
      const resources: Record<string, any> = {};
      const file = value(cmd, 'resources');
      if (file !== undefined) {
        try {
          Object.assign(resources, JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8')));
        } catch (err) {
          throw new UsageErrorPlain(`invalid resources: ${(err as Error).message}`);
        }
      }
      const bytes = (flagName: string) => {
        const v = value(cmd, flagName);
        if (v === undefined) return undefined;
        if (v === '-1') return -1;
        const m = /^(\d+)([kmgt]?)b?$/i.exec(v);
        if (!m) throw new UsageErrorPlain(`invalid value for ${flagName}: ${v}`);
        return Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] || ' ').toLowerCase());
      };
      const int = (flagName: string) => {
        const v = value(cmd, flagName);
        if (v === undefined) return undefined;
        if (!/^-?\d+$/.test(v)) throw new UsageErrorPlain(`invalid value for ${flagName}: ${v}`);
        return Number(v);
      };
      const memory = {
        ...(resources.memory ?? {}),
        ...(bytes('memory') !== undefined ? { limit: bytes('memory') } : {}),
        ...(bytes('memory-swap') !== undefined ? { swap: bytes('memory-swap') } : {}),
      };
      if (Object.keys(memory).length) resources.memory = memory;
      const pids = int('pids-limit');
      if (pids !== undefined) resources.pids = { limit: pids };
      const cpu = {
        ...(resources.cpu ?? {}),
        ...(int('cpu-quota') !== undefined ? { quota: int('cpu-quota') } : {}),
        ...(int('cpu-period') !== undefined ? { period: int('cpu-period') } : {}),
        ...(int('cpu-share') !== undefined ? { shares: int('cpu-share') } : {}),
      };
      if (Object.keys(cpu).length) resources.cpu = cpu;
      r.updateContainer(rt, cmd.rest[0], resources);
      return 0;
    },
  },
  kill: {
    usage: 'kill [command options] <container-id> [signal]',
    summary: "kill sends the specified signal (default: SIGTERM) to the container's init process",
    options: [{ long: 'all', short: 'a', help: 'send the specified signal to all processes inside the container' }],
    args: [1, 2],
    run: async (rt, cmd) => {
      const [id, sig = 'SIGTERM'] = cmd.rest;
      const signal = signalNumber(sig);
      if (signal === undefined) throw new UsageErrorPlain(`unknown signal ${JSON.stringify(sig)}`);
      (await runtime()).killContainer(rt, id, signal, flag(cmd, 'all'));
      return 0;
    },
  },
  delete: {
    usage: 'delete [command options] <container-id>',
    summary: 'delete any resources held by the container often used with detached container',
    options: [
      { long: 'force', short: 'f', help: 'Forcibly deletes the container if it is still running (uses SIGKILL)' },
    ],
    args: [1, 1],
    run: async (rt, cmd) => {
      const id = cmd.rest[0];
      const r = await runtime();
      if (flag(cmd, 'force') && !r.exists(rt, id)) {
        validateId(id);
        return 0; // runc delete --force of a missing container succeeds
      }
      r.deleteContainer(rt, id, flag(cmd, 'force'));
      return 0;
    },
  },
  features: {
    usage: 'features',
    summary: 'show the enabled features',
    options: [],
    args: [0, 0],
    run: async () => {
      const { runtimeFeatures } = await import('../runtime/features.js');
      out(JSON.stringify(runtimeFeatures(VERSION), null, 4) + '\n');
      return 0;
    },
  },
  pause: {
    usage: 'pause <container-id>',
    summary: 'pause suspends all processes inside the container',
    options: [],
    args: [1, 1],
    run: async (rt, cmd) => {
      (await runtime()).pauseContainer(rt, cmd.rest[0], true);
      return 0;
    },
  },
  resume: {
    usage: 'resume <container-id>',
    summary: 'resumes all processes that have been previously paused',
    options: [],
    args: [1, 1],
    run: async (rt, cmd) => {
      (await runtime()).pauseContainer(rt, cmd.rest[0], false);
      return 0;
    },
  },
};

/**
 * Wait for a foreground process, relaying its terminal if it has one, and
 * return runc's status for it: its exit code, or 128 + the signal.
 */
async function waitForeground(pid: number, consoleFd: number | undefined): Promise<number> {
  const { superviseChild, waitChild } = await import('../syscalls/process.js');
  let relay: Promise<void> | undefined;
  if (consoleFd !== undefined) {
    const { receiveFd } = await import('../runtime/console.js');
    const { relayPty } = await import('../cli/pty-relay.js');
    const { fd } = receiveFd(consoleFd);
    closeSync(consoleFd);
    relay = relayPty(fd);
  }
  const unsupervise = superviseChild(pid);
  const info = await waitChild(pid);
  unsupervise();
  // What the program wrote just before it ended is still in the pty.
  if (relay) await Promise.race([relay, new Promise((r) => setTimeout(r, 500))]);
  return info.signal ? 128 + info.signal : (info.code ?? 1);
}

/** A runtime failure worded by the front end: printed as runc prints errors, exit 1. */
class UsageErrorPlain extends Error {}

/** Go's text/tabwriter as runc sets it up: min width 12, padding 3, spaces. */
function goTable(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(12, ...rows.map((r) => r[c].length + 3)));
  return (
    rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('')).join('\n') + '\n'
  );
}

function out(text: string): void {
  writeSync(1, text);
}

/** urfave/cli takes -root as well as --root: make single-dash long options double-dash. */
function normalizeDashes(argv: readonly string[], options: readonly OptionSpec[]): string[] {
  const longs = new Set(options.map((o) => o.long));
  const result: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i];
    const m = /^-([a-z][a-z-]+)(=.*)?$/.exec(tok);
    if (m && longs.has(m[1])) result.push('-' + tok);
    else result.push(tok);
    if (!tok.startsWith('-') || tok === '--') {
      result.push(...argv.slice(i + 1));
      break;
    }
  }
  return result;
}

/** A Go duration (300ms, 5s, 1m30s) in milliseconds. */
function goDuration(text: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = re.exec(text))) {
    total += Number(m[1]) * units[m[2]];
    at = re.lastIndex;
  }
  if (at !== text.length || at === 0 || total <= 0)
    throw new UsageErrorPlain(`invalid value "${text}" for flag -interval: parse error`);
  return total;
}

function goTime(): string {
  return `${utcSeconds(new Date())}Z`;
}

let logFile: string | undefined;
let logJson = false;

function logWarning(msg: string): void {
  const line = logJson
    ? JSON.stringify({ level: 'warning', msg, time: goTime() })
    : `time="${goTime()}" level=warning msg=${JSON.stringify(msg)}`;
  try {
    if (logFile) appendFileSync(logFile, line + '\n');
    else writeSync(2, line + '\n');
  } catch {
    // best effort
  }
}

function logError(msg: string): void {
  if (logFile) {
    const line = logJson
      ? JSON.stringify({ level: 'error', msg, time: goTime() })
      : `time="${goTime()}" level=error msg=${JSON.stringify(msg)}`;
    try {
      appendFileSync(logFile, line + '\n');
    } catch {
      // the log is best effort; stderr still says it
    }
    writeSync(2, msg + '\n');
    return;
  }
  writeSync(2, `time="${goTime()}" level=error msg=${JSON.stringify(msg)}\n`);
}

function messageOf(err: unknown): string {
  if (err instanceof DomainError || err instanceof UsageErrorPlain || err instanceof UsageError) return err.message;
  if (err instanceof ExecError) return `exec: ${JSON.stringify(err.file)}: ${errnoText(err.errno).toLowerCase()}`;
  if (err instanceof SyscallError) return err.message;
  const e = err as Error;
  if (process.env.NSLAB_DEBUG) writeSync(2, (e?.stack ?? '') + '\n');
  return e?.message ?? String(err);
}

async function main(argv: string[]): Promise<number> {
  const allCommandOptions = [
    ...GLOBAL.options,
    ...Object.values(COMMANDS).flatMap((c) => c.options),
    { long: 'help', help: '' },
    { long: 'version', help: '' },
    { long: 'trace', help: '' },
  ];
  const global = parseCommandLine(GLOBAL, normalizeDashes(argv, allCommandOptions));
  if (global.opts.help && global.rest.length === 0) {
    out(await renderHelp(GLOBAL));
    return 0;
  }
  if (global.opts.version) {
    out(`ts-runc version ${VERSION}\ncommit: nslab\nspec: 1.0.2-dev\n`);
    return 0;
  }
  logFile = value(global, 'log');
  const format = value(global, 'log-format') ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageErrorPlain(`invalid log-format: ${format}`);
  logJson = format === 'json';
  if (flag(global, 'trace')) enableTrace(true, 'ts-runc');
  if (flag(global, 'systemd-cgroup'))
    throw new UsageErrorPlain('--systemd-cgroup is not supported: ts-runc manages cgroups through cgroupfs');
  const rt: Runtime = { root: value(global, 'root') ?? DEFAULT_ROOT, warn: logWarning };

  const [name, ...rest] = global.rest;
  if (name === undefined) {
    out(await renderHelp(GLOBAL));
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageErrorPlain(`No help topic for '${name}'`);
  const spec: ToolSpec = {
    name: `ts-runc ${name}`,
    usage: command.usage.replace(/^\S+ ?/, ''),
    summary: command.summary,
    options: command.options,
  };
  let cmd: ParsedCommandLine;
  try {
    cmd = parseCommandLine(spec, normalizeDashes(rest, command.options));
  } catch (err) {
    if (err instanceof UsageError) {
      writeSync(2, `Incorrect Usage: ${err.message}\n\n${await renderHelp(spec)}\n`);
      return 1;
    }
    throw err;
  }
  if (cmd.opts.help) {
    out(await renderHelp(spec));
    return 0;
  }
  if (cmd.opts.trace) enableTrace(true, 'ts-runc');
  const [min, max] = command.args;
  if (cmd.rest.length < min || (max !== undefined && cmd.rest.length > max)) {
    const need = min === max ? `exactly ${min}` : max === undefined ? `at least ${min}` : `${min} to ${max}`;
    out(`Incorrect Usage.\n\n${await renderHelp(spec)}\n`);
    throw new UsageErrorPlain(`runc: "${name}" requires ${need} argument(s)`);
  }
  try {
    return await command.run(rt, cmd);
  } catch (err) {
    // runc exec says 255 for any failure to start the process.
    const exitCode = (err as { exitCode?: number } | undefined)?.exitCode ?? (name === 'exec' ? 255 : undefined);
    throw Object.assign(new UsageErrorPlain((command.prefix ?? '') + messageOf(err)), { exitCode });
  }
}

// runc's wording (messageOf) and exit status (1, or the one the error carries), printed as runc's log lines.
void runMain('ts-runc', () => main(process.argv.slice(2)), {
  describe: (err) => ({ message: messageOf(err), exitCode: (err as { exitCode?: number } | undefined)?.exitCode ?? 1 }),
  print: (_tool, d) => logError(d.message),
});
