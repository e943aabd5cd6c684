// Turn an image into a runtime bundle, the offline replay of `umoci unpack`:
// the layers applied in order onto BUNDLE/rootfs (whiteouts remove what lower
// layers made, image-spec "layer.md"), and BUNDLE/config.json made from the
// runtime's default config with the image's entrypoint, cmd, env, working
// directory and user on top.
import { Stats, chmodSync, existsSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tar from 'tar';
import { ImageError } from './errors.js';
import { ImageConfig, MEDIA, ResolvedImage, readBlob, resolveImage, sha256 } from './layout.js';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_WHITEOUT = '.wh..wh..opq';

/**
 * `rel` inside `root`, refusing any path that climbs out or passes through a
 * symbolic link a lower layer planted: deleting "etc/.wh.passwd" through an
 * "etc -> /etc" link would otherwise remove the host's file.
 */
function insideRoot(root: string, rel: string): string {
  const parts = posix.normalize(`/${rel}`).split('/').filter(Boolean);
  if (parts.some((p) => p === '..')) throw new ImageError('unsafe-path', `layer path '${rel}' leaves the root filesystem`, { path: rel });
  let at = root;
  for (let i = 0; i < parts.length - 1; i++) {
    at = join(at, parts[i]);
    let isLink = false;
    try {
      isLink = lstatSync(at).isSymbolicLink();
    } catch {
      return join(root, ...parts); // a missing parent: nothing below it to delete
    }
    if (isLink) throw new ImageError('unsafe-path', `layer path '${rel}' goes through the symbolic link ${at.slice(root.length) || '/'}`, { path: rel });
  }
  return join(root, ...parts);
}

function applyWhiteout(rootfs: string, entryPath: string): void {
  const clean = entryPath.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  const dir = posix.dirname(clean);
  const base = posix.basename(clean);
  if (base === OPAQUE_WHITEOUT) {
    // An opaque directory hides everything the lower layers put in it.
    const target = insideRoot(rootfs, dir === '.' ? '' : dir);
    if (existsSync(target)) for (const name of readdirSync(target)) rmSync(join(target, name), { recursive: true, force: true });
    return;
  }
  rmSync(insideRoot(rootfs, posix.join(dir, base.slice(WHITEOUT_PREFIX.length))), { recursive: true, force: true });
}

function isWhiteout(entryPath: string): boolean {
  return posix.basename(entryPath.replace(/\/+$/, '')).startsWith(WHITEOUT_PREFIX);
}

interface LayerEntry {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime?: Date;
  linkpath?: string;
  data: Buffer;
}

/** Every entry of a layer tar, read with node-tar's parser. */
function readEntries(layerTar: string): LayerEntry[] {
  const entries: LayerEntry[] = [];
  tar.t({
    sync: true,
    file: layerTar,
    onReadEntry: (e) => {
      const chunks: Buffer[] = [];
      e.on('data', (c: Buffer) => chunks.push(c));
      e.on('end', () =>
        entries.push({ path: e.path, type: e.type, mode: (e.mode ?? 0o644) & 0o7777, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime, linkpath: e.linkpath, data: Buffer.concat(chunks) }),
      );
    },
  });
  return entries;
}

const asRoot = process.geteuid?.() === 0;

/** Owner and mode as the layer says (owners only when we may set them; chown clears set-id bits, so mode last). */
function setMetadata(path: string, e: LayerEntry): void {
  if (asRoot) lchownSync(path, e.uid, e.gid);
  if (e.type !== 'SymbolicLink') chmodSync(path, e.mode);
  if (e.mtime) (e.type === 'SymbolicLink' ? lutimesSync : utimesSync)(path, e.mtime, e.mtime);
}

/**
 * Apply one layer: first its whiteouts (they concern the layers below), then
 * its entries. node-tar parses; the files are written here, because a root
 * filesystem needs what a safe archive extractor refuses: absolute symbolic
 * links, and links whose targets pass through other links (/lib -> usr/lib).
 * What is refused instead is any entry whose own path leaves the root or
 * passes through a symbolic link.
 */
export function applyLayer(rootfs: string, layerTar: string): void {
  const entries = readEntries(layerTar);
  for (const e of entries) if (isWhiteout(e.path)) applyWhiteout(rootfs, e.path);
  const directories: Array<{ path: string; entry: LayerEntry }> = [];
  for (const e of entries) {
    if (isWhiteout(e.path)) continue;
    const rel = e.path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    if (rel === '' || rel === '.') {
      directories.push({ path: rootfs, entry: e });
      continue;
    }
    const target = insideRoot(rootfs, rel);
    mkdirSync(posix.dirname(target), { recursive: true });
    let existing: Stats | undefined;
    try {
      existing = lstatSync(target);
    } catch {
      existing = undefined;
    }
    // A later layer replaces what was there, except a directory stays a directory.
    if (existing && !(e.type === 'Directory' && existing.isDirectory())) rmSync(target, { recursive: true, force: true });
    switch (e.type) {
      case 'Directory':
        if (!existing?.isDirectory()) mkdirSync(target, { mode: 0o700 });
        directories.push({ path: target, entry: e });
        continue;
      case 'File':
      case 'OldFile':
      case 'ContiguousFile':
        writeFileSync(target, e.data, { mode: 0o600 });
        break;
      case 'SymbolicLink':
        symlinkSync(e.linkpath ?? '', target);
        break;
      case 'Link':
        linkSync(insideRoot(rootfs, (e.linkpath ?? '').replace(/^\/+/, '')), target);
        continue; // a hard link shares its target's metadata
      case 'FIFO':
      case 'CharacterDevice':
      case 'BlockDevice':
        // Device nodes in a layer: the runtime makes /dev itself, and a
        // student's unpack must not need root; they are left out, as rootless umoci does.
        continue;
      default:
        throw new ImageError('unsupported', `layer entry ${e.path} has tar type ${e.type}`, { path: e.path });
    }
    setMetadata(target, e);
  }
  // Directories last, deepest first: writing into one changes its mtime, and a read-only mode would stop the writes.
  for (const d of directories.reverse()) setMetadata(d.path, d.entry);
}

function layerBytes(layout: string, image: ResolvedImage, i: number): Buffer {
  const desc = image.manifest.layers[i];
  const blob = readBlob(layout, desc);
  let plain: Buffer;
  if (desc.mediaType === MEDIA.layerGzip || desc.mediaType === MEDIA.dockerLayerGzip) plain = gunzipSync(blob);
  else if (desc.mediaType === MEDIA.layerTar) plain = blob;
  else throw new ImageError('unsupported', `layer ${desc.digest} has media type ${desc.mediaType} (gzip or plain tar layers only)`, { path: layout });
  const diffId = image.config.rootfs.diff_ids[i];
  if (diffId && sha256(plain) !== diffId) throw new ImageError('bad-blob', `layer ${i + 1} does not match its diff_id ${diffId}`, { path: layout });
  return plain;
}

/** A name or number from the rootfs's /etc/passwd or /etc/group, like umoci (and runc's user package) resolve it. */
function lookupId(rootfs: string, file: 'passwd' | 'group', who: string): { id: number; gid?: number } | undefined {
  if (/^\d+$/.test(who)) return { id: Number(who) };
  let text = '';
  try {
    text = readFileSync(insideRoot(rootfs, `etc/${file}`), 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === who) return { id: Number(f[2]), gid: file === 'passwd' ? Number(f[3]) : undefined };
  }
  return undefined;
}

function homeOf(rootfs: string, uid: number): string | undefined {
  try {
    const line = readFileSync(insideRoot(rootfs, 'etc/passwd'), 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
    return line?.split(':')[5] || undefined;
  } catch {
    return undefined;
  }
}

export interface RuntimeUser {
  uid: number;
  gid: number;
}

/** The image's User ("name", "uid", "uid:gid", "name:group") as numbers. */
export function resolveUser(rootfs: string, user: string | undefined): RuntimeUser {
  if (!user) return { uid: 0, gid: 0 };
  const [u, g] = user.split(':');
  const pw = lookupId(rootfs, 'passwd', u);
  if (!pw) throw new ImageError('unsupported', `image user '${u}' is not in the image's /etc/passwd`, { ref: user });
  let gid = pw.gid ?? 0;
  if (g !== undefined) {
    const gr = lookupId(rootfs, 'group', g);
    if (!gr) throw new ImageError('unsupported', `image group '${g}' is not in the image's /etc/group`, { ref: user });
    gid = gr.id;
  }
  return { uid: pw.id, gid };
}

// The slice of the OCI runtime config this module fills in.
interface RuntimeSpecLike {
  process?: { terminal?: boolean; user?: { uid: number; gid: number }; args?: string[]; env?: string[]; cwd?: string };
  root?: { path: string; readonly?: boolean };
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** The runtime config for an image: `base` (the runtime's defaults) with the image's settings on top. */
export function bundleConfig(base: RuntimeSpecLike, image: ImageConfig, rootfs: string): RuntimeSpecLike {
  const spec = structuredClone(base);
  const c = image.config ?? {};
  const args = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  const user = resolveUser(rootfs, c.User);
  // As umoci does: the base's environment, each image variable replacing the
  // one of the same name or added after, then the user's home if unset.
  const env = [...(spec.process?.env ?? [])];
  for (const e of c.Env ?? []) {
    const key = e.split('=')[0];
    const at = env.findIndex((x) => x.split('=')[0] === key);
    if (at >= 0) env[at] = e;
    else env.push(e);
  }
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${homeOf(rootfs, user.uid) ?? '/'}`);
  spec.process = {
    ...spec.process,
    user,
    args: args.length ? args : spec.process?.args,
    env,
    cwd: c.WorkingDir || '/',
  };
  spec.root = { path: 'rootfs', readonly: false };
  const labels = c.Labels ?? {};
  spec.annotations = {
    ...labels,
    'org.opencontainers.image.architecture': image.architecture,
    'org.opencontainers.image.os': image.os,
    ...(image.created ? { 'org.opencontainers.image.created': image.created } : {}),
    ...(c.StopSignal ? { 'org.opencontainers.image.stopSignal': c.StopSignal } : {}),
    ...(c.ExposedPorts ? { 'org.opencontainers.image.exposedPorts': Object.keys(c.ExposedPorts).join(',') } : {}),
  };
  return spec;
}

export interface UnpackOptions {
  layout: string;
  ref?: string;
  bundle: string;
  /** The runtime's default config (ts-runc spec's), which the image's settings override. */
  baseConfig: RuntimeSpecLike;
}

export function unpackImage(opts: UnpackOptions): { rootfs: string; config: RuntimeSpecLike; image: ResolvedImage } {
  const image = resolveImage(opts.layout, opts.ref);
  if (existsSync(opts.bundle) && readdirSync(opts.bundle).length > 0) throw new ImageError('exists', `bundle ${opts.bundle} exists and is not empty`, { path: opts.bundle });
  const madeBundle = !existsSync(opts.bundle);
  const rootfs = join(opts.bundle, 'rootfs');
  try {
    mkdirSync(rootfs, { recursive: true, mode: 0o755 });
    const scratch = join(opts.bundle, `.layer-${process.pid}.tar`);
    try {
      for (let i = 0; i < image.manifest.layers.length; i++) {
        writeFileSync(scratch, layerBytes(opts.layout, image, i));
        applyLayer(rootfs, scratch);
      }
    } finally {
      rmSync(scratch, { force: true });
    }
    const config = bundleConfig(opts.baseConfig, image.config, rootfs);
    writeFileSync(join(opts.bundle, 'config.json'), JSON.stringify(config, null, '\t') + '\n');
    return { rootfs, config, image };
  } catch (err) {
    // All or nothing: a failed unpack leaves no half-made bundle.
    if (madeBundle) rmSync(opts.bundle, { recursive: true, force: true });
    else for (const name of readdirSync(opts.bundle)) rmSync(join(opts.bundle, name), { recursive: true, force: true });
    throw err;
  }
}
