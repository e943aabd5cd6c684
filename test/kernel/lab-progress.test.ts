// Progress: each check and grade leaves one JSON line in the student's file
// (user, host, lab, every check, start, duration); ts-lab progress shows it,
// exports it as JSON and JUnit, and merges many students' files into the
// instructor's class table.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { needRoot } from '../helpers/tools.js';
import { tsLab } from '../helpers/lab.js';
import { progressFile, realUser, recordProgress, ProgressRecord } from '../../src/lab/progress.js';

function labsDirWith(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-test-labs-'));
  for (const [file, content] of Object.entries(files)) {
    const path = join(dir, file);
    if (file.includes('/'))
      (process.getBuiltinModule('node:fs') as typeof import('node:fs')).mkdirSync(join(path, '..'), {
        recursive: true,
      });
    writeFileSync(path, JSON.stringify(content, null, 2));
  }
  return dir;
}

const tiny = {
  id: 'tiny-progress',
  order: 91,
  title: 'Tiny',
  intro: ['A lab for tests.'],
  steps: [
    { id: 'hello', explain: 'says hello', run: 'echo hello', checks: [{ that: 'it says hello', contains: 'hello' }] },
    {
      id: 'wrong',
      explain: 'a check that fails',
      run: 'echo bye',
      checks: [{ that: 'it says hello', contains: 'hello' }],
    },
  ],
};
const passing = { ...tiny, id: 'tiny-passing', order: 92, steps: [tiny.steps[0]] };
const exercise = {
  id: 'tiny-exercise',
  title: 'Tiny exercise',
  task: ['Nothing.'],
  hints: ['none'],
  grader: [{ that: 'true holds', probe: { run: 'true' }, exit: 0 }],
};

/** The lines of a progress file, parsed. */
function records(file: string): ProgressRecord[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

t.test('check and grade are recorded, one line each', { skip: needRoot() }, async (t) => {
  const dir = labsDirWith({ 'tiny.json': tiny, 'passing.json': passing, 'exercises/tiny-exercise.json': exercise });
  const state = mkdtempSync(join(tmpdir(), 'nslab-test-progress-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.teardown(() => rmSync(state, { recursive: true, force: true }));
  const file = join(state, 'progress.jsonl');
  const env = { NSLAB_LABS_DIR: dir, NSLAB_PROGRESS_FILE: file };

  const before = Date.now();
  t.equal(tsLab(['check', '--sandbox', 'tiny-progress', 'tiny-passing'], { extraEnv: env }).code, 1, 'one lab fails');
  t.equal(tsLab(['grade', 'tiny-exercise'], { extraEnv: env }).code, 0, 'the exercise passes');
  const after = Date.now();

  const [failed, ok, graded] = records(file);
  t.equal(records(file).length, 3, 'two labs and one grade: three lines');
  t.match(failed, {
    v: 1,
    user: realUser().name,
    host: hostname(),
    kind: 'lab',
    name: 'tiny-progress',
    command: 'check',
    outcome: 'fail',
    sandboxed: true,
  });
  t.same(
    failed.checks,
    [
      { step: 'hello', that: 'it says hello', outcome: 'pass' },
      { step: 'wrong', that: 'it says hello', outcome: 'fail' },
      { that: 'leaves nothing behind', outcome: 'pass' },
    ],
    "each check's result, by step, and the leftover check",
  );
  const start = Date.parse(failed.start);
  t.ok(start >= before - 1000 && start <= after, 'the start time is when it ran');
  t.ok(failed.durationMs >= 0 && start + failed.durationMs <= after + 1000, 'the duration fits inside the run');
  t.match(ok, { kind: 'lab', name: 'tiny-passing', outcome: 'pass' });
  t.match(graded, {
    kind: 'exercise',
    name: 'tiny-exercise',
    command: 'grade',
    outcome: 'pass',
    checks: [{ that: 'true holds', outcome: 'pass' }],
  });

  const table = tsLab(['progress'], { extraEnv: env });
  t.equal(table.code, 0);
  t.match(table.stdout, new RegExp(`^progress of ${realUser().name} \\(${file}\\):$`, 'm'));
  t.match(
    table.stdout,
    /^lab 91 tiny-progress\s+fail\s+1 .* check fail 2\/3 checks/m,
    'the failed lab, with its last attempt',
  );
  t.match(table.stdout, /^lab 92 tiny-passing\s+pass\s+1 /m);
  t.match(table.stdout, /^exercise tiny-exercise\s+pass\s+1 .* grade pass 1\/1 checks/m);
  t.match(table.stdout, /^passed: 1 of 2 labs tried, 1 of 1 exercises tried$/m);

  // A second attempt that passes: best is pass, two tries.
  writeFileSync(join(dir, 'tiny.json'), JSON.stringify({ ...tiny, steps: [tiny.steps[0]] }));
  t.equal(tsLab(['check', '--sandbox', 'tiny-progress'], { extraEnv: env }).code, 0);
  t.match(
    tsLab(['progress'], { extraEnv: env }).stdout,
    /^lab 91 tiny-progress\s+pass\s+2 /m,
    'a pass counts, whatever came before',
  );

  const json = JSON.parse(tsLab(['progress', '--json'], { extraEnv: env }).stdout);
  t.equal(json.file, file);
  t.equal(json.records.length, 4, '--json: every record');
  t.match(json.rows, [
    { name: 'tiny-progress', best: 'pass', attempts: 2 },
    { name: 'tiny-passing' },
    { name: 'tiny-exercise', kind: 'exercise' },
  ]);

  const xml = tsLab(['progress', '--junit'], { extraEnv: env }).stdout;
  t.match(
    xml,
    /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="nslab progress" tests="5" failures="0" skipped="0">/,
    '--junit: the last attempt of each: 2 + 2 + 1 checks',
  );
  t.equal(xml.match(/<testsuite /g)?.length, 3, 'one testsuite per lab or exercise');
  t.match(
    xml,
    /<testsuite name="lab tiny-progress" tests="2" failures="0" skipped="0" timestamp="[^"]+" time="\d+\.\d{3}" hostname="[^"]+">/,
  );
  t.match(xml, /<testcase classname="[^"]+\.tiny-progress" name="hello: it says hello"\/>/);
  t.equal(xml.match(/<testsuite /g)?.length, xml.match(/<\/testsuite>/g)?.length, 'every testsuite is closed');

  t.equal(tsLab(['progress', '--json', '--junit'], { extraEnv: env }).code, 1, '--json and --junit cannot go together');
  t.equal(tsLab(['progress', 'some-file'], { extraEnv: env }).code, 1, 'files without --merge are refused');
});

t.test('merge: the class table, students x labs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-test-progress-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rec = (
    user: string,
    host: string,
    kind: 'lab' | 'exercise',
    name: string,
    outcome: 'pass' | 'fail' | 'skip',
    start: string,
  ): ProgressRecord => ({
    v: 1,
    user,
    host,
    kind,
    name,
    command: kind === 'lab' ? 'run' : 'grade',
    outcome,
    start,
    durationMs: 60_000,
    sandboxed: false,
    checks: [{ that: 'something', outcome }],
  });
  const ann = [
    rec('ann', 'vm01', 'lab', 'chroot-by-hand', 'fail', '2026-01-05T09:00:00Z'),
    rec('ann', 'vm01', 'lab', 'chroot-by-hand', 'pass', '2026-01-05T09:10:00Z'),
    rec('ann', 'vm01', 'exercise', 'pids-limit', 'fail', '2026-01-05T10:00:00Z'),
  ];
  const bob = [
    rec('bob', 'vm02', 'lab', 'chroot-by-hand', 'fail', '2026-01-05T09:05:00Z'),
    rec('bob', 'vm02', 'lab', 'uts-namespace', 'pass', '2026-01-05T09:30:00Z'),
    rec('bob', 'vm02', 'lab', 'teachers-own', 'pass', '2026-01-05T09:40:00Z'),
  ];
  const files = [join(dir, 'vm01.jsonl'), join(dir, 'vm02.jsonl'), join(dir, 'vm01-again.jsonl')];
  writeFileSync(files[0], ann.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(files[1], bob.map((r) => JSON.stringify(r)).join('\n') + '\n');
  // The same file collected twice counts once.
  writeFileSync(files[2], ann.map((r) => JSON.stringify(r)).join('\n') + '\n');

  const r = tsLab(['progress', '--merge', ...files]);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  t.match(
    lines[0],
    /^student\s+1\s+6\s+l1\s+e1\s+labs\s+exercises$/,
    'columns: lab 1, lab 6 in series order, a lab this install lacks, then the exercise',
  );
  t.match(
    lines[1],
    /^ann@vm01\s+✔\s+·\s+·\s+✘\s+1\s+0$/,
    'ann: lab 1 passed on the second try, lab 6 not tried, the exercise failed',
  );
  t.match(lines[2], /^bob@vm02\s+✘\s+✔\s+✔\s+·\s+2\s+0$/);
  t.match(r.stdout, /^ l1 {2}lab teachers-own$/m);
  t.match(r.stdout, /^ {2}1 {2}lab chroot-by-hand$/m, 'a legend names each column');
  t.match(r.stdout, /^ e1 {2}exercise pids-limit$/m);

  const json = JSON.parse(tsLab(['progress', '--merge', '--json', ...files]).stdout);
  t.same(
    json.students.map((s: { student: string }) => s.student),
    ['ann@vm01', 'bob@vm02'],
  );
  t.same(json.students[0].results, { 'lab:chroot-by-hand': 'pass', 'exercise:pids-limit': 'fail' });
  t.same(json.students[0].files, [files[0], files[2]], 'the files each student came from');

  writeFileSync(join(dir, 'bad.jsonl'), JSON.stringify(ann[0]) + '\n{"v":1,\n');
  const bad = tsLab(['progress', '--merge', files[0], join(dir, 'bad.jsonl')]);
  t.equal(bad.code, 1);
  t.match(
    bad.stderr,
    new RegExp(`^ts-lab: ${join(dir, 'bad.jsonl')} line 2: not JSON`, 'm'),
    'a broken file is named, with its line',
  );
  const missing = tsLab(['progress', '--merge', join(dir, 'nonexistent.jsonl')]);
  t.match(missing.stderr, /nonexistent\.jsonl: no such file/);
  t.equal(tsLab(['progress', '--merge']).code, 1, '--merge without files is refused');
});

// nobody stands for the student: an account every machine has.
const nobody = readFileSync('/etc/passwd', 'utf8')
  .split('\n')
  .find((l) => l.startsWith('nobody:'));

t.test(
  "under sudo the file is the real user's, and theirs",
  { skip: needRoot() || (nobody ? false : 'no user nobody in /etc/passwd') },
  async (t) => {
    const [, , uid, gid, , home] = nobody!.split(':');
    t.equal(
      progressFile({ SUDO_USER: 'nobody' }),
      join(home, '.local/state/nslab/progress.jsonl'),
      "the default is in the sudo user's home",
    );
    t.equal(progressFile({ SUDO_USER: 'nobody', NSLAB_PROGRESS_FILE: 'off' }), undefined, 'off records nothing');

    const dir = mkdtempSync(join(tmpdir(), 'nslab-test-progress-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'state', 'nslab', 'progress.jsonl');
    const r = recordProgress(
      {
        v: 1,
        user: 'nobody',
        host: hostname(),
        kind: 'lab',
        name: 'x',
        command: 'run',
        outcome: 'pass',
        start: new Date().toISOString(),
        durationMs: 1,
        sandboxed: false,
        checks: [],
      },
      { SUDO_USER: 'nobody', NSLAB_PROGRESS_FILE: file },
    );
    t.same(r, { file });
    for (const p of [join(dir, 'state'), join(dir, 'state', 'nslab'), file])
      t.match(statSync(p), { uid: Number(uid), gid: Number(gid) }, `${p} belongs to the student`);
    t.equal(statSync(dir).uid, 0, 'what existed before is left as it was');
  },
);
