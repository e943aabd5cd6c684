// How a lab run is shown. Guided (a terminal, colour by chalk, waits for
// Enter), plain (one parseable line per event), TAP and JSON for CI and
// graders. chalk is loaded only by the guided reporter: the other paths
// must start as fast as any other tool.
import { writeSync } from 'node:fs';
import { CommandResult } from './shell.js';
import { Reporter } from './runner.js';
import { CheckResult, Lab, LabResult, Step, StepResult } from './types.js';
import { caughtUpLine, recapLines, traceTip } from './navigation.js';

export function out(text = ''): void {
  try {
    writeSync(1, text.endsWith('\n') ? text : text + '\n');
  } catch {
    // the reader went away
  }
}

/** "1 check", "2 checks". */
export function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Said once at the start of a sandboxed run, in every output form. */
export const SANDBOX_BANNER =
  'sandbox: this runs in a throwaway network, mount and UTS namespace; the links, routes, mounts, /run/netns files and host name it makes stay in there';

export function indent(text: string, prefix: string, rest = prefix): string {
  return text
    .replace(/\s+$/, '')
    .split('\n')
    .map((l, i) => (i === 0 ? prefix : rest) + l)
    .join('\n');
}

/** Wrap a paragraph for a terminal of `width` columns. */
export function wrap(text: string, width: number, prefix = ''): string {
  const words = text.split(/\s+/).filter(Boolean);
  const rows: string[] = [];
  let row = '';
  for (const w of words) {
    if (row && prefix.length + row.length + 1 + w.length > width) {
      rows.push(prefix + row);
      row = w;
    } else row = row ? `${row} ${w}` : w;
  }
  if (row) rows.push(prefix + row);
  return rows.join('\n');
}

export interface Tally {
  labs: { pass: number; fail: number; skip: number };
  checks: { pass: number; fail: number; skip: number };
}

export function tally(results: LabResult[]): Tally {
  const t: Tally = { labs: { pass: 0, fail: 0, skip: 0 }, checks: { pass: 0, fail: 0, skip: 0 } };
  for (const r of results) {
    t.labs[r.outcome]++;
    for (const s of r.steps) {
      for (const c of s.checks) t.checks[c.outcome]++;
      if (s.outcome === 'fail' && s.checks.every((c) => c.outcome !== 'fail')) t.checks.fail++;
    }
    if (r.leftovers.length) t.checks.fail++;
  }
  return t;
}

/** Where a step runs, as shown: "host", "container", "host as nobody", "host, sandboxed". */
export function where(step: Step, sandboxed = false): string {
  const host = !step.in || step.in === 'host';
  const place = host ? 'host' : step.in!;
  const who = step.as ? `${place} as ${step.as}` : place;
  return host && sandboxed ? `${who}, sandboxed` : who;
}

/** How a reporter shows a run. */
export interface ReporterOptions {
  /** The run is inside the sandbox (src/lab/sandbox.ts): say so. */
  sandboxed?: boolean;
  /** The run traces the ts-* tools (no need to suggest --trace). */
  trace?: boolean;
}

/** A lab's end in words: "3 checks passed, 1 failed, 0 skipped", or why it was skipped. */
function labVerdict(r: LabResult): string {
  if (r.skipReason) return `skipped: ${r.skipReason}`;
  const t = tally([r]).checks;
  return `${count(t.pass, 'check')} passed, ${t.fail} failed, ${t.skip} skipped`;
}

/** One line per event, for logs, pipes and graders' scripts. */
export class PlainReporter implements Reporter {
  /** Also print explanations and outputs (ts-lab run without a terminal). */
  constructor(
    private readonly verbose: boolean,
    private readonly opts: ReporterOptions = {},
  ) {
    if (opts.sandboxed) out(SANDBOX_BANNER);
  }
  labStart(lab: Lab) {
    out(`lab ${lab.order} ${lab.id}: ${lab.title}`);
    if (this.verbose) for (const p of lab.intro) out(wrap(p, 100, '  '));
  }
  labSkipped(lab: Lab, reason: string) {
    out(`lab ${lab.order} ${lab.id}: ${lab.title}`);
    out(`  skip   lab: ${reason}`);
  }
  sessionStart(name: string, describe: string, command: string) {
    if (this.verbose) out(`  session ${name} (${describe}): ${command}`);
  }
  sessionOutput(_name: string, r: CommandResult) {
    if (this.verbose && r.output.trim()) out(indent(r.output, '    | '));
  }
  private tipped = false;
  stepStart(lab: Lab, step: Step, index: number, command: string) {
    if (!this.verbose) return;
    const tip = this.tipped ? undefined : traceTip(lab, this.opts.trace === true);
    this.tipped = true;
    if (tip) out(wrap(tip, 100, '  '));
    out(`  step ${index + 1} ${step.id}`);
    out(wrap(step.explain, 100, '    '));
    out(indent(command, `    [${where(step, this.opts.sandboxed)}] $ `));
  }
  stepSkipped(step: Step, reason: string) {
    out(`  skip   ${step.id}: ${reason}`);
  }
  stepOutput(step: Step, r: CommandResult) {
    if (this.verbose && r.output.trim()) out(indent(r.output, '    | '));
    if (r.error) out(`  error  ${step.id}: ${r.error}`);
  }
  check(step: Step, c: CheckResult) {
    out(`  ${c.outcome === 'pass' ? 'ok    ' : c.outcome === 'skip' ? 'skip  ' : 'FAIL  '} ${step.id}: ${c.that}`);
    if (c.outcome === 'fail') {
      out(indent(`why: ${c.why}`, '         ', '              '));
      if (c.hint) out(indent(`hint: ${c.hint}`, '         ', '               '));
    }
  }
  stepEnd(step: Step) {
    if (this.verbose && step.note) out(wrap(step.note, 100, '    note: '));
  }
  cleanup(_lab: Lab, problems: string[], leftovers: string[]) {
    for (const p of problems) out(`  note   ${p}`);
    for (const l of leftovers) out(`  LEFT   ${l}`);
  }
  caughtUp(_lab: Lab, steps: StepResult[]) {
    out(`  ${caughtUpLine(steps, steps.length)}`);
  }
  labEnd(lab: Lab, r: LabResult) {
    const t = tally([r]).checks;
    if (this.verbose && !r.skipReason) for (const l of recapLines(lab)) out(wrap(l, 100, '  '));
    out(
      `result ${lab.id} ${r.outcome} (${r.skipReason ? r.skipReason : `${t.pass} passed, ${t.fail} failed, ${t.skip} skipped`})`,
    );
  }
}

/** TAP 14: one test point per check, skips marked SKIP with their reason. */
export class TapReporter implements Reporter {
  private n = 0;
  constructor(opts: ReporterOptions = {}) {
    out('TAP version 14');
    if (opts.sandboxed) out(`# ${SANDBOX_BANNER}`);
  }
  private point(ok: boolean, name: string, directive?: string, diag?: Record<string, string | undefined>) {
    this.n++;
    out(`${ok ? 'ok' : 'not ok'} ${this.n} - ${name.replace(/#/g, '\\#')}${directive ? ` # ${directive}` : ''}`);
    if (diag) {
      out('  ---');
      for (const [k, v] of Object.entries(diag)) if (v !== undefined) out(`  ${k}: ${JSON.stringify(v)}`);
      out('  ...');
    }
  }
  labSkipped(lab: Lab, reason: string) {
    this.point(true, `${lab.id}`, `SKIP ${reason}`);
  }
  stepSkipped(step: Step, reason: string) {
    this.point(true, `${this.current} / ${step.id}`, `SKIP ${reason}`);
  }
  private current = '';
  labStart(lab: Lab) {
    this.current = lab.id;
    out(`# ${lab.id}: ${lab.title}`);
  }
  check(step: Step, c: CheckResult) {
    this.point(
      c.outcome !== 'fail',
      `${this.current} / ${step.id}: ${c.that}`,
      c.outcome === 'skip' ? `SKIP ${c.why}` : undefined,
      c.outcome === 'fail' ? { why: c.why, hint: c.hint } : undefined,
    );
  }
  stepEnd(step: Step, r: StepResult) {
    if (r.error && r.checks.every((c) => c.outcome !== 'fail'))
      this.point(false, `${this.current} / ${step.id}: the command finished`, undefined, { why: r.error });
  }
  cleanup(lab: Lab, _problems: string[], leftovers: string[]) {
    this.point(
      leftovers.length === 0,
      `${lab.id}: leaves nothing behind`,
      undefined,
      leftovers.length ? { left: leftovers.join('; ') } : undefined,
    );
  }
  finish() {
    out(`1..${this.n}`);
  }
}

/** Nothing while running; the whole result as one JSON document at the end. */
export class JsonReporter implements Reporter {
  constructor(private readonly opts: ReporterOptions = {}) {}
  labEnd() {
    // results are printed all at once by finish()
  }
  finish(results: LabResult[]) {
    out(JSON.stringify({ sandboxed: this.opts.sandboxed === true, labs: results, summary: tally(results) }, null, 2));
  }
}

type Chalk = typeof import('chalk').default;

/** The guided tour on a terminal: colour, progress, a pause before each command. */
export class GuidedReporter implements Reporter {
  private chalk!: Chalk;
  private readonly width = Math.min(process.stdout.columns || 100, 100);
  private lines?: AsyncIterator<string>;
  private readonly total = { steps: 0 };
  constructor(
    private readonly pause: boolean,
    private readonly opts: ReporterOptions = {},
  ) {}

  /** chalk 5 is ESM-only and costs start-up time: loaded here, for this mode only. */
  async load(): Promise<void> {
    this.chalk = (await import('chalk')).default;
    if (this.pause) {
      const { createInterface } = process.getBuiltinModule('node:readline') as typeof import('node:readline');
      // terminal: false keeps the tty in cooked mode, so Ctrl-C is a real SIGINT (the CLI cleans up).
      this.lines = createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]();
    }
  }

  /** What the student typed before Enter ('' for Enter alone, undefined at the end of input). */
  private async waitForEnter(prompt: string): Promise<string | undefined> {
    if (!this.lines) return undefined;
    out(this.chalk.dim(prompt));
    const next = await this.lines.next();
    if (next.done) this.lines = undefined;
    return next.done ? undefined : String(next.value).trim();
  }

  /** The steps shown so far, as shown: for `b` at the prompt. */
  private readonly shown: Array<{ index: number; step: Step; command: string; output: string; marks: string[] }> = [];
  private tipped = false;

  /** `b`: the step before the one waiting, as it ran (not run again). */
  private showAgain(back: number): boolean {
    const earlier = this.shown[this.shown.length - 1 - back];
    if (!earlier) {
      out(this.chalk.yellow('  (no earlier step to show)'));
      return false;
    }
    const c = this.chalk;
    out(c.dim(`\n── back: step ${earlier.index + 1} ${earlier.step.id}, as it ran (not run again) ──`));
    out(wrap(earlier.step.explain, this.width));
    out(indent(earlier.command, `  ${c.blue(`[${where(earlier.step, this.opts.sandboxed)}]`)} ${c.green('$')} `));
    if (earlier.output.trim()) out(indent(earlier.output, c.dim('  │ ')));
    for (const m of earlier.marks) out(m);
    out(c.dim('── end of the earlier step ──\n'));
    return true;
  }

  private banner(): void {
    if (this.opts.sandboxed) out(this.chalk.bgYellow.black(` ${SANDBOX_BANNER} `));
  }
  labStart(lab: Lab) {
    const c = this.chalk;
    this.banner();
    this.total.steps = lab.steps.length;
    out(c.bold.cyan(`\n━━ Lab ${lab.order}: ${lab.title} ━━`));
    for (const p of lab.intro) out(wrap(p, this.width) + '\n\n');
  }
  labSkipped(lab: Lab, reason: string) {
    this.banner();
    out(this.chalk.bold.cyan(`\n━━ Lab ${lab.order}: ${lab.title} ━━`));
    out(this.chalk.yellow(`skipped: ${reason}`));
  }
  sessionStart(name: string, describe: string, command: string) {
    out(this.chalk.magenta(`  ▸ opening session '${name}': ${describe}`));
    out(this.chalk.magenta(`    $ ${command}`));
  }
  sessionOutput(_name: string, r: CommandResult) {
    if (r.output.trim()) out(indent(r.output, this.chalk.dim('    │ ')));
  }
  async stepStart(lab: Lab, step: Step, index: number, command: string) {
    const c = this.chalk;
    const bar = '●'.repeat(index + 1) + '○'.repeat(Math.max(0, this.total.steps - index - 1));
    out(`\n${c.bold(`Step ${index + 1}/${this.total.steps}`)} ${c.dim(bar)} ${c.bold(step.id)}`);
    out(wrap(step.explain, this.width));
    const shown = `[${where(step, this.opts.sandboxed)}]`;
    const place = step.in && step.in !== 'host' ? c.magenta(shown) : c.blue(shown);
    out(indent(command, `  ${place} ${c.green('$')} `));
    const tip = this.tipped ? undefined : traceTip(lab, this.opts.trace === true);
    this.tipped = true;
    if (tip) out(c.cyan(wrap(tip, this.width, '  ')));
    // b shows the step before again, and b again the one before that; Enter runs this one.
    for (let back = 0; ;) {
      const answer = await this.waitForEnter(`  (Enter to run it, b to see the step before again, Ctrl-C to stop)`);
      if (answer?.toLowerCase() !== 'b') break;
      if (this.showAgain(back)) back++;
      out(indent(command, `  ${place} ${c.green('$')} `));
    }
    this.shown.push({ index, step, command, output: '', marks: [] });
  }
  stepSkipped(step: Step, reason: string) {
    out(`\n${this.chalk.bold(step.id)}: ${this.chalk.yellow(`skipped: ${reason}`)}`);
  }
  stepOutput(_step: Step, r: CommandResult) {
    if (r.output.trim()) out(indent(r.output, this.chalk.dim('  │ ')));
    if (r.error) out(this.chalk.red(`  ${r.error}`));
    const last = this.shown[this.shown.length - 1];
    if (last) last.output = r.output;
  }
  check(_step: Step, cr: CheckResult) {
    const c = this.chalk;
    const mark =
      cr.outcome === 'pass'
        ? c.green(`  ✔ ${cr.that}`)
        : cr.outcome === 'skip'
          ? c.yellow(`  – ${cr.that} (skipped: ${cr.why})`)
          : c.red(`  ✘ ${cr.that}`);
    this.shown[this.shown.length - 1]?.marks.push(mark);
    out(mark);
    if (cr.outcome === 'fail') {
      out(c.red(indent(`why: ${cr.why}`, '      ', '           ')));
      if (cr.hint) out(c.yellow(wrap(`hint: ${cr.hint}`, this.width, '      ')));
    }
  }
  stepEnd(step: Step) {
    if (step.note) out(this.chalk.italic(wrap(step.note, this.width, '  ')));
  }
  cleanup(_lab: Lab, problems: string[], leftovers: string[]) {
    for (const p of problems) out(this.chalk.dim(`  cleanup: ${p}`));
    for (const l of leftovers) out(this.chalk.red(`  left behind: ${l}`));
  }
  labEnd(lab: Lab, r: LabResult) {
    const c = this.chalk;
    // A lab skipped as a whole already said why (labSkipped).
    if (r.skipReason) return;
    const mark =
      r.outcome === 'pass'
        ? c.green.bold('passed')
        : r.outcome === 'skip'
          ? c.yellow.bold('incomplete')
          : c.red.bold('failed');
    out(`\nLab ${lab.order} ${mark}: ${labVerdict(r)}.`);
    const recap = recapLines(lab);
    if (recap.length) {
      out(c.bold.cyan('\n── Recap ──'));
      for (const l of recap) out(wrap(l, this.width));
    }
  }
  caughtUp(_lab: Lab, steps: StepResult[]) {
    const line = caughtUpLine(steps, steps.length);
    out(steps.some((s) => s.outcome === 'fail') ? this.chalk.red(`\n${line}`) : this.chalk.dim(`\n${line}`));
  }
  close() {
    void this.lines?.return?.();
  }
}
