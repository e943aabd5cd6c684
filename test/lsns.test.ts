// ts-lsns on the real kernel, against util-linux lsns and against /proc.
import t from 'tap';
import { readlinkSync } from 'node:fs';
import { children, isRoot, run, runTool, tool } from './helpers/tools.js';
import { startBackground } from './helpers/background.js';

const rootOnly = { skip: isRoot() ? false : 'needs root (CI runs as root)' };

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
  const r = run(argv, opts);
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
  t.equal(runTool('lsns', args).stdout, run(['lsns', ...args]).stdout, 'the same JSON text, byte for byte (no process counts, which move)');
});

t.test('table, raw, -n, -o, -t, -p, a namespace operand', rootOnly, async (t) => {
  const bg = await startBackground([tool('unshare'), '-fpun', 'sleep', '60'], { comm: 'sleep' });
  t.teardown(bg.stop);
  const net = inode(bg.pid, 'net');
  const row = (args: string[]) => runTool('lsns', args).stdout.split('\n').find((l) => l.includes(String(net)));
  const theirsRow = (args: string[]) => run(['lsns', ...args]).stdout.split('\n').find((l) => l.includes(String(net)));
  for (const args of [['-l'], ['-r'], ['-l', '-o', 'NS,TYPE,PATH,NPROCS,PID,PPID,UID,USER,PNS,ONS'], ['-r', '-n', '-t', 'net']]) t.equal(row(args), theirsRow(args), `${args.join(' ')}: the row util-linux prints`);
  const heads = runTool('lsns', ['-l', '-o', '+PATH']).stdout.split('\n')[0].trim().split(/\s+/);
  t.same(heads, ['NS', 'TYPE', 'NPROCS', 'PID', 'USER', 'COMMAND', 'PATH'], '+LIST adds to the default columns');
  t.equal(runTool('lsns', ['-n', '-t', 'net', '-t', 'uts', '-o', 'TYPE']).stdout.split('\n').filter((l) => l && !/^(net|uts)\s*$/.test(l.replace(/^[\s│├└─]+/, ''))).length, 0, '-t twice: only net and uts');
  const mine = runTool('lsns', ['-p', String(bg.pid), '-l', '-n', '-o', 'NS']).stdout.trim().split('\n').map(Number).sort();
  const procNs = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'].map((ty) => inode(bg.pid, ty)).sort();
  t.same(mine, procNs, '-p: the namespaces of that process, as /proc says');
  t.same(runTool('lsns', ['-n', '-o', 'TYPE', String(net)]).stdout.trim(), 'net', 'an operand selects one namespace');
});

t.test('-T: the tree matches /proc for ts-unshare -Urfp inside ts-unshare -Urfp', async (t) => {
  // --mount-proc on the outer one: the inner ts-unshare finds its child in /proc by a PID of its own pid namespace.
  const bg = await startBackground([tool('unshare'), '-Urfp', '--mount-proc', tool('unshare'), '-Urfp', 'sleep', '60'], { comm: 'sleep', as: isRoot() ? undefined : 'nobody' });
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

t.test('as nobody: only what nobody may read, no error', async (t) => {
  const r = runTool('lsns', ['-J'], { as: 'nobody' });
  t.equal(r.code, 0, r.stderr);
  const users = new Set(flatten((JSON.parse(r.stdout) as { namespaces: JsonNamespace[] }).namespaces).map((n) => n.user));
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
  t.equal(run(['lsns', '1234']).stderr, 'lsns: not found namespace: 1234\n', 'as util-linux says it');
  t.equal(runTool('lsns', ['-p', '999999']).stdout, '', 'a process that is gone: nothing listed, no headings');
  t.equal(runTool('lsns', ['-J', '-p', '999999']).stdout, run(['lsns', '-J', '-p', '999999']).stdout, 'and an empty JSON array laid out as util-linux does');
  t.equal(runTool('lsns', ['--help']).code, 0);
});

t.test('nothing left behind', async (t) => {
  t.same(children(), [], 'no process left behind');
});
