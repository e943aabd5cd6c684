// --trace and the program's own output share stderr. The parent's trace of
// the child is finished before the child execs, and every trace line is one
// write: so no line may mix the two (cat writes "cat: " and the rest of its
// message in separate writes, and a trace line used to land in between).
import t from 'tap';
import { runTool } from '../helpers/tools.js';

const RUNS = 20;

t.test(
  `ts-unshare --trace -r cat /etc/shadow as nobody, ${RUNS} times: trace lines and cat's line stay whole`,
  async (t) => {
    const bad: string[] = [];
    let traced = 0;
    for (let i = 0; i < RUNS; i++) {
      const r = runTool('unshare', ['--trace', '-r', 'cat', '/etc/shadow'], { as: 'nobody' });
      if (r.code !== 1) bad.push(`run ${i}: exit ${r.code}: ${r.stderr}`);
      const lines = r.stderr.split('\n').filter(Boolean);
      const program = lines.filter((l) => !/^\[(pid \d+|ts-unshare \d+)\] \S/.test(l));
      if (program.length !== 1 || program[0] !== 'cat: /etc/shadow: Permission denied')
        bad.push(`run ${i}: ${JSON.stringify(program)}`);
      if (lines.some((l) => l.startsWith('[pid') && /execvp\("cat"/.test(l))) traced++;
    }
    t.equal(traced, RUNS, "every run traced the child's exec");
    t.same(bad, [], "every run: cat's one line, whole, and nothing but whole trace lines besides");
  },
);
