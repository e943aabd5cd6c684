// ts-lsns on the real kernel, against util-linux lsns and against /proc.
import t from 'tap';
import { readlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { children, cleanEnv, isRoot, NO_TAP, run, RunOptions, RunResult, runTool, tool } from '../helpers/tools.js';
import { startBackground } from '../helpers/background.js';

const rootOnly = { skip: isRoot() ? false : 'needs root (CI runs as root)' };

/**
 * util-linux lsns (2.38) exits 1 without a word when a process it is reading
 * goes away mid-scan, which other work on this machine makes happen now and
 * then: such a run is repeated (a few times at most). Any other failure is
 * returned as it is.
 */
function lsns(args: string[], opts: RunOptions = {}): RunResult {
  let r = run(['lsns', ...args], opts);
  for (let i = 0; i < 5 && r.code === 1 && r.stderr === ''; i++) r = run(['lsns', ...args], opts);
  return r;
}

interface JsonNamespace {
  ns: number;
  type: string;
  nprocs?: number;
  pid?: number | null;
  user?: string | null;
  command?: string | null;
  pns?: number;
  ons?: number;
  children?: JsonNamespace[];
}

function flatten(list: JsonNamespace[]): JsonNamespace[] {
  return list.flatMap((n) => [n, ...flatten(n.children ?? [])]);
}

function json(argv: string[], opts: { as?: 'nobody' } = {}): JsonNamespace[] {
  const r = argv[0] === 'lsns' ? lsns(argv.slice(1), opts) : run(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { namespaces: JsonNamespace[] }).namespaces;
}

const inode = (pid: number, type: string) => Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${type}`))![1]);

t.test('-J agrees with util-linux lsns -J for new pid, uts and net namespaces', rootOnly, async (t) => {
  const bg = await startBackground([tool('unshare'), '-fpun', 'sleep', '60'], { comm: 'sleep' });
  t.teardown(bg.stop);
  const wanted = ['pid', 'uts', 'net'].map((type) => inode(bg.pid, type));
  const pick = (list: JsonNamespace[]) =>
    flatten(list)
      .filter((n) => wanted.includes(n.ns))
      .map(({ ns, type, nprocs, pid, command }) => ({ ns, type, nprocs, pid, command }))
      .sort((a, b) => a.ns - b.ns);
  const ours = pick(json([tool('lsns'), '-J']));
  const theirs = pick(json(['lsns', '-J']));
  t.equal(ours.length, 3, 'the three new namespaces are listed');
  t.same(ours, theirs, 'NS, TYPE, NPROCS, PID and COMMAND match util-linux');
  const pidns = ours.find((n) => n.type === 'pid')!;
  t.equal(pidns.nprocs, 1, 'the pid namespace holds sleep alone');
  t.equal(pidns.pid, bg.pid);
  t.equal(typeof pidns.ns, 'number', 'numbers are JSON numbers');
  const args = ['-J', '-o', 'NS,TYPE,PID,USER,COMMAND,PNS,ONS', '-p', String(bg.pid)];
  t.equal(
    runTool('lsns', args).stdout,
    lsns(args).stdout,
    'the same JSON text, byte for byte (no process counts, which move)',
  );
});

t.test('table, raw, -n, -o, -t, -p, a namespace operand', rootOnly, async (t) => {
  const bg = await startBackground([tool('unshare'), '-fpun', 'sleep', '60'], { comm: 'sleep' });
  t.teardown(bg.stop);
  const net = inode(bg.pid, 'net');
  const row = (args: string[]) =>
    runTool('lsns', args)
      .stdout.split('\n')
      .find((l) => l.includes(String(net)));
  const theirsRow = (args: string[]) =>
    lsns(args)
      .stdout.split('\n')
      .find((l) => l.includes(String(net)));
  for (const args of [
    ['-l'],
    ['-r'],
    ['-l', '-o', 'NS,TYPE,PATH,NPROCS,PID,PPID,UID,USER,PNS,ONS'],
    ['-r', '-n', '-t', 'net'],
  ])
    t.equal(row(args), theirsRow(args), `${args.join(' ')}: the row util-linux prints`);
  const heads = runTool('lsns', ['-l', '-o', '+PATH']).stdout.split('\n')[0]!.trim().split(/\s+/);
  t.same(heads, ['NS', 'TYPE', 'NPROCS', 'PID', 'USER', 'COMMAND', 'PATH'], '+LIST adds to the default columns');
  t.equal(
    runTool('lsns', ['-n', '-t', 'net', '-t', 'uts', '-o', 'TYPE'])
      .stdout.split('\n')
      .filter((l) => l && !/^(net|uts)\s*$/.test(l.replace(/^[\s│├└─]+/, ''))).length,
    0,
    '-t twice: only net and uts',
  );
  const mine = runTool('lsns', ['-p', String(bg.pid), '-l', '-n', '-o', 'NS'])
    .stdout.trim()
    .split('\n')
    .map(Number)
    .sort();
  const procNs = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'].map((ty) => inode(bg.pid, ty)).sort();
  t.same(mine, procNs, '-p: the namespaces of that process, as /proc says');
  t.same(runTool('lsns', ['-n', '-o', 'TYPE', String(net)]).stdout.trim(), 'net', 'an operand selects one namespace');
});

t.test('-T: the tree matches /proc for ts-unshare -Urfp inside ts-unshare -Urfp', async (t) => {
  // --mount-proc on the outer one: the inner ts-unshare finds its child in /proc by a PID of its own pid namespace.
  const bg = await startBackground(
    [tool('unshare'), '-Urfp', '--mount-proc', tool('unshare'), '-Urfp', 'sleep', '60'],
    { comm: 'sleep', as: isRoot() ? undefined : 'nobody' },
  );
  t.teardown(bg.stop);
  const middle = Number(/^PPid:\s+(\d+)/m.exec(run(['cat', `/proc/${bg.pid}/status`]).stdout)![1]);
  const innerUser = inode(bg.pid, 'user');
  const innerPid = inode(bg.pid, 'pid');
  const outerUser = inode(middle, 'user');
  const outerPid = inode(middle, 'pid');
  const hostUser = inode(process.pid, 'user');
  const hostPid = inode(process.pid, 'pid');
  t.not(innerUser, outerUser);
  t.not(outerUser, hostUser);

  const parentOf = (tree: JsonNamespace[], ns: number) => {
    const walk = (list: JsonNamespace[], up?: JsonNamespace): number | undefined => {
      for (const n of list) {
        if (n.ns === ns) return up?.ns;
        const found = walk(n.children ?? [], n);
        if (found !== undefined) return found;
      }
      return undefined;
    };
    return walk(tree);
  };
  const owner = json([tool('lsns'), '-J', '-T', '-t', 'user', '-t', 'pid']);
  t.equal(parentOf(owner, innerUser), outerUser, 'owner tree: the inner user namespace under the outer one');
  t.equal(parentOf(owner, outerUser), hostUser, 'the outer one under the initial user namespace');
  t.equal(parentOf(owner, innerPid), innerUser, 'the inner pid namespace under the user namespace that owns it');
  t.equal(parentOf(owner, outerPid), outerUser);

  const parents = json([tool('lsns'), '-J', '--tree=parent', '-t', 'pid']);
  t.equal(parentOf(parents, innerPid), outerPid, 'parent tree: pid namespaces nested as the kernel nests them');
  t.equal(parentOf(parents, outerPid), hostPid);

  const cols = json([tool('lsns'), '-J', '-l', '-o', 'NS,PNS,ONS', String(innerPid)])[0];
  t.same(cols, { ns: innerPid, pns: outerPid, ons: innerUser }, 'PNS and ONS from the ioctls');

  // The drawing: depth is where the inode starts in the NS column (two characters a level).
  const drawn = runTool('lsns', ['-T', '-t', 'user', '-t', 'pid']).stdout.split('\n').slice(1).filter(Boolean);
  const depth = new Map(drawn.map((line) => [Number(/\d+/.exec(line)![0]), line.search(/\d/) / 2]));
  t.equal(depth.get(hostUser), 0, 'drawn: the initial user namespace at the top');
  t.equal(depth.get(outerUser), 1, 'the outer user namespace one level down');
  t.equal(depth.get(outerPid), 2, 'its pid namespace under it');
  t.equal(depth.get(innerUser), 2, 'the inner user namespace beside it');
  t.equal(depth.get(innerPid), 3, 'and the inner pid namespace under that');
  t.match(drawn.join('\n'), /^├─|\n[│ ]*[├└]─/, 'with util-linux tree lines');
});

// The process tree (in COMMAND), its glyphs and the escapes of --raw depend
// on the locale, as libsmartcols draws them: both are compared.
const LOCALES = ['C.UTF-8', 'C'];

t.test('PID 1 of a nested pid namespace: -r, -l, -n, -o NS,TYPE as util-linux', rootOnly, async (t) => {
  const bg = await startBackground(['unshare', '-fp', '--mount-proc', 'sleep', '60'], { comm: 'sleep' });
  t.teardown(bg.stop);
  const pid = String(bg.pid);
  t.match(run(['cat', `/proc/${pid}/status`]).stdout, /^NSpid:\s+\d+\s+1$/m, 'sleep is PID 1 of its pid namespace');
  const pidns = inode(bg.pid, 'pid');
  const mntns = inode(bg.pid, 'mnt');
  for (const locale of LOCALES) {
    const env = cleanEnv({ LC_ALL: locale });
    const both = (args: string[]) => {
      const theirs = lsns(args, { env });
      t.equal(theirs.code, 0, `util-linux lsns ${args.join(' ')}: ${theirs.stderr}`);
      return { ours: runTool('lsns', args, { env }).stdout, theirs: theirs.stdout };
    };
    // NPROCS of the host's namespaces moves with every process started, so whole outputs leave it out.
    for (const args of [
      ['-p', pid, '-n', '-r', '-o', 'NS,TYPE'],
      ['-p', pid, '-n', '-o', 'NS,TYPE'],
      ['-p', pid, '-r', '-o', 'NS,TYPE,PID,PPID,USER,COMMAND'],
      ['-p', pid, '-l', '-o', 'NS,TYPE,PID,PPID,USER,COMMAND'],
      ['-p', pid, '-l', '-n', '-o', 'NS,TYPE'],
      ['-p', pid, '-o', 'NS,TYPE,PID,COMMAND'],
    ]) {
      const { ours, theirs } = both(args);
      t.equal(ours, theirs, `${locale}: ${args.slice(2).join(' ')}: the output of util-linux`);
    }
    // The default columns: the rows of the nested namespaces (one process each).
    for (const args of [
      ['-p', pid, '-r'],
      ['-p', pid, '-l'],
      ['-p', pid],
    ]) {
      const { ours, theirs } = both(args);
      const nested = (out: string) =>
        out.split('\n').filter((l) => l.includes(String(pidns)) || l.includes(String(mntns)));
      t.same(
        nested(ours),
        nested(theirs),
        `${locale}: ${args.slice(2).join(' ') || 'table'}: the nested rows of util-linux`,
      );
      t.equal(nested(ours).length, 2);
    }
    const rawList = runTool('lsns', ['-p', pid, '-n', '-r', '-o', 'NS,TYPE'], { env }).stdout;
    t.match(rawList, new RegExp(`^${pidns} pid$`, 'm'), `${locale}: the pid row is listed`);
    t.notMatch(
      runTool('lsns', ['-p', pid, '-r'], { env }).stdout,
      /[└├│]/,
      `${locale}: --raw prints no tree glyph unescaped`,
    );
  }
});

t.test('command lines that are not UTF-8 keep their bytes, as util-linux shows them', rootOnly, async (t) => {
  // argv[0] with a lone 0xff and a cut-off three-byte sequence.
  const bg = await startBackground(
    ['unshare', '-fp', '--mount-proc', 'bash', '-c', `exec -a $'sl\\xffep x\\xe2\\x94' sleep 60`],
    { comm: 'sleep' },
  );
  t.teardown(bg.stop);
  for (const locale of LOCALES) {
    const env = cleanEnv({ LC_ALL: locale });
    for (const args of [
      ['-r', '-o', 'NS,TYPE,COMMAND'],
      ['-o', 'NS,TYPE,COMMAND'],
      ['-J', '-o', 'NS,TYPE,COMMAND'],
    ]) {
      const full = ['-p', String(bg.pid), ...args];
      const ours = runTool('lsns', full, { env }).stdout;
      t.equal(ours, lsns(full, { env }).stdout, `${locale}: ${args.join(' ')}: as util-linux`);
      if (args[0] === '-J') continue;
      t.match(ours, /sl\\xffep/, 'the byte is shown as \\xff');
      t.notMatch(ours, /\uFFFD|\\xef\\xbf\\xbd/, 'no replacement character');
    }
    // JSON keeps the bytes themselves, as libsmartcols writes them.
    const bytes = (argv: string[]) => {
      const once = () =>
        spawnSync(NO_TAP[0]!, [...NO_TAP.slice(1), ...argv, '-p', String(bg.pid), '-J', '-o', 'NS,COMMAND'], { env });
      let r = once();
      for (let i = 0; i < 5 && r.status === 1 && r.stderr.length === 0; i++) r = once(); // util-linux's race: see lsns()
      return r.stdout;
    };
    const json = bytes([tool('lsns')]);
    t.ok(
      json.includes(Buffer.from('"sl\xffep x\xe2\x94 60"', 'latin1')),
      `${locale}: -J: the bytes 0xff and 0xe2 0x94, kept`,
    );
    t.ok(json.equals(bytes(['lsns'])), `${locale}: -J: byte for byte util-linux's`);
  }
});

t.test('as nobody: only what nobody may read, no error', async (t) => {
  const r = runTool('lsns', ['-J'], { as: 'nobody' });
  t.equal(r.code, 0, r.stderr);
  const users = new Set(
    flatten((JSON.parse(r.stdout) as { namespaces: JsonNamespace[] }).namespaces).map((n) => n.user),
  );
  t.same([...users], ['nobody'], "other users' processes are skipped");
});

t.test('bad input: util-linux statuses', async (t) => {
  const type = runTool('lsns', ['-t', 'nosuch']);
  t.equal(type.code, 1);
  t.match(type.stderr, /unknown namespace type: nosuch/);
  const col = runTool('lsns', ['-o', 'NOSUCH']);
  t.equal(col.code, 1);
  t.match(col.stderr, /unknown column: NOSUCH/);
  const tree = runTool('lsns', ['--tree=sideways']);
  t.equal(tree.code, 1);
  t.match(tree.stderr, /unknown tree type: sideways/);
  const none = runTool('lsns', ['1234']);
  t.equal(none.code, 1);
  t.equal(none.stderr, 'ts-lsns: not found namespace: 1234\n');
  t.equal(lsns(['1234']).stderr, 'lsns: not found namespace: 1234\n', 'as util-linux says it');
  t.equal(runTool('lsns', ['-p', '999999']).stdout, '', 'a process that is gone: nothing listed, no headings');
  const emptyTheirs = lsns(['-J', '-p', '999999']);
  t.equal(emptyTheirs.code, 0, `util-linux: ${emptyTheirs.stderr}`);
  t.equal(
    runTool('lsns', ['-J', '-p', '999999']).stdout,
    emptyTheirs.stdout,
    'and an empty JSON array laid out as util-linux does',
  );
  t.equal(runTool('lsns', ['--help']).code, 0);

  // Values util-linux refuses in one line (no "Try ... --help"); numbers too large are refused, not cut down.
  for (const args of [
    ['12345678901234567890'],
    ['99999999999999999999'],
    ['extra', 'args', 'here'],
    ['-p', '99999999999999999999'],
    ['-p', '12345678901234567890'],
    ['-p', 'x'],
    ['x'],
    ['-t', 'nosuch'],
    ['-o', 'NOSUCH'],
    ['--tree=sideways'],
  ]) {
    const ours = runTool('lsns', args);
    const theirs = lsns(args);
    t.equal(theirs.code, 1, `${args.join(' ')}: util-linux exits 1`);
    t.equal(ours.code, 1, `${args.join(' ')}: exit 1`);
    t.equal(ours.stderr, theirs.stderr.replace(/^lsns/, 'ts-lsns'), `${args.join(' ')}: util-linux's line`);
  }
  const netns = String(inode(process.pid, 'net'));
  const extra = runTool('lsns', ['-n', '-o', 'NS,TYPE', netns, 'extra']);
  t.equal(extra.code, 0, 'a valid namespace and more words: the others are ignored, as util-linux does');
  t.equal(extra.stdout, runTool('lsns', ['-n', '-o', 'NS,TYPE', netns]).stdout);
  const bogus = runTool('lsns', ['--bogus']);
  t.equal(
    bogus.stderr,
    "ts-lsns: unrecognized option '--bogus'\nTry 'ts-lsns --help' for more information.\n",
    'a bad option: the usage line, as util-linux',
  );
});

t.test('nothing left behind', async (t) => {
  t.same(children(), [], 'no process left behind');
});
