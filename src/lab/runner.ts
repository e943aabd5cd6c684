// Running a lab: sessions started when first used, each step's command run
// where it belongs, its checks evaluated, and the cleanup run whatever
// happened (a failed step, a hung session, Ctrl-C). The runner knows no lab;
// what the student sees is the reporter's business.
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate, hostMountPoints, RunIn } from './checks.js';
import { leftovers, takeInventory } from './inventory.js';
import { ownLeftovers } from './leftovers.js';
import { labCgroupParent, unmet } from './requirements.js';
import { chooseWorkDir } from './workdir.js';
import { CommandResult, killRunningCommands, runOnHost, Session } from './shell.js';
import { CheckResult, Lab, LabResult, Outcome, Place, Step, StepResult } from './types.js';

const DEFAULT_TIMEOUT = 60;

export interface Reporter {
  labStart?(lab: Lab): void | Promise<void>;
  labSkipped?(lab: Lab, reason: string): void;
  sessionStart?(name: string, describe: string, command: string): void;
  /** What the session's program printed while it started (with --trace: its system calls). */
  sessionOutput?(name: string, result: CommandResult): void;
  /** Guided mode waits here for Enter. */
  stepStart?(lab: Lab, step: Step, index: number, command: string): void | Promise<void>;
  stepSkipped?(step: Step, reason: string): void;
  stepOutput?(step: Step, result: CommandResult): void;
  check?(step: Step, result: CheckResult): void;
  stepEnd?(step: Step, result: StepResult): void;
  cleanup?(lab: Lab, problems: string[], leftovers: string[]): void;
  labEnd?(lab: Lab, result: LabResult): void;
  /** After the steps run without pauses before --from: their results. */
  caughtUp?(lab: Lab, steps: StepResult[]): void;
}

export interface RunOptions {
  /** Add --trace to every ts-* tool the lab runs. */
  trace?: boolean;
  /** Directory holding bin/ts-* (put first on PATH). */
  binDir: string;
  projectRoot: string;
  /** Start at this step (its index): the steps before it run first, unreported, so that what they make is there. */
  from?: number;
}

/** `ts-unshare -fp bash` -> `ts-unshare --trace -fp bash`, for every ts-* tool in the command. */
export function withTrace(command: string): string {
  return command.replace(/(^|[\s;&|("'`])(ts-(?:unshare|nsenter|chroot|lsns|cgroup|veth))(?=\s|$)/g, '$1$2 --trace');
}

/** Fail beats skip beats pass: a lab with a skipped step has not passed, it is incomplete. */
function combine(outcomes: Outcome[]): Outcome {
  if (outcomes.includes('fail')) return 'fail';
  if (outcomes.includes('skip')) return 'skip';
  return 'pass';
}

export class LabRun {
  readonly lab: Lab;
  private readonly opts: RunOptions;
  private readonly out: Reporter;
  private readonly sessions = new Map<string, Session>();
  private labDir = '';
  private env: NodeJS.ProcessEnv = {};
  private cleaned?: Promise<{ problems: string[] }>;
  /** Set by interrupt(): nothing more is reported, so a command killed by the cleanup is not shown as a failed check. */
  private stopped = false;
  /** Sessions started during the current step, with what they printed. */
  private started: NonNullable<StepResult['sessions']> = [];

  constructor(lab: Lab, reporter: Reporter, opts: RunOptions) {
    this.lab = lab;
    this.out = reporter;
    this.opts = opts;
  }

  /** Set while the steps before --from run: they are not reported one by one. */
  private catchingUp = false;

  /** The reporter, or nobody once the run was interrupted (or while catching up to --from). */
  private get reporter(): Reporter {
    return this.stopped || this.catchingUp ? {} : this.out;
  }

  private command(text: string): string {
    return this.opts.trace ? withTrace(text) : text;
  }

  private hostOptions(as: 'nobody' | undefined, timeout = DEFAULT_TIMEOUT) {
    return { env: this.env, cwd: as ? '/' : this.labDir, as, timeoutSeconds: timeout };
  }

  private async session(name: string): Promise<Session | CommandResult> {
    const existing = this.sessions.get(name);
    if (existing) return existing;
    const spec = this.lab.sessions?.[name];
    if (!spec) return { exit: null, output: '', error: `the lab has no session named '${name}'` };
    const s = new Session(name, spec.describe);
    this.sessions.set(name, s);
    const start = this.command(spec.start);
    this.reporter.sessionStart?.(name, spec.describe, start);
    const ready = await s.start(start, this.hostOptions(spec.as));
    // Blank lines are the marker's, when a trace line comes between (no trace line is blank).
    const shown = { ...ready, output: ready.output.replace(/^\n+/, '').replace(/\n(?=\n)/g, '') };
    this.reporter.sessionOutput?.(name, shown);
    this.started.push({ name, command: start, output: shown.output });
    if (ready.error)
      return {
        exit: null,
        output: ready.output,
        error: `the session '${name}' (${start}) did not start: ${ready.error}`,
      };
    // Host commands can reach the session's shell: ts-nsenter -t $SESSION_name_PID
    if (s.shellPid) this.env[`SESSION_${name.replace(/\W/g, '_')}_PID`] = String(s.shellPid);
    return s;
  }

  /** Start the sessions a host command refers to by $SESSION_name_PID, so the variable is set. */
  private async sessionsNamedIn(script: string): Promise<CommandResult | undefined> {
    for (const m of script.matchAll(/SESSION_(\w+?)_PID/g)) {
      const name = Object.keys(this.lab.sessions ?? {}).find((n) => n.replace(/\W/g, '_') === m[1]);
      if (!name) continue;
      const s = await this.session(name);
      if (!(s instanceof Session)) return s;
    }
    return undefined;
  }

  /** Run a script on the host or in a session. */
  readonly runIn: RunIn = async (place: Place, script: string, as?: 'nobody', timeout = DEFAULT_TIMEOUT) => {
    const failed = await this.sessionsNamedIn(script);
    if (failed) return failed;
    if (place === 'host') return runOnHost(script, this.hostOptions(as, timeout));
    const s = await this.session(place);
    if (!(s instanceof Session)) return s;
    return s.run(script, timeout);
  };

  async run(): Promise<LabResult> {
    const lab = this.lab;
    const result: LabResult = {
      id: lab.id,
      title: lab.title,
      outcome: 'pass',
      steps: [],
      cleanupProblems: [],
      leftovers: [],
    };
    const path = `${this.opts.binDir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`;
    const skip = unmet(lab.needs, path, this.opts.projectRoot);
    if (skip) {
      this.reporter.labSkipped?.(lab, skip);
      result.outcome = 'skip';
      result.skipReason = skip;
      this.reporter.labEnd?.(lab, result);
      return result;
    }
    const before = takeInventory();
    this.labDir = mkdtempSync(join(chooseWorkDir().dir, `nslab-${lab.id}-`));
    // Readable by nobody: rootless steps may look at files the lab prepared.
    chmodSync(this.labDir, 0o755);
    this.env = {
      ...process.env,
      PATH: path,
      LAB_DIR: this.labDir,
      NSLAB_ROOT: this.opts.projectRoot,
      LAB_ID: lab.id,
      LAB_CGROUPS: labCgroupParent(),
    };
    await this.reporter.labStart?.(lab);
    try {
      for (const line of lab.setup ?? []) {
        const r = await this.runIn('host', line);
        if (r.error || r.exit !== 0)
          throw new Error(
            `lab setup failed: '${line}': ${r.error ?? `exit status ${r.exit}${r.output.trim() ? `: ${r.output.trim()}` : ''}`}`,
          );
      }
      const from = this.opts.from ?? 0;
      if (from > 0) result.from = lab.steps[from].id;
      for (let i = 0; i < lab.steps.length; i++) {
        this.catchingUp = i < from;
        result.steps.push(await this.runStep(lab.steps[i], i, path));
        if (i === from - 1 && !this.stopped) this.out.caughtUp?.(lab, result.steps);
      }
      this.catchingUp = false;
    } catch (err) {
      this.catchingUp = false;
      // Shown like a step that did not finish, so every reporter names it.
      const failed: StepResult = {
        id: 'setup',
        outcome: 'fail',
        command: '',
        in: 'host',
        exit: null,
        output: '',
        checks: [],
        error: (err as Error).message,
      };
      const pseudo: Step = { id: 'setup', explain: 'preparing the lab', run: '' };
      this.reporter.stepOutput?.(pseudo, { exit: null, output: '', error: failed.error });
      this.reporter.stepEnd?.(pseudo, failed);
      result.steps.push(failed);
    } finally {
      const { problems } = await this.cleanup();
      result.cleanupProblems = problems;
      // Only what the lab could have made counts (src/lab/leftovers.ts).
      const { own, others } = ownLeftovers(lab, this.labDir, leftovers(before, takeInventory()));
      result.leftovers = own;
      if (others.length) result.unrelated = others;
      this.reporter.cleanup?.(lab, result.cleanupProblems, result.leftovers);
    }
    result.outcome = combine(result.steps.map((s) => s.outcome));
    // Cleanup lines are best effort (a step may have failed before making what
    // they remove); what fails the lab is anything actually left behind.
    if (result.leftovers.length) result.outcome = 'fail';
    this.reporter.labEnd?.(lab, result);
    return result;
  }

  private async runStep(step: Step, index: number, path: string): Promise<StepResult> {
    const place = step.in ?? 'host';
    const command = this.command(step.run);
    const base: StepResult = { id: step.id, outcome: 'pass', command, in: place, exit: null, output: '', checks: [] };
    this.started = [];
    const result = await this.stepBody(step, index, path, base);
    if (this.started.length) result.sessions = this.started;
    if (!result.skipReason) this.reporter.stepEnd?.(step, result);
    return result;
  }

  private async stepBody(step: Step, index: number, path: string, base: StepResult): Promise<StepResult> {
    const place = step.in ?? 'host';
    const command = base.command;
    const skip = unmet(step.needs, path, this.opts.projectRoot);
    if (skip) {
      this.reporter.stepSkipped?.(step, skip);
      return {
        ...base,
        outcome: 'skip',
        skipReason: skip,
        checks: (step.checks ?? []).map((c) => ({ that: c.that, outcome: 'skip', why: skip })),
      };
    }
    await this.reporter.stepStart?.(this.lab, step, index, command);
    for (const g of step.guard ?? []) {
      const c = await evaluate(g, { exit: null, output: '' }, this.runIn);
      if (c.outcome === 'fail') {
        // Reported once, as the failed check; the error is for JSON readers.
        const refused: StepResult = {
          ...base,
          outcome: 'fail',
          error: `not run, because this did not hold: ${g.that}`,
          checks: [{ ...c, that: `before running: ${g.that}` }],
        };
        this.reporter.check?.(step, refused.checks[0]!);
        return refused;
      }
    }
    const r = await this.runIn(place, command, step.as, step.timeout ?? DEFAULT_TIMEOUT);
    if (step.capture) {
      const m = new RegExp(step.capture.match, 'm').exec(r.output);
      if (m) this.env[step.capture.var] = m[1] ?? m[0];
    }
    this.reporter.stepOutput?.(step, r);
    base.exit = r.exit;
    base.output = r.output;
    if (r.error) base.error = r.error;
    // Host probes can compare with what the step printed: "$STEP_OUTPUT".
    this.env.STEP_OUTPUT = r.output.trim();
    for (const check of step.checks ?? []) {
      const c = await evaluate(check, r, this.runIn);
      this.reporter.check?.(step, c);
      base.checks.push(c);
    }
    // A step that did not finish fails even when it has no checks of its own.
    base.outcome = r.error ? 'fail' : combine(base.checks.map((c) => c.outcome));
    return base;
  }

  /** Ctrl-C or a kill: report nothing more, stop what runs and clean up. */
  interrupt(): Promise<{ problems: string[] }> {
    this.stopped = true;
    return this.cleanup();
  }

  /** Stop the sessions and run the lab's cleanup; safe to call more than once (Ctrl-C during a step). */
  cleanup(): Promise<{ problems: string[] }> {
    this.cleaned ??= (async () => {
      const problems: string[] = [];
      killRunningCommands();
      for (const s of this.sessions.values()) await s.stop();
      for (const line of this.lab.cleanup ?? []) {
        const r = await runOnHost(line, { env: this.env, cwd: '/', timeoutSeconds: 30 });
        if (r.error || r.exit !== 0)
          problems.push(`cleanup '${line}' failed: ${r.error ?? `exit ${r.exit}: ${r.output.trim()}`}`);
      }
      if (this.labDir) {
        // Never delete through a mount point: a bind mount of / left under
        // LAB_DIR would take the host with it. Leave the directory and say so.
        const mounted = hostMountPoints().filter((m) => m === this.labDir || m.startsWith(this.labDir + '/'));
        if (mounted.length) problems.push(`${this.labDir} kept: still mounted there: ${mounted.join(', ')}`);
        else rmSync(this.labDir, { recursive: true, force: true });
      }
      return { problems };
    })();
    return this.cleaned;
  }
}
