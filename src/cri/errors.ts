// Why the CRI playground could not start or stop, as data for ts-cri to word.
import { DomainError } from '../errors.js';

export type CriErrorKind =
  | 'missing-program'
  | 'already-running'
  | 'socket-busy'
  | 'server-failed'
  | 'import-failed'
  | 'not-running'
  | 'cgroups-busy'
  | 'bad-cgroup-parent';

export class CriError extends DomainError {
  readonly kind: CriErrorKind;
  /** For missing-program: the Debian packages to install. */
  readonly packages?: string[];
  readonly pid?: number;
  readonly dir?: string;
  /** For cgroups-busy: the cgroup directories that could not be removed. */
  readonly cgroups?: string[];
  constructor(
    kind: CriErrorKind,
    message: string,
    facts: { packages?: string[]; pid?: number; dir?: string; cgroups?: string[] } = {},
  ) {
    super(message);
    this.kind = kind;
    this.packages = facts.packages;
    this.pid = facts.pid;
    this.dir = facts.dir;
    this.cgroups = facts.cgroups;
  }
}
