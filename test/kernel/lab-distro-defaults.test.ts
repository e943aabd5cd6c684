// The labs on a distribution's defaults, each made here in a throwaway
// namespace. Lab 9 on its first run after boot: /run/netns does not exist yet, and the
// first `netns add` makes it a mount point of its own, which stays. That is
// the system's, not the lab's leftover. Made here with a fresh /run in a
// throwaway network and mount namespace (unshare -n -m): nothing reaches
// the host's network or mounts.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, BIN, ROOT, needRoot } from '../helpers/tools.js';

t.test('lab 9 passes when its netns add is the first since boot', { skip: needRoot(), timeout: 300_000 }, async (t) => {
  const script = [
    'set -e',
    'ip link set lo up',
    'mount -t tmpfs -o mode=755 nslab-fresh-run /run',
    'test ! -e /run/netns',
    `node ${join(ROOT, 'dist', 'ts-lab.cjs')} check --no-sandbox network-namespace || echo "exit $?"`,
    'findmnt -n -o TARGET /run/netns || echo "no /run/netns mount"',
  ].join('\n');
  const r = spawnSync('unshare', ['-n', '-m', '--propagation', 'private', '--', 'sh', '-c', script], {
    encoding: 'utf8',
    env: cleanEnv({ PATH: `${BIN}:${process.env.PATH}`, CI: '' }),
    timeout: 240_000,
  });
  t.match(r.stdout, /^result network-namespace pass/m, r.stdout + r.stderr);
  t.notMatch(r.stdout, /LEFT/, 'nothing reported as left');
  t.match(r.stdout, /^\/run\/netns$/m, 'and /run/netns did become a mount point (the case this is about)');
});

t.test(
  'lab 14 with /tmp a nodev tmpfs (Debian 13): it works in /var/tmp and passes; forced into the nodev mount, it fails as on Debian',
  { skip: needRoot(), timeout: 400_000 },
  async (t) => {
    const dir = `/tmp/nslab-nodev-test-${process.pid}`;
    const lab = `node ${join(ROOT, 'dist', 'ts-lab.cjs')} check --no-sandbox putting-it-together`;
    const script = [
      `mkdir -p ${dir}`,
      `mount -t tmpfs -o nodev nslab-nodev ${dir}`,
      `TMPDIR=${dir} ${lab}; echo "exit $?"`,
      'echo ===',
      `TMPDIR=${dir} NSLAB_WORK_DIR=${dir} ${lab}; echo "exit $?"`,
      `umount ${dir}; rmdir ${dir}`,
    ].join('\n');
    const r = spawnSync('unshare', ['-n', '-m', '--propagation', 'private', '--', 'sh', '-c', script], {
      encoding: 'utf8',
      env: cleanEnv({ PATH: `${BIN}:${process.env.PATH}`, CI: '', NSLAB_CGROUP_PARENT: '.' }),
      timeout: 380_000,
    });
    const [chosen, forced] = r.stdout.split('===\n');
    t.match(chosen, /^result putting-it-together pass/m, chosen + r.stderr);
    t.match(
      forced ?? '',
      /^result putting-it-together fail/m,
      'forced into the nodev mount it fails, as the issue saw',
    );
    t.match(forced ?? '', /Permission denied/, "with the student's error (can't open /dev/null)");
  },
);

t.test(
  'the sandbox keeps /etc/resolv.conf working when it links into /run (systemd-resolved)',
  { skip: needRoot(), timeout: 120_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'nslab-test-resolved-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'etc'));
    mkdirSync(join(dir, 'labs'));
    writeFileSync(
      join(dir, 'labs', 'dns.json'),
      JSON.stringify({
        id: 'dns',
        order: 1,
        title: 'dns',
        intro: ['x'],
        steps: [
          {
            id: 'stub',
            explain: 'x',
            run: 'cat /etc/resolv.conf',
            checks: [{ that: "the stub's file is there", match: '^nameserver 127\\.0\\.0\\.53$' }],
          },
          {
            id: 'upstream',
            explain: 'x',
            run: 'cat /run/systemd/resolve/resolv.conf',
            checks: [{ that: "and resolved's upstream list", match: '^nameserver 192\\.0\\.2\\.53$' }],
          },
        ],
      }),
    );
    const script = [
      'set -e',
      // Debian 13's layout, in this mount namespace only: /etc holding just the link, resolved's files in /run.
      `ln -s ../run/systemd/resolve/stub-resolv.conf ${dir}/etc/resolv.conf`,
      'mount -t tmpfs -o mode=755 nslab-run /run',
      'mkdir -p /run/systemd/resolve',
      'echo "nameserver 127.0.0.53" > /run/systemd/resolve/stub-resolv.conf',
      'echo "nameserver 192.0.2.53" > /run/systemd/resolve/resolv.conf',
      `mount --bind ${dir}/etc /etc`,
      `node ${join(ROOT, 'dist', 'ts-lab.cjs')} check --sandbox --labs-dir ${dir}/labs dns`,
    ].join('\n');
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', script], {
      encoding: 'utf8',
      env: cleanEnv({ PATH: `${BIN}:${process.env.PATH}` }),
      timeout: 100_000,
    });
    t.match(r.stdout, /^sandbox: /m, 'in the sandbox, whose /run is a fresh tmpfs');
    t.match(r.stdout, /^result dns pass \(2 passed/m, r.stdout + r.stderr);
  },
);
