// A container runtime's create/start in two commands, on the child plan's
// barrier (src/syscalls/plan.ts):
//
//   plan-barrier --fifo PATH [--pid-file FILE] [--chdir DIR] [--ids N] [--trace] PROGRAM [ARG...]
//
// starts PROGRAM's process, lets it do its setup (here: an optional chdir
// and change of ids), and leaves it blocked opening PATH for writing; this
// command then exits, printing the child's PID. Whoever opens PATH for
// reading later (`cat PATH`) reads one byte "0" and lets the program run.
// Used by test/kernel/plan-barrier.test.ts.
import { writeFileSync } from 'node:fs';
import { ToolSpec, value } from '../cli/options.js';
import { runTool } from '../cli/run.js';
import { UsageError } from '../cli/errors.js';
import { chdirCall } from '../syscalls/mount.js';
import { setgidCall, setgroupsCall, setuidCall } from '../syscalls/identity.js';
import { programCalls, startProgram } from '../core/program.js';

const spec: ToolSpec = {
  name: 'plan-barrier',
  usage: '--fifo PATH [--pid-file FILE] [--chdir DIR] [--ids N] PROGRAM [ARG...]',
  summary: 'Start PROGRAM in a child that waits until someone opens the fifo PATH for reading, and exit.',
  options: [
    { long: 'fifo', arg: 'required', value: '<path>', help: 'the fifo the child waits on' },
    { long: 'pid-file', arg: 'required', value: '<file>', help: "write the child's PID here" },
    { long: 'chdir', arg: 'required', value: '<dir>', help: 'a setup step before the barrier' },
    { long: 'ids', arg: 'required', value: '<n>', help: 'setup steps before the barrier: no groups, gid and uid N' },
  ],
};

runTool(spec, (cmd) => {
  const fifo = value(cmd, 'fifo');
  if (!fifo) throw new UsageError('--fifo is required');
  if (!cmd.rest.length) throw new UsageError('no program given');
  const dir = value(cmd, 'chdir');
  const ids = value(cmd, 'ids');
  if (ids !== undefined && !/^\d+$/.test(ids)) throw new UsageError(`invalid id '${ids}'`);
  const setup = [
    ...(dir ? [chdirCall(dir)] : []),
    ...(ids ? [setgroupsCall(), setgidCall(Number(ids)), setuidCall(Number(ids))] : []),
  ];
  const child = startProgram([...setup, ...programCalls(cmd.rest)], { barrier: { fifo, tool: spec.name } });
  const pidFile = value(cmd, 'pid-file');
  if (pidFile) writeFileSync(pidFile, `${child.pid}\n`);
  else writeFileSync(1, `${child.pid}\n`);
  return 0;
});
