// ts-lab reset: it leaves a lab that is running in another terminal alone
// (its runner holds /run/nslab/running/<lab>.<pid>), runs that lab's cleanup
// once it has ended, and undoes an exercise (pids-limit: the process in the
// pid file, its cgroup, the file), but not when the pid file names a process
// started after it was written. Everything runs in PID, network, mount and
// UTS namespaces of the test's own, with its own /run and /tmp: reset sees
// no other process, pid file or lab of the machine.
import t from 'tap';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { needRoot, ROOT, run, tool } from '../helpers/tools.js';
import { cleanEnv } from '../helpers/tools.js';
import { readMountInfo } from '../../src/syscalls/mountinfo.js';

/** The directory of our own cgroup in a hierarchy where a child can get pids.max, or why there is none. */
function pidsCgroupHome(): { dir?: string; why?: string } {
  const mounts = readMountInfo();
  const own = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  const v1 = mounts.find((m) => m.fstype === 'cgroup' && m.superOptions.includes('pids'));
  if (v1) {
    const line = own.find((l) => l.split(':')[1].split(',').includes('pids'));
    if (line) return { dir: join(v1.mountPoint, line.split(':')[2]) };
  }
  const v2 = mounts.find((m) => m.fstype === 'cgroup2');
  if (v2) {
    const dir = join(v2.mountPoint, own.find((l) => l.startsWith('0::'))!.slice(3));
    if (readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes('pids')) return { dir };
    return { why: `cgroup v2: the pids controller is not enabled below ${dir} (it holds processes)` };
  }
  return { why: 'no cgroup hierarchy with the pids controller' };
}

const home = pidsCgroupHome();

t.test(
  'reset keeps a running lab, cleans an ended one, and undoes the pids exercise',
  { skip: needRoot() || (home.dir ? false : home.why) },
  async (t) => {
    // Not in /tmp: the script puts a tmpfs of its own there.
    const labs = mkdtempSync(join('/var/tmp', 'nslab-test-labs-'));
    const keep = mkdtempSync(join('/var/tmp', 'nslab-test-keep-'));
    t.teardown(() => {
      rmSync(labs, { recursive: true, force: true });
      rmSync(keep, { recursive: true, force: true });
    });
    mkdirSync(join(labs, 'exercises'));
    copyFileSync(join(ROOT, 'labs/exercises/pids-limit.json'), join(labs, 'exercises/pids-limit.json'));
    writeFileSync(
      join(labs, 'waits.json'),
      JSON.stringify({
        id: 'waits',
        order: 1,
        title: 'A lab that waits',
        intro: ['For tests.'],
        steps: [
          {
            id: 'wait',
            explain: 'waits for the test',
            run: 'for i in $(seq 600); do [ -e /tmp/release ] && break; sleep 0.1; done; echo released',
            checks: [{ that: 'released', contains: 'released' }],
          },
        ],
        cleanup: ['touch /tmp/cleanup-ran'],
      }),
    );
    const cgroup = join(home.dir!, `nslab-test-reset-${process.pid}`);
    const stale = join(home.dir!, `nslab-test-stale-${process.pid}`);
    t.teardown(() => {
      for (const d of [cgroup, stale]) if (existsSync(d)) rmdirSync(d);
    });
    const script = `
    set -u
    mount --make-rprivate / && mount -t tmpfs t /run || exit 1
    # A checkout under /tmp (a CI clone) stays reachable below the new /tmp.
    case "$NSLAB_ROOT/" in
      /tmp/*) mount --rbind "$NSLAB_ROOT" "$KEEP" && mount -t tmpfs t /tmp && mkdir -p "$NSLAB_ROOT" && mount --move "$KEEP" "$NSLAB_ROOT" || exit 1 ;;
      *) mount -t tmpfs t /tmp || exit 1 ;;
    esac
    "$TS_LAB" check --no-sandbox waits > /tmp/lab.out 2>&1 &
    lab=$!
    for i in $(seq 600); do ls /run/nslab/running/waits.* >/dev/null 2>&1 && break; sleep 0.1; done
    echo "== marks"; ls /run/nslab/running
    echo "== reset while running"; "$TS_LAB" reset
    [ -e /tmp/cleanup-ran ] && echo "CLEANUP RAN WHILE RUNNING"
    touch /tmp/release; wait $lab; echo "== lab exit $?"
    echo "== marks after"; ls /run/nslab/running
    rm -f /tmp/cleanup-ran
    echo "== reset after"; "$TS_LAB" reset
    [ -e /tmp/cleanup-ran ] && echo "cleanup ran after"

    # The pids exercise, solved: a sleep in a cgroup with pids.max 20.
    mkdir ${cgroup} && echo 20 > ${cgroup}/pids.max
    sh -c 'echo $$ > ${cgroup}/cgroup.procs && exec sleep 1000' & ex=$!
    sleep 0.2; echo $ex > /tmp/nslab-pids.pid
    echo "== reset exercise"; "$TS_LAB" reset
    sleep 0.2
    [ -d /proc/$ex ] && [ "$(cat /proc/$ex/stat | cut -d' ' -f3)" != Z ] && echo "EXERCISE PROCESS ALIVE"
    [ -d ${cgroup} ] && echo "EXERCISE CGROUP LEFT"
    [ -e /tmp/nslab-pids.pid ] && echo "PID FILE LEFT"

    # A pid file older than the process it names: a reused PID, not the student's.
    mkdir ${stale} && echo 20 > ${stale}/pids.max
    echo 1 > /tmp/nslab-pids.pid; touch -d '-1 hour' /tmp/nslab-pids.pid
    sh -c 'echo $$ > ${stale}/cgroup.procs && exec sleep 1000' & st=$!
    echo $st > /tmp/nslab-pids.pid.new; touch -d '-1 hour' /tmp/nslab-pids.pid.new; mv /tmp/nslab-pids.pid.new /tmp/nslab-pids.pid
    echo "== reset stale"; "$TS_LAB" reset
    [ -d /proc/$st ] && echo "stale process kept"
    kill -KILL $st; wait $st 2>/dev/null
    for i in $(seq 50); do [ -z "$(cat ${stale}/cgroup.procs)" ] && break; sleep 0.1; done
    rmdir ${stale}
    true
  `;
    const r = run(['unshare', '-p', '-f', '--mount-proc', '-n', '-m', '-u', '--', 'bash', '-c', script], {
      env: cleanEnv({
        NSLAB_LABS_DIR: labs,
        NSLAB_CGROUP_PARENT: '.',
        NSLAB_PROGRESS_FILE: 'off',
        TS_LAB: tool('lab'),
        NSLAB_ROOT: ROOT,
        KEEP: keep,
      }),
      timeout: 300_000,
    });
    t.equal(r.code, 0, r.stderr);
    // The output of each part of the script, by its "== name" line.
    const parts = new Map(
      r.stdout.split(/^== /m).map((p) => [p.slice(0, p.indexOf('\n')), p.slice(p.indexOf('\n') + 1)]),
    );
    const part = (name: string) => parts.get(name) ?? '';
    t.match(part('marks'), /^waits\.\d+$/m, 'the running lab holds its mark');
    t.match(
      part('reset while running'),
      /^kept {4}waits: running in another terminal \(ts-lab \d+\)$/m,
      'reset says it keeps the running lab',
    );
    t.notMatch(r.stdout, /CLEANUP RAN WHILE RUNNING/, "and does not run that lab's cleanup");
    t.match(r.stdout, /^== lab exit 0$/m, 'the lab, left alone, passes');
    t.equal(part('marks after').trim(), '', 'its mark is gone when it ends');
    t.match(part('reset after'), /^done {4}waits: touch \/tmp\/cleanup-ran$/m, 'once ended, reset runs its cleanup');
    t.match(r.stdout, /^cleanup ran after$/m);
    t.match(
      part('reset exercise'),
      /^done {4}exercise pids-limit: stopped the processes of \S+ and removed it$/m,
      'reset undoes the exercise',
    );
    t.notMatch(
      r.stdout,
      /EXERCISE PROCESS ALIVE|EXERCISE CGROUP LEFT|PID FILE LEFT/,
      'process, cgroup and pid file are gone',
    );
    t.match(
      part('reset stale'),
      /^nothing exercise pids-limit: process \d+ started after \/tmp\/nslab-pids\.pid was written: another program's PID, left alone$/m,
      'a PID reused since the file was written is not touched',
    );
    t.match(r.stdout, /^stale process kept$/m);
  },
);
