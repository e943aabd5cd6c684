// The child plan's chain, built without a kernel: buildChain is pure data
// (links by label, buffers by name), so what the child will run can be read
// as a listing and checked here; drive's decisions on conditional and
// optional calls (CallResults) too. The real runs are in plan-barrier,
// unshare and nsenter tests.
import t, { Test } from 'tap';
import {
  buildChain,
  callLabel,
  closeGapsCalls,
  Chain,
  ChainArg,
  chainListing,
  forkCall,
  waitsForGo,
} from '../../src/syscalls/plan.js';
import { Call, CallResults } from '../../src/syscalls/call.js';
import { CLONE, O, PR, SIG } from '../../src/syscalls/constants.js';

/** A call as data, without a kernel: arguments are plain numbers. */
function call(fn: string, args: number[] = [], extra: Partial<Call> = {}): Call {
  return { fn, args: args.map(BigInt), keep: [], show: `${fn}(${args.join(', ')})`, ...extra };
}
const exec = (file = '/bin/true') => call('execvp', [1, 2], { exec: { file } });

const DEATH = PR.PR_SET_PDEATHSIG;
const ARM = `prctl(${DEATH}, ${SIG.SIGKILL}, 0, 0, 0)`;
const READ = 'read(<go>, &scratch, 1)';
const CLEAR = 'memset(&errno, 0, 4)';
const REPORT = 'write(<result>, &errno, 4)';

/** Every label a link refers to exists, once; every buffer it names is declared. */
function checkReferences(t: Test, chain: Chain) {
  const labels = chain.links.map((l) => l.label).filter((l): l is string => !!l);
  t.equal(new Set(labels).size, labels.length, 'labels are unique');
  const refs = chain.links.flatMap((l) => l.args).filter((a): a is Exclude<ChainArg, bigint> => typeof a !== 'bigint');
  for (const r of refs) {
    if ('context' in r) t.ok(labels.includes(r.context), `@${r.context} exists`);
    if ('pcSlotOf' in r) t.ok(labels.includes(r.pcSlotOf), `pc(@${r.pcSlotOf}) exists`);
    if ('buffer' in r) t.ok(chain.buffers.has(r.buffer), `&${r.buffer} is declared`);
    if ('stackTop' in r) t.ok(chain.buffers.has(r.stackTop), `top(${r.stackTop}) is declared`);
  }
}

t.test('a plain plan: wait, clear errno, call, report; the program outlives the parent; the exec guard', async (t) => {
  const chain = buildChain([call('a', [1]), call('b', [2, 3]), exec()]);
  t.same(
    chainListing(chain),
    [
      ARM,
      READ,
      CLEAR,
      'call0: a(1)',
      REPORT,
      ARM,
      READ,
      CLEAR,
      'call1: b(2, 3)',
      REPORT,
      ARM,
      READ,
      `prctl(${DEATH}, 0, 0, 0, 0)`,
      CLEAR,
      'call2: execvp(1, 2)',
      REPORT,
      'exit: _exit(127)',
    ],
    'the death signal is set again before every wait (an id change clears it)',
  );
  t.equal(chain.barrierCall, -1, 'no barrier');
  t.equal(chain.waits.filter(Boolean).length, 3, 'without runAhead the child waits before every call');
  checkReferences(t, chain);
});

t.test('a call that sets the death signal itself (--kill-child) keeps it for the program', async (t) => {
  const kill = call('prctl', [DEATH, SIG.SIGTERM, 0, 0, 0]);
  const listing = chainListing(buildChain([kill, call('setuid', [1000]), exec()]));
  t.equal(listing.filter((l) => l.startsWith(`prctl(${DEATH}, 0`)).length, 0, 'no clearing before exec');
  t.ok(listing.includes(`call0: prctl(${DEATH}, ${SIG.SIGTERM}, 0, 0, 0)`), "the call's own prctl is there");
  const armed = listing.filter((l) => l.startsWith(`prctl(${DEATH}, `));
  t.same(
    armed,
    [ARM, `prctl(${DEATH}, ${SIG.SIGTERM}, 0, 0, 0)`, `prctl(${DEATH}, ${SIG.SIGTERM}, 0, 0, 0)`],
    'later waits set that signal again, not SIGKILL',
  );
});

t.test('a plan without exec reports its last call and exits 0', async (t) => {
  const listing = chainListing(buildChain([call('mount', [1])]));
  t.same(listing.slice(-3), ['call0: mount(1)', REPORT, 'exit: _exit(0)']);
});

t.test('an optional call runs like any other: the parent decides what a failure means', async (t) => {
  const plain = chainListing(buildChain([call('umount2', [1]), exec()]));
  const optional = chainListing(buildChain([call('umount2', [1], { optional: true }), exec()]));
  t.same(optional, plain);
});

t.test('a conditional call: the go message lands in its program counter', async (t) => {
  const first = call('setns', [3, 1], { id: 'net-first', optional: true });
  const again = call('setns', [3, 1], { onlyIfFailed: 'net-first' });
  const chain = buildChain([first, again, exec()]);
  const listing = chainListing(chain);
  const at = listing.indexOf(`${callLabel(1)}: setns(3, 1)`);
  t.same(listing.slice(at - 3, at + 2), [
    ARM,
    `read(<go>, pc(@${callLabel(1)}), 8)`,
    CLEAR,
    'call1: setns(3, 1)',
    REPORT,
  ]);
  checkReferences(t, chain);
});

t.test('the fork step: the new process starts at its own label and goes on with the next call', async (t) => {
  const chain = buildChain([call('setns', [3, CLONE.CLONE_NEWPID]), forkCall(), call('setuid', [0]), exec()]);
  const listing = chainListing(chain);
  const flags = CLONE.CLONE_PARENT | CLONE.CLONE_PARENT_SETTID | SIG.SIGCHLD;
  const at = listing.indexOf(`call1: clone(setcontext, top(call1.stack), ${flags}, @call1.forked, &childTid)`);
  t.ok(at > 0, 'the clone call');
  t.same(
    listing.slice(at + 1, at + 8),
    [REPORT, 'write(<result>, &childTid, 4)', '_exit(0)', `call1.forked: ${ARM}`, READ, CLEAR, 'call2: setuid(0)'],
    'reports errno and the PID, exits; the new one starts at the next wait, which sets its death signal',
  );
  t.equal(chain.buffers.get('call1.stack'), 64 * 1024, 'the new process starts on a stack of its own');
  checkReferences(t, chain);
});

t.test('a barrier: the last reported call, then the fifo, the byte, the exec, the message', async (t) => {
  const chain = buildChain([call('chdir', [1]), call('prctl', [DEATH, 0, 0, 0, 0]), exec('/bin/sh')], {
    pathFd: 7,
    reservedFd: 9,
    tool: 'ts-runc',
  });
  t.equal(chain.barrierCall, 1, 'the call before the exec');
  t.same(
    chainListing(chain).slice(-11),
    [
      CLEAR,
      `call1: prctl(${DEATH}, 0, 0, 0, 0)`,
      REPORT,
      'close(9)',
      'close(<result>)',
      'close(<go>)',
      `barrier: open(&fifo, ${O.O_WRONLY | O.O_CLOEXEC})`,
      'write(9, &byte, 1)',
      'call2: execvp(1, 2)',
      `write(2, &message, ${'ts-runc: failed to execute /bin/sh\n'.length})`,
      'exit: _exit(127)',
    ],
    'no wait for go after the last report; nothing reported after it',
  );
  t.equal((chain.buffers.get('fifo') as Buffer).toString(), '/proc/self/fd/7\0', 'the fifo is reopened through /proc');
  t.equal((chain.buffers.get('byte') as Buffer).toString(), '0');
  t.equal((chain.buffers.get('message') as Buffer).toString(), 'ts-runc: failed to execute /bin/sh\n');
  checkReferences(t, chain);
  t.throws(
    () => buildChain([call('chdir', [1])], { pathFd: 7, reservedFd: 9, tool: 'x' }),
    /must end with an exec/,
    'a barrier needs an exec after it',
  );
});

t.test('running ahead: the child waits only where the parent acts, checks, decides, or before the exec', async (t) => {
  const after = () => undefined;
  const calls = [
    call('umask', [0]), // the first call: the parent's afterClone comes first
    call('mount', [1], { gate: true }), // runs ahead; the next waits for it to be seen
    call('mount', [2]),
    call('mknod', [3]), // runs ahead
    call('getpid', [], { after }), // runs ahead; the parent acts after it
    call('setuid', [0]),
    call('setns', [3, 1], { id: 'retry-me', optional: true }),
    call('setns', [3, 1], { onlyIfFailed: 'retry-me' }), // conditional: the go says what to run
    forkCall(),
    call('chdir', [1]), // after a fork
    call('umask', [0o22]),
    exec(),
  ];
  const waits = calls.map((_, i) => waitsForGo(calls, i, true));
  t.same(waits, [true, false, true, false, false, true, false, true, true, true, false, true]);
  t.same(
    calls.map((_, i) => waitsForGo(calls, i, false)),
    calls.map(() => true),
    'without runAhead: before every call',
  );
  const chain = buildChain(calls, undefined, { runAhead: true });
  t.same(chain.waits, waits);
  const listing = chainListing(chain);
  const at = listing.indexOf('call2: mount(2)');
  t.same(
    listing.slice(at - 6, at + 5),
    [CLEAR, 'call1: mount(1)', REPORT, ARM, READ, CLEAR, 'call2: mount(2)', REPORT, CLEAR, 'call3: mknod(3)', REPORT],
    'a call that runs ahead: clear errno, call, report, no wait',
  );
  checkReferences(t, chain);
});

t.test('CallResults: conditional and optional calls decided by earlier results', async (t) => {
  const first = call('setgroups', [], { id: 'early', optional: true });
  const later = call('setgroups', [], { optional: { ifSucceeded: 'early' } });
  const retry = call('setns', [], { onlyIfFailed: 'early' });
  const failed = new CallResults();
  failed.record(first, 1);
  t.equal(failed.isOptional(later), false, 'the early one failed: the later one must succeed');
  t.equal(failed.shouldRun(retry), true, 'and the retry runs');
  const ok = new CallResults();
  ok.record(first, 0);
  t.equal(ok.isOptional(later), true, 'the early one succeeded: the later one may fail');
  t.equal(ok.shouldRun(retry), false, 'and the retry is skipped');
  t.equal(new CallResults().isOptional(first), true, 'optional: true is optional');
  t.equal(new CallResults().isOptional(call('x')), false, 'no optional: fatal');
});

t.test('closeGapsCalls: one close_range per gap between the fds kept, then the rest', async (t) => {
  const keep = new Map([
    [22, 'result pipe'],
    [19, 'exec fifo, O_PATH'],
    [23, 'go pipe'],
    [1, 'below the range'],
  ]);
  t.same(
    closeGapsCalls(keep, 3).map((c) => c.show),
    [
      'close_range(3, 18, 0) /* up to 19<exec fifo, O_PATH> */',
      'close_range(20, 21, 0) /* up to 22<result pipe> */',
      'close_range(24, ~0U, 0)',
    ],
  );
  t.same(
    closeGapsCalls(keep, 3).map((c) => c.args.map(Number)),
    [
      [3, 18, 0],
      [20, 21, 0],
      [24, 0xffffffff, 0],
    ],
    'the numbers the child passes',
  );
  t.same(
    closeGapsCalls(new Map([[5, 'passed']]), 5).map((c) => c.show),
    ['close_range(6, ~0U, 0)'],
    'a kept fd right at the start leaves no gap',
  );
});
