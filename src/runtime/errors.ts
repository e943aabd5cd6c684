// Failures of the container runtime, as data: what went wrong with which
// container, config field or state. The front end (src/tools/runc.ts) words
// them the way runc does.
import { DomainError } from '../core/errors.js';

/** A container id already has a state directory. */
export class ContainerExists extends DomainError {
  readonly kind = 'container-exists';
  constructor(readonly id: string) {
    super('container with given ID already exists');
  }
}

export class ContainerNotFound extends DomainError {
  readonly kind = 'container-not-found';
  constructor(readonly id: string) {
    super('container does not exist');
  }
}

/** An id with characters runc refuses (it becomes a directory name). */
export class InvalidId extends DomainError {
  readonly kind = 'invalid-id';
  constructor(readonly id: string) {
    super('invalid container ID format');
  }
}

/** The config (or a process.json) is wrong or asks for something we do not do. */
export class ConfigError extends DomainError {
  readonly kind = 'config';
  /** The JSON path of the field, e.g. "linux.namespaces[2].type". */
  constructor(
    readonly field: string,
    readonly problem: string,
    readonly unsupported = false,
  ) {
    super(unsupported ? `${field}: ${problem} is not supported by this runtime` : `${field}: ${problem}`);
  }
}

/** An operation that the container's current status forbids. */
export class WrongState extends DomainError {
  readonly kind = 'wrong-state';
  constructor(
    readonly id: string,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

/** The bundle's config.json cannot be read. */
export class BundleError extends DomainError {
  readonly kind = 'bundle';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** The program of the container's process cannot be found or run. */
export class ProgramError extends DomainError {
  readonly kind = 'program';
  constructor(
    readonly program: string,
    message: string,
  ) {
    super(message);
  }
}

/** spec refuses to overwrite. */
export class SpecExists extends DomainError {
  readonly kind = 'spec-exists';
  constructor(readonly path: string) {
    super('File config.json exists. Remove it first');
  }
}

/** The seccomp agent named by linux.seccomp.listenerPath could not be given the listener. */
export class SeccompListenerError extends DomainError {
  readonly kind = 'seccomp-listener';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`failed to connect with seccomp agent specified in the seccomp profile: ${detail}`);
  }
}
