// What a lab or step needs, and the reason it is skipped when the machine
// lacks it. A skip always says how to get what is missing.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { Requirement } from './types.js';

/** Which package gives a binary (Debian/Ubuntu names); ts-* come from this project. */
export const PACKAGE_OF: Record<string, string> = {
  ps: 'procps',
  ip: 'iproute2',
  ping: 'iputils-ping',
  busybox: 'busybox-static',
  ipcmk: 'util-linux',
  ipcs: 'util-linux',
  ipcrm: 'util-linux',
  setpriv: 'util-linux',
  unshare: 'util-linux',
  nsenter: 'util-linux',
  hostname: 'hostname',
  bash: 'bash',
  python3: 'python3',
  tmux: 'tmux',
};

export function installHint(binary: string): string {
  if (binary.startsWith('ts-')) return `${binary} is built by this project: run 'npm run build' (and 'npm link', or scripts/setup-vm.sh)`;
  const pkg = PACKAGE_OF[binary];
  return pkg ? `install it with 'apt-get install ${pkg}'` : `install the package that provides ${binary}`;
}

/** The full path of a binary on PATH, or undefined. */
export function which(binary: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const full = join(dir, binary);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Undefined when everything is there, else the skip reason. */
/** `files` may be relative to the project root (dist/programs/...). */
export function unmet(needs: Requirement | undefined, path: string, projectRoot = '/'): string | undefined {
  if (!needs) return undefined;
  if (needs.root && process.geteuid?.() !== 0) return 'needs root: run it with sudo';
  for (const b of needs.binaries ?? []) {
    if (!which(b, path)) return `needs ${b}, which is not on PATH: ${installHint(b)}`;
    // bin/ts-* are stubs that load dist/ts-*.cjs: a tool that is not built yet is missing.
    if (b.startsWith('ts-') && !existsSync(join(projectRoot, 'dist', `${b}.cjs`))) return `needs ${b}, which is not built: ${installHint(b)}`;
  }
  for (const f of needs.files ?? []) {
    const full = isAbsolute(f) ? f : join(projectRoot, f);
    if (!existsSync(full)) return f.startsWith('/proc') || f.startsWith('/sys') ? `needs ${f}, which this kernel does not have` : `needs ${f}: run 'npm run build'`;
  }
  return undefined;
}
