// The freezer state of one cgroup directory, from the files of its version:
// v1 freezer.state; v2 cgroup.events ("frozen 1", Linux 5.2+) and
// cgroup.freeze. The back ends (v1.ts, v2.ts) answer with these, and
// ts-runc's status (runtime/state.ts, on every command that looks at a
// container) reads them without loading the rest of the cgroup layer.
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import type { FreezerState } from './backend.js';
import type { CgroupVersion } from './hierarchy.js';
import { readOptionalFile } from './files.js';

export function v1FreezerState(dir: string): FreezerState | undefined {
  return readOptionalFile(dir, 'freezer.state') as FreezerState | undefined;
}

export function v2FreezerState(dir: string): FreezerState | undefined {
  const events = readOptionalFile(dir, 'cgroup.events');
  if (events === undefined || !existsSync(posix.join(dir, 'cgroup.freeze'))) return undefined;
  if (/^frozen 1$/m.test(events)) return 'FROZEN';
  return readOptionalFile(dir, 'cgroup.freeze') === '1' ? 'FREEZING' : 'THAWED';
}

export function freezerStateOf(dir: string, version: CgroupVersion): FreezerState | undefined {
  return version === 1 ? v1FreezerState(dir) : v2FreezerState(dir);
}
