// linux.seccomp, for real: the translation of a profile into libseccomp
// rules (no root needed), then ts-runc and runc 1.1.5 side by side on the
// real kernel: Seccomp: 2, denied syscalls with their errno, argument
// conditions, unknown names skipped, the -ENOSYS stub, bad profiles refused
// with nothing left behind, and SCMP_ACT_NOTIFY with a seccomp agent (a
// small C program built here with gcc) for run and exec.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, inventory, isRoot, registerLeftoverCheck, ROOT, run, tool } from '../helpers/tools.js';
import { readSeccomp, SeccompConfig, translateSeccomp, compileSeccomp } from '../../src/runtime/seccomp.js';
import { Reader } from '../../src/runtime/config.js';
import { ConfigError } from '../../src/runtime/errors.js';
import { SCMP_ACT, SCMP_CMP, enosysStub, resolveSyscall, resolveArch } from '../../src/syscalls/seccomp.js';

const libseccomp =
  existsSync('/usr/lib/x86_64-linux-gnu/libseccomp.so.2') ||
  existsSync('/usr/lib/aarch64-linux-gnu/libseccomp.so.2') ||
  run(['sh', '-c', 'ldconfig -p | grep -q libseccomp.so.2']).code === 0;
const noLib = libseccomp ? false : 'libseccomp2 is not installed (apt-get install libseccomp2)';

function profile(json: object): SeccompConfig {
  const cfg = readSeccomp(new Reader('linux.seccomp', json as Record<string, unknown>));
  if (!cfg) throw new Error('no profile');
  return cfg;
}

function refusal(json: object): string {
  try {
    compileSeccomp(profile(json));
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return '';
}

t.test('the translation gives the rules runc would add', { skip: noLib }, async (t) => {
  const tr = translateSeccomp(
    profile({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 6,
      architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [
        { names: ['mkdir', 'no_such_syscall'], action: 'SCMP_ACT_KILL' },
        { names: ['unshare'], action: 'SCMP_ACT_ERRNO', errnoRet: 100 },
        { names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 6 }, // the default action: skipped
        {
          names: ['kcmp'],
          action: 'SCMP_ACT_ALLOW',
          args: [
            { index: 0, value: 0, op: 'SCMP_CMP_EQ' },
            { index: 1, value: 1337, op: 'SCMP_CMP_EQ' },
          ],
        },
        {
          names: ['dup3'],
          action: 'SCMP_ACT_TRACE',
          args: [
            { index: 0, value: 100, op: 'SCMP_CMP_EQ' },
            { index: 0, value: 9001, op: 'SCMP_CMP_EQ' },
          ],
        },
        {
          names: ['socket'],
          action: 'SCMP_ACT_NOTIFY',
          args: [{ index: 2, value: 3840, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
        },
      ],
      listenerPath: '/run/agent.sock',
    }),
  );
  t.equal(tr.spec.defaultAction, SCMP_ACT.ERRNO | 6, 'defaultErrnoRet goes into the default action');
  t.same(tr.spec.arches, [resolveArch('x86'), resolveArch('x32')]);
  t.same(tr.unknown, ['no_such_syscall'], 'an unknown name is skipped, as runc does');
  t.ok(tr.notify, 'a notify rule asks for a listener');
  const nr = (n: string) => resolveSyscall(n)!;
  t.same(
    tr.spec.rules.map((r) => ({
      ...r,
      args: r.args.map((a) => ({ ...a, value: Number(a.value), valueTwo: Number(a.valueTwo) })),
    })),
    [
      { syscall: nr('mkdir'), action: SCMP_ACT.KILL_THREAD, args: [] },
      { syscall: nr('unshare'), action: SCMP_ACT.ERRNO | 100, args: [] },
      // two arguments: one rule, ANDed
      {
        syscall: nr('kcmp'),
        action: SCMP_ACT.ALLOW,
        args: [
          { index: 0, op: SCMP_CMP.SCMP_CMP_EQ, value: 0, valueTwo: 0 },
          { index: 1, op: SCMP_CMP.SCMP_CMP_EQ, value: 1337, valueTwo: 0 },
        ],
      },
      // the same argument twice: a rule each, ORed; TRACE's data is EPERM without errnoRet
      {
        syscall: nr('dup3'),
        action: SCMP_ACT.TRACE | 1,
        args: [{ index: 0, op: SCMP_CMP.SCMP_CMP_EQ, value: 100, valueTwo: 0 }],
      },
      {
        syscall: nr('dup3'),
        action: SCMP_ACT.TRACE | 1,
        args: [{ index: 0, op: SCMP_CMP.SCMP_CMP_EQ, value: 9001, valueTwo: 0 }],
      },
      {
        syscall: nr('socket'),
        action: SCMP_ACT.NOTIFY,
        args: [{ index: 2, op: SCMP_CMP.SCMP_CMP_MASKED_EQ, value: 3840, valueTwo: 0 }],
      },
    ],
  );
  t.same(
    tr.fields.slice(0, 2),
    ['linux.seccomp.syscalls[0] (mkdir)', 'linux.seccomp.syscalls[1] (unshare)'],
    'each rule knows its field',
  );
  t.equal(tr.spec.enosys?.length, 2, 'a refusing default action gets the -ENOSYS stub, per architecture listed');

  const allow = translateSeccomp(
    profile({
      defaultAction: 'SCMP_ACT_ALLOW',
      flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'],
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
    }),
  );
  t.same(allow.spec.enosys, [], 'no stub when unknown syscalls are allowed anyway');
  t.ok(allow.spec.log && allow.spec.specAllow, 'flags LOG and SPEC_ALLOW');
  t.equal(
    compileSeccomp(
      profile({
        defaultAction: 'SCMP_ACT_ALLOW',
        flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_TSYNC'],
        syscalls: [],
      }),
    ).flags,
    2,
    'TSYNC is not passed on',
  );
  t.equal(
    readSeccomp(new Reader('linux.seccomp', {})),
    undefined,
    'an empty profile asks for nothing (runc: no filter)',
  );
  const c = compileSeccomp(
    profile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }),
  );
  t.equal(c.program.length % 8, 0, 'a BPF program: 8 bytes an instruction');
  t.equal(c.summary, 'default SCMP_ACT_ALLOW, 1 rule');
});

t.test('a profile that cannot be applied is refused by field', { skip: noLib }, async (t) => {
  t.match(
    refusal({ defaultAction: 'SCMP_ACT_NOPE' }),
    /^linux\.seccomp\.defaultAction: unknown action "SCMP_ACT_NOPE"/,
  );
  t.match(
    refusal({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'KILL' }] }),
    /^linux\.seccomp\.syscalls\[0\]\.action: unknown action/,
  );
  t.match(
    refusal({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_Z80'] }),
    /^linux\.seccomp\.architectures\[0\]: unknown architecture "SCMP_ARCH_Z80"/,
  );
  t.match(
    refusal({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['x86_64'] }),
    /^linux\.seccomp\.architectures\[0\]: unknown architecture/,
  );
  t.match(
    refusal({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }),
    /^linux\.seccomp\.flags\[0\]: unknown seccomp flag/,
  );
  t.match(
    refusal({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }],
    }),
    /args\[0\]\.index: a syscall has at most 6 arguments/,
  );
  t.match(
    refusal({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_ABOUT' }] }],
    }),
    /args\[0\]\.op: unknown operator/,
  );
  t.match(
    refusal({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [''], action: 'SCMP_ACT_ERRNO' }] }),
    /names\[0\]: empty string is not a valid syscall/,
  );
  t.match(
    refusal({ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/x' }),
    /defaultAction: SCMP_ACT_NOTIFY cannot be used as default action/,
  );
  t.match(
    refusal({
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: '/x',
      syscalls: [{ names: ['write'], action: 'SCMP_ACT_NOTIFY' }],
    }),
    /syscalls\[0\]\.names: SCMP_ACT_NOTIFY cannot be used for the write syscall/,
  );
  t.match(
    refusal({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }),
    /listenerPath: listenerPath is not set/,
  );
  t.match(
    refusal({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 2 ** 60, op: 'SCMP_CMP_EQ' }] },
      ],
    }),
    /args\[0\]\.value: values above 2\^53/,
  );
});

t.test("the -ENOSYS stub: runc's patchbpf layout", { skip: noLib }, async (t) => {
  const x64 = resolveArch('x86_64')!;
  const x32 = resolveArch('x32')!;
  const x86 = resolveArch('x86')!;
  const listing = (b: Buffer) =>
    Array.from({ length: b.length / 8 }, (_, i) => [
      b.readUInt16LE(8 * i),
      b.readUInt8(8 * i + 2),
      b.readUInt8(8 * i + 3),
      b.readUInt32LE(8 * i + 4),
    ]);
  t.same(
    listing(
      enosysStub([
        { arch: x64, last: 300 },
        { arch: x32, last: 0x40000200 },
        { arch: x86, last: 400 },
      ]),
    ),
    [
      [0x20, 0, 0, 4], // ld arch
      [0x15, 2, 0, 0xc000003e], // jeq x86_64 -> its section
      [0x15, 5, 0, 0x40000003], // jeq i386 -> its section
      [0x05, 0, 0, 7], // ja filter
      [0x20, 0, 0, 0], // ld nr
      [0x45, 1, 0, 0x40000000], // jset x32 bit -> x32 check
      [0x25, 3, 4, 300], // jgt last x86_64 -> ENOSYS, else filter
      [0x25, 2, 3, 0x40000200], // jgt last x32
      [0x20, 0, 0, 0], // ld nr (i386)
      [0x25, 0, 1, 400], // jgt last i386
      [0x06, 0, 0, SCMP_ACT.ERRNO | 38], // ret ERRNO(ENOSYS)
    ],
  );
});

// ---------------------------------------------------------------------------
// The real kernel, both runtimes.

const rootSkip = !isRoot() ? 'needs root (CI runs as root)' : noLib;
const haveGcc = run(['sh', '-c', 'command -v gcc']).code === 0;
const RUNC = '/usr/sbin/runc';
const haveRunc = existsSync(RUNC);
const before = inventory();

const scratch = mkdtempSync('/tmp/nslab-seccomp-test-');
chmodSync(scratch, 0o755);
const rootfs = join(scratch, 'rootfs');
let agent: ReturnType<typeof spawn> | undefined;
const made: Array<{ rt: string; id: string }> = [];
t.teardown(() => {
  for (const m of made) cli(m.rt, ['delete', '-f', m.id]);
  agent?.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

const runtimes = haveRunc ? ['ts-runc', 'runc'] : ['ts-runc'];
if (!haveRunc) t.comment('runc is not installed: ts-runc alone, no oracle');

function cli(rt: string, args: string[], opts: { timeout?: number } = {}) {
  const bin = rt === 'runc' ? RUNC : tool('runc');
  const r = spawnSync(bin, ['--root', join(scratch, `state-${rt}`), ...args], {
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: opts.timeout ?? 30_000,
    input: '',
  });
  return {
    code: r.status,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
    out: String(r.stdout) + String(r.stderr),
  };
}

/** A command whose container outlives it (run -d): fds 0-2 are files, not pipes spawnSync would wait on. */
function cliDetached(rt: string, args: string[]) {
  const bin = rt === 'runc' ? RUNC : tool('runc');
  const outFile = join(scratch, 'detached.out');
  const o = openSync(outFile, 'w');
  const r = spawnSync(bin, ['--root', join(scratch, `state-${rt}`), ...args], {
    stdio: ['ignore', o, o],
    env: cleanEnv(),
    timeout: 30_000,
  });
  closeSync(o);
  return { code: r.status, out: readFileSync(outFile, 'utf8') };
}

/** The container directories in a runtime's --root (none before its first create). */
function stateDirs(rt: string): string[] {
  const root = join(scratch, `state-${rt}`);
  return existsSync(root) ? readdirSync(root) : [];
}

let count = 0;
/** A bundle with runc's default config (ts-runc spec), the shared rootfs, a cgroup below ours, and `edit`. */
function bundle(
  rt: string,
  script: string,
  seccomp: object,
  edit: (c: any) => void = () => {},
): { dir: string; id: string } {
  const id = `scmp-${process.pid}-${++count}-${rt}`;
  const dir = join(scratch, id);
  mkdirSync(dir);
  const r = spawnSync(tool('runc'), ['spec', '-b', dir], { env: cleanEnv() });
  if (r.status !== 0) throw new Error(String(r.stderr));
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.root.path = rootfs;
  config.process.terminal = false;
  config.root.readonly = false;
  config.process.args = ['/bin/sh', '-c', script];
  // Relative: below the runtime's own cgroup in every hierarchy (runc and ts-runc alike).
  config.linux.cgroupsPath = `nslab-${id}`;
  config.linux.seccomp = seccomp;
  edit(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return { dir, id };
}

function runIn(rt: string, script: string, seccomp: object, edit?: (c: any) => void, extra: string[] = []) {
  const b = bundle(rt, script, seccomp, edit);
  return { ...cli(rt, [...extra, 'run', '-b', b.dir, b.id]), id: b.id };
}

/** Cgroup directories named `name` anywhere under the hierarchies (should be none once a container is gone). */
function cgroupsNamed(name: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 4) return;
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) {
      if (e === name) found.push(join(dir, e));
      walk(join(dir, e), depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return found;
}

t.test('setup: a busybox rootfs', { skip: rootSkip }, async (t) => {
  const built = run(['node', join(ROOT, 'scripts/make-rootfs.mjs'), '-q', rootfs], { timeout: 120_000 });
  t.equal(built.code, 0, built.stderr);
});

const DENY = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [
    { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' },
    { names: ['unshare'], action: 'SCMP_ACT_ERRNO' },
  ],
};
const SCRIPT = 'grep Seccomp: /proc/self/status; mkdir /tmp/denied; echo mkdir=$?; unshare -U true; echo unshare=$?';

t.test('a profile denying mkdir and unshare, with and without no_new_privs', { skip: rootSkip }, async (t) => {
  for (const nnp of [true, false]) {
    const outs: string[] = [];
    for (const rt of runtimes) {
      const r = runIn(rt, SCRIPT, DENY, (c) => (c.process.noNewPrivileges = nnp));
      t.equal(r.code, 0, `${rt} (noNewPrivileges ${nnp}) runs: ${r.stderr}`);
      t.match(r.stdout, /^Seccomp:\t2\nmkdir=1\nunshare=1\n$/, `${rt}: Seccomp: 2, mkdir and unshare fail`);
      t.match(
        r.stderr,
        /mkdir: can't create directory '\/tmp\/denied': Operation not permitted/,
        `${rt}: mkdir gets EPERM`,
      );
      t.match(r.stderr, /unshare.*Operation not permitted/, `${rt}: unshare gets EPERM`);
      outs.push(r.out);
    }
    if (outs.length === 2) t.equal(outs[0], outs[1], 'ts-runc and runc print the same');
  }
  t.notOk(existsSync(join(rootfs, 'tmp/denied')), 'no directory was made');
});

t.test('errnoRet, argument conditions and an unknown syscall name', { skip: rootSkip }, async (t) => {
  const seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      // chmod only to mode 0700 (chmod's mode is argument 1, fchmodat's argument 2)
      {
        names: ['chmod'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: 100,
        args: [{ index: 1, value: 0o700, op: 'SCMP_CMP_EQ' }],
      },
      {
        names: ['fchmodat'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: 100,
        args: [{ index: 2, value: 0o700, op: 'SCMP_CMP_EQ' }],
      },
      { names: ['this_syscall_does_not_exist', 'unshare'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  };
  const outs: string[] = [];
  for (const rt of runtimes) {
    const f = `/tmp/cond-${rt}`;
    const r = runIn(
      rt,
      `touch ${f}; chmod 700 ${f}; echo a=$?; chmod 755 ${f}; echo b=$?; rm ${f}; unshare -U true; echo unshare=$?`,
      seccomp,
    );
    t.equal(r.code, 0, `${rt} runs (the unknown name is skipped): ${r.stderr}`);
    t.equal(r.stdout, 'a=1\nb=0\nunshare=1\n', `${rt}: chmod to 0700 refused, to 0755 allowed`);
    t.match(r.stderr, /Network is down/, `${rt}: errnoRet 100 is ENETDOWN`);
    t.match(r.stderr, /Function not implemented/, `${rt}: errnoRet 38 is ENOSYS`);
    outs.push(r.stdout + r.stderr.replace(/cond-[a-z-]+/g, 'cond'));
  }
  if (outs.length === 2) t.equal(outs[0], outs[1], 'ts-runc and runc print the same');
});

t.test(
  'default SCMP_ACT_ERRNO: syscalls newer than the profile get ENOSYS',
  {
    skip: rootSkip || (haveGcc ? false : 'needs gcc') || (process.arch === 'x64' ? false : 'x86_64 syscall table only'),
  },
  async (t) => {
    const header = ['/usr/include/x86_64-linux-gnu/asm/unistd_64.h', '/usr/include/asm/unistd_64.h'].find(existsSync);
    if (!header) {
      t.comment('skipped: no asm/unistd_64.h (linux-libc-dev)');
      return;
    }
    const names = [...readFileSync(header, 'utf8').matchAll(/^#define __NR_(\w+) \d+$/gm)]
      .map((m) => m[1])
      .filter((n) => n !== 'mkdir' && n !== 'mkdirat');
    const src = join(scratch, 'probe.c');
    writeFileSync(
      src,
      '#include <errno.h>\n#include <stdio.h>\n#include <unistd.h>\n#include <sys/stat.h>\n#include <sys/syscall.h>\nint main(void) { long r = syscall(1000, 0, 0, 0); printf("1000: %ld %d\\n", r, r < 0 ? errno : 0); r = mkdir("/tmp/probe", 0755); printf("mkdir: %ld %d\\n", r, r < 0 ? errno : 0); return 0; }\n',
    );
    const cc = run(['gcc', '-static', '-O', '-o', join(rootfs, 'probe'), src]);
    t.equal(cc.code, 0, cc.stderr);
    const seccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }],
    };
    for (const rt of runtimes) {
      const r = runIn(rt, '', seccomp, (c) => (c.process.args = ['/probe']));
      t.equal(r.code, 0, `${rt}: ${r.stderr}`);
      t.equal(
        r.stdout,
        '1000: -1 38\nmkdir: -1 1\n',
        `${rt}: an unknown number gets ENOSYS, a known one left out EPERM`,
      );
    }
    rmSync(join(rootfs, 'probe'));
  },
);

t.test('a bad profile: a one-line error, exit 1, nothing left behind', { skip: rootSkip }, async (t) => {
  const cases: Array<[string, object, RegExp]> = [
    [
      'bad action',
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_BOGUS' }] },
      /linux\.seccomp\.syscalls\[0\]\.action: unknown action "SCMP_ACT_BOGUS"/,
    ],
    [
      'bad arch',
      { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_Z80'] },
      /linux\.seccomp\.architectures\[0\]: unknown architecture "SCMP_ARCH_Z80"/,
    ],
    [
      'notify on write',
      {
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: '/nonexistent.sock',
        syscalls: [{ names: ['write'], action: 'SCMP_ACT_NOTIFY' }],
      },
      /SCMP_ACT_NOTIFY cannot be used for the write syscall/,
    ],
  ];
  for (const [what, seccomp, error] of cases) {
    for (const rt of runtimes) {
      const r = runIn(rt, 'true', seccomp);
      t.not(r.code, 0, `${rt} refuses a ${what}`);
      t.same(
        stateDirs(rt).filter((d) => d === r.id),
        [],
        `${rt}: no state directory left (${what})`,
      );
      t.same(cgroupsNamed(`nslab-${r.id}`), [], `${rt}: no cgroup left (${what})`);
      if (rt === 'ts-runc') {
        t.equal(r.stdout, '');
        t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
        const msg = /level=error msg=("(?:[^"\\]|\\.)*")/.exec(r.stderr);
        t.match(msg ? JSON.parse(msg[1]!) : r.stderr, error, 'names the field');
      }
    }
  }
});

t.test('a startContainer hook runs inside the container, under its filter', { skip: rootSkip }, async (t) => {
  const KILL_MKDIR = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL' }],
  };
  for (const rt of runtimes) {
    const seen = `/tmp/hook-state-${rt}`;
    const ok = runIn(
      rt,
      'echo program',
      KILL_MKDIR,
      (c) =>
        (c.hooks = {
          startContainer: [
            { path: '/bin/sh', args: ['sh', '-c', `cat > ${seen}; grep Seccomp: /proc/self/status >> ${seen}`] },
          ],
        }),
    );
    t.equal(ok.code, 0, `${rt}: ${ok.stderr}`);
    t.equal(ok.stdout, 'program\n');
    // The state comes without a newline (runc's too): the grep's line follows it.
    const [, json, status] = /^(\{.*\})\n?(.*)\n$/s.exec(readFileSync(join(rootfs, seen), 'utf8')) ?? [];
    t.match(
      JSON.parse(json ?? ''),
      { id: ok.id, status: 'created', bundle: join(scratch, ok.id) },
      `${rt}: the state on stdin, written in the container's /tmp`,
    );
    t.equal(status, 'Seccomp:\t2', `${rt}: the hook runs under the filter`);
    rmSync(join(rootfs, seen));
    const bad = runIn(
      rt,
      'echo program',
      KILL_MKDIR,
      (c) => (c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'mkdir /tmp/hooked'] }] }),
    );
    t.not(bad.code, 0, `${rt}: a hook killed by the filter fails the run`);
    t.match(bad.out, /error running hook/);
    t.match(bad.out, /bad system call/);
    t.notMatch(bad.stdout, /program/, `${rt}: the program did not run`);
    t.same(cgroupsNamed(`nslab-${bad.id}`), [], `${rt}: no cgroup left`);
    const slow = runIn(
      rt,
      'echo program',
      KILL_MKDIR,
      (c) => (c.hooks = { startContainer: [{ path: '/bin/sleep', args: ['sleep', '10'], timeout: 1 }] }),
    );
    t.not(slow.code, 0, `${rt}: a hook past its timeout fails the run`);
    t.match(slow.out, /hook ran past specified timeout of 1\.0s/);
  }
});

t.test('--trace shows the load with its summary', { skip: rootSkip }, async (t) => {
  const r = runIn('ts-runc', 'true', DENY, undefined, ['--trace']);
  t.equal(r.code, 0, r.stderr);
  t.match(
    r.stderr,
    /\[init\] prctl\(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, \{len=\d+, filter=\.\.\.\}\) \/\* default SCMP_ACT_ALLOW, 3 rules, 3 architectures \*\/ = 0/,
  );
  const lines = r.stderr.split('\n');
  const load = lines.findIndex((l) => l.includes('PR_SET_SECCOMP'));
  t.ok(
    load > lines.findIndex((l) => l.includes('PR_SET_NO_NEW_PRIVS')),
    'with no_new_privs: after the identity calls, right before exec',
  );
  const flags = runIn(
    'ts-runc',
    'true',
    { ...DENY, flags: ['SECCOMP_FILTER_FLAG_LOG'] },
    (c) => (c.process.noNewPrivileges = false),
    ['--trace'],
  );
  t.equal(flags.code, 0, flags.stderr);
  const fl = flags.stderr.split('\n');
  const at = fl.findIndex((l) => /seccomp\(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_LOG, /.test(l));
  t.ok(at >= 0, 'a flag: seccomp(2) with it');
  t.ok(
    at < fl.findIndex((l) => l.includes('setuid(0)')) && at < fl.findIndex((l) => l.includes('capset(')),
    'without no_new_privs: before the identity calls drop CAP_SYS_ADMIN',
  );
});

t.test(
  'SCMP_ACT_NOTIFY: the listener and the state reach the agent at listenerPath',
  { skip: rootSkip || (haveGcc ? false : 'needs gcc to build the test agent') },
  async (t) => {
    const src = join(scratch, 'agent.c');
    writeFileSync(src, AGENT_C);
    const cc = run(['gcc', '-O', '-o', join(scratch, 'agent'), src]);
    t.equal(cc.code, 0, cc.stderr);
    const sock = join(scratch, 'agent.sock');
    const states = join(scratch, 'states.jsonl');
    agent = spawn(join(scratch, 'agent'), [sock, states], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => agent!.stdout!.once('data', () => resolve()));
    const seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: sock,
      listenerMetadata: 'meta',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
    };
    const stateOf = (id: string) =>
      readFileSync(states, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((s) => s.state?.id === id);
    for (const rt of runtimes) {
      for (const nnp of [true, false]) {
        const r = runIn(rt, 'mkdir /tmp/notified; echo mkdir=$?', seccomp, (c) => (c.process.noNewPrivileges = nnp));
        t.equal(r.code, 0, `${rt} (noNewPrivileges ${nnp}): ${r.stderr}`);
        t.equal(r.stdout, 'mkdir=1\n');
        t.match(r.stderr, /No medium found/, `${rt}: the agent answered mkdir with ENOMEDIUM`);
        const s = stateOf(r.id);
        t.equal(s.length, 1, `${rt}: one state sent`);
        t.match(
          s[0],
          {
            ociVersion: String,
            fds: ['seccompFd'],
            pid: Number,
            metadata: 'meta',
            state: { ociVersion: String, id: r.id, status: 'creating', pid: Number, bundle: join(scratch, r.id) },
          },
          `${rt}: runc's container process state`,
        );
        t.equal(s[0].pid, s[0].state.pid, 'the init: its own pid');
      }
      // exec: the process gets the container's filter, and the agent a second listener.
      const b = bundle(rt, 'sleep 100', seccomp);
      const d = cliDetached(rt, ['run', '-d', '-b', b.dir, b.id]);
      t.equal(d.code, 0, `${rt} run -d: ${d.out}`);
      made.push({ rt, id: b.id });
      const e = cli(rt, ['exec', b.id, 'sh', '-c', 'mkdir /tmp/exec-notified; echo mkdir=$?']);
      t.equal(e.stdout, 'mkdir=1\n', `${rt} exec: ${e.stderr}`);
      t.match(e.stderr, /No medium found/);
      const s = stateOf(b.id);
      t.equal(s.length, 2, `${rt}: the init's listener and the exec'd process's`);
      t.match(s[1], { fds: ['seccompFd'], metadata: 'meta', state: { id: b.id, status: 'running' } });
      t.not(s[1].pid, s[1].state.pid, "exec: the process's pid, the init's in the state");
      t.equal(cli(rt, ['delete', '-f', b.id]).code, 0);
      made.pop();
    }
    for (const rt of runtimes) {
      const r = runIn(rt, 'true', { ...seccomp, listenerPath: join(scratch, 'nobody-listens.sock') });
      t.not(r.code, 0, `${rt}: no agent, no container`);
      t.match(r.out, /failed to connect with seccomp agent/);
      t.same(
        stateDirs(rt).filter((x) => x === r.id),
        [],
        `${rt}: no state directory left`,
      );
      t.same(cgroupsNamed(`nslab-${r.id}`), [], `${rt}: no cgroup left`);
    }
    const gone = new Promise((resolve) => agent!.once('exit', resolve));
    agent.kill('SIGKILL');
    await gone;
    agent = undefined;
  },
);

registerLeftoverCheck(t, before);

const AGENT_C = String.raw`// A seccomp agent for the tests: accepts runtimes on a unix socket, takes
// the process state and the listener fd (SCM_RIGHTS), appends the state to
// a file, and answers notifications: mkdir/mkdirat fail with ENOMEDIUM,
// anything else goes on (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc != 3) return 2;
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strncpy(a.sun_path, argv[1], sizeof(a.sun_path) - 1);
	unlink(argv[1]);
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 8)) { perror("bind"); return 1; }
	printf("ready\n");
	fflush(stdout);
	struct pollfd p[64] = { { .fd = ls, .events = POLLIN } };
	int n = 1;
	for (;;) {
		if (poll(p, n, -1) < 0) continue;
		if (p[0].revents & POLLIN) {
			int c = accept(ls, NULL, NULL);
			char buf[8192], ctl[CMSG_SPACE(sizeof(int))];
			struct iovec iov = { buf, sizeof(buf) - 1 };
			struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
			ssize_t r = recvmsg(c, &m, 0);
			struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
			if (r > 0 && cm && cm->cmsg_type == SCM_RIGHTS && n < 64) {
				buf[r] = 0;
				FILE *f = fopen(argv[2], "a");
				fprintf(f, "%s\n", buf);
				fclose(f);
				memcpy(&p[n].fd, CMSG_DATA(cm), sizeof(int));
				p[n].events = POLLIN;
				p[n++].revents = 0;
			}
			close(c);
		}
		for (int i = 1; i < n; i++) {
			if (p[i].revents & (POLLHUP | POLLERR | POLLNVAL)) {
				close(p[i].fd);
				p[i--] = p[--n];
				continue;
			}
			if (!(p[i].revents & POLLIN)) continue;
			struct seccomp_notif req;
			struct seccomp_notif_resp resp;
			memset(&req, 0, sizeof(req));
			if (ioctl(p[i].fd, SECCOMP_IOCTL_NOTIF_RECV, &req)) continue;
			memset(&resp, 0, sizeof(resp));
			resp.id = req.id;
			if (req.data.nr == __NR_mkdir || req.data.nr == __NR_mkdirat) resp.error = -ENOMEDIUM;
			else resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
			ioctl(p[i].fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
		}
	}
}
`;
