// ts-lab's command line: one command table (help, operands, options per
// command), green only when something was checked, and the wording of
// counts and skips. Labs that run anything run in the sandbox.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, needRoot } from '../helpers/tools.js';
import { tsLab } from '../helpers/lab.js';

/** A labs directory holding these labs (as JSON files). */
function labsDirWith(labs: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-test-labs-'));
  for (const [file, lab] of Object.entries(labs)) writeFileSync(join(dir, file), JSON.stringify(lab, null, 2));
  return dir;
}

/** A harmless lab: its steps only echo, one step needs a binary no machine has. */
const tinyLab = (needs?: unknown, stepNeeds?: unknown) => ({
  id: 'tiny',
  order: 1,
  title: 'Tiny',
  intro: ['A lab for tests.'],
  ...(needs ? { needs } : {}),
  steps: [
    { id: 'hello', explain: 'says hello', run: 'echo hello', checks: [{ that: 'it says hello', contains: 'hello' }] },
    {
      id: 'other',
      explain: 'needs something',
      run: 'echo other',
      ...(stepNeeds ? { needs: stepNeeds } : {}),
      checks: [{ that: 'it says other', contains: 'other' }],
    },
  ],
});

t.test('zero labs is an error, never a pass', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'nslab-test-empty-'));
  const file = join(empty, 'a-file');
  writeFileSync(file, 'not a directory\n');
  t.teardown(() => rmSync(empty, { recursive: true, force: true }));
  const missing = tsLab(['check', '--labs-dir', join(empty, 'nonexistent'), '--all']);
  t.equal(missing.code, 1, 'a missing labs directory fails');
  t.match(missing.stderr, /^ts-lab: no labs in \S+\/nonexistent: it does not exist$/m);
  t.match(missing.stderr, /^ts-lab: hint: --labs-dir \(or NSLAB_LABS_DIR\) names a directory of lab files/m);
  const none = tsLab(['list', '--labs-dir', empty]);
  t.equal(none.code, 1, 'a directory without lab files fails');
  t.match(none.stderr, /no labs in \S+: it has no lab files \(\*\.json\)/);
  const notDir = tsLab(['list', '--labs-dir', file]);
  t.equal(notDir.code, 1);
  t.match(notDir.stderr, /no labs in \S+\/a-file: it is not a directory/);
  t.notMatch(notDir.stderr, /ENOTDIR|scandir/, 'no raw errno text');
});

t.test('a skipped lab or step is not green unless --allow-skips', { skip: needRoot() }, async (t) => {
  // A step that needs a binary no machine has: the run is incomplete.
  const dir = labsDirWith({ 'tiny.json': tinyLab(undefined, { binaries: ['nslab-no-such-binary'] }) });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const partial = tsLab(['check', '--sandbox', '--labs-dir', dir, 'tiny']);
  t.equal(partial.code, 2, 'exit 2: not everything was checked');
  t.match(partial.stdout, /^result tiny skip \(1 passed, 0 failed, 1 skipped\)$/m);
  t.match(partial.stderr, /^ts-lab: not everything was checked: 1 lab skipped or incomplete \(tiny\)$/m);
  t.match(partial.stderr, /--allow-skips exits 0 anyway/);
  const allowed = tsLab(['check', '--sandbox', '--allow-skips', '--labs-dir', dir, 'tiny']);
  t.equal(allowed.code, 0, 'accepted with --allow-skips');
  t.equal(allowed.stderr, '');
});

t.test('as nobody, a lab that needs root is skipped and the run is not green', async (t) => {
  if (isRoot()) {
    // The real lab of the report: uts-namespace needs root, so nobody gets a skip before any step runs.
    const r = tsLab(['check', '--no-sandbox', 'uts-namespace'], { as: 'nobody' });
    t.equal(r.code, 2, 'exit 2, not 0');
    t.match(
      r.stdout,
      /^result uts-namespace skip \(needs root: run it with sudo\)$/m,
      'the skip says why, not "0 passed, 0 failed, 0 skipped"',
    );
    t.match(
      r.stdout,
      /^summary: 1 lab: 0 passed, 0 failed, 1 skipped; checks: 0 passed, 0 failed, 0 skipped$/m,
      '"1 lab", not "1 labs"',
    );
    t.match(r.stderr, /^ts-lab: nothing was checked: 1 lab skipped or incomplete \(uts-namespace\)$/m);
    const allowed = tsLab(['check', '--no-sandbox', '--allow-skips', 'uts-namespace'], { as: 'nobody' });
    t.equal(allowed.code, 0, '--allow-skips accepts it');
  } else {
    const r = tsLab(['check', '--no-sandbox', 'uts-namespace']);
    t.equal(r.code, 2, 'not root here: skipped, exit 2');
  }
});

t.test('extra operands and options that do not belong are refused', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['doctor', 'extra'], /^ts-lab: ts-lab doctor takes no operands; 'extra' is extra \(usage: ts-lab doctor\)$/m],
    [['list', 'x'], /ts-lab list takes no operands; 'x' is extra/],
    [['run', 'uts-namespace', 'pid-namespace'], /ts-lab run takes one operand; 'pid-namespace' is extra/],
    [['grade', 'bridge', 'more'], /ts-lab grade takes one operand; 'more' is extra/],
    [['check', '--tap', '--json', 'uts-namespace'], /--tap and --json cannot go together/],
    [['check', '--sandbox', '--no-sandbox', 'uts-namespace'], /--sandbox and --no-sandbox cannot go together/],
    [['check', '--all', 'uts-namespace'], /give lab names or --all, not both/],
    [['list', '--tap'], /ts-lab list does not take --tap/],
    [['doctor', '--sandbox'], /ts-lab doctor does not take --sandbox/],
    [['exercise', 'bridge', '--json'], /ts-lab exercise does not take --json/],
    [['grade'], /ts-lab grade needs an exercise name/],
    [['run'], /ts-lab run needs a lab name/],
    [['draw'], /ts-lab draw needs what to draw \(processes, cgroups, network, pod\)/],
    [['draw', 'cgroups', '--depth', 'x'], /--depth takes a whole number, not 'x'/],
    [['report', 'uts-namespace'], /ts-lab report needs --html FILE/],
    [[], /no command given \(list, run, check, exercise, shell, grade, reset, progress, doctor, draw, report\)/],
  ];
  for (const [args, message] of cases) {
    const r = tsLab(args);
    t.equal(r.code, 1, `ts-lab ${args.join(' ')}: exit 1`);
    t.match(r.stderr, message, `ts-lab ${args.join(' ')}: says why`);
    t.match(r.stderr, /Try 'ts-lab --help'/);
    t.equal(r.stdout, '', 'and does nothing');
  }
});

t.test('--hint takes a count', async (t) => {
  for (const bad of ['-1', '1.5', 'abc', '']) {
    const r = tsLab(['exercise', 'bridge', `--hint=${bad}`]);
    t.equal(r.code, 1, `--hint=${bad} is refused`);
    t.match(
      r.stderr,
      bad === ''
        ? /requires an argument|--hint takes how many hints/
        : new RegExp(`--hint takes how many hints to show \\(0, 1, 2, \\.\\.\\.\\), not '${bad.replace('.', '\\.')}'`),
    );
  }
  const one = tsLab(['exercise', 'bridge', '--hint', '1']);
  t.equal(one.code, 0);
  t.match(one.stdout, /^hint 1: /m);
  t.notMatch(one.stdout, /^hint 2: /m);
  t.match(one.stdout, /\(3 more hints: ts-lab exercise bridge --hint 2\)/);
  const three = tsLab(['exercise', 'bridge', '--hint', '3']);
  t.match(three.stdout, /\(1 more hint: ts-lab exercise bridge --hint 4\)/, '"1 more hint", not "1 more hints"');
  const all = tsLab(['exercise', 'bridge', '--hint', '99']);
  t.equal(all.code, 0, 'more than there are shows them all');
  t.notMatch(all.stdout, /more hint/);
  t.match(all.stdout, /sudo ts-lab shell --sandbox/, 'the exercise points to the sandbox shell');
  t.match(all.stdout, /sudo ts-lab grade --sandbox bridge/);
});

t.test('--help lists every command of the table', async (t) => {
  const r = tsLab(['--help']);
  t.equal(r.code, 0);
  for (const c of [
    'list',
    'run LAB \\[--from STEP\\]',
    'progress \\[--merge FILE\\.\\.\\.\\]',
    'check --all \\| LAB\\.\\.\\.',
    'exercise \\[NAME\\]',
    'shell --sandbox',
    'grade \\[--sandbox\\] NAME',
    'reset',
    'doctor',
  ])
    t.match(r.stdout, new RegExp(`^\\s*${c}\\s{2,}\\S`, 'm'), c);
  t.match(r.stdout, /--allow-skips/);
});

t.test(
  'as root, a lab that needs the sandbox takes check into one; --no-sandbox keeps the skip',
  { skip: needRoot() },
  async (t) => {
    const dir = labsDirWith({ 'tiny.json': tinyLab({ root: true, sandbox: true }) });
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const r = tsLab(['check', '--labs-dir', dir, 'tiny'], { extraEnv: { CI: '' } });
    t.equal(r.code, 0, r.stdout + r.stderr);
    t.match(r.stdout, /^sandbox: /m, 'it says it runs in the sandbox');
    t.match(r.stdout, /^result tiny pass/m, 'and the lab runs');
    const kept = tsLab(['check', '--no-sandbox', '--labs-dir', dir, 'tiny'], { extraEnv: { CI: '' } });
    t.match(
      kept.stdout,
      /^result tiny skip \(runs only in the sandbox/m,
      'with --no-sandbox it is skipped, with how to run it',
    );
  },
);
