// One shape for every picture ts-lab draws (processes, cgroups, network,
// pod): groups (a hierarchy, a network namespace, a pod) holding trees of
// nodes, each node a label and detail lines, plus edges between nodes (a
// veth pair's two ends). The readers (processes.ts, cgroups.ts, network.ts,
// pod.ts) fill it from the live system; text.ts draws it in a terminal and
// svg.ts as an SVG picture, so both always show the same thing.

/** How a piece of text is shown: what is new (made for the experiment), what is the host's, a limit, a warning. */
export type Tone = 'new' | 'inherited' | 'host' | 'limit' | 'usage' | 'plain' | 'warn';

export interface Mark {
  text: string;
  tone?: Tone;
}

export interface DiagramNode {
  /** Unique in the diagram: edges refer to it. */
  id: string;
  label: string;
  /** Shown with the label: "new", "PID 1 inside". */
  badge?: Mark;
  /** Lines under the label, each made of marks. */
  details: Mark[][];
  children: DiagramNode[];
}

export interface DiagramGroup {
  id: string;
  label: string;
  note?: string;
  nodes: DiagramNode[];
}

export interface DiagramEdge {
  from: string;
  to: string;
  label?: string;
}

export type DiagramKind = 'processes' | 'cgroups' | 'network' | 'pod';

export interface Diagram {
  kind: DiagramKind;
  title: string;
  /** What the tones mean here, one line. */
  legend?: string;
  groups: DiagramGroup[];
  edges: DiagramEdge[];
}

export function node(
  id: string,
  label: string,
  details: Mark[][] = [],
  children: DiagramNode[] = [],
  badge?: Mark,
): DiagramNode {
  return { id, label, details, children, ...(badge ? { badge } : {}) };
}

/** Every node of a diagram, depth first. */
export function allNodes(d: Diagram): DiagramNode[] {
  const out: DiagramNode[] = [];
  const walk = (n: DiagramNode) => {
    out.push(n);
    n.children.forEach(walk);
  };
  for (const g of d.groups) g.nodes.forEach(walk);
  return out;
}
