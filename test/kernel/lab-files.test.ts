// Lab files: a JSON mistake is reported with its line and column, and
// --labs-dir adds labs and exercises to the built-in ones (an id of a
// built-in one replaces it, and says so). No root needed: list and a lab
// that only echoes.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labIds, tsLab } from '../helpers/lab.js';
import { lineAndColumn } from '../../src/lab/load.js';

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-test-labs-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const mine = {
  id: 'my-own',
  order: 40,
  minutes: 2,
  title: 'My own lab',
  intro: ['Mine.'],
  steps: [{ id: 'hello', explain: 'says hello', run: 'echo hello', checks: [{ that: 'hello', contains: 'hello' }] }],
};
const myUts = {
  ...mine,
  id: 'uts-namespace',
  order: 6,
  title: 'My UTS lab',
  steps: [{ id: 'mine', explain: 'mine', run: 'echo mine', checks: [{ that: 'it is mine', contains: 'mine' }] }],
};
const myExercise = {
  id: 'my-exercise',
  title: 'My exercise',
  task: ['Do.'],
  hints: [],
  grader: [{ that: 'true', probe: { run: 'true' }, exit: 0 }],
};

t.test('line and column of a position', async (t) => {
  t.same(lineAndColumn('{\n  "a": 1\n  "b"', 0), { line: 1, column: 1 });
  t.same(lineAndColumn('{\n  "a": 1\n  "b"', 13), { line: 3, column: 3 });
});

t.test('a lab file with a JSON mistake: file, line and column', async (t) => {
  const dir = dirWith({ 'broken.json': '{\n  "id": "broken",\n  "order": 1\n  "title": "no comma above"\n}\n' });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = tsLab(['list', '--labs-dir', dir]);
  t.equal(r.code, 1);
  t.match(
    r.stderr,
    new RegExp(`^ts-lab: ${join(dir, 'broken.json')}:4:3: not valid JSON \\(line 4, column 3\\): \\S`, 'm'),
    'line 4, column 3: where "title" starts',
  );
  t.notMatch(r.stderr, /position \d+/, 'no bare character position');

  const ex = dirWith({ 'exercises/bad.json': '{\n  "id": "bad",\n' });
  t.teardown(() => rmSync(ex, { recursive: true, force: true }));
  t.match(
    tsLab(['list', '--labs-dir', ex]).stderr,
    /exercises\/bad\.json:3:1: not valid JSON \(line 3, column 1\)/,
    'an exercise file too',
  );
});

t.test('--labs-dir adds to the built-in labs; the same id replaces one, and says so', async (t) => {
  const dir = dirWith({
    'my-own.json': JSON.stringify(mine),
    'uts.json': JSON.stringify(myUts),
    'exercises/my-exercise.json': JSON.stringify(myExercise),
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = tsLab(['list', '--labs-dir', dir]);
  t.equal(r.code, 0, r.stderr);
  for (const id of labIds()) t.match(r.stdout, new RegExp(` ${id} `), `built-in ${id} is still listed`);
  t.match(r.stdout, /^40 {3}my-own +2 min {2}My own lab$/m, 'mine is added, in its place in the order');
  t.match(
    r.stdout,
    /^ 6 \* uts-namespace +2 min {2}My UTS lab$|^ 6 {3}uts-namespace +2 min {2}My UTS lab$/m,
    'the same id: mine replaces the built-in one',
  );
  t.equal(r.stdout.match(/ uts-namespace /g)?.length, 1, 'listed once');
  t.match(
    r.stderr,
    new RegExp(`^ts-lab: note: lab uts-namespace is ${join(dir, 'uts.json')}, in place of the built-in one$`, 'm'),
    'and it says so',
  );
  t.match(r.stdout, /^ {4}my-exercise +My exercise$/m, 'exercises are added too');
  t.match(r.stdout, /^ {4}pids-limit /m, 'next to the built-in ones');

  const run = tsLab(['check', '--no-sandbox', '--labs-dir', dir, 'uts-namespace'], { extraEnv: { CI: '' } });
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /^ {2}ok {5}mine: it is mine$/m, 'check runs the replacement');

  const exOnly = dirWith({ 'exercises/my-exercise.json': JSON.stringify(myExercise) });
  t.teardown(() => rmSync(exOnly, { recursive: true, force: true }));
  t.equal(tsLab(['grade', '--labs-dir', exOnly, 'my-exercise']).code, 0, 'a directory of exercises only is enough');
});
