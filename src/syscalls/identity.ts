// Who a process is: user and group IDs, id maps of a user namespace,
// supplementary groups and capabilities.
import { existsSync, readFileSync } from 'node:fs';
import { Call, makeCall } from './call.js';
import { PR, PR_CAP_AMBIENT_RAISE } from './constants.js';
import { writeKernelFile } from './fs.js';
import { procDir } from './process.js';

export interface IdRange {
  inner: number;
  outer: number;
  count: number;
}

// Id changes are raw system calls, not glibc's wrappers: glibc makes every
// thread of the process change ids with it (the "setxid" broadcast), and a
// plan child is a copy of Node's memory, thread list included (plan.ts), so
// glibc's setuid() there would signal threads that are not in the child.
// Before exec only the calling thread's ids matter: execve keeps those.
const SYS_ID =
  process.arch === 'arm64'
    ? { setuid: 146, setgid: 144, setgroups: 159 }
    : { setuid: 105, setgid: 106, setgroups: 116 };

export function setgroupsCall(): Call {
  return makeCall('syscall', [SYS_ID.setgroups, 0, null], 'setgroups(0, NULL)', {
    hint: 'under "setgroups deny" the kernel refuses setgroups(2) in that user namespace',
  });
}

/** setgroups(2) with a list (chroot --groups, --userspec). */
export function setgroupsListCall(gids: readonly number[], what?: string): Call {
  const list = Buffer.alloc(4 * Math.max(gids.length, 1));
  gids.forEach((g, i) => list.writeUInt32LE(g, 4 * i));
  return makeCall(
    'syscall',
    [SYS_ID.setgroups, gids.length, gids.length ? list : null],
    `setgroups(${gids.length}, [${gids.join(', ')}])`,
    { what },
  );
}

/** The supplementary groups /etc/group lists for a user, plus its primary group. */
export function groupsOfUser(name: string, primary: number): number[] {
  const gids = new Set([primary]);
  for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f.length >= 4 && f[3]!.split(',').includes(name)) gids.add(Number(f[2]));
  }
  return [...gids];
}

export function setgidCall(gid: number): Call {
  return makeCall('syscall', [SYS_ID.setgid, gid], `setgid(${gid})`);
}

export function setuidCall(uid: number): Call {
  return makeCall('syscall', [SYS_ID.setuid, uid], `setuid(${uid})`);
}

/** /proc/PID/setgroups: must be "deny" before an unprivileged gid_map write (Linux 3.19+). */
export function writeSetgroups(pid: number | 'self', value: 'allow' | 'deny'): void {
  const dir = procDir(pid);
  writeKernelFile(`${dir}/setgroups`, value, { what: `write ${dir}/setgroups` });
}

function mapText(ranges: readonly IdRange[]): string {
  return ranges.map((r) => `${r.inner} ${r.outer} ${r.count}`).join('\n') + '\n';
}

/** Write uid_map or gid_map of a process in one write(2), as the kernel requires. */
export function writeIdMap(pid: number | 'self', kind: 'uid' | 'gid', ranges: readonly IdRange[]): void {
  const dir = procDir(pid);
  writeKernelFile(`${dir}/${kind}_map`, mapText(ranges), {
    what: `write ${dir}/${kind}_map`,
    hint: 'an unprivileged process may map only its own id (and for gid_map, write "deny" to setgroups first); larger maps need root or newuidmap',
  });
}

/** The ranges /etc/subuid or /etc/subgid grant to a user (by name or id). */
export function subordinateRanges(
  kind: 'uid' | 'gid',
  user: string,
  id: number,
): Array<{ start: number; count: number }> {
  const file = kind === 'uid' ? '/etc/subuid' : '/etc/subgid';
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim().split(':'))
    .filter((f) => f.length === 3 && (f[0] === user || f[0] === String(id)))
    .map((f) => ({ start: Number(f[1]), count: Number(f[2]) }));
}

/** Parse 'outer,inner,count' (util-linux 2.38) or 'inner:outer:count' (2.39+). */
export function parseIdRange(text: string, resolve: (name: string) => number | undefined): IdRange | undefined {
  const colon = text.split(':');
  const comma = text.split(',');
  const parts = colon.length === 3 ? colon : comma.length === 3 ? comma : undefined;
  if (!parts) return undefined;
  const nums = parts.map((p, i) => (i < 2 && !/^\d+$/.test(p) ? resolve(p) : /^\d+$/.test(p) ? Number(p) : undefined));
  if (nums.some((n) => n === undefined)) return undefined;
  const [a, b, count] = nums as [number, number, number];
  if (count <= 0) return undefined;
  return colon.length === 3 ? { inner: a, outer: b, count } : { outer: a, inner: b, count };
}

export function lookupUser(
  name: string,
): { uid: number; gid: number; name: string; home: string; shell: string } | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    const [user, , uid, gid, , home, shell] = f;
    if (f.length >= 7 && (user === name || uid === name))
      return { name: user!, uid: Number(uid), gid: Number(gid), home: home!, shell: shell! };
  }
  return undefined;
}

export function lookupGroup(name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[0] === name) return Number(f[2]);
  }
  return undefined;
}

export function lookupUid(name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  return lookupUser(name)?.uid;
}

export function userName(uid: number): string | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && Number(f[2]) === uid && f[2] !== '') return f[0];
  }
  return undefined;
}

// linux/capability.h: _LINUX_CAPABILITY_VERSION_3 with two 32-bit data sets.
const CAP_VERSION_3 = 0x20080522;

export function lastCapability(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  } catch {
    return 40;
  }
}

/**
 * --keep-caps: make the inheritable set equal the permitted one, then raise
 * every capability into the ambient set, so they survive exec of a program
 * run as a non-zero uid (capabilities(7), "ambient").
 */
export function keepCapsCalls(): Call[] {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(CAP_VERSION_3, 0);
  // Two __user_cap_data_struct {effective, permitted, inheritable}: caps 0-31, then 32-last.
  const last = lastCapability();
  const high = last >= 32 ? (2 ** (last - 31) - 1) >>> 0 : 0;
  const data = Buffer.alloc(24);
  for (const off of [0, 4, 8]) data.writeUInt32LE(0xffffffff, off);
  for (const off of [12, 16, 20]) data.writeUInt32LE(high, off);
  const calls = [
    makeCall(
      'capset',
      [header, data],
      'capset({_LINUX_CAPABILITY_VERSION_3, 0}, {effective=ALL, permitted=ALL, inheritable=ALL})',
    ),
  ];
  for (let cap = 0; cap <= last; cap++)
    calls.push(
      makeCall(
        'prctl',
        [PR.PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0],
        `prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, ${cap})`,
        { optional: true },
      ),
    );
  return calls;
}
