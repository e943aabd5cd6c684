// A pod: its pause (sandbox) process, which holds the namespaces the pod's
// containers share, and each container's init, with what it shares with
// the pause process and what is its own. Found from a PID (the pause
// process: its containers are the processes in its network namespace with
// a mount namespace of their own), or from a runtime's state root
// (ts-runc's or runc's, e.g. containerd's /run/containerd/runc/k8s.io),
// whose containers carry the CRI's annotations.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NamespaceName } from '../../syscalls/namespaces.js';
import { ProcessInfo, readProcesses } from '../../core/lsns.js';
import { Diagram, DiagramGroup, DiagramNode, Mark } from './diagram.js';
import { hostReference, NAMESPACE_ORDER, namespacePids, NoSuchProcessError } from './processes.js';

const CONTAINER_TYPE = 'io.kubernetes.cri.container-type';
const SANDBOX_ID = 'io.kubernetes.cri.sandbox-id';
const CONTAINER_NAME = 'io.kubernetes.cri.container-name';
const SANDBOX_NAME = 'io.kubernetes.cri.sandbox-name';

export interface PodMember {
  name: string;
  pid?: number;
}

export interface Pod {
  name: string;
  pause: PodMember;
  containers: PodMember[];
}

/** A state root with no container of a pod in it. */
export class NoPodError extends Error {
  constructor(readonly root: string) {
    super(`no pod in ${root}`);
  }
}

interface StateFile {
  id: string;
  pid?: number;
  init_process_pid?: number;
  config?: { annotations?: Record<string, string>; labels?: string[] };
}

/** Annotations as ts-runc keeps them (config.annotations) or runc does (config.labels, "key=value"). */
function annotations(s: StateFile): Record<string, string> {
  if (s.config?.annotations) return s.config.annotations;
  return Object.fromEntries(
    (s.config?.labels ?? []).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function alive(pid: number | undefined): number | undefined {
  return pid && existsSync(`/proc/${pid}`) ? pid : undefined;
}

/** The pods of a runtime's state root: the sandbox container of each, and the containers naming it. */
export function podsFromStateRoot(root: string): Pod[] {
  const states: StateFile[] = [];
  for (const id of readdirSync(root)) {
    try {
      states.push(JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')) as StateFile);
    } catch {
      // not a container's directory
    }
  }
  const pods: Pod[] = [];
  for (const s of states) {
    const a = annotations(s);
    if (a[CONTAINER_TYPE] !== 'sandbox') continue;
    const members = states.filter(
      (c) => annotations(c)[CONTAINER_TYPE] === 'container' && annotations(c)[SANDBOX_ID] === s.id,
    );
    pods.push({
      name: a[SANDBOX_NAME] ?? s.id.slice(0, 12),
      pause: { name: `pause (${s.id.slice(0, 12)})`, pid: alive(s.pid ?? s.init_process_pid) },
      containers: members.map((c) => ({
        name: `${annotations(c)[CONTAINER_NAME] ?? 'container'} (${c.id.slice(0, 12)})`,
        pid: alive(c.pid ?? c.init_process_pid),
      })),
    });
  }
  if (pods.length === 0) throw new NoPodError(root);
  return pods;
}

/** A pod from its pause process: the containers are the process trees in its network namespace with a mount namespace of their own. */
export function podFromPause(pid: number, procs: ProcessInfo[] = readProcesses()): Pod {
  const pause = procs.find((p) => p.pid === pid);
  if (!pause) throw new NoSuchProcessError(pid);
  const net = pause.namespaces.get('net');
  const mnt = pause.namespaces.get('mnt');
  const inPod = procs.filter(
    (p) => p.pid !== pid && p.namespaces.get('net') === net && p.namespaces.get('mnt') !== mnt,
  );
  const byMnt = new Map<number, ProcessInfo[]>();
  for (const p of inPod) byMnt.set(p.namespaces.get('mnt')!, [...(byMnt.get(p.namespaces.get('mnt')!) ?? []), p]);
  const containers = [...byMnt.values()].map((group) => {
    const pids = new Set(group.map((p) => p.pid));
    // The container's init: PID 1 of a pid namespace of its own, else the top of the group.
    const init =
      group.find((p) => namespacePids(p.pid).length > 1 && namespacePids(p.pid).at(-1) === 1) ??
      group.find((p) => !pids.has(p.ppid)) ??
      group[0];
    return { name: init.command.split(' ')[0].split('/').pop() ?? 'container', pid: init.pid };
  });
  return {
    name: `pod of PID ${pid}`,
    pause: { name: pause.command.split(' ')[0].split('/').pop() ?? 'pause', pid },
    containers: containers.sort((a, b) => a.pid - b.pid),
  };
}

function nsList(proc: ProcessInfo, types: NamespaceName[], tone: Mark['tone']): Mark[] {
  return types.flatMap((t, i) => [...(i ? [{ text: ', ' }] : []), { text: `${t}:[${proc.namespaces.get(t)}]`, tone }]);
}

export interface PodDrawing {
  diagram: Diagram;
  /** Per pod: the namespace types every running container shares with the pause process. */
  shared: Record<string, NamespaceName[]>;
}

export function drawPods(pods: Pod[], procs: ProcessInfo[] = readProcesses()): PodDrawing {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const host = hostReference(procs);
  const shared: Record<string, NamespaceName[]> = {};
  const groups: DiagramGroup[] = pods.map((pod, i) => {
    const pause = pod.pause.pid === undefined ? undefined : byPid.get(pod.pause.pid);
    const running = pod.containers
      .map((c) => (c.pid === undefined ? undefined : byPid.get(c.pid)))
      .filter((p): p is ProcessInfo => p !== undefined);
    const common = pause
      ? NAMESPACE_ORDER.filter(
          (t) =>
            pause.namespaces.get(t) !== host?.namespaces.get(t) &&
            running.every((c) => c.namespaces.get(t) === pause.namespaces.get(t)),
        )
      : [];
    shared[pod.name] = common;
    const pauseDetails: Mark[][] = [];
    if (pause) {
      const own = NAMESPACE_ORDER.filter((t) => pause.namespaces.get(t) !== host?.namespaces.get(t));
      pauseDetails.push([{ text: 'holds: ' }, ...nsList(pause, own, 'new')]);
      const hosts = NAMESPACE_ORDER.filter((t) => pause.namespaces.get(t) === host?.namespaces.get(t));
      if (hosts.length) pauseDetails.push([{ text: "host's: " }, { text: hosts.join(' '), tone: 'host' }]);
    } else pauseDetails.push([{ text: 'not running', tone: 'warn' }]);
    const containerNodes: DiagramNode[] = pod.containers.map((c, j) => {
      const proc = c.pid === undefined ? undefined : byPid.get(c.pid);
      const details: Mark[][] = [];
      if (!proc) details.push([{ text: 'not running', tone: 'warn' }]);
      else {
        const withPause = pause
          ? NAMESPACE_ORDER.filter(
              (t) =>
                proc.namespaces.get(t) === pause.namespaces.get(t) &&
                proc.namespaces.get(t) !== host?.namespaces.get(t),
            )
          : [];
        const own = NAMESPACE_ORDER.filter(
          (t) =>
            proc.namespaces.get(t) !== pause?.namespaces.get(t) && proc.namespaces.get(t) !== host?.namespaces.get(t),
        );
        const hosts = NAMESPACE_ORDER.filter((t) => proc.namespaces.get(t) === host?.namespaces.get(t));
        if (withPause.length)
          details.push([{ text: 'shares with pause: ' }, { text: withPause.join(' '), tone: 'inherited' }]);
        if (own.length) details.push([{ text: 'own: ' }, ...nsList(proc, own, 'new')]);
        if (hosts.length) details.push([{ text: "host's: " }, { text: hosts.join(' '), tone: 'host' }]);
      }
      return {
        id: `pod${i}-c${j}`,
        label: `${c.name}${c.pid !== undefined ? ` PID ${c.pid}` : ''}`,
        details,
        children: [],
      };
    });
    const pauseNode: DiagramNode = {
      id: `pod${i}-pause`,
      label: `${pod.pause.name}${pod.pause.pid !== undefined ? ` PID ${pod.pause.pid}` : ''}`,
      badge: { text: 'sandbox', tone: 'new' },
      details: pauseDetails,
      children: containerNodes,
    };
    return {
      id: `pod${i}`,
      label: `pod ${pod.name}`,
      note: common.length
        ? `shared by all: ${common.join(' ')}`
        : pod.containers.length
          ? 'the containers share no namespace with the pause process'
          : 'no containers yet',
      nodes: [pauseNode],
    };
  });
  return {
    diagram: {
      kind: 'pod',
      title:
        pods.length === 1
          ? `pod ${pods[0].name}: the pause process and its containers`
          : `${pods.length} pods: each pause process and its containers`,
      legend: "shares with pause: the pod's namespaces; own: the container's alone; host's: the same as PID 1's",
      groups,
      edges: [],
    },
    shared,
  };
}
