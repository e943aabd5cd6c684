// The sandbox: a throwaway network, mount and UTS namespace (made by
// ts-unshare) with lo up and an empty tmpfs on /run, so that links, routes,
// bridges, named netns files (/run/netns), mounts and the host name a lab or
// a student makes stay in there and go when its last process ends.
// `check --sandbox`, `run --sandbox`, `shell --sandbox` and `grade --sandbox`
// all use this one definition.
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { processesWithEnv } from './inventory.js';

/** Set for a process started in a sandbox: the namespaces it left, "net:[...] mnt:[...] uts:[...]". */
export const SANDBOX_ENV = 'NSLAB_SANDBOX';
/** Set in a sandbox shell and all it starts: the PID of the ts-lab that holds that sandbox. */
export const SANDBOX_SHELL_ENV = 'NSLAB_SANDBOX_SHELL';

const TYPES = ['net', 'mnt', 'uts'] as const;

/** The address a sandbox shell gives its lo, standing for the host's own address. */
export const STAND_IN_ADDRESS = '192.0.2.1';

/** The namespaces a sandbox replaces, of `pid`, as the kernel names them: "net:[4026531840] mnt:[...] uts:[...]". */
export function namespaceIds(pid: number | 'self' = 'self'): string {
  // readlinkSync: synchronous on purpose (libuv workers may sit in other namespaces).
  return TYPES.map((t) => readlinkSync(`/proc/${pid}/ns/${t}`)).join(' ');
}

/**
 * Is this process in a sandbox? Only when the environment records the
 * namespaces it was started from and each of ours differs from them: a
 * variable copied by hand, or a process that went back to the host's
 * namespaces, does not count.
 */
export function insideSandbox(env: NodeJS.ProcessEnv = process.env, pid: number | 'self' = 'self'): boolean {
  const outer = env[SANDBOX_ENV]?.split(' ');
  if (!outer) return false;
  let mine: string[];
  try {
    mine = namespaceIds(pid).split(' ');
  } catch {
    return false;
  }
  return outer.length === mine.length && outer.every((id, i) => id !== mine[i]);
}

export interface SandboxOptions {
  /** Give lo the stand-in host address (a student's sandbox shell: an address outside any subnet they make). */
  standIn?: boolean;
}

/** How to start `argv` in a new sandbox: ts-unshare's command line and the environment that marks it. */
export function sandboxCommand(
  binDir: string,
  argv: string[],
  opts: SandboxOptions = {},
): { argv: string[]; env: NodeJS.ProcessEnv } {
  // The tmpfs on /run hides the host's /run in here: /run/netns is made in
  // it, never on the host.
  const prepare = [
    'ip link set lo up 2>/dev/null',
    ...(opts.standIn ? [`ip addr add ${STAND_IN_ADDRESS}/32 dev lo 2>/dev/null`] : []),
    // /etc/resolv.conf may link into /run (systemd-resolved's
    // stub-resolv.conf): keep the file it names (and resolved's upstream
    // list beside it) at the same place in the fresh /run, or it dangles.
    'l=$(readlink -f /etc/resolv.conf); case "$l" in /run/*) c=$(cat "$l" 2>/dev/null); u=$(cat "${l%/*}/resolv.conf" 2>/dev/null) ;; *) l= ;; esac',
    // /run/netns is a mount point of its own from the start, as ip netns would make it.
    'mount -t tmpfs -o mode=755 nslab-sandbox /run && mkdir /run/netns && mount -t tmpfs -o mode=755 nslab-sandbox-netns /run/netns || exit 1',
    'if [ -n "$l" ]; then mkdir -p "${l%/*}" && printf "%s\\n" "$c" > "$l" && { [ -z "$u" ] || [ -e "${l%/*}/resolv.conf" ] || printf "%s\\n" "$u" > "${l%/*}/resolv.conf"; }; fi',
    'exec "$@"',
  ].join('; ');
  return {
    argv: [
      join(binDir, 'ts-unshare'),
      '-n',
      '-m',
      '-u',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      prepare,
      'sh',
      ...argv,
    ],
    env: { ...process.env, [SANDBOX_ENV]: namespaceIds() },
  };
}

/** The sandbox shells running now, by the PID of the ts-lab holding each (its namespaces are the sandbox's). */
export function sandboxShells(): number[] {
  const holders = new Set([...processesWithEnv(SANDBOX_SHELL_ENV).values()].map(Number).filter((p) => p > 0));
  const found = new Map<string, number>();
  for (const pid of holders) {
    try {
      const env = Object.fromEntries(
        readFileSync(`/proc/${pid}/environ`, 'latin1')
          .split('\0')
          .filter(Boolean)
          .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
      );
      // The holder itself is in the sandbox and not in ours; a shell opened
      // inside a sandbox shell is the same sandbox.
      const ids = namespaceIds(pid);
      if (insideSandbox(env, pid) && ids !== namespaceIds() && !found.has(ids)) found.set(ids, pid);
    } catch {
      // gone
    }
  }
  return [...found.values()];
}
