// Evaluating a check: matchers on an output and an exit status, applied to
// the step's own result or to a probe's, and the few system predicates that
// read better as names than as shell.
import { Check, CheckResult, Place, PredicateSpec } from './types.js';
import { CommandResult } from './shell.js';
import { readMountInfo } from '../syscalls/mountinfo.js';

/** How the runner lets a check run a command (a probe) somewhere. */
export type RunIn = (place: Place, script: string, as?: 'nobody', timeoutSeconds?: number) => Promise<CommandResult>;

function short(text: string, max = 300): string {
  const t = text.trim();
  if (!t) return '(no output)';
  return t.length > max ? `${t.slice(0, max)}...` : t;
}

/** The matchers of a check against one result; undefined when all hold, else why not. */
export function matchResult(check: Check, r: CommandResult): string | undefined {
  if (r.error) return r.error;
  if (check.exit !== undefined) {
    const ok = check.exit === 'nonzero' ? r.exit !== 0 && r.exit !== null : r.exit === check.exit;
    if (!ok) return `exit status was ${r.exit}, expected ${check.exit === 'nonzero' ? 'a failure (non-zero)' : check.exit}; output: ${short(r.output)}`;
  }
  if (check.match !== undefined && !new RegExp(check.match, 'm').test(r.output)) return `output does not match /${check.match}/: ${short(r.output)}`;
  if (check.notMatch !== undefined && new RegExp(check.notMatch, 'm').test(r.output)) return `output matches /${check.notMatch}/ but should not: ${short(r.output)}`;
  if (check.contains !== undefined && !r.output.includes(check.contains)) return `output does not contain "${check.contains}": ${short(r.output)}`;
  if (check.notContains !== undefined && r.output.includes(check.notContains)) return `output contains "${check.notContains}" but should not: ${short(r.output)}`;
  return undefined;
}

/** Mount points of the lab runner's own mount namespace: "the host" for a lab. */
export function hostMountPoints(): string[] {
  return readMountInfo().map((m) => m.mountPoint);
}

async function predicate(p: PredicateSpec, runIn: RunIn): Promise<string | undefined> {
  switch (p.name) {
    case 'host-mount': {
      const present = hostMountPoints().includes(p.path);
      if (present === p.present) return undefined;
      return p.present ? `${p.path} is not in the host's mount table` : `${p.path} is in the host's mount table`;
    }
    case 'namespace': {
      const mine = readlinkHost(`/proc/self/ns/${p.type}`);
      const r = await runIn(p.session, `readlink /proc/self/ns/${p.type}`);
      if (r.error || r.exit !== 0) return `could not read the session's ${p.type} namespace: ${r.error ?? short(r.output)}`;
      const theirs = r.output.trim();
      if ((theirs === mine) === p.same) return undefined;
      return p.same ? `the session is in ${theirs}, the host in ${mine}` : `the session shares the host's ${mine}`;
    }
    case 'pid1': {
      const r = await runIn(p.session, 'cat /proc/1/comm');
      if (r.error || r.exit !== 0) return `could not read /proc/1/comm in the session: ${r.error ?? short(r.output)}`;
      const comm = r.output.trim();
      return comm === p.comm ? undefined : `PID 1 in the session is ${comm}, not ${p.comm}`;
    }
    default:
      return `unknown predicate ${(p as { name: string }).name}`;
  }
}

function readlinkHost(path: string): string {
  // readlinkSync is synchronous on purpose (DESIGN.md: libuv workers may sit in other namespaces).
  return (process.getBuiltinModule('node:fs') as typeof import('node:fs')).readlinkSync(path);
}

/** Evaluate one check of a step whose own result is `own`. */
export async function evaluate(check: Check, own: CommandResult, runIn: RunIn): Promise<CheckResult> {
  let why: string | undefined;
  try {
    if (check.predicate) why = await predicate(check.predicate, runIn);
    if (!why && check.probe) why = matchResult(check, await runIn(check.probe.in ?? 'host', check.probe.run));
    else if (!why && !check.predicate) why = matchResult(check, own);
  } catch (err) {
    why = (err as Error).message;
  }
  return why ? { that: check.that, outcome: 'fail', why, hint: check.hint } : { that: check.that, outcome: 'pass' };
}
