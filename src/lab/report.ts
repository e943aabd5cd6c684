// `ts-lab report LAB --html FILE`: a lab run kept as one offline page. The
// run is the one `check` makes (no pauses, every ts-* tool with --trace);
// this reporter keeps what each step showed (command, output with its
// system-call trace, checks, note, the sessions it opened) and the
// drawings its `ts-lab draw` commands made (captured as data through
// NSLAB_DRAW_CAPTURE, see draw/index.ts), drawn here as inline SVG. The
// page has no script and loads nothing: styles and pictures are inside it.
import { hostname } from 'node:os';
import { Reporter } from './runner.js';
import { CommandResult } from './shell.js';
import { CheckResult, Lab, LabResult, Step, StepResult } from './types.js';
import { Diagram } from './draw/diagram.js';
import { diagramSvg, escapeXml } from './draw/svg.js';
import { newCaptures } from './draw/index.js';
import { where } from './reporters.js';

export interface ReportedStep {
  index: number;
  step: Step;
  command: string;
  sessions: Array<{ name: string; describe: string; command: string; output: string }>;
  output: string;
  error?: string;
  checks: CheckResult[];
  skipped?: string;
  diagrams: Diagram[];
}

/** Collects a run for the page; pass a second reporter to also show progress. */
export class HtmlReportCollector implements Reporter {
  lab?: Lab;
  readonly steps: ReportedStep[] = [];
  result?: LabResult;
  cleanupProblems: string[] = [];
  leftovers: string[] = [];
  private readonly seen = new Set<string>();
  private pendingSessions: ReportedStep['sessions'] = [];

  constructor(
    /** Where `ts-lab draw` leaves its drawings during the run. */
    private readonly captureDir: string,
    private readonly also: Reporter = {},
  ) {}

  private current(): ReportedStep | undefined {
    return this.steps[this.steps.length - 1];
  }

  labStart(lab: Lab) {
    this.lab = lab;
    return this.also.labStart?.(lab);
  }
  labSkipped(lab: Lab, reason: string) {
    this.lab = lab;
    this.also.labSkipped?.(lab, reason);
  }
  sessionStart(name: string, describe: string, command: string) {
    this.pendingSessions.push({ name, describe, command, output: '' });
    this.also.sessionStart?.(name, describe, command);
  }
  sessionOutput(name: string, r: CommandResult) {
    const s = [...this.pendingSessions, ...(this.current()?.sessions ?? [])].find(
      (x) => x.name === name && x.output === '',
    );
    if (s) s.output = r.output;
    this.also.sessionOutput?.(name, r);
  }
  stepStart(lab: Lab, step: Step, index: number, command: string) {
    this.steps.push({ index, step, command, sessions: this.pendingSessions, output: '', checks: [], diagrams: [] });
    this.pendingSessions = [];
    return this.also.stepStart?.(lab, step, index, command);
  }
  /** The step's place in the lab (the lab's setup, which is no step, comes first). */
  private indexOf(step: Step): number {
    return this.lab?.steps.indexOf(step) ?? -1;
  }
  stepSkipped(step: Step, reason: string) {
    this.steps.push({
      index: this.indexOf(step),
      step,
      command: step.run,
      sessions: [],
      output: '',
      checks: [],
      skipped: reason,
      diagrams: [],
    });
    this.also.stepSkipped?.(step, reason);
  }
  stepOutput(step: Step, r: CommandResult) {
    // The lab's setup failing is reported as a step that never started: shown as one.
    if (this.current()?.step !== step)
      this.steps.push({
        index: this.indexOf(step),
        step,
        command: step.run,
        sessions: [],
        output: '',
        checks: [],
        diagrams: [],
      });
    const s = this.current();
    if (s) {
      s.output = r.output;
      if (r.error) s.error = r.error;
      s.diagrams.push(...newCaptures(this.captureDir, this.seen));
      // A session started by a host command ($SESSION_x_PID) opens after stepStart.
      s.sessions.push(...this.pendingSessions);
      this.pendingSessions = [];
    }
    this.also.stepOutput?.(step, r);
  }
  check(step: Step, c: CheckResult) {
    const s = this.current();
    if (s && s.step === step) s.checks.push(c);
    this.also.check?.(step, c);
  }
  stepEnd(step: Step, r: StepResult) {
    this.also.stepEnd?.(step, r);
  }
  cleanup(lab: Lab, problems: string[], leftovers: string[]) {
    this.cleanupProblems = problems;
    this.leftovers = leftovers;
    this.also.cleanup?.(lab, problems, leftovers);
  }
  labEnd(lab: Lab, r: LabResult) {
    this.result = r;
    this.also.labEnd?.(lab, r);
  }
}

const STYLE = `
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #111827; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #e5e7eb; }
pre { background: #f3f4f6; padding: .6em .8em; overflow-x: auto; font-size: 12px; border-radius: 4px; }
pre.command { background: #0f172a; color: #e2e8f0; }
pre .trace { color: #7c3aed; }
.where { font-family: monospace; color: #2563eb; }
ul.checks { list-style: none; padding-left: 0; }
.pass { color: #047857; } .fail { color: #b91c1c; } .skip { color: #b45309; }
.why { white-space: pre-wrap; font-family: monospace; font-size: 12px; color: #374151; margin-left: 1.6em; }
figure { margin: 1em 0; overflow-x: auto; } figcaption { font-size: .9em; color: #4b5563; margin-bottom: .3em; }
.note { font-style: italic; color: #374151; }
.meta { color: #4b5563; }
`;

const TRACE_LINE = /^(\[[\w -]+\] )?[a-z_][a-z_0-9]*\(.*\) = /;

function outputHtml(text: string): string {
  return text
    .replace(/\s+$/, '')
    .split('\n')
    .map((l) => (TRACE_LINE.test(l) ? `<span class="trace">${escapeXml(l)}</span>` : escapeXml(l)))
    .join('\n');
}

/**
 * What the command printed, with its trace lines out of the way: the
 * output alone, then everything in order (trace lines marked) to open.
 */
function outputBlocks(text: string): string[] {
  const lines = text.replace(/\s+$/, '').split('\n');
  const traced = lines.filter((l) => TRACE_LINE.test(l)).length;
  if (traced === 0) return [`<pre class="output">${outputHtml(text)}</pre>`];
  const plain = lines.filter((l) => !TRACE_LINE.test(l)).join('\n');
  return [
    ...(plain.trim() ? [`<pre class="output">${escapeXml(plain)}</pre>`] : []),
    `<details class="trace"><summary>the system calls (${traced} trace line${traced === 1 ? '' : 's'}), in order with the output</summary><pre class="output">${outputHtml(text)}</pre></details>`,
  ];
}

const MARK = { pass: '✔', fail: '✘', skip: '–' } as const;

function checksHtml(checks: CheckResult[]): string {
  if (!checks.length) return '';
  const items = checks.map(
    (c) =>
      `<li class="${c.outcome}">${MARK[c.outcome]} ${escapeXml(c.that)}${c.why && c.outcome !== 'pass' ? `<div class="why">why: ${escapeXml(c.why)}${c.hint ? `\nhint: ${escapeXml(c.hint)}` : ''}</div>` : ''}</li>`,
  );
  return `<ul class="checks">${items.join('')}</ul>`;
}

export function diagramFigure(d: Diagram): string {
  return `<figure class="diagram" data-kind="${d.kind}"><figcaption>${escapeXml(d.title)}${d.legend ? ` — ${escapeXml(d.legend)}` : ''}</figcaption>${diagramSvg(d)}</figure>`;
}

export interface PageOptions {
  sandboxed: boolean;
  trace: boolean;
  started: Date;
}

/** The page: title, verdict, intro, each step with its command, output, checks and diagrams, then the cleanup. */
export function renderReport(c: HtmlReportCollector, opts: PageOptions): string {
  const lab = c.lab!;
  const r = c.result;
  const outcome = r?.outcome ?? 'fail';
  const body: string[] = [];
  body.push(`<h1>Lab ${lab.order}: ${escapeXml(lab.title)}</h1>`);
  body.push(
    `<p class="meta">lab <code>${escapeXml(lab.id)}</code> · ${escapeXml(hostname())} · ${escapeXml(opts.started.toISOString())}${opts.sandboxed ? ' · run in the sandbox (a throwaway network, mount and UTS namespace)' : ''}${opts.trace ? ' · with --trace: the system calls of every ts-* tool' : ''}</p>`,
  );
  body.push(
    `<p class="verdict ${outcome}"><strong>${outcome === 'pass' ? 'passed' : outcome === 'skip' ? 'incomplete' : 'failed'}</strong>${r?.skipReason ? `: ${escapeXml(r.skipReason)}` : ''}</p>`,
  );
  for (const p of lab.intro) body.push(`<p>${escapeXml(p)}</p>`);
  for (const s of c.steps) {
    body.push(
      `<section class="step" id="step-${escapeXml(s.step.id)}"><h2>${s.index < 0 ? 'Before the steps' : `Step ${s.index + 1}`}: ${escapeXml(s.step.id)}</h2>`,
    );
    body.push(`<p>${escapeXml(s.step.explain)}</p>`);
    if (s.skipped) {
      body.push(`<p class="skip">skipped: ${escapeXml(s.skipped)}</p></section>`);
      continue;
    }
    for (const ses of s.sessions) {
      body.push(
        `<p>opens session <code>${escapeXml(ses.name)}</code>: ${escapeXml(ses.describe)}</p><pre class="command">$ ${escapeXml(ses.command)}</pre>`,
      );
      if (ses.output.trim()) body.push(...outputBlocks(ses.output));
    }
    if (s.command)
      body.push(
        `<p class="where">[${escapeXml(where(s.step, opts.sandboxed))}]</p><pre class="command">$ ${escapeXml(s.command)}</pre>`,
      );
    if (s.output.trim()) body.push(...outputBlocks(s.output));
    if (s.error) body.push(`<p class="fail">${escapeXml(s.error)}</p>`);
    for (const d of s.diagrams) body.push(diagramFigure(d));
    body.push(checksHtml(s.checks));
    if (s.step.note) body.push(`<p class="note">${escapeXml(s.step.note)}</p>`);
    body.push('</section>');
  }
  if (c.cleanupProblems.length || c.leftovers.length) {
    body.push('<h2>Cleanup</h2><ul>');
    for (const p of c.cleanupProblems) body.push(`<li>${escapeXml(p)}</li>`);
    for (const l of c.leftovers) body.push(`<li class="fail">left behind: ${escapeXml(l)}</li>`);
    body.push('</ul>');
  }
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><title>${escapeXml(`Lab ${lab.order}: ${lab.title}`)}</title><style>${STYLE}</style></head><body>\n${body.join('\n')}\n</body></html>\n`;
}
