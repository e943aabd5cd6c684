#!/usr/bin/env node
// Build a minimal root filesystem offline: busybox-static (a Debian package,
// installed by scripts/setup-vm.sh) and/or this host's own binaries with the
// shared libraries ldd says they need, the directories a Linux system
// expects (proc, sys, dev, tmp, etc, root, ...), a few device nodes, and,
// with --with-node, Node.js and nslab's small programs (the chroot escape).
// Nothing is downloaded. Running it again on the same DIR is safe: what is
// already there and up to date is left alone.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  constants,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUSYBOX = '/bin/busybox';
const HOST_PROGRAMS = [
  'sh',
  'bash',
  'ls',
  'ps',
  'mount',
  'umount',
  'hostname',
  'ip',
  'id',
  'cat',
  'sleep',
  'readlink',
  'echo',
];

const HELP = `Usage: npm run make-rootfs -- [options] DIR

Build a minimal root filesystem in DIR, offline, for ts-chroot, ts-unshare -R
and the labs. Safe to run again on the same DIR.

Options:
  --busybox     busybox-static and a link for each of its applets (the default)
  --host        this host's ${HOST_PROGRAMS.join(', ')},
                with the shared libraries ldd lists for them
  --with-node   also Node.js (with its libraries), koffi, and nslab's programs
                in /opt/nslab/programs (the chroot escape runs from there)
  -q, --quiet   print nothing but errors
  -h, --help    display this help

DIR gets bin, sbin, usr/bin, usr/sbin, lib, etc (passwd, group, hostname,
hosts), root, home, tmp (1777), var, run, proc, sys and dev (null, zero,
full, random, urandom, tty: device nodes as root, empty bind points if
mknod is not permitted). Run ts-unshare -R DIR or ts-chroot DIR afterwards.`;

function fail(message) {
  process.stderr.write(`make-rootfs: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { busybox: false, host: false, node: false, quiet: false, dir: undefined };
  for (const arg of argv) {
    if (arg === '-h' || arg === '--help') {
      process.stdout.write(HELP + '\n');
      process.exit(0);
    } else if (arg === '--busybox') opts.busybox = true;
    else if (arg === '--host') opts.host = true;
    else if (arg === '--with-node') opts.node = true;
    else if (arg === '-q' || arg === '--quiet') opts.quiet = true;
    else if (arg.startsWith('-'))
      fail(`unrecognized option '${arg}'\nTry 'npm run make-rootfs -- --help' for more information.`);
    else if (opts.dir === undefined) opts.dir = arg;
    else fail(`unexpected argument '${arg}'`);
  }
  if (opts.dir === undefined) fail("missing DIR\nTry 'npm run make-rootfs -- --help' for more information.");
  if (!opts.busybox && !opts.host) opts.busybox = true;
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const dir = resolve(opts.dir);
const counts = { copied: 0, linked: 0, kept: 0 };
const say = (text) => opts.quiet || process.stdout.write(text + '\n');

function inside(path) {
  return join(dir, path);
}

function ensureDir(path, mode = 0o755) {
  const full = inside(path);
  if (!existsSync(full)) mkdirSync(full, { recursive: true, mode });
  chmodSync(full, mode);
}

/** Copy a host file to the same path in DIR, unless an identical-looking copy is there. */
function copyIn(hostPath, rootPath = hostPath) {
  const source = realpathSync(hostPath);
  const target = inside(rootPath);
  const st = statSync(source);
  if (existsSync(target)) {
    const have = lstatSync(target);
    if (have.isFile() && have.size === st.size && have.mtimeMs >= st.mtimeMs) return void counts.kept++;
  }
  mkdirSync(dirname(target), { recursive: true });
  // A copy, never a hard link: root in the new root must not be able to
  // change the host's binaries. FICLONE shares blocks where the fs can.
  copyFileSync(source, target, constants.COPYFILE_FICLONE);
  chmodSync(target, st.mode & 0o7777);
  counts.copied++;
}

function linkIn(rootPath, linkTarget) {
  const full = inside(rootPath);
  try {
    if (lstatSync(full).isSymbolicLink() && readlinkSync(full) === linkTarget) return void counts.kept++;
    return void counts.kept++; // something the user put there: leave it
  } catch {
    // not there yet
  }
  mkdirSync(dirname(full), { recursive: true });
  symlinkSync(linkTarget, full);
  counts.linked++;
}

/** The shared libraries (and the dynamic loader) a host binary needs, from ldd. */
function sharedLibraries(binary) {
  const r = spawnSync('ldd', [binary], { encoding: 'utf8' });
  if (r.status !== 0) return []; // statically linked
  const libs = [];
  for (const line of r.stdout.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]);
  }
  return libs;
}

function copyWithLibraries(hostPath, rootPath = hostPath) {
  copyIn(hostPath, rootPath);
  for (const lib of sharedLibraries(hostPath)) copyIn(lib);
}

function which(name) {
  for (const d of (process.env.PATH || '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = join(d, name);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function skeleton() {
  for (const d of [
    'bin',
    'sbin',
    'usr/bin',
    'usr/sbin',
    'lib',
    'etc',
    'home',
    'var',
    'run',
    'mnt',
    'opt',
    'proc',
    'sys',
    'dev',
  ])
    ensureDir(d);
  ensureDir('root', 0o700);
  ensureDir('tmp', 0o1777);
  const files = {
    'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
    'etc/group': 'root:x:0:\nnogroup:x:65534:\n',
    'etc/hostname': 'nslab\n',
    'etc/hosts': '127.0.0.1\tlocalhost\n::1\tlocalhost\n',
  };
  for (const [path, text] of Object.entries(files)) if (!existsSync(inside(path))) writeFileSync(inside(path), text);
}

/** Character devices as root (mknod), else empty files to bind-mount the host's onto. */
function devices() {
  const nodes = [
    ['null', 1, 3],
    ['zero', 1, 5],
    ['full', 1, 7],
    ['random', 1, 8],
    ['urandom', 1, 9],
    ['tty', 5, 0],
  ];
  let bindPoints = 0;
  for (const [name, major, minor] of nodes) {
    const path = inside(`dev/${name}`);
    if (existsSync(path)) continue;
    const r = spawnSync('mknod', ['-m', '666', path, 'c', String(major), String(minor)], { encoding: 'utf8' });
    if (r.status !== 0) {
      writeFileSync(path, '');
      bindPoints++;
    }
  }
  if (bindPoints)
    say(
      `make-rootfs: mknod not permitted here: ${bindPoints} empty files in dev/ to bind-mount the host's devices onto`,
    );
  for (const [name, target] of [
    ['fd', '/proc/self/fd'],
    ['stdin', '/proc/self/fd/0'],
    ['stdout', '/proc/self/fd/1'],
    ['stderr', '/proc/self/fd/2'],
  ])
    linkIn(`dev/${name}`, target);
}

function busybox() {
  if (!existsSync(BUSYBOX))
    fail(`${BUSYBOX} not found: install the busybox-static package (apt-get install busybox-static), or use --host`);
  const r = spawnSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' });
  if (r.status !== 0) fail(`${BUSYBOX} --list-full failed`);
  copyIn(BUSYBOX, 'bin/busybox');
  // Host programs (--host) win over applets of the same name.
  for (const applet of r.stdout.split('\n').filter(Boolean))
    if (applet !== 'bin/busybox') linkIn(applet, '/bin/busybox');
}

function hostPrograms() {
  for (const name of HOST_PROGRAMS) {
    const path = which(name);
    if (!path) {
      say(`make-rootfs: ${name} is not installed here, skipped`);
      continue;
    }
    // The same path inside as outside: /usr/bin/ls, reached through PATH.
    const real = realpathSync(path);
    copyWithLibraries(real, real);
    if (path !== real && !path.startsWith('/bin/') && !path.startsWith('/sbin/')) linkIn(path, real);
    for (const d of ['/bin', '/usr/bin']) if (!existsSync(inside(`${d}/${name}`))) linkIn(`${d}/${name}`, real);
  }
}

/** Node, koffi and dist/programs/*.cjs, for programs such as the chroot escape. */
function nodeAndPrograms() {
  const programs = join(ROOT, 'dist/programs');
  if (!existsSync(programs)) fail('dist/programs is missing: run npm run build first');
  copyWithLibraries(process.execPath, 'usr/local/bin/node');
  externalBuiltins();
  for (const f of readdirSync(programs)) copyIn(join(programs, f), `opt/nslab/programs/${f}`);
  const arch = process.arch;
  for (const pkg of ['koffi', `@koromix/koffi-linux-${arch}`])
    copyTree(
      join(ROOT, 'node_modules', pkg),
      `opt/nslab/node_modules/${pkg}`,
      (p) => !/musl|\.md$|\/doc\/|\/src\/(?!koffi)|\/vendor\//.test(p),
    );
}

/**
 * Distributions that build node against their own packages (Debian:
 * --shared-builtin-*-path) load some built-in modules (cjs-module-lexer,
 * undici, acorn...) from files under /usr/share/nodejs at run time, and
 * node fails at start without them. Their paths are compiled into node or
 * libnode: copy every file so named, at the same path.
 */
function externalBuiltins() {
  const paths = new Set();
  for (const file of [
    realpathSync(process.execPath),
    ...sharedLibraries(process.execPath).filter((l) => /libnode/.test(l)),
  ]) {
    let text;
    try {
      text = readFileSync(file).toString('latin1');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/\/usr\/share\/nodejs\/[\w@.+/-]+\.(?:js|mjs|cjs|json)/g)) paths.add(m[0]);
  }
  let copied = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    copyIn(realpathSync(p), p);
    copied++;
  }
  if (copied) say(`make-rootfs: ${copied} built-in module files node loads from /usr/share/nodejs copied`);
}

function copyTree(from, to, keep) {
  if (!existsSync(from)) return;
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = `${to}/${entry.name}`;
    if (!keep(src)) continue;
    if (entry.isDirectory()) copyTree(src, dst, keep);
    else if (entry.isFile()) copyIn(src, dst);
  }
}

skeleton();
devices();
if (opts.busybox) busybox();
if (opts.host) hostPrograms();
if (opts.node) nodeAndPrograms();
say(`make-rootfs: ${dir}: ${counts.copied} files copied, ${counts.linked} links made, ${counts.kept} already there`);
