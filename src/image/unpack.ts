// Turn an image into a runtime bundle, the offline replay of `umoci unpack`:
// the layers applied in order onto BUNDLE/rootfs (whiteouts remove what lower
// layers made, image-spec "layer.md"), and BUNDLE/config.json made from the
// runtime's default config with the image's entrypoint, cmd, env, working
// directory and user on top. The layers are someone else's input and the
// unpack runs as root: every path they name is walked inside the rootfs by
// src/image/tree.ts, which never follows a symbolic link (docs/image.md,
// "Safety and failures").
import { closeSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tar from 'tar';
import { SyscallError } from '../syscalls/errors.js';
import { traceLine } from '../syscalls/trace.js';
import { ImageError } from './errors.js';
import { Descriptor, ImageConfig, MEDIA, ResolvedImage, readBlob, resolveImage, sha256 } from './layout.js';
import { AT_O, openAt } from '../syscalls/dirfd.js';
import { Owner, RootTree, pathNames } from './tree.js';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_WHITEOUT = '.wh..wh..opq';
// AUFS's own bookkeeping names (.wh..wh.plnk, .wh..wh.aufs): not whiteouts of a lower file; skipped, as Docker's layer code skips them.
const WHITEOUT_META_PREFIX = '.wh..wh.';

interface LayerEntry {
  path: string;
  type: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime?: Date;
  linkpath?: string;
  data: Buffer;
}

/**
 * Every entry of a layer tar, read with node-tar's parser in strict mode:
 * a truncated archive, a bad header checksum or a short entry is an error,
 * not a partial file.
 */
function readEntries(plain: Buffer): LayerEntry[] {
  const entries: LayerEntry[] = [];
  let problem: string | undefined;
  const parser = new tar.Parser({
    strict: true,
    onwarn: (_code: string, message: string | Error) => {
      problem ??= String(message instanceof Error ? message.message : message);
    },
    onReadEntry: (e) => {
      const chunks: Buffer[] = [];
      e.on('data', (c: Buffer) => chunks.push(c));
      e.on('end', () => {
        const data = Buffer.concat(chunks);
        const size = e.size ?? 0;
        const hasData = e.type === 'File' || e.type === 'OldFile' || e.type === 'ContiguousFile';
        if (hasData && data.length !== size)
          problem ??= `entry '${e.path}' is cut short: ${data.length} of its ${size} bytes`;
        entries.push({
          path: e.path,
          type: e.type,
          size,
          mode: (e.mode ?? 0o644) & 0o7777,
          uid: e.uid ?? 0,
          gid: e.gid ?? 0,
          mtime: e.mtime,
          linkpath: e.linkpath,
          data,
        });
      });
    },
  });
  parser.on('error', (err: Error) => {
    problem ??= err.message.replace(/^TAR_[A-Z_]+: /, '');
  });
  // node-tar's parser works synchronously on what it is given.
  parser.end(plain);
  if (problem) throw new ImageError('bad-layer', `not a valid tar archive: ${problem}`);
  return entries;
}

const asRoot = process.geteuid?.() === 0;

function isWhiteout(names: readonly string[]): boolean {
  return names.length > 0 && names[names.length - 1]!.startsWith(WHITEOUT_PREFIX);
}

/** An opaque whiteout empties its directory; `.wh.NAME` removes NAME. Both below a missing directory do nothing. */
function applyWhiteout(tree: RootTree, names: readonly string[]): void {
  const base = names[names.length - 1]!;
  const parent = names.slice(0, -1);
  if (base !== OPAQUE_WHITEOUT && base.startsWith(WHITEOUT_META_PREFIX)) return;
  const victim = base.slice(WHITEOUT_PREFIX.length);
  // '.wh..' and '.wh...' would remove the directory holding the whiteout, or its parent (the rootfs itself at the top).
  if (base !== OPAQUE_WHITEOUT && (victim === '' || victim === '.' || victim === '..'))
    throw new ImageError('unsafe-path', `a whiteout of '${victim}' names no file of a lower layer`);
  const dir = tree.openDir(parent, { fileIsMissing: true });
  if (dir === undefined) return;
  try {
    if (base === OPAQUE_WHITEOUT) tree.emptyDir(dir);
    else tree.removeAt(dir, victim);
  } finally {
    closeSync(dir);
  }
}

/**
 * Apply one layer: first its whiteouts (they concern the layers below),
 * then its entries, then the owners, modes and times of its directories,
 * deepest first (writing into a directory changes its mtime, and a
 * read-only mode would stop the writes). node-tar parses; the tree
 * (src/image/tree.ts) writes, because a root filesystem holds what a safe
 * archive extractor refuses: absolute symbolic links. Each entry's path is
 * walked from the rootfs without following a link, so no entry, link,
 * whiteout or metadata change lands outside it.
 */
export function applyLayer(tree: RootTree, plain: Buffer, label: string): void {
  let parsed: LayerEntry[];
  try {
    parsed = readEntries(plain);
  } catch (err) {
    if (err instanceof ImageError) throw new ImageError(err.kind, `${label}: ${err.message}`);
    throw err;
  }
  const entries = parsed.map((e) => ({ e, names: undefined as string[] | undefined }));
  const fail = (e: LayerEntry, err: unknown): never => {
    const where = `${label}: entry '${e.path}'`;
    if (err instanceof ImageError) throw new ImageError(err.kind, `${where}: ${err.message}`, { path: e.path });
    if (err instanceof SyscallError)
      throw new ImageError('unpack-failed', `${where}: ${err.message}`, { path: e.path });
    if ((err as NodeJS.ErrnoException)?.code)
      throw new ImageError('unpack-failed', `${where}: ${(err as Error).message}`, { path: e.path });
    throw err;
  };
  for (const item of entries) {
    try {
      item.names = pathNames(item.e.path);
      if (isWhiteout(item.names)) applyWhiteout(tree, item.names);
    } catch (err) {
      fail(item.e, err);
    }
  }
  // Directories whose metadata is still to set, by path; an entry that replaces one drops it (and what was below it).
  const directories = new Map<string, { names: string[]; meta: Owner }>();
  for (const { e, names } of entries) {
    if (!names || isWhiteout(names)) continue;
    const meta: Owner = { uid: e.uid, gid: e.gid, mode: e.mode, mtime: e.mtime };
    try {
      applyEntry(tree, e, names, meta, directories);
    } catch (err) {
      fail(e, err);
    }
  }
  for (const [key, d] of [...directories].reverse()) {
    const parent = tree.openDir(d.names.slice(0, -1));
    if (parent === undefined) continue;
    try {
      if (d.names.length === 0) tree.setDirMetadata(parent, '.', d.meta, asRoot);
      else tree.setDirMetadata(parent, d.names[d.names.length - 1]!, d.meta, asRoot);
    } catch (err) {
      throw new ImageError('unpack-failed', `${label}: directory '${key || '.'}': ${(err as Error).message}`, {
        path: key,
      });
    }
  }
}

function applyEntry(
  tree: RootTree,
  e: LayerEntry,
  names: string[],
  meta: Owner,
  directories: Map<string, { names: string[]; meta: Owner }>,
): void {
  const key = names.join('/');
  if (names.length === 0) {
    if (e.type !== 'Directory')
      throw new ImageError('bad-layer', `the root of the layer is a ${e.type}, not a directory`);
    directories.set(key, { names, meta });
    return;
  }
  const name = names[names.length - 1]!;
  const dir = tree.openDir(names.slice(0, -1), { create: true })!;
  try {
    const existing = tree.lstatAt(dir, name);
    // A later layer replaces what was there, except a directory stays a directory.
    if (existing && !(e.type === 'Directory' && existing.isDirectory())) {
      tree.removeAt(dir, name);
      for (const k of directories.keys()) if (k === key || k.startsWith(key + '/')) directories.delete(k);
    }
    switch (e.type) {
      case 'Directory':
        if (!existing?.isDirectory()) tree.mkdir(dir, name);
        directories.set(key, { names, meta });
        return;
      case 'File':
      case 'OldFile':
      case 'ContiguousFile':
        tree.writeFile(dir, name, e.data, meta, asRoot);
        return;
      case 'SymbolicLink':
        if (!e.linkpath) throw new ImageError('bad-layer', 'a symbolic link with no target');
        tree.symlink(dir, name, e.linkpath, meta, asRoot);
        return;
      case 'Link': {
        // A hard link names a file already in the root filesystem, found the same way (no link followed);
        // it shares that file's metadata.
        const target = pathNames(e.linkpath ?? '');
        if (target.length === 0) throw new ImageError('bad-layer', 'a hard link with no target');
        const from = tree.openDir(target.slice(0, -1));
        if (from === undefined)
          throw new ImageError('bad-layer', `hard link to '${e.linkpath}', which is not in the root filesystem`);
        try {
          tree.link(from, target[target.length - 1]!, dir, name);
        } finally {
          closeSync(from);
        }
        return;
      }
      case 'FIFO':
      case 'CharacterDevice':
      case 'BlockDevice':
        // Device nodes in a layer: the runtime makes /dev itself, and a
        // student's unpack must not need root; they are left out, as rootless umoci does.
        return;
      default:
        throw new ImageError('unsupported', `tar type ${e.type} is not supported`);
    }
  } finally {
    closeSync(dir);
  }
}

/** The plain tar of layer `i`: size and digest checked as the blob is read, then the diff_id of the uncompressed bytes. */
function layerBytes(layout: string, image: ResolvedImage, i: number, label: string): Buffer {
  const desc = image.manifest.layers[i]!;
  let blob: Buffer;
  try {
    blob = readBlob(layout, desc);
  } catch (err) {
    if (err instanceof ImageError) throw new ImageError(err.kind, `${label}: ${err.message}`, { path: layout });
    throw err;
  }
  let plain: Buffer;
  if (desc.mediaType === MEDIA.layerGzip || desc.mediaType === MEDIA.dockerLayerGzip) {
    try {
      plain = gunzipSync(blob);
    } catch (err) {
      throw new ImageError('bad-layer', `${label}: not valid gzip: ${(err as Error).message}`, { path: layout });
    }
  } else if (desc.mediaType === MEDIA.layerTar) plain = blob;
  else
    throw new ImageError('unsupported', `${label} has media type ${desc.mediaType} (gzip or plain tar layers only)`, {
      path: layout,
    });
  const diffId = image.config.rootfs.diff_ids[i];
  if (sha256(plain) !== diffId)
    throw new ImageError('bad-blob', `${label} does not match its diff_id ${diffId}`, { path: layout });
  return plain;
}

function layerLabel(i: number, desc: Descriptor): string {
  return `layer ${i + 1} (${String(desc.digest).slice(0, 19)})`;
}

/** A file of the image's root filesystem, reached without following a link; undefined when it cannot be read so. */
function readImageFile(rootfs: string, path: string): string | undefined {
  let tree: RootTree | undefined;
  try {
    tree = new RootTree(rootfs);
    const names = pathNames(path);
    const dir = tree.openDir(names.slice(0, -1));
    if (dir === undefined) return undefined;
    try {
      const fd = openAt(dir, names[names.length - 1]!, AT_O.O_RDONLY | AT_O.O_NOFOLLOW | AT_O.O_CLOEXEC, 0, {
        allow: ['ENOENT', 'ELOOP', 'ENOTDIR'],
      });
      if (fd < 0) return undefined;
      try {
        return readFileSync(fd, 'utf8');
      } finally {
        closeSync(fd);
      }
    } finally {
      closeSync(dir);
    }
  } catch {
    return undefined;
  } finally {
    tree?.close();
  }
}

/** A name or number from the rootfs's /etc/passwd or /etc/group, like umoci (and runc's user package) resolve it. */
function lookupId(rootfs: string, file: 'passwd' | 'group', who: string): { id: number; gid?: number } | undefined {
  if (/^\d+$/.test(who)) return { id: Number(who) };
  const text = readImageFile(rootfs, `etc/${file}`);
  if (text === undefined) return undefined;
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === who) return { id: Number(f[2]), gid: file === 'passwd' ? Number(f[3]) : undefined };
  }
  return undefined;
}

function homeOf(rootfs: string, uid: number): string | undefined {
  const line = readImageFile(rootfs, 'etc/passwd')
    ?.split('\n')
    .find((l) => l.split(':')[2] === String(uid));
  return line?.split(':')[5] || undefined;
}

export interface RuntimeUser {
  uid: number;
  gid: number;
}

/** The image's User ("name", "uid", "uid:gid", "name:group") as numbers. */
export function resolveUser(rootfs: string, user: string | undefined): RuntimeUser {
  if (!user) return { uid: 0, gid: 0 };
  const [u = '', g] = user.split(':'); // split gives at least one field
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
  if (existsSync(opts.bundle) && readdirSync(opts.bundle).length > 0)
    throw new ImageError('exists', `bundle ${opts.bundle} exists and is not empty`, { path: opts.bundle });
  const layers = image.manifest.layers ?? [];
  const diffIds = image.config.rootfs?.diff_ids ?? [];
  if (layers.length !== diffIds.length)
    throw new ImageError(
      'bad-blob',
      `the manifest has ${layers.length} layers but the image config ${diffIds.length} diff_ids`,
      { path: opts.layout },
    );
  const madeBundle = !existsSync(opts.bundle);
  const rootfs = join(opts.bundle, 'rootfs');
  try {
    mkdirSync(rootfs, { recursive: true, mode: 0o755 });
    const tree = new RootTree(rootfs);
    try {
      for (let i = 0; i < layers.length; i++) {
        const layer = layers[i]!;
        const label = layerLabel(i, layer);
        const plain = layerBytes(opts.layout, image, i, label);
        traceLine(
          `${label}: ${layer.size} bytes, digest and diff_id checked; applying it below ${rootfs}, no symbolic link followed`,
        );
        applyLayer(tree, plain, label);
      }
    } finally {
      tree.close();
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
