// Finding and reading labs and exercises (JSON files), with the mistakes a
// lab author can make reported by file and field rather than at run time.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Check, Exercise, Lab } from './types.js';

export class LabFileError extends Error {
  override name = 'LabFileError';
}

/**
 * The labs directory holds no labs: it is missing, not a directory, or has
 * no lab files. Running nothing must never look like passing everything.
 */
export class NoLabsError extends Error {
  override name = 'NoLabsError';
  constructor(
    readonly dir: string,
    readonly problem: 'missing' | 'not-a-directory' | 'empty',
  ) {
    super(
      problem === 'missing'
        ? `no labs in ${dir}: it does not exist`
        : problem === 'not-a-directory'
          ? `no labs in ${dir}: it is not a directory`
          : `no labs in ${dir}: it has no lab files (*.json)`,
    );
  }
}

/** What is at `dir`: a directory, something else, or nothing. */
function kindOf(dir: string): 'directory' | 'other' | 'missing' {
  try {
    return statSync(dir).isDirectory() ? 'directory' : 'other';
  } catch {
    return 'missing';
  }
}

/** labs/ of this project, unless NSLAB_LABS_DIR points elsewhere (tests, a teacher's complete set of labs). */
export function labsDir(projectRoot: string): string {
  return process.env.NSLAB_LABS_DIR ?? join(projectRoot, 'labs');
}

/** Where character `position` of `text` is, as people count: line and column from 1. */
export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  return { line, column: position - before.lastIndexOf('\n') };
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LabFileError(`${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    // V8 says "... in JSON at position 14" (newer versions add the line): an editor wants line and column.
    const message = (err as Error).message.replace(/\s*\(line \d+ column \d+\)$/, '');
    const m = /^(.*?)(?: in JSON)? at position (\d+)/.exec(message);
    if (!m) throw new LabFileError(`${file}: ${message}`);
    const { line, column } = lineAndColumn(text, Number(m[2]));
    throw new LabFileError(`${file}:${line}:${column}: not valid JSON (line ${line}, column ${column}): ${m[1]}`);
  }
}

const MATCHERS = ['exit', 'match', 'notMatch', 'contains', 'notContains', 'probe', 'predicate'] as const;

function validateChecks(where: string, checks: Check[] | undefined, problems: string[]): void {
  for (const [i, c] of (checks ?? []).entries()) {
    if (!c.that) problems.push(`${where} check ${i + 1}: no 'that' (what the check proves)`);
    if (!MATCHERS.some((m) => c[m] !== undefined))
      problems.push(`${where} check '${c.that}': nothing to check (${MATCHERS.join(', ')})`);
    if (c.expect !== undefined && c.match === undefined && c.notMatch === undefined)
      problems.push(`${where} check '${c.that}': 'expect' words a match or notMatch pattern, and there is none`);
    for (const re of [c.match, c.notMatch])
      if (re !== undefined)
        try {
          new RegExp(re, 'm');
        } catch (err) {
          problems.push(`${where} check '${c.that}': ${(err as Error).message}`);
        }
  }
}

export function validateLab(lab: Lab, file: string): Lab {
  const problems: string[] = [];
  if (!lab.id || !/^[a-z0-9-]+$/.test(lab.id)) problems.push(`id must be lower-case words joined by '-'`);
  if (!lab.title) problems.push('no title');
  if (!Array.isArray(lab.intro)) problems.push('intro must be a list of paragraphs');
  if (!Array.isArray(lab.steps) || lab.steps.length === 0) problems.push('no steps');
  if (lab.minutes !== undefined && !(Number.isInteger(lab.minutes) && lab.minutes > 0))
    problems.push('minutes must be a whole number of minutes above 0');
  if (lab.core !== undefined && typeof lab.core !== 'boolean') problems.push('core must be true or false');
  if (
    lab.owns !== undefined &&
    (!Array.isArray(lab.owns) || lab.owns.some((o) => typeof o !== 'string' || o === '' || o === '*'))
  )
    problems.push(`owns must be a list of name patterns (not '*': that would own everything)`);
  const seen = new Set<string>();
  for (const step of lab.steps ?? []) {
    const where = `step '${step.id}'`;
    if (!step.id) problems.push('a step has no id');
    if (seen.has(step.id)) problems.push(`${where} appears twice`);
    seen.add(step.id);
    if (!step.run) problems.push(`${where}: no command`);
    if (!step.explain) problems.push(`${where}: no explanation`);
    const place = step.in ?? 'host';
    if (place !== 'host' && !lab.sessions?.[place])
      problems.push(`${where}: runs in session '${place}', which the lab does not define`);
    validateChecks(where, step.checks, problems);
    validateChecks(`${where} guard`, step.guard, problems);
    if (step.capture && !/^[A-Z_][A-Z0-9_]*$/.test(step.capture.var))
      problems.push(`${where}: capture var must be an upper-case shell name`);
    for (const c of [...(step.checks ?? []), ...(step.guard ?? [])]) {
      const s = c.probe?.in ?? (c.predicate && 'session' in c.predicate ? c.predicate.session : 'host');
      if (s !== 'host' && !lab.sessions?.[s]) problems.push(`${where} check '${c.that}': no session '${s}'`);
    }
  }
  if (problems.length) throw new LabFileError(`${file}: ${problems.join('; ')}`);
  return { ...lab, file };
}

export function validateExercise(ex: Exercise, file: string): Exercise {
  const problems: string[] = [];
  if (!ex.id || !/^[a-z0-9-]+$/.test(ex.id)) problems.push(`id must be lower-case words joined by '-'`);
  if (!Array.isArray(ex.task)) problems.push('task must be a list of paragraphs');
  if (!Array.isArray(ex.grader) || ex.grader.length === 0) problems.push('no grader checks');
  validateChecks('grader', ex.grader, problems);
  if (ex.reset !== undefined && (!Array.isArray(ex.reset) || ex.reset.some((l) => typeof l !== 'string')))
    problems.push('reset must be a list of shell lines');
  for (const c of ex.grader ?? [])
    if (!c.probe && !c.predicate)
      problems.push(`grader check '${c.that}': needs a probe (the grader looks at the system, not at a step)`);
  if (problems.length) throw new LabFileError(`${file}: ${problems.join('; ')}`);
  return { ...ex, file };
}

function jsonFiles(dir: string): string[] {
  if (kindOf(dir) !== 'directory') return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

/** The labs of `dir`, in order; NoLabsError when there are none. */
export function loadLabs(dir: string): Lab[] {
  const kind = kindOf(dir);
  if (kind !== 'directory') throw new NoLabsError(dir, kind === 'missing' ? 'missing' : 'not-a-directory');
  const files = jsonFiles(dir);
  if (files.length === 0) throw new NoLabsError(dir, 'empty');
  const labs = files.map((f) => validateLab(readJson(f) as Lab, f));
  const ids = new Set<string>();
  for (const l of labs) {
    if (ids.has(l.id)) throw new LabFileError(`${l.file}: lab id '${l.id}' is used twice`);
    ids.add(l.id);
  }
  return labs.sort((a, b) => a.order - b.order);
}

export function loadExercises(dir: string): Exercise[] {
  return jsonFiles(join(dir, 'exercises')).map((f) => validateExercise(readJson(f) as Exercise, f));
}

/** The labs and exercises a run uses, and which of the base ones a directory of one's own replaced. */
export interface LabSet {
  labs: Lab[];
  exercises: Exercise[];
  /** A lab or exercise of the extra directory that took the place of one with the same id. */
  replaced: Array<{ kind: 'lab' | 'exercise'; id: string; file: string }>;
}

/**
 * The labs of `base` (this project's labs/, or NSLAB_LABS_DIR, which
 * replaces them), plus those of `extra` (--labs-dir): a lab or exercise of
 * `extra` with the id of one in `base` takes its place. `extra` must hold
 * labs, exercises or both.
 */
export function loadLabSet(base: string, extra?: string): LabSet {
  const labs = loadLabs(base);
  const exercises = loadExercises(base);
  const replaced: LabSet['replaced'] = [];
  if (extra === undefined) return { labs, exercises, replaced };
  const kind = kindOf(extra);
  if (kind !== 'directory') throw new NoLabsError(extra, kind === 'missing' ? 'missing' : 'not-a-directory');
  const ownLabs = jsonFiles(extra).map((f) => validateLab(readJson(f) as Lab, f));
  const ownExercises = loadExercises(extra);
  if (ownLabs.length === 0 && ownExercises.length === 0) throw new NoLabsError(extra, 'empty');
  const ids = new Set<string>();
  for (const l of ownLabs) {
    if (ids.has(l.id)) throw new LabFileError(`${l.file}: lab id '${l.id}' is used twice`);
    ids.add(l.id);
  }
  const merge = <T extends { id: string; file?: string }>(into: T[], own: T[], what: 'lab' | 'exercise'): T[] => {
    const out = [...into];
    for (const item of own) {
      const at = out.findIndex((x) => x.id === item.id);
      if (at >= 0) {
        out[at] = item;
        replaced.push({ kind: what, id: item.id, file: item.file ?? '' });
      } else out.push(item);
    }
    return out;
  };
  return {
    labs: merge(labs, ownLabs, 'lab').sort((a, b) => a.order - b.order),
    exercises: merge(exercises, ownExercises, 'exercise'),
    replaced,
  };
}

/** A lab by id, by its order number, or by a unique prefix of the id. */
export function findLab(labs: Lab[], name: string): Lab | undefined {
  return (
    labs.find((l) => l.id === name || String(l.order) === name) ??
    (labs.filter((l) => l.id.startsWith(name)).length === 1 ? labs.find((l) => l.id.startsWith(name)) : undefined)
  );
}
