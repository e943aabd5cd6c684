// startContainer hooks: runc runs them in the container's init, after the
// exec fifo and before the program, so a hook sees the container as its
// process will: its namespaces, identity and seccomp filter. Our init is a
// plan that cannot fork, run and wait for a program itself, so ts-runc
// starts each hook as `exec` starts a process (setns into the init's
// namespaces, the container's cgroups, identity and filter) while the init
// waits: at `start` before the fifo opens, at `run` at the ready step.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { Call, makeCall } from '../syscalls/call.js';
import { cfunc, lastErrno } from '../syscalls/libc.js';
import { SyscallError, ExecError } from '../syscalls/errors.js';
import { forkCall } from '../syscalls/plan.js';
import { ExitInfo, decodeWaitStatus, kill, waitChildSync } from '../syscalls/process.js';
import { startProgram } from '../core/program.js';
import { DomainError } from '../core/errors.js';
import { moveIntoCgroups } from './cgroups.js';
import { Hook, JOIN_ORDER, ProcessSpec, joinNamespaceCall, namespaceFile } from './config.js';
import { closeFromCall, cwdOpenCalls, execveCall, identityCalls } from './init-plan.js';
import { compileSeccomp, seccompAt, seccompLoad } from './seccomp.js';
import type { SavedState } from './state.js';

/** A startContainer hook failed: worded as runc's (configs.Command.Run). */
export class StartHookFailed extends DomainError {
  readonly kind = 'start-hook-failed';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`error running hook: ${detail}`);
  }
}

function memfd(name: string): number {
  const fd = cfunc('int memfd_create(const char *name, unsigned int flags)')(name, 1 /* MFD_CLOEXEC */) as number;
  if (fd < 0) throw new SyscallError('memfd_create', `memfd_create(${JSON.stringify(name)})`, lastErrno());
  return fd;
}

function readAll(fd: number): string {
  const size = fstatSync(fd).size;
  const b = Buffer.alloc(size);
  let got = 0;
  while (got < size) got += readSync(fd, b, got, size - got, got);
  return b.toString();
}

/** Run every startContainer hook of the container; throws StartHookFailed at the first that fails. */
export function runStartContainerHooks(state: SavedState, ociState: object): void {
  for (const h of state.config.hooks.startContainer ?? []) runStartHook(state, h, JSON.stringify(ociState));
}

function runStartHook(state: SavedState, hook: Hook, input: string): void {
  const config = state.config;
  const proc: ProcessSpec = {
    ...config.process,
    terminal: false,
    args: hook.args.length ? hook.args : [hook.path],
    env: hook.env,
    rlimits: [],
  };
  const seccomp = config.seccomp && compileSeccomp(config.seccomp);
  const fds: number[] = [];
  try {
    // stdin: a pipe that already holds the state; stdout and stderr: memfds read afterwards.
    const pipe = new Int32Array(2);
    if ((cfunc('int pipe2(_Out_ int *fds, int flags)')(pipe, 0o2000000 /* O_CLOEXEC */) as number) !== 0)
      throw new SyscallError('pipe2', 'pipe2()', lastErrno());
    fds.push(pipe[0], pipe[1]);
    writeSync(pipe[1], input);
    closeSync(fds.pop()!);
    const out = memfd('hook-stdout');
    const err = memfd('hook-stderr');
    fds.push(out, err);
    const calls: Call[] = [];
    for (const type of JOIN_ORDER) {
      if (!config.namespaces.some((n) => n.type === type)) continue;
      const path = `/proc/${state.pid}/ns/${namespaceFile(type)}`;
      const fd = openSync(path, 'r');
      fds.push(fd);
      calls.push(joinNamespaceCall(fd, path, type, `join the container's ${type} namespace`));
    }
    calls.push(forkCall());
    calls.push(makeCall('dup2', [pipe[0], 0], `dup2(${pipe[0]}, 0) /* the state */`));
    calls.push(makeCall('dup2', [out, 1], `dup2(${out}, 1)`));
    calls.push(makeCall('dup2', [err, 2], `dup2(${err}, 2)`));
    const inUserns = config.namespaces.some((n) => n.type === 'user');
    const load =
      seccomp &&
      seccompLoad(seccomp, {
        id: state.id,
        bundle: config.bundle,
        annotations: config.annotations,
        ociVersion: config.ociVersion,
        status: 'running',
        initPid: () => state.pid,
      });
    calls.push(...cwdOpenCalls(proc.cwd));
    calls.push(...seccompAt(proc, load, 'before-identity'));
    calls.push(...identityCalls(proc, { setgroups: !inUserns || process.geteuid?.() === 0, cwd: true }));
    calls.push(closeFromCall());
    calls.push(...seccompAt(proc, load, 'before-exec'));
    calls.push(execveCall(hook.path, proc));
    let pid: number;
    try {
      pid = startProgram(calls, {
        label: 'hook',
        runAhead: true,
        alongside: (p) => moveIntoCgroups(state.cgroups, p, 'the hook'),
      }).pid;
    } catch (e) {
      if (e instanceof ExecError || e instanceof SyscallError) throw new StartHookFailed(hook.path, e.message);
      throw e;
    }
    const info = hook.timeout ? waitWithin(pid, hook.timeout) : waitChildSync(pid);
    if (!info) throw new StartHookFailed(hook.path, `hook ran past specified timeout of ${hook.timeout!.toFixed(1)}s`);
    if (info.code === 0) return;
    const how = info.signal
      ? `signal: ${String(cfunc('const char *strsignal(int sig)')(info.signal)).toLowerCase()}`
      : `exit status ${info.code}`;
    throw new StartHookFailed(hook.path, `${how}, stdout: ${readAll(out)}, stderr: ${readAll(err)}`);
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/** Wait for the hook at most `seconds`; killed and undefined past that (runc's message follows). */
function waitWithin(pid: number, seconds: number): ExitInfo | undefined {
  const waitpid = cfunc('int waitpid(int pid, _Out_ int *status, int options)');
  const status = new Int32Array(1);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if ((waitpid(pid, status, 1 /* WNOHANG */) as number) === pid) return decodeWaitStatus(pid, status[0]);
    Atomics.wait(sleeper, 0, 0, 5);
  }
  kill(pid, 9);
  waitChildSync(pid);
  return undefined;
}
