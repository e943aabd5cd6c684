// ts-image's library on real files, checked against the real skopeo and
// umoci: images it builds are read by both, and unpacking an image (also one
// with whiteouts over several layers) gives the same root filesystem as
// `umoci unpack`.
import t, { Test } from 'tap';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { buildImage, writeArchive } from '../../src/image/build.js';
import { ImageError } from '../../src/image/errors.js';
import {
  MEDIA,
  imageNames,
  readJsonBlob,
  resolveImage,
  sha256,
  splitLayoutRef,
  tagManifest,
  writeBlob,
} from '../../src/image/layout.js';
import { buildRecipe } from '../../src/image/recipes.js';
import { bundleConfig, unpackImage } from '../../src/image/unpack.js';

const work = mkdtempSync(join(tmpdir(), 'nslab-image-test-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

function have(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
}

/** Type, mode, owner, size, link target and content digest of every file below `dir`. */
function treeListing(dir: string): string[] {
  const r = spawnSync('find', ['.', '-printf', '%p %y %m %U %G %s %l\\n'], { cwd: dir, encoding: 'utf8' });
  const lines = r.stdout.trim().split('\n').sort();
  const sums = spawnSync('sh', ['-c', 'find . -type f -print0 | sort -z | xargs -0 -r sha256sum'], {
    cwd: dir,
    encoding: 'utf8',
  })
    .stdout.trim()
    .split('\n');
  return [...lines, ...sums];
}

function makeSource(name: string, files: Record<string, string>, links: Record<string, string> = {}): string {
  const dir = join(work, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    symlinkSync(target, join(dir, path));
  }
  return dir;
}

/** Put a second layer (files and whiteouts from `dir`) on top of image `baseRef`, named `ref`. */
function stackLayer(layout: string, baseRef: string, dir: string, ref: string): void {
  const base = resolveImage(layout, baseRef);
  const plainFile = join(work, `layer-${ref.replace(/\W/g, '_')}.tar`);
  tar.c({ sync: true, file: plainFile, cwd: dir }, readdirSync(dir).sort());
  const plain = readFileSync(plainFile);
  const layer = writeBlob(layout, MEDIA.layerGzip, gzipSync(plain));
  const config = {
    ...base.config,
    rootfs: { type: 'layers' as const, diff_ids: [...base.config.rootfs.diff_ids, sha256(plain)] },
  };
  const configDesc = writeBlob(layout, MEDIA.config, JSON.stringify(config));
  const manifest = writeBlob(
    layout,
    MEDIA.manifest,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: configDesc,
      layers: [...base.manifest.layers, layer],
    }),
  );
  tagManifest(layout, manifest, ref, imageNames(ref).full);
}

/** The call throws an ImageError of this kind. */
function throwsKind(t: Test, fn: () => unknown, kind: string, extra: Record<string, unknown> = {}): void {
  try {
    fn();
    t.fail(`expected an ImageError ${kind}`);
  } catch (err) {
    t.ok(err instanceof ImageError, String(err));
    t.match(err, { kind, ...extra }, `ImageError ${kind}`);
  }
}

const BASE_CONFIG = {
  ociVersion: '1.0.2-dev',
  process: { terminal: true, user: { uid: 0, gid: 0 }, args: ['sh'], env: ['PATH=/bin', 'TERM=xterm'], cwd: '/' },
  root: { path: 'rootfs', readonly: true },
};

t.test('names: short refs, docker.io full names, DIR:REF', async (t) => {
  t.same(imageNames('nslab/web'), { ref: 'nslab/web:latest', full: 'docker.io/nslab/web:latest' });
  t.same(imageNames('busybox:1.36'), { ref: 'busybox:1.36', full: 'docker.io/library/busybox:1.36' });
  t.same(imageNames('localhost:5000/x/y:2'), { ref: 'localhost:5000/x/y:2', full: 'localhost:5000/x/y:2' });
  t.throws(() => imageNames('Bad/Name'), ImageError);
  t.throws(() => imageNames('a//b'), ImageError);
  t.same(splitLayoutRef('/tmp/l:nslab/web:latest'), { layout: '/tmp/l', ref: 'nslab/web:latest' });
  t.same(splitLayoutRef('/tmp/l'), { layout: '/tmp/l' });
});

t.test('a built image is read by skopeo and unpacked like umoci does', async (t) => {
  const layout = join(work, 'layout');
  const src = makeSource(
    'src1',
    {
      'bin/hello': '#!/bin/sh\necho hello\n',
      'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nweb:x:33:33:web:/srv:/bin/sh\n',
      'etc/group': 'root:x:0:\nwww:x:33:\n',
      'srv/index.html': 'hi\n',
    },
    { 'bin/sh': '/bin/busybox' },
  );
  const built = buildImage({
    source: src,
    layout,
    name: 'nslab/test',
    entrypoint: ['/bin/hello'],
    cmd: ['a', 'b'],
    env: ['PATH=/bin', 'X=1'],
    workingDir: '/srv',
    user: 'web:www',
    exposedPorts: ['8080'],
  });
  t.equal(built.ref, 'nslab/test:latest');
  const image = resolveImage(layout, 'nslab/test:latest');
  t.same(image.config.config?.Entrypoint, ['/bin/hello']);
  t.same(image.config.rootfs.diff_ids, [built.diffId]);
  t.same(readJsonBlob<{ layers: unknown[] }>(layout, image.manifestDescriptor).layers.length, 1);

  t.test('skopeo', { skip: have('skopeo') ? false : 'skopeo is not installed (apt-get install skopeo)' }, async (t) => {
    const r = spawnSync('skopeo', ['inspect', `oci:${layout}:nslab/test:latest`], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    t.equal(info.Digest, built.manifest.digest);
    t.same(info.Layers, [built.layer.digest]);
    t.same(info.Env, ['PATH=/bin', 'X=1']);
    const archive = join(work, 'test.tar');
    writeArchive(layout, archive);
    const a = spawnSync('skopeo', ['inspect', `oci-archive:${archive}:nslab/test:latest`], { encoding: 'utf8' });
    t.equal(a.status, 0, a.stderr);
    t.equal(JSON.parse(a.stdout).Digest, built.manifest.digest);
  });

  const ours = join(work, 'bundle-ours');
  const result = unpackImage({ layout, ref: 'nslab/test:latest', bundle: ours, baseConfig: BASE_CONFIG });
  t.same(result.config.process, {
    terminal: true,
    user: { uid: 33, gid: 33 },
    args: ['/bin/hello', 'a', 'b'],
    env: ['PATH=/bin', 'TERM=xterm', 'X=1', 'HOME=/srv'],
    cwd: '/srv',
  });
  t.equal(result.config.root?.path, 'rootfs');

  t.test('umoci', { skip: have('umoci') ? false : 'umoci is not installed (apt-get install umoci)' }, async (t) => {
    const theirs = join(work, 'bundle-umoci');
    const r = spawnSync('umoci', ['unpack', '--image', `${layout}:nslab/test:latest`, theirs], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    t.same(treeListing(join(ours, 'rootfs')), treeListing(join(theirs, 'rootfs')));
    const uc = JSON.parse(readFileSync(join(theirs, 'config.json'), 'utf8'));
    t.same(result.config.process?.args, uc.process.args, 'the same args as umoci');
    t.same(
      result.config.process?.user,
      { uid: uc.process.user.uid, gid: uc.process.user.gid },
      'the same user as umoci',
    );
    t.same(result.config.process?.env, uc.process.env, 'the same env as umoci');
    t.equal(result.config.process?.cwd, uc.process.cwd, 'the same cwd as umoci');
  });
});

t.test('layers with whiteouts and opaque directories match umoci', async (t) => {
  const layout = join(work, 'layout-wh');
  const base = makeSource('base', { 'a/keep': '1', 'a/gone': '2', 'b/x': '3', 'b/sub/y': '4', 'c/z': '5', top: '6' });
  buildImage({ source: base, layout, name: 'nslab/base' });
  const upper = makeSource('upper', {
    'a/.wh.gone': '',
    'b/.wh..wh..opq': '',
    'b/new': '7',
    '.wh.top': '',
    'c/z': 'changed',
  });
  stackLayer(layout, 'nslab/base:latest', upper, 'nslab/stacked:latest');
  const ours = join(work, 'wh-ours');
  unpackImage({ layout, ref: 'nslab/stacked:latest', bundle: ours, baseConfig: BASE_CONFIG });
  const root = join(ours, 'rootfs');
  t.ok(existsSync(join(root, 'a/keep')));
  t.notOk(existsSync(join(root, 'a/gone')), 'a whiteout removes the lower file');
  t.same(readdirSync(join(root, 'b')).sort(), ['new'], 'an opaque directory hides the lower contents');
  t.notOk(existsSync(join(root, 'top')));
  t.equal(readFileSync(join(root, 'c/z'), 'utf8'), 'changed');
  t.notOk(
    readdirSync(root, { recursive: true }).some((p) => String(p).includes('.wh.')),
    'no whiteout file is left in the root filesystem',
  );
  t.test('umoci', { skip: have('umoci') ? false : 'umoci is not installed (apt-get install umoci)' }, async (t) => {
    const theirs = join(work, 'wh-umoci');
    const r = spawnSync('umoci', ['unpack', '--image', `${layout}:nslab/stacked:latest`, theirs], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    t.same(treeListing(root), treeListing(join(theirs, 'rootfs')));
  });
});

t.test('a whiteout through a planted symlink is refused and leaves no bundle', async (t) => {
  const layout = join(work, 'layout-evil');
  const victimDir = makeSource('victim', { precious: 'do not delete' });
  const base = makeSource('evil-base', { keep: 'x' }, { etc: victimDir });
  buildImage({ source: base, layout, name: 'nslab/evil-base' });
  stackLayer(
    layout,
    'nslab/evil-base:latest',
    makeSource('evil-upper', { 'etc/.wh.precious': '' }),
    'nslab/evil:latest',
  );
  const bundle = join(work, 'evil-bundle');
  throwsKind(
    t,
    () => unpackImage({ layout, ref: 'nslab/evil:latest', bundle, baseConfig: BASE_CONFIG }),
    'unsafe-path',
  );
  t.equal(readFileSync(join(victimDir, 'precious'), 'utf8'), 'do not delete');
  t.notOk(existsSync(bundle), 'the half-made bundle is removed');
});

t.test('bad input: clear errors, nothing left', async (t) => {
  const layout = join(work, 'layout-bad');
  throwsKind(t, () => buildImage({ source: join(work, 'nope'), layout, name: 'x' }), 'no-source');
  t.notOk(existsSync(layout), 'no layout made for a failed build');
  throwsKind(t, () => buildImage({ source: work, layout, name: 'UPPER' }), 'bad-name');
  t.notOk(existsSync(layout));
  buildImage({ source: makeSource('small', { f: '1' }), layout, name: 'nslab/small' });
  throwsKind(t, () => resolveImage(layout, 'nslab/other:latest'), 'no-such-ref', { known: ['nslab/small:latest'] });
  throwsKind(t, () => resolveImage(join(work, 'small')), 'not-a-layout');
  const full = join(work, 'full-bundle');
  mkdirSync(full);
  writeFileSync(join(full, 'mine'), 'x');
  throwsKind(t, () => unpackImage({ layout, bundle: full, baseConfig: BASE_CONFIG }), 'exists');
  t.same(readdirSync(full), ['mine'], 'an existing bundle directory is left as it was');
});

t.test('recipes: pause and web from this host', async (t) => {
  const layout = join(work, 'layout-recipes');
  for (const [name, program] of [
    ['pause', '/usr/bin/catatonit'],
    ['web', '/bin/busybox'],
  ] as const) {
    if (!existsSync(program)) {
      t.test(name, { skip: `${program} is not installed (scripts/setup-vm.sh installs it)` }, async () => {});
      continue;
    }
    const built = buildRecipe(name, layout);
    const image = resolveImage(layout, built.ref);
    t.ok(image.config.config?.Entrypoint?.length, `${name} has an entrypoint`);
    const bundle = join(work, `recipe-${name}`);
    const { config } = unpackImage({ layout, ref: built.ref, bundle, baseConfig: BASE_CONFIG });
    t.ok(
      existsSync(join(bundle, 'rootfs', config.process!.args![0]!)),
      `${name}: the entrypoint is in the root filesystem`,
    );
  }
});

t.test('bundleConfig keeps the base where the image says nothing', async (t) => {
  const cfg = bundleConfig(
    BASE_CONFIG,
    { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } },
    work,
  );
  t.same(cfg.process?.args, ['sh']);
  t.same(cfg.process?.env, ['PATH=/bin', 'TERM=xterm', 'HOME=/']);
  t.equal(cfg.process?.cwd, '/');
  t.same(BASE_CONFIG.process.env, ['PATH=/bin', 'TERM=xterm'], 'the base is not changed');
});
