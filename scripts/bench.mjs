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
console.log(
  `\nts-unshare / node -e 0 = ${ratio.toFixed(2)}x (budget 1.25x): ${ratio <= 1.25 ? 'within budget' : 'OVER BUDGET'}`,
);
console.log(
  `ts-unshare / util-linux unshare = ${(median(times['ts-unshare -fp --mount-proc true']) / median(times['unshare -fp --mount-proc true'])).toFixed(1)}x`,
);

// ts-runc run of a busybox bundle whose process is `true`, against runc run
// (when installed) and node -e 0, interleaved the same way. Budget: 1.5x node -e 0.
{
  const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
  const scratch = mkdtempSync('/tmp/nslab-bench-runc-');
  try {
    const rootfs = join(scratch, 'rootfs');
    const made = spawnSync(process.execPath, [join(root, 'scripts/make-rootfs.mjs'), '-q', rootfs], {
      stdio: 'inherit',
      env,
    });
    if (made.status !== 0) throw new Error('make-rootfs failed');
    spawnSync(join(root, 'bin/ts-runc'), ['spec', '-b', scratch], { env });
    const config = JSON.parse(readFileSync(join(scratch, 'config.json'), 'utf8'));
    config.process.terminal = false;
    config.process.args = ['true'];
    writeFileSync(join(scratch, 'config.json'), JSON.stringify(config));
    const haveRunc = spawnSync('sh', ['-c', 'command -v runc'], { stdio: 'ignore' }).status === 0;
    const runcCommands = {
      'node -e 0': [process.execPath, '-e', '0'],
      'ts-runc run (true)': [
        join(root, 'bin/ts-runc'),
        '--root',
        join(scratch, 'ts-state'),
        'run',
        '-b',
        scratch,
        'bench',
      ],
      ...(haveRunc
        ? { 'runc run (true)': ['runc', '--root', join(scratch, 'runc-state'), 'run', '-b', scratch, 'bench'] }
        : {}),
    };
    const t2 = Object.fromEntries(Object.keys(runcCommands).map((k) => [k, []]));
    for (const argv of Object.values(runcCommands)) once(argv);
    for (let i = 0; i < rounds; i++) for (const [name, argv] of Object.entries(runcCommands)) t2[name].push(once(argv));
    const b2 = median(t2['node -e 0']);
    console.log(`\n${rounds} rounds, interleaved; median wall time per command\n`);
    console.log('command'.padEnd(36) + 'median ms'.padStart(10) + '  vs node -e 0');
    for (const [name, xs] of Object.entries(t2))
      console.log(name.padEnd(36) + median(xs).toFixed(2).padStart(10) + `  ${(median(xs) / b2).toFixed(2)}x`);
    const r2 = median(t2['ts-runc run (true)']) / b2;
    console.log(
      `\nts-runc run / node -e 0 = ${r2.toFixed(2)}x (budget 1.5x): ${r2 <= 1.5 ? 'within budget' : 'OVER BUDGET'}`,
    );
    if (haveRunc)
      console.log(
        `ts-runc run / runc run = ${(median(t2['ts-runc run (true)']) / median(t2['runc run (true)'])).toFixed(1)}x`,
      );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

spawnSync(process.execPath, [join(root, 'scripts/bench-pods.mjs')], { stdio: 'inherit', env }); // the pods: ts-runc vs runc under CRI-O and containerd (scripts/bench-pods.mjs)
