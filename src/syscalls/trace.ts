// --trace: one strace-like line per system call, parent and child steps both,
// written to stderr with writeSync (the child and the parent share stderr, so
// lines must not wait in a Node stream buffer).
import { writeSync } from 'node:fs';
import { lastErrno, resetErrno } from './libc.js';
import { SyscallError, errnoName, errnoText } from './errors.js';

let enabled = false;
let prefix = '';

export function enableTrace(on = true, tool?: string): void {
  enabled = on;
  if (tool) prefix = tool;
}

export function tracing(): boolean {
  return enabled;
}

/** Write one trace line; `who` is e.g. "pid 1234" for a child step. */
export function traceLine(text: string, who?: string): void {
  if (!enabled) return;
  const head = who ? `[${who}] ` : prefix ? `[${prefix} ${process.pid}] ` : '';
  try {
    writeSync(2, head + text + '\n');
  } catch {
    // stderr closed: tracing is best effort
  }
}

export function formatResult(result: number | bigint | string, errno?: number): string {
  if (errno) return `= -1 ${errnoName(errno)} (${errnoText(errno)})`;
  return `= ${result}`;
}

/** A C string argument the way strace shows it. */
export function q(s: string | null | undefined): string {
  if (s === null || s === undefined) return 'NULL';
  return JSON.stringify(s);
}

export function qArray(items: readonly string[]): string {
  return '[' + items.map(q).join(', ') + ']';
}

export interface CallOptions {
  /** Text shown instead of the default "call(args)" in the error line. */
  what?: string;
  hint?: string;
  /** errnos that are not failures for this call (returned as -errno). */
  allow?: readonly string[];
}

/**
 * Make a system call through libc, trace it, and turn -1 into SyscallError.
 * `args` is the argument list as it should read in a trace line.
 */
export function sys(name: string, args: string, run: () => number | bigint, opts: CallOptions = {}): number {
  resetErrno();
  const raw = run();
  const result = typeof raw === 'bigint' ? Number(raw) : raw;
  if (result === -1) {
    const errno = lastErrno();
    traceLine(`${name}(${args}) ${formatResult(result, errno)}`);
    if (opts.allow?.includes(errnoName(errno))) return -errno;
    throw new SyscallError(name, `${name}(${args})`, errno, { what: opts.what, hint: opts.hint });
  }
  traceLine(`${name}(${args}) ${formatResult(result)}`);
  return result;
}

/** Trace a file written as part of a kernel interface (/proc/PID/uid_map, cgroup files). */
export function traceWrite(path: string, data: string, errno?: number): void {
  traceLine(`write(${q(path)}, ${q(data)}) ${errno ? formatResult(-1, errno) : `= ${Buffer.byteLength(data)}`}`);
}

export function traceRead(path: string, result: string | number): void {
  traceLine(
    `read(${q(path)}) = ${typeof result === 'string' ? q(result.length > 60 ? result.slice(0, 57) + '...' : result) : result}`,
  );
}
