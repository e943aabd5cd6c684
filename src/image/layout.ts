// OCI image layouts (image-spec, "image-layout.md"): a directory with an
// `oci-layout` marker, an `index.json` naming manifests, and content-addressed
// blobs under blobs/sha256/. Reading and writing them, and finding an image by
// its reference name (the `org.opencontainers.image.ref.name` annotation).
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ImageError } from './errors.js';

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
  // Docker's schema 2 types, which skopeo may write when copying from a registry.
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

/** The annotation that names an image inside a layout (what `oci:DIR:REF` and `umoci --image DIR:REF` look up). */
export const REF_NAME = 'org.opencontainers.image.ref.name';
/** The annotation containerd's importer reads first for the image's full name. */
export const CONTAINERD_NAME = 'io.containerd.image.name';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** The parts of an image config (image-spec config.md) that a runtime bundle uses. */
export interface ImageConfig {
  created?: string;
  architecture: string;
  os: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string>;
    ExposedPorts?: Record<string, object>;
    StopSignal?: string;
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: Array<{ created?: string; created_by?: string; comment?: string; empty_layer?: boolean }>;
}

export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export function blobPath(layout: string, digest: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) throw new ImageError('bad-digest', `not a sha256 digest: ${digest}`);
  return join(layout, 'blobs', 'sha256', m[1]!);
}

export function isLayout(dir: string): boolean {
  return existsSync(join(dir, 'oci-layout')) && existsSync(join(dir, 'index.json'));
}

/** Make `dir` an empty layout, or keep the one that is there. */
export function initLayout(dir: string): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  if (!existsSync(join(dir, 'oci-layout')))
    writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  if (!existsSync(join(dir, 'index.json')))
    writeIndex(dir, { schemaVersion: 2, mediaType: MEDIA.index, manifests: [] });
}

export function readIndex(layout: string): ImageIndex {
  if (!isLayout(layout))
    throw new ImageError('not-a-layout', `${layout} is not an OCI image layout (no oci-layout and index.json)`, {
      path: layout,
    });
  return JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as ImageIndex;
}

function writeIndex(layout: string, index: ImageIndex): void {
  // Written whole, then renamed: a reader never sees half an index.
  const tmp = join(layout, `.index.json.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(index));
  renameSync(tmp, join(layout, 'index.json'));
}

/** Store a blob and return its descriptor. Content addressing makes a second write of the same bytes a no-op. */
export function writeBlob(layout: string, mediaType: string, data: Buffer | string): Descriptor {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const digest = sha256(bytes);
  const path = blobPath(layout, digest);
  if (!existsSync(path)) writeFileSync(path, bytes);
  return { mediaType, digest, size: bytes.length };
}

/** Move a finished file into the blob store under its digest. */
export function adoptBlob(layout: string, mediaType: string, file: string, digest: string): Descriptor {
  const path = blobPath(layout, digest);
  renameSync(file, path);
  return { mediaType, digest, size: statSync(path).size };
}

/**
 * A blob's bytes, checked against its descriptor as they are read: never
 * more than `size` bytes are taken (a descriptor that lies about the size
 * stops the read at the first byte too many), then the count and the sha256
 * must match. Nothing of a blob is used before both are checked. Without a
 * size (a caller that has only a digest) only the digest is checked.
 */
export function readBlob(layout: string, desc: Pick<Descriptor, 'digest'> & { size?: number }): Buffer {
  const path = blobPath(layout, desc.digest);
  const size = desc.size;
  if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0))
    throw new ImageError(
      'bad-blob',
      `descriptor of ${desc.digest} has size ${JSON.stringify(size)}, not a byte count`,
      { path: layout },
    );
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    throw new ImageError('missing-blob', `blob ${desc.digest} is not in ${layout}`, { path: layout });
  }
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for (;;) {
      // One byte past the declared size is enough to know the descriptor is wrong.
      const want = size === undefined ? 1 << 20 : Math.min(1 << 20, size - total + 1);
      const chunk = Buffer.allocUnsafe(want);
      const n = readSync(fd, chunk, 0, want, null);
      if (n === 0) break;
      total += n;
      if (size !== undefined && total > size)
        throw new ImageError(
          'bad-blob',
          `blob ${desc.digest} in ${layout} is larger than the ${size} bytes its descriptor says`,
          { path: layout },
        );
      hash.update(chunk.subarray(0, n));
      chunks.push(chunk.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  if (size !== undefined && total !== size)
    throw new ImageError(
      'bad-blob',
      `blob ${desc.digest} in ${layout} has ${total} bytes, its descriptor says ${size}`,
      { path: layout },
    );
  if ('sha256:' + hash.digest('hex') !== desc.digest)
    throw new ImageError('bad-blob', `blob ${desc.digest} in ${layout} does not match its digest`, { path: layout });
  return Buffer.concat(chunks, total);
}

export function readJsonBlob<T>(layout: string, desc: Pick<Descriptor, 'digest'> & { size?: number }): T {
  return JSON.parse(readBlob(layout, desc).toString('utf8')) as T;
}

/** Name `manifest` in the index as `ref`, replacing an image that had that name. */
export function tagManifest(layout: string, manifest: Descriptor, ref: string, fullName: string): void {
  const index = readIndex(layout);
  index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== ref);
  index.manifests.push({ ...manifest, annotations: { [CONTAINERD_NAME]: fullName, [REF_NAME]: ref } });
  writeIndex(layout, index);
}

export function refNames(layout: string): string[] {
  return readIndex(layout)
    .manifests.map((m) => m.annotations?.[REF_NAME])
    .filter((r): r is string => !!r);
}

export interface ResolvedImage {
  ref: string;
  manifestDescriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
}

/** The image named `ref` in the layout; without a ref, the only image there. */
export function resolveImage(layout: string, ref?: string): ResolvedImage {
  const index = readIndex(layout);
  const named = index.manifests.filter((m) => (ref === undefined ? true : m.annotations?.[REF_NAME] === ref));
  const [manifestDescriptor, ...others] = named;
  if (!manifestDescriptor)
    throw new ImageError(
      'no-such-ref',
      ref === undefined ? `${layout} holds no image` : `no image named '${ref}' in ${layout}`,
      { path: layout, ref, known: refNames(layout) },
    );
  if (others.length)
    throw new ImageError('ambiguous-ref', `${layout} holds several images: name one`, {
      path: layout,
      known: refNames(layout),
    });
  if (manifestDescriptor.mediaType !== MEDIA.manifest && manifestDescriptor.mediaType !== MEDIA.dockerManifest)
    throw new ImageError('unsupported', `image '${ref}' is a ${manifestDescriptor.mediaType}, not an image manifest`, {
      path: layout,
      ref,
    });
  const manifest = readJsonBlob<ImageManifest>(layout, manifestDescriptor);
  const config = readJsonBlob<ImageConfig>(layout, manifest.config);
  return { ref: manifestDescriptor.annotations?.[REF_NAME] ?? '', manifestDescriptor, manifest, config };
}

/**
 * Split "DIR:REF" the way skopeo's oci: transport and umoci do: the layout
 * path ends at the first colon (a path with a colon cannot be named this way).
 */
export function splitLayoutRef(text: string): { layout: string; ref?: string } {
  const colon = text.indexOf(':');
  if (colon < 0) return { layout: text };
  return { layout: text.slice(0, colon), ref: text.slice(colon + 1) || undefined };
}

/**
 * "nslab/web" -> { ref: "nslab/web:latest", full: "docker.io/nslab/web:latest" }:
 * the short name is the layout's ref, the full one is what containerd and
 * crictl call the image (a name without a registry host is docker.io's).
 */
export function imageNames(name: string): { ref: string; full: string } {
  // [host[:port]/]path/components[:tag], the distribution reference grammar without digests.
  if (
    !/^([a-z0-9.-]+(:[0-9]+)?\/)?[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/.test(
      name,
    ) ||
    name.includes('//')
  )
    throw new ImageError(
      'bad-name',
      `invalid image name '${name}': lower-case path components, then an optional :tag`,
      { ref: name },
    );
  const ref = /:[^/]+$/.test(name) ? name : `${name}:latest`;
  const first = ref.split('/')[0] ?? '';
  const hasHost = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const full = hasHost ? ref : ref.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`;
  return { ref, full };
}
