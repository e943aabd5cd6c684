// Reading and writing the kernel's files (/proc/PID/uid_map, cgroup files,
// /proc/self/timens_offsets) with tracing and errno-based errors. Synchronous,
// but for writeInBackground: after unshare/setns only the main thread is in
// the new namespaces, libuv's worker threads are not (docs/design.md, "Why
// the child is a plan").
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { SyscallError, errnoNumber } from './errors.js';
import { cfunc } from './libc.js';
import { traceLine, traceRead, traceWrite } from './trace.js';

function errnoOf(err: unknown): number | undefined {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string' || !code.startsWith('E')) return undefined;
  try {
    return errnoNumber(code);
  } catch {
    return undefined;
  }
}

/** Write a kernel file in one write(2), as the kernel wants for uid_map and friends. */
export function writeKernelFile(path: string, data: string, opts: { what?: string; hint?: string } = {}): void {
  try {
    writeFileSync(path, data, { flag: 'w' });
    traceWrite(path, data);
  } catch (err) {
    const errno = errnoOf(err);
    if (errno === undefined) throw err;
    traceWrite(path, data, errno);
    throw new SyscallError('write', `write(${JSON.stringify(path)})`, errno, {
      what: opts.what ?? `write ${path}`,
      hint: opts.hint,
    });
  }
}

export function readKernelFile(path: string, opts: { what?: string } = {}): string {
  try {
    const text = readFileSync(path, 'utf8');
    traceRead(path, text.trim());
    return text;
  } catch (err) {
    const errno = errnoOf(err);
    if (errno === undefined) throw err;
    traceRead(path, -1);
    throw new SyscallError('read', `read(${JSON.stringify(path)})`, errno, { what: opts.what ?? `read ${path}` });
  }
}

/** errno number from a Node fs error, if it has one. */
export { errnoOf };

/**
 * Write a kernel file on one of koffi's worker threads while this thread
 * goes on: for a write whose only use is what the kernel does meanwhile
 * (see startMoveGracePeriod). The file is opened here; the outcome is
 * traced when it comes, and otherwise ignored; `note` says in the trace
 * why it is made. Not for a process that
 * changes its namespaces: the worker thread stays in the old ones.
 */
export function writeInBackground(path: string, data: string, note?: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (err) {
    traceWrite(path, data, errnoOf(err) ?? 0);
    return;
  }
  const buf = Buffer.from(data);
  traceLine(
    `write(${JSON.stringify(path)}, ${JSON.stringify(data)}) ... (on a worker thread${note ? `: ${note}` : ''})`,
  );
  // koffi's async calls run in libuv's thread pool, which starts on its
  // first piece of work with UV_THREADPOOL_SIZE threads, 4 unless set. One
  // is enough for this write; making and joining the other three cost 1.4 ms
  // of a ts-runc run (measured in pairs). The variable is read when the
  // pool starts, inside the call, and is put back right after.
  const poolSize = process.env.UV_THREADPOOL_SIZE;
  if (poolSize === undefined) process.env.UV_THREADPOOL_SIZE = '1';
  try {
    cfunc('long write(int fd, const uint8_t *buf, size_t count)').async(
      fd,
      buf,
      buf.length,
      (err: Error | null, n: number) => {
        closeSync(fd);
        if (!err) traceLine(`write(${JSON.stringify(path)}, ${JSON.stringify(data)}) = ${n} (worker thread done)`);
      },
    );
  } finally {
    if (poolSize === undefined) delete process.env.UV_THREADPOOL_SIZE;
  }
}
