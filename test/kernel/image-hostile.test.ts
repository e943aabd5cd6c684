// Hostile images against `ts-image unpack`, with umoci as the oracle in the
// same test. Each case crafts a small OCI layout by hand (plain tar layers
// built from hand-written ustar headers, so a layer can say exactly what an
// attacker wants: a directory replaced by a link, a whiteout of '..', a
// short entry), aims it at a "victim" directory and file in the test's temp
// dir, and checks: the attack fails with ts-image (wherever it fails with
// umoci, and in some cases where umoci lets the unpack go on: said so in the
// case), the victims are untouched, a failed unpack leaves no bundle, and
// the error is one line that names the layer and the entry.
import t, { Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needRoot, run, tool } from '../helpers/tools.js';

const haveUmoci = spawnSync('sh', ['-c', 'command -v umoci']).status === 0;
const work = mkdtempSync(join(tmpdir(), 'nslab-image-hostile-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

// ---- a ustar writer small enough to make broken archives on purpose ----

interface TarEntry {
  name: string;
  type?: 'file' | 'hardlink' | 'symlink' | 'dir';
  mode?: number;
  mtime?: number;
  link?: string;
  data?: string | Buffer;
  /** The size the header claims (default: the data's). */
  size?: number;
}
const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', dir: '5' };

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(e.name, 0, 100);
  h.write(octal(e.mode ?? (e.type === 'dir' ? 0o755 : 0o644), 8), 100);
  h.write(octal(0, 8), 108); // uid
  h.write(octal(0, 8), 116); // gid
  h.write(octal(size, 12), 124);
  h.write(octal(e.mtime ?? 1_000_000_000, 12), 136);
  h.write(' '.repeat(8), 148); // the checksum counts its own field as spaces
  h.write(TYPEFLAG[e.type ?? 'file'], 156);
  if (e.link) h.write(e.link, 157, 100);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148);
  return h;
}

/** A tar archive; `cut` keeps only that many bytes (a truncated download). */
function tarOf(entries: TarEntry[], cut?: (full: Buffer) => number): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    parts.push(header(e, e.size ?? data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024)); // end of archive
  const full = Buffer.concat(parts);
  return cut ? full.subarray(0, cut(full)) : full;
}

// ---- an OCI layout around the layers ----

const sha256 = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');

interface LayoutOptions {
  /** Descriptor sizes to write instead of the true ones, by layer. */
  sizes?: Array<number | undefined>;
  /** Change the stored layer blobs after the descriptors are made (a tampered blob). */
  tamper?: (blobPath: string, i: number) => void;
}

/** A layout at work/NAME holding one image, ref "hostile", of these plain tar layers. */
function hostileLayout(name: string, layers: Buffer[], opts: LayoutOptions = {}): string {
  const dir = join(work, name);
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const put = (b: Buffer) => {
    writeFileSync(join(dir, 'blobs', 'sha256', sha256(b).slice(7)), b);
    return { digest: sha256(b), size: b.length };
  };
  const descriptors = layers.map((l, i) => ({
    mediaType: 'application/vnd.oci.image.layer.v1.tar',
    ...put(l),
    ...(opts.sizes?.[i] !== undefined ? { size: opts.sizes[i] } : {}),
  }));
  const config = put(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['/bin/sh'] },
        rootfs: { type: 'layers', diff_ids: layers.map(sha256) },
      }),
    ),
  );
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: descriptors,
      }),
    ),
  );
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': 'hostile' },
        },
      ],
    }),
  );
  descriptors.forEach((d, i) => opts.tamper?.(join(dir, 'blobs', 'sha256', d.digest.slice(7)), i));
  return dir;
}

// ---- the victims, and proof that nothing happened to them ----

const victimDir = join(work, 'victim');
const victimFile = join(work, 'secret');

function makeVictims(): void {
  mkdirSync(join(victimDir, 'sub'), { recursive: true });
  writeFileSync(join(victimDir, 'precious'), 'do not delete\n');
  writeFileSync(join(victimDir, 'sub', 'deep'), 'nor this\n');
  writeFileSync(victimFile, 'root:secret\n');
  chmodSync(victimFile, 0o600);
  // Fixed times, so victims made again between two runs compare equal, and a change shows.
  for (const p of [
    victimFile,
    join(victimDir, 'sub', 'deep'),
    join(victimDir, 'sub'),
    join(victimDir, 'precious'),
    victimDir,
  ])
    utimesSync(p, 1_500_000_000, 1_500_000_000);
}
makeVictims();

/** Type, mode, owner, times, size and content of every file of the victims, and the names in the temp dir. */
function victimState(): string[] {
  const lines: string[] = [];
  const walk = (path: string) => {
    const st = lstatSync(path);
    lines.push(
      `${path} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs} ${st.size} ${st.isFile() ? sha256(readFileSync(path)) : st.isSymbolicLink() ? readlinkSync(path) : ''}`,
    );
    if (st.isDirectory()) for (const n of readdirSync(path).sort()) walk(join(path, n));
  };
  walk(victimDir);
  walk(victimFile);
  lines.push(
    `temp dir holds: ${readdirSync(work)
      .filter((n) => !n.startsWith('bundle-') && !n.startsWith('layout-'))
      .sort()
      .join(' ')}`,
  );
  return lines;
}
const pristine = victimState();

let count = 0;
function unpackBoth(layout: string): {
  ours: ReturnType<typeof run>;
  oursBundle: string;
  oursVictims: string[];
  umoci?: ReturnType<typeof run>;
  umociBundle: string;
  umociVictims?: string[];
} {
  const n = ++count;
  const oursBundle = join(work, `bundle-ours-${n}`);
  const umociBundle = join(work, `bundle-umoci-${n}`);
  const ours = run([tool('image'), 'unpack', `${layout}:hostile`, oursBundle]);
  const oursVictims = victimState();
  if (!haveUmoci) return { ours, oursBundle, oursVictims, umociBundle };
  // The victims are put back between the two runs, so each tool is judged on its own.
  rmSync(victimDir, { recursive: true, force: true });
  makeVictims();
  const umoci = run(['umoci', 'unpack', '--image', `${layout}:hostile`, umociBundle]);
  const umociVictims = victimState();
  rmSync(victimDir, { recursive: true, force: true });
  makeVictims();
  return { ours, oursBundle, oursVictims, umoci, umociBundle, umociVictims };
}

/** ts-image refused with one line naming the layer (and the entry, when given), and left no bundle. */
function refused(t: Test, r: ReturnType<typeof unpackBoth>, pattern: RegExp, entry?: string): void {
  t.equal(r.ours.code, 1, 'ts-image unpack fails');
  t.equal(r.ours.stderr.trim().split('\n').length, 1, `one error line: ${r.ours.stderr.trim()}`);
  t.match(r.ours.stderr, /^ts-image: layer \d+ \(sha256:[0-9a-f]{12}\): /, 'the line names the layer');
  if (entry) t.ok(r.ours.stderr.includes(`entry '${entry}'`), `the line names the entry ${entry}`);
  t.match(r.ours.stderr, pattern);
  t.notOk(existsSync(r.oursBundle), 'no bundle is left');
  t.same(r.oursVictims, pristine, 'the victims are untouched by ts-image');
}

function umociFails(t: Test, r: ReturnType<typeof unpackBoth>): void {
  if (!r.umoci) return;
  t.not(r.umoci.code, 0, `umoci fails too: ${r.umoci.stderr.trim().split('\n').pop()}`);
  t.same(r.umociVictims, pristine, 'and leaves the victims alone');
}

/** umoci goes on where ts-image refuses; it must still not touch the victims. */
function umociAcceptsSafely(t: Test, r: ReturnType<typeof unpackBoth>, why: string): void {
  if (!r.umoci) return;
  t.equal(r.umoci.code, 0, `umoci accepts this image (${why}): ${r.umoci.stderr.trim()}`);
  t.same(r.umociVictims, pristine, 'umoci leaves the victims alone too');
}

const opts = {
  skip:
    needRoot() ||
    (haveUmoci ? false : 'umoci is not installed (apt-get install umoci): it is the oracle of every case'),
};

t.test('an opaque whiteout in a directory a lower layer made a link to a host directory', opts, async (t) => {
  for (const [how, target] of [
    ['absolute', victimDir],
    ['relative', '../'.repeat(12) + victimDir.slice(1)],
  ]) {
    t.test(`${how} link`, async (t) => {
      const layout = hostileLayout(`layout-opaque-${how}`, [
        tarOf([{ name: 'etc', type: 'symlink', link: target }]),
        tarOf([{ name: 'etc/.wh..wh..opq' }]),
      ]);
      const r = unpackBoth(layout);
      refused(t, r, /goes through the symbolic link \/etc \(-> .*victim\)/, 'etc/.wh..wh..opq');
      // umoci resolves etc inside the rootfs (securejoin): the link's target is
      // missing there, so the whiteout finds nothing and the unpack succeeds.
      umociAcceptsSafely(t, r, 'it resolves the link inside the rootfs, finds nothing to hide');
    });
  }
});

t.test('a whiteout of a file through a link to a host directory', opts, async (t) => {
  const layout = hostileLayout('layout-whiteout-through', [
    tarOf([{ name: 'etc', type: 'symlink', link: victimDir }]),
    tarOf([{ name: 'etc/.wh.precious' }]),
  ]);
  const r = unpackBoth(layout);
  refused(t, r, /goes through the symbolic link \/etc/, 'etc/.wh.precious');
  umociAcceptsSafely(t, r, 'the whiteout is resolved inside the rootfs, where there is nothing to remove');
});

t.test(
  'a directory replaced by a link to a host file in the same layer gets no mode or time on the host',
  opts,
  async (t) => {
    const layout = hostileLayout('layout-dir-then-link', [
      tarOf([
        { name: 'd/', type: 'dir', mode: 0o777, mtime: 12345 },
        { name: 'd', type: 'symlink', link: victimFile },
      ]),
    ]);
    const r = unpackBoth(layout);
    // A legal (if odd) layer: the link wins, both tools unpack it.
    t.equal(r.ours.code, 0, r.ours.stderr);
    t.same(r.oursVictims, pristine, 'the host file keeps its mode 0600 and its mtime');
    t.equal(readlinkSync(join(r.oursBundle, 'rootfs', 'd')), victimFile, 'the rootfs holds the link');
    if (r.umoci) {
      t.equal(r.umoci.code, 0, r.umoci.stderr);
      t.same(r.umociVictims, pristine, 'umoci leaves the host file alone too');
      t.equal(readlinkSync(join(r.umociBundle, 'rootfs', 'd')), victimFile, 'the same link as umoci');
    }
  },
);

t.test("a file over a lower layer's link to a host file replaces the link", opts, async (t) => {
  const layout = hostileLayout('layout-file-over-link', [
    tarOf([{ name: 'passwd', type: 'symlink', link: victimFile }]),
    tarOf([{ name: 'passwd', data: 'pwned\n', mode: 0o4777 }]),
  ]);
  const r = unpackBoth(layout);
  t.equal(r.ours.code, 0, r.ours.stderr);
  t.same(r.oursVictims, pristine, 'the host file is not written through the link');
  const st = lstatSync(join(r.oursBundle, 'rootfs', 'passwd'));
  t.ok(st.isFile(), 'a regular file in the rootfs');
  t.equal(st.mode & 0o7777, 0o4777);
  if (r.umoci) {
    t.equal(r.umoci.code, 0, r.umoci.stderr);
    t.same(r.umociVictims, pristine);
    t.equal(
      readFileSync(join(r.umociBundle, 'rootfs', 'passwd'), 'utf8'),
      readFileSync(join(r.oursBundle, 'rootfs', 'passwd'), 'utf8'),
      'the same content as umoci',
    );
  }
});

t.test("whiteouts of '..' and '.' are refused", opts, async (t) => {
  const lower = tarOf([
    { name: 'a/', type: 'dir' },
    { name: 'a/f', data: '1' },
  ]);
  for (const [what, name, victim] of [
    ['..', '.wh...', '..'],
    ['. in a directory', 'a/.wh..', '.'],
    ['.. in a directory', 'a/.wh...', '..'],
  ] as const) {
    t.test(what, async (t) => {
      const r = unpackBoth(hostileLayout(`layout-wh-${count}`, [lower, tarOf([{ name }])]));
      refused(t, r, new RegExp(`a whiteout of '${victim.replace(/\./g, '\\.')}' names no file`), name);
      // umoci removes the directory, and then fails to restore its metadata.
      umociFails(t, r);
    });
  }
});

t.test('a hard link through a link to a host directory', opts, async (t) => {
  const layout = hostileLayout('layout-hardlink', [
    tarOf([{ name: 'etc', type: 'symlink', link: work }]),
    tarOf([{ name: 'pw', type: 'hardlink', link: 'etc/secret' }]),
  ]);
  const r = unpackBoth(layout);
  refused(t, r, /goes through the symbolic link \/etc/, 'pw');
  umociFails(t, r);
  t.test('and to an absolute host path', async (t) => {
    const r = unpackBoth(
      hostileLayout('layout-hardlink-abs', [tarOf([{ name: 'pw', type: 'hardlink', link: victimFile }])]),
    );
    refused(t, r, /hard link to '.*secret', which is not in the root filesystem/, 'pw');
    umociFails(t, r);
  });
});

t.test('a file written through a link to a host directory', opts, async (t) => {
  const layout = hostileLayout('layout-write-through', [
    tarOf([{ name: 'etc', type: 'symlink', link: victimDir }]),
    tarOf([
      { name: 'etc/precious', data: 'overwritten\n' },
      { name: 'etc/new', data: 'planted\n' },
    ]),
  ]);
  const r = unpackBoth(layout);
  refused(t, r, /goes through the symbolic link \/etc/, 'etc/precious');
  umociAcceptsSafely(t, r, "it writes the files below the link's target inside the rootfs");
});

t.test("an entry with '..' components", opts, async (t) => {
  const layout = hostileLayout('layout-dotdot', [tarOf([{ name: '../../../escaped', data: 'out\n' }])]);
  const r = unpackBoth(layout);
  refused(t, r, /has a '\.\.' component/, '../../../escaped');
  umociAcceptsSafely(t, r, "it clamps '..' at the rootfs");
  t.notOk(existsSync(join(work, 'escaped')), 'nothing was written next to the bundles');
});

t.test('a truncated tar entry is an error, not a partial file', opts, async (t) => {
  for (const [what, cut] of [
    ['inside the data', () => 512 + 100],
    ['inside a header', () => 300],
  ] as const) {
    t.test(what, async (t) => {
      const layer = tarOf([{ name: 'big', data: Buffer.alloc(5000, 'x') }], cut);
      const r = unpackBoth(hostileLayout(`layout-trunc-${count}`, [layer]));
      refused(t, r, /not a valid tar archive: (Truncated input|Unrecognized archive format)/);
      umociFails(t, r);
    });
  }
  t.test('a header that claims more data than the archive has', async (t) => {
    const layer = tarOf([{ name: 'big', data: 'short', size: 100_000 }]);
    const r = unpackBoth(hostileLayout(`layout-trunc-${count}`, [layer]));
    refused(t, r, /not a valid tar archive/);
    umociFails(t, r);
  });
});

t.test('descriptor sizes and digests are checked while reading', opts, async (t) => {
  const layer = tarOf([{ name: 'f', data: 'hello\n' }]);
  for (const [what, size] of [
    ['zero', 0],
    ['too small', 10],
    ['too large', layer.length + 1],
  ] as const) {
    t.test(`a ${what} size`, async (t) => {
      const r = unpackBoth(hostileLayout(`layout-size-${count}`, [layer], { sizes: [size] }));
      refused(t, r, /(larger than the \d+ bytes its descriptor says|has \d+ bytes, its descriptor says \d+)/);
      umociFails(t, r);
    });
  }
  t.test('a negative size', async (t) => {
    const r = unpackBoth(hostileLayout(`layout-size-${count}`, [layer], { sizes: [-1] }));
    refused(t, r, /has size -1, not a byte count/);
    // go-digest's verifier takes -1 as "size unknown" and checks the digest only;
    // the image spec says a size is the blob's byte count, so ts-image refuses it.
    umociAcceptsSafely(t, r, 'it reads -1 as an unknown size');
  });
  t.test('a blob that does not match its digest', async (t) => {
    const r = unpackBoth(
      hostileLayout(`layout-digest-${count}`, [layer], {
        tamper: (path) => {
          const b = readFileSync(path);
          b[b.indexOf('hello')] = 'j'.charCodeAt(0);
          writeFileSync(path, b);
        },
      }),
    );
    refused(t, r, /does not match its digest/);
    umociFails(t, r);
  });
});

t.test('--trace shows the walk that refused a path', opts, async (t) => {
  const layout = join(work, 'layout-opaque-absolute');
  const bundle = join(work, 'bundle-trace');
  const r = run([tool('image'), '--trace', 'unpack', `${layout}:hostile`, bundle]);
  t.equal(r.code, 1);
  t.match(r.stderr, /layer 1 \(sha256:[0-9a-f]{12}\): \d+ bytes, digest and diff_id checked/, 'the checked layer');
  t.match(
    r.stderr,
    /openat\(\d+, "etc", O_DIRECTORY\|O_NOFOLLOW\|O_CLOEXEC\|O_PATH\) = -1 (ENOTDIR|ELOOP)/,
    'the step of the walk that met the link',
  );
  t.match(r.stderr, /readlinkat\(\d+, "etc"\) = \d+/);
  t.match(r.stderr, /refused: \/etc is a symbolic link \(-> .*victim\)/);
  t.notOk(existsSync(bundle));
});

t.test('an existing empty bundle directory is left empty after a failure', opts, async (t) => {
  const bundle = join(work, 'bundle-existing');
  mkdirSync(bundle);
  const r = run([tool('image'), 'unpack', `${join(work, 'layout-write-through')}:hostile`, bundle]);
  t.equal(r.code, 1);
  t.same(readdirSync(bundle), [], 'nothing is left inside it');
  t.same(victimState(), pristine);
});

t.test('as nobody, with victims nobody owns', { skip: needRoot() }, async (t) => {
  // The unprivileged unpack takes the same paths (only chown is skipped):
  // victims the unpacking user could change are the ones at stake.
  const home = join(work, 'nobody');
  mkdirSync(home);
  chmodSync(work, 0o711);
  const dir = join(home, 'victim');
  const file = join(home, 'secret');
  mkdirSync(dir);
  writeFileSync(join(dir, 'precious'), 'mine\n');
  writeFileSync(file, 'secret\n');
  chmodSync(file, 0o600);
  for (const p of [home, dir, join(dir, 'precious'), file]) spawnSync('chown', ['65534:65534', p]);
  const state = () =>
    [dir, join(dir, 'precious'), file].map(
      (p) => `${p} ${lstatSync(p).mode.toString(8)} ${lstatSync(p).mtimeMs} ${lstatSync(p).size}`,
    );
  const before = state();
  const opaque = hostileLayout('layout-nobody-opaque', [
    tarOf([{ name: 'etc', type: 'symlink', link: dir }]),
    tarOf([{ name: 'etc/.wh..wh..opq' }]),
  ]);
  const dirThenLink = hostileLayout('layout-nobody-dir-link', [
    tarOf([
      { name: 'd/', type: 'dir', mode: 0o777, mtime: 12345 },
      { name: 'd', type: 'symlink', link: file },
    ]),
  ]);
  spawnSync('chmod', ['-R', 'a+rX', opaque, dirThenLink]);
  const a = run([tool('image'), 'unpack', `${opaque}:hostile`, join(home, 'b1')], { as: 'nobody' });
  t.equal(a.code, 1);
  t.match(
    a.stderr,
    /^ts-image: layer 2 \(sha256:[0-9a-f]{12}\): entry 'etc\/\.wh\.\.wh\.\.opq': goes through the symbolic link \/etc/,
  );
  t.notOk(existsSync(join(home, 'b1')), 'no bundle is left');
  const b = run([tool('image'), 'unpack', `${dirThenLink}:hostile`, join(home, 'b2')], { as: 'nobody' });
  t.equal(b.code, 0, b.stderr);
  t.same(state(), before, "nobody's victims are untouched");
});

t.test('no scratch files are left in the temp directory', async (t) => {
  t.same(
    readdirSync(tmpdir()).filter((n) => n.startsWith('ts-image-')),
    [],
  );
});
