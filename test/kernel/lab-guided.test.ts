// ts-lab run on a real terminal (tmux): the guided tour of the PID lab,
// Enter by Enter, to the end; and Ctrl-C in the middle of a lab, which must
// still clean up.
import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { TmuxSession } from '../helpers/pty.js';
import { needRoot, tool } from '../helpers/tools.js';
import { labInventory, leftSince } from '../helpers/lab.js';

const noTmux = spawnSync('tmux', ['-V']).status === 0 ? false : 'needs tmux (apt-get install tmux)';

function lastLine(screen: string): string {
  const lines = screen.split('\n').filter((l) => l.trim());
  return lines[lines.length - 1] ?? '';
}

/**
 * The command line for tmux, without tap's NODE_OPTIONS. The exit status is
 * printed on the screen: tmux 3.3a does not always report #{pane_dead_status}.
 */
function inTerminal(args: string): string {
  // trap : INT keeps the shell alive through Ctrl-C (a trap, unlike an ignore, is not inherited).
  return `sh -c 'trap : INT; env -u NODE_OPTIONS NSLAB_PROGRESS_FILE=off ${tool('lab')} ${args}; echo "[exit status $?]"'`;
}

function exitStatus(screen: string): number | undefined {
  const m = /\[exit status (\d+)\]/.exec(screen);
  return m ? Number(m[1]) : undefined;
}

t.test('ts-lab run --sandbox pid-namespace, guided to the end', { skip: needRoot() || noTmux }, async (t) => {
  const before = labInventory();
  const term = new TmuxSession(inTerminal('run --sandbox pid-namespace'), { width: 120, height: 50 });
  t.teardown(() => term.kill());
  const lab = JSON.parse(readFileSync(new URL('../../labs/08-pid-namespace.json', import.meta.url), 'utf8'));
  const total = lab.steps.length;
  const first = await term.waitFor((s) => s.includes('Lab 8: PID namespace'));
  t.match(first, /sandbox: this runs in a throwaway network, mount and UTS namespace/, 'the sandbox is announced');
  for (let i = 1; i <= total; i++) {
    const screen = await term.waitFor(
      (s) => s.includes(`Step ${i}/${total}`) && lastLine(s).includes('Enter to run it'),
    );
    t.match(
      screen,
      new RegExp(`Step ${i}/${total} [●○]+ ${lab.steps[i - 1].id}`),
      `step ${i} is announced with its progress`,
    );
    if (!lab.steps[i - 1].in) t.match(screen, /\[host, sandboxed\] \$ /, `step ${i} runs on the sandbox's host`);
    term.send('Enter');
  }
  const end = await term.waitFor((s) => /Lab 8 (passed|failed|skipped|incomplete)/.test(s), 60_000);
  t.match(end, /Lab 8 passed: \d+ checks passed, 0 failed, 0 skipped\./, 'the lab passed');
  t.notMatch(end, /\b1 checks\b/);
  t.notMatch(end, /✘/, 'no check failed');
  t.match(end, /✔ the sleep died with its PID 1/, 'the last check is shown with its mark');
  t.equal(exitStatus(await term.waitFor((s) => exitStatus(s) !== undefined)), 0, 'exit status 0');
  t.same(await leftSince(before), {}, 'nothing left');
});

t.test('Ctrl-C in the middle of a lab cleans up', { skip: needRoot() || noTmux }, async (t) => {
  const before = labInventory();
  const term = new TmuxSession(inTerminal('run mount-namespace'), { width: 120, height: 50 });
  t.teardown(() => term.kill());
  // Run step 1 (it opens the session 'box'), then stop at step 2's prompt.
  await term.waitFor((s) => s.includes('Step 1/') && lastLine(s).includes('Enter to run it'));
  term.send('Enter');
  await term.waitFor((s) => s.includes('Step 2/') && lastLine(s).includes('Enter to run it'));
  const during = labInventory();
  t.ok(during.processes.length > 0, 'the session is running');
  t.equal(during.labDirs.length, before.labDirs.length + 1, 'the lab has its directory');
  term.send('C-c');
  const screen = await term.waitFor((s) => exitStatus(s) !== undefined);
  t.match(screen, /interrupted: cleaning up/);
  t.notMatch(
    screen.slice(screen.indexOf('interrupted: cleaning up')),
    /✘|✔/,
    'no check is reported after the interruption',
  );
  t.equal(exitStatus(screen), 130, 'exit status 130, like a shell after SIGINT');
  t.same(await leftSince(before), {}, 'the session and the lab directory are gone');
  t.ok(
    readdirSync('/tmp').every((n) => !existsSync(`/tmp/${n}/scratch`) || !n.startsWith('nslab-mount-namespace-')),
    'no scratch directory of this lab remains',
  );
});

t.test('without a terminal, ts-lab run prints plain text and does not wait', { skip: needRoot() }, async (t) => {
  const r = spawnSync(tool('lab'), ['run', 'uts-namespace'], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', NSLAB_PROGRESS_FILE: 'off' },
    input: '',
  });
  t.equal(r.status, 0, r.stderr);
  // eslint-disable-next-line no-control-regex -- the ESC that starts a colour code is what is looked for
  t.notMatch(r.stdout, /\x1b\[/, 'no colour codes');
  t.match(r.stdout, /^ {4}\[box\] \$ hostname lab-container && hostname$/m, 'commands are shown with where they run');
  t.match(r.stdout, /^ {4}\[host\] \$ /m, 'not sandboxed: [host]');
  t.notMatch(r.stdout, /sandbox/, 'and no sandbox banner');
  t.match(r.stdout, /^ {4}\| lab-container$/m, 'outputs are shown');
  t.match(r.stdout, /^result uts-namespace pass/m);
});

t.test('a lab skipped as a whole says why, not "0 checks passed"', { skip: needRoot() || noTmux }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-test-labs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lab = {
    id: 'tiny',
    order: 1,
    title: 'Tiny',
    intro: ['x'],
    needs: { binaries: ['nslab-no-such-binary'] },
    steps: [{ id: 'a', explain: 'e', run: 'true', checks: [{ that: 'c', exit: 0 }] }],
  };
  writeFileSync(join(dir, 'tiny.json'), JSON.stringify(lab));
  const term = new TmuxSession(inTerminal(`run --sandbox --labs-dir ${dir} tiny`), { width: 120, height: 30 });
  t.teardown(() => term.kill());
  const screen = await term.waitFor((s) => exitStatus(s) !== undefined);
  t.match(screen, /skipped: needs nslab-no-such-binary, which is not on PATH/);
  t.notMatch(screen, /0 checks passed/);
  t.match(screen, /ts-lab: nothing was checked: 1 lab skipped or incomplete \(tiny\)/);
  t.equal(exitStatus(screen), 2, 'exit status 2: nothing was checked');
});
