// linux.seccomp: the OCI profile read and checked (readSeccomp, at config
// time), translated into libseccomp rules the way runc 1.1's
// libcontainer/seccomp does (translateSeccomp), compiled to BPF in the
// runtime's process (compileSeccomp), and loaded by the container's process
// as one call of its plan (seccompLoad), where runc loads it (seccompAt).
// With SCMP_ACT_NOTIFY the parent takes the listener fd from the child with
// pidfd_getfd and sends it, with the process state, to listenerPath.
import type { Call } from '../syscalls/call.js';
import {
  ArgCondition,
  FilterRule,
  FilterSpec,
  SCMP_ACT,
  SCMP_CMP,
  SeccompLibraryError,
  SeccompUnavailable,
  actionName,
  compileFilter,
  filterFlags,
  libseccompInfo,
  listenerFdOf,
  pidfdGetfd,
  resolveArch,
  resolveSyscall,
  resolveSyscallOn,
  seccompLoadCall,
  sendFdToSocket,
} from '../syscalls/seccomp.js';
import { SyscallError } from '../syscalls/errors.js';
import { closeSync } from 'node:fs';
import type { ProcessSpec, Reader } from './config.js';
import { ConfigError, SeccompListenerError } from './errors.js';

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo: number;
  op: string;
}

export interface SeccompSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args: SeccompArg[];
}

/** linux.seccomp as the config gives it, checked (kept in state.json: exec compiles it again). */
export interface SeccompConfig {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  flags: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls: SeccompSyscall[];
}

export const SECCOMP_ACTIONS = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
];

/** The flags runc knows; TSYNC is accepted and not used (the process has one thread), as in runc 1.2. */
export const SECCOMP_FLAGS = ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'];

const EPERM = 1;
const ENOSYS = 38;

/** Read linux.seccomp; undefined when it asks for nothing (no default action and no syscalls: runc applies no filter). */
export function readSeccomp(r: Reader | undefined): SeccompConfig | undefined {
  if (!r) return undefined;
  const defaultAction = r.string('defaultAction') ?? '';
  const list = r.list('syscalls');
  if (defaultAction === '' && list.length === 0) return undefined;
  const action = (reader: Reader, key: string) => {
    const a = reader.string(key, true)!;
    if (!SECCOMP_ACTIONS.includes(a))
      throw new ConfigError(
        reader.at(key),
        `unknown action ${JSON.stringify(a)} (known: ${SECCOMP_ACTIONS.join(', ')})`,
      );
    return a;
  };
  const cfg: SeccompConfig = {
    defaultAction: action(r, 'defaultAction'),
    defaultErrnoRet: r.int('defaultErrnoRet', false, 0),
    architectures: r.strings('architectures') ?? [],
    flags: r.strings('flags') ?? [],
    listenerPath: r.string('listenerPath'),
    listenerMetadata: r.string('listenerMetadata'),
    syscalls: list.map((s) => {
      const names = s.strings('names') ?? [];
      names.forEach((n, j) => {
        if (n === '') throw new ConfigError(`${s.at('names')}[${j}]`, 'empty string is not a valid syscall');
      });
      return {
        names,
        action: action(s, 'action'),
        errnoRet: s.int('errnoRet', false, 0),
        args: s.list('args').map((a) => {
          const index = a.int('index', true, 0)!;
          if (index > 5) throw new ConfigError(a.at('index'), 'a syscall has at most 6 arguments (index 0 to 5)');
          const op = a.string('op', true)!;
          if (SCMP_CMP[op] === undefined)
            throw new ConfigError(
              a.at('op'),
              `unknown operator ${JSON.stringify(op)} (known: ${Object.keys(SCMP_CMP).join(', ')})`,
            );
          const value = a.int('value', false, 0) ?? 0;
          const valueTwo = a.int('valueTwo', false, 0) ?? 0;
          // JSON.parse keeps 53 bits: a larger value would reach the filter changed.
          for (const [k, v] of [
            ['value', value],
            ['valueTwo', valueTwo],
          ] as const)
            if (!Number.isSafeInteger(v))
              throw new ConfigError(a.at(k), 'values above 2^53 are not supported by this runtime');
          return { index, value, valueTwo, op };
        }),
      };
    }),
  };
  cfg.architectures.forEach((a, i) => {
    if (!/^SCMP_ARCH_[A-Z0-9_]+$/.test(a))
      throw new ConfigError(`${r.at('architectures')}[${i}]`, `unknown architecture ${JSON.stringify(a)}`);
  });
  cfg.flags.forEach((f, i) => {
    if (!SECCOMP_FLAGS.includes(f))
      throw new ConfigError(
        `${r.at('flags')}[${i}]`,
        `unknown seccomp flag ${JSON.stringify(f)} (known: ${SECCOMP_FLAGS.join(', ')})`,
      );
  });
  // runc's rules for the notify action: the child must still be able to
  // write its report after the load, and the default action would catch it.
  if (cfg.defaultAction === 'SCMP_ACT_NOTIFY')
    throw new ConfigError(r.at('defaultAction'), 'SCMP_ACT_NOTIFY cannot be used as default action');
  cfg.syscalls.forEach((s, i) => {
    if (s.action === 'SCMP_ACT_NOTIFY' && s.names.includes('write'))
      throw new ConfigError(`${r.at('syscalls')}[${i}].names`, 'SCMP_ACT_NOTIFY cannot be used for the write syscall');
  });
  if (cfg.syscalls.some((s) => s.action === 'SCMP_ACT_NOTIFY' && s.names.length) && !cfg.listenerPath)
    throw new ConfigError(r.at('listenerPath'), 'listenerPath is not set (SCMP_ACT_NOTIFY needs a seccomp agent)');
  return cfg;
}

/** An OCI action and its errnoRet as libseccomp's action value (runc's getAction). */
export function toAction(name: string, errnoRet?: number): number {
  switch (name) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SCMP_ACT.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SCMP_ACT.KILL_PROCESS;
    case 'SCMP_ACT_ERRNO':
      return SCMP_ACT.ERRNO | ((errnoRet ?? EPERM) & 0xffff);
    case 'SCMP_ACT_TRACE':
      return SCMP_ACT.TRACE | ((errnoRet ?? EPERM) & 0xffff);
    case 'SCMP_ACT_TRAP':
      return SCMP_ACT.TRAP;
    case 'SCMP_ACT_ALLOW':
      return SCMP_ACT.ALLOW;
    case 'SCMP_ACT_LOG':
      return SCMP_ACT.LOG;
    case 'SCMP_ACT_NOTIFY':
      return SCMP_ACT.NOTIFY;
  }
  throw new Error(`unknown seccomp action ${name}`);
}

export interface Translated {
  spec: FilterSpec;
  /** Per rule of spec.rules: the config field it comes from (for errors). */
  fields: string[];
  /** Syscall names libseccomp does not know: skipped, as runc does (this kernel or library is older than the profile). */
  unknown: string[];
  notify: boolean;
}

/** The libseccomp rules for a profile, in runc 1.1's way (libcontainer/seccomp/seccomp_linux.go). */
export function translateSeccomp(cfg: SeccompConfig, field = 'linux.seccomp'): Translated {
  const defaultAction = toAction(cfg.defaultAction, cfg.defaultErrnoRet);
  const arches = cfg.architectures.map((a, i) => {
    const token = resolveArch(a.slice('SCMP_ARCH_'.length).toLowerCase());
    if (token === undefined)
      throw new ConfigError(`${field}.architectures[${i}]`, `unknown architecture ${JSON.stringify(a)}`);
    return token;
  });
  const rules: FilterRule[] = [];
  const fields: string[] = [];
  const unknown: string[] = [];
  let notify = false;
  cfg.syscalls.forEach((s, i) => {
    const action = toAction(s.action, s.errnoRet);
    // libseccomp refuses a rule whose action is the default one: runc skips it.
    if (action === defaultAction) return;
    const conditions: ArgCondition[] = s.args.map((a) => ({
      index: a.index,
      op: SCMP_CMP[a.op],
      value: BigInt(a.value),
      valueTwo: BigInt(a.valueTwo),
    }));
    // Conditions on different arguments are ANDed in one rule; two on the
    // same argument cannot be (libseccomp refuses it), so runc makes each
    // condition a rule of its own, ORed.
    const sameArg = new Set(conditions.map((c) => c.index)).size < conditions.length;
    const groups = sameArg ? conditions.map((c) => [c]) : [conditions];
    for (const name of s.names) {
      const nr = resolveSyscall(name);
      if (nr === undefined) {
        unknown.push(name);
        continue;
      }
      if (s.action === 'SCMP_ACT_NOTIFY') notify = true;
      for (const args of groups) {
        rules.push({ syscall: nr, action, args });
        fields.push(`${field}.syscalls[${i}] (${name})`);
      }
    }
  });
  const spec: FilterSpec = {
    defaultAction,
    arches,
    rules,
    log: cfg.flags.includes('SECCOMP_FILTER_FLAG_LOG'),
    specAllow: cfg.flags.includes('SECCOMP_FILTER_FLAG_SPEC_ALLOW'),
    enosys: enosysLasts(cfg, arches),
  };
  return { spec, fields, unknown, notify };
}

/**
 * What runc's -ENOSYS stub needs (enosysStub): for each architecture the
 * profile lists, the largest syscall number it names (any action, as
 * runc's findLastSyscalls). None when the default action lets unknown
 * syscalls through anyway (allow, log, trace) or already is ENOSYS.
 */
function enosysLasts(cfg: SeccompConfig, arches: number[]): Array<{ arch: number; last: number }> {
  if (['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(cfg.defaultAction)) return [];
  if (cfg.defaultErrnoRet === ENOSYS) return [];
  const names = [...new Set(cfg.syscalls.flatMap((s) => s.names))];
  const out: Array<{ arch: number; last: number }> = [];
  for (const arch of new Set(arches)) {
    let last = 0;
    for (const n of names) last = Math.max(last, resolveSyscallOn(arch, n) ?? 0);
    if (last > 0) out.push({ arch, last });
  }
  return out;
}

export interface CompiledSeccomp {
  program: Buffer;
  flags: number;
  /** For --trace: the default action, the number of rules. */
  summary: string;
  unknown: string[];
  notify: boolean;
  listenerPath?: string;
  listenerMetadata?: string;
}

/**
 * Compile a profile to BPF in this process. Every failure is a ConfigError
 * naming the field: the container is refused before anything is made.
 */
export function compileSeccomp(cfg: SeccompConfig, field = 'linux.seccomp'): CompiledSeccomp {
  let t: Translated;
  let program: Buffer;
  try {
    t = translateSeccomp(cfg, field);
    if (t.notify && libseccompInfo().api < 6)
      throw new ConfigError(
        `${field}.syscalls`,
        `seccomp notify unsupported: API level: got ${libseccompInfo().api}, want at least 6. Please try with libseccomp >= 2.5.0 and Linux >= 5.7`,
      );
    program = compileFilter(t.spec);
  } catch (err) {
    if (err instanceof SeccompUnavailable) throw new ConfigError(field, err.message);
    if (err instanceof SeccompLibraryError) {
      const where = err.rule !== undefined ? t!.fields[err.rule] : field;
      throw new ConfigError(
        where,
        `libseccomp refused it (${err.call}: ${new SyscallError(err.call, err.call, err.errno).message.replace(/^.*?: /, '')})`,
      );
    }
    throw err;
  }
  const summary = `default ${actionName(t.spec.defaultAction)}, ${t.spec.rules.length} rule${t.spec.rules.length === 1 ? '' : 's'}${t.spec.arches.length ? `, ${t.spec.arches.length + 1} architectures` : ''}${t.unknown.length ? `, ${t.unknown.length} unknown syscall${t.unknown.length === 1 ? '' : 's'} skipped` : ''}`;
  return {
    program,
    flags: filterFlags({ log: t.spec.log, specAllow: t.spec.specAllow, listener: t.notify }),
    summary,
    unknown: t.unknown,
    notify: t.notify,
    listenerPath: cfg.listenerPath,
    listenerMetadata: cfg.listenerMetadata,
  };
}

/** What a seccomp agent is told about the process (runc's specs.ContainerProcessState). */
export interface ProcessStateForAgent {
  id: string;
  bundle: string;
  annotations: Record<string, string>;
  /** The container's init. */
  initPid: () => number;
  /** "creating" for the init, "running" for an exec'd process (as runc 1.1). */
  status: 'creating' | 'running';
  ociVersion: string;
}

/**
 * The plan call that loads the filter. With a listener, once the child has
 * it: copy it out of the child (pidfd_getfd: the plan cannot hand back the
 * number seccomp(2) returns, so it is found in /proc/PID/fd while the child
 * waits), and send it with the process state to listenerPath, as runc's
 * parent does; the child's own copy is close-on-exec.
 */
export function seccompLoad(c: CompiledSeccomp, agent?: ProcessStateForAgent): Call {
  const after =
    c.notify && agent
      ? (pid: number) => {
          const path = c.listenerPath!;
          const fd = pidfdGetfd(pid, listenerFdOf(pid));
          try {
            const initPid = agent.status === 'creating' ? pid : agent.initPid();
            const state = {
              ociVersion: agent.ociVersion,
              fds: ['seccompFd'],
              pid,
              ...(c.listenerMetadata ? { metadata: c.listenerMetadata } : {}),
              state: {
                ociVersion: agent.ociVersion,
                id: agent.id,
                status: agent.status,
                pid: initPid,
                bundle: agent.bundle,
                ...(Object.keys(agent.annotations).length ? { annotations: agent.annotations } : {}),
              },
            };
            try {
              sendFdToSocket(path, Buffer.from(JSON.stringify(state)), fd);
            } catch (err) {
              throw new SeccompListenerError(path, err instanceof Error ? err.message : String(err));
            }
          } finally {
            closeSync(fd);
          }
        }
      : undefined;
  return seccompLoadCall(c.program, c.flags, c.summary, after ? { after } : {});
}

/**
 * Where the load goes in a process's plan, as in runc's init: without
 * no_new_privs, loading a filter needs CAP_SYS_ADMIN, so before the
 * identity calls drop it; with no_new_privs as late as possible, right
 * before exec, so that the fewest calls of ours run under the filter.
 */
export function seccompAt(proc: ProcessSpec, load: Call | undefined, stage: 'before-identity' | 'before-exec'): Call[] {
  if (!load) return [];
  return proc.noNewPrivileges === (stage === 'before-exec') ? [load] : [];
}
