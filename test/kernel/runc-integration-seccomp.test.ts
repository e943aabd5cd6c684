// runc v1.1.5's own seccomp tests (its bats integration suite, offline, in
// ../shared/conformance) run against runc and then against ts-runc in the
// same run: every test that passes with runc must pass with ts-runc. The
// script lists such regressions (BASELINE=runc's output) with their output.
import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectCgroups } from '../../src/cgroup/hierarchy.js';
import { isRoot, ROOT, run, tool } from '../helpers/tools.js';

const FILES = ['seccomp.bats', 'seccomp-notify.bats', 'seccomp-notify-compat.bats'];
const script = join(ROOT, '..', 'shared', 'conformance', 'run-runc-integration.sh');
const missing = ['bats', 'jq', 'gawk', 'script', 'gcc'].filter((c) => run(['sh', '-c', `command -v ${c}`]).code !== 0);
const runc = run(['sh', '-c', 'command -v runc']).stdout.trim();
const skip = !isRoot()
  ? 'needs root (CI runs as root)'
  : !existsSync(script)
    ? "runc's integration suite (../shared/conformance) is not beside the clone"
    : missing.length
      ? `needs ${missing.join(', ')} (scripts/setup-vm.sh installs them)`
      : !runc
        ? 'runc is not installed (the oracle)'
        : false;

/**
 * runc's suite makes its containers' cgroups at the top of each hierarchy
 * (/runc-cgroups-integration-test/...), and a failing test may leave them:
 * the empty ones this run made are removed, deepest first.
 */
function suiteCgroups(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      if (!d.isDirectory()) continue;
      found.push(join(dir, d.name));
      walk(join(dir, d.name));
    }
  };
  for (const h of detectCgroups().hierarchies) {
    const top = join(h.mountPoint, 'runc-cgroups-integration-test');
    if (existsSync(top)) {
      found.push(top);
      walk(top);
    }
  }
  return found.sort((a, b) => b.length - a.length);
}

function removeEmpty(dirs: string[]): string[] {
  const left: string[] = [];
  for (const d of dirs) {
    try {
      if (readFileSync(join(d, 'cgroup.procs'), 'utf8').trim() === '') rmdirSync(d);
      else left.push(d);
    } catch {
      if (existsSync(d)) left.push(d);
    }
  }
  return left;
}

interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  text: string;
}

function runSuite(runtime: string, out: string, baseline?: string): Summary {
  const env: NodeJS.ProcessEnv = { ...process.env, OUT: out, PATH: `${join(ROOT, 'bin')}:${process.env.PATH}` };
  if (baseline) env.BASELINE = baseline;
  const r = run(['bash', script, runtime, ...FILES], { env, timeout: 1_500_000 });
  const m = r.stdout.match(/^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/m);
  return {
    passed: Number(m?.[1] ?? 0),
    failed: Number(m?.[2] ?? -1),
    skipped: Number(m?.[3] ?? 0),
    text: r.stdout + r.stderr,
  };
}

t.test("runc's seccomp tests: ts-runc passes every one runc passes", { skip }, async (t) => {
  const preexisting = new Set(suiteCgroups());
  const dir = mkdtempSync(join(tmpdir(), 'nslab-runc-it-'));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const base = runSuite(runc, join(dir, 'runc'));
  t.ok(
    base.passed > 0,
    `runc passes some of them (${base.passed} passed, ${base.failed} failed, ${base.skipped} skipped)`,
    { output: base.text.slice(-2000) },
  );
  let ours = runSuite(tool('runc'), join(dir, 'ts-runc'), join(dir, 'runc'));
  let regressionsFile = join(dir, 'ts-runc', 'regressions.txt');
  let regressions = existsSync(regressionsFile) ? readFileSync(regressionsFile, 'utf8') : '';
  // The harness's reaper kills recvtty processes whose parent is not bats
  // every 3 s, but runc's setup_recvtty double-forks recvtty: a tick between
  // a test's setup and its run leaves the console socket with no listener
  // (ECONNREFUSED), for either runtime. Only that failure earns one more run.
  const blocks = regressions.split(/^=== /m).filter((b) => b.trim());
  if (blocks.length && blocks.every((b) => /failed to connect to the console socket .*ECONNREFUSED/.test(b))) {
    t.comment(`console socket refused by a reaped recvtty in ${blocks.length} test(s): running ts-runc's side again`);
    ours = runSuite(tool('runc'), join(dir, 'ts-runc-again'), join(dir, 'runc'));
    regressionsFile = join(dir, 'ts-runc-again', 'regressions.txt');
    regressions = existsSync(regressionsFile) ? readFileSync(regressionsFile, 'utf8') : '';
  }
  t.comment(
    `runc: ${base.passed} passed, ${base.failed} failed, ${base.skipped} skipped; ts-runc: ${ours.passed} passed, ${ours.failed} failed, ${ours.skipped} skipped`,
  );
  const names = [...regressions.matchAll(/^=== (.*)$/gm)].map((m) => m[1]);
  t.ok(existsSync(regressionsFile), 'the comparison with runc ran');
  t.equal(
    regressions.trim(),
    '',
    `no test fails with ts-runc that passes with runc${names.length ? ': ' + names.join('; ') : ''}`,
  );
  t.ok(ours.passed >= base.passed, `ts-runc passes at least as many (${ours.passed} against ${base.passed})`);
  const left = removeEmpty(suiteCgroups().filter((d) => !preexisting.has(d)));
  t.same(left, [], "the suite's cgroups are gone");
});
