// crictl for the tests: the one on PATH, else the copy CI and the developers
// have beside the repository (../shared/tools, cri-tools v1.32.0, unpacked
// once into a cache directory). Users' machines install crictl themselves
// (docs/cri.md); without it the CRI tests skip and say so.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from './tools.js';

const SHARED_COPY = join(ROOT, '..', 'shared', 'tools', 'crictl-v1.32.0-linux-amd64.xz');
const CACHE = '/var/cache/nslab-test-tools';

export function crictlForTests(): { path?: string; dir?: string; why: string } {
  const found = spawnSync('sh', ['-c', 'command -v crictl'], { encoding: 'utf8' }).stdout.trim();
  if (found) return { path: found, dir: dirname(found), why: '' };
  const cached = join(CACHE, 'crictl');
  if (!existsSync(cached) && existsSync(SHARED_COPY) && process.arch === 'x64') {
    const xz = spawnSync('xz', ['-dc', SHARED_COPY], { maxBuffer: 256 * 1024 * 1024 });
    if (xz.status === 0) {
      mkdirSync(CACHE, { recursive: true });
      writeFileSync(cached, xz.stdout);
      chmodSync(cached, 0o755);
    }
  }
  if (existsSync(cached)) return { path: cached, dir: CACHE, why: '' };
  return { why: 'crictl is not installed (see docs/cri.md, "Getting crictl")' };
}
