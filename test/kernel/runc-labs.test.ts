// The two ts-runc labs under ts-lab check, in a throwaway network and mount
// namespace (--sandbox), as CI runs them.
import t from 'tap';
import { inventory, isRoot, registerLeftoverCheck, runTool } from '../helpers/tools.js';

const before = inventory();
const skip = isRoot() ? false : 'needs root (CI runs as root)';

for (const lab of ['runc-lifecycle', 'runc-config']) {
  t.test(`ts-lab check ${lab}`, { skip }, async (t) => {
    const r = runTool('lab', ['check', '--sandbox', '--json', lab], { timeout: 300_000 });
    t.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    const result = report.labs?.[0] ?? report[0];
    t.equal(
      result?.outcome,
      'pass',
      JSON.stringify(result?.steps?.filter((s: { outcome: string }) => s.outcome !== 'pass') ?? report),
    );
    t.same(result?.leftovers ?? [], [], 'the lab leaves nothing behind');
  });
}

registerLeftoverCheck(t, before);
