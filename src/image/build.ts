// Build an OCI image from a directory, offline: one gzip layer holding the
// directory, an image config (entrypoint, cmd, env, working dir, user), a
// manifest, and the index entry that names it. Optionally packed into an
// `oci-archive` (a tar of the layout), the form `ctr images import` and
// `skopeo copy oci-archive:FILE` read.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { ImageError } from './errors.js';
import {
  Descriptor,
  ImageConfig,
  MEDIA,
  adoptBlob,
  imageNames,
  initLayout,
  sha256,
  tagManifest,
  writeBlob,
} from './layout.js';

export interface BuildOptions {
  /** The directory that becomes the image's root filesystem. */
  source: string;
  /** The layout to write into (made if missing; other images in it stay). */
  layout: string;
  /** Image name, e.g. "nslab/web" or "nslab/web:1.0". */
  name: string;
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  exposedPorts?: string[];
  stopSignal?: string;
  /** Timestamps in the config and history (default: now). */
  created?: Date;
}

export interface BuiltImage {
  ref: string;
  fullName: string;
  manifest: Descriptor;
  config: Descriptor;
  layer: Descriptor;
  diffId: string;
}

const GOARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

/** The image-spec architecture name of this machine (Go's GOARCH names). */
export function imageArchitecture(): string {
  return GOARCH[process.arch] ?? process.arch;
}

/**
 * The layer: the source directory as an uncompressed tar (its digest is the
 * config's diff_id), then gzip'd (its digest is the manifest's layer digest).
 * Owners and modes are kept as they are on disk, so a rootfs built by root
 * stays root's.
 */
function packLayer(layout: string, source: string): { layer: Descriptor; diffId: string } {
  const entries = readdirSync(source).sort();
  const tmpTar = join(layout, 'blobs', `.layer-${process.pid}.tar`);
  try {
    tar.c({ sync: true, file: tmpTar, cwd: source, portable: false, noDirRecurse: false }, entries);
    const plain = readFileSync(tmpTar);
    const diffId = sha256(plain);
    const gz = gzipSync(plain, { level: 6 });
    const digest = 'sha256:' + createHash('sha256').update(gz).digest('hex');
    const tmpGz = `${tmpTar}.gz`;
    const fd = openSync(tmpGz, 'w');
    try {
      writeSync(fd, gz);
    } finally {
      closeSync(fd);
    }
    return { layer: adoptBlob(layout, MEDIA.layerGzip, tmpGz, digest), diffId };
  } finally {
    rmSync(tmpTar, { force: true });
  }
}

export function buildImage(opts: BuildOptions): BuiltImage {
  if (!existsSync(opts.source) || !statSync(opts.source).isDirectory())
    throw new ImageError('no-source', `${opts.source} is not a directory`, { path: opts.source });
  const { ref, full } = imageNames(opts.name);
  const madeLayout = !existsSync(opts.layout);
  initLayout(opts.layout);
  try {
    return writeImage(opts, ref, full);
  } catch (err) {
    // All or nothing: a layout this call made goes again (blobs already in an
    // older layout are harmless: nothing names them).
    if (madeLayout) rmSync(opts.layout, { recursive: true, force: true });
    throw err;
  }
}

function writeImage(opts: BuildOptions, ref: string, full: string): BuiltImage {
  const created = (opts.created ?? new Date()).toISOString();
  const { layer, diffId } = packLayer(opts.layout, opts.source);

  const config: ImageConfig = {
    created,
    architecture: imageArchitecture(),
    os: 'linux',
    config: {
      ...(opts.user ? { User: opts.user } : {}),
      Env: opts.env?.length ? opts.env : ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ...(opts.entrypoint ? { Entrypoint: opts.entrypoint } : {}),
      ...(opts.cmd ? { Cmd: opts.cmd } : {}),
      ...(opts.workingDir ? { WorkingDir: opts.workingDir } : {}),
      ...(opts.labels && Object.keys(opts.labels).length ? { Labels: opts.labels } : {}),
      ...(opts.exposedPorts?.length
        ? { ExposedPorts: Object.fromEntries(opts.exposedPorts.map((p) => [p.includes('/') ? p : `${p}/tcp`, {}])) }
        : {}),
      ...(opts.stopSignal ? { StopSignal: opts.stopSignal } : {}),
    },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, created_by: `ts-image build ${opts.source}` }],
  };
  const configDesc = writeBlob(opts.layout, MEDIA.config, JSON.stringify(config));
  const manifest = { schemaVersion: 2, mediaType: MEDIA.manifest, config: configDesc, layers: [layer] };
  const manifestDesc: Descriptor = {
    ...writeBlob(opts.layout, MEDIA.manifest, JSON.stringify(manifest)),
    platform: { architecture: config.architecture, os: 'linux' },
  };
  tagManifest(opts.layout, manifestDesc, ref, full);
  return { ref, fullName: full, manifest: manifestDesc, config: configDesc, layer, diffId };
}

/** Pack a layout into an oci-archive file: a tar whose top holds oci-layout, index.json and blobs/. */
export function writeArchive(layout: string, file: string): void {
  tar.c({ sync: true, file, cwd: layout, portable: true, filter: (p) => !/(^|\/)\.(index\.json|layer-)/.test(p) }, [
    'oci-layout',
    'index.json',
    'blobs',
  ]);
}

/** Unpack an oci-archive into a directory (which then is a layout). */
export function readArchive(file: string, into: string): void {
  initLayout(into);
  tar.x({ sync: true, file, cwd: into, preservePaths: false });
}
