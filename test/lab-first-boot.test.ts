// Lab 9 on its first run after boot: /run/netns does not exist yet, and the
// first `netns add` makes it a mount point of its own, which stays. That is
// the system's, not the lab's leftover. Made here with a fresh /run in a
// throwaway network and mount namespace (unshare -n -m): nothing reaches
// the host's network or mounts.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BIN, ROOT, needRoot } from './helpers/tools.js';
import { cleanEnv } from './lab-helpers.js';

t.test('lab 9 passes when its netns add is the first since boot', { skip: needRoot(), timeout: 300_000 }, async (t) => {
  const script = [
    'set -e',
    'ip link set lo up',
    'mount -t tmpfs -o mode=755 nslab-fresh-run /run',
    'test ! -e /run/netns',
    `node ${join(ROOT, 'dist', 'ts-lab.cjs')} check --no-sandbox network-namespace || echo "exit $?"`,
    'findmnt -n -o TARGET /run/netns || echo "no /run/netns mount"',
  ].join('\n');
  const r = spawnSync('unshare', ['-n', '-m', '--propagation', 'private', '--', 'sh', '-c', script], { encoding: 'utf8', env: cleanEnv({ PATH: `${BIN}:${process.env.PATH}`, CI: '' }), timeout: 240_000 });
  t.match(r.stdout, /^result network-namespace pass/m, r.stdout + r.stderr);
  t.notMatch(r.stdout, /LEFT/, 'nothing reported as left');
  t.match(r.stdout, /^\/run\/netns$/m, 'and /run/netns did become a mount point (the case this is about)');
});
