// The one place where libc is bound through koffi. Every other module asks
// this one for a function by its C prototype; declarations are made on first
// use so a tool pays only for the calls it makes (start-up time is budgeted).
import type * as Koffi from 'koffi';
import { createRequire } from 'node:module';

// koffi's entry point finds its native module by reading the ELF header of
// the node binary to tell glibc from musl: 8 of the ~25 ms a tool may spend
// starting (docs/design.md, "Start-up time"). We support glibc only (the child
// plan needs glibc's clone and makecontext), so load the glibc build of the
// native module directly, and fall back to the entry point if the layout of
// the koffi package ever changes (its version is pinned in package.json).
// bin/load.cjs loads the same file first, to set a V8 flag (keep the two in step).
// The tools are CommonJS bundles (dist/, which have `require`); tests import
// these sources as ES modules, where require comes from createRequire.
declare const require: NodeJS.Require | undefined;
function loadKoffi(): typeof Koffi {
  const req = typeof require === 'function' ? require : createRequire(import.meta.url);
  const arch = process.arch;
  try {
    return req(`@koromix/koffi-linux-${arch}/linux_${arch}/koffi.node`) as typeof Koffi;
  } catch {
    return req('koffi') as typeof Koffi;
  }
}
const koffi = loadKoffi();

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

const symbols = new Map<string, bigint>();
/** Address of a libc symbol, for building calls that run in a child plan. */
export function symbolAddress(name: string): bigint {
  let address = symbols.get(name);
  if (address === undefined) {
    const ptr = cfunc('void *dlsym(void *handle, const char *symbol)')(null, name);
    if (!ptr) throw new Error(`libc has no symbol ${name}`);
    address = koffi.address(ptr);
    symbols.set(name, address);
  }
  return address;
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
