// A diagram as terminal text: each group a heading, its nodes a tree drawn
// with box-drawing characters, details indented under their node, edges
// listed at the end. Colour only when asked (a terminal): the same text
// otherwise, so pipes, logs and tests read plain lines.
import { Diagram, DiagramNode, Mark, Tone } from './diagram.js';

/** Colours per tone; identity functions when there is no terminal. */
export type Paint = Partial<Record<Tone | 'heading' | 'dim', (s: string) => string>>;

function marks(line: Mark[], paint: Paint): string {
  return line.map((m) => (m.tone && paint[m.tone] ? paint[m.tone]!(m.text) : m.text)).join('');
}

function drawNode(
  n: DiagramNode,
  prefix: string,
  connector: string,
  childPrefix: string,
  paint: Paint,
  lines: string[],
): void {
  const badge = n.badge ? `  ${marks([{ ...n.badge, text: `(${n.badge.text})` }], paint)}` : '';
  lines.push(`${prefix}${connector}${n.label}${badge}`);
  const under = childPrefix + (n.children.length ? '│  ' : '   ');
  for (const d of n.details) lines.push(`${under}${marks(d, paint)}`.trimEnd());
  n.children.forEach((c, i) => {
    const last = i === n.children.length - 1;
    drawNode(c, childPrefix, last ? '└─ ' : '├─ ', childPrefix + (last ? '   ' : '│  '), paint, lines);
  });
}

export function diagramText(d: Diagram, paint: Paint = {}): string {
  const heading = paint.heading ?? ((s: string) => s);
  const dim = paint.dim ?? ((s: string) => s);
  const lines: string[] = [heading(d.title)];
  if (d.legend) lines.push(dim(d.legend));
  for (const g of d.groups) {
    lines.push('');
    lines.push(heading(`[${g.label}]`) + (g.note ? `  ${dim(g.note)}` : ''));
    if (g.nodes.length === 0) lines.push(dim('  (nothing)'));
    for (const n of g.nodes) drawNode(n, '', '', '', paint, lines);
  }
  if (d.edges.length) {
    lines.push('');
    const label = new Map<string, string>();
    for (const g of d.groups) {
      const walk = (n: DiagramNode) => {
        label.set(n.id, `${g.label}: ${n.label.split(' ')[0]}`);
        n.children.forEach(walk);
      };
      g.nodes.forEach(walk);
    }
    for (const e of d.edges)
      lines.push(`${label.get(e.from) ?? e.from}  <==>  ${label.get(e.to) ?? e.to}${e.label ? `  (${e.label})` : ''}`);
  }
  return lines.join('\n') + '\n';
}
