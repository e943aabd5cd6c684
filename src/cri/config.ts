// The files of the CRI playground, as text made from a few choices: the
// containerd config (its own root, state and sockets; the CRI plugin with a
// local pause image; the runc runtime pointed at ts-runc or runc), CRI-O's
// config (every path in the playground's directory; the runtime handler
// pointed at ts-runc or runc, with conmon and pinns), the signature policy
// for local images, the CNI network (a bridge with host-local addresses,
// like the one CRI-O ships as 10-crio-bridge.conf), and crictl's config.
import { join } from 'node:path';

export interface PlaygroundPaths {
  /** Everything of the playground lives below here. */
  dir: string;
  server: CriServer;
  /** Names the server a playground runs, for down, status and env. */
  serverFile: string;
  /** --root for ts-runc list: the runtime's own view of the pods. */
  runtimeState: string;
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

/** The CRI servers the playground can run. */
export type CriServer = 'containerd' | 'crio';
export const CRI_SERVERS: readonly CriServer[] = ['containerd', 'crio'];

export function playgroundPaths(dir: string, server: CriServer = 'containerd'): PlaygroundPaths {
  return {
    dir,
    server,
    config: join(dir, server === 'crio' ? 'crio.conf' : 'containerd.toml'),
    root: join(dir, 'root'),
    state: join(dir, 'state'),
    socket: join(dir, `${server}.sock`),
    runtimeRoot: join(dir, 'runc'),
    runtimeState: server === 'crio' ? join(dir, 'runc') : join(dir, 'runc', 'k8s.io'),
    cniConfDir: join(dir, 'net.d'),
    crictlConfig: join(dir, 'crictl.yaml'),
    log: join(dir, `${server}.log`),
    pidFile: join(dir, `${server}.pid`),
    cgroupsFile: join(dir, 'cgroups.json'),
    images: join(dir, 'images'),
    serverFile: join(dir, 'server'),
  };
}

export interface CrioChoices {
  paths: PlaygroundPaths;
  /** The OCI runtime conmon runs, and the handler's name. */
  runtimeBinary: string;
  runtimeName: string;
  conmon: string;
  pinns: string;
  sandboxImage: string;
  cniBinDir: string;
  storageDriver: 'vfs' | 'overlay';
  signaturePolicy: string;
}

/**
 * CRI-O's configuration: every path it would otherwise take on the host
 * (storage, /var/run/crio, /var/lib/crio, /etc/crio, hooks, CDI, logs) in
 * the playground's directory. Read with --config and an empty --config-dir,
 * so nothing in /etc/crio applies.
 */
export function crioConfig(c: CrioChoices): string {
  const p = c.paths;
  const d = (name: string) => str(join(p.dir, 'crio', name));
  return [
    '# Written by ts-cri up: a CRI-O of its own for the nslab pod labs.',
    '[crio]',
    `root = ${str(join(p.root, 'storage'))}`,
    `runroot = ${str(join(p.state, 'storage'))}`,
    `storage_driver = ${str(c.storageDriver)}`,
    `log_dir = ${d('pods')}`,
    `version_file = ${str(join(p.state, 'version'))}`,
    `version_file_persist = ${str(join(p.root, 'version'))}`,
    `clean_shutdown_file = ${str(join(p.root, 'clean.shutdown'))}`,
    '',
    '[crio.api]',
    `listen = ${str(p.socket)}`,
    // The streaming server (exec, attach) on the playground's own loopback.
    'stream_address = "127.0.0.1"',
    'stream_port = "0"',
    '',
    '[crio.runtime]',
    `default_runtime = ${str(c.runtimeName)}`,
    // cgroupfs: the pods' cgroups go where their cgroup_parent says, below the playground's.
    'cgroup_manager = "cgroupfs"',
    'selinux = false',
    // No AppArmor profile asked of the runtime (ts-runc refuses one; most of these machines have no AppArmor).
    'apparmor_profile = "unconfined"',
    `decryption_keys_path = ${d('keys')}`,
    `hooks_dir = [${d('hooks.d')}]`,
    `cdi_spec_dirs = [${d('cdi')}]`,
    `default_mounts_file = ${d('mounts.conf')}`,
    `irqbalance_config_file = ${d('irqbalance')}`,
    'irqbalance_config_restore_file = "disable"',
    `container_exits_dir = ${str(join(p.state, 'exits'))}`,
    `container_attach_socket_dir = ${str(join(p.state, 'attach'))}`,
    `namespaces_dir = ${str(join(p.state, 'ns'))}`,
    `pinns_path = ${str(c.pinns)}`,
    // A pause container per pod, as the labs show it (true would let pinns alone hold the namespaces).
    'drop_infra_ctr = false',
    'log_to_journald = false',
    '',
    `[crio.runtime.runtimes.${c.runtimeName}]`,
    `runtime_path = ${str(c.runtimeBinary)}`,
    'runtime_type = "oci"',
    `runtime_root = ${str(p.runtimeRoot)}`,
    `monitor_path = ${str(c.conmon)}`,
    // cgroupfs wants conmon in the pod's cgroup.
    'monitor_cgroup = "pod"',
    '',
    '[crio.image]',
    `pause_image = ${str(c.sandboxImage)}`,
    // Empty: the pause image's own entrypoint runs (catatonit -P), not a /pause it lacks.
    'pause_command = ""',
    `signature_policy = ${str(c.signaturePolicy)}`,
    `signature_policy_dir = ${d('policies')}`,
    `global_auth_file = ""`,
    '',
    '[crio.network]',
    `network_dir = ${str(p.cniConfDir)}`,
    `plugin_dirs = [${str(c.cniBinDir)}]`,
    '',
    '[crio.metrics]',
    'enable_metrics = false',
    '',
    '[crio.nri]',
    'enable_nri = false',
    '',
  ].join('\n');
}

/** containers/image's policy: the playground's images are local archives, accepted as they are. */
export function signaturePolicy(): string {
  return JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }, null, 2) + '\n';
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
  return [
    `runtime-endpoint: ${endpoint}`,
    `image-endpoint: ${endpoint}`,
    'timeout: 30',
    'debug: false',
    'pull-image-on-create: false',
    '',
  ].join('\n');
}
