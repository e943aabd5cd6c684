// The one place where libc is bound through koffi. Every other module asks
// this one for a function by its C prototype; declarations are made on first
// use so a tool pays only for the calls it makes (start-up time is budgeted).
import koffi from 'koffi';
import type * as Koffi from 'koffi';

export type Pointer = unknown;
type Fn = ReturnType<Koffi.LibraryHandle['func']>;

let lib: Koffi.LibraryHandle | undefined;
const declared = new Map<string, Fn>();

export function libc(): Koffi.LibraryHandle {
  if (!lib) lib = koffi.load('libc.so.6');
  return lib;
}

/** The libc function for a C prototype such as 'int unshare(int flags)'. */
export function cfunc(prototype: string): Fn {
  let fn = declared.get(prototype);
  if (!fn) {
    fn = libc().func(prototype);
    declared.set(prototype, fn);
  }
  return fn;
}

/** errno as left by the last koffi call on this thread. */
export function lastErrno(): number {
  return koffi.errno();
}

export function resetErrno(): void {
  koffi.errno(0);
}

/** Address of a Buffer (or koffi pointer) as a 64-bit integer. */
export function addressOf(value: Buffer | Pointer): bigint {
  return koffi.address(value);
}

/** Address of a libc symbol, for building calls that run in a child plan. */
export function symbolAddress(name: string): bigint {
  const dlsym = cfunc('void *dlsym(void *handle, const char *symbol)');
  const ptr = dlsym(null, name);
  if (!ptr) throw new Error(`libc has no symbol ${name}`);
  return koffi.address(ptr);
}

/** A NUL-terminated C string in a Buffer that the caller keeps alive. */
export function cString(s: string): Buffer {
  return Buffer.from(s + '\0', 'utf8');
}

/** A NULL-terminated array of C strings (argv/envp); keep the result alive. */
export function cStringArray(items: readonly string[]): { array: Buffer; keep: Buffer[] } {
  const keep = items.map(cString);
  const array = Buffer.alloc(8 * (items.length + 1));
  keep.forEach((b, i) => array.writeBigUInt64LE(addressOf(b), 8 * i));
  return { array, keep };
}

export { koffi };
