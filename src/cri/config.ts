// The files of the CRI playground, as text made from a few choices: the
// containerd config (its own root, state and sockets; the CRI plugin with a
// local pause image; the runc runtime pointed at ts-runc or runc), the CNI
// network (a bridge with host-local addresses, like the one CRI-O ships as
// 10-crio-bridge.conf), and crictl's config.
import { join } from 'node:path';

export interface PlaygroundPaths {
  /** Everything of the playground lives below here. */
  dir: string;
  config: string;
  root: string;
  state: string;
  socket: string;
  /** runc --root for the shim: the runtime's own view of the containers is DIR/runc/k8s.io. */
  runtimeRoot: string;
  cniConfDir: string;
  crictlConfig: string;
  log: string;
  pidFile: string;
  /** The cgroups made for containerd and everything below it, one per hierarchy. */
  cgroupsFile: string;
  images: string;
}

export function playgroundPaths(dir: string): PlaygroundPaths {
  return {
    dir,
    config: join(dir, 'containerd.toml'),
    root: join(dir, 'root'),
    state: join(dir, 'state'),
    socket: join(dir, 'containerd.sock'),
    runtimeRoot: join(dir, 'runc'),
    cniConfDir: join(dir, 'net.d'),
    crictlConfig: join(dir, 'crictl.yaml'),
    log: join(dir, 'containerd.log'),
    pidFile: join(dir, 'containerd.pid'),
    cgroupsFile: join(dir, 'cgroups.json'),
    images: join(dir, 'images'),
  };
}

export interface ContainerdChoices {
  paths: PlaygroundPaths;
  /** The runtime binary the shim runs (BinaryName). */
  runtimeBinary: string;
  sandboxImage: string;
  cniBinDir: string;
  /** Where the kernel refuses to lower oom_score_adj, CRI must not ask for it. */
  restrictOomScoreAdj: boolean;
}

/** TOML string: JSON's escaping is a subset TOML's basic strings accept. */
function str(s: string): string {
  return JSON.stringify(s);
}

export function containerdConfig(c: ContainerdChoices): string {
  const p = c.paths;
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return [
    '# Written by ts-cri up: a containerd of its own for the nslab pod labs.',
    'version = 2',
    `root = ${str(p.root)}`,
    `state = ${str(p.state)}`,
    // Snapshotters that need other file systems only log noise here.
    'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]',
    '',
    // The opt plugin would otherwise make /opt/containerd on the host.
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${str(join(p.dir, 'opt'))}`,
    '',
    '[grpc]',
    `  address = ${str(p.socket)}`,
    '',
    '[ttrpc]',
    `  address = ${str(p.socket + '.ttrpc')}`,
    '',
    `[${cri}]`,
    `  sandbox_image = ${str(c.sandboxImage)}`,
    `  restrict_oom_score_adj = ${c.restrictOomScoreAdj}`,
    '  enable_selinux = false',
    '',
    `[${cri}.containerd]`,
    // native: plain copies, no overlay mounts to leak or to need a kernel module.
    '  snapshotter = "native"',
    '  default_runtime_name = "runc"',
    '',
    `[${cri}.containerd.runtimes.runc]`,
    '  runtime_type = "io.containerd.runc.v2"',
    '',
    `[${cri}.containerd.runtimes.runc.options]`,
    `  BinaryName = ${str(c.runtimeBinary)}`,
    `  Root = ${str(p.runtimeRoot)}`,
    '  SystemdCgroup = false',
    '',
    `[${cri}.cni]`,
    `  bin_dir = ${str(c.cniBinDir)}`,
    `  conf_dir = ${str(p.cniConfDir)}`,
    '',
  ].join('\n');
}

export interface BridgeChoices {
  bridge: string;
  subnet: string;
  gateway: string;
}

export const DEFAULT_BRIDGE: BridgeChoices = { bridge: 'cni0', subnet: '10.88.0.0/16', gateway: '10.88.0.1' };

/** A bridge network: the pods' veths on `cni0`, which is their gateway; addresses from host-local. No masquerading: nothing leaves. */
export function cniBridgeConfig(b: BridgeChoices = DEFAULT_BRIDGE): string {
  return (
    JSON.stringify(
      {
        cniVersion: '0.4.0',
        name: 'nslab-bridge',
        type: 'bridge',
        bridge: b.bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          routes: [{ dst: '0.0.0.0/0' }],
          ranges: [[{ subnet: b.subnet, gateway: b.gateway }]],
        },
      },
      null,
      2,
    ) + '\n'
  );
}

export function crictlConfig(paths: PlaygroundPaths): string {
  const endpoint = `unix://${paths.socket}`;
  return [`runtime-endpoint: ${endpoint}`, `image-endpoint: ${endpoint}`, 'timeout: 30', 'debug: false', 'pull-image-on-create: false', ''].join('\n');
}
