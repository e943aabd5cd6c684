// scripts/setup-vm.sh --install-only: the built tools copied out of the
// checkout, readable by all, linked from a bin directory, so that nobody
// (and any other user) can run them when the checkout is in a 0700 home
// (Debian 13's default). Into temporary directories: the machine's
// /usr/local is not touched. The build and the apt/npm/crictl parts need
// the network and a fresh VM: the VM stage runs them.
import t from 'tap';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { NOBODY, ROOT, isRoot, run } from '../helpers/tools.js';

const built = existsSync(join(ROOT, 'dist', 'ts-unshare.cjs'));
const skip = !isRoot() ? 'needs root (CI runs as root)' : !built ? 'not built (npm run build)' : false;

t.test(
  'bad option: one line, exit 2',
  { skip: isRoot() ? false : 'needs root (the script refuses others first)' },
  async (t) => {
    const r = run(['bash', join(ROOT, 'scripts/setup-vm.sh'), '--bogus']);
    t.equal(r.code, 2);
    t.match(r.stderr, /^setup-vm\.sh: unknown option '--bogus'/);
  },
);

t.test('--install-only: tools from a 0700 home run as nobody', { skip, timeout: 120_000 }, async (t) => {
  const scratch = mkdtempSync('/tmp/nslab-install-');
  chmodSync(scratch, 0o755);
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  // A home as Debian 13 makes it: 0700, the checkout inside.
  const home = join(scratch, 'home');
  mkdirSync(home, { mode: 0o700 });
  chmodSync(home, 0o700);
  const checkout = join(home, 'nslab');
  for (const part of ['bin', 'dist', 'labs', 'package.json', 'scripts'])
    cpSync(join(ROOT, part), join(checkout, part), { recursive: true });
  cpSync(join(ROOT, 'node_modules', 'koffi'), join(checkout, 'node_modules', 'koffi'), {
    recursive: true,
    dereference: true,
  });
  cpSync(join(ROOT, 'node_modules', '@koromix'), join(checkout, 'node_modules', '@koromix'), {
    recursive: true,
    dereference: true,
  });
  const prefix = join(scratch, 'usr-local', 'lib', 'nslab');
  const bindir = join(scratch, 'usr-local', 'bin');
  mkdirSync(join(scratch, 'usr-local'), { mode: 0o755 });

  const asNobody = (argv: string[]) => run([...NOBODY, ...argv]);
  t.not(
    asNobody([join(checkout, 'bin', 'ts-unshare'), '--version']).code,
    0,
    'before: nobody cannot run the tools inside the 0700 home',
  );

  const r = run(['bash', join(checkout, 'scripts', 'setup-vm.sh'), '--install-only'], {
    env: { ...process.env, NSLAB_PREFIX: prefix, NSLAB_BINDIR: bindir },
  });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, new RegExp(`installed in ${prefix}, linked from ${bindir}`));

  const links = readdirSync(bindir)
    .filter((n) => n.startsWith('ts-'))
    .sort();
  t.same(
    links,
    readdirSync(join(ROOT, 'bin'))
      .filter((n) => n.startsWith('ts-'))
      .sort(),
    'a link for every tool',
  );
  for (const l of links)
    t.equal(readlinkSync(join(bindir, l)), join(prefix, 'bin', l), `${l} points into ${prefix}, not the checkout`);

  // Every file root's, nothing writable by group or others.
  const bad: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      const st = lstatSync(p);
      if (st.uid !== 0 || (!st.isSymbolicLink() && st.mode & 0o022)) bad.push(p);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(prefix);
  t.same(bad, [], 'the copy is root-owned and writable only by root');
  t.equal(statSync(prefix).mode & 0o777, 0o755, 'its top is 0755');

  const v = asNobody([join(bindir, 'ts-unshare'), '--version']);
  t.equal(v.code, 0, `nobody runs ts-unshare: ${v.stdout.trim()}${v.stderr.trim()}`);
  const u = asNobody([join(bindir, 'ts-unshare'), '-U', '-r', '--', 'id', '-u']);
  t.ok(
    u.code === 0 ? u.stdout.trim() === '0' : /user namespace|EPERM|EACCES/.test(u.stderr),
    `and a user namespace with it, or a refusal from the kernel, not from the files: ${u.stdout.trim()}${u.stderr.trim()}`,
  );
  const list = asNobody([join(bindir, 'ts-lab'), 'list']);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, /pid-namespace/, 'ts-lab finds its labs in the copy');

  // Again: the copy is replaced whole, nothing left beside it.
  const again = run(['bash', join(checkout, 'scripts', 'setup-vm.sh'), '--install-only'], {
    env: { ...process.env, NSLAB_PREFIX: prefix, NSLAB_BINDIR: bindir },
  });
  t.equal(again.code, 0, again.stderr);
  t.same(readdirSync(join(scratch, 'usr-local', 'lib')), ['nslab'], 'a second run leaves no staging or old copy');
});
