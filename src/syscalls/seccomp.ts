// seccomp filters: compiled by libseccomp (Debian's libseccomp2, the library
// every container runtime uses) through koffi, in this process; loaded by
// the seccomp(2) call a child plan makes. libseccomp writes the BPF program
// to a file descriptor (seccomp_export_bpf); we read it back from a memfd and
// hand the bytes to the child, which never runs JavaScript.
import { closeSync, fstatSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import type * as Koffi from 'koffi';
import { Call, CallExtra, makeCall } from './call.js';
import { SyscallError } from './errors.js';
import { cfunc, koffi, lastErrno, resetErrno } from './libc.js';
import { traceLine } from './trace.js';

// seccomp.h: actions (the low 16 bits of ERRNO and TRACE carry the data).
export const SCMP_ACT = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  NOTIFY: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

// enum scmp_compare
export const SCMP_CMP: Record<string, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

// enum scmp_filter_attr
const SCMP_FLTATR_CTL_NNP = 3;
const SCMP_FLTATR_CTL_TSYNC = 4;
const SCMP_FLTATR_CTL_LOG = 6;
const SCMP_FLTATR_CTL_SSB = 7;

// linux/seccomp.h
export const SECCOMP_FILTER_FLAG = { TSYNC: 1, LOG: 2, SPEC_ALLOW: 4, NEW_LISTENER: 8 } as const;
const SECCOMP_SET_MODE_FILTER = 1;
const SYS_seccomp = process.arch === 'arm64' ? 277 : 317;
const SYS_pidfd_open = 434;
const SYS_pidfd_getfd = 438;
const ERRNO_EEXIST = 17;

/** An action as text: SCMP_ACT_ERRNO(1). */
export function actionName(action: number): string {
  const base = action >>> 0 === SCMP_ACT.KILL_PROCESS ? action >>> 0 : (action & 0xffff0000) >>> 0;
  const name = Object.entries(SCMP_ACT).find(([, v]) => v === base)?.[0] ?? `0x${base.toString(16)}`;
  return base === SCMP_ACT.ERRNO || base === SCMP_ACT.TRACE
    ? `SCMP_ACT_${name}(${action & 0xffff})`
    : `SCMP_ACT_${name}`;
}

export interface ArgCondition {
  index: number;
  /** SCMP_CMP value. */
  op: number;
  value: bigint;
  valueTwo: bigint;
}

export interface FilterRule {
  /** A syscall number from resolveSyscall (negative for libseccomp's pseudo numbers). */
  syscall: number;
  action: number;
  args: readonly ArgCondition[];
}

export interface FilterSpec {
  defaultAction: number;
  /** Architecture tokens from resolveArch, besides the native one. */
  arches: readonly number[];
  rules: readonly FilterRule[];
  log: boolean;
  specAllow: boolean;
  /** Per architecture (token), the largest syscall number the profile names: see enosysStub. */
  enosys?: ReadonlyArray<{ arch: number; last: number }>;
}

/** libseccomp refused a rule (or the filter): the negative errno it returned. */
export class SeccompLibraryError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    readonly rule?: number,
  ) {
    super(`${call} failed: errno ${errno}`);
  }
}

type Fn = ReturnType<Koffi.LibraryHandle['func']>;
interface Lib {
  init: Fn;
  release: Fn;
  archAdd: Fn;
  archResolve: Fn;
  syscallResolve: Fn;
  syscallResolveArch: Fn;
  ruleAdd: Fn;
  attrSet: Fn;
  exportBpf: Fn;
  apiGet: Fn;
  versionString: string;
}

let lib: Lib | undefined;
/** libseccomp, loaded on first use (most containers of the labs have no profile). */
function libseccomp(): Lib {
  if (lib) return lib;
  let h: Koffi.LibraryHandle;
  try {
    h = koffi.load('libseccomp.so.2');
  } catch (err) {
    throw new SeccompUnavailable(`cannot load libseccomp.so.2 (Debian package libseccomp2): ${(err as Error).message}`);
  }
  const ver = h.func('const void *seccomp_version(void)')() as unknown;
  const v = ver ? (koffi.decode(ver, 'uint32_t', 3) as number[]) : [];
  lib = {
    init: h.func('void *seccomp_init(uint32_t def_action)'),
    release: h.func('void seccomp_release(void *ctx)'),
    archAdd: h.func('int seccomp_arch_add(void *ctx, uint32_t arch)'),
    archResolve: h.func('uint32_t seccomp_arch_resolve_name(const char *name)'),
    syscallResolve: h.func('int seccomp_syscall_resolve_name(const char *name)'),
    syscallResolveArch: h.func('int seccomp_syscall_resolve_name_arch(uint32_t arch, const char *name)'),
    ruleAdd: h.func(
      'int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const void *args)',
    ),
    attrSet: h.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)'),
    exportBpf: h.func('int seccomp_export_bpf(void *ctx, int fd)'),
    apiGet: h.func('unsigned int seccomp_api_get(void)'),
    versionString: v.join('.'),
  };
  return lib;
}

export class SeccompUnavailable extends Error {}

/** libseccomp's version and API level, for messages and tests. */
export function libseccompInfo(): { version: string; api: number } {
  const l = libseccomp();
  return { version: l.versionString, api: l.apiGet() as number };
}

/** An architecture token for a libseccomp name ("x86_64", "x32", "aarch64"), or undefined. */
export function resolveArch(name: string): number | undefined {
  const token = libseccomp().archResolve(name) as number;
  return token ? token >>> 0 : undefined;
}

/**
 * A syscall's number for libseccomp, or undefined when it knows no such name.
 * Syscalls of other architectures (chown32 on x86_64) get negative pseudo
 * numbers that libseccomp maps per architecture.
 */
export function resolveSyscall(name: string): number | undefined {
  const nr = libseccomp().syscallResolve(name) as number;
  return nr === -1 ? undefined : nr; // __NR_SCMP_ERROR
}

/** A syscall's own number on one architecture (no pseudo numbers), or undefined. */
export function resolveSyscallOn(arch: number, name: string): number | undefined {
  const nr = libseccomp().syscallResolveArch(arch >>> 0, name) as number;
  return nr < 0 ? undefined : nr;
}

/** struct scmp_arg_cmp[]: { unsigned arg; enum op; u64 datum_a; u64 datum_b } */
function argArray(args: readonly ArgCondition[]): Buffer | null {
  if (!args.length) return null;
  const b = Buffer.alloc(24 * args.length);
  args.forEach((a, i) => {
    b.writeUInt32LE(a.index, 24 * i);
    b.writeUInt32LE(a.op, 24 * i + 4);
    b.writeBigUInt64LE(BigInt.asUintN(64, a.value), 24 * i + 8);
    b.writeBigUInt64LE(BigInt.asUintN(64, a.valueTwo), 24 * i + 16);
  });
  return b;
}

/**
 * Compile a filter with libseccomp; returns the BPF program (struct
 * sock_filter[], 8 bytes an instruction). Throws SeccompLibraryError with
 * the index of the rule libseccomp refused.
 */
export function compileFilter(spec: FilterSpec): Buffer {
  const l = libseccomp();
  const ctx = l.init(spec.defaultAction >>> 0);
  if (!ctx) throw new SeccompLibraryError('seccomp_init', 22);
  try {
    const must = (rc: number, call: string, rule?: number) => {
      if (rc < 0) throw new SeccompLibraryError(call, -rc, rule);
    };
    for (const arch of spec.arches) {
      const rc = l.archAdd(ctx, arch) as number;
      if (rc !== -ERRNO_EEXIST) must(rc, 'seccomp_arch_add');
    }
    // The attributes describe how libseccomp would load the filter; we load
    // it ourselves (the flags go to seccomp(2), see filterFlags), and the
    // runtime sets no_new_privs itself when the config asks for it.
    must(l.attrSet(ctx, SCMP_FLTATR_CTL_NNP, 0) as number, 'seccomp_attr_set(SCMP_FLTATR_CTL_NNP)');
    must(l.attrSet(ctx, SCMP_FLTATR_CTL_TSYNC, 0) as number, 'seccomp_attr_set(SCMP_FLTATR_CTL_TSYNC)');
    if (spec.log) must(l.attrSet(ctx, SCMP_FLTATR_CTL_LOG, 1) as number, 'seccomp_attr_set(SCMP_FLTATR_CTL_LOG)');
    if (spec.specAllow) must(l.attrSet(ctx, SCMP_FLTATR_CTL_SSB, 1) as number, 'seccomp_attr_set(SCMP_FLTATR_CTL_SSB)');
    spec.rules.forEach((r, i) => {
      must(
        l.ruleAdd(ctx, r.action >>> 0, r.syscall, r.args.length, argArray(r.args)) as number,
        'seccomp_rule_add_array',
        i,
      );
    });
    const memfd = cfunc('int memfd_create(const char *name, unsigned int flags)')(
      'seccomp-bpf',
      1 /* MFD_CLOEXEC */,
    ) as number;
    if (memfd < 0) throw new SyscallError('memfd_create', 'memfd_create("seccomp-bpf", MFD_CLOEXEC)', koffi.errno());
    try {
      must(l.exportBpf(ctx, memfd) as number, 'seccomp_export_bpf');
      const size = fstatSync(memfd).size;
      const program = Buffer.alloc(size);
      let got = 0;
      while (got < size) got += readSync(memfd, program, got, size - got, got);
      return spec.enosys?.length ? Buffer.concat([enosysStub(spec.enosys), program]) : program;
    } finally {
      closeSync(memfd);
    }
  } finally {
    l.release(ctx);
  }
}

/** The flags for seccomp(2); TSYNC is never asked for (the child has one thread). */
export function filterFlags(opts: { log: boolean; specAllow: boolean; listener: boolean }): number {
  return (
    (opts.log ? SECCOMP_FILTER_FLAG.LOG : 0) |
    (opts.specAllow ? SECCOMP_FILTER_FLAG.SPEC_ALLOW : 0) |
    (opts.listener ? SECCOMP_FILTER_FLAG.NEW_LISTENER : 0)
  );
}

function flagNames(flags: number): string {
  const names = Object.entries(SECCOMP_FILTER_FLAG)
    .filter(([, v]) => flags & v)
    .map(([k]) => `SECCOMP_FILTER_FLAG_${k}`);
  return names.length ? names.join('|') : '0';
}

/**
 * The call that installs `program` in the process that makes it: prctl(2)
 * without flags (as runc), seccomp(2) with them. With NEW_LISTENER it
 * returns the listener fd (close-on-exec), which the plan cannot use: the
 * caller's `after` fetches it from the child (listenerFdOf, pidfdGetfd).
 */
export function seccompLoadCall(program: Buffer, flags: number, summary: string, extra: CallExtra = {}): Call {
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
  const fprog = Buffer.alloc(16);
  fprog.writeUInt16LE(program.length / 8, 0);
  fprog.writeBigUInt64LE(koffi.address(program) as bigint, 8);
  const keep = [program, ...(extra.keep ?? [])];
  const prog = `{len=${program.length / 8}, filter=...}`;
  if (flags === 0) {
    const PR_SET_SECCOMP = 22;
    const SECCOMP_MODE_FILTER = 2;
    return makeCall(
      'prctl',
      [PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fprog, 0, 0],
      `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ${prog}) /* ${summary} */`,
      { what: 'load the seccomp filter', ...extra, keep },
    );
  }
  return makeCall(
    'syscall',
    [SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, fprog],
    `seccomp(SECCOMP_SET_MODE_FILTER, ${flagNames(flags)}, ${prog}) /* ${summary} */`,
    {
      what: 'load the seccomp filter',
      ...extra,
      keep,
    },
  );
}

/** The fd of a process that is a seccomp listener (the process waits: nothing moves). */
export function listenerFdOf(pid: number): number {
  for (const name of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${name}`);
    } catch {
      continue;
    }
    if (target === 'anon_inode:seccomp notify') return Number(name);
  }
  throw new SyscallError('seccomp', `seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER) in ${pid}`, 9 /* EBADF */, {
    what: `the seccomp listener of process ${pid} is not among its fds`,
  });
}

/** A copy of another process's fd (pidfd_open + pidfd_getfd, Linux 5.6), as runc's recvSeccompFd. */
export function pidfdGetfd(pid: number, fd: number): number {
  const syscall = cfunc('int64_t syscall(int64_t nr, int64_t a, int64_t b, int64_t c)');
  resetErrno();
  const pidfd = Number(syscall(SYS_pidfd_open, pid, 0, 0));
  if (pidfd < 0) throw new SyscallError('pidfd_open', `pidfd_open(${pid}, 0)`, lastErrno());
  traceLine(`pidfd_open(${pid}, 0) = ${pidfd}`);
  try {
    resetErrno();
    const copy = Number(syscall(SYS_pidfd_getfd, pidfd, fd, 0));
    if (copy < 0) throw new SyscallError('pidfd_getfd', `pidfd_getfd(${pidfd}, ${fd}, 0)`, lastErrno());
    traceLine(`pidfd_getfd(${pidfd}<pid ${pid}>, ${fd}, 0) = ${copy}`);
    return copy;
  } finally {
    closeSync(pidfd);
  }
}

/**
 * Connect to the unix socket at `path` and send `data` with `fd` in
 * SCM_RIGHTS, in one sendmsg(2): how runc hands a seccomp agent its listener
 * (utils.SendFds). Throws SyscallError naming the failed step.
 */
export function sendFdToSocket(path: string, data: Buffer, fd: number): void {
  const AF_UNIX = 1;
  const SOCK_STREAM = 1;
  const SOCK_CLOEXEC = 0o2000000;
  const SOL_SOCKET = 1;
  const SCM_RIGHTS = 1;
  const addr = Buffer.alloc(110);
  addr.writeUInt16LE(AF_UNIX, 0);
  if (Buffer.byteLength(path) > 107)
    throw new SyscallError('connect', `connect(${JSON.stringify(path)})`, 36 /* ENAMETOOLONG */);
  addr.write(path, 2);
  resetErrno();
  const sock = cfunc('int socket(int, int, int)')(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) as number;
  if (sock < 0) throw new SyscallError('socket', 'socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0)', lastErrno());
  try {
    resetErrno();
    if ((cfunc('int connect(int, void *, int)')(sock, addr, addr.length) as number) !== 0)
      throw new SyscallError('connect', `connect(${sock}, {AF_UNIX, ${JSON.stringify(path)}})`, lastErrno());
    traceLine(`connect(${sock}, {AF_UNIX, ${JSON.stringify(path)}}) = 0`);
    const iov = Buffer.alloc(16);
    iov.writeBigUInt64LE(koffi.address(data) as bigint, 0);
    iov.writeBigUInt64LE(BigInt(data.length), 8);
    // struct cmsghdr { size_t len; int level; int type; int fd } in CMSG_SPACE(4) = 24
    const cmsg = Buffer.alloc(24);
    cmsg.writeBigUInt64LE(20n, 0);
    cmsg.writeInt32LE(SOL_SOCKET, 8);
    cmsg.writeInt32LE(SCM_RIGHTS, 12);
    cmsg.writeInt32LE(fd, 16);
    // struct msghdr { name, namelen, iov, iovlen, control, controllen, flags }
    const msg = Buffer.alloc(56);
    msg.writeBigUInt64LE(koffi.address(iov) as bigint, 16);
    msg.writeBigUInt64LE(1n, 24);
    msg.writeBigUInt64LE(koffi.address(cmsg) as bigint, 32);
    msg.writeBigUInt64LE(24n, 40);
    resetErrno();
    const n = Number(cfunc('int64_t sendmsg(int, void *, int)')(sock, msg, 0));
    if (n < 0) throw new SyscallError('sendmsg', `sendmsg(${sock}, {SCM_RIGHTS [${fd}]})`, lastErrno());
    traceLine(`sendmsg(${sock}, {${data.length} bytes of state, SCM_RIGHTS [${fd}]}, 0) = ${n}`);
    if (n !== data.length) throw new SyscallError('sendmsg', `sendmsg(${sock})`, 5 /* EIO: a short write */);
  } finally {
    closeSync(sock);
  }
}

// Architecture tokens (libseccomp's are the kernel's AUDIT_ARCH_ values, but x32's).
const ARCH_X86_64 = 0xc000003e;
const ARCH_X32 = 0x4000003e;
const X32_SYSCALL_BIT = 0x40000000;

/**
 * runc's -ENOSYS stub (libcontainer/seccomp/patchbpf), put in front of the
 * program libseccomp made. A profile whose default action refuses (EPERM,
 * kill) also refuses syscalls newer than the profile, and programs (glibc
 * among them) take only ENOSYS as "this kernel does not have it, fall
 * back". So for each architecture of the profile a syscall number above the
 * largest one the profile names gets ENOSYS; the rest go on to the filter.
 * A fixed stub of a few instructions, not a compiler: all its jumps stay
 * inside it (forward, to its sections, to its ENOSYS return, or to its end
 * where libseccomp's program starts).
 */
export function enosysStub(lasts: ReadonlyArray<{ arch: number; last: number }>): Buffer {
  type Target = string | number; // a label, or 0 for the next instruction
  type Insn = { code: number; jt?: Target; jf?: Target; k: number; label?: string };
  const LD_ABS = 0x20;
  const JA = 0x05;
  const JEQ = 0x15;
  const JGT = 0x25;
  const JSET = 0x45;
  const RET = 0x06;
  // Group by the architecture the kernel reports: x32 runs as x86_64 with bit 30 in the number.
  const byNative = new Map<number, Map<number, number>>();
  for (const { arch, last } of lasts) {
    const native = arch === ARCH_X32 ? ARCH_X86_64 : arch;
    if (!byNative.has(native)) byNative.set(native, new Map());
    byNative.get(native)!.set(arch, last);
  }
  const head: Insn[] = [{ code: LD_ABS, k: 4 }]; // seccomp_data.arch
  const sections: Insn[] = [];
  for (const [native, archs] of byNative) {
    const label = `arch${native}`;
    head.push({ code: JEQ, k: native, jt: label, jf: 0 });
    sections.push({ code: LD_ABS, k: 0, label }); // seccomp_data.nr
    const own = archs.get(native);
    const x32 = native === ARCH_X86_64 ? archs.get(ARCH_X32) : undefined;
    if (native === ARCH_X86_64 && own !== undefined && x32 !== undefined) {
      sections.push({ code: JSET, k: X32_SYSCALL_BIT, jt: `${label}x32`, jf: 0 });
      sections.push({ code: JGT, k: own, jt: 'enosys', jf: 'filter' });
      sections.push({ code: JGT, k: x32, jt: 'enosys', jf: 'filter', label: `${label}x32` });
    } else if (native === ARCH_X86_64) {
      // Only one of the two ABIs is in the profile: the other goes straight to the filter.
      sections.push({
        code: JSET,
        k: X32_SYSCALL_BIT,
        jt: own !== undefined ? 'filter' : 0,
        jf: own !== undefined ? 0 : 'filter',
      });
      sections.push({ code: JGT, k: (own ?? x32)!, jt: 'enosys', jf: 'filter' });
    } else {
      sections.push({ code: JGT, k: own!, jt: 'enosys', jf: 'filter' });
    }
  }
  head.push({ code: JA, k: 0, jt: 'filter' }); // an architecture without a section
  const ENOSYS = 38;
  const insns = [...head, ...sections, { code: RET, k: SCMP_ACT.ERRNO | ENOSYS, label: 'enosys' }];
  const at = new Map<string, number>(insns.flatMap((x, i) => (x.label ? [[x.label, i] as [string, number]] : [])));
  at.set('filter', insns.length);
  const offset = (i: number, t: Target | undefined) => {
    if (t === undefined || t === 0) return 0;
    const d = at.get(t as string)! - (i + 1);
    if (d < 0 || d > 255) throw new Error(`enosysStub: jump of ${d}`);
    return d;
  };
  const out = Buffer.alloc(8 * insns.length);
  insns.forEach((x, i) => {
    out.writeUInt16LE(x.code, 8 * i);
    if (x.code === JA) {
      out.writeUInt32LE(offset(i, x.jt), 8 * i + 4);
      return;
    }
    out.writeUInt8(offset(i, x.jt), 8 * i + 2);
    out.writeUInt8(offset(i, x.jf), 8 * i + 3);
    out.writeUInt32LE(x.k >>> 0, 8 * i + 4);
  });
  return out;
}
