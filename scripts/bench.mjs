// npm run bench: start-up cost of ts-unshare against util-linux unshare and
// the floor of any Node tool, `node -e 0`. The three run interleaved, round
// after round, so machine noise hits them alike; medians and ratios are
// printed. Budget (docs/design.md, "Start-up time"): ts-unshare at most 1.25x node -e 0.
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(process.env.BENCH_ROUNDS ?? 30);
const env = { ...process.env };
delete env.NODE_OPTIONS;

const commands = {
  'node -e 0': [process.execPath, '-e', '0'],
  'ts-unshare -fp --mount-proc true': [join(root, 'bin/ts-unshare'), '-fp', '--mount-proc', 'true'],
  'unshare -fp --mount-proc true': ['unshare', '-fp', '--mount-proc', 'true'],
};
if (process.geteuid() !== 0) {
  console.error('bench: run as root (the commands create pid and mount namespaces)');
  process.exit(1);
}

function once([cmd, ...args]) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: 'ignore', env });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return ms;
}

const times = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
for (const argv of Object.values(commands)) once(argv); // warm the page cache
for (let i = 0; i < rounds; i++) for (const [name, argv] of Object.entries(commands)) times[name].push(once(argv));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const base = median(times['node -e 0']);
console.log(`${rounds} rounds, interleaved; median wall time per command\n`);
console.log('command'.padEnd(36) + 'median ms'.padStart(10) + '  vs node -e 0');
for (const [name, xs] of Object.entries(times)) {
  const m = median(xs);
  console.log(name.padEnd(36) + m.toFixed(2).padStart(10) + `  ${(m / base).toFixed(2)}x`);
}
const ratio = median(times['ts-unshare -fp --mount-proc true']) / base;
console.log(`\nts-unshare / node -e 0 = ${ratio.toFixed(2)}x (budget 1.25x): ${ratio <= 1.25 ? 'within budget' : 'OVER BUDGET'}`);
console.log(`ts-unshare / util-linux unshare = ${(median(times['ts-unshare -fp --mount-proc true']) / median(times['unshare -fp --mount-proc true'])).toFixed(1)}x`);
spawnSync(process.execPath, [join(root, 'scripts/bench-pods.mjs')], { stdio: 'inherit', env }); // the pods: ts-runc vs runc under containerd (scripts/bench-pods.mjs)
