// ts-image's command line: build, recipe, list, inspect, unpack (also from
// an oci-archive), its errors, and an unpacked image run by ts-runc.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needRoot, run, tool } from '../helpers/tools.js';

const work = mkdtempSync(join(tmpdir(), 'nslab-image-cli-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const image = (...args: string[]) => run([tool('image'), ...args]);

const src = join(work, 'src');
mkdirSync(join(src, 'bin'), { recursive: true });
writeFileSync(join(src, 'hello.txt'), 'hello\n');

t.test('build, list, inspect, archive', async (t) => {
  const layout = join(work, 'layout');
  const archive = join(work, 'hello.tar');
  const r = image(
    'build',
    '--tag',
    'nslab/hello:1',
    '--layout',
    layout,
    '--archive',
    archive,
    '--entrypoint',
    '["/bin/cat"]',
    '--cmd',
    '/hello.txt',
    '-e',
    'A=1',
    '-w',
    '/',
    src,
  );
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^nslab\/hello:1 sha256:[0-9a-f]{64} in .*\(archive .*hello\.tar\)$/m);
  t.match(image('list', layout).stdout, /^nslab\/hello:1\tsha256:[0-9a-f]{64}\t\d+$/m);
  const inspect = JSON.parse(image('inspect', `${layout}:nslab/hello:1`).stdout);
  t.same(inspect.config.config.Entrypoint, ['/bin/cat']);
  t.same(inspect.config.config.Cmd, ['/hello.txt']);
  t.same(inspect.config.config.Env, ['A=1']);
  const fromArchive = JSON.parse(image('inspect', `${archive}:nslab/hello:1`).stdout);
  t.equal(fromArchive.digest, inspect.digest, 'the archive holds the same image');
  t.same(
    readdirSync(tmpdir()).filter((n) => n.startsWith('ts-image-')),
    [],
    'no scratch layout is left',
  );
});

t.test('bad input: one line, exit 1, nothing made', async (t) => {
  const layout = join(work, 'bad-layout');
  const noTag = image('build', '--layout', layout, src);
  t.equal(noTag.code, 1);
  t.match(noTag.stderr, /^ts-image: missing --tag NAME\nTry 'ts-image build --help' for more information\.\n$/);
  const badName = image('build', '--tag', 'Bad/Name', '--layout', layout, src);
  t.equal(badName.code, 1);
  t.match(badName.stderr, /invalid image name 'Bad\/Name'/);
  t.notOk(existsSync(layout), 'no layout made');
  const noSrc = image('build', '--tag', 'x', '--layout', layout, join(work, 'nope'));
  t.match(noSrc.stderr, /is not a directory/);
  t.notOk(existsSync(layout));
  t.match(image('build', '--tag', 'x', '--layout', layout, src, 'extra').stderr, /unexpected argument 'extra'/);
  const good = join(work, 'layout');
  const unknown = image('unpack', `${good}:nslab/other:1`, join(work, 'b-unknown'));
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /no image named 'nslab\/other:1'.*\nts-image: hint: it holds: nslab\/hello:1/);
  t.notOk(existsSync(join(work, 'b-unknown')));
  t.match(image('inspect', '/etc/passwd').stderr, /neither an OCI image layout nor an oci-archive/);
  t.match(
    image('recipe', 'nope', '--layout', layout).stderr,
    /no recipe 'nope'.*\nts-image: hint: it holds: pause, web/,
  );
});

t.test(
  'unpack gives a bundle ts-runc runs',
  { skip: needRoot() || (existsSync('/bin/busybox') ? false : 'busybox-static is not installed') },
  async (t) => {
    const layout = join(work, 'layout');
    t.equal(image('recipe', 'web', '--layout', layout).code, 0);
    const bundle = join(work, 'web-bundle');
    const u = image('unpack', `${layout}:nslab/web:latest`, bundle);
    t.equal(u.code, 0, u.stderr);
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    t.same(config.process.args, ['/bin/busybox', 'httpd', '-f', '-v', '-p', '80', '-h', '/www']);
    t.equal(config.process.cwd, '/www');
    t.ok(
      config.linux.namespaces.some((n: { type: string }) => n.type === 'pid'),
      "ts-runc spec's defaults are the base",
    );
    // Run something else from the image: its busybox, in the container's own namespaces.
    config.process.terminal = false;
    config.process.args = ['/bin/sh', '-c', 'cat /www/index.html; echo pid=$$'];
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    const root = join(work, 'runc-state');
    const r = run([tool('runc'), '--root', root, 'run', '-b', bundle, 'nslab-image-cli-test']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /Hello from a pod/);
    t.match(r.stdout, /^pid=1$/m, 'PID 1 of its own pid namespace');
    t.same(readdirSync(root), [], 'the container is gone');
  },
);
