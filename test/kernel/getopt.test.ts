// getopt_long (src/cli/getopt.ts) as a table of command lines: first what
// each form must give, written out; then the same parser against glibc's own
// getopt_long, driven through util-linux getopt(1). No root, no kernel.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { LongOption, getoptLong } from '../../src/cli/getopt.js';
import { ToolSpec, parseCommandLine, renderHelp } from '../../src/cli/options.js';

// unshare's tables as util-linux 2.38 has them (short -n takes no argument, --net an optional one).
const UNSHARE_SHORT = '+fhVmuinpCTUrR:w:S:G:c';
const UNSHARE_LONG: LongOption[] = [
  ['help', 'none', 'h'],
  ['version', 'none', 'V'],
  ['mount', 'optional', 'm'],
  ['uts', 'optional', 'u'],
  ['ipc', 'optional', 'i'],
  ['net', 'optional', 'n'],
  ['pid', 'optional', 'p'],
  ['user', 'optional', 'U'],
  ['cgroup', 'optional', 'C'],
  ['time', 'optional', 'T'],
  ['fork', 'none', 'f'],
  ['kill-child', 'optional', '--kill-child'],
  ['mount-proc', 'optional', '--mount-proc'],
  ['map-user', 'required', '--map-user'],
  ['map-users', 'required', '--map-users'],
  ['map-group', 'required', '--map-group'],
  ['map-groups', 'required', '--map-groups'],
  ['map-root-user', 'none', 'r'],
  ['map-current-user', 'none', 'c'],
  ['map-auto', 'none', '--map-auto'],
  ['propagation', 'required', '--propagation'],
  ['setgroups', 'required', '--setgroups'],
  ['keep-caps', 'none', '--keep-caps'],
  ['setuid', 'required', 'S'],
  ['setgid', 'required', 'G'],
  ['root', 'required', 'R'],
  ['wd', 'required', 'w'],
  ['monotonic', 'required', '--monotonic'],
  ['boottime', 'required', '--boottime'],
].map(([name, has, key]) => ({ name, has, key }) as LongOption);

// nsenter's short table: namespace letters and -r/-w take an optional attached argument.
const NSENTER_SHORT = '+ahVt:m::u::i::n::p::C::U::T::S:G:r::w::W:FZ';
const NSENTER_LONG: LongOption[] = [
  ['all', 'none', 'a'],
  ['target', 'required', 't'],
  ['net', 'optional', 'n'],
  ['root', 'optional', 'r'],
  ['wd', 'optional', 'w'],
  ['wdns', 'required', 'W'],
].map(([name, has, key]) => ({ name, has, key }) as LongOption);

/** One line per parse: options as key[=value] (value in <> to show it exactly), then | operands. */
function show(argv: string[], short: string, long: LongOption[], env: { POSIXLY_CORRECT?: string } = {}): string {
  const r = getoptLong(argv, short, long, env);
  if (r.error) return `error: ${r.error.message}`;
  return `${r.options.map((o) => (o.value === undefined ? o.key : `${o.key}=<${o.value}>`)).join(' ')} | ${r.operands.join(' ')}`;
}

t.test('unshare: + mode, short flags without arguments, long optional ones', async (t) => {
  const table: Array<[string[], string]> = [
    [['-n=/tmp/f', 'true'], "error: invalid option -- '='"],
    [['-fp=x', 'sh'], "error: invalid option -- '='"],
    [['-nfoo'], "error: invalid option -- 'o'"],
    [['--net=/tmp/f', 'true'], 'n=</tmp/f> | true'],
    [['--net', '/tmp/f'], 'n | /tmp/f'],
    [['--net='], 'n=<> | '],
    [['-fp', '--mount-proc', 'ps'], 'f p --mount-proc | ps'],
    [['--fo', '--pi', '--mount-pro', 'true'], 'f p --mount-proc | true'],
    [
      ['--map'],
      "error: option '--map' is ambiguous; possibilities: '--map-user' '--map-users' '--map-group' '--map-groups' '--map-root-user' '--map-current-user' '--map-auto'",
    ],
    [
      ['--map=1'],
      "error: option '--map=1' is ambiguous; possibilities: '--map-user' '--map-users' '--map-group' '--map-groups' '--map-root-user' '--map-current-user' '--map-auto'",
    ],
    [['--map-user=0'], '--map-user=<0> | '],
    [['--map-user', '0', 'id'], '--map-user=<0> | id'],
    [['--mount', 'x'], 'm | x'],
    [['--mount-p'], '--mount-proc | '],
    [['--propagation'], "error: option '--propagation' requires an argument"],
    [['--propagation', '--fork'], '--propagation=<--fork> | '],
    [['-R'], "error: option requires an argument -- 'R'"],
    [['-R/', 'true'], 'R=</> | true'],
    [['-R', '/', 'true'], 'R=</> | true'],
    [['-fR/x', 'true'], 'f R=</x> | true'],
    [['-w', '-1', 'true'], 'w=<-1> | true'],
    [['--wd=-1'], 'w=<-1> | '],
    [['--wd', '-1'], 'w=<-1> | '],
    [['--help=x'], "error: option '--help' doesn't allow an argument"],
    [['--fork=1'], "error: option '--fork' doesn't allow an argument"],
    [['--bogus'], "error: unrecognized option '--bogus'"],
    [['--bogus=1'], "error: unrecognized option '--bogus=1'"],
    [['-x'], "error: invalid option -- 'x'"],
    [['-:'], "error: invalid option -- ':'"],
    [['-f', '-x', '--bogus'], "error: invalid option -- 'x'"],
    [['-f', 'sh', '-n'], 'f | sh -n'],
    [['--', '-n'], ' | -n'],
    [['-f', '--', '--', 'x'], 'f | -- x'],
    [['-', '-n'], ' | - -n'],
    [['', '-n'], ' |  -n'],
    [[], ' | '],
  ];
  for (const [argv, want] of table)
    t.equal(show(argv, UNSHARE_SHORT, UNSHARE_LONG), want, argv.join(' ') || '(nothing)');
});

t.test('nsenter: optional arguments attach to short options', async (t) => {
  const table: Array<[string[], string]> = [
    [['-t', '123', '-u=x', 'true'], 't=<123> u=<=x> | true'],
    [['-t123', 'true'], 't=<123> | true'],
    [['-w/tmp', 'pwd'], 'w=</tmp> | pwd'],
    [['-wtmp', 'true'], 'w=<tmp> | true'],
    [['-w', 'tmp'], 'w | tmp'],
    [['-r/', 'true'], 'r=</> | true'],
    [['-at1'], 'a t=<1> | '],
    [['-ta'], 't=<a> | '],
    [['-t'], "error: option requires an argument -- 't'"],
    [['--w'], "error: option '--w' is ambiguous; possibilities: '--wd' '--wdns'"],
    [['--wd'], 'w | '],
    [['--wdn', 'x'], 'W=<x> | '],
    [['--r=/', 'x'], 'r=</> | x'],
  ];
  for (const [argv, want] of table) t.equal(show(argv, NSENTER_SHORT, NSENTER_LONG), want, argv.join(' '));
});

t.test('GNU permutation without +, stopped by POSIXLY_CORRECT', async (t) => {
  const short = 'Jlp:o:nruhVt:T::W';
  const long: LongOption[] = [
    { name: 'output', has: 'required', key: 'o' },
    { name: 'output-all', has: 'none', key: '--output-all' },
    { name: 'tree', has: 'optional', key: 'T' },
    { name: 'noheadings', has: 'none', key: 'n' },
    { name: 'notruncate', has: 'none', key: 'u' },
  ];
  t.equal(show(['123', '-n', 'x', '-t', 'net'], short, long), 'n t=<net> | 123 x');
  t.equal(
    show(['123', '--', '-n'], short, long),
    ' | 123 -n',
    'after --, options are operands, after the skipped ones',
  );
  t.equal(
    show(['-n', '123', '-l'], short, long, { POSIXLY_CORRECT: '1' }),
    'n | 123 -l',
    'POSIXLY_CORRECT stops at the first operand',
  );
  t.equal(show(['-Tparent', '-T', 'owner'], short, long), 'T=<parent> T | owner');
  t.equal(show(['--output', 'NS'], short, long), 'o=<NS> | ', '--output: exact match wins over --output-all');
  t.equal(show(['--output-'], short, long), '--output-all | ');
  t.equal(
    show(['--no'], short, long),
    "error: option '--no' is ambiguous; possibilities: '--noheadings' '--notruncate'",
  );
  t.equal(show(['--tree', 'parent'], short, long), 'T | parent', 'an optional argument is never the next word');
});

t.test('aliases for one option are not ambiguous', async (t) => {
  const long: LongOption[] = [
    { name: 'color', has: 'optional', key: 'c' },
    { name: 'colour', has: 'optional', key: 'c' },
    { name: 'columns', has: 'required', key: 'C' },
  ];
  t.equal(show(['--colo'], 'c::C:', long), 'c | ');
  t.equal(show(['--col'], 'c::C:', long), "error: option '--col' is ambiguous; possibilities: '--color' '--columns'");
});

t.test('parseCommandLine: results by long name', async (t) => {
  const spec: ToolSpec = {
    name: 'ts-demo',
    usage: '[options] <program>',
    summary: 'A demo.',
    options: [
      {
        long: 'net',
        short: 'n',
        arg: 'optional',
        shortArg: 'none',
        value: '<file>',
        help: 'unshare network namespace',
      },
      { long: 'root', short: 'R', arg: 'required', valueSep: '=', value: '<dir>', help: 'set the root directory' },
      { long: 'map-users', arg: 'required', repeat: true, value: '<map>', help: 'map users', gap: true },
      { long: 'fork', short: 'f', help: 'fork first' },
    ],
    docs: 'docs/demo.md',
  };
  t.same(parseCommandLine(spec, ['-nf', '--map-users=0:1:1', '--map-users', '1:2:1', '-R/x', 'ls', '-l'], {}), {
    opts: { net: '', fork: true, 'map-users': ['0:1:1', '1:2:1'], root: '/x' },
    rest: ['ls', '-l'],
  });
  t.same(
    parseCommandLine(spec, ['--net=/run/x', '--root', 'a', '--root=b', 'true'], {}).opts,
    { net: '/run/x', root: 'b' },
    'the last value wins',
  );
  t.same(parseCommandLine(spec, ['--trace', '-f'], {}).opts, { trace: true, fork: true }, 'the common options');
  t.throws(() => parseCommandLine(spec, ['-n=/tmp/f', 'true'], {}), {
    name: 'UsageError',
    message: "invalid option -- '='",
    command: 'ts-demo',
  });
  t.same(
    parseCommandLine(spec, ['-f', '-h', '-x', '--bogus'], {}),
    { opts: { help: true }, rest: [] },
    '--help acts at once: the mistakes after it are never read',
  );
  t.throws(
    () => parseCommandLine(spec, ['-x', '-h'], {}),
    { message: "invalid option -- 'x'" },
    'a mistake before --help is',
  );
  t.same(parseCommandLine(spec, ['-V', '-x'], {}).opts, { version: true });
  const checked: ToolSpec = {
    ...spec,
    options: [
      {
        long: 'mode',
        arg: 'required',
        help: 'a mode',
        check: (v) => {
          if (v !== 'a') throw new Error(`bad mode: ${v}`);
        },
      },
    ],
  };
  t.throws(
    () => parseCommandLine(checked, ['--mode', 'b', '-x'], {}),
    { message: 'bad mode: b' },
    'a value is checked when its option is read, before a later mistake',
  );
  t.throws(() => parseCommandLine(checked, ['-x', '--mode', 'b'], {}), { message: "invalid option -- 'x'" });
  t.throws(
    () => parseCommandLine(spec, ['--x'], {}),
    { message: "unrecognized option '--x'" },
    'not a prefix of anything',
  );
  t.throws(
    () => parseCommandLine({ ...spec, stopAtPositional: false }, ['ls', '-l'], {}),
    { message: "invalid option -- 'l'" },
    'operands anywhere: options after them still parsed',
  );
  const help = renderHelp(spec);
  t.equal(
    help,
    [
      '',
      'Usage:',
      ' ts-demo [options] <program>',
      '',
      'A demo.',
      '',
      'Options:',
      ' -n, --net[=<file>]     unshare network namespace',
      ' -R, --root=<dir>       set the root directory',
      '',
      '     --map-users <map>  map users',
      ' -f, --fork             fork first',
      '',
      '     --trace            print each system call and its result on stderr',
      ' -h, --help             display this help',
      ' -V, --version          display version',
      '',
      'For more details see docs/demo.md.',
      '',
    ].join('\n'),
  );
});

// ---- against glibc, through util-linux getopt(1)

const haveGetopt = spawnSync('getopt', ['-T']).status === 4;

/** getopt(1)'s normalized output for these tables: ` -f --net '' -- 'x'`, or its first error. */
function glibc(argv: string[], short: string, long: LongOption[], posixly = false): { ok: boolean; text: string } {
  const env = { ...process.env, GETOPT_COMPATIBLE: undefined, POSIXLY_CORRECT: posixly ? '1' : undefined };
  const r = spawnSync(
    'getopt',
    [
      '-n',
      'prog',
      '-o',
      short,
      '-l',
      long.map((o) => o.name + (o.has === 'required' ? ':' : o.has === 'optional' ? '::' : '')).join(','),
      '--',
      ...argv,
    ],
    { encoding: 'utf8', env },
  );
  if (r.status !== 0) return { ok: false, text: (r.stderr.split('\n')[0] ?? '').replace(/^prog: /, '') };
  return { ok: true, text: r.stdout.replace(/\n$/, '') };
}

function ours(argv: string[], short: string, long: LongOption[], posixly = false): { ok: boolean; text: string } {
  {
    const r = getoptLong(argv, short, long, posixly ? { POSIXLY_CORRECT: '1' } : {});
    if (r.error) return { ok: false, text: r.error.message };
    const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    const kinds = new Map(long.map((o) => [o.key, o.has]));
    const words = r.options.map((o) => {
      const body = short.replace(/^\+/, '');
      const takes = o.key.startsWith('--') ? kinds.get(o.key) !== 'none' : body[body.indexOf(o.key) + 1] === ':';
      const name = o.key.startsWith('--') ? o.key : `-${o.key}`;
      return takes ? `${name} ${q(o.value ?? '')}` : name;
    });
    return { ok: true, text: ` ${[...words, '--', ...r.operands.map(q)].join(' ')}` };
  }
}

t.test(
  'the same answers as glibc getopt_long (via getopt(1))',
  { skip: haveGetopt ? false : 'util-linux getopt(1) is not installed' },
  async (t) => {
    // getopt(1) knows no aliases: every long option stands for itself here.
    const longOnly = (list: LongOption[]) => list.map((o) => ({ ...o, key: `--${o.name}` }));
    const tables: Array<[string, LongOption[]]> = [
      ['+fhVmuinpCTUrR:w:S:G:c', longOnly(UNSHARE_LONG)],
      ['+ahVt:m::u::i::n::p::C::U::T::S:G:r::w::W:FZ', longOnly(NSENTER_LONG)],
      [
        'Jlp:o:nruhVt:T::W',
        longOnly([
          { name: 'output', has: 'required', key: '' },
          { name: 'output-all', has: 'none', key: '' },
          { name: 'tree', has: 'optional', key: '' },
          { name: 'type', has: 'required', key: '' },
        ]),
      ],
    ];
    const forms: string[][] = [
      ['-n=/tmp/f', 'true'],
      ['-fp=x'],
      ['-m', '-u=x'],
      ['-w/tmp', 'pwd'],
      ['-t123'],
      ['-r/'],
      ['-wtmp'],
      ['--fo', '--pi', '--mount-pro', 'x'],
      ['--map'],
      ['--map-u', 'x'],
      ['--m'],
      ['--w'],
      ['--t'],
      ['--o'],
      ['--output', 'x'],
      ['--output-'],
      ['--net', '/tmp/f'],
      ['--net=/tmp/f'],
      ['--propagation'],
      ['--propagation', 'x'],
      ['-R'],
      ['-t'],
      ['-o'],
      ['-W'],
      ['--root'],
      ['--root', '-1'],
      ['--', '-n'],
      ['x', '--', '-n'],
      ['x', '-n', 'y', '-t', 'net'],
      ['--bogus'],
      ['--bogus=x'],
      ['-x'],
      ['--help=x'],
      ['--fork=1'],
      ['-Tparent', '-T', 'owner'],
      ['--tree', 'x'],
      ['-S', '-1', 'x'],
      ['-w', '-1'],
      ['--setuid=-1'],
      ['-', '-f'],
      ['-f', '-', '-n'],
      ['--=x'],
      ['-ab:c'],
      [''],
    ];
    for (const [short, long] of tables)
      for (const argv of forms)
        for (const posixly of [false, true]) {
          const label = `${short.slice(0, 8)} ${posixly ? 'POSIXLY_CORRECT ' : ''}${JSON.stringify(argv)}`;
          t.same(ours(argv, short, long, posixly), glibc(argv, short, long, posixly), label);
        }
  },
);

t.test('dashDigitOperands: -1.2.3.4/24 is an operand (tools that follow iproute2), other words as glibc', async (t) => {
  const longopts = [{ name: 'netns', has: 'required' as const, key: 'n' }];
  const r = getoptLong(
    ['addr', 'add', '-1.2.3.4/24', '-n', 'x', 'dev', 'lo'],
    'n:',
    longopts,
    {},
    { dashDigitOperands: true },
  );
  t.same(r.operands, ['addr', 'add', '-1.2.3.4/24', 'dev', 'lo']);
  t.same(r.options, [{ key: 'n', value: 'x' }]);
  t.equal(getoptLong(['-1'], 'n:', longopts, {}).error?.message, "invalid option -- '1'", "without it, glibc's answer");
});
