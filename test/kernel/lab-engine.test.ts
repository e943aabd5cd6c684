// The lab engine's parts on their own: sessions, host commands, matchers,
// the --trace rewrite, lab file validation. No root needed.
import t from 'tap';
import { cleanEnv } from '../helpers/tools.js';
import { matchResult } from '../../src/lab/checks.js';
import { validateLab } from '../../src/lab/load.js';
import { withTrace } from '../../src/lab/runner.js';
import { runOnHost, Session } from '../../src/lab/shell.js';
import { unmet } from '../../src/lab/requirements.js';

const opts = { env: cleanEnv(), cwd: '/tmp', timeoutSeconds: 30 };

t.test('a session keeps its shell state and separates commands', async (t) => {
  const s = new Session('test', 'a plain bash');
  const ready = await s.start('bash --norc --noprofile', opts);
  t.equal(ready.error, undefined);
  t.teardown(() => s.stop());
  t.same(await s.run('cd /usr && X=kept', 10), { exit: 0, output: '' });
  t.same(await s.run('echo "$PWD $X"', 10), { exit: 0, output: '/usr kept\n' }, 'cd and variables persist');
  t.same(
    await s.run('echo oops >&2; false', 10),
    { exit: 1, output: 'oops\n' },
    'stderr is merged, the status is kept',
  );
  t.same(
    await s.run('cat; echo after', 10),
    { exit: 0, output: 'after\n' },
    'a command reading stdin gets EOF, not the next command',
  );
  t.same(await s.run('printf "no newline"', 10), { exit: 0, output: 'no newline' });
  t.ok(s.shellPid && s.shellPid > 1, 'the shell PID is known');
  await s.stop();
  t.notOk(s.alive, 'stopped');
  t.match((await s.run('true', 10)).error, /not running/);
});

t.test('a session that dies is reported, not waited for', async (t) => {
  const s = new Session('dies', 'exits at once');
  const r = await s.start('sh -c "echo bye; exit 3"', opts);
  t.match(r.error, /ended \(exit status 3\)/);
  t.match(r.output, /bye/);
});

t.test('host commands: status, merged output, timeout', async (t) => {
  t.same(await runOnHost('echo out; echo err >&2; exit 4', opts), { exit: 4, output: 'out\nerr\n', error: undefined });
  const hung = await runOnHost('sleep 30', { ...opts, timeoutSeconds: 1 });
  t.match(hung.error, /still running after 1 s/);
});

t.test('matchers', async (t) => {
  const r = { exit: 0, output: 'PID COMMAND\n  1 bash\n  7 ps\n' };
  t.equal(matchResult({ that: 'x', match: '^\\s*1 bash$' }, r), undefined, 'match is multi-line');
  t.match(
    matchResult({ that: 'x', notMatch: '^\\s*7 ' }, r),
    /^The output shows text matching the pattern \^\\s\*7 , and should not\./,
    'a real pattern is named as one',
  );
  t.match(
    matchResult({ that: 'x', exit: 'nonzero' }, r),
    /^The command succeeded \(exit status 0\), but it should have failed\. It printed:\n {2}PID COMMAND\n {4}1 bash\n {4}7 ps$/,
    'a sentence, then the output indented line by line',
  );
  t.equal(matchResult({ that: 'x', exit: 'nonzero' }, { exit: 2, output: '' }), undefined);
  t.match(matchResult({ that: 'x', contains: 'zsh' }, r), /^The output should contain "zsh", and does not\./);
  t.match(
    matchResult({ that: 'x', exit: 0 }, { exit: 2, output: '' }),
    /^The command failed \(exit status 2\), but it should have succeeded\. It printed nothing\.$/,
  );
  t.match(
    matchResult({ that: 'x', match: '^default via 10\\.44\\.0\\.1 ' }, { exit: 0, output: '' }),
    /^The output should show a line starting with "default via 10\.44\.0\.1 ", and does not\./,
    'a plain pattern is shown as the text it looks for',
  );
  t.match(
    matchResult({ that: 'x', match: '^([2-9]|\\d\\d)$', expect: 'a count of 2 or more' }, { exit: 0, output: '1\n' }),
    /^The output should show a count of 2 or more, and does not\./,
    "the check's own words when it has them",
  );
  const long = matchResult(
    { that: 'x', contains: 'zsh' },
    { exit: 0, output: Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n') },
  );
  t.ok(long!.split('\n').length <= 15, 'long output is cut');
  t.match(long, /\n {2}\.\.\.$/, 'and says so');
  t.match(
    matchResult({ that: 'x', exit: 0 }, { exit: null, output: '', error: 'hung' }),
    /^hung$/,
    'a command that did not finish fails every check',
  );
});

t.test('--trace goes after every ts-* tool and nothing else', async (t) => {
  t.equal(
    withTrace('ts-unshare -fp sh -c "ts-nsenter -t 1 true"; ts-veth up lo -n x | cat'),
    'ts-unshare --trace -fp sh -c "ts-nsenter --trace -t 1 true"; ts-veth --trace up lo -n x | cat',
  );
  t.equal(withTrace('echo ts-unshared; cat /tmp/ts-unshare.log'), 'echo ts-unshared; cat /tmp/ts-unshare.log');
});

t.test('lab files: mistakes are named', async (t) => {
  const lab = (steps: unknown[]) => ({ id: 'x', order: 1, title: 'X', intro: [], steps }) as never;
  t.throws(() => validateLab(lab([]), 'x.json'), { name: 'LabFileError', message: /x\.json: no steps/ });
  t.throws(
    () => validateLab(lab([{ id: 'a', explain: 'e', run: 'true', in: 'nowhere' }]), 'x.json'),
    /session 'nowhere'/,
  );
  t.throws(
    () => validateLab(lab([{ id: 'a', explain: 'e', run: 'true', checks: [{ that: 'c', match: '(' }] }]), 'x.json'),
    /check 'c': Invalid regular expression/,
  );
  t.throws(
    () => validateLab(lab([{ id: 'a', explain: 'e', run: 'true', checks: [{ that: 'c' }] }]), 'x.json'),
    /nothing to check/,
  );
  t.throws(
    () =>
      validateLab(
        lab([
          { id: 'a', explain: 'e', run: 'true' },
          { id: 'a', explain: 'e', run: 'true' },
        ]),
        'x.json',
      ),
    /appears twice/,
  );
  t.ok(validateLab(lab([{ id: 'a', explain: 'e', run: 'true', checks: [{ that: 'c', exit: 0 }] }]), 'x.json'));
});

t.test('requirements say how to get what is missing', async (t) => {
  t.match(
    unmet({ binaries: ['ping'] }, '/nonexistent'),
    /needs ping, which is not on PATH: install it with 'apt-get install iputils-ping'/,
  );
  t.match(
    unmet({ files: ['/proc/no-such-file'] }, '/usr/bin'),
    /needs \/proc\/no-such-file, which this kernel does not have/,
  );
  t.equal(unmet({ binaries: ['sh'] }, '/usr/bin:/bin'), undefined);
});
