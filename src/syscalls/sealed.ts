// Run this process again from a sealed in-memory copy of its executable,
// as runc 1.1 runs its init (libcontainer/nsenter/cloned_binary.c). For a
// container runtime whose children are copies of itself until they exec: a
// process of the container that passes ptrace access checks on such a child
// (CAP_SYS_PTRACE and no user namespace) can open /proc/PID/exe. When that
// names a memfd with F_SEAL_WRITE, what it holds takes no writes, and the
// executable on disk is not the child's.
import { copyFileSync, readlinkSync } from 'node:fs';
import { makeCall } from './call.js';
import { SyscallError } from './errors.js';
import { cfunc, koffi } from './libc.js';
import { execInPlace } from './process.js';
import { q, qArray, traceLine } from './trace.js';

const MFD_CLOEXEC = 1;
const MFD_ALLOW_SEALING = 2;
const F_ADD_SEALS = 1033;
const F_SEAL_SEAL = 1;
const F_SEAL_SHRINK = 2;
const F_SEAL_GROW = 4;
const F_SEAL_WRITE = 8;
const NAME = 'nslab-sealed-exe';

/** Does this process run from a sealed copy made by reexecSealed? */
export function runningSealed(): boolean {
  try {
    return readlinkSync('/proc/self/exe').startsWith(`/memfd:${NAME}`);
  } catch {
    return false;
  }
}

/**
 * Copy /proc/self/exe into a memfd, seal it against any change, and execve
 * it with this process's arguments and environment: the process starts over
 * (same PID, same fds) running the copy. Node's binary is large (about
 * 100 MB here): the copy costs tens of milliseconds and that much memory
 * until every process running it has exec'd or exited.
 */
export function reexecSealed(): never {
  const memfdCreate = cfunc('int memfd_create(const char *name, unsigned int flags)');
  const fd = memfdCreate(NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING) as number;
  if (fd < 0)
    throw new SyscallError('memfd_create', `memfd_create(${q(NAME)}, MFD_CLOEXEC|MFD_ALLOW_SEALING)`, koffi.errno());
  traceLine(`memfd_create(${q(NAME)}, MFD_CLOEXEC|MFD_ALLOW_SEALING) = ${fd}`);
  const path = `/proc/self/fd/${fd}`;
  copyFileSync('/proc/self/exe', path);
  traceLine(`copyfile("/proc/self/exe", ${q(path)}) /* the whole executable, in the kernel (libuv: sendfile) */`);
  const seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
  const rc = cfunc('int fcntl(int fd, int cmd, int64_t arg)')(fd, F_ADD_SEALS, seals) as number;
  if (rc !== 0) throw new SyscallError('fcntl', `fcntl(${fd}, F_ADD_SEALS)`, koffi.errno());
  traceLine(`fcntl(${fd}, F_ADD_SEALS, F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE) = 0`);
  const argv = [process.argv0, ...process.execArgv, ...process.argv.slice(1)];
  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  execInPlace([
    makeCall('execve', [path, argv, env], `execve(${q(path)}, ${qArray(argv)}, [${env.length} vars])`, {
      exec: { file: path },
    }),
  ]);
}
