#!/usr/bin/env node
// Checks the imports under src/ against the layer table of docs/design.md
// ("Layers"): every import is one its folder's row allows, every row allows
// only rows above it (no import climbs a floor), and every allowed import is
// made by at least one file (so the table says what the code does).
// Exit 1 with one line per problem; 0 and a one-line summary otherwise.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { layerOf, readLayerTable, ROOT } from './layers.mjs';

const rows = readLayerTable();
const problems = [];
const used = new Map(rows.map((r) => [r.layer, new Set()]));

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

// Static imports and re-exports (`import ... from '...'`, `export ... from
// '...'`, `import '...'`) of relative paths; `typeof import('node:fs')` and
// package imports are not layers.
const importPattern = /^\s*(?:(?:import|export)\s[^'"]*?\bfrom\s*|import\s*)['"](\.{1,2}\/[^'"]+)['"]/gm;

for (const file of sourceFiles(join(ROOT, 'src'))) {
  const rel = relative(ROOT, file);
  const from = layerOf(rows, rel);
  if (!from) {
    problems.push(`${rel}: in no row of the layer table (docs/design.md, "Layers")`);
    continue;
  }
  const row = rows.find((r) => r.layer === from);
  for (const m of readFileSync(file, 'utf8').matchAll(importPattern)) {
    const target = relative(ROOT, resolve(dirname(file), m[1])).replace(/\.js$/, '.ts');
    const to = layerOf(rows, target);
    if (!to) {
      problems.push(`${rel}: imports ${m[1]}, which is in no row of the layer table`);
      continue;
    }
    if (to === from) continue;
    used.get(from).add(to);
    if (row.allowed !== 'everything' && !row.allowed.includes(to)) {
      problems.push(`${rel}: imports ${m[1]} (${to}), which the row of ${from} does not allow`);
    }
  }
}

rows.forEach((row, index) => {
  if (row.allowed === 'everything') return;
  for (const to of row.allowed) {
    const at = rows.findIndex((r) => r.layer === to);
    if (at < 0) problems.push(`docs/design.md: the row of ${row.layer} allows ${to}, which has no row`);
    else if (at >= index)
      problems.push(`docs/design.md: the row of ${row.layer} allows ${to}, a row below it (a climb)`);
    else if (!used.get(row.layer).has(to)) {
      problems.push(`docs/design.md: the row of ${row.layer} allows ${to}, but no file there imports it`);
    }
  }
});

if (problems.length) {
  for (const p of problems) console.error(`check-layers: ${p}`);
  process.exit(1);
}
console.log(`check-layers: ${rows.length} layers, imports match docs/design.md`);
