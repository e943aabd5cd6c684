// Progress: every lab run, lab check and exercise grade, one JSON line each,
// appended to a file that belongs to the student (docs/teaching.md).
//
// Where: $XDG_STATE_HOME/nslab/progress.jsonl of the real user, that is
// ~/.local/state/nslab/progress.jsonl. The labs run under sudo, so "the
// user" is SUDO_USER when set, and the file and the directories made for it
// are handed to that user: the student reads and copies the file without
// root, and each account on a shared machine has its own. NSLAB_PROGRESS_FILE
// names another file (the tests); NSLAB_PROGRESS_FILE=off records nothing.
import { appendFileSync, chownSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { CheckResult, LabResult } from './types.js';

/** One line of the progress file. Fields are only ever added, never renamed (v stays 1). */
export interface ProgressRecord {
  v: 1;
  /** The student: SUDO_USER under sudo, else the user running ts-lab. */
  user: string;
  host: string;
  /** What was recorded: a lab (run or check) or an exercise (grade). */
  kind: 'lab' | 'exercise';
  /** The lab's or exercise's id. */
  name: string;
  command: 'run' | 'check' | 'grade';
  outcome: 'pass' | 'fail' | 'skip';
  /** ISO 8601, UTC. */
  start: string;
  durationMs: number;
  sandboxed: boolean;
  /** Every check, in order; a lab's also carries its step id, and "leaves nothing behind" closes it. */
  checks: Array<{ step?: string; that: string; outcome: 'pass' | 'fail' | 'skip' }>;
  /** Set when a run did not start at its first step (ts-lab run --from). */
  from?: string;
}

export interface Student {
  name: string;
  uid?: number;
  gid?: number;
  home: string;
}

/** The user behind sudo (or the current user), with their home from /etc/passwd. */
export function realUser(env: NodeJS.ProcessEnv = process.env): Student {
  const sudoUser = env.SUDO_USER;
  if (sudoUser && sudoUser !== 'root') {
    const entry = passwdEntry(sudoUser);
    if (entry) return entry;
  }
  const me = userInfo();
  return { name: me.username, uid: me.uid, gid: me.gid, home: env.HOME ?? me.homedir };
}

function passwdEntry(name: string): Student | undefined {
  let text: string;
  try {
    text = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 6) return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] };
  }
  return undefined;
}

/** The progress file of `student`, or undefined when recording is off. */
export function progressFile(env: NodeJS.ProcessEnv = process.env, student = realUser(env)): string | undefined {
  const set = env.NSLAB_PROGRESS_FILE;
  if (set === 'off') return undefined;
  if (set) return set;
  // XDG_STATE_HOME is root's own under sudo (sudo resets it): only trusted without sudo.
  const state = !env.SUDO_USER && env.XDG_STATE_HOME ? env.XDG_STATE_HOME : join(student.home, '.local', 'state');
  return join(state, 'nslab', 'progress.jsonl');
}

/** mkdir -p, each directory made handed to the student (under sudo they would be root's). */
function makeDirs(dir: string, student: Student): void {
  if (existsSync(dir)) return;
  makeDirs(dirname(dir), student);
  mkdirSync(dir, { mode: 0o755 });
  giveTo(dir, student);
}

function giveTo(path: string, student: Student): void {
  if (process.geteuid?.() !== 0 || student.uid === undefined || student.uid === 0) return;
  try {
    chownSync(path, student.uid, student.gid ?? student.uid);
  } catch {
    // a file system that refuses chown (a share): the record is still written
  }
}

/** Append one record; returns the file, or why it could not be written (never throws: a lab's result matters more). */
export function recordProgress(
  record: ProgressRecord,
  env: NodeJS.ProcessEnv = process.env,
): { file?: string; error?: string } {
  const student = realUser(env);
  const file = progressFile(env, student);
  if (!file) return {};
  try {
    const fresh = !existsSync(file);
    if (fresh) makeDirs(dirname(file), student);
    appendFileSync(file, JSON.stringify(record) + '\n', { mode: 0o644 });
    if (fresh) giveTo(file, student);
    return { file };
  } catch (err) {
    return { file, error: (err as Error).message };
  }
}

/** A record for a lab's result. */
export function labRecord(
  r: LabResult,
  command: 'run' | 'check',
  start: Date,
  sandboxed: boolean,
  env: NodeJS.ProcessEnv = process.env,
  from?: string,
): ProgressRecord {
  const checks: ProgressRecord['checks'] = [];
  for (const s of r.steps) {
    for (const c of s.checks) checks.push({ step: s.id, that: c.that, outcome: c.outcome });
    // A step that did not finish fails even without a failed check (as tally() counts it).
    if (s.outcome === 'fail' && s.checks.every((c) => c.outcome !== 'fail'))
      checks.push({ step: s.id, that: 'the command finished', outcome: 'fail' });
  }
  if (!r.skipReason) checks.push({ that: 'leaves nothing behind', outcome: r.leftovers.length ? 'fail' : 'pass' });
  return {
    ...common(env, start, sandboxed),
    kind: 'lab',
    name: r.id,
    command,
    outcome: r.outcome,
    checks,
    ...(from ? { from } : {}),
  };
}

/** A record for an exercise's grade. */
export function gradeRecord(
  exercise: string,
  results: CheckResult[],
  start: Date,
  sandboxed: boolean,
  env: NodeJS.ProcessEnv = process.env,
): ProgressRecord {
  const outcome = results.some((c) => c.outcome === 'fail')
    ? 'fail'
    : results.some((c) => c.outcome === 'skip')
      ? 'skip'
      : 'pass';
  return {
    ...common(env, start, sandboxed),
    kind: 'exercise',
    name: exercise,
    command: 'grade',
    outcome,
    checks: results.map((c) => ({ that: c.that, outcome: c.outcome })),
  };
}

function common(env: NodeJS.ProcessEnv, start: Date, sandboxed: boolean) {
  return {
    v: 1 as const,
    user: realUser(env).name,
    host: hostname(),
    start: start.toISOString(),
    durationMs: Date.now() - start.getTime(),
    sandboxed,
  };
}

export class ProgressFileError extends Error {
  override name = 'ProgressFileError';
}

/** The records of a progress file, oldest first; a line that is not a record is an error naming file and line. */
export function readProgress(file: string): ProgressRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ProgressFileError(
      `${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  const records: ProgressRecord[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let r: ProgressRecord;
    try {
      r = JSON.parse(line);
    } catch (err) {
      throw new ProgressFileError(`${file} line ${i + 1}: not JSON (${(err as Error).message})`);
    }
    if (
      r?.v !== 1 ||
      typeof r.user !== 'string' ||
      typeof r.name !== 'string' ||
      !['lab', 'exercise'].includes(r.kind) ||
      !['pass', 'fail', 'skip'].includes(r.outcome)
    )
      throw new ProgressFileError(`${file} line ${i + 1}: not a progress record (v 1 with user, kind, name, outcome)`);
    records.push(r);
  });
  return records;
}

/** One row of a student's table: a lab or exercise, its best result and its last attempt. */
export interface ProgressRow {
  kind: 'lab' | 'exercise';
  name: string;
  /** pass if any attempt passed, else the last attempt's outcome. */
  best: 'pass' | 'fail' | 'skip';
  attempts: number;
  last: ProgressRecord;
}

/** Records folded per lab or exercise, in the order they were first met. */
export function summarize(records: ProgressRecord[]): ProgressRow[] {
  const rows = new Map<string, ProgressRow>();
  for (const r of records) {
    const key = `${r.kind}:${r.name}`;
    const row = rows.get(key);
    if (!row) rows.set(key, { kind: r.kind, name: r.name, best: r.outcome, attempts: 1, last: r });
    else {
      row.attempts++;
      row.last = r;
      row.best = row.best === 'pass' || r.outcome === 'pass' ? 'pass' : r.outcome;
    }
  }
  return [...rows.values()];
}

function minutes(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** The student's table, as lines. `order` puts labs in the series' order (lab id -> order). */
export function progressTable(records: ProgressRecord[], order: Map<string, number> = new Map()): string[] {
  const rows = summarize(records).sort((a, b) =>
    a.kind === b.kind ? (order.get(a.name) ?? 999) - (order.get(b.name) ?? 999) : a.kind === 'lab' ? -1 : 1,
  );
  if (rows.length === 0)
    return ['nothing recorded yet: ts-lab run LAB, ts-lab check LAB or ts-lab grade NAME record here'];
  const lines = [`${'what'.padEnd(32)} ${'best'.padEnd(5)} ${'tries'.padStart(5)}  last attempt`];
  for (const r of rows) {
    const l = r.last;
    const passed = l.checks.filter((c) => c.outcome === 'pass').length;
    const what = `${r.kind === 'lab' ? `lab ${order.has(r.name) ? String(order.get(r.name)).padStart(2) + ' ' : ''}` : 'exercise '}${r.name}`;
    lines.push(
      `${what.padEnd(32)} ${r.best.padEnd(5)} ${String(r.attempts).padStart(5)}  ${l.start.slice(0, 16).replace('T', ' ')} ${l.command} ${l.outcome} ${passed}/${l.checks.length} checks ${minutes(l.durationMs)}`,
    );
  }
  const labsPassed = rows.filter((r) => r.kind === 'lab' && r.best === 'pass').length;
  const exPassed = rows.filter((r) => r.kind === 'exercise' && r.best === 'pass').length;
  lines.push(
    `passed: ${labsPassed} of ${rows.filter((r) => r.kind === 'lab').length} labs tried, ${exPassed} of ${rows.filter((r) => r.kind === 'exercise').length} exercises tried`,
  );
  return lines;
}

function xml(text: string): string {
  return (
    text
      .replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
      // XML 1.0 allows no control characters but tab, newline and carriage return.
      // eslint-disable-next-line no-control-regex
      .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '')
  );
}

/**
 * JUnit XML: one testsuite per lab or exercise (its last attempt), one
 * testcase per check; what CI dashboards and graders' tools read.
 */
export function junit(records: ProgressRecord[]): string {
  const rows = summarize(records);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  const suites: string[] = [];
  for (const { last } of rows) {
    const f = last.checks.filter((c) => c.outcome === 'fail').length;
    const s = last.checks.filter((c) => c.outcome === 'skip').length;
    tests += last.checks.length;
    failures += f;
    skipped += s;
    suites.push(
      `  <testsuite name="${xml(`${last.kind} ${last.name}`)}" tests="${last.checks.length}" failures="${f}" skipped="${s}" timestamp="${xml(last.start)}" time="${(last.durationMs / 1000).toFixed(3)}" hostname="${xml(last.host)}">`,
      `    <properties><property name="user" value="${xml(last.user)}"/><property name="command" value="${xml(last.command)}"/></properties>`,
    );
    for (const c of last.checks) {
      const name = xml(c.step ? `${c.step}: ${c.that}` : c.that);
      const body = c.outcome === 'fail' ? '<failure message="failed"/>' : c.outcome === 'skip' ? '<skipped/>' : '';
      suites.push(
        `    <testcase classname="${xml(`${last.user}.${last.name}`)}" name="${name}"${body ? `>${body}</testcase>` : '/>'}`,
      );
    }
    suites.push('  </testsuite>');
  }
  out.push(
    `<testsuites name="nslab progress" tests="${tests}" failures="${failures}" skipped="${skipped}">`,
    ...suites,
    '</testsuites>',
  );
  return out.join('\n') + '\n';
}

/** The class: one row per student (user@host), one column per lab or exercise, from many progress files. */
export interface ClassTable {
  columns: Array<{ kind: 'lab' | 'exercise'; name: string }>;
  students: Array<{
    student: string;
    files: string[]; /** "lab:ID" or "exercise:ID" -> best outcome. */
    results: Record<string, 'pass' | 'fail' | 'skip'>;
    labsPassed: number;
    exercisesPassed: number;
  }>;
}

export function mergeProgress(
  files: Array<{ file: string; records: ProgressRecord[] }>,
  order: Map<string, number> = new Map(),
): ClassTable {
  const byStudent = new Map<string, { files: Set<string>; records: ProgressRecord[] }>();
  for (const { file, records } of files)
    for (const r of records) {
      const who = `${r.user}@${r.host}`;
      const s = byStudent.get(who) ?? { files: new Set<string>(), records: [] };
      s.files.add(file);
      s.records.push(r);
      byStudent.set(who, s);
    }
  const columns = new Map<string, { kind: 'lab' | 'exercise'; name: string }>();
  const students: ClassTable['students'] = [];
  for (const [student, { files: f, records }] of [...byStudent].sort(([a], [b]) => a.localeCompare(b))) {
    // Files collected twice (or copied) hold the same records: count each once.
    const unique = [...new Map(records.map((r) => [`${r.start} ${r.kind} ${r.name} ${r.command}`, r])).values()].sort(
      (a, b) => a.start.localeCompare(b.start),
    );
    const results: Record<string, 'pass' | 'fail' | 'skip'> = {};
    for (const row of summarize(unique)) {
      columns.set(`${row.kind}:${row.name}`, { kind: row.kind, name: row.name });
      results[`${row.kind}:${row.name}`] = row.best;
    }
    const rows = summarize(unique);
    students.push({
      student,
      files: [...f],
      results,
      labsPassed: rows.filter((r) => r.kind === 'lab' && r.best === 'pass').length,
      exercisesPassed: rows.filter((r) => r.kind === 'exercise' && r.best === 'pass').length,
    });
  }
  const cols = [...columns.values()].sort((a, b) =>
    a.kind === b.kind
      ? (order.get(a.name) ?? 999) - (order.get(b.name) ?? 999) || a.name.localeCompare(b.name)
      : a.kind === 'lab'
        ? -1
        : 1,
  );
  return { columns: cols, students };
}

const MARK = { pass: '✔', fail: '✘', skip: '–' } as const;

/** The class table as lines: a header of column numbers, a legend below. */
export function classTableLines(t: ClassTable, order: Map<string, number> = new Map()): string[] {
  if (t.students.length === 0) return ['no records in these files'];
  // A lab by its number in the series; labs this install does not have (l1, l2, ...) and exercises (e1, e2, ...) by letter.
  const counters = { l: 0, e: 0 };
  const labels = t.columns.map((c) =>
    c.kind === 'lab' && order.has(c.name)
      ? String(order.get(c.name))
      : c.kind === 'lab'
        ? `l${++counters.l}`
        : `e${++counters.e}`,
  );
  const width = Math.max(7, ...t.students.map((s) => s.student.length));
  const lines = [`${'student'.padEnd(width)}  ${labels.map((l) => l.padStart(3)).join('')}  labs  exercises`];
  for (const s of t.students) {
    const cells = t.columns.map((c) => (MARK[s.results[`${c.kind}:${c.name}`]] ?? '·').padStart(3)).join('');
    lines.push(
      `${s.student.padEnd(width)}  ${cells}  ${String(s.labsPassed).padStart(4)}  ${String(s.exercisesPassed).padStart(9)}`,
    );
  }
  lines.push('', `✔ passed (at least once)  ✘ failed  – skipped or incomplete  · not tried`);
  t.columns.forEach((c, i) => lines.push(`${labels[i].padStart(3)}  ${c.kind} ${c.name}`));
  return lines;
}
