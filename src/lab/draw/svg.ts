// A diagram as one self-contained SVG: each group a box (side by side),
// its nodes inside as a tree of boxes (children indented, joined to their
// parent by a line), details as text under each label, and edges (veth
// pairs) as curves between the boxes they join. Monospace text, so widths
// are counted in characters; styles inline, so the picture needs nothing else.
import { Diagram, DiagramNode, Mark, Tone } from './diagram.js';

const CHAR = 7.3;
const LINE = 16;
const PAD = 8;
const INDENT = 26;
const GAP = 10;
const GROUP_GAP = 70;
const GROUP_HEAD = 34;

const TONE_COLOUR: Record<Tone, string> = {
  new: '#b45309',
  inherited: '#7c3aed',
  host: '#6b7280',
  limit: '#b91c1c',
  usage: '#047857',
  plain: '#374151',
  warn: '#dc2626',
};

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

interface Placed {
  node: DiagramNode;
  x: number;
  y: number;
  w: number;
  h: number;
  parent?: Placed;
}

function lineLength(line: Mark[]): number {
  return line.reduce((n, m) => n + m.text.length, 0);
}

function labelText(n: DiagramNode): string {
  return n.badge ? `${n.label}  (${n.badge.text})` : n.label;
}

/** Place a group's nodes top to bottom, children indented; returns the height used. */
function placeTree(nodes: DiagramNode[], x: number, y: number, out: Placed[], parent?: Placed): number {
  for (const n of nodes) {
    const w = Math.max(labelText(n).length, ...n.details.map(lineLength)) * CHAR + 2 * PAD;
    const h = (1 + n.details.length) * LINE + PAD;
    const p: Placed = { node: n, x, y, w, h, parent };
    out.push(p);
    y += h + GAP;
    y = placeTree(n.children, x + INDENT, y, out, p);
  }
  return y;
}

function marksSvg(line: Mark[]): string {
  return line
    .map(
      (m) =>
        `<tspan fill="${TONE_COLOUR[m.tone ?? 'plain']}"${m.tone === 'new' || m.tone === 'limit' ? ' font-weight="bold"' : ''}>${escapeXml(m.text)}</tspan>`,
    )
    .join('');
}

export function diagramSvg(d: Diagram): string {
  const parts: string[] = [];
  const placed = new Map<string, Placed>();
  // Groups side by side when edges join them (a veth between namespaces), else one under the other.
  const sideBySide = d.edges.length > 0;
  let x = 10;
  let top = 10;
  let height = 0;
  let width = 0;
  const groupBoxes: string[] = [];
  for (const g of d.groups) {
    const nodes: Placed[] = [];
    const bottom = placeTree(g.nodes, x + PAD, top + GROUP_HEAD, nodes);
    const head = `[${g.label}]${g.note ? `  ${g.note}` : ''}`;
    const w = Math.max(head.length * CHAR + 2 * PAD, ...nodes.map((p) => p.x + p.w - x + PAD), 160);
    const h = Math.max(bottom - top, GROUP_HEAD + LINE);
    groupBoxes.push(
      `<g class="group" data-group="${escapeXml(g.id)}"><rect x="${x}" y="${top}" width="${w}" height="${h}" rx="8" fill="#f8fafc" stroke="#94a3b8"/>` +
        `<text x="${x + PAD}" y="${top + 20}" font-weight="bold" fill="#0f172a">${escapeXml(`[${g.label}]`)}${g.note ? `<tspan fill="#64748b" font-weight="normal">  ${escapeXml(g.note)}</tspan>` : ''}</text>` +
        (nodes.length ? '' : `<text x="${x + PAD}" y="${top + GROUP_HEAD + 12}" fill="#64748b">(nothing)</text>`) +
        '</g>',
    );
    for (const p of nodes) placed.set(p.node.id, p);
    width = Math.max(width, x + w + 10);
    height = Math.max(height, top + h + 10);
    if (sideBySide) x += w + GROUP_GAP;
    else top += h + GAP * 2;
  }
  parts.push(...groupBoxes);
  for (const p of placed.values()) {
    if (p.parent)
      parts.push(
        `<path d="M${p.parent.x + 10} ${p.parent.y + p.parent.h} V${p.y + LINE / 2 + 2} H${p.x}" fill="none" stroke="#94a3b8"/>`,
      );
    const lines = [
      `<text x="${p.x + PAD}" y="${p.y + LINE}" font-weight="bold" fill="#111827">${escapeXml(p.node.label)}${p.node.badge ? ` <tspan fill="${TONE_COLOUR[p.node.badge.tone ?? 'plain']}">(${escapeXml(p.node.badge.text)})</tspan>` : ''}</text>`,
      ...p.node.details.map((l, i) => `<text x="${p.x + PAD}" y="${p.y + LINE * (i + 2)}">${marksSvg(l)}</text>`),
    ];
    parts.push(
      `<g class="node" data-id="${escapeXml(p.node.id)}"><title>${escapeXml(p.node.label)}</title><rect x="${p.x}" y="${p.y}" width="${p.w}" height="${p.h}" rx="4" fill="#ffffff" stroke="#475569"/>${lines.join('')}</g>`,
    );
  }
  for (const e of d.edges) {
    const a = placed.get(e.from);
    const b = placed.get(e.to);
    if (!a || !b) continue;
    const [l, r] = a.x < b.x ? [a, b] : [b, a];
    const x1 = l.x + l.w;
    const y1 = l.y + l.h / 2;
    const x2 = r.x;
    const y2 = r.y + r.h / 2;
    const mid = (x1 + x2) / 2;
    parts.push(
      `<path class="edge" d="M${x1} ${y1} C${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}" fill="none" stroke="#b45309" stroke-width="2"><title>${escapeXml(e.label ?? '')}</title></path>`,
    );
  }
  width = Math.max(width, 200);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="diagram" data-kind="${d.kind}" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" font-family="monospace" font-size="12">` +
    `<title>${escapeXml(d.title)}</title>${parts.join('')}</svg>`
  );
}
