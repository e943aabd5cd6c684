// Command lines given to util-linux unshare, nsenter and lsns and to
// ts-unshare, ts-nsenter and ts-lsns, compared: exit status, stderr (the
// program's name aside) and, where the command ran, what it saw. Every
// malformed form must fail the same way and change nothing; a form that
// works must do what util-linux does with it.
//
// Safety: the namespaces made here are throwaway ones (-n with no file);
// --net=FILE is only tried inside a private mount namespace made for it, on
// a file in a fresh temporary directory; nsenter's target is a process this
// test started.
import t, { Test } from 'tap';
import { mkdtempSync, readlinkSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, inventory, isRoot, registerLeftoverCheck, run, tool } from '../helpers/tools.js';
import { startBackground } from '../helpers/background.js';

const before = inventory();
const haveAll = ['unshare', 'nsenter', 'lsns', 'chroot'].every((p) => run(['sh', '-c', `command -v ${p}`]).code === 0);
const skip = !isRoot()
  ? 'needs root (CI runs as root): the forms create namespaces'
  : !haveAll
    ? 'util-linux unshare, nsenter or lsns, or coreutils chroot, is not installed'
    : false;

type Program = 'unshare' | 'nsenter' | 'lsns' | 'chroot';

interface Form {
  argv: string[];
  /** 'exact' (default): the same stderr; else both stderrs match this (the wording is each tool's own). */
  stderr?: 'exact' | string | RegExp;
  /** How to compare stdout: 'exact' (default), or a transform both outputs go through first. */
  stdout?: 'exact' | ((out: string) => string);
  env?: NodeJS.ProcessEnv;
}

const hostNet = readlinkSync('/proc/self/ns/net');
/** readlink /proc/self/ns/net: 'host' or 'new', since two new namespaces have different inodes. */
const netSeen = (out: string) => (out.trim() === hostNet ? 'host' : /^net:\[\d+\]$/.test(out.trim()) ? 'new' : out);
/** The table's cells, whatever the column widths. */
const cells = (out: string) =>
  out
    .split('\n')
    .map((l) => l.trim().split(/\s+/).join(' '))
    .join('\n');
const missing = '/nonexistent-nslab-getopt/f';
const helpOrVersion = (out: string) => (out.startsWith('\nUsage:\n') ? 'help' : / from /.test(out) ? 'version' : out);

function compare(t: Test, program: Program, form: Form): void {
  const label = `${program} ${form.argv.join(' ')}`;
  const env = cleanEnv(form.env);
  const theirs = run([program, ...form.argv], { env, cwd: '/' });
  const ours = run([tool(program), ...form.argv], { env, cwd: '/' });
  const unname = (s: string) => s.replaceAll(`ts-${program}`, program);
  t.equal(ours.code, theirs.code, `${label}: exit status ${theirs.code}`);
  if ((form.stderr ?? 'exact') === 'exact') t.equal(unname(ours.stderr), theirs.stderr, `${label}: the same stderr`);
  else {
    t.match(theirs.stderr, form.stderr!, `${label}: util-linux says ${form.stderr}`);
    t.match(ours.stderr, form.stderr!, `${label}: so does ts-${program}`);
  }
  const view = typeof form.stdout === 'function' ? form.stdout : (s: string) => s;
  t.equal(view(ours.stdout), view(theirs.stdout), `${label}: the same output`);
}

const readNet = ['readlink', '/proc/self/ns/net'];

t.test('ts-unshare against unshare', { skip }, async (t) => {
  const forms: Form[] = [
    // The forms: a short namespace flag takes no file.
    { argv: ['-n=/tmp/f', ...readNet] },
    { argv: ['-fp=x', 'sh', '-c', 'echo $$'] },
    { argv: ['-m', '-u=x', 'true'] },
    { argv: ['-i=x', 'true'] },
    { argv: ['-C=x', 'true'] },
    { argv: ['-T=x', 'true'] },
    { argv: ['-nfoo', 'true'] },
    { argv: ['-t123', 'true'] },
    // What works: bundles, attached values, prefixes, --.
    { argv: ['-n', ...readNet], stdout: netSeen },
    { argv: ['--net', ...readNet], stdout: netSeen },
    { argv: ['--ne', ...readNet], stdout: netSeen },
    { argv: ['-fp', '--mount-proc', 'sh', '-c', 'echo $$'] },
    { argv: ['--fo', '--pi', '--mount-pro', 'sh', '-c', 'echo $$'] },
    { argv: ['-R/', 'true'] },
    { argv: ['-w/tmp', 'pwd'] },
    { argv: ['-w', '/tmp', 'pwd'] },
    { argv: ['--wd=/tmp', 'pwd'] },
    { argv: ['--wd', '/tmp', 'pwd'] },
    { argv: ['-n', '--', ...readNet], stdout: netSeen },
    { argv: ['--', '-n'] },
    { argv: ['-n', 'sh', '-c', 'readlink /proc/self/ns/net', '-n'], stdout: netSeen },
    { argv: ['--propagation', 'private', 'true'] },
    { argv: ['-m', '--propagation=slave', 'true'] },
    // An optional argument is never the next word: --net FILE runs FILE.
    { argv: ['--net', missing] },
    { argv: ['--mount-proc', missing] },
    // Ambiguous and unknown options, arguments where none belong.
    { argv: ['--map'] },
    { argv: ['--map=1', 'true'] },
    { argv: ['--map-u', '0', 'true'] },
    { argv: ['--s', '0', 'true'] },
    { argv: ['--bogus'] },
    { argv: ['--bogus=1', 'true'] },
    { argv: ['-x'] },
    { argv: ['-fx', 'true'] },
    { argv: ['--help=x'] },
    { argv: ['--fork=1', 'true'] },
    { argv: ['--version=1'] },
    // Required arguments missing at the end.
    { argv: ['--propagation'] },
    { argv: ['-R'] },
    { argv: ['-w'] },
    { argv: ['-fw'] },
    { argv: ['--root'] },
    { argv: ['--setgroups'] },
    { argv: ['-S'] },
    // Bad values: util-linux's words, no "Try" line.
    { argv: ['--propagation', 'bogus', 'true'] },
    { argv: ['--propagation=', 'true'] },
    { argv: ['--setgroups', 'bogus', 'true'] },
    { argv: ['--kill-child=BOGUS', 'true'] },
    { argv: ['-S', 'abc', 'true'] },
    { argv: ['--boottime', 'x', '-T', 'true'] },
    { argv: ['-r', '--setgroups=allow', 'true'] },
    // Values are checked as their option is read, --help acts at once: the first mistake is the one reported.
    { argv: ['--propagation', 'bogus', '-x'] },
    { argv: ['-S', 'x', '--bogus'] },
    { argv: ['--kill-child=X', '-x'] },
    { argv: ['--setgroups', 'x', '-n=f'] },
    { argv: ['--monotonic', 'x', '-x'] },
    { argv: ['-x', '--propagation', 'bogus'] },
    { argv: ['-h', '-x'], stdout: helpOrVersion },
    { argv: ['-f', '--help', '--bogus'], stdout: helpOrVersion },
    { argv: ['-V', '--bogus'], stdout: helpOrVersion },
    { argv: ['-x', '-h'] },
    // Negative values are values: the option's own check judges them.
    { argv: ['-w', '-1', 'true'], stderr: '-1' },
    { argv: ['--wd', '-1', 'true'], stderr: '-1' },
    { argv: ['-S', '-1', 'true'], stderr: /failed|parse/ },
    { argv: ['--propagation', '-1', 'true'] },
  ];
  for (const form of forms) compare(t, 'unshare', form);
});

t.test('--net=FILE, inside a private mount namespace', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-getopt-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // The namespace file is bind-mounted inside the outer namespace only, and gone with it.
  const script =
    'f="$1/ns"; shift; touch "$f" && "$@" --net="$f" true && awk -v f="$f" \'$5 == f { print $9 }\' /proc/self/mountinfo';
  for (const program of ['unshare', tool('unshare')]) {
    const r = run(['unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', dir, program]);
    t.equal(r.code, 0, `${program} --net=FILE: ${r.stderr}`);
    t.equal(r.stdout.trim(), 'nsfs', `${program} --net=FILE: the file holds the namespace`);
  }
  t.notOk(
    existsSync(join(dir, 'ns')) && run(['mountpoint', '-q', join(dir, 'ns')]).code === 0,
    'nothing mounted on the host',
  );
});

t.test('ts-nsenter against nsenter', { skip }, async (t) => {
  const bg = await startBackground(['unshare', '-n', '-u', 'sleep', '600'], { comm: 'sleep' });
  t.teardown(bg.stop);
  const pid = String(bg.pid);
  const targetNet = readlinkSync(`/proc/${pid}/ns/net`);
  const sawTarget = (out: string) => (out.trim() === targetNet ? 'target' : netSeen(out));
  const forms: Form[] = [
    { argv: ['-t', pid, '-u=x', 'true'], stderr: 'cannot open =x' },
    { argv: ['-t', pid, '-n=x', 'true'], stderr: 'cannot open =x' },
    { argv: [`-t${pid}`, '-n', ...readNet], stdout: sawTarget },
    // -n's optional argument is attached: -nt123 means the file t123.
    { argv: [`-nt${pid}`, ...readNet], stderr: `cannot open t${pid}` },
    { argv: ['--tar', pid, '--ne', ...readNet], stdout: sawTarget },
    { argv: [`--target=${pid}`, `--net=/proc/${pid}/ns/net`, ...readNet], stdout: sawTarget },
    { argv: [`-n/proc/${pid}/ns/net`, ...readNet], stdout: sawTarget },
    { argv: ['-t', pid, '-n', '--', ...readNet], stdout: sawTarget },
    { argv: ['-t', pid, '-w/tmp', 'pwd'] },
    { argv: ['-t', pid, '--wd=/tmp', 'pwd'] },
    { argv: ['-t', pid, '-wnosuchdir', 'true'], stderr: 'cannot open nosuchdir' },
    { argv: ['-t', pid, '-wtmp', 'pwd'] },
    { argv: ['-t', pid, '-r/', 'true'] },
    { argv: ['-t', pid, '-r', 'pwd'] },
    // An optional argument is never the next word.
    { argv: ['-t', pid, '--net', `/proc/${pid}/ns/net`] },
    { argv: ['-t', pid, '-w', '/tmp'] },
    { argv: ['-t', pid, '--', '-n'] },
    { argv: ['-t', 'abc', 'true'] },
    { argv: ['-t'] },
    { argv: ['--target'] },
    { argv: ['-t', pid, '-W'] },
    { argv: ['-t', pid, '--w', 'true'] },
    // util-linux 2.38: --wdns takes its directory only with '=', -W always.
    { argv: ['-t', pid, '--wdns', 'true'] },
    { argv: ['-t', pid, '--wdns=/tmp', 'pwd'] },
    { argv: ['-t', pid, '-W/tmp', 'pwd'] },
    { argv: ['-t', pid, '-W', '/tmp', 'pwd'] },
    { argv: ['-x'] },
    { argv: ['--bogus'] },
    { argv: ['--all=1'] },
    { argv: ['--help=x'] },
    { argv: ['-t', pid, '-S', '-1', 'true'], stderr: /failed|parse/ },
  ];
  for (const form of forms) compare(t, 'nsenter', form);
});

t.test('ts-lsns against lsns: operands anywhere (GNU permutation)', { skip }, async (t) => {
  const bg = await startBackground(['unshare', '-n', 'sleep', '600'], { comm: 'sleep' });
  t.teardown(bg.stop);
  const pid = String(bg.pid);
  const netId = readlinkSync(`/proc/${pid}/ns/net`).replace(/\D/g, '');
  const forms: Form[] = [
    { argv: ['-n', '-r', '-o', 'NS,TYPE', '-t', 'net', '-p', pid] },
    { argv: [netId, '-n', '-o', 'NS,TYPE,NPROCS'], stdout: cells },
    { argv: ['-n', netId, '-o', 'TYPE', '-r'] },
    { argv: ['-p', pid, '-t', 'net', '-nro', 'NS'] },
    { argv: [`-p${pid}`, '-tnet', '-nroNS'] },
    { argv: ['--ty', 'net', '--task', pid, '--raw', '--noh', '--output=NS'] },
    { argv: ['-o', 'NS,TYPE', netId, '--', '-n'], stdout: cells },
    { argv: ['-o', 'NS,TYPE', netId, '-n'], stdout: cells },
    // POSIXLY_CORRECT: options stop at the operand (the rest is ignored, as lsns reads one operand).
    { argv: ['-o', 'NS,TYPE', netId, '-n'], env: { POSIXLY_CORRECT: '1' }, stdout: cells },
    { argv: ['-t', 'bogus'] },
    { argv: ['-o', 'BOGUS'] },
    { argv: ['-p', 'abc'] },
    { argv: ['abc'] },
    { argv: ['-n', '-t', 'net', 'x', 'y'] },
    { argv: ['--tree=bogus'] },
    { argv: ['-Tbogus'] },
    { argv: ['-T', 'bogus'] },
    { argv: ['--tree', 'bogus'] },
    { argv: ['-t'] },
    { argv: ['-o'] },
    { argv: ['--output'] },
    { argv: ['--no'] },
    { argv: ['--o', 'NS'] },
    { argv: ['-x'] },
    { argv: ['--bogus'] },
    { argv: ['--json=1'] },
    { argv: ['--help=x'] },
    { argv: ['-V', '-x'], stdout: helpOrVersion },
    { argv: ['-t', '-1'] },
    { argv: ['--type', '-1'] },
  ];
  for (const form of forms) compare(t, 'lsns', form);
});

t.test('ts-chroot against coreutils chroot: the same parser, exit status 125', { skip }, async (t) => {
  const forms: Form[] = [
    { argv: [] },
    { argv: ['--bogus'] },
    { argv: ['-x'] },
    { argv: ['-h'] },
    { argv: ['--userspec'] },
    { argv: ['--groups'] },
    { argv: ['--help=x'] },
    { argv: ['--userspec', '0:0'] },
    { argv: ['--u', '0:0', '/', 'id', '-u'] },
    { argv: ['--sk', '/', 'pwd'] },
    { argv: ['--', '/', 'true'] },
    { argv: ['/', '-x'], stderr: /failed to run command .-x.: No such file or directory/ },
  ];
  for (const form of forms) compare(t, 'chroot', form);
});

registerLeftoverCheck(t, before);
