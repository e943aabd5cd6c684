// `ts-runc features`: what this runtime implements, in the JSON of runc 1.1's
// `runc features` (the runtime-spec's features.md), which CRI-O asks every
// runtime for. Every list is read from the tables the runtime itself uses
// to parse and apply a config, so it cannot claim what the code refuses.
import { CAPABILITY_NAMES, HOOK_KINDS, NAMESPACE_KINDS, PROPAGATIONS, REFUSED_HOOKS, parseProcess } from './config.js';
import { MOUNT_OPTIONS } from './init-plan.js';
import { SECCOMP_ACTIONS } from './seccomp.js';
import { OCI_VERSION } from './spec.js';
import { SCMP_CMP, libseccompInfo, resolveArch } from '../syscalls/seccomp.js';

export interface Features {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: {
    namespaces: string[];
    capabilities: string[];
    cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean };
    seccomp: { enabled: boolean; actions?: string[]; operators?: string[]; archs?: string[] };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
  };
  annotations: Record<string, string>;
}

/**
 * libseccomp's architecture names (the SCMP_ARCH_ suffixes it resolves).
 * The profile reader accepts any of them the loaded library knows, so the
 * list reported is the ones this libseccomp resolves.
 */
const LIBSECCOMP_ARCH_NAMES = [
  'x86',
  'x86_64',
  'x32',
  'arm',
  'aarch64',
  'loongarch64',
  'm68k',
  'mips',
  'mips64',
  'mips64n32',
  'mipsel',
  'mipsel64',
  'mipsel64n32',
  'parisc',
  'parisc64',
  'ppc',
  'ppc64',
  'ppc64le',
  's390',
  's390x',
  'riscv64',
  'sh',
  'sheb',
];

/** Whether the process reader takes a field (it refuses those this runtime cannot apply). */
function processAccepts(field: string, value: unknown): boolean {
  try {
    parseProcess({ args: ['/bin/true'], [field]: value });
    return true;
  } catch {
    return false;
  }
}

function seccompFeatures(): Features['linux']['seccomp'] & { libseccomp?: string } {
  let version: string;
  try {
    version = libseccompInfo().version;
  } catch {
    // Without libseccomp a profile cannot be compiled: runc built without seccomp says just this.
    return { enabled: false };
  }
  const archs = LIBSECCOMP_ARCH_NAMES.filter((n) => resolveArch(n) !== undefined).map(
    (n) => `SCMP_ARCH_${n.toUpperCase()}`,
  );
  return {
    enabled: true,
    actions: [...SECCOMP_ACTIONS].sort(),
    operators: Object.keys(SCMP_CMP).sort(),
    archs: archs.sort(),
    libseccomp: version,
  };
}

export function runtimeFeatures(runtimeVersion: string): Features {
  const { libseccomp, ...seccomp } = seccompFeatures();
  const annotations: Record<string, string> = {};
  if (libseccomp) annotations['io.github.seccomp.libseccomp.version'] = libseccomp;
  annotations['org.nslab.ts-runc.version'] = runtimeVersion;
  // Checkpointing is not implemented: say so where runc says it has it.
  annotations['org.opencontainers.runc.checkpoint.enabled'] = 'false';
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: HOOK_KINDS.filter((h) => !REFUSED_HOOKS.includes(h)),
    mountOptions: [...Object.keys(MOUNT_OPTIONS), ...Object.keys(PROPAGATIONS)].sort(),
    linux: {
      namespaces: [...NAMESPACE_KINDS].sort(),
      capabilities: [...CAPABILITY_NAMES],
      // Both cgroup versions through cgroupfs; --systemd-cgroup is refused.
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp,
      apparmor: { enabled: processAccepts('apparmorProfile', 'unconfined') },
      selinux: { enabled: processAccepts('selinuxLabel', 'system_u:system_r:container_t:s0') },
    },
    annotations,
  };
}
