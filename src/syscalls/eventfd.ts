// eventfd(2): a counter the kernel can bump to wake a reader. cgroup v1 uses
// it for notifications: register "<eventfd> <fd of the watched file>" in
// cgroup.event_control, and the kernel adds 1 each time the event happens
// (memory.oom_control: an OOM in the cgroup; also once when the cgroup is
// removed).
import { writeSync } from 'node:fs';
import { cfunc } from './libc.js';
import { ERRNO, O } from './constants.js';
import { callNow, makeCall } from './call.js';
import { SyscallError } from './errors.js';
import { q, sys, traceLine } from './trace.js';

export const EFD_CLOEXEC = O.O_CLOEXEC;
export const EFD_NONBLOCK = O.O_NONBLOCK;

export function eventfd(initval = 0, flags = EFD_CLOEXEC): number {
  const shown =
    [flags & EFD_CLOEXEC ? 'EFD_CLOEXEC' : '', flags & EFD_NONBLOCK ? 'EFD_NONBLOCK' : ''].filter(Boolean).join('|') ||
    '0';
  return sys(
    'eventfd',
    `${initval}, ${shown}`,
    () => cfunc('int eventfd(unsigned int initval, int flags)')(initval, flags) as number,
  );
}

/** open(2) read-only and close-on-exec, for an fd the kernel is to refer to (not to read from here). */
export function openReadOnly(path: string, what?: string): number {
  return callNow(
    makeCall('open', [path, O.O_RDONLY | O.O_CLOEXEC], `open(${q(path)}, O_RDONLY|O_CLOEXEC)`, {
      what: what ?? `open ${path}`,
    }),
  );
}

/**
 * Wait for an eventfd without blocking the event loop: a blocking read(2)
 * of its 8-byte counter runs on one of koffi's worker threads, and
 * `onEvent` gets the count (reading resets it to 0) on the main thread.
 * It keeps waiting until `onEvent` returns false or the returned cancel()
 * is called. Cancel before exiting: the process cannot exit while that
 * thread is blocked in read(2), so cancel() wakes it by adding 1 itself.
 */
export function onEventfd(fd: number, onEvent: (count: bigint) => boolean, onError: (err: Error) => void): () => void {
  const read = cfunc('long read(int fd, _Out_ uint8_t *buf, size_t count)');
  const buf = Buffer.alloc(8);
  let waiting = false;
  let cancelled = false;
  const again = () => {
    waiting = true;
    read.async(fd, buf, 8, (err: Error | null, n: number) => {
      waiting = false;
      if (cancelled) return;
      if (err) return onError(err);
      if (n !== 8) return onError(new SyscallError('read', `read(${fd}, eventfd)`, ERRNO.EIO));
      const count = buf.readBigUInt64LE(0);
      traceLine(`read(${fd}<eventfd>, [${count}], 8) = 8`);
      if (onEvent(count)) again();
    });
  };
  again();
  return () => {
    cancelled = true;
    if (!waiting) return;
    const one = Buffer.alloc(8);
    one.writeBigUInt64LE(1n);
    writeSync(fd, one);
  };
}
