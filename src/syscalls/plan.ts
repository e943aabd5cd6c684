// The child plan: run a list of libc calls in a new process before it execs,
// without C and without ever returning into JavaScript in the child.
//
// Why: Node is multithreaded, so it may not unshare(CLONE_NEWUSER) or setns()
// into a user namespace, and fork() from JavaScript crashes (the V8 heap is
// MADV_DONTFORK). So the child is made with glibc clone(setcontext, stack,
// flags, firstContext): it starts in setcontext() and walks a chain of
// ucontexts built with makecontext(), linked through uc_link. Every call of
// the plan becomes a few links:
//
//   prctl(PR_SET_PDEATHSIG) -> read(goPipe, scratch, 1) -> memset(&errno, 0, 4)
//     -> the call -> write(resultPipe, &errno, 4)
//
// The parent reads each errno from the result pipe (close-on-exec, so EOF
// means exec succeeded), runs its own part (writes uid_map, moves the child
// into a cgroup, ...), and lets the child go on with one byte on the go pipe,
// or kills it if a call failed. The last link is _exit(127). A plan may let
// the child run ahead (PlanOptions.runAhead): then most calls have no wait,
// and the child waits only where the parent must act or check first.
//
// Three steps:
//   buildChain  what the child runs, as data with symbolic labels (no kernel,
//               no addresses: unit-tested as a listing);
//   cloneChain  lays the chain out in memory and clones the child (with a
//               private copy of this process's memory);
//   drive       the lockstep over the two pipes, with the parent's work
//               between the child's calls.
//
// Some steps need more than a byte from the parent: a conditional call
// (Call.onlyIfFailed), where the go message is the address of the function
// the child runs next, written into that link's program counter slot; and a
// fork (forkCall), where the child clones the rest of the plan and reports
// the new PID on the result pipe. A plan may end in a barrier (Barrier): the
// parent returns while the child waits on a fifo, and may exit.
//
// A container runtime's child is a copy of this Node process until its
// execve, and the container's processes must not reach Node through it:
// PlanOptions.defences makes its first calls a prctl(PR_SET_DUMPABLE, 0)
// and close_range() of every fd the plan does not need (ChildDefences).
import { closeSync, readSync, writeSync } from 'node:fs';
import { addressOf, cString, cfunc, koffi, symbolAddress } from './libc.js';
import { Call, CallResults, callNow, makeCall } from './call.js';
import { ExecError, SyscallError } from './errors.js';
import { CLONE, ERRNO, O, PR, SIG, SIG_DFL, W_OK, decodeCloneFlags, signalName } from './constants.js';
import { kill, waitChildSync } from './process.js';
import { formatResult, q, traceLine, tracing } from './trace.js';

/**
 * A barrier at the end of a plan (a container runtime's create/start): once
 * every setup step has succeeded, the child stops dying with its parent and
 * blocks opening `fifo` for writing, which returns when another process
 * opens it for reading. Then it writes one byte ("0") into it and execs the
 * last call; the fifo's descriptor is close-on-exec, so the reader sees
 * that byte and then end-of-file once the exec has happened (or the child
 * has exited). startPlan returns as soon as the child is at the barrier, and
 * the caller may exit: the child is then reparented to the nearest
 * subreaper (or init). See docs/plan-barrier.md.
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
  /**
   * Parent work done while the child makes its first calls: after the go
   * for the first call, before the parent reads its report, so before any
   * later go (every gate, fork and the exec come after it). With runAhead
   * the two overlap. For slow work the first calls do not depend on: the
   * first write to a cgroup.procs file waits for an RCU grace period
   * (cgroup_threadgroup_rwsem), ~10 ms here.
   */
  alongside?: (pid: number) => void;
  /** Name for the child's trace lines (ts-runc: "init", "exec"); defaults to "pid N". */
  label?: string;
  /** End the plan in a barrier before its exec (see Barrier). */
  barrier?: Barrier;
  /**
   * Let the child run ahead: it waits for a go message only where the
   * parent has something to do or to check (see waitsForGo), and otherwise
   * goes from one call to the next, leaving its reports in the pipe. For
   * plans whose calls, after a failure, cannot reach beyond the child's own
   * namespaces until the next gate: the parent still reads every report in
   * order and kills the child at the first failure, and the exec always
   * waits. Such a child gets memory of its own (see cloneChain).
   */
  runAhead?: boolean;
  /** A container runtime's defences, made first (see ChildDefences). */
  defences?: ChildDefences;
}

/**
 * What a container runtime's child (ts-runc's init, and a process of
 * `ts-runc exec`) does before anything else. Until its execve it is a copy
 * of this Node process: /proc/PID/exe is the runtime's node, /proc/PID/fd
 * holds every fd Node had open (epoll, eventfds, a cgroup.procs file of the
 * host...), /proc/PID/map_files every file Node maps. A container process
 * that reaches those could open the runtime's executable for writing and
 * replace it (CVE-2019-5736) or use a host file. docs/runc.md, "Defences".
 */
export interface ChildDefences {
  /**
   * prctl(PR_SET_DUMPABLE, 0) as the child's first call. From then on
   * /proc/PID/exe, fd/* and map_files/* (and /proc/PID/mem, environ) need
   * ptrace access, which a non-dumpable process grants only to holders of
   * CAP_SYS_PTRACE in the user namespace that owns its memory: the host's,
   * since the memory was copied from the runtime's. So a container with a
   * user namespace can never pass; one without a user namespace passes
   * only if it was given CAP_SYS_PTRACE (what remains: docs/runc.md). The
   * flag lives on the memory, so forked processes keep it; execve sets it
   * back for the program. It must come after the parent's afterClone: a
   * non-dumpable child's /proc files belong to root, and an unprivileged
   * parent could no longer write its uid_map.
   */
  nonDumpable?: boolean;
  /**
   * Close every fd right after the clone (right after the prctl), except
   * fds 0..`through` (stdio, then --preserve-fds and LISTEN_FDS, which the
   * program gets as they are), the plan's own pipes and barrier fds, and
   * `held`: fds the plan's calls name (namespaces to join, the console
   * socket). Those last ones are close-on-exec; with a barrier, `held` ones
   * are closed before it, and the pipes at it, so a created container
   * waits with stdio and the exec fifo only. The fds to keep stay where
   * they are: the gaps between them are closed with one close_range(2)
   * each (calls with fixed numbers, so --trace shows which).
   */
  fds?: { through: number; held: ReadonlyArray<{ fd: number; name: string }> };
}

export interface StartedChild {
  pid: number;
  /** true when the last call was an exec and it succeeded */
  execed: boolean;
  /** true when the child waits at the plan's barrier (PlanOptions.barrier) */
  atBarrier?: boolean;
}

/** The child ended before it reported a step (killed from outside, or a crash). */
export class ChildDiedError extends Error {
  readonly pid: number;
  readonly step: string;
  constructor(pid: number, step: string) {
    super(`child ${pid} died before ${step}`);
    this.name = 'ChildDiedError';
    this.pid = pid;
    this.step = step;
  }
}

/**
 * A step that forks: the process that has run the plan so far clones a new
 * one that goes on with the rest of the plan, reports its PID and exits.
 * The new process is made with CLONE_PARENT, so it is this tool's own child
 * (the tool waits for it as usual). For setns(CLONE_NEWPID), which moves
 * only the children of the caller: util-linux nsenter forks at this point.
 */
export function forkCall(): Call {
  return {
    fn: 'clone',
    args: [],
    keep: [],
    show: 'clone(CLONE_PARENT|CLONE_PARENT_SETTID|SIGCHLD)',
    what: 'cannot fork',
    forks: true,
  };
}

// ---------------------------------------------------------------------------
// 1. buildChain: the links, as data.

/** A value a link passes to its function, resolved to 64 bits when the chain is laid out. */
export type ChainArg =
  | bigint
  /** The child's end of a pipe: 'result' (it writes reports), 'go' (it reads go messages). */
  | { readonly fd: 'result' | 'go' }
  /** The address of errno. */
  | { readonly errno: true }
  /** The address of one of the chain's buffers. */
  | { readonly buffer: string }
  /** The 16-byte aligned end of a buffer used as a stack. */
  | { readonly stackTop: string }
  /** The address of the context of the link with this label. */
  | { readonly context: string }
  /** The address of the program counter slot in that context (a go message lands there). */
  | { readonly pcSlotOf: string }
  /** The address of a libc function. */
  | { readonly symbol: string };

export interface ChainLink {
  readonly label?: string;
  /** libc symbol the link runs. */
  readonly fn: string;
  readonly args: readonly ChainArg[];
}

export interface Chain {
  readonly links: readonly ChainLink[];
  /** Memory the links point into, by name: a size (zeroed) or a fixed content. */
  readonly buffers: ReadonlyMap<string, number | Buffer>;
  /** Index of the call after whose report the child goes on to the barrier, or -1. */
  readonly barrierCall: number;
  /** Per call: does the child wait for a go message before it (see waitsForGo)? */
  readonly waits: readonly boolean[];
}

/** What buildChain needs to know of a barrier (see prepareBarrier). */
export interface ChainBarrier {
  /** This process's O_PATH descriptor of the fifo; the child reopens /proc/self/fd/N. */
  pathFd: number;
  /** The descriptor number the child's reopen gets. */
  reservedFd: number;
  tool: string;
}

const CLONE_STACK = 64 * 1024;

/** The label of the link that runs the plan's call i. */
export function callLabel(i: number): string {
  return `call${i}`;
}

/**
 * Does the child wait for the parent's go before call i? Always, unless the
 * plan runs ahead; then only before the first call (the parent's afterClone
 * comes first), an exec, a conditional call (the go message says what to
 * run), a fork, and after a call the parent acts on or checks (after, gate)
 * or after a fork (the new process has no death signal yet).
 */
export function waitsForGo(calls: readonly Call[], i: number, runAhead: boolean): boolean {
  const call = calls[i]!;
  const previous = calls[i - 1];
  return (
    !runAhead ||
    !previous ||
    call.exec !== undefined ||
    call.onlyIfFailed !== undefined ||
    call.forks === true ||
    previous.after !== undefined ||
    previous.gate === true ||
    previous.forks === true
  );
}

/**
 * The chain a child runs for `calls`: pure (no kernel, no addresses).
 * `barrier`: the last call must be an exec; the call before it is the last
 * one reported, then the child waits on the fifo (see Barrier).
 * `runAhead`: see PlanOptions.runAhead.
 */
export function buildChain(calls: readonly Call[], barrier?: ChainBarrier, opts: { runAhead?: boolean } = {}): Chain {
  if (barrier && !calls[calls.length - 1]?.exec) throw new Error('a plan with a barrier must end with an exec');
  const links: ChainLink[] = [];
  const buffers = new Map<string, number | Buffer>([['scratch', 16]]);
  // A label waiting for the next link: where a forked process starts.
  let entry: string | undefined;
  const add = (fn: string, args: ChainArg[], opts: { label?: string } = {}) => {
    const label = opts.label ?? entry;
    entry = undefined;
    links.push({ fn, args, ...(label ? { label } : {}) });
  };

  const report = (value: ChainArg = { errno: true }) => add('write', [{ fd: 'result' }, value, 4n]);
  const isDeathSignalCall = (c: Call) => c.fn === 'prctl' && c.args[0] === BigInt(PR.PR_SET_PDEATHSIG);
  const dieWithParent = (signal: number) => add('prctl', [BigInt(PR.PR_SET_PDEATHSIG), BigInt(signal), 0n, 0n, 0n]);
  // The program itself outlives its parent, unless a call asked otherwise (--kill-child).
  const keepsDeathSignal = calls.some(isDeathSignalCall);
  const barrierCall = barrier ? calls.length - 2 : -1;
  const waits = calls.map((_, i) => waitsForGo(calls, i, opts.runAhead === true));

  // While it runs the plan, the child dies with its parent: it holds a copy
  // of the go pipe's write end (fds are close-on-exec, not close-on-clone),
  // so without this it would wait forever for a parent that is gone. The
  // kernel clears the death signal whenever the process's ids change
  // (setuid, setgid, a new user namespace: commit_creds), so it is set again
  // before every wait: SIGKILL, or the plan's own once a call has set one.
  let deathSignal: number = SIG.SIGKILL;
  const waitForGo = (pcOf?: string) => {
    dieWithParent(deathSignal);
    // For a conditional call the go message is the address of the function
    // to run, written over that call's program counter.
    if (pcOf) add('read', [{ fd: 'go' }, { pcSlotOf: pcOf }, 8n]);
    else add('read', [{ fd: 'go' }, { buffer: 'scratch' }, 1n]);
  };
  calls.forEach((call, i) => {
    const label = callLabel(i);
    if (barrier && call.exec) {
      // Past the barrier nobody reads the result pipe (its reader may be
      // gone): reopen the fifo (blocks until a reader comes), write the
      // byte, exec; if the exec returns, say so on fd 2 (and _exit(127)).
      buffers.set('fifo', cString(`/proc/self/fd/${barrier.pathFd}`));
      buffers.set('byte', Buffer.from('0'));
      buffers.set('message', Buffer.from(`${barrier.tool}: failed to execute ${call.exec.file}\n`));
      add('close', [BigInt(barrier.reservedFd)]);
      // Nothing more is reported, and nothing read: the pipes go, so a
      // created container waits holding stdio and the fifo's fd only.
      add('close', [{ fd: 'result' }]);
      add('close', [{ fd: 'go' }]);
      add('open', [{ buffer: 'fifo' }, BigInt(O.O_WRONLY | O.O_CLOEXEC)], { label: 'barrier' });
      add('write', [BigInt(barrier.reservedFd), { buffer: 'byte' }, 1n]);
      add(call.fn, [...call.args], { label });
      add('write', [2n, { buffer: 'message' }, BigInt(Buffer.byteLength(buffers.get('message') as Buffer))]);
      return;
    }
    if (waits[i]) waitForGo(call.onlyIfFailed !== undefined ? label : undefined);
    if (call.exec && !keepsDeathSignal) dieWithParent(0);
    add('memset', [{ errno: true }, 0n, 4n]);
    if (call.forks) {
      // The new process starts in setcontext(<label>.forked), the next
      // call's wait (which sets its death signal: a new process starts
      // without one); this one reports the new PID and exits.
      const stack = `${label}.stack`;
      buffers.set(stack, CLONE_STACK);
      buffers.set('childTid', 8);
      const flags = BigInt(CLONE.CLONE_PARENT | CLONE.CLONE_PARENT_SETTID | SIG.SIGCHLD);
      add(
        'clone',
        [{ symbol: 'setcontext' }, { stackTop: stack }, flags, { context: `${label}.forked` }, { buffer: 'childTid' }],
        { label },
      );
      report();
      report({ buffer: 'childTid' });
      add('_exit', [0n]);
      entry = `${label}.forked`;
      return;
    }
    add(call.fn, [...call.args], { label });
    report();
    if (isDeathSignalCall(call)) deathSignal = Number(call.args[1]);
  });
  // The exec guard: an exec that returns (it failed, and said so) ends here.
  // A plan without exec ends here too, after its last report.
  add('_exit', [calls.some((c) => c.exec) ? 127n : 0n], { label: 'exit' });
  return { links, buffers, barrierCall, waits };
}

/** One argument of a link as text: `<go>`, `&errno`, `@call3`, ... */
function chainArgText(a: ChainArg): string {
  if (typeof a === 'bigint') return String(a);
  if ('fd' in a) return `<${a.fd}>`;
  if ('errno' in a) return '&errno';
  if ('buffer' in a) return `&${a.buffer}`;
  if ('stackTop' in a) return `top(${a.stackTop})`;
  if ('context' in a) return `@${a.context}`;
  if ('pcSlotOf' in a) return `pc(@${a.pcSlotOf})`;
  return a.symbol;
}

/** The chain as text, one link a line: for tests and for reading. */
export function chainListing(chain: Chain): string[] {
  return chain.links.map((l) => `${l.label ? `${l.label}: ` : ''}${l.fn}(${l.args.map(chainArgText).join(', ')})`);
}

// ---------------------------------------------------------------------------
// 2. cloneChain: contexts in memory, and the clone.

// ucontext_t is 968 bytes on x86_64 glibc and 4560 on aarch64; links get room to spare.
const CONTEXT_SIZE = process.arch === 'x64' ? 1024 : 8192;
// The links share one stack (see layoutChain): this much lies below the
// first link's top, for the deepest call (execvp's PATH search, a signal
// frame); each later link's top is LINK_STACK_STEP higher.
const STACK_DEPTH = 128 * 1024;
const LINK_STACK_STEP = 64;
// Offsets in ucontext_t shared by x86_64 and aarch64: uc_link, uc_stack{ss_sp, ss_flags, ss_size}.
const UC_LINK = 8;
const UC_STACK_SP = 16;
const UC_STACK_FLAGS = 24;
const UC_STACK_SIZE = 32;
// uc_sigmask: after mcontext on x86_64, before it on aarch64. Zeroed so every
// link runs with no signal blocked (setcontext restores this mask).
const UC_SIGMASK = process.arch === 'arm64' ? 40 : 296;
const SIGSET_BYTES = 128;

let pcOffset: number | undefined;
/**
 * Where makecontext() stores the function a context will run (REG_RIP on
 * x86_64, pc on aarch64): found by looking, not by a per-arch table.
 */
function programCounterOffset(): number {
  if (pcOffset !== undefined) return pcOffset;
  const ctx = Buffer.alloc(CONTEXT_SIZE);
  const stack = Buffer.alloc(4096);
  cfunc('int getcontext(void *ucp)')(ctx);
  ctx.writeBigUInt64LE(addressOf(stack), UC_STACK_SP);
  ctx.writeBigUInt64LE(BigInt(stack.length), UC_STACK_SIZE);
  const fn = symbolAddress('getpid');
  cfunc('void makecontext(void *ucp, int64_t func, int argc, ...)')(ctx, fn, 0);
  for (let off = 0; off + 8 <= CONTEXT_SIZE; off += 8) if (ctx.readBigUInt64LE(off) === fn) return (pcOffset = off);
  throw new Error('cannot find the program counter in a ucontext_t');
}

function pipeCloexec(): [number, number] {
  const fds = new Int32Array(2);
  const rc = cfunc('int pipe2(_Out_ int *fds, int flags)')(fds, O.O_CLOEXEC);
  if (rc !== 0) throw new SyscallError('pipe2', 'pipe2([], O_CLOEXEC)', koffi.errno());
  return [fds[0]!, fds[1]!];
}

const stackTop = (b: Buffer) => (addressOf(b) + BigInt(b.length)) & ~15n;

/**
 * The contexts of a chain in one arena, built back to front so each link
 * knows the address of the next. Returns the first context's address and
 * the memory that must stay alive until the child execs.
 *
 * One getcontext() fills a template that every link copies (its signal
 * mask, registers and floating-point state; on x86_64 its fpregs pointer
 * points into the template, which is kept alive with the arena); then
 * makecontext() sets each link's function, arguments, stack and successor.
 *
 * The links share one stack, because a stack each costs a page fault
 * each. makecontext() leaves a few words at the top of a link's stack
 * (x86_64: the return address into __start_context and the uc_link
 * pointer, 16 bytes for up to 6 arguments; aarch64: none), and a running
 * function writes only below its own top. So link i's top is
 * LINK_STACK_STEP bytes above link i-1's: the words of the links still to
 * run lie above the running one, and it can overwrite only those of links
 * that have run. A forked process gets a copy with the rest intact.
 */
function layoutChain(chain: Chain, fds: { result: number; go: number }): { first: bigint; keep: Buffer[] } {
  const buffers = new Map<string, Buffer>();
  for (const [name, b] of chain.buffers) buffers.set(name, typeof b === 'number' ? Buffer.alloc(b) : b);
  // One arena for every context and stack, not zeroed: a context is copied
  // from the template, and a stack needs no initial content (zeroing
  // megabytes on every run would cost more than all the calls).
  const contextsSize = chain.links.length * CONTEXT_SIZE;
  const arena = Buffer.allocUnsafeSlow(contextsSize + STACK_DEPTH + chain.links.length * LINK_STACK_STEP);
  const base = addressOf(arena);
  const contextAt = (i: number) => base + BigInt(i * CONTEXT_SIZE);
  const byLabel = new Map<string, bigint>();
  chain.links.forEach((l, i) => l.label && byLabel.set(l.label, contextAt(i)));
  const context = (label: string) => {
    const at = byLabel.get(label);
    if (at === undefined) throw new Error(`no link labelled ${label}`);
    return at;
  };
  const errnoAddress = addressOf(cfunc('int *__errno_location()')());
  const resolveNow = (a: Exclude<ChainArg, bigint>): bigint => {
    if ('fd' in a) return BigInt(fds[a.fd]);
    if ('errno' in a) return errnoAddress;
    if ('buffer' in a) return addressOf(buffers.get(a.buffer)!);
    if ('stackTop' in a) return stackTop(buffers.get(a.stackTop)!);
    if ('context' in a) return context(a.context);
    if ('pcSlotOf' in a) return context(a.pcSlotOf) + BigInt(programCounterOffset());
    return symbolAddress(a.symbol);
  };
  // Most links name the same few things (the pipes, errno, the scratch byte): resolve each once.
  const resolved = new Map<string, bigint>();
  const resolve = (a: ChainArg): bigint => {
    if (typeof a === 'bigint') return a;
    const key = chainArgText(a);
    let value = resolved.get(key);
    if (value === undefined) resolved.set(key, (value = resolveNow(a)));
    return value;
  };

  const template = Buffer.alloc(CONTEXT_SIZE);
  if (cfunc('int getcontext(void *ucp)')(template) !== 0)
    throw new SyscallError('getcontext', 'getcontext()', koffi.errno());
  template.fill(0, UC_SIGMASK, UC_SIGMASK + SIGSET_BYTES);
  template.writeInt32LE(0, UC_STACK_FLAGS);
  const makecontext = cfunc('void makecontext(int64_t ucp, int64_t func, int argc, ...)');
  // The contexts' 64-bit words (the arena starts page-aligned: allocUnsafeSlow is a buffer of its own).
  const words = new BigUint64Array(arena.buffer, arena.byteOffset, contextsSize / 8);
  const stackBase = base + BigInt(contextsSize);
  let next = 0n;
  for (let i = chain.links.length - 1; i >= 0; i--) {
    const link = chain.links[i]!;
    const offset = i * CONTEXT_SIZE;
    if (link.args.length > 6)
      throw new Error(`${link.fn}: a link takes at most 6 arguments (they would not fit its stack step)`);
    arena.set(template, offset);
    words[(offset + UC_LINK) / 8] = next;
    words[(offset + UC_STACK_SP) / 8] = stackBase;
    words[(offset + UC_STACK_SIZE) / 8] = BigInt(STACK_DEPTH + i * LINK_STACK_STEP);
    const varargs: unknown[] = [];
    for (const a of link.args) varargs.push('int64_t', resolve(a));
    next = contextAt(i);
    makecontext(next, symbolAddress(link.fn), link.args.length, ...varargs);
  }
  return { first: next, keep: [arena, template, ...buffers.values()] };
}

interface ClonedChild {
  pid: number;
  /** The parent's ends of the pipes. */
  resultRead: number;
  goWrite: number;
  /** Memory the child's chain lives in (its copy is what the child runs on). */
  keep: Buffer[];
}

/**
 * Lay the chain out and clone the child that runs it, always with a private
 * (copy-on-write) copy of this process's memory, never CLONE_VM. A child
 * sharing our memory keeps the thread pointer of this process's main
 * thread, so its errno is that thread's errno: whatever libc does on the
 * main thread while the child calls (free() saves and restores errno, any
 * failed call sets it) lands in the child's report. That happened in
 * lockstep too, between the go byte and the parent's read: 2 in 5000
 * conditional calls went the wrong way, and ts-nsenter's second pass once
 * skipped the pid namespace (test/kernel/plan-errno.test.ts). A copy also lets a
 * child outlive this process (a barrier), and setns() into a time
 * namespace, which the kernel refuses in a shared address space (EUSERS).
 * It costs about 1 ms per tool here (page tables, then copy-on-write faults
 * while the parent works).
 */
function cloneChain(chain: Chain, opts: PlanOptions, pipes: PlanPipes): ClonedChild {
  const { resultRead, resultWrite, goRead, goWrite } = pipes;
  try {
    const { first, keep } = layoutChain(chain, { result: resultWrite, go: goRead });
    const cloneStack = Buffer.allocUnsafeSlow(CLONE_STACK);
    keep.push(cloneStack);
    const flags = (opts.cloneFlags ?? 0) | SIG.SIGCHLD;
    const clone = cfunc('int clone(int64_t fn, int64_t stack, int flags, int64_t arg, ...)');
    koffi.errno(0);
    const pid = clone(symbolAddress('setcontext'), stackTop(cloneStack), flags, first) as number;
    const errno = koffi.errno();
    if (pid === -1) {
      traceLine(`clone(${decodeCloneFlags(flags)}) ${formatResult(-1, errno)}`);
      throw new SyscallError('clone', `clone(${decodeCloneFlags(flags)})`, errno);
    }
    if (tracing()) traceLine(`clone(${decodeCloneFlags(flags)}) = ${pid}`);
    return { pid, resultRead, goWrite, keep };
  } finally {
    // The child's ends (startPlan closes ours).
    closeSync(resultWrite);
    closeSync(goRead);
  }
}

// ---------------------------------------------------------------------------
// 3. drive: the lockstep.

/**
 * Read the child's reports, do the parent's part after each, and let it go
 * on. Returns when the child has exec'd, finished, or reached its barrier;
 * throws (child killed and reaped) when a call failed.
 */
// Long on purpose: its inner functions (readReport, release, the trace of
// calls that ran ahead) share the child's pid, label and report buffer, and
// the loop reads as the lockstep itself; split, they would pass that state
// around.
// eslint-disable-next-line max-lines-per-function
function drive(child: ClonedChild, calls: readonly Call[], chain: Chain, opts: PlanOptions): StartedChild {
  let pid = child.pid;
  let who = opts.label ?? `pid ${pid}`;
  const results = new CallResults();
  // Reports are 4-byte writes (atomic on a pipe); a child that runs ahead
  // may have written several, and one read takes all that are there.
  const reports = Buffer.alloc(4096);
  let have = 0;
  let next = 0;
  const readReport = (): number | undefined => {
    if (next === have) {
      have = readSync(child.resultRead, reports, 0, reports.length, null);
      next = 0;
      if (have < 4) return undefined;
    }
    const value = reports.readInt32LE(next);
    next += 4;
    return value;
  };
  // Let the child go on to call i: one byte, or for a conditional call the
  // address of the function it will run (the call's own, or getpid to skip it).
  const skipped = new Set<number>();
  const release = (i: number) => {
    const call = calls[i]!;
    if (call.onlyIfFailed === undefined) return void writeSync(child.goWrite, Buffer.from('g'));
    const run = results.shouldRun(call);
    if (!run) skipped.add(i);
    const target = Buffer.alloc(8);
    target.writeBigUInt64LE(symbolAddress(run ? call.fn : 'getpid'));
    writeSync(child.goWrite, target);
  };
  try {
    opts.afterClone?.(pid);
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i]!;
      if (chain.barrierCall >= 0 && i === chain.barrierCall + 1) {
        // The child is on its way to the barrier: nothing more is reported.
        traceLine(
          `close(<result pipe>), close(<go pipe>), open(${q(chain.buffers.get('fifo')!.toString().replace(/\0$/, ''))}, O_WRONLY|O_CLOEXEC) ... (waits for a reader of ${opts.barrier?.fifo})`,
          who,
        );
        return { pid, execed: false, atBarrier: true };
      }
      // The exec's trace line comes first: once the program runs, a line
      // written here could land between two writes of the program's own
      // ("cat: " ... "/etc/shadow: Permission denied"). As with an exec in
      // place, "..." ends it; a failed exec adds its own line.
      if (call.exec) traceLine(`${call.show} ...`, who);
      if (chain.waits[i]) release(i);
      if (i === 0) opts.alongside?.(pid);
      const errno = readReport();
      if (errno === undefined) {
        if (call.exec) return { pid, execed: true };
        throw new ChildDiedError(pid, call.show);
      }
      if (skipped.has(i)) continue;
      if (call.forks && !errno) {
        const forked = readReport();
        if (forked === undefined) throw new ChildDiedError(pid, `the PID of ${call.show}`);
        traceLine(`${call.show} = ${forked}`, who);
        waitChildSync(pid); // the forking process exits right after
        pid = forked;
        who = opts.label ?? `pid ${pid}`;
        continue;
      }
      traceLine(`${call.show} ${errno ? formatResult(-1, errno) : '= 0'}`, who);
      if (call.exec) throw new ExecError(call.exec.file, errno);
      const optional = results.isOptional(call);
      results.record(call, errno);
      if (errno && !optional) {
        kill(pid, SIG.SIGKILL);
        traceRanAhead(i);
        throw new SyscallError(call.fn, call.show, errno, { what: call.what, hint: call.hint });
      }
      if (!errno) call.after?.(pid);
    }
    return { pid, execed: false };
  } catch (err) {
    kill(pid, SIG.SIGKILL);
    waitChildSync(pid);
    throw err;
  }

  // A child that runs ahead may have made more calls after the one that
  // failed, before it was killed: the trace shows them too. Their reports
  // are in the pipe; it ends once the killed child is gone.
  function traceRanAhead(failed: number): void {
    for (let j = failed + 1; j < calls.length && !chain.waits[j] && j !== chain.barrierCall + 1; j++) {
      const errno = readReport();
      if (errno === undefined) return;
      traceLine(`${calls[j]!.show} ${errno ? formatResult(-1, errno) : '= 0'} /* ran ahead of the failure */`, who);
    }
  }
}

// ---------------------------------------------------------------------------
// The barrier's parent side.

/** Signals this process catches (Node's and libuv's handlers): their handlers must not run in a child that waits. */
function caughtSignals(): number[] {
  const sigaction = cfunc('int sigaction(int sig, void *act, _Out_ void *old)');
  const old = Buffer.alloc(256); // struct sigaction: the handler comes first
  const caught: number[] = [];
  for (let sig = 1; sig < 32; sig++) {
    if (sig === SIG.SIGKILL || sig === SIG.SIGSTOP) continue;
    if (sigaction(sig, null, old) === 0 && old.readBigUInt64LE(0) > 1n /* neither SIG_DFL nor SIG_IGN */)
      caught.push(sig);
  }
  return caught;
}

interface PreparedBarrier extends ChainBarrier {
  /** Reported steps before the barrier; the last one clears the death signal. */
  calls: Call[];
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
  const pathFd = callNow(
    makeCall('open', [path, O.O_PATH | O.O_CLOEXEC], `open(${q(path)}, O_PATH|O_CLOEXEC)`, {
      what: `cannot open ${path}`,
    }),
  );
  try {
    const { fstatSync } = process.getBuiltinModule('node:fs') as typeof import('node:fs');
    if (!fstatSync(pathFd).isFIFO())
      throw new SyscallError('open', `open(${q(path)})`, ERRNO.ENXIO, {
        what: `cannot use ${path} as a barrier (not a fifo)`,
      });
    const reservedFd = callNow(
      makeCall('open', ['/dev/null', O.O_RDONLY | O.O_CLOEXEC], 'open("/dev/null", O_RDONLY|O_CLOEXEC)'),
    );
    const reopen = `/proc/self/fd/${pathFd}`;
    const calls: Call[] = [
      // A signal must kill the waiting child, not run a copy of a handler of this process.
      ...caughtSignals().map((sig) => makeCall('signal', [sig, SIG_DFL], `signal(${signalName(sig)}, SIG_DFL)`)),
      // What would make the reopen fail (no /proc here, no write permission
      // for the child's ids) is found now, while the parent still listens.
      // A gate when the plan runs ahead: the child goes on to outlive its parent only once this is seen.
      makeCall('access', [reopen, W_OK], `access(${q(reopen)}, W_OK)`, {
        what: `cannot open ${path} for writing`,
        gate: true,
      }),
      // From here on the child outlives its parent.
      makeCall('prctl', [PR.PR_SET_PDEATHSIG, 0, 0, 0, 0], 'prctl(PR_SET_PDEATHSIG, 0)'),
    ];
    return { calls, pathFd, reservedFd, tool: barrier.tool ?? 'plan' };
  } catch (err) {
    closeSync(pathFd);
    throw err;
  }
}

/** The two pipes of a plan: the child writes reports to one and reads go messages from the other. */
interface PlanPipes {
  resultRead: number;
  resultWrite: number;
  goRead: number;
  goWrite: number;
}

function planPipes(): PlanPipes {
  const [resultRead, resultWrite] = pipeCloexec();
  try {
    const [goRead, goWrite] = pipeCloexec();
    return { resultRead, resultWrite, goRead, goWrite };
  } catch (err) {
    closeSync(resultRead);
    closeSync(resultWrite);
    throw err;
  }
}

const CLOSE_RANGE_ALL = 0xffffffff;

/**
 * close_range(2) calls that close every fd from `from` on except those of
 * `keep` (fd -> what it is): one call per gap, each naming the fd it stops
 * before. Pure, for tests and --trace.
 */
export function closeGapsCalls(keep: ReadonlyMap<number, string>, from: number): Call[] {
  const calls: Call[] = [];
  let start = from;
  for (const fd of [...keep.keys()].filter((k) => k >= from).sort((a, b) => a - b)) {
    if (fd > start)
      calls.push(
        makeCall(
          'close_range',
          [start, fd - 1, 0],
          `close_range(${start}, ${fd - 1}, 0) /* up to ${fd}<${keep.get(fd)}> */`,
          { what: "close the runtime's fds" },
        ),
      );
    start = fd + 1;
  }
  calls.push(
    makeCall('close_range', [start, CLOSE_RANGE_ALL, 0], `close_range(${start}, ~0U, 0)`, {
      what: "close the runtime's fds",
    }),
  );
  return calls;
}

/** The first calls of a runtime's child (ChildDefences), and the closes before its barrier. */
function defenceCalls(
  defences: ChildDefences | undefined,
  pipes: PlanPipes,
  barrier: PreparedBarrier | undefined,
): { first: Call[]; beforeBarrier: Call[] } {
  const first: Call[] = [];
  const beforeBarrier: Call[] = [];
  if (!defences) return { first, beforeBarrier };
  if (defences.nonDumpable)
    first.push(
      makeCall(
        'prctl',
        [PR.PR_SET_DUMPABLE, 0, 0, 0, 0],
        'prctl(PR_SET_DUMPABLE, 0) /* /proc/PID/exe, fd, map_files: CAP_SYS_PTRACE only, until execve */',
        { what: 'make the process non-dumpable' },
      ),
    );
  if (defences.fds) {
    const keep = new Map<number, string>();
    keep.set(pipes.resultWrite, 'result pipe');
    keep.set(pipes.goRead, 'go pipe');
    if (barrier) keep.set(barrier.pathFd, 'exec fifo, O_PATH');
    for (const h of defences.fds.held) {
      keep.set(h.fd, h.name);
      beforeBarrier.push(makeCall('close', [h.fd], `close(${h.fd}) /* ${h.name}: done with it */`, { optional: true }));
    }
    first.push(...closeGapsCalls(keep, defences.fds.through + 1));
  }
  return { first, beforeBarrier: barrier ? beforeBarrier : [] };
}

/**
 * Clone a child that runs `calls` in order and then, if the last call is an
 * exec, becomes that program. Returns once the child has exec'd (or finished
 * the plan, or reached its barrier). Throws SyscallError for a failed call,
 * ExecError for a failed exec; in both cases the child has been killed and
 * reaped.
 */
export function startPlan(setup: readonly Call[], opts: PlanOptions = {}): StartedChild {
  if (opts.barrier && !setup[setup.length - 1]?.exec) throw new Error('a plan with a barrier must end with an exec');
  const barrier = opts.barrier ? prepareBarrier(opts.barrier) : undefined;
  try {
    const pipes = planPipes();
    const { first, beforeBarrier } = defenceCalls(opts.defences, pipes, barrier);
    // The barrier's reopen gets the child's lowest free fd. Without the
    // fd defence that is the one reserved in this process (the child has
    // the same table); with it, the first fd past the passed ones that is
    // not the fifo's (everything else is closed by then).
    let chainBarrier: ChainBarrier | undefined = barrier;
    const through = opts.defences?.fds?.through;
    if (barrier && through !== undefined) {
      let fd = through + 1;
      while (fd === barrier.pathFd) fd++;
      chainBarrier = { ...barrier, reservedFd: fd };
    }
    const calls = barrier
      ? [...first, ...setup.slice(0, -1), ...beforeBarrier, ...barrier.calls, setup[setup.length - 1]!]
      : [...first, ...setup];
    try {
      let chain: Chain;
      try {
        chain = buildChain(calls, chainBarrier, { runAhead: opts.runAhead });
      } catch (err) {
        closeSync(pipes.resultWrite);
        closeSync(pipes.goRead);
        throw err;
      }
      const child = cloneChain(chain, opts, pipes);
      try {
        return drive(child, calls, chain, opts);
      } finally {
        child.keep.length = 0;
      }
    } finally {
      // cloneChain closed the child's ends; ours go now.
      closeSync(pipes.resultRead);
      closeSync(pipes.goWrite);
    }
  } finally {
    if (barrier) {
      closeSync(barrier.reservedFd);
      closeSync(barrier.pathFd);
    }
  }
}
