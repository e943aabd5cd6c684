// ts-lab: the labs (guided or checked), the classroom exercises, a sandbox
// shell to do them in, and the machine check. The engine is in src/lab; this
// file is the command table, options and output.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ParsedCommandLine, ToolSpec, flag, value } from '../cli/options.js';
import { runTool } from '../cli/run.js';
import { ToolError, UsageError } from '../cli/errors.js';
import { labForecast, runDoctor } from '../lab/doctor.js';
import { allWorkDirs } from '../lab/workdir.js';
import { grade } from '../lab/grade.js';
import { unmet } from '../lab/requirements.js';
import { which } from '../core/which.js';
import { findLab, LabSet, labsDir, loadLabSet, NoLabsError } from '../lab/load.js';
import {
  count,
  GuidedReporter,
  indent,
  JsonReporter,
  out,
  PlainReporter,
  SANDBOX_BANNER,
  TapReporter,
  tally,
  wrap,
} from '../lab/reporters.js';
import { LabRun, Reporter } from '../lab/runner.js';
import { runOnHost } from '../lab/shell.js';
import { hostMountPoints } from '../lab/checks.js';
import { processesWithEnv } from '../lab/inventory.js';
import { markRunning, runningLabs } from '../lab/running.js';
import { stepIndex, UnknownStepError } from '../lab/navigation.js';
import {
  insideSandbox,
  SANDBOX_ENV,
  SANDBOX_SHELL_ENV,
  namespaceIds,
  sandboxCommand,
  sandboxShells,
  STAND_IN_ADDRESS,
} from '../lab/sandbox.js';
import { Lab, LabResult } from '../lab/types.js';
import {
  classTableLines,
  gradeRecord,
  junit,
  labRecord,
  mergeProgress,
  progressFile,
  ProgressFileError,
  progressTable,
  readProgress,
  realUser,
  recordProgress,
  summarize,
} from '../lab/progress.js';
import type { DiagramKind } from '../lab/draw/diagram.js';
import type { Paint } from '../lab/draw/text.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';

declare const __filename: string;
// dist/ts-lab.cjs -> the project root.
const PROJECT_ROOT = dirname(dirname(__filename));
const BIN_DIR = join(PROJECT_ROOT, 'bin');

/** One entry per command: its help line, the options it takes, how many operands, and the code. */
interface Command {
  /** After "ts-lab ": "check --all | LAB...". */
  usage: string;
  summary: string;
  /** The options it takes (--help and --version go with any). */
  options: string[];
  /** How many operands: at least, at most. */
  operands: [number, number];
  run: (cmd: ParsedCommandLine, operands: string[]) => number | Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  list: { usage: 'list', summary: 'the labs and exercises', options: ['labs-dir'], operands: [0, 0], run: list },
  run: {
    usage: 'run LAB [--from STEP]',
    summary: 'a guided lab: explanation, command, Enter (b: the step before again), output, checks, recap',
    options: ['auto', 'sandbox', 'allow-skips', 'labs-dir', 'trace', 'from'],
    operands: [1, 1],
    run: runLab,
  },
  check: {
    usage: 'check --all | LAB...',
    summary: 'run labs without pauses, report every check (exit 1: failed, 2: skipped)',
    options: ['all', 'tap', 'json', 'sandbox', 'no-sandbox', 'allow-skips', 'labs-dir', 'trace'],
    operands: [0, Infinity],
    run: check,
  },
  exercise: {
    usage: 'exercise [NAME]',
    summary: 'a classroom task (--hint N shows the first N hints)',
    options: ['hint', 'labs-dir'],
    operands: [0, 1],
    run: exercise,
  },
  shell: {
    usage: 'shell --sandbox',
    summary: 'a shell in throwaway namespaces, to do the exercises in',
    options: ['sandbox'],
    operands: [0, 0],
    run: shell,
  },
  grade: {
    usage: 'grade [--sandbox] NAME',
    summary: "check the state an exercise asks for (--sandbox: the sandbox shell's)",
    options: ['tap', 'json', 'sandbox', 'labs-dir', 'trace'],
    operands: [1, 1],
    run: gradeCommand,
  },
  reset: {
    usage: 'reset',
    summary: 'remove what labs and exercises left behind (labs running elsewhere are kept)',
    options: ['labs-dir'],
    operands: [0, 0],
    run: reset,
  },
  progress: {
    usage: 'progress [--merge FILE...]',
    summary: "your recorded runs, checks and grades (--merge: a class table from many students' files)",
    options: ['json', 'junit', 'merge', 'labs-dir'],
    operands: [0, Infinity],
    run: progressCommand,
  },
  doctor: {
    usage: 'doctor',
    summary: 'can this machine run the labs?',
    options: ['json'],
    operands: [0, 0],
    run: doctor,
  },
  draw: {
    usage: 'draw processes|cgroups|network|pod',
    summary: 'a picture of the live state: namespaces, cgroups, veths and bridges, a pod',
    options: ['pid', 'cgroup', 'netns', 'root', 'depth', 'json'],
    operands: [1, 1],
    run: draw,
  },
  report: {
    usage: 'report LAB --html FILE',
    summary: 'run a lab (as check does, traced) into one offline HTML page',
    options: ['html', 'sandbox', 'no-sandbox', 'labs-dir'],
    operands: [1, 1],
    run: report,
  },
};

const spec: ToolSpec = {
  name: 'ts-lab',
  usage: '<command> [options] [<lab>...]',
  summary: [
    'Guided, checked replays of how containers are built from kernel features.',
    '',
    'Commands:',
    ...Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(28)} ${c.summary}`),
  ].join('\n'),
  stopAtPositional: false,
  options: [
    { long: 'all', help: 'check: every lab' },
    { long: 'auto', help: 'run: do not wait for Enter' },
    { long: 'tap', help: 'check/grade: TAP output' },
    { long: 'json', help: 'check/grade/doctor: JSON output' },
    {
      long: 'sandbox',
      help: 'check, run, shell: inside a throwaway network, mount and UTS namespace (check: the default when CI=true); grade: in the running sandbox shell',
    },
    { long: 'no-sandbox', help: 'check: run in the current namespaces even when CI=true' },
    { long: 'allow-skips', help: 'check, run: exit 0 even when labs or steps were skipped (not everything checked)' },
    {
      long: 'labs-dir',
      arg: 'required',
      value: '<dir>',
      help: "add the labs and exercises of <dir> to the built-in ones (same id: <dir>'s replaces it); NSLAB_LABS_DIR replaces the built-in labs",
    },
    { long: 'junit', help: 'progress: JUnit XML' },
    { long: 'merge', help: 'progress: the class table (students x labs) from the progress files given' },
    {
      long: 'from',
      arg: 'required',
      value: '<step>',
      help: 'run: start at this step (its id or number); the steps before it run first without pauses',
    },
    { long: 'hint', arg: 'required', value: '<n>', help: 'exercise: show the first <n> hints' },
    {
      long: 'pid',
      arg: 'required',
      value: '<pid>',
      help: 'draw processes: the tree below this process; draw pod: its pause process',
    },
    {
      long: 'cgroup',
      arg: 'required',
      value: '<path>',
      help: 'draw cgroups: the tree below this cgroup (as ts-cgroup reads PATH; default /)',
    },
    { long: 'depth', arg: 'required', value: '<n>', help: 'draw cgroups: levels to draw (default 4)' },
    {
      long: 'netns',
      arg: 'required',
      value: '<name>',
      help: 'draw network: only this namespace (a name in /run/netns, or a path)',
    },
    {
      long: 'root',
      arg: 'required',
      value: '<dir>',
      help: "draw pod: a runtime's state root (ts-runc --root, containerd's runc/k8s.io)",
    },
    { long: 'html', arg: 'required', value: '<file>', help: 'report: write the page here' },
  ],
  epilog: 'With --trace, every ts-* tool a lab runs prints its system calls.',
  docs: 'docs/labs.md',
};

let loaded: LabSet | undefined;

/** The built-in labs and exercises (or NSLAB_LABS_DIR's), plus --labs-dir's; a replaced one is said once, on stderr. */
function labSet(cmd: ParsedCommandLine): LabSet {
  if (!loaded) {
    loaded = loadLabSet(labsDir(PROJECT_ROOT), value(cmd, 'labs-dir'));
    for (const r of loaded.replaced)
      process.stderr.write(`ts-lab: note: ${r.kind} ${r.id} is ${r.file}, in place of the built-in one\n`);
  }
  return loaded;
}

function labs(cmd: ParsedCommandLine): Lab[] {
  return labSet(cmd).labs;
}

/** The length of a class the suggested path fills. */
const CLASS_MINUTES = 120;

function list(cmd: ParsedCommandLine): number {
  const all = labs(cmd);
  for (const l of all)
    out(
      `${String(l.order).padStart(2)} ${l.core ? '*' : ' '} ${l.id.padEnd(22)} ${l.minutes ? `${String(l.minutes).padStart(3)} min` : '       '}  ${l.title}`,
    );
  const path = all.filter((l) => l.core);
  if (path.length) {
    const total = path.reduce((sum, l) => sum + (l.minutes ?? 0), 0);
    const rest = all.filter((l) => !l.core).reduce((sum, l) => sum + (l.minutes ?? 0), 0);
    out(
      `\n* a two-hour class (${CLASS_MINUTES} min): labs ${path.map((l) => l.order).join(', ')} take ${total} min; the other labs add ${rest} min (docs/teaching.md)`,
    );
  }
  const exercises = labSet(cmd).exercises;
  if (exercises.length) {
    out('\nexercises (ts-lab exercise NAME, then ts-lab grade NAME):');
    for (const e of exercises) out(`    ${e.id.padEnd(22)} ${e.title}`);
  }
  return 0;
}

let current: LabRun | undefined;

/** Ctrl-C or a kill: run the lab's cleanup before going. */
function cleanUpOnSignals(): void {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(sig, () => {
      out(`\n${sig === 'SIGINT' ? 'interrupted' : sig}: cleaning up...`);
      const pending = current?.interrupt() ?? Promise.resolve({ problems: [] });
      pending.then(
        ({ problems }) => {
          for (const p of problems) out(`  ${p}`);
          process.exit(130);
        },
        (err: unknown) => {
          out(`  cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
          process.exit(130);
        },
      );
    });
}

async function runLabs(
  selected: Lab[],
  reporter: Reporter,
  trace: boolean,
  command: 'run' | 'check',
  from?: number,
): Promise<LabResult[]> {
  cleanUpOnSignals();
  const results: LabResult[] = [];
  for (const lab of selected) {
    current = new LabRun(lab, reporter, { trace, binDir: BIN_DIR, projectRoot: PROJECT_ROOT, from });
    const start = new Date();
    const release = markRunning([lab.id]);
    const result = await current.run();
    release();
    results.push(result);
    current = undefined;
    noteRecorded(recordProgress(labRecord(result, command, start, insideSandbox(), process.env, result.from)));
  }
  return results;
}

/** A progress file that could not be written is said, not fatal: the lab's result stands. */
function noteRecorded({ file, error }: { file?: string; error?: string }): void {
  if (error) sayError(`progress not recorded in ${file}: ${error}`);
}

/**
 * The exit status of a run: 1 when a check failed, 2 when nothing failed
 * but a lab was skipped or incomplete (green means checked), unless the
 * user accepts skips.
 */
function verdict(results: LabResult[], allowSkips: boolean): number {
  if (results.some((r) => r.outcome === 'fail')) return 1;
  const skipped = results.filter((r) => r.outcome === 'skip');
  if (skipped.length === 0 || allowSkips) return 0;
  const all = skipped.length === results.length && tally(results).checks.pass === 0;
  sayError(
    `${all ? 'nothing was checked' : 'not everything was checked'}: ${count(skipped.length, 'lab')} skipped or incomplete (${skipped.map((r) => r.id).join(', ')})`,
    'the skip lines say what is missing; --allow-skips exits 0 anyway',
  );
  return 2;
}

function sayError(message: string, hint?: string): void {
  process.stderr.write(`ts-lab: ${message}\n${hint ? `ts-lab: hint: ${hint}\n` : ''}`);
}

function pick(cmd: ParsedCommandLine, all: Lab[], names: string[]): Lab[] {
  if (flag(cmd, 'all')) {
    if (names.length) throw new UsageError(`give lab names or --all, not both ('${names.join(' ')}')`);
    return all;
  }
  if (names.length === 0) throw new UsageError('name a lab, or give --all (ts-lab list shows them)');
  return names.map((n) => {
    const lab = findLab(all, n);
    if (!lab) throw new ToolError(`no lab '${n}' (ts-lab list shows them)`, 1);
    return lab;
  });
}

async function runLab(cmd: ParsedCommandLine, names: string[]): Promise<number> {
  const [lab] = pick(cmd, labs(cmd), names);
  const fromGiven = value(cmd, 'from');
  let from: number | undefined;
  try {
    from = fromGiven === undefined ? undefined : stepIndex(lab!, fromGiven);
  } catch (err) {
    if (err instanceof UnknownStepError) throw new ToolError(err.message, 1);
    throw err;
  }
  if (flag(cmd, 'sandbox') && !insideSandbox()) return inSandbox(process.argv.slice(2), false, [lab!.id]);
  const sandboxed = insideSandbox();
  const trace = flag(cmd, 'trace');
  let results: LabResult[];
  if (process.stdout.isTTY === true) {
    const guided = new GuidedReporter(!flag(cmd, 'auto') && process.stdin.isTTY === true, { sandboxed, trace });
    await guided.load();
    results = await runLabs([lab!], guided, trace, 'run', from);
    guided.close();
  } else results = await runLabs([lab!], new PlainReporter(true, { sandboxed, trace }), trace, 'run', from);
  return verdict(results, flag(cmd, 'allow-skips'));
}

/** Run ts-lab again, with these arguments, in a new sandbox (src/lab/sandbox.ts); its exit status. */
function inSandbox(args: string[], standIn = false, labIds: string[] = []): number {
  // The sandbox has a /run of its own: the runner's mark must be made out here (src/lab/running.ts).
  markRunning(labIds);
  const { argv, env } = sandboxCommand(BIN_DIR, [process.execPath, __filename, ...args], { standIn });
  // Ctrl-C reaches the ts-lab inside too, which cleans up: wait for it
  // instead of dying first (a handler, so the signal does not kill us).
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => {});
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: 'inherit', env });
  if (r.error) throw new ToolError(`cannot start the sandbox: ${r.error.message}`, 1);
  return r.status ?? 1;
}

async function check(cmd: ParsedCommandLine, names: string[]): Promise<number> {
  const selected = pick(cmd, labs(cmd), names);
  // A lab that needs the sandbox (the pod labs) takes the whole run into
  // one, as CI=true does: `sudo ts-lab check --all` then runs every lab.
  const needed = process.geteuid?.() === 0 && selected.some((l) => l.needs?.sandbox);
  const wantSandbox = flag(cmd, 'sandbox') || ((process.env.CI === 'true' || needed) && !flag(cmd, 'no-sandbox'));
  if (wantSandbox && !insideSandbox())
    return inSandbox(
      process.argv.slice(2),
      false,
      selected.map((l) => l.id),
    );
  const sandboxed = insideSandbox();
  let results: LabResult[];
  if (flag(cmd, 'json')) {
    const r = new JsonReporter({ sandboxed });
    results = await runLabs(selected, r, flag(cmd, 'trace'), 'check');
    r.finish(results);
  } else if (flag(cmd, 'tap')) {
    const r = new TapReporter({ sandboxed });
    results = await runLabs(selected, r, flag(cmd, 'trace'), 'check');
    r.finish();
  } else {
    results = await runLabs(selected, new PlainReporter(false, { sandboxed }), flag(cmd, 'trace'), 'check');
    const t = tally(results);
    out(
      `summary: ${count(results.length, 'lab')}: ${t.labs.pass} passed, ${t.labs.fail} failed, ${t.labs.skip} skipped; checks: ${t.checks.pass} passed, ${t.checks.fail} failed, ${t.checks.skip} skipped`,
    );
  }
  return verdict(results, flag(cmd, 'allow-skips'));
}

/** A shell in a sandbox of its own, marked so that `grade --sandbox` can find it. */
function shell(): number {
  if (!insideSandbox()) {
    if (process.geteuid?.() !== 0)
      throw new ToolError('the sandbox shell needs root to make its namespaces', 1, 'sudo ts-lab shell --sandbox');
    return inSandbox(['shell', '--sandbox'], true);
  }
  out(
    [
      `You are in a sandbox: a network namespace of its own (lo only, with ${STAND_IN_ADDRESS} standing for the host's address),`,
      'a private mount namespace with an empty /run, and a host name of its own. The links, bridges, routes, named',
      'network namespaces and mounts you make here are gone when you leave this shell (exit or Ctrl-D).',
      "Processes, users, cgroups and files outside /run are still the machine's.",
      'Grade here with ts-lab grade NAME, or from another terminal with sudo ts-lab grade --sandbox NAME.',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${BIN_DIR}:${process.env.PATH ?? ''}`,
    [SANDBOX_SHELL_ENV]: String(process.pid),
    PS1: '(nslab sandbox) # ',
  };
  const bash = which('bash');
  let argv = [process.env.SHELL ?? '/bin/sh'];
  if (bash) {
    // /run is the sandbox's own tmpfs: the prompt file goes with it.
    const rc = '/run/nslab-sandbox.bashrc';
    writeFileSync(rc, '[ -f ~/.bashrc ] && . ~/.bashrc\nPS1="(nslab sandbox) $PS1"\n');
    argv = [bash, '--rcfile', rc];
  }
  // The shell handles Ctrl-C itself; we only wait for it.
  for (const sig of ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => {});
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: 'inherit', env });
  if (r.error) throw new ToolError(`cannot start ${argv[0]}: ${r.error.message}`, 1);
  return r.status ?? 1;
}

async function reset(cmd: ParsedCommandLine): Promise<number> {
  const env = {
    ...process.env,
    PATH: `${BIN_DIR}:${process.env.PATH ?? ''}`,
    LAB_DIR: '/nonexistent-nslab-lab-dir',
    NSLAB_ROOT: PROJECT_ROOT,
  };
  const all = labs(cmd);
  // A lab running in another terminal keeps what it made: its cleanup would pull the floor from under it.
  const running = runningLabs();
  for (const lab of all) {
    const runners = running.get(lab.id);
    if (runners) {
      out(`kept    ${lab.id}: running in another terminal (ts-lab ${runners.join(', ')})`);
      continue;
    }
    for (const line of lab.cleanup ?? []) {
      const r = await runOnHost(line, { env, cwd: '/', timeoutSeconds: 30 });
      out(`${r.exit === 0 ? 'done   ' : 'nothing'} ${lab.id}: ${line}`);
    }
  }
  for (const ex of labSet(cmd).exercises)
    for (const line of ex.reset ?? []) {
      const r = await runOnHost(line, { env, cwd: '/', timeoutSeconds: 30 });
      const said = r.output.trim().split('\n').pop();
      out(`${r.exit === 0 ? 'done   ' : 'nothing'} exercise ${ex.id}${said ? `: ${said}` : ''}`);
    }
  // Lab directories of runs that were killed (nslab-<lab id>-XXXXXX), unless a
  // running lab still uses one. Unmount what is under them first, never
  // delete through a mount.
  const ids = all.map((l) => l.id);
  // Every command a lab runs has LAB_DIR in its environment.
  const inUse = new Set(processesWithEnv('LAB_DIR').values());
  const found = allWorkDirs().flatMap((base) =>
    existsSync(base)
      ? readdirSync(base)
          .filter((n) => ids.some((id) => new RegExp(`^nslab-${id}-\\w{6}$`).test(n)))
          .map((n) => join(base, n))
      : [],
  );
  for (const dir of found) {
    if (inUse.has(dir)) {
      out(`kept    ${dir}: in use by a running lab`);
      continue;
    }
    for (const m of hostMountPoints()
      .filter((p) => p.startsWith(dir + '/'))
      .reverse())
      spawnSync('umount', ['-l', m]);
    if (hostMountPoints().some((p) => p === dir || p.startsWith(dir + '/'))) out(`kept    ${dir}: still mounted`);
    else {
      rmSync(dir, { recursive: true, force: true });
      out(`removed ${dir}`);
    }
  }
  return 0;
}

/** A whole number from an option, or a usage error naming it. */
function numberOption(cmd: ParsedCommandLine, name: string, min: number): number | undefined {
  const given = value(cmd, name);
  if (given === undefined) return undefined;
  if (!/^\d+$/.test(given) || Number(given) < min)
    throw new UsageError(`--${name} takes a whole number${min ? ` from ${min}` : ''}, not '${given}'`);
  return Number(given);
}

/** What draw and report add to ts-lab, loaded when used: the other commands start without it. */
const DRAW_KINDS: readonly DiagramKind[] = ['processes', 'cgroups', 'network', 'pod'];

async function draw(cmd: ParsedCommandLine, [kind]: string[]): Promise<number> {
  const { captureDiagram, makeDrawing } = await import('../lab/draw/index.js');
  const { diagramText } = await import('../lab/draw/text.js');
  if (!(DRAW_KINDS as readonly string[]).includes(kind))
    throw new UsageError(`nothing called '${kind}' to draw (${DRAW_KINDS.join(', ')})`);
  const fits: Record<string, string[]> = {
    processes: ['pid'],
    cgroups: ['cgroup', 'depth'],
    network: ['netns'],
    pod: ['pid', 'root'],
  };
  for (const o of ['pid', 'cgroup', 'depth', 'netns', 'root'])
    if (value(cmd, o) !== undefined && !fits[kind].includes(o))
      throw new UsageError(`ts-lab draw ${kind} does not take --${o}`);
  const req = {
    pid: numberOption(cmd, 'pid', 1),
    depth: numberOption(cmd, 'depth', 0),
    cgroup: value(cmd, 'cgroup'),
    netns: value(cmd, 'netns'),
    root: value(cmd, 'root'),
  };
  if (kind === 'pod' && (req.pid === undefined) === (req.root === undefined))
    throw new UsageError(
      'ts-lab draw pod needs --pid PID (the pause process) or --root DIR (a runtime state root), one of them',
    );
  const diagram = await drawWorded(() => makeDrawing(kind as DiagramKind, req));
  captureDiagram(diagram);
  if (flag(cmd, 'json')) out(JSON.stringify(diagram, null, 2));
  else out(diagramText(diagram, process.stdout.isTTY === true ? await terminalPaint() : {}));
  return 0;
}

/** The errors of the drawings, in this tool's words. */
async function drawWorded<T>(fn: () => T): Promise<T> {
  const { NoSuchProcessError } = await import('../lab/draw/processes.js');
  const { NoPodError } = await import('../lab/draw/pod.js');
  try {
    return fn();
  } catch (err) {
    if (err instanceof NoSuchProcessError) throw new ToolError(`no process ${err.pid} (gone, or never there)`, 1);
    if (err instanceof NoPodError)
      throw new ToolError(
        `no pod in ${err.root}: no container there is a CRI sandbox`,
        1,
        'give the runtime root the pods were made with (ts-cri: DIR/runc/k8s.io), or --pid of the pause process',
      );
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && (err as NodeJS.ErrnoException).path)
      throw new ToolError(`cannot draw: ${(err as NodeJS.ErrnoException).path} does not exist`, 1);
    throw err;
  }
}

/** chalk 5 is ESM-only and costs start-up time: loaded only for a terminal. */
async function terminalPaint(): Promise<Paint> {
  const c = (await import('chalk')).default;
  return {
    new: c.yellow.bold,
    inherited: c.magenta,
    host: c.dim,
    limit: c.red.bold,
    usage: c.green,
    warn: c.red,
    heading: c.bold.cyan,
    dim: c.dim,
  };
}

async function report(cmd: ParsedCommandLine, names: string[]): Promise<number> {
  const file = value(cmd, 'html');
  if (!file) throw new UsageError('ts-lab report needs --html FILE: where to write the page');
  const [lab] = pick(cmd, labs(cmd), names);
  const wantSandbox =
    flag(cmd, 'sandbox') ||
    ((process.env.CI === 'true' || (process.geteuid?.() === 0 && lab.needs?.sandbox)) && !flag(cmd, 'no-sandbox'));
  // The page is written from inside the sandbox, whose /run is its own: an absolute path outside /run.
  if (wantSandbox && !insideSandbox()) {
    const dir = value(cmd, 'labs-dir');
    return inSandbox(['report', lab.id, '--html', resolve(file), ...(dir ? ['--labs-dir', resolve(dir)] : [])], false, [
      lab.id,
    ]);
  }
  const sandboxed = insideSandbox();
  const { CAPTURE_ENV } = await import('../lab/draw/index.js');
  const { HtmlReportCollector, renderReport } = await import('../lab/report.js');
  const captures = mkdtempSync(join(tmpdir(), 'nslab-report-'));
  process.env[CAPTURE_ENV] = captures;
  try {
    const collector = new HtmlReportCollector(captures, new PlainReporter(false, { sandboxed }));
    const started = new Date();
    const results = await runLabs([lab!], collector, true, 'check');
    writeFileSync(file, renderReport(collector, { sandboxed, trace: true, started }));
    out(`report: ${resolve(file)}`);
    return verdict(results, false);
  } finally {
    delete process.env[CAPTURE_ENV];
    rmSync(captures, { recursive: true, force: true });
  }
}

function doctor(cmd: ParsedCommandLine): number {
  const path = `${BIN_DIR}:${process.env.PATH ?? ''}`;
  const checks = runDoctor(path);
  let forecast: ReturnType<typeof labForecast> = [];
  try {
    forecast = labForecast(labs(cmd), path, PROJECT_ROOT);
  } catch (err) {
    if (!(err instanceof NoLabsError)) throw err;
  }
  if (flag(cmd, 'json')) out(JSON.stringify({ checks, labs: forecast }, null, 2));
  else {
    for (const c of checks) {
      out(`${c.status === 'ok' ? 'ok  ' : c.status === 'warn' ? 'warn' : 'FAIL'}  ${c.name}: ${c.found}`);
      if (c.fix) out(`      fix: ${c.fix}`);
    }
    if (forecast.length) {
      out('');
      out('labs on this machine (sudo ts-lab check --all):');
      for (const f of forecast)
        out(
          `${f.outcome === 'run' ? 'run ' : f.outcome}  ${String(f.order ?? '').padStart(2)} ${f.id}${f.why ? `: ${f.why}` : ''}`,
        );
    }
  }
  const failed = checks.filter((c) => c.status === 'fail').length;
  const stopped = forecast.filter((f) => f.outcome !== 'run');
  if (!flag(cmd, 'json')) {
    if (forecast.length)
      out(
        `${count(forecast.length - stopped.length, 'lab')} will run, ${forecast.filter((f) => f.outcome === 'skip').length} will be skipped, ${forecast.filter((f) => f.outcome === 'fail').length} will fail`,
      );
    out(
      failed
        ? `${count(failed, 'problem')} found`
        : stopped.length
          ? `0 problems found, but ${count(stopped.length, 'lab')} will not run here (see above)`
          : 'this machine can run every lab',
    );
  }
  // As check --all would: not every lab running is not a success.
  return failed || stopped.length ? 1 : 0;
}

function findExercise(cmd: ParsedCommandLine, name: string | undefined) {
  const all = labSet(cmd).exercises;
  if (!name) return { all, ex: undefined };
  const ex = all.find((e) => e.id === name);
  if (!ex) throw new ToolError(`no exercise '${name}' (ts-lab list shows them)`, 1);
  return { all, ex };
}

/** --hint: a count of hints, 0 or more. */
function hintCount(cmd: ParsedCommandLine): number {
  const given = value(cmd, 'hint');
  if (given === undefined) return 0;
  if (!/^\d+$/.test(given)) throw new UsageError(`--hint takes how many hints to show (0, 1, 2, ...), not '${given}'`);
  return Number(given);
}

function exercise(cmd: ParsedCommandLine, [name]: string[]): number {
  const n = hintCount(cmd);
  const { all, ex } = findExercise(cmd, name);
  if (!ex) {
    if (value(cmd, 'hint') !== undefined)
      throw new UsageError('--hint goes with an exercise name: ts-lab exercise NAME --hint 1');
    for (const e of all) out(`${e.id.padEnd(22)} ${e.title}`);
    return 0;
  }
  out(`${ex.title}\n\n`);
  const missing = unmet(ex.needs, `${BIN_DIR}:${process.env.PATH ?? ''}`, PROJECT_ROOT);
  if (missing) out(wrap(`Before you start: this machine ${missing}`, 100) + '\n\n');
  for (const p of ex.task) out(wrap(p, 100) + '\n\n');
  ex.hints.slice(0, n).forEach((h, i) => out(wrap(`hint ${i + 1}: ${h}`, 100) + '\n\n'));
  const more = ex.hints.length - n;
  if (more > 0) out(`(${count(more, 'more hint')}: ts-lab exercise ${ex.id} --hint ${n + 1})`);
  out(`Do it in a sandbox: sudo ts-lab shell --sandbox (what you make there is thrown away when you leave).`);
  out(
    `When you are done: ts-lab grade ${ex.id} in that shell, or sudo ts-lab grade --sandbox ${ex.id} from another terminal.`,
  );
  return 0;
}

async function gradeCommand(cmd: ParsedCommandLine, [name]: string[]): Promise<number> {
  const { ex } = findExercise(cmd, name);
  if (flag(cmd, 'sandbox') && !insideSandbox()) return gradeInSandboxShell();
  const env = { ...process.env, PATH: `${BIN_DIR}:${process.env.PATH ?? ''}` };
  // A grade needs what the exercise needs: a grader run without it would only say "fail".
  const missing = unmet(ex!.needs, env.PATH, PROJECT_ROOT);
  if (missing) throw new ToolError(`cannot grade ${ex!.id} on this machine: it ${missing}`, 1);
  const tap = flag(cmd, 'tap');
  const json = flag(cmd, 'json');
  const sandboxed = insideSandbox();
  let n = 0;
  const start = new Date();
  if (tap) out('TAP version 14');
  if (sandboxed && !json) out(`${tap ? '# ' : ''}${SANDBOX_BANNER}`);
  const results = await grade(ex!, env, (c) => {
    n++;
    if (tap) out(`${c.outcome === 'fail' ? 'not ok' : 'ok'} ${n} - ${c.that}`);
    else if (!json) out(`${c.outcome === 'pass' ? 'ok  ' : 'FAIL'}  ${c.that}`);
    if (c.outcome === 'fail' && !json) {
      const p = tap ? '  # ' : '      ';
      out(indent(`why: ${c.why}`, p, `${p}     `));
      if (c.hint) out(indent(`hint: ${c.hint}`, p, `${p}      `));
    }
  });
  noteRecorded(recordProgress(gradeRecord(ex!.id, results, start, sandboxed)));
  const failed = results.filter((r) => r.outcome === 'fail').length;
  if (tap) out(`1..${n}`);
  else if (json) out(JSON.stringify({ exercise: ex!.id, sandboxed, checks: results, passed: failed === 0 }, null, 2));
  else
    out(
      failed
        ? `${failed} of ${count(results.length, 'check')} failed`
        : `all ${count(results.length, 'check')} passed: well done`,
    );
  return failed ? 1 : 0;
}

/** Lab id -> its number in the series, for tables; labs that cannot be read give no numbers. */
function labOrder(cmd: ParsedCommandLine): Map<string, number> {
  try {
    return new Map(labs(cmd).map((l) => [l.id, l.order]));
  } catch {
    return new Map();
  }
}

/** The student's own table, or with --merge the class table from the files given. */
function progressCommand(cmd: ParsedCommandLine, files: string[]): number {
  const order = labOrder(cmd);
  if (flag(cmd, 'merge')) {
    if (files.length === 0)
      throw new UsageError(
        '--merge needs the progress files to merge (ts-lab progress --merge vm01.jsonl vm02.jsonl ...)',
      );
    if (flag(cmd, 'junit'))
      throw new UsageError(
        "--junit exports one student's progress, not a merged class table (--json gives the class table as JSON)",
      );
    const table = mergeProgress(
      files.map((file) => ({ file, records: readProgress(file) })),
      order,
    );
    if (flag(cmd, 'json')) out(JSON.stringify(table, null, 2));
    else for (const l of classTableLines(table, order)) out(l);
    return 0;
  }
  if (files.length) throw new UsageError(`progress files ('${files.join(' ')}') go with --merge`);
  const file = progressFile();
  if (!file) throw new ToolError('progress recording is off (NSLAB_PROGRESS_FILE=off)', 1);
  const records = existsSync(file) ? readProgress(file) : [];
  if (flag(cmd, 'json'))
    out(JSON.stringify({ file, user: realUser().name, rows: summarize(records), records }, null, 2));
  else if (flag(cmd, 'junit')) out(junit(records));
  else {
    out(`progress of ${realUser().name} (${file}):`);
    for (const l of progressTable(records, order)) out(l);
  }
  return 0;
}

/** grade --sandbox from outside: run this same grade in the namespaces of the one sandbox shell. */
function gradeInSandboxShell(): number {
  const shells = sandboxShells();
  if (shells.length === 0)
    throw new ToolError(
      'no sandbox shell is running',
      1,
      'start one with sudo ts-lab shell --sandbox, do the exercise in it, and grade again',
    );
  if (shells.length > 1)
    throw new ToolError(
      `${shells.length} sandbox shells are running (held by ts-lab ${shells.join(', ')})`,
      1,
      'grade inside the one you mean: ts-lab grade NAME',
    );
  const r = spawnSync(
    join(BIN_DIR, 'ts-nsenter'),
    ['-t', String(shells[0]), '-n', '-m', '-u', '--', process.execPath, __filename, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
      env: { ...process.env, [SANDBOX_ENV]: namespaceIds() },
    },
  );
  if (r.error) throw new ToolError(`cannot enter the sandbox: ${r.error.message}`, 1);
  return r.status ?? 1;
}

/** Lab-file problems in the tool's words: what to do about --labs-dir. */
function worded(err: unknown): unknown {
  if (err instanceof ProgressFileError)
    return new ToolError(
      err.message,
      1,
      'a progress file has one JSON record per line, as ts-lab writes it (docs/teaching.md)',
    );
  if (err instanceof NoLabsError)
    return new ToolError(
      err.message,
      1,
      '--labs-dir (or NSLAB_LABS_DIR) names a directory of lab files (*.json), like labs/ in this project',
    );
  return err;
}

/** Options that contradict each other. */
const EXCLUSIVE: Array<[string, string]> = [
  ['tap', 'json'],
  ['json', 'junit'],
  ['sandbox', 'no-sandbox'],
];

async function main(cmd: ParsedCommandLine): Promise<number> {
  const [name, ...operands] = cmd.rest;
  if (name === undefined) throw new UsageError(`no command given (${Object.keys(COMMANDS).join(', ')})`);
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new UsageError(`unknown command '${name}'`);
  for (const [opt, v] of Object.entries(cmd.opts))
    if (v !== undefined && opt !== 'help' && opt !== 'version' && !command.options.includes(opt))
      throw new UsageError(`ts-lab ${name} does not take --${opt}`);
  for (const [a, b] of EXCLUSIVE)
    if (flag(cmd, a) && flag(cmd, b)) throw new UsageError(`--${a} and --${b} cannot go together`);
  const [min, max] = command.operands;
  if (operands.length > max)
    throw new UsageError(
      `ts-lab ${name} takes ${max === 0 ? 'no operands' : max === 1 ? 'one operand' : `at most ${max} operands`}; '${operands.slice(max).join(' ')}' is extra (usage: ts-lab ${command.usage})`,
    );
  if (operands.length < min)
    throw new UsageError(
      `ts-lab ${name} needs ${min === 1 && name === 'grade' ? 'an exercise name' : name === 'draw' ? `what to draw (${DRAW_KINDS.join(', ')})` : 'a lab name'} (usage: ts-lab ${command.usage})`,
    );
  try {
    return await command.run(cmd, operands);
  } catch (err) {
    throw worded(err);
  }
}

runTool(spec, main);
