// The leftover check blames a lab only for what the lab could have made.
// Unrelated activity during a lab (another program's mounts, links, netns
// files, cgroups) is made by a parallel process while the lab runs: both in
// one throwaway network, mount and UTS namespace of the test's own (the lab
// run sees that process's mounts and links as "the host"), the cgroups below
// the test's own cgroup. The lab still passes; a lab that really leaks still
// fails, naming what it left.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needRoot, ROOT, run, tool } from '../helpers/tools.js';
import { labInventory, leftSince } from '../helpers/lab.js';
import { cleanEnv } from '../helpers/tools.js';
import { isLabsOwn, ownership } from '../../src/lab/leftovers.js';
import { ownCgroupDirs } from '../../src/lab/inventory.js';
import { Lab } from '../../src/lab/types.js';

function labsWith(file: string, change: (lab: any) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'nslab-test-labs-'));
  const lab = JSON.parse(readFileSync(join(ROOT, 'labs', file), 'utf8'));
  change(lab);
  writeFileSync(join(dir, file), JSON.stringify(lab, null, 2));
  return dir;
}

/** ts-lab check LAB in a network, mount and UTS namespace of its own, with `beside` running in parallel in the same ones. */
function checkBeside(labsDir: string, lab: string, beside: string, env: NodeJS.ProcessEnv) {
  const script = [
    'set -e',
    // Private /run, as the sandbox has: netns files made here stay here.
    'mount --make-rprivate /',
    'mount -t tmpfs nslab-test-run /run',
    'ip link set lo up',
    `( ${beside} ) &`,
    'set +e',
    `"$TS_LAB" check --no-sandbox --json ${lab}; status=$?`,
    'wait',
    'exit $status',
  ].join('\n');
  return run(['unshare', '-n', '-m', '-u', '--', 'bash', '-c', script], {
    env: cleanEnv({
      NSLAB_LABS_DIR: labsDir,
      NSLAB_CGROUP_PARENT: '.',
      NSLAB_PROGRESS_FILE: 'off',
      TS_LAB: tool('lab'),
      ...env,
    }),
    timeout: 300_000,
  });
}

t.test('what the lab names is its own; what others make is not', async (t) => {
  const lab = {
    id: 'x',
    steps: [
      {
        id: 's',
        run: 'ip netns add mynet && ts-veth add veth-a veth-b && mount -t tmpfs t /mnt/lab-scratch && ts-cgroup create $LAB_CGROUPS/nslab-lab-memory',
        checks: [{ that: 'p', probe: { run: 'mount --bind /srv/data /srv/data' } }],
      },
    ],
    owns: ['cni-*'],
  } as unknown as Lab;
  const o = ownership(lab, '/tmp/nslab-x-abc123');
  t.ok(isLabsOwn(o, 'netns files: /run/netns/mynet'));
  t.notOk(isLabsOwn(o, 'netns files: /run/netns/docker-1'));
  t.ok(isLabsOwn(o, 'network devices: veth-a'));
  t.notOk(isLabsOwn(o, 'network devices: docker0'));
  t.ok(isLabsOwn(o, 'mounts: /tmp/nslab-x-abc123/rootfs/proc (proc)'), "under the lab's directory");
  t.ok(isLabsOwn(o, 'mounts: /mnt/lab-scratch (tmpfs)'), 'a path its command names');
  t.ok(isLabsOwn(o, 'mounts: /mnt/lab-scratch/deeper (tmpfs)'), 'below it');
  t.ok(isLabsOwn(o, 'mounts: /srv/data (none)'), 'a path a probe names');
  t.notOk(isLabsOwn(o, 'mounts: /mnt/other (tmpfs)'), '/mnt is everyone’s: only the exact path named is the lab’s');
  t.notOk(isLabsOwn(o, 'mounts: /var/lib/docker/overlay2/abc/merged (overlay)'));
  t.ok(isLabsOwn(o, 'mounts: /run/netns/mynet (nsfs)'));
  t.ok(isLabsOwn(o, 'cgroups: /sys/fs/cgroup/nslab-lab-memory/child'));
  t.notOk(isLabsOwn(o, 'cgroups: /sys/fs/cgroup/nslab-lab-pod-sandbox'), "another lab's cgroup");
  t.ok(isLabsOwn(o, 'netns files: /run/netns/cni-1234'), 'declared in owns');
  t.ok(isLabsOwn(o, 'processes: 1234 sleep'), 'processes are always its own (its descendants)');
});

t.test(
  'unrelated mounts, links, netns files and cgroups during a lab do not fail it',
  { skip: needRoot() },
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'nslab-test-unrelated-'));
    const cgroups = ownCgroupDirs();
    t.ok(cgroups.length, 'the test has a cgroup directory to make one below');
    // Named like a lab's cgroup on purpose: another lab's name is not this lab's.
    const strayCgroups = cgroups.slice(0, 1).map((d) => join(d, 'nslab-lab-unrelated'));
    t.teardown(() => {
      for (const c of strayCgroups) if (existsSync(c)) rmdirSync(c);
      rmSync(work, { recursive: true, force: true });
    });
    // The lab waits at its first step until the parallel process is done, so
    // the activity falls between the inventories before and after (no timing).
    const labs = labsWith('09-network-namespace.json', (lab) => {
      lab.steps.unshift({
        id: 'meanwhile',
        explain: 'another program is busy',
        run: 'touch "$NSLAB_TEST_GO"; for i in $(seq 600); do [ -e "$NSLAB_TEST_DONE" ] && break; sleep 0.1; done; cat "$NSLAB_TEST_DONE"',
        checks: [{ that: 'the other program finished', contains: 'finished' }],
      });
    });
    t.teardown(() => rmSync(labs, { recursive: true, force: true }));
    const go = join(work, 'go');
    const done = join(work, 'done');
    mkdirSync(join(work, 'mnt'));
    const beside = [
      `for i in $(seq 600); do [ -e ${go} ] && break; sleep 0.1; done`,
      `mount -t tmpfs unrelated ${work}/mnt`,
      `mount -t tmpfs unrelated-tmp /mnt`,
      'ip link add unrelated0 type veth peer name unrelated1',
      'ip link add unrelated-br type bridge',
      'ip netns add unrelated-ns',
      ...strayCgroups.map((c) => `mkdir ${c}`),
      `echo finished > ${done}`,
    ].join(' && ');
    const before = labInventory();
    const r = checkBeside(labs, 'network-namespace', beside, { NSLAB_TEST_GO: go, NSLAB_TEST_DONE: done });
    t.equal(r.code, 0, `the lab passes: ${r.stderr}`);
    const report = JSON.parse(r.stdout).labs[0];
    t.equal(report.outcome, 'pass');
    t.same(report.leftovers, [], 'nothing is blamed on the lab');
    const unrelated: string[] = report.unrelated ?? [];
    t.ok(unrelated.includes(`mounts: ${work}/mnt (tmpfs)`), 'the other mount was seen, and set aside');
    t.ok(unrelated.includes('mounts: /mnt (tmpfs)'), 'and the one on /mnt');
    t.ok(
      ['unrelated0', 'unrelated1', 'unrelated-br'].every((l) => unrelated.includes(`network devices: ${l}`)),
      'the other links too',
    );
    t.ok(unrelated.includes('netns files: /run/netns/unrelated-ns'), 'and the netns file');
    for (const c of strayCgroups) t.ok(unrelated.includes(`cgroups: ${c}`), `and the cgroup ${c}`);
    for (const c of strayCgroups) rmdirSync(c);
    t.same(await leftSince(before), {}, 'nothing left on the machine once the namespaces are gone');
  },
);

t.test('a lab that really leaks still fails, and says what it left', { skip: needRoot() }, async (t) => {
  const mountPoint = join(tmpdir(), 'nslab-test-leak-mnt');
  t.teardown(() => rmSync(mountPoint, { recursive: true, force: true }));
  const labs = labsWith('06-uts-namespace.json', (lab) => {
    lab.steps.push({
      id: 'leak',
      explain: 'forgets to clean up',
      run: `ip link add nslab-leak0 type veth peer name nslab-leak1 && mkdir -p ${mountPoint} && mount -t tmpfs nslab-leak ${mountPoint}`,
    });
  });
  t.teardown(() => rmSync(labs, { recursive: true, force: true }));
  const before = labInventory();
  // Something unrelated at the same time does not hide the leak, nor add to it.
  const r = checkBeside(labs, 'uts-namespace', 'ip link add unrelated0 type dummy', {});
  t.equal(r.code, 1, 'the lab fails');
  const report = JSON.parse(r.stdout).labs[0];
  t.same(
    report.leftovers.sort(),
    ['mounts: ' + mountPoint + ' (tmpfs)', 'network devices: nslab-leak0', 'network devices: nslab-leak1'],
    'its own leftovers, and only those',
  );
  t.same(await leftSince(before), {}, 'nothing left on the machine once the namespaces are gone');
});
