// Why an image could not be built, read or unpacked, as data for the tool to word.
import { DomainError } from '../errors.js';

export type ImageErrorKind =
  | 'not-a-layout'
  | 'no-such-ref'
  | 'ambiguous-ref'
  | 'missing-blob'
  | 'bad-blob'
  | 'bad-digest'
  | 'bad-name'
  | 'unsupported'
  | 'unsafe-path'
  | 'bad-layer'
  | 'unpack-failed'
  | 'exists'
  | 'no-source'
  | 'missing-program';

export class ImageError extends DomainError {
  readonly kind: ImageErrorKind;
  readonly path?: string;
  readonly ref?: string;
  /** For no-such-ref: the names the layout does hold. */
  readonly known?: string[];
  constructor(kind: ImageErrorKind, message: string, facts: { path?: string; ref?: string; known?: string[] } = {}) {
    super(message);
    this.kind = kind;
    this.path = facts.path;
    this.ref = facts.ref;
    this.known = facts.known;
  }
}
