// The child plan: run a list of libc calls in a new process before it execs,
// without C and without ever returning into JavaScript in the child.
//
// Why: Node is multithreaded, so it may not unshare(CLONE_NEWUSER) or setns()
// into a user namespace, and fork() from JavaScript crashes (the V8 heap is
// MADV_DONTFORK). So the child is made with glibc clone(setcontext, stack,
// flags, firstContext) without CLONE_VM: a copy-on-write process that starts
// in setcontext() and walks a chain of ucontexts built with makecontext(),
// linked through uc_link. Every call of the plan becomes four links:
//
//   memset(&errno, 0, 4) -> the call -> write(resultPipe, &errno, 4) -> read(goPipe, scratch, 1)
//
// The parent reads each errno from the result pipe (close-on-exec, so EOF
// means exec succeeded), runs its own part (writes uid_map, moves the child
// into a cgroup, ...), and lets the child go on with one byte on the go pipe,
// or kills it if a call failed. The last link is _exit(127).
//
// Two kinds of steps need more than a byte from the parent: a conditional
// step (Call.when), where the go message is the address of the function the
// child runs next, written into that link's program counter slot; and a fork
// (forkCall), where the child clones the rest of the plan and reports the
// new PID on the result pipe.
import { readSync, writeSync, closeSync } from 'node:fs';
import { addressOf, cString, cfunc, koffi, symbolAddress } from './libc.js';
import { Call, callNow, makeCall } from './call.js';
import { SyscallError, ToolError, errnoNumber } from './errors.js';
import { decodeCloneFlags, O, PR, SIG_DFL, signalName } from './constants.js';
import { formatResult, q, traceLine, tracing } from './trace.js';

// ucontext_t is 968 bytes on x86_64 glibc and 4560 on aarch64; links get room to spare.
const CONTEXT_SIZE = 8192;
const CALL_STACK = 64 * 1024;
const SMALL_STACK = 16 * 1024;
const CLONE_STACK = 64 * 1024;
// Offsets in ucontext_t shared by x86_64 and aarch64: uc_link, uc_stack{ss_sp, ss_flags, ss_size}.
const UC_LINK = 8;
const UC_STACK_SP = 16;
const UC_STACK_FLAGS = 24;
const UC_STACK_SIZE = 32;
// uc_sigmask: after mcontext on x86_64, before it on aarch64. Zeroed so every
// link runs with no signal blocked (setcontext restores this mask).
const UC_SIGMASK = process.arch === 'arm64' ? 40 : 296;
const SIGSET_BYTES = 128;

interface Link {
  fn: bigint;
  /** A `{ link: i }` argument is the address of link i's context (filled in while building). */
  args: Array<bigint | { link: number }>;
  stackSize: number;
  /** Where the parent's go message lands: 'pc' means the program counter slot of link `link`. */
  goInto?: { link: number };
}

export class ExecError extends Error {
  readonly errno: number;
  readonly file: string;
  constructor(file: string, errno: number) {
    super(`failed to execute ${file}`);
    this.errno = errno;
    this.file = file;
  }
}

/**
 * A barrier at the end of a plan (a container runtime's create/start): once
 * every setup step has succeeded, the child stops dying with its parent and
 * blocks opening `fifo` for writing, which returns when another process
 * opens it for reading. Then it writes one byte ("0") into it and execs the
 * last call; the fifo's descriptor is close-on-exec, so the reader sees
 * that byte and then end-of-file once the exec has happened (or the child
 * has exited). startPlan returns as soon as the child is at the barrier, and
 * the caller may exit: the child is then reparented to the nearest
 * subreaper (or init).
 */
export interface Barrier {
  /** Path of an existing fifo. Opened here (O_PATH) so the child can reach it after chroot/pivot_root. */
  fifo: string;
  /** Prefix of the one line the child writes to its fd 2 if the exec fails after the barrier (then exit 127). */
  tool?: string;
}

export interface PlanOptions {
  /** clone(2) flags besides the exit signal (SIGCHLD is added). */
  cloneFlags?: number;
  /** Parent work after clone, before the child's first call (e.g. write uid_map). */
  afterClone?: (pid: number) => void;
  /** false: the child gets a copy of this process's memory even though the plan ends in exec. */
  shareMemory?: boolean;
  /** Label for trace lines; defaults to "pid N". */
  label?: string;
  /** End the plan in a barrier before its exec (see Barrier). */
  barrier?: Barrier;
}

export interface StartedChild {
  pid: number;
  /** true when the last call was an exec and it succeeded */
  execed: boolean;
  /** true when the child waits at the plan's barrier (PlanOptions.barrier) */
  atBarrier?: boolean;
}

/**
 * A step that forks: the process that has run the plan so far clones a new
 * one that goes on with the rest of the plan, reports its PID and exits.
 * The new process is made with CLONE_PARENT, so it is this tool's own child
 * (the tool waits for it as usual). For setns(CLONE_NEWPID), which moves
 * only the children of the caller: util-linux nsenter forks at this point.
 */
export function forkCall(): Call {
  return { fn: 'clone', args: [], keep: [], show: 'clone(CLONE_PARENT|CLONE_PARENT_SETTID|SIGCHLD)', what: 'cannot fork', forks: true };
}

const CLONE_VM = 0x00000100;
const CLONE_PARENT = 0x00008000;

function sameTimeNamespaceForChildren(): boolean {
  const { readlinkSync } = process.getBuiltinModule('node:fs') as typeof import('node:fs');
  try {
    return readlinkSync('/proc/thread-self/ns/time') === readlinkSync('/proc/thread-self/ns/time_for_children');
  } catch {
    return false; // no time namespaces in this kernel: nothing to compare, stay on the safe side
  }
}
const CLONE_PARENT_SETTID = 0x00100000;

let pcOffset: number | undefined;
/**
 * Where makecontext() stores the function a context will run (REG_RIP on
 * x86_64, pc on aarch64): found by looking, not by a per-arch table.
 */
function programCounterOffset(): number {
  if (pcOffset !== undefined) return pcOffset;
  const ctx = Buffer.alloc(CONTEXT_SIZE);
  const stack = Buffer.alloc(SMALL_STACK);
  cfunc('int getcontext(void *ucp)')(ctx);
  ctx.writeBigUInt64LE(addressOf(stack), UC_STACK_SP);
  ctx.writeBigUInt64LE(BigInt(SMALL_STACK), UC_STACK_SIZE);
  const fn = symbolAddress('getpid');
  cfunc('void makecontext(void *ucp, int64_t func, int argc, ...)')(ctx, fn, 0);
  for (let off = 0; off + 8 <= CONTEXT_SIZE; off += 8) if (ctx.readBigUInt64LE(off) === fn) return (pcOffset = off);
  throw new Error('cannot find the program counter in a ucontext_t');
}

function pipeCloexec(): [number, number] {
  const fds = new Int32Array(2);
  const rc = cfunc('int pipe2(_Out_ int *fds, int flags)')(fds, O.O_CLOEXEC);
  if (rc !== 0) throw new SyscallError('pipe2', 'pipe2([], O_CLOEXEC)', koffi.errno());
  return [fds[0], fds[1]];
}

const SIGKILL = 9;
const SIGCHLD = 17;
const SIGSTOP = 19;
const W_OK = 2;

function killAndReap(pid: number): void {
  cfunc('int kill(int pid, int sig)')(pid, SIGKILL);
  const status = new Int32Array(1);
  cfunc('int waitpid(int pid, _Out_ int *status, int options)')(pid, status, 0);
}

/** Signals this process catches (Node's and libuv's handlers): their handlers must not run in a child that waits. */
function caughtSignals(): number[] {
  const sigaction = cfunc('int sigaction(int sig, void *act, _Out_ void *old)');
  const old = Buffer.alloc(256); // struct sigaction: the handler comes first
  const caught: number[] = [];
  for (let sig = 1; sig < 32; sig++) {
    if (sig === SIGKILL || sig === SIGSTOP) continue;
    if (sigaction(sig, null, old) === 0 && old.readBigUInt64LE(0) > 1n /* neither SIG_DFL nor SIG_IGN */) caught.push(sig);
  }
  return caught;
}

interface PreparedBarrier {
  /** Reported steps before the barrier; the last one clears the death signal. */
  calls: Call[];
  /** This process's O_PATH descriptor of the fifo (the child inherits it). */
  pathFd: number;
  /** Kept free until the child reopens the fifo, which then gets this number (the lowest free one). */
  reservedFd: number;
  keep: Buffer[];
}

/**
 * The fifo is opened here with O_PATH, as runc does with its exec.fifo: after
 * chroot or pivot_root the child could not name it, but it can reopen the
 * descriptor through /proc/self/fd. The byte is written to a descriptor
 * number known in advance: the child gets no return value from a call, so
 * the lowest free descriptor is reserved here and freed by the child just
 * before it opens the fifo. (Only another thread closing a lower descriptor
 * between this and clone() could move it; then the byte is lost, and the
 * reader still sees end-of-file at exec.)
 */
function prepareBarrier(barrier: Barrier): PreparedBarrier {
  const path = barrier.fifo;
  const pathFd = callNow(makeCall('open', [path, O.O_PATH | O.O_CLOEXEC], `open(${q(path)}, O_PATH|O_CLOEXEC)`, { what: `cannot open ${path}` }));
  try {
    const { fstatSync } = process.getBuiltinModule('node:fs') as typeof import('node:fs');
    if (!fstatSync(pathFd).isFIFO()) throw new SyscallError('open', `open(${q(path)})`, errnoNumber('ENXIO'), { what: `cannot use ${path} as a barrier (not a fifo)` });
    const reservedFd = callNow(makeCall('open', ['/dev/null', O.O_RDONLY | O.O_CLOEXEC], 'open("/dev/null", O_RDONLY|O_CLOEXEC)'));
    const reopen = `/proc/self/fd/${pathFd}`;
    const calls: Call[] = [
      // A signal must kill the waiting child, not run a copy of a handler of this process.
      ...caughtSignals().map((sig) => makeCall('signal', [sig, SIG_DFL], `signal(${signalName(sig)}, SIG_DFL)`)),
      // What would make the reopen fail (no /proc here, no write permission
      // for the child's ids) is found now, while the parent still listens.
      makeCall('access', [reopen, W_OK], `access(${q(reopen)}, W_OK)`, { what: `cannot open ${path} for writing` }),
      // From here on the child outlives its parent.
      makeCall('prctl', [PR.PR_SET_PDEATHSIG, 0, 0, 0, 0], 'prctl(PR_SET_PDEATHSIG, 0)'),
    ];
    return { calls, pathFd, reservedFd, keep: [] };
  } catch (err) {
    closeSync(pathFd);
    throw err;
  }
}

/**
 * Clone a child that runs `calls` in order and then, if the last call is an
 * exec, becomes that program. Returns once the child has exec'd (or finished
 * the plan, or reached its barrier). Throws SyscallError for a failed call,
 * ExecError for a failed exec; in both cases the child has been killed and
 * reaped.
 */
export function startPlan(setup: readonly Call[], opts: PlanOptions = {}): StartedChild {
  const last = setup[setup.length - 1];
  if (opts.barrier && !last?.exec) throw new Error('a plan with a barrier must end with an exec');
  const barrier = opts.barrier ? prepareBarrier(opts.barrier) : undefined;
  const calls = barrier ? [...setup.slice(0, -1), ...barrier.calls, last] : setup;
  const barrierIndex = barrier ? calls.length - 2 : -1;
  const errnoAddr = addressOf(cfunc('int *__errno_location()')());
  const [resultRead, resultWrite] = pipeCloexec();
  const [goRead, goWrite] = pipeCloexec();
  const scratch = Buffer.alloc(16);
  const scratchAddr = addressOf(scratch);
  const childTid = Buffer.alloc(8);

  const fnMemset = symbolAddress('memset');
  const fnWrite = symbolAddress('write');
  const fnRead = symbolAddress('read');
  const fnExit = symbolAddress('_exit');
  const fnSkip = symbolAddress('getpid');
  const waitForGo = (): Link => ({ fn: fnRead, args: [BigInt(goRead), scratchAddr, 1n], stackSize: SMALL_STACK });
  const keep: Buffer[] = [scratch, childTid];

  // While it runs the plan, the child dies with its parent: it holds a copy
  // of the go pipe's write end (fds are close-on-exec, not close-on-clone),
  // so without this it would wait forever for a parent that is gone.
  const fnPrctl = symbolAddress('prctl');
  const dieWithParent = (signal: bigint): Link => ({ fn: fnPrctl, args: [BigInt(PR.PR_SET_PDEATHSIG), signal, 0n, 0n, 0n], stackSize: SMALL_STACK });
  const keepsDeathSignal = calls.some((c) => c.fn === 'prctl' && c.args[0] === BigInt(PR.PR_SET_PDEATHSIG));
  const links: Link[] = [dieWithParent(BigInt(SIGKILL)), waitForGo()];
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i];
    const wait = links[links.length - 1];
    if (call.exec && barrier) {
      // Past the barrier nobody reads the result pipe (its reader may be
      // gone): reopen the fifo (blocks until a reader comes), write the
      // byte, exec; if the exec fails, say so on fd 2 and exit 127.
      const reopen = cString(`/proc/self/fd/${barrier.pathFd}`);
      const byte = Buffer.from('0');
      const message = Buffer.from(`${opts.barrier!.tool ?? 'plan'}: failed to execute ${call.exec.file}\n`);
      keep.push(reopen, byte, message);
      links.push({ fn: symbolAddress('close'), args: [BigInt(barrier.reservedFd)], stackSize: SMALL_STACK });
      links.push({ fn: symbolAddress('open'), args: [addressOf(reopen), BigInt(O.O_WRONLY | O.O_CLOEXEC)], stackSize: CALL_STACK });
      links.push({ fn: fnWrite, args: [BigInt(barrier.reservedFd), addressOf(byte), 1n], stackSize: SMALL_STACK });
      links.push({ fn: symbolAddress(call.fn), args: call.args, stackSize: CALL_STACK });
      links.push({ fn: fnWrite, args: [2n, addressOf(message), BigInt(message.length)], stackSize: SMALL_STACK });
      continue;
    }
    // The program itself outlives its parent, unless a call asked otherwise (--kill-child).
    if (call.exec && !keepsDeathSignal) links.push(dieWithParent(0n));
    const callLink = links.length + 1; // after the memset below
    if (call.when) {
      // The go message before this call is the address of the function to run.
      wait.args = [BigInt(goRead), 0n, 8n];
      wait.goInto = { link: callLink };
    }
    links.push({ fn: fnMemset, args: [errnoAddr, 0n, 4n], stackSize: SMALL_STACK });
    if (call.forks) {
      // The new process starts in setcontext(first link after _exit): it
      // sets its own death signal (a new process starts without one), then
      // waits for go.
      const stack = Buffer.alloc(CLONE_STACK);
      keep.push(stack);
      const top = (addressOf(stack) + BigInt(CLONE_STACK)) & ~15n;
      const flags = BigInt(CLONE_PARENT | CLONE_PARENT_SETTID | SIGCHLD);
      links.push({ fn: symbolAddress('clone'), args: [symbolAddress('setcontext'), top, flags, { link: callLink + 4 }, addressOf(childTid)], stackSize: CALL_STACK });
      links.push({ fn: fnWrite, args: [BigInt(resultWrite), errnoAddr, 4n], stackSize: SMALL_STACK });
      links.push({ fn: fnWrite, args: [BigInt(resultWrite), addressOf(childTid), 4n], stackSize: SMALL_STACK });
      links.push({ fn: fnExit, args: [0n], stackSize: SMALL_STACK });
      links.push(dieWithParent(BigInt(SIGKILL)));
      links.push(waitForGo());
      continue;
    }
    links.push({ fn: symbolAddress(call.fn), args: call.args, stackSize: CALL_STACK });
    links.push({ fn: fnWrite, args: [BigInt(resultWrite), errnoAddr, 4n], stackSize: SMALL_STACK });
    // At the barrier the child goes on without waiting: its parent may exit.
    if (!call.exec && i !== barrierIndex) links.push(waitForGo());
  }
  links.push({ fn: fnExit, args: [127n], stackSize: SMALL_STACK });

  // One arena for every context and stack, not zeroed: getcontext fills a
  // context, and a stack needs no initial content (zeroing a megabyte on
  // every run would cost more than all the calls).
  const arena = Buffer.allocUnsafeSlow(links.reduce((n, l) => n + CONTEXT_SIZE + l.stackSize, 0) + CLONE_STACK);
  keep.push(arena);
  let offset = 0;
  const carve = (size: number) => arena.subarray(offset, (offset += size));

  // Build the chain back to front so each link knows the address of the next.
  const getcontext = cfunc('int getcontext(void *ucp)');
  const makecontext = cfunc('void makecontext(void *ucp, int64_t func, int argc, ...)');
  const contexts: bigint[] = new Array(links.length);
  let next = 0n;
  for (let i = links.length - 1; i >= 0; i--) {
    const link = links[i];
    const ctx = carve(CONTEXT_SIZE);
    const stack = carve(link.stackSize);
    if (getcontext(ctx) !== 0) throw new SyscallError('getcontext', 'getcontext()', koffi.errno());
    ctx.fill(0, UC_SIGMASK, UC_SIGMASK + SIGSET_BYTES);
    ctx.writeBigUInt64LE(next, UC_LINK);
    ctx.writeBigUInt64LE(addressOf(stack), UC_STACK_SP);
    ctx.writeInt32LE(0, UC_STACK_FLAGS);
    ctx.writeBigUInt64LE(BigInt(link.stackSize), UC_STACK_SIZE);
    if (link.goInto) link.args[1] = contexts[link.goInto.link] + BigInt(programCounterOffset());
    const args = link.args.map((a) => (typeof a === 'bigint' ? a : contexts[a.link]));
    const varargs = args.flatMap((a) => ['int64_t', a]);
    makecontext(ctx, link.fn, args.length, ...varargs);
    next = addressOf(ctx);
    contexts[i] = next;
  }
  const cloneStack = carve(CLONE_STACK);
  const stackTop = (addressOf(cloneStack) + BigInt(CLONE_STACK)) & ~15n;
  // A plan that ends in exec shares this process's memory until then
  // (CLONE_VM, as posix_spawn does): copying Node's page tables would cost
  // more than everything else a tool does. The child only touches the arena
  // and libc; its ids change by raw syscalls (identity.ts). The kernel
  // refuses CLONE_VM when the child would enter another time namespace, and
  // some calls need memory of their own (Call.needsOwnMemory).
  // A plan with a barrier never shares: its child outlives startPlan and
  // maybe this process, whose exit frees and unmaps the arena, the stacks
  // and libc's heap (V8 teardown, free() of mmap'd chunks) under a child
  // that still runs on them; a copy costs a few ms once.
  const shareMemory =
    !barrier && calls.some((c) => c.exec) && !calls.some((c) => c.needsOwnMemory) && opts.shareMemory !== false && sameTimeNamespaceForChildren();
  const flags = (opts.cloneFlags ?? 0) | (shareMemory ? CLONE_VM : 0) | SIGCHLD;

  const clone = cfunc('int clone(int64_t fn, int64_t stack, int flags, int64_t arg, ...)');
  koffi.errno(0);
  let pid = clone(symbolAddress('setcontext'), stackTop, flags, next) as number;
  const cloneErrno = koffi.errno();
  closeSync(resultWrite);
  closeSync(goRead);
  if (barrier) {
    closeSync(barrier.reservedFd);
    closeSync(barrier.pathFd);
  }
  if (pid === -1) {
    traceLine(`clone(${decodeCloneFlags(flags)}) ${formatResult(-1, cloneErrno)}`);
    closeSync(resultRead);
    closeSync(goWrite);
    throw new SyscallError('clone', `clone(${decodeCloneFlags(flags)})`, cloneErrno);
  }
  if (tracing()) traceLine(`clone(${decodeCloneFlags(flags)}) = ${pid}`);
  let who = opts.label ?? `pid ${pid}`;

  const result = Buffer.alloc(4);
  // Let the child go on to call i: one byte, or for a conditional call the
  // address of the function it will run (the call's own, or getpid to skip it).
  const skipped = new Set<number>();
  const release = (i: number) => {
    const call = calls[i];
    if (!call?.when) return void writeSync(goWrite, Buffer.from('g'));
    const run = call.when();
    if (!run) skipped.add(i);
    const target = Buffer.alloc(8);
    target.writeBigUInt64LE(run ? symbolAddress(call.fn) : fnSkip);
    writeSync(goWrite, target);
  };
  try {
    opts.afterClone?.(pid);
    release(0);
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i];
      const n = readSync(resultRead, result, 0, 4, null);
      if (n === 0) {
        if (call.exec) {
          traceLine(`${call.show} = 0`, who);
          return { pid, execed: true };
        }
        throw new ToolError(`child ${pid} died before ${call.show}`);
      }
      const errno = result.readInt32LE(0);
      if (skipped.has(i)) {
        release(i + 1);
        continue;
      }
      if (call.forks && !errno) {
        readSync(resultRead, result, 0, 4, null);
        const forked = result.readInt32LE(0);
        traceLine(`${call.show} = ${forked}`, who);
        waitChildExit(pid);
        pid = forked;
        who = opts.label ?? `pid ${pid}`;
        release(i + 1);
        continue;
      }
      traceLine(`${call.show} ${errno ? formatResult(-1, errno) : '= 0'}`, who);
      if (call.exec) throw new ExecError(call.exec.file, errno);
      if (errno && !call.optional) throw new SyscallError(call.fn, call.show, errno, { what: call.what, hint: call.hint });
      if (!errno) call.after?.(pid);
      if (i === barrierIndex) {
        traceLine(`open(${q(`/proc/self/fd/${barrier!.pathFd}`)}, O_WRONLY|O_CLOEXEC) ... (waits for a reader of ${opts.barrier!.fifo})`, who);
        return { pid, execed: false, atBarrier: true };
      }
      release(i + 1);
    }
    return { pid, execed: false };
  } catch (err) {
    killAndReap(pid);
    throw err;
  } finally {
    closeSync(resultRead);
    closeSync(goWrite);
    keep.length = 0;
  }
}

/** Reap the process that forked the rest of a plan: it exits right after. */
function waitChildExit(pid: number): void {
  const status = new Int32Array(1);
  cfunc('int waitpid(int pid, _Out_ int *status, int options)')(pid, status, 0);
}
