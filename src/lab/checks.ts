// Evaluating a check: matchers on an output and an exit status, applied to
// the step's own result or to a probe's, and the few system predicates that
// read better as names than as shell.
import { Check, CheckResult, Place, PredicateSpec } from './types.js';
import { CommandResult } from './shell.js';
import { readMountInfo } from '../syscalls/mountinfo.js';

/** How the runner lets a check run a command (a probe) somewhere. */
export type RunIn = (place: Place, script: string, as?: 'nobody', timeoutSeconds?: number) => Promise<CommandResult>;

/** What a command printed, as lines under the sentence that explains a failure. */
function printed(text: string, maxLines = 12, maxChars = 600): string {
  const t = text.replace(/\s+$/, '').replace(/^\n+/, '');
  if (!t) return 'It printed nothing.';
  let lines = t.split('\n');
  const cut = lines.length > maxLines || t.length > maxChars;
  lines = lines.slice(0, maxLines).map((l) => (l.length > 160 ? `${l.slice(0, 160)}...` : l));
  while (cut && lines.join('\n').length > maxChars && lines.length > 1) lines.pop();
  return `It printed:\n${lines.map((l) => `  ${l}`).join('\n')}${cut ? '\n  ...' : ''}`;
}

/** One line of output, for failures that are not about the output. */
function short(text: string, max = 300): string {
  const t = text.trim();
  if (!t) return '(no output)';
  return t.length > max ? `${t.slice(0, max)}...` : t;
}

/**
 * A pattern in words: the check's own `expect` when the lab gives one, else
 * the text itself when the pattern is plain text with anchors (^default via
 * 10\.44\.0\.1 ), else the pattern, marked as one.
 */
export function describePattern(pattern: string, expect?: string): string {
  if (expect) return expect;
  const end = pattern.endsWith('$') && !pattern.endsWith('\\$');
  const start = pattern.startsWith('^');
  const core = pattern
    .replace(/^\^/, '')
    .replace(/(?<!\\)\$$/, '')
    .replace(/\\b/g, '');
  const literal = core.replace(/\\([.\-/()[\]{}?*+|^$\\])/g, '$1');
  // Anything left that is special means a real pattern: say so and show it.
  if (/(?<!\\)[\\[\](){}?*+|^$]/.test(core.replace(/\\[.\-/()[\]{}?*+|^$\\]/g, '')) || literal.trim() === '')
    return `text matching the pattern ${pattern}`;
  if (start && end) return `the line "${literal}"`;
  return start ? `a line starting with "${literal}"` : end ? `a line ending with "${literal}"` : `"${literal}"`;
}

function exitSentence(expected: number | 'nonzero', got: number | null): string {
  if (expected === 'nonzero') return 'The command succeeded (exit status 0), but it should have failed.';
  if (expected === 0) return `The command failed (exit status ${got}), but it should have succeeded.`;
  return `The command ended with exit status ${got}, not ${expected}.`;
}

/** The matchers of a check against one result; undefined when all hold, else why not, in sentences with the output below. */
export function matchResult(check: Check, r: CommandResult): string | undefined {
  if (r.error) return r.output.trim() ? `${r.error}\n${printed(r.output)}` : r.error;
  if (check.exit !== undefined) {
    const ok = check.exit === 'nonzero' ? r.exit !== 0 && r.exit !== null : r.exit === check.exit;
    if (!ok) return `${exitSentence(check.exit, r.exit)} ${printed(r.output)}`;
  }
  if (check.match !== undefined && !new RegExp(check.match, 'm').test(r.output))
    return `The output should show ${describePattern(check.match, check.expect)}, and does not. ${printed(r.output)}`;
  if (check.notMatch !== undefined && new RegExp(check.notMatch, 'm').test(r.output))
    return `The output shows ${describePattern(check.notMatch, check.expect)}, and should not. ${printed(r.output)}`;
  if (check.contains !== undefined && !r.output.includes(check.contains))
    return `The output should contain "${check.contains}", and does not. ${printed(r.output)}`;
  if (check.notContains !== undefined && r.output.includes(check.notContains))
    return `The output contains "${check.notContains}", and should not. ${printed(r.output)}`;
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
      if (r.error || r.exit !== 0)
        return `could not read the session's ${p.type} namespace: ${r.error ?? short(r.output)}`;
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
  // readlinkSync is synchronous on purpose (docs/design.md: libuv workers may sit in other namespaces).
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
