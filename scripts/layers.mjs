// The layer table of docs/design.md ("Layers"), read from the document
// itself so that the text, scripts/check-layers.mjs and the ESLint rule in
// eslint.config.js cannot disagree.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The rows in order, lowest floor first: { layer: 'src/core/', allowed:
 * ['src/errors.ts', ...] | 'everything' }. A layer is a folder ending in '/'
 * or one file.
 */
export function readLayerTable(designPath = join(ROOT, 'docs', 'design.md')) {
  const text = readFileSync(designPath, 'utf8');
  const section = text.split(/^## /m).find((s) => s.startsWith('Layers\n'));
  if (!section) throw new Error(`${designPath}: no "## Layers" section`);
  const rows = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | `src/x/` | knows | may import |  -> ['', layer, knows, imports, '']
    if (cells.length !== 5 || !/^`src\//.test(cells[1])) continue;
    const layer = cells[1].replace(/`/g, '');
    const allowed =
      cells[3] === 'everything' ? 'everything' : [...cells[3].matchAll(/`(src\/[^`]*)`/g)].map((m) => m[1]);
    rows.push({ layer, allowed });
  }
  if (!rows.length) throw new Error(`${designPath}: the "Layers" table has no rows`);
  return rows;
}

/** The layer a path under src/ belongs to ('src/core/nsenter.ts' -> 'src/core/'), or undefined. */
export function layerOf(rows, path) {
  return rows.find((r) => (r.layer.endsWith('/') ? path.startsWith(r.layer) : path === r.layer))?.layer;
}
