// The images the pod labs need, made offline from this host's own static
// binaries: `nslab/pause` (catatonit, the tiny init that CRI sandboxes keep
// running to hold the pod's namespaces) and `nslab/web` (busybox's httpd
// serving one page). A recipe is data: files to copy in, files to write,
// and the image config.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ImageError } from './errors.js';
import { BuildOptions, BuiltImage, buildImage } from './build.js';

export interface Recipe {
  name: string;
  summary: string;
  /** Host file -> path in the image; the first existing candidate is taken. */
  copy: Array<{ from: string[]; to: string; package: string }>;
  /** Symbolic links: path in the image -> target. */
  links?: Record<string, string>;
  /** Files written into the image. */
  write?: Record<string, string>;
  dirs?: string[];
  config: Pick<
    BuildOptions,
    'entrypoint' | 'cmd' | 'env' | 'workingDir' | 'user' | 'exposedPorts' | 'stopSignal' | 'labels'
  >;
}

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nnogroup:x:65534:\n';

export const RECIPES: Record<string, Recipe> = {
  pause: {
    name: 'nslab/pause:latest',
    summary: 'the pod sandbox process: catatonit -P waits for signals and never exits on its own',
    copy: [{ from: ['/usr/bin/catatonit', '/usr/libexec/catatonit/catatonit'], to: 'catatonit', package: 'catatonit' }],
    write: { 'etc/passwd': PASSWD, 'etc/group': GROUP },
    config: {
      entrypoint: ['/catatonit', '-P'],
      stopSignal: 'SIGINT',
      labels: { 'org.opencontainers.image.title': 'nslab pause' },
    },
  },
  web: {
    name: 'nslab/web:latest',
    summary: "busybox's httpd serving /www/index.html on port 80, plus a shell, ip and wget for exercises",
    copy: [{ from: ['/bin/busybox', '/usr/bin/busybox'], to: 'bin/busybox', package: 'busybox-static' }],
    links: Object.fromEntries(
      [
        'sh',
        'ls',
        'cat',
        'echo',
        'ip',
        'wget',
        'ps',
        'hostname',
        'sleep',
        'httpd',
        'id',
        'ifconfig',
        'netstat',
        'true',
        'readlink',
        'mount',
        'env',
      ].map((a) => [`bin/${a}`, 'busybox']),
    ),
    write: {
      'etc/passwd': PASSWD,
      'etc/group': GROUP,
      'www/index.html':
        '<!doctype html>\n<title>nslab web</title>\n<h1>Hello from a pod</h1>\n<p>Served by busybox httpd from a container in a pod.</p>\n',
    },
    dirs: ['tmp', 'proc', 'sys', 'dev', 'etc', 'root'],
    config: {
      entrypoint: ['/bin/busybox', 'httpd', '-f', '-v', '-p', '80', '-h', '/www'],
      env: ['PATH=/bin'],
      workingDir: '/www',
      exposedPorts: ['80/tcp'],
      labels: { 'org.opencontainers.image.title': 'nslab web' },
    },
  },
};

/** Assemble a recipe's root filesystem in a scratch directory and build it into `layout`. */
export function buildRecipe(recipeName: string, layout: string, created?: Date): BuiltImage {
  const recipe = RECIPES[recipeName];
  if (!recipe)
    throw new ImageError('no-such-ref', `no recipe '${recipeName}'`, { ref: recipeName, known: Object.keys(RECIPES) });
  const root = mkdtempSync(join(tmpdir(), `nslab-image-${recipeName}-`));
  try {
    for (const d of recipe.dirs ?? []) mkdirSync(join(root, d), { recursive: true });
    for (const c of recipe.copy) {
      const from = c.from.find((f) => existsSync(f));
      if (!from)
        throw new ImageError('missing-program', `${c.from[0]} is missing: install the ${c.package} package`, {
          path: c.from[0],
          ref: c.package,
        });
      mkdirSync(dirname(join(root, c.to)), { recursive: true });
      copyFileSync(from, join(root, c.to));
      chmodSync(join(root, c.to), 0o755);
    }
    for (const [path, target] of Object.entries(recipe.links ?? {})) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      symlinkSync(target, join(root, path));
    }
    for (const [path, text] of Object.entries(recipe.write ?? {})) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text, { mode: 0o644 });
    }
    chmodSync(root, 0o755);
    return buildImage({ source: root, layout, name: recipe.name, created, ...recipe.config });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
