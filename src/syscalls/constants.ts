// Kernel constants (x86_64/aarch64 share these values) and their names, so
// --trace can print flags the way strace does: CLONE_NEWPID|CLONE_NEWNS.
import { constants as osConstants } from 'node:os';

export type FlagTable = ReadonlyArray<readonly [string, number]>;

// linux/sched.h
export const CLONE = {
  CLONE_VM: 0x00000100,
  CLONE_FS: 0x00000200,
  CLONE_FILES: 0x00000400,
  CLONE_SIGHAND: 0x00000800,
  CLONE_PIDFD: 0x00001000,
  CLONE_VFORK: 0x00004000,
  CLONE_PARENT: 0x00008000,
  CLONE_PARENT_SETTID: 0x00100000,
  CLONE_THREAD: 0x00010000,
  CLONE_NEWNS: 0x00020000,
  CLONE_SYSVSEM: 0x00040000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
  CLONE_NEWTIME: 0x00000080,
} as const;

// linux/mount.h
export const MS = {
  MS_RDONLY: 1,
  MS_NOSUID: 2,
  MS_NODEV: 4,
  MS_NOEXEC: 8,
  MS_SYNCHRONOUS: 16,
  MS_REMOUNT: 32,
  MS_MANDLOCK: 64,
  MS_DIRSYNC: 128,
  MS_NOSYMFOLLOW: 256,
  MS_NOATIME: 1024,
  MS_NODIRATIME: 2048,
  MS_BIND: 4096,
  MS_MOVE: 8192,
  MS_REC: 16384,
  MS_SILENT: 32768,
  MS_UNBINDABLE: 1 << 17,
  MS_PRIVATE: 1 << 18,
  MS_SLAVE: 1 << 19,
  MS_SHARED: 1 << 20,
  MS_RELATIME: 1 << 21,
  MS_STRICTATIME: 1 << 24,
} as const;

export const MNT = {
  MNT_FORCE: 1,
  MNT_DETACH: 2,
  MNT_EXPIRE: 4,
  UMOUNT_NOFOLLOW: 8,
} as const;

export const O = {
  O_RDONLY: 0,
  O_WRONLY: 1,
  O_RDWR: 2,
  O_CREAT: 0o100,
  O_EXCL: 0o200,
  O_NOCTTY: 0o400,
  O_TRUNC: 0o1000,
  O_APPEND: 0o2000,
  O_NONBLOCK: 0o4000,
  O_DIRECTORY: 0o200000,
  O_PATH: 0o10000000,
  O_CLOEXEC: 0o2000000,
} as const;

export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;

// linux/prctl.h
export const PR = {
  PR_SET_PDEATHSIG: 1,
  PR_SET_DUMPABLE: 4,
  PR_SET_NAME: 15,
  PR_CAPBSET_READ: 23,
  PR_SET_CHILD_SUBREAPER: 36,
  PR_SET_NO_NEW_PRIVS: 38,
  PR_CAP_AMBIENT: 47,
} as const;
export const PR_CAP_AMBIENT_RAISE = 2;

/**
 * The one signal table: Linux's numbers by name (SIG.SIGKILL), as Node
 * knows them. signalNumber/signalName below read the same table.
 */
export const SIG = osConstants.signals;

/** errno values by name (ERRNO.EEXIST); errnoName() in errors.ts goes the other way. */
export const ERRNO = osConstants.errno;

export const SIG_DFL = 0;
export const SIG_IGN = 1;
export const SIG_SETMASK = 2;

export const WNOHANG = 1;
/** waitpid(2): report stopped children too. */
export const WUNTRACED = 2;

/** access(2) modes. */
export const W_OK = 2;

/** Signal number by name ('TERM', 'SIGTERM', '15'); undefined if unknown. */
export function signalNumber(name: string): number | undefined {
  if (/^\d+$/.test(name)) {
    const n = Number(name);
    return n > 0 && n < 65 ? n : undefined;
  }
  const upper = name.toUpperCase();
  const key = (upper.startsWith('SIG') ? upper : 'SIG' + upper) as keyof typeof osConstants.signals;
  return SIG[key];
}

export function signalName(num: number): string {
  for (const [name, value] of Object.entries(SIG)) if (value === num) return name;
  return `SIG${num}`;
}

function table(obj: Record<string, number>): FlagTable {
  return Object.entries(obj);
}
export const CLONE_FLAGS = table(CLONE);
export const MOUNT_FLAGS = table(MS);
export const UMOUNT_FLAGS = table(MNT);

/** 'A|B|0x10' for a bit set, like strace; '0' for none. */
export function decodeFlags(flags: FlagTable, value: number, extra?: (rest: number) => string | undefined): string {
  const parts: string[] = [];
  let rest = value >>> 0;
  // No destructuring: it goes through the iterator protocol, slow in V8's
  // interpreter, where these short-lived tools run (half a millisecond of a
  // ts-runc run in a CPU profile).
  for (let i = 0; i < flags.length; i++) {
    const name = flags[i]![0];
    const bit = flags[i]![1];
    if (bit !== 0 && (rest & bit) === bit) {
      parts.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest) parts.push(extra?.(rest) ?? '0x' + rest.toString(16));
  return parts.length ? parts.join('|') : '0';
}

/** clone(2) flags: the low byte is the exit signal (SIGCHLD). */
export function decodeCloneFlags(value: number): string {
  const signal = value & 0xff;
  const rest = value & ~0xff;
  const names = rest ? decodeFlags(CLONE_FLAGS, rest) : '';
  const parts = [names, signal ? signalName(signal) : ''].filter((p) => p && p !== '0');
  return parts.length ? parts.join('|') : '0';
}
