// OCI hooks: programs the runtime runs in its own namespaces at points of
// the container's life, with the container's state as JSON on stdin.
import type { Hook, HookKind } from './config.js';
import { DomainError } from '../core/errors.js';

export class HookFailed extends DomainError {
  readonly kind = 'hook-failed';
  constructor(
    readonly hook: HookKind,
    readonly index: number,
    readonly path: string,
    detail: string,
  ) {
    super(`error running ${hook} hook #${index}: ${path}: ${detail}`);
  }
}

export function runHooks(kind: HookKind, hooks: readonly Hook[] | undefined, state: object): void {
  if (!hooks?.length) return;
  // child_process only when a config has hooks: it is not on the start-up path.
  const { spawnSync } = process.getBuiltinModule('node:child_process') as typeof import('node:child_process');
  for (const [index, h] of hooks.entries()) {
    const r = spawnSync(h.path, h.args.slice(1), {
      argv0: h.args[0] ?? h.path,
      input: JSON.stringify(state),
      env: Object.fromEntries(h.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      stdio: ['pipe', 'inherit', 'pipe'],
      timeout: h.timeout ? h.timeout * 1000 : undefined,
      encoding: 'utf8',
    });
    if (r.error) throw new HookFailed(kind, index, h.path, r.error.message);
    if (r.signal) throw new HookFailed(kind, index, h.path, `killed by ${r.signal}${h.timeout ? ' (timeout)' : ''}`);
    if (r.status !== 0)
      throw new HookFailed(kind, index, h.path, `exit status ${r.status}, stderr: ${r.stderr.trim()}`);
  }
}
