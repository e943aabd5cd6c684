// Shared by the runtime tests: edits of a config.json made by `spec`.

/**
 * Give a config a new user namespace mapping 0-65535 to host ids 100000
 * and up. sysfs and cgroupfs belong to the host's user namespace, so /sys
 * is bound instead of mounted, as `runc spec --rootless` does.
 */
export function addUserNamespace(config: any): void {
  config.linux.namespaces.push({ type: 'user' });
  config.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  config.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  config.mounts = config.mounts.filter(
    (m: { type: string; destination: string }) => m.type !== 'cgroup' && m.destination !== '/sys',
  );
  config.mounts.push({
    destination: '/sys',
    type: 'none',
    source: '/sys',
    options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
  });
}
