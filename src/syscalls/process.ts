// Processes: exec, waiting for a child without blocking the event loop,
// signals while a foreground child runs, and wait statuses. (Ending a tool
// like its child is the tool's part: src/cli/exit.ts.)
import {
  ERRNO,
  F_GETFD,
  F_GETFL,
  F_SETFD,
  F_SETFL,
  O,
  SIG,
  SIG_DFL,
  WNOHANG,
  WUNTRACED,
  signalName,
  signalNumber,
} from './constants.js';
import { Call, CallResults, callNow, makeCall } from './call.js';
import { cfunc, koffi } from './libc.js';
import { ExecError, SyscallError } from './errors.js';
import { qArray, q, traceLine } from './trace.js';

export function execCall(file: string, argv: readonly string[]): Call {
  return makeCall('execvp', [file, argv], `execvp(${q(file)}, ${qArray(argv)})`, { exec: { file } });
}

/**
 * Calls for a child before exec: Node ignores SIGPIPE and SIGXFSZ for
 * itself, and an ignored signal stays ignored across execve(2); fds 0-2 must
 * not be close-on-exec. (Handlers, unlike SIG_IGN, are reset by exec.)
 */
export function restoreForExecCalls(): Call[] {
  const calls: Call[] = [];
  const fcntl = cfunc('int fcntl(int fd, int cmd, int64_t arg)');
  for (const fd of [0, 1, 2])
    if ((fcntl(fd, F_GETFD, 0) as number) > 0)
      calls.push(makeCall('fcntl', [fd, F_SETFD, 0], `fcntl(${fd}, F_SETFD, 0)`, { optional: true }));
  calls.push(makeCall('signal', [SIG.SIGPIPE, SIG_DFL], 'signal(SIGPIPE, SIG_DFL)'));
  calls.push(makeCall('signal', [SIG.SIGXFSZ, SIG_DFL], 'signal(SIGXFSZ, SIG_DFL)'));
  return calls;
}

/**
 * O_NONBLOCK lives on the open file description, which parent and child
 * share: Node may have set it on a pipe or tty at fds 0-2, and programs such
 * as cat or bash fail with EAGAIN on a non-blocking stdin. Clear it here,
 * in the parent, before the child starts.
 */
export function clearNonBlockingStdio(): void {
  const fcntl = cfunc('int fcntl(int fd, int cmd, int64_t arg)');
  for (const fd of [0, 1, 2]) {
    const flags = fcntl(fd, F_GETFL, 0) as number;
    if (flags !== -1 && flags & O.O_NONBLOCK)
      callNow(
        makeCall('fcntl', [fd, F_SETFL, flags & ~O.O_NONBLOCK], `fcntl(${fd}, F_SETFL, ~O_NONBLOCK)`, {
          optional: true,
        }),
      );
  }
}

/**
 * Run `calls` in this process, the last one an exec: the program replaces
 * this process and keeps its PID (util-linux without --fork).
 */
export function execInPlace(calls: readonly Call[]): never {
  clearNonBlockingStdio();
  const results = new CallResults();
  for (const call of [...restoreForExecCalls(), ...calls]) {
    try {
      callNow(call, results);
    } catch (err) {
      if (call.exec && err instanceof SyscallError) throw new ExecError(call.exec.file, err.errno);
      throw err;
    }
  }
  throw new Error('the plan run in place did not end with an exec');
}

export interface ExitInfo {
  pid: number;
  code?: number;
  signal?: number;
  coreDumped?: boolean;
}

export function decodeWaitStatus(pid: number, status: number): ExitInfo {
  const sig = status & 0x7f;
  if (sig === 0) return { pid, code: (status >> 8) & 0xff };
  return { pid, signal: sig, coreDumped: (status & 0x80) !== 0 };
}

/**
 * Wait for a child without blocking the event loop: on each SIGCHLD, try
 * waitpid(pid, WNOHANG). Not koffi's async call: that needs a thread, and a
 * process that has unshared CLONE_NEWPID or CLONE_NEWTIME may not create
 * threads any more (the kernel refuses CLONE_THREAD when pid_for_children
 * differs from the process's own namespace).
 */
export function waitChild(pid: number, opts: { passStops?: boolean } = {}): Promise<ExitInfo> {
  const waitpid = cfunc('int waitpid(int pid, _Out_ int *status, int options)');
  return new Promise((resolve, reject) => {
    const status = new Int32Array(1);
    // Signal listeners do not keep Node's event loop alive; this timer does,
    // and doubles as a safety net should a SIGCHLD be coalesced away.
    const keepAlive = setInterval(() => check(), 1000);
    const check = () => {
      const rc = waitpid(pid, status, WNOHANG | (opts.passStops ? WUNTRACED : 0)) as number;
      if (rc === 0) return;
      if (rc === pid && (status[0]! & 0xff) === 0x7f) {
        // The child stopped: stop too, and continue it when we are continued
        // (util-linux nsenter's continue_as_child).
        traceLine(`wait4(${pid}) = ${pid} (stopped by ${signalName((status[0]! >> 8) & 0xff)})`);
        kill(process.pid, SIG.SIGSTOP);
        kill(pid, SIG.SIGCONT);
        return;
      }
      process.off('SIGCHLD', check);
      clearInterval(keepAlive);
      if (rc === -1) {
        const errno = koffi.errno();
        if (errno === ERRNO.EINTR) return void process.on('SIGCHLD', check);
        return reject(new SyscallError('waitpid', `waitpid(${pid})`, errno));
      }
      const info = decodeWaitStatus(pid, status[0]!);
      traceLine(
        `wait4(${pid}) = ${pid} (${info.signal ? `killed by ${signalName(info.signal)}` : `exit ${info.code}`})`,
      );
      resolve(info);
    };
    process.on('SIGCHLD', check);
    check(); // it may have ended before the listener was there
  });
}

/** Blocking waitpid, for short-lived helper children (and a plan's killed or forking child). */
export function waitChildSync(pid: number): ExitInfo {
  const status = new Int32Array(1);
  cfunc('int waitpid(int pid, _Out_ int *status, int options)')(pid, status, 0);
  return decodeWaitStatus(pid, status[0]!);
}

export function kill(pid: number, signal: number): number {
  return cfunc('int kill(int pid, int sig)')(pid, signal) as number;
}

/**
 * While a foreground child runs: the terminal sends SIGINT/SIGQUIT to the
 * whole process group, so the parent ignores them and the child decides;
 * SIGTERM and SIGHUP sent to the parent alone are passed on to the child.
 */
export function superviseChild(pid: number): () => void {
  const ignore = () => {};
  const forward = (sig: NodeJS.Signals) => kill(pid, signalNumber(sig)!);
  const handlers: Array<[NodeJS.Signals, (s: NodeJS.Signals) => void]> = [
    ['SIGINT', ignore],
    ['SIGQUIT', ignore],
    ['SIGTERM', forward],
    ['SIGHUP', forward],
  ];
  for (const [sig, h] of handlers) process.on(sig, h);
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

/**
 * The /proc directory of this process or of one of its children. /proc
 * numbers processes in the pid namespace that mounted it, which need not be
 * ours: a ts-unshare inside `unshare -p` without --mount-proc sees the host's
 * /proc, where its child has another PID than clone(2) returned. NSpid in
 * /proc/PID/status lists a process's PID in each namespace, outermost first.
 */
export function procDir(pid: number | 'self'): string {
  const { readFileSync, readlinkSync, readdirSync } = process.getBuiltinModule('node:fs') as typeof import('node:fs');
  const selfInProc = Number(readlinkSync('/proc/self'));
  if (pid === 'self') return `/proc/${selfInProc}`;
  if (selfInProc === process.pid) return `/proc/${pid}`;
  const nspid = (dir: string) =>
    /^NSpid:\s*(.*)$/m
      .exec(readFileSync(`${dir}/status`, 'utf8'))?.[1]
      ?.split(/\s+/)
      .map(Number) ?? [];
  const depth = nspid('/proc/self').length; // our PID is at index depth-1 in our children's NSpid too
  for (const task of readdirSync('/proc/self/task')) {
    for (const child of readFileSync(`/proc/self/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
      if (nspid(`/proc/${child}`)[depth - 1] === pid) return `/proc/${child}`;
    }
  }
  return `/proc/${pid}`;
}
