// Failures of the library layers (src/core, src/cgroup, src/netlink,
// src/image, src/cri and the runtime), as data. A domain error says what went
// wrong in the kernel's or the library's terms and carries the facts (a path,
// a count, a name); it never names a command-line flag. Each tool turns it
// into its own one-line message and advice (src/tools/*), and src/cli/run.ts
// decides the exit status. It lives at the top of src/, below every layer, so
// that each layer may throw one without importing a layer above it
// (docs/design.md, "Layers").
export abstract class DomainError extends Error {
  /** A stable name for the kind of failure, e.g. 'cgroup-busy'. */
  abstract readonly kind: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
