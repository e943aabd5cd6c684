// ts-cgroup: libcgroup's cgcreate/cgset/cgget/cgexec/cgclassify/cgdelete,
// plus info, show, watch, freeze, thaw and tree, on cgroup v1 and v2.
import { readFileSync, writeSync } from 'node:fs';
import { posix } from 'node:path';
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
import { runTool } from '../cli/run.js';
import { ToolError, UsageError } from '../cli/errors.js';
import { enableTrace } from '../syscalls/trace.js';
import { CgroupDir, CgroupLayout, detectCgroups, hierarchyLabel } from '../cgroup/hierarchy.js';
import { childCgroups, cgroupProcs, readCgroupFile, readOptionalFile, writeCgroupFile } from '../cgroup/files.js';
import { CgroupManager, cgroupAt, cgroupManager } from '../cgroup/manager.js';
import { formatBytes, parseLimits } from '../cgroup/limits.js';
import { CgroupStats, Limit } from '../cgroup/stats.js';
import * as E from '../cgroup/errors.js';
import { NoMemoryControllerError, execInCgroup, watchCgroup } from '../core/cgroup.js';
import type { ExitInfo } from '../syscalls/process.js';

const NAME = 'ts-cgroup';
const MS_PER_S = 1000;

const PATH_HELP =
  'PATH is a cgroup: relative (box) means below your own cgroup in each hierarchy, absolute (/box) means from the top of each hierarchy, ' +
  'and a directory such as /sys/fs/cgroup/unified/box names that one hierarchy.';

interface Command {
  usage: string;
  summary: string;
  options?: OptionSpec[];
  /** Options only before PATH; the rest is a program (exec). */
  stopAtPositional?: boolean;
  /** How many operands it takes (an extra one is refused, not ignored). */
  operands: { min: number; max: number; what?: string };
  run: (cmd: ParsedCommandLine) => number | void | ExitInfo | Promise<number | void | ExitInfo>;
}

const COMMANDS: Record<string, Command> = {
  info: {
    usage: 'info [--json]',
    summary: 'Show the cgroup layout: v1, v2 or hybrid, the mount points, the controllers, and your own cgroups.',
    options: [{ long: 'json', help: 'print JSON' }],
    operands: { min: 0, max: 0 },
    run: info,
  },
  create: {
    usage: 'create PATH [-c CONTROLLERS] [--memory SIZE] [--swap SIZE | --swappiness N] [--pids N] [--cpu PERCENT]',
    summary: 'Create a cgroup (like cgcreate) and set limits in the files of the version in use.',
    options: [
      {
        long: 'controllers',
        short: 'c',
        arg: 'required',
        value: 'LIST',
        help: 'controllers, comma separated (memory,pids,cpu,freezer,...); the limits add their own',
      },
      {
        long: 'memory',
        arg: 'required',
        value: 'SIZE',
        help: 'memory limit: bytes or 100M, 1G; max for none (memory.limit_in_bytes / memory.max)',
      },
      {
        long: 'swap',
        arg: 'required',
        value: 'SIZE',
        help: 'swap limit (v1: memory.memsw.limit_in_bytes = memory + swap; v2: memory.swap.max)',
      },
      {
        long: 'swappiness',
        arg: 'required',
        value: 'N',
        help: 'v1 memory.swappiness (0-200); on v2 only 0, as memory.swap.max = 0',
      },
      { long: 'pids', arg: 'required', value: 'N', help: 'most processes and threads (pids.max)' },
      {
        long: 'cpu',
        arg: 'required',
        value: 'PERCENT',
        help: 'CPU time as a percentage of one CPU, e.g. 50% (cpu.cfs_quota_us / cpu.max)',
      },
    ],
    operands: { min: 1, max: 1 },
    run: create,
  },
  set: {
    usage: 'set PATH KEY=VALUE...',
    summary: 'Write cgroup files (like cgset -r), e.g. memory.max=100M.',
    operands: { min: 2, max: Infinity, what: 'KEY=VALUE' },
    run: set,
  },
  get: {
    usage: 'get PATH KEY...',
    summary: 'Read cgroup files (like cgget -r).',
    options: [{ long: 'values-only', short: 'n', help: 'print the values only' }],
    operands: { min: 2, max: Infinity, what: 'KEY' },
    run: get,
  },
  exec: {
    usage: 'exec PATH [--] [COMMAND [ARG]...]',
    summary:
      'Run a command inside the cgroup (like cgexec): it is moved there before it execs. Without a command, runs $SHELL.',
    stopAtPositional: true,
    operands: { min: 1, max: Infinity },
    run: exec,
  },
  add: {
    usage: 'add PATH PID...',
    summary: 'Move processes into the cgroup (like cgclassify).',
    operands: { min: 2, max: Infinity, what: 'PID' },
    run: add,
  },
  show: {
    usage: 'show PATH [--json]',
    summary:
      'Show memory usage, limit, peak, limit hits, OOM kills, swap, pids and cpu, from the files this version has.',
    options: [{ long: 'json', help: 'print JSON' }],
    operands: { min: 1, max: 1 },
    run: show,
  },
  watch: {
    usage: 'watch PATH [--interval SECONDS]',
    summary:
      'Print memory usage every interval and a line for each OOM kill as it happens, until the cgroup is removed or Ctrl-C.',
    options: [
      {
        long: 'interval',
        short: 'i',
        arg: 'required',
        value: 'SECONDS',
        help: 'seconds between memory lines (default 1)',
      },
    ],
    operands: { min: 1, max: 1 },
    run: watch,
  },
  freeze: {
    usage: 'freeze PATH',
    summary: 'Stop every process in the cgroup (v1 freezer.state, v2 cgroup.freeze) and wait until they are.',
    operands: { min: 1, max: 1 },
    run: (c) => freeze(c, true),
  },
  thaw: {
    usage: 'thaw PATH',
    summary: 'Let the processes of a frozen cgroup run again.',
    operands: { min: 1, max: 1 },
    run: (c) => freeze(c, false),
  },
  tree: {
    usage: 'tree [PATH]',
    summary: 'Draw the cgroups below PATH (default /) in each hierarchy, with processes and key limits.',
    operands: { min: 0, max: 1 },
    run: tree,
  },
  delete: {
    usage: 'delete [-r] [--kill] PATH...',
    summary: 'Remove cgroups (like cgdelete). A cgroup with processes is refused unless --kill.',
    options: [
      { long: 'recursive', short: 'r', help: 'remove child cgroups too' },
      { long: 'kill', help: 'kill the processes first (v2 cgroup.kill; v1 SIGKILL to each)' },
    ],
    operands: { min: 1, max: Infinity },
    run: remove,
  },
};

const spec: ToolSpec = {
  name: NAME,
  usage: 'COMMAND [options] [PATH] ...',
  summary: 'Create, limit, run in, watch, freeze and remove cgroups, on cgroup v1 and v2.',
  options: [],
  stopAtPositional: true,
  epilog: `Commands:\n${Object.values(COMMANDS)
    .map((c) => `  ${c.usage}`)
    .join(
      '\n',
    )}\n\n${PATH_HELP}\nWith --trace, every file written and system call made is printed. '${NAME} COMMAND --help' for more.`,
  docs: 'docs/cgroup.md',
};

function out(line = ''): void {
  try {
    writeSync(1, line + '\n');
  } catch (err) {
    // The reader went away (ts-cgroup tree | head): stop quietly, as coreutils do.
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0);
    throw err;
  }
}

let managerCache: CgroupManager | undefined;
function manager(): CgroupManager {
  managerCache ??= cgroupManager(detectCgroups());
  if (managerCache.layout.mode === 'none')
    throw new ToolError('no cgroup filesystem is mounted (see /proc/self/mountinfo)');
  return managerCache;
}
function layout(): CgroupLayout {
  return manager().layout;
}

/** The operands a command checked with its `operands` counts: PATH is the first. */
function pathOperand(cmd: ParsedCommandLine): string {
  return cmd.rest[0]!;
}

// ---- info

function info(cmd: ParsedCommandLine): void {
  const l = layout();
  const rows = l.hierarchies.map((h) => ({
    version: h.version,
    mountpoint: h.mountPoint,
    controllers: h.controllers,
    ...(h.name ? { name: h.name } : {}),
    ...(h.version === 2
      ? { enabled: (readOptionalFile(h.mountPoint, 'cgroup.subtree_control') ?? '').split(/\s+/).filter(Boolean) }
      : {}),
    cgroup: h.own,
  }));
  if (flag(cmd, 'json')) return out(JSON.stringify({ mode: l.mode, hierarchies: rows }, null, 2));
  const modeText = {
    v1: 'v1 (cgroup v1: one hierarchy per controller)',
    v2: 'v2 (cgroup v2: one unified hierarchy)',
    hybrid: 'hybrid (cgroup v1 controllers and a cgroup v2 hierarchy)',
    none: 'none',
  }[l.mode];
  out(`mode: ${modeText}`);
  const table = l.hierarchies.map((h, i) => [
    h.mountPoint,
    `v${h.version}`,
    h.version === 2
      ? `available: ${h.controllers.join(' ') || '(none)'}; enabled for children: ${rows[i]!.enabled!.join(' ') || '(none)'}`
      : h.controllers.join(',') || `name=${h.name}`,
    h.own,
  ]);
  table.unshift(['MOUNTPOINT', 'VERSION', 'CONTROLLERS', 'YOUR CGROUP']);
  const widths = [0, 1, 2].map((c) => Math.max(...table.map((r) => r[c]!.length)));
  for (const r of table) out(r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell)).join('  '));
}

// ---- create, set, get, exec, add

function create(cmd: ParsedCommandLine): void {
  const limits = parseLimits({
    memory: value(cmd, 'memory'),
    swap: value(cmd, 'swap'),
    swappiness: value(cmd, 'swappiness'),
    pids: value(cmd, 'pids'),
    cpu: value(cmd, 'cpu'),
  });
  const controllers = values(cmd, 'controllers')
    .flatMap((c) => c.split(','))
    .map((c) => c.trim())
    .filter(Boolean);
  const made = manager().create(pathOperand(cmd), { controllers, limits });
  for (const note of made.notes) writeSync(2, `${NAME}: note: ${note}\n`);
}

function set(cmd: ParsedCommandLine): void {
  const assignments = cmd.rest.slice(1).map((a) => {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new UsageError(`set: expected KEY=VALUE, got '${a}'`);
    return { key: a.slice(0, eq), value: a.slice(eq + 1) };
  });
  const cgroup = manager().open(pathOperand(cmd));
  // Find every file before writing any, so an unknown key changes nothing.
  const targets = assignments.map((a) => ({ ...a, dir: cgroup.fileDir(a.key).dir }));
  for (const t of targets) writeCgroupFile(t.dir, t.key, t.value);
}

function get(cmd: ParsedCommandLine): void {
  const cgroup = manager().open(pathOperand(cmd));
  for (const key of cmd.rest.slice(1)) {
    const text = readCgroupFile(cgroup.fileDir(key).dir, key);
    if (flag(cmd, 'values-only')) out(text);
    else if (text.includes('\n')) out(`${key}:\n${text.replace(/^/gm, '\t')}`);
    else out(`${key}: ${text}`);
  }
}

function exec(cmd: ParsedCommandLine): Promise<ExitInfo> {
  const program = cmd.rest[1] === '--' ? cmd.rest.slice(2) : cmd.rest.slice(1);
  return execInCgroup(manager().open(pathOperand(cmd)), program);
}

function add(cmd: ParsedCommandLine): void {
  const pids = cmd.rest.slice(1).map((p) => {
    if (!/^\d+$/.test(p) || p === '0') throw new ToolError(`invalid PID '${p}'`);
    return Number(p);
  });
  const cgroup = manager().open(pathOperand(cmd));
  for (const pid of pids) cgroup.addProcess(pid);
}

// ---- show, watch, tree

function limitText(l: Limit | undefined, bytes = true): string {
  if (l === undefined) return '-';
  if (l === 'max') return 'max (no limit)';
  return bytes ? formatBytes(l) : String(l);
}

function showRows(s: CgroupStats): Array<[string, string, string[]]> {
  const src = (...keys: string[]) => [
    ...new Set(
      keys
        .map((k) => s.sources[k])
        .filter((f): f is string => Boolean(f))
        .map((f) => posix.basename(f)),
    ),
  ];
  const rows: Array<[string, string, string[]]> = [];
  rows.push(['processes', s.processes.length ? s.processes.join(' ') : '(none)', ['cgroup.procs']]);
  const m = s.memory;
  if (m) {
    rows.push(['memory', formatBytes(m.current), src('memory.current')]);
    rows.push(['memory limit', limitText(m.max), src('memory.max')]);
    if (m.peak !== undefined) rows.push(['memory peak', formatBytes(m.peak), src('memory.peak')]);
    if (m.failcnt !== undefined) rows.push(['limit hits', String(m.failcnt), src('memory.failcnt')]);
    if (m.oom !== undefined) rows.push(['OOM events', String(m.oom), src('memory.oom')]);
    if (m.oom_kill !== undefined) rows.push(['OOM kills', String(m.oom_kill), src('memory.oom_kill')]);
    if (m.swap)
      rows.push([
        'swap',
        `${m.swap.current === undefined ? '-' : formatBytes(m.swap.current)} of ${limitText(m.swap.max)}`,
        src('memory.swap.current', 'memory.swap.max'),
      ]);
    if (m.swappiness !== undefined) rows.push(['swappiness', String(m.swappiness), src('memory.swappiness')]);
  }
  if (s.pids)
    rows.push(['pids', `${s.pids.current} of ${limitText(s.pids.max, false)}`, src('pids.current', 'pids.max')]);
  if (s.cpu) {
    if (s.cpu.quota_percent !== undefined)
      rows.push([
        'cpu limit',
        s.cpu.quota_percent === 'max' ? 'max (no limit)' : `${s.cpu.quota_percent}% of one CPU`,
        src('cpu.quota_percent'),
      ]);
    if (s.cpu.usage_usec !== undefined)
      rows.push(['cpu time', `${(s.cpu.usage_usec / 1e6).toFixed(3)} s`, src('cpu.usage_usec')]);
    if (s.cpu.nr_throttled !== undefined)
      rows.push(['cpu throttled', `${s.cpu.nr_throttled} periods`, src('cpu.nr_throttled')]);
  }
  if (s.freezer) rows.push(['freezer', s.freezer.state, src('freezer.state')]);
  return rows;
}

function show(cmd: ParsedCommandLine): void {
  const path = pathOperand(cmd);
  const cgroup = manager().open(path);
  const stats = cgroup.stats();
  if (flag(cmd, 'json')) {
    const { sources, ...rest } = stats;
    return out(JSON.stringify({ ...rest, files: sources }, null, 2));
  }
  out(`cgroup ${path}`);
  for (const c of cgroup.dirs) out(`  ${hierarchyLabel(c.hierarchy)}: ${c.dir}`);
  const rows = showRows(stats);
  const w = Math.max(...rows.map((r) => r[0].length));
  const v = Math.max(...rows.map((r) => r[1].length));
  for (const [label, text, files] of rows)
    out(`${label.padEnd(w)}  ${text.padEnd(v)}  ${files.length ? `(${files.join(', ')})` : ''}`.trimEnd());
}

function watch(cmd: ParsedCommandLine): Promise<number> {
  const path = pathOperand(cmd);
  const interval = value(cmd, 'interval') ?? '1';
  if (!/^\d+(\.\d+)?$/.test(interval) || Number(interval) <= 0)
    throw new ToolError(`invalid --interval '${interval}': expected seconds, e.g. 1 or 0.5`);
  return watchCgroup(manager().open(path), { intervalMs: Number(interval) * MS_PER_S, print: out });
}

const TREE_PROCS = 6;

function processList(dir: string): string {
  const procs = cgroupProcs(dir);
  if (procs.length === 0) return '';
  const named = procs.slice(0, TREE_PROCS).map((pid) => {
    try {
      return `${pid} ${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}`;
    } catch {
      return String(pid);
    }
  });
  return `[${named.join(', ')}${procs.length > TREE_PROCS ? `, +${procs.length - TREE_PROCS} more` : ''}]`;
}

function keyLimits(c: CgroupDir): string {
  const s = cgroupAt(c.path, [c]).stats();
  const parts: string[] = [];
  if (s.memory && s.memory.max !== 'max') parts.push(`memory ${formatBytes(s.memory.max)}`);
  if (s.pids && s.pids.max !== 'max') parts.push(`pids ${s.pids.max}`);
  if (s.cpu?.quota_percent !== undefined && s.cpu.quota_percent !== 'max') parts.push(`cpu ${s.cpu.quota_percent}%`);
  if (s.freezer && s.freezer.state !== 'THAWED') parts.push(s.freezer.state.toLowerCase());
  return parts.join(', ');
}

function drawTree(c: CgroupDir, prefix: string, last: boolean, top: boolean): void {
  const label = [top ? c.dir : posix.basename(c.dir), keyLimits(c), processList(c.dir)].filter(Boolean).join('  ');
  out(top ? label : `${prefix}${last ? '└── ' : '├── '}${label}`);
  const kids = childCgroups(c.dir);
  const childPrefix = top ? '' : prefix + (last ? '    ' : '│   ');
  kids.forEach((name, i) =>
    drawTree(
      { ...c, path: posix.join(c.path, name), dir: posix.join(c.dir, name) },
      childPrefix,
      i === kids.length - 1,
      false,
    ),
  );
}

function tree(cmd: ParsedCommandLine): void {
  const path = cmd.rest[0] ?? '/';
  manager()
    .open(path)
    .dirs.forEach((c, i) => {
      if (i) out();
      out(`${hierarchyLabel(c.hierarchy)}`);
      drawTree(c, '', true, true);
    });
}

// ---- freeze, thaw, delete

function freeze(cmd: ParsedCommandLine, frozen: boolean): void {
  const cgroup = manager().open(pathOperand(cmd));
  if (frozen) cgroup.freeze();
  else cgroup.thaw();
}

function remove(cmd: ParsedCommandLine): void {
  const m = manager();
  // Resolve them all first: a missing cgroup is reported before anything is removed.
  const targets = cmd.rest.map((p) => m.open(p));
  for (const t of targets) t.delete({ recursive: flag(cmd, 'recursive'), kill: flag(cmd, 'kill') });
}

// ---- the cgroup layer's errors in this tool's words

function plural(n: number, word: string, plural = `${word}s`): string {
  return `${n} ${n === 1 ? word : plural}`;
}

// How many PIDs an error line lists before '...'.
const PIDS_SHOWN = 5;

function pidList(pids: readonly number[]): string {
  return `${pids.slice(0, PIDS_SHOWN).join(' ')}${pids.length > PIDS_SHOWN ? ' ...' : ''}`;
}

const LIMIT_FLAG: Record<E.LimitName, string> = {
  memory: '--memory',
  swap: '--swap',
  swappiness: '--swappiness',
  pids: '--pids',
  cpu: '--cpu',
};

/** One line (and maybe a hint) for a cgroup domain error, naming this tool's flags. */
function wordCgroupError(err: unknown): unknown {
  if (err instanceof E.CgroupFileError) return new ToolError(err.message);
  if (err instanceof E.CgroupBusyError) {
    if (err.children.length)
      return new ToolError(
        `cannot delete ${err.path}: it has child cgroups (${err.children.join(', ')}) in ${err.dir}; use -r`,
      );
    return new ToolError(
      `cannot delete ${err.path}: it has ${plural(err.processes.length, 'process', 'processes')} (${pidList(err.processes)}) in ${err.dir}; use --kill to kill them first`,
    );
  }
  if (err instanceof E.ControllerMissingError) {
    if (err.where === undefined)
      return new ToolError(`controller '${err.controller}' is not available: no cgroup hierarchy has it`);
    // On a host with v1 hierarchies, say that none of them has it either.
    const v1 = layout().hierarchies.filter((h) => h.version === 1);
    const nowhere =
      err.where.endsWith('/cgroup.controllers') &&
      v1.length > 0 &&
      !v1.some((h) => h.controllers.includes(err.controller));
    return new ToolError(
      `controller '${err.controller}' is not available ${nowhere ? 'as cgroup v1 nor ' : ''}in ${err.where} (it has: ${err.available.join(' ') || 'none'})`,
    );
  }
  if (err instanceof E.InternalProcessesError)
    return new ToolError(
      `cannot enable ${err.controllers.join(' ')} below ${err.path}: it has ${plural(err.processes.length, 'process', 'processes')} (${pidList(err.processes)}), and cgroup v2's "no internal processes" rule lets only a cgroup without processes hand controllers to its children (a leaf)`,
      1,
      `use an absolute PATH such as /nslab/box (below the root cgroup, which the rule exempts; root only), or move those processes into a leaf cgroup first`,
    );
  if (err instanceof E.NoHierarchyError)
    return new ToolError(
      `name the controllers for ${err.path} with -c (e.g. -c memory,pids): this host has only cgroup v1, where each controller is its own hierarchy`,
    );
  if (err instanceof E.CgroupExistsError) return new ToolError(`cannot create ${err.dir}: File exists`);
  if (err instanceof E.CgroupPathError) {
    if (err.reason === 'dot-dot')
      return new UsageError(
        `'..' is not allowed in a cgroup path (${err.path}): relative paths stay below your own cgroup; use an absolute path (/box) to go elsewhere`,
      );
    return new ToolError(err.message);
  }
  if (err instanceof E.InvalidLimitError)
    return new ToolError(`invalid ${LIMIT_FLAG[err.limit]} '${err.value}': expected ${err.expected}`);
  if (err instanceof E.UnsupportedLimitError) {
    switch (err.reason) {
      case 'v2-no-swappiness':
        return new ToolError(
          'cgroup v2 has no memory.swappiness: use --swap 0 (memory.swap.max) to keep the cgroup out of swap',
        );
      case 'no-swap-accounting':
        return new ToolError(
          '--swap needs swap accounting (memory.memsw.limit_in_bytes), which this kernel does not have: use --swappiness 0, or boot with swapaccount=1',
        );
      case 'v1-swap-needs-memory':
        return new ToolError(
          '--swap on cgroup v1 needs --memory too: the kernel limits memory+swap (memory.memsw.limit_in_bytes), not swap alone',
        );
      case 'cpu-quota-too-small':
        return new ToolError(
          `--cpu is below the kernel's minimum quota of ${err.detail.minimumUs} us per ${err.detail.periodUs} us period`,
        );
      default:
        return new ToolError(err.message);
    }
  }
  if (err instanceof E.NotFreezableError)
    return new ToolError(
      `cgroup ${err.path} cannot be frozen: it is not in a v1 freezer hierarchy and has no cgroup.freeze (the root cgroup cannot be frozen)`,
    );
  if (err instanceof E.FreezeTimeoutError)
    return new ToolError(
      `cgroup ${err.path} did not become ${err.frozen ? 'frozen' : 'thawed'} after ${err.waitedMs / MS_PER_S} s`,
    );
  if (err instanceof E.KillTimeoutError)
    return new ToolError(
      `processes in ${err.dir} did not die after SIGKILL (${pidList(err.processes)} still there after ${err.waitedMs / MS_PER_S} s)`,
    );
  if (err instanceof NoMemoryControllerError)
    return new ToolError(
      `cgroup ${err.path} has no memory controller: nothing to watch (create it with -c memory or --memory)`,
    );
  if (err instanceof E.CgroupError) return new ToolError(err.message);
  return err;
}

// ---- dispatch

async function main(top: ParsedCommandLine): Promise<number | void | ExitInfo> {
  const [name, ...args] = top.rest;
  if (name === undefined) throw new UsageError(`missing command (${Object.keys(COMMANDS).join(', ')})`);
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new UsageError(`unknown command '${name}'`);
  const sub: ToolSpec = {
    name: `${NAME} ${name}`,
    usage: command.usage.replace(/^\S+\s*/, ''),
    summary: `${command.summary}\n\n${PATH_HELP}`,
    options: command.options ?? [],
    stopAtPositional: command.stopAtPositional ?? false,
    docs: 'docs/cgroup.md',
  };
  const cmd = parseCommandLine(sub, args);
  if (cmd.opts.help) {
    out(renderHelp(sub));
    return 0;
  }
  if (cmd.opts.trace) enableTrace(true, NAME);
  const { min, max, what } = command.operands;
  if (cmd.rest.length < min)
    throw new UsageError(`${name}: missing ${cmd.rest.length === 0 && min > 0 ? 'cgroup path' : what}`);
  if (cmd.rest.length > max) throw new UsageError(`${name}: unexpected operand '${cmd.rest[max]}'`);
  try {
    return await command.run(cmd);
  } catch (err) {
    throw wordCgroupError(err);
  }
}

runTool(spec, main);
