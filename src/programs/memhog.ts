// memhog: allocate memory 10 MB at a time, touch every page so the kernel
// really charges it, and print the running total after each step. In a
// memory-limited cgroup the last line printed shows how far it got before
// the OOM killer stopped it. Usage: memhog [STEP_MB] [MAX_MB]
import { writeSync } from 'node:fs';

const stepMb = Number(process.argv[2] ?? 10);
const maxMb = Number(process.argv[3] ?? 100_000);
const PAGE = 4096;
const held: Buffer[] = [];
for (let total = stepMb; total <= maxMb; total += stepMb) {
  // allocUnsafe + writing one byte per page: a zero-filled calloc'd buffer
  // would be mapped lazily and never charged.
  const chunk = Buffer.allocUnsafe(stepMb * 1024 * 1024);
  for (let i = 0; i < chunk.length; i += PAGE) chunk[i] = 1;
  held.push(chunk);
  writeSync(1, `${total} MB\n`);
}
