// Finding one's way: every lab states its minutes and a recap, ts-lab list
// shows the two-hour path, run --from starts at a later step (the steps
// before it run first, so their state is there), b at the prompt shows the
// step before again, the first step suggests --trace, the end recaps.
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { TmuxSession } from '../helpers/pty.js';
import { ROOT, tool } from '../helpers/tools.js';
import { tsLab } from '../helpers/lab.js';

const noTmux = spawnSync('tmux', ['-V']).status === 0 ? false : 'needs tmux (apt-get install tmux)';

/** Three steps: the first leaves a file that the third reads, so --from 3 needs step 1 to have run. */
const threeSteps = {
  id: 'three',
  order: 1,
  minutes: 3,
  title: 'Three steps',
  intro: ['A lab for tests.'],
  recap: { built: 'a file called note', syscalls: ['openat(2)', 'write(2)'], next: 'cat note' },
  steps: [
    {
      id: 'first',
      explain: 'writes a note',
      run: 'echo one > note && echo wrote-one',
      checks: [{ that: 'it wrote', contains: 'wrote-one' }],
    },
    {
      id: 'second',
      explain: 'says two',
      run: 'echo said-two',
      checks: [{ that: 'it said two', contains: 'said-two' }],
    },
    {
      id: 'third',
      explain: 'reads the note',
      run: 'cat note',
      checks: [{ that: 'the note from step 1 is there', contains: 'one' }],
    },
  ],
};

function labsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-test-labs-'));
  writeFileSync(join(dir, 'three.json'), JSON.stringify(threeSteps));
  return dir;
}

t.test('every lab states its minutes and a recap; list shows the two-hour path', async (t) => {
  const labs = readdirSync(join(ROOT, 'labs'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(ROOT, 'labs', f), 'utf8')));
  for (const l of labs) {
    t.ok(Number.isInteger(l.minutes) && l.minutes > 0, `${l.id}: minutes`);
    t.ok(
      l.recap?.built && l.recap.syscalls?.length && l.recap.next,
      `${l.id}: a recap with what was built, the system calls and what to try next`,
    );
  }
  const path = labs.filter((l) => l.core);
  const total = path.reduce((s, l) => s + l.minutes, 0);
  t.ok(path.length > 0 && total <= 120, `the two-hour path fits in two hours (${total} min)`);
  const r = tsLab(['list']);
  t.equal(r.code, 0);
  for (const l of labs)
    t.match(
      r.stdout,
      new RegExp(`^\\s*${l.order} ${l.core ? '\\*' : ' '} ${l.id}\\s+${l.minutes} min  `, 'm'),
      `${l.id}: its minutes, its mark`,
    );
  t.match(
    r.stdout,
    new RegExp(
      `^\\* a two-hour class \\(120 min\\): labs ${path
        .sort((a, b) => a.order - b.order)
        .map((l) => l.order)
        .join(', ')} take ${total} min`,
      'm',
    ),
  );
});

t.test('run --from: the steps before run first, without being shown', async (t) => {
  const dir = labsDir();
  const state = mkdtempSync(join(tmpdir(), 'nslab-test-progress-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.teardown(() => rmSync(state, { recursive: true, force: true }));
  const env = { NSLAB_LABS_DIR: dir, NSLAB_PROGRESS_FILE: join(state, 'p.jsonl') };
  const r = tsLab(['run', 'three', '--from', 'third'], { extraEnv: env });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^ {2}steps 1-2 run without pauses to get here: all passed$/m, 'says what ran to get there');
  t.notMatch(r.stdout, /step 1 first|step 2 second|\| wrote-one|\| said-two/, 'the earlier steps are not shown');
  t.match(r.stdout, /^ {2}step 3 third\n/m);
  t.match(r.stdout, /^ {2}ok {5}third: the note from step 1 is there$/m, "step 1's state is there");
  t.match(r.stdout, /^result three pass \(3 passed, 0 failed, 0 skipped\)$/m, 'the earlier checks still count');
  const record = JSON.parse(readFileSync(join(state, 'p.jsonl'), 'utf8').trim());
  t.equal(record.from, 'third', 'the progress record says where the run started');

  t.match(
    tsLab(['run', 'three', '--from', '2'], { extraEnv: env }).stdout,
    /^ {2}step 1 run without pauses to get here: all passed\n(.*\n)* {2}step 2 second$/m,
    'a step by its number',
  );
  const bad = tsLab(['run', 'three', '--from', 'fourth'], { extraEnv: env });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^ts-lab: lab three has no step 'fourth' \(its steps: 1 first, 2 second, 3 third\)$/m);
  t.equal(tsLab(['check', 'three', '--from', '2'], { extraEnv: env }).code, 1, 'check does not take --from');
});

t.test('the first step suggests --trace, the end recaps', async (t) => {
  const dir = labsDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = tsLab(['run', 'three'], { extraEnv: { NSLAB_LABS_DIR: dir } });
  t.equal(r.code, 0, r.stderr);
  // Wrapped at 100 columns: compared with the lines joined.
  t.match(
    r.stdout.replace(/\s+/g, ' '),
    / Tip: ts-lab run three --trace runs the same lab with every ts-\* tool printing the system calls it makes\. step 1 first /,
    'the tip, at the first step',
  );
  t.equal(r.stdout.match(/Tip:/g)?.length, 1, 'once');
  t.match(
    r.stdout,
    /^ {2}What you built: a file called note\n {2}System calls that did it: openat\(2\), write\(2\)\n {2}Try next: cat note\nresult three pass/m,
    'the recap closes the lab',
  );
  t.notMatch(
    tsLab(['run', 'three', '--trace'], { extraEnv: { NSLAB_LABS_DIR: dir } }).stdout,
    /Tip:/,
    'no tip when tracing already',
  );
  t.notMatch(
    tsLab(['check', 'three'], { extraEnv: { NSLAB_LABS_DIR: dir } }).stdout,
    /Tip:|What you built/,
    'check stays terse',
  );
});

t.test('b at the prompt shows the step before again, without running it', { skip: noTmux }, async (t) => {
  const dir = labsDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const term = new TmuxSession(`sh -c 'env -u NODE_OPTIONS ${tool('lab')} run three; echo "[exit status $?]"'`, {
    width: 120,
    height: 60,
    env: { NSLAB_LABS_DIR: dir, NSLAB_PROGRESS_FILE: 'off' },
  });
  t.teardown(() => term.kill());
  const prompt = (s: string, n: number) => s.includes(`Step ${n}/3`) && s.trimEnd().endsWith('Ctrl-C to stop)');
  const first = await term.waitFor((s) => prompt(s, 1));
  t.match(first, /Tip: ts-lab run three --trace/, 'the tip at the first step');
  t.match(first, /Enter to run it, b to see the step before again, Ctrl-C to stop/, 'the prompt says b');
  term.type('b');
  term.send('Enter');
  await term.waitFor((s) => s.includes('no earlier step to show'));
  term.send('Enter');
  await term.waitFor((s) => prompt(s, 2));
  term.type('b');
  term.send('Enter');
  const back = await term.waitFor(
    (s) => s.includes('end of the earlier step') && s.trimEnd().endsWith('Ctrl-C to stop)'),
  );
  t.match(
    back,
    /── back: step 1 first, as it ran \(not run again\) ──\nwrites a note\n.*\$ echo one > note && echo wrote-one\n.*│ wrote-one\n.*✔ it wrote\n── end of the earlier step ──/,
    'step 1 again: explanation, command, output and checks',
  );
  term.send('Enter');
  await term.waitFor((s) => prompt(s, 3));
  term.type('b');
  term.send('Enter');
  term.type('b');
  term.send('Enter');
  const twice = await term.waitFor(
    (s) => (s.match(/end of the earlier step/g) ?? []).length >= 3 && s.trimEnd().endsWith('Ctrl-C to stop)'),
  );
  t.match(twice, /back: step 2 second[\s\S]*back: step 1 first/, 'b again goes one further back');
  term.send('Enter');
  const end = await term.waitFor((s) => /\[exit status \d+\]/.test(s));
  t.match(end, /Lab 1 passed: 3 checks passed, 0 failed, 0 skipped\./, 'nothing was run twice: the lab passes');
  t.equal(
    (end.match(/│ wrote-one/g) ?? []).length,
    3,
    'wrote-one: printed by the run, then shown twice (not run again)',
  );
  t.match(end, /── Recap ──\nWhat you built: a file called note/, 'the recap');
  t.match(end, /\[exit status 0\]/);
});
