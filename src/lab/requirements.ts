// What a lab or step needs, and the reason it is skipped when the machine
// lacks it. A skip always says how to get what is missing.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { which } from '../core/which.js';
import { insideSandbox } from './sandbox.js';
import { CgroupLayout, detectCgroups } from '../cgroup/hierarchy.js';
import { Requirement } from './types.js';

/** Which package gives a binary (Debian/Ubuntu names); ts-* come from this project. */
export const PACKAGE_OF: Record<string, string> = {
  ps: 'procps',
  pgrep: 'procps',
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
  wget: 'wget',
  containerd: 'containerd',
  ctr: 'containerd',
  catatonit: 'catatonit',
  runc: 'runc',
  umoci: 'umoci',
  skopeo: 'skopeo',
};

export function installHint(binary: string): string {
  if (binary.startsWith('ts-'))
    return `${binary} is built by this project: sudo bash scripts/setup-vm.sh builds and installs it for every user (after 'npm run build' alone: sudo bash scripts/setup-vm.sh --install-only)`;
  // Not packaged by Debian: the upstream release, as docs/cri.md explains.
  if (binary === 'crictl')
    return `sudo bash scripts/setup-vm.sh installs cri-tools v1.32.0 (from ../shared/tools, or the release, sha256-checked), or install the cri-tools release for your Kubernetes version into /usr/local/bin by hand (docs/cri.md, "Getting crictl")`;
  const pkg = PACKAGE_OF[binary];
  return pkg ? `install it with 'apt-get install ${pkg}'` : `install the package that provides ${binary}`;
}

export function sysctlFix(key: string, value: string): string {
  return `sudo sysctl -w ${key}=${value}, and to keep it after a reboot: echo '${key} = ${value}' | sudo tee /etc/sysctl.d/90-nslab.conf`;
}

export interface UserNamespaceSwitch {
  name: string;
  ok: boolean;
  found: string;
  fix: string;
}

/**
 * The files the doctor and the requirements read can be shadowed for tests:
 * with NSLAB_DOCTOR_ROOT=DIR, DIR/proc/sys/... is read instead of
 * /proc/sys/... wherever DIR has that file.
 */
export function shadowed(path: string): string {
  const root = process.env.NSLAB_DOCTOR_ROOT;
  if (root && existsSync(join(root, path))) return join(root, path);
  return path;
}

export function readShadowed(path: string): string | undefined {
  try {
    return readFileSync(shadowed(path), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * The three switches any of which can forbid unprivileged user namespaces:
 * user.max_user_namespaces (all kernels), Debian's
 * kernel.unprivileged_userns_clone, and Ubuntu's (23.10+, on by default in
 * 24.04) kernel.apparmor_restrict_unprivileged_userns. Only those this
 * kernel has are listed.
 */
export function userNamespaceSwitches(
  read: (path: string) => string | undefined = readShadowed,
): UserNamespaceSwitch[] {
  const switches: UserNamespaceSwitch[] = [];
  const max = read('/proc/sys/user/max_user_namespaces');
  switches.push({
    name: 'user namespaces allowed',
    ok: max !== undefined && Number(max) > 0,
    found: `user.max_user_namespaces = ${max ?? 'missing'}`,
    fix: sysctlFix('user.max_user_namespaces', '15000'),
  });
  const debianSwitch = read('/proc/sys/kernel/unprivileged_userns_clone');
  if (debianSwitch !== undefined)
    switches.push({
      name: 'unprivileged user namespaces (Debian switch)',
      ok: debianSwitch === '1',
      found: `kernel.unprivileged_userns_clone = ${debianSwitch}`,
      fix: sysctlFix('kernel.unprivileged_userns_clone', '1'),
    });
  const apparmor = read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns');
  if (apparmor !== undefined)
    switches.push({
      name: 'unprivileged user namespaces (AppArmor, Ubuntu 23.10+)',
      ok: apparmor === '0',
      found: `kernel.apparmor_restrict_unprivileged_userns = ${apparmor}`,
      fix: `${sysctlFix('kernel.apparmor_restrict_unprivileged_userns', '0')} (or give ts-* an AppArmor profile with 'userns,')`,
    });
  return switches;
}

/** `${VAR:-default}` or `$VAR` as the environment has it; anything else as written. */
export function expandBinary(entry: string, env: NodeJS.ProcessEnv = process.env): string {
  const m = /^\$(?:\{(\w+)(?::-([^}]*))?\}|(\w+))$/.exec(entry);
  if (!m) return entry;
  const value = env[(m[1] ?? m[3])!];
  return value ? value : (m[2] ?? '');
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Undefined when everything is there, else the skip reason. */
/** `files` may be relative to the project root (dist/programs/...). */
export function unmet(needs: Requirement | undefined, path: string, projectRoot = '/'): string | undefined {
  if (!needs) return undefined;
  if (needs.root && process.geteuid?.() !== 0) return 'needs root: run it with sudo';
  if (needs.sandbox && !insideSandbox())
    return "runs only in the sandbox (it starts daemons and makes bridges and pods that must not reach this machine's network): add --sandbox (sudo ts-lab check --sandbox LAB, sudo ts-lab run --sandbox LAB)";
  if (needs.userNamespaces) {
    const off = userNamespaceSwitches().find((sw) => !sw.ok);
    if (off) return `needs unprivileged user namespaces, which this machine forbids (${off.found}): ${off.fix}`;
  }
  for (const entry of needs.binaries ?? []) {
    const b = expandBinary(entry);
    // A program chosen through a variable: the student may choose another.
    const variable = /\w+/.exec(entry)?.[0];
    const other = b !== entry ? `; or choose another program with ${variable}=NAME-OR-PATH` : '';
    if (!b) return `needs the program ${entry} names, and that variable is empty`;
    if (b.includes('/')) {
      if (!executable(b)) return `needs ${b}, which is not an executable file${other}`;
      continue;
    }
    if (!which(b, path)) return `needs ${b}, which is not on PATH: ${installHint(b)}${other}`;
    // bin/ts-* are stubs that load dist/ts-*.cjs: a tool that is not built yet is missing.
    if (b.startsWith('ts-') && !existsSync(join(projectRoot, 'dist', `${b}.cjs`)))
      return `needs ${b}, which is not built: ${installHint(b)}${other}`;
  }
  if (needs.cgroupControllers?.length) {
    const why = cgroupControllersUnavailable(needs.cgroupControllers);
    if (why) return why;
  }
  for (const f of needs.files ?? []) {
    const full = isAbsolute(f) ? f : join(projectRoot, f);
    if (!existsSync(full))
      return f.startsWith('/proc') || f.startsWith('/sys')
        ? `needs ${f}, which this kernel does not have`
        : `needs ${f}: run 'npm run build'`;
  }
  return undefined;
}

/**
 * Where the labs and exercises make their cgroups: the variable
 * NSLAB_CGROUP_PARENT, by default the root cgroup ('' here, so that
 * "$LAB_CGROUPS/nslab-lab-memory" reads /nslab-lab-memory), where runc and
 * the series' own commands make theirs. A login shell's cgroup
 * (/user.slice/.../session-N.scope) holds processes, and cgroup v2 gives no
 * controllers below such a cgroup, so the labs never nest below the
 * caller's cgroup by default. The tests pass '.' (below their own cgroup,
 * on a host where that works) to keep what they make inside their cgroup.
 */
export function labCgroupParent(env: NodeJS.ProcessEnv = process.env): string {
  const p = (env.NSLAB_CGROUP_PARENT ?? '').trim().replace(/\/+$/, '');
  return p === '/' ? '' : p;
}

/**
 * Why a cgroup made below the labs' parent (labCgroupParent) could not get
 * these controllers, or undefined. Below the root (or another absolute
 * path) the controller only has to exist; below our own cgroup (a
 * relative parent), cgroup v2 also needs our cgroup to hold no processes
 * ("no internal processes"), which a login session's cgroup never is.
 */
export function cgroupControllersUnavailable(
  controllers: string[],
  found?: CgroupLayout,
  parent = labCgroupParent(),
): string | undefined {
  let layout = found;
  try {
    layout ??= detectCgroups();
  } catch {
    return 'needs a cgroup file system, and none is mounted';
  }
  const belowOwn = parent !== '' && !parent.startsWith('/');
  for (const c of controllers) {
    const h = layout.hierarchies.find((x) => x.controllers.includes(c));
    if (!h) return `needs the ${c} cgroup controller, which no cgroup hierarchy here has`;
    if (belowOwn && h.version === 2 && h.own !== '/')
      return `needs a cgroup below its own that can get the ${c} controller (NSLAB_CGROUP_PARENT=${parent}), but cgroup v2 gives no controllers below a cgroup that holds processes (yours is ${h.own}): unset NSLAB_CGROUP_PARENT, and the labs make their cgroups below the root, as runc does`;
  }
  return undefined;
}
