// ts-lab: the labs (guided or checked), the classroom exercises and the
// machine check. The engine is in src/lab; this file is options and output.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { ParsedCommandLine, ToolSpec, flag, value } from '../cli/options.js';
import { runTool } from '../cli/run.js';
import { ToolError, UsageError } from '../syscalls/errors.js';
import { runDoctor } from '../lab/doctor.js';
import { grade } from '../lab/grade.js';
import { unmet } from '../lab/requirements.js';
import { findLab, labsDir, loadExercises, loadLabs } from '../lab/load.js';
import { GuidedReporter, JsonReporter, out, PlainReporter, TapReporter, tally, wrap } from '../lab/reporters.js';
import { LabRun, Reporter } from '../lab/runner.js';
import { runOnHost } from '../lab/shell.js';
import { hostMountPoints } from '../lab/checks.js';
import { processesWithEnv } from '../lab/inventory.js';
import { Lab, LabResult } from '../lab/types.js';

declare const __filename: string;
// dist/ts-lab.cjs -> the project root.
const PROJECT_ROOT = dirname(dirname(__filename));
const BIN_DIR = join(PROJECT_ROOT, 'bin');

export const spec: ToolSpec = {
  name: 'ts-lab',
  usage: '<command> [options] [<lab>...]',
  summary: [
    'Guided, checked replays of how containers are built from kernel features.',
    '',
    'Commands:',
    '  list                     the labs and exercises',
    '  run LAB                  a guided lab: explanation, command, Enter, output, checks',
    '  check --all | LAB...     run labs without pauses and report every check (exit 1 on failure)',
    '  exercise [NAME]          a classroom task (--hint N shows the first N hints)',
    '  grade NAME               check the system state the exercise asks for',
    '  reset                    remove what any lab may have left behind',
    '  doctor                   can this machine run the labs?',
  ].join('\n'),
  stopAtPositional: false,
  options: [
    { long: 'all', help: 'check: every lab' },
    { long: 'auto', help: 'run: do not wait for Enter' },
    { long: 'tap', help: 'check/grade: TAP output' },
    { long: 'json', help: 'check/grade/doctor: JSON output' },
    { long: 'sandbox', help: 'check, run: inside a throwaway network and mount namespace (check: the default when CI=true)' },
    { long: 'no-sandbox', help: 'check: run in the current namespaces even when CI=true' },
    { long: 'labs-dir', arg: 'required', value: '<dir>', help: 'read labs from <dir> (also NSLAB_LABS_DIR)' },
    { long: 'hint', arg: 'required', value: '<n>', help: 'exercise: show the first <n> hints' },
  ],
  epilog: 'With --trace, every ts-* tool a lab runs prints its system calls.',
  docs: 'docs/labs.md',
};

function labs(cmd: ParsedCommandLine): Lab[] {
  return loadLabs(labsDir(PROJECT_ROOT, value(cmd, 'labs-dir')));
}

function list(cmd: ParsedCommandLine): number {
  for (const l of labs(cmd)) out(`${String(l.order).padStart(2)}  ${l.id.padEnd(22)} ${l.title}`);
  const exercises = loadExercises(labsDir(PROJECT_ROOT, value(cmd, 'labs-dir')));
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
      const pending = current?.cleanup() ?? Promise.resolve({ problems: [] });
      pending.then(({ problems }) => {
        for (const p of problems) out(`  ${p}`);
        process.exit(130);
      });
    });
}

async function runLabs(selected: Lab[], reporter: Reporter, trace: boolean): Promise<LabResult[]> {
  cleanUpOnSignals();
  const results: LabResult[] = [];
  for (const lab of selected) {
    current = new LabRun(lab, reporter, { trace, binDir: BIN_DIR, projectRoot: PROJECT_ROOT });
    results.push(await current.run());
    current = undefined;
  }
  return results;
}

function pick(cmd: ParsedCommandLine, all: Lab[], names: string[]): Lab[] {
  if (flag(cmd, 'all')) return all;
  if (names.length === 0) throw new UsageError('name a lab, or give --all (ts-lab list shows them)');
  return names.map((n) => {
    const lab = findLab(all, n);
    if (!lab) throw new ToolError(`no lab '${n}' (ts-lab list shows them)`, 1);
    return lab;
  });
}

async function run(cmd: ParsedCommandLine, names: string[], argv: string[]): Promise<number> {
  const all = labs(cmd);
  if (names.length !== 1) throw new UsageError('ts-lab run takes one lab: ts-lab run pid-namespace');
  const [lab] = pick(cmd, all, names);
  if (flag(cmd, 'sandbox') && !process.env.NSLAB_SANDBOXED) return inSandbox(argv);
  const tty = process.stdout.isTTY === true;
  let reporter: Reporter;
  if (tty) {
    const guided = new GuidedReporter(!flag(cmd, 'auto') && process.stdin.isTTY === true);
    await guided.load();
    reporter = guided;
    const [result] = await runLabs([lab], guided, flag(cmd, 'trace'));
    guided.close();
    return result.outcome === 'fail' ? 1 : 0;
  }
  reporter = new PlainReporter(true);
  const [result] = await runLabs([lab], reporter, flag(cmd, 'trace'));
  return result.outcome === 'fail' ? 1 : 0;
}

/** Run this same command again inside new network and mount namespaces (made by ts-unshare), lo up. */
function inSandbox(argv: string[]): number {
  const unshare = join(BIN_DIR, 'ts-unshare');
  // A tmpfs on /run/netns: the labs' named namespaces live and die in the sandbox, never in the host's /run.
  const prepare = 'ip link set lo up 2>/dev/null; mkdir -p /run/netns && mount -t tmpfs -o mode=755 nslab-sandbox /run/netns && exec "$@"';
  // Ctrl-C reaches the ts-lab inside too, which cleans up: wait for it
  // instead of dying first (a handler, so the signal does not kill us).
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => {});
  const r = spawnSync(unshare, ['-n', '-m', '--propagation', 'private', '--', 'sh', '-c', prepare, 'sh', process.execPath, __filename, ...argv], {
    stdio: 'inherit',
    env: { ...process.env, NSLAB_SANDBOXED: '1' },
  });
  if (r.error) throw new ToolError(`cannot start the sandbox: ${r.error.message}`, 1);
  return r.status ?? 1;
}

async function check(cmd: ParsedCommandLine, names: string[], argv: string[]): Promise<number> {
  const all = labs(cmd);
  const selected = pick(cmd, all, names);
  const wantSandbox = flag(cmd, 'sandbox') || (process.env.CI === 'true' && !flag(cmd, 'no-sandbox'));
  if (wantSandbox && !process.env.NSLAB_SANDBOXED) return inSandbox(argv);
  let results: LabResult[];
  if (flag(cmd, 'json')) {
    const r = new JsonReporter();
    results = await runLabs(selected, r, flag(cmd, 'trace'));
    r.finish(results);
  } else if (flag(cmd, 'tap')) {
    const r = new TapReporter();
    results = await runLabs(selected, r, flag(cmd, 'trace'));
    r.finish();
  } else {
    results = await runLabs(selected, new PlainReporter(false), flag(cmd, 'trace'));
    const t = tally(results);
    out(`summary: ${results.length} labs: ${t.labs.pass} passed, ${t.labs.fail} failed, ${t.labs.skip} skipped; checks: ${t.checks.pass} passed, ${t.checks.fail} failed, ${t.checks.skip} skipped`);
  }
  return results.some((r) => r.outcome === 'fail') ? 1 : 0;
}

async function reset(cmd: ParsedCommandLine): Promise<number> {
  const env = { ...process.env, PATH: `${BIN_DIR}:${process.env.PATH ?? ''}`, LAB_DIR: '/nonexistent-nslab-lab-dir', NSLAB_ROOT: PROJECT_ROOT };
  for (const lab of labs(cmd)) {
    for (const line of lab.cleanup ?? []) {
      const r = await runOnHost(line, { env, cwd: '/', timeoutSeconds: 30 });
      out(`${r.exit === 0 ? 'done   ' : 'nothing'} ${lab.id}: ${line}`);
    }
  }
  // Lab directories of runs that were killed (nslab-<lab id>-XXXXXX), unless a
  // running lab still uses one. Unmount what is under them first, never
  // delete through a mount.
  const ids = labs(cmd).map((l) => l.id);
  // Every command a lab runs has LAB_DIR in its environment.
  const inUse = new Set(processesWithEnv('LAB_DIR').values());
  for (const name of readdirSync(tmpdir()).filter((n) => ids.some((id) => new RegExp(`^nslab-${id}-\\w{6}$`).test(n)))) {
    const dir = join(tmpdir(), name);
    if (inUse.has(dir)) {
      out(`kept    ${dir}: in use by a running lab`);
      continue;
    }
    for (const m of hostMountPoints().filter((p) => p.startsWith(dir + '/')).reverse()) spawnSync('umount', ['-l', m]);
    if (hostMountPoints().some((p) => p === dir || p.startsWith(dir + '/'))) out(`kept    ${dir}: still mounted`);
    else {
      rmSync(dir, { recursive: true, force: true });
      out(`removed ${dir}`);
    }
  }
  return 0;
}

function doctor(cmd: ParsedCommandLine): number {
  const checks = runDoctor();
  if (flag(cmd, 'json')) out(JSON.stringify({ checks }, null, 2));
  else
    for (const c of checks) {
      out(`${c.status === 'ok' ? 'ok  ' : c.status === 'warn' ? 'warn' : 'FAIL'}  ${c.name}: ${c.found}`);
      if (c.fix) out(`      fix: ${c.fix}`);
    }
  const failed = checks.filter((c) => c.status === 'fail').length;
  if (!flag(cmd, 'json')) out(failed ? `${failed} problem${failed > 1 ? 's' : ''} found` : 'this machine can run every lab');
  return failed ? 1 : 0;
}

function findExercise(cmd: ParsedCommandLine, name: string | undefined) {
  const all = loadExercises(labsDir(PROJECT_ROOT, value(cmd, 'labs-dir')));
  if (!name) return { all, ex: undefined };
  const ex = all.find((e) => e.id === name);
  if (!ex) throw new ToolError(`no exercise '${name}' (ts-lab list shows them)`, 1);
  return { all, ex };
}

function exercise(cmd: ParsedCommandLine, name: string | undefined): number {
  const { all, ex } = findExercise(cmd, name);
  if (!ex) {
    for (const e of all) out(`${e.id.padEnd(22)} ${e.title}`);
    return 0;
  }
  out(`${ex.title}\n\n`);
  const missing = unmet(ex.needs, `${BIN_DIR}:${process.env.PATH ?? ''}`, PROJECT_ROOT);
  if (missing) out(wrap(`Before you start: this machine ${missing}`, 100) + '\n\n');
  for (const p of ex.task) out(wrap(p, 100) + '\n\n');
  const n = Number(value(cmd, 'hint') ?? 0);
  ex.hints.slice(0, n).forEach((h, i) => out(wrap(`hint ${i + 1}: ${h}`, 100) + '\n\n'));
  if (n < ex.hints.length) out(`(${ex.hints.length - n} more hint${ex.hints.length - n > 1 ? 's' : ''}: ts-lab exercise ${ex.id} --hint ${n + 1})`);
  out(`When you are done: sudo ts-lab grade ${ex.id}`);
  return 0;
}

async function gradeCommand(cmd: ParsedCommandLine, name: string | undefined): Promise<number> {
  if (!name) throw new UsageError('ts-lab grade takes an exercise name');
  const { ex } = findExercise(cmd, name);
  const env = { ...process.env, PATH: `${BIN_DIR}:${process.env.PATH ?? ''}` };
  // A grade needs what the exercise needs: a grader run without it would only say "fail".
  const missing = unmet(ex!.needs, env.PATH, PROJECT_ROOT);
  if (missing) throw new ToolError(`cannot grade ${ex!.id} on this machine: it ${missing}`, 1);
  const tap = flag(cmd, 'tap');
  let n = 0;
  if (tap) out('TAP version 14');
  const results = await grade(ex!, env, (c) => {
    n++;
    if (tap) out(`${c.outcome === 'fail' ? 'not ok' : 'ok'} ${n} - ${c.that}`);
    else if (!flag(cmd, 'json')) out(`${c.outcome === 'pass' ? 'ok  ' : 'FAIL'}  ${c.that}`);
    if (c.outcome === 'fail' && !flag(cmd, 'json')) {
      out(`      why: ${c.why}`);
      if (c.hint) out(`      hint: ${c.hint}`);
    }
  });
  const failed = results.filter((r) => r.outcome === 'fail').length;
  if (tap) out(`1..${n}`);
  else if (flag(cmd, 'json')) out(JSON.stringify({ exercise: ex!.id, checks: results, passed: failed === 0 }, null, 2));
  else out(failed ? `${failed} of ${results.length} checks failed` : `all ${results.length} checks passed: well done`);
  return failed ? 1 : 0;
}

async function main(cmd: ParsedCommandLine): Promise<number> {
  const [sub, ...names] = cmd.rest;
  switch (sub) {
    case 'list':
      return list(cmd);
    case 'run':
      return run(cmd, names, process.argv.slice(2));
    case 'check':
      return check(cmd, names, process.argv.slice(2));
    case 'reset':
      return reset(cmd);
    case 'doctor':
      return doctor(cmd);
    case 'exercise':
      return exercise(cmd, names[0]);
    case 'grade':
      return gradeCommand(cmd, names[0]);
    case undefined:
      throw new UsageError('no command given (list, run, check, exercise, grade, reset, doctor)');
    default:
      throw new UsageError(`unknown command '${sub}'`);
  }
}

runTool(spec, main);
