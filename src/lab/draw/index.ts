// What `ts-lab draw` draws, by kind, and where a lab run being reported on
// (ts-lab report) collects each drawing: the directory NSLAB_DRAW_CAPTURE
// names gets one JSON file per drawing, in the order they were made, so
// the report can put the same diagram, as SVG, under the step that drew it.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Diagram, DiagramKind } from './diagram.js';
import { drawProcesses } from './processes.js';
import { drawCgroups } from './cgroups.js';
import { drawNetwork } from './network.js';
import { drawPods, podFromPause, podsFromStateRoot } from './pod.js';

export const CAPTURE_ENV = 'NSLAB_DRAW_CAPTURE';

export interface DrawRequest {
  pid?: number;
  cgroup?: string;
  netns?: string;
  /** A runtime's state root (pod). */
  root?: string;
  depth?: number;
}

export function makeDrawing(kind: DiagramKind, req: DrawRequest): Diagram {
  switch (kind) {
    case 'processes':
      return drawProcesses(req.pid).diagram;
    case 'cgroups':
      return drawCgroups(req.cgroup ?? '/', { depth: req.depth });
    case 'network':
      return drawNetwork(req.netns).diagram;
    case 'pod':
      return drawPods(req.root !== undefined ? podsFromStateRoot(req.root) : [podFromPause(req.pid!)]).diagram;
  }
}

/** Keep a copy of a drawing for the report being made, if one is (NSLAB_DRAW_CAPTURE). */
export function captureDiagram(d: Diagram, env: NodeJS.ProcessEnv = process.env): void {
  const dir = env[CAPTURE_ENV];
  if (!dir) return;
  const name = `${process.hrtime.bigint().toString().padStart(20, '0')}-${process.pid}.json`;
  writeFileSync(join(dir, name), JSON.stringify(d));
}

/** The drawings captured in `dir` whose names are not in `seen`, oldest first; adds them to `seen`. */
export function newCaptures(dir: string, seen: Set<string>): Diagram[] {
  const names = readdirSync(dir)
    .filter((n) => n.endsWith('.json') && !seen.has(n))
    .sort();
  const out: Diagram[] = [];
  for (const n of names) {
    seen.add(n);
    try {
      out.push(JSON.parse(readFileSync(join(dir, n), 'utf8')) as Diagram);
    } catch {
      // half-written by a drawing that was killed: nothing to show
    }
  }
  return out;
}
