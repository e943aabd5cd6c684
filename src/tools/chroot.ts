// ts-chroot: coreutils chroot(1), over real system calls, plus --pivot
// (pivot_root in a new mount namespace, the way container runtimes do it).
import { ToolSpec, flag, value } from '../cli/options.js';
import { runTool } from '../cli/run.js';
import { UsageError } from '../cli/errors.js';
import { CHROOT_FAILED, runChroot } from '../core/chroot.js';

export const spec: ToolSpec = {
  name: 'ts-chroot',
  usage: '[OPTION] NEWROOT [COMMAND [ARG]...]',
  summary: "Run COMMAND with root directory set to NEWROOT.\nIf no command is given, run '\"$SHELL\" -i' (default: '/bin/sh -i').",
  options: [
    { long: 'groups', arg: 'required', valueSep: '=', value: 'G_LIST', help: 'specify supplementary groups as g1,g2,..,gN' },
    { long: 'userspec', arg: 'required', valueSep: '=', value: 'USER:GROUP', help: 'specify user and group (ID or name) to use' },
    { long: 'skip-chdir', help: "do not change working directory to '/'" },
    { long: 'pivot', help: 'pivot_root(2) into NEWROOT in a new mount namespace and unmount the old root, instead of chroot(2)' },
    // coreutils: --help and --version have no short forms (-h is an invalid option).
    { long: 'trace', help: 'print each system call and its result on stderr', gap: true },
    { long: 'help', help: 'display this help' },
    { long: 'version', help: 'display version' },
  ],
  docs: 'docs/chroot.md',
  usageExitCode: CHROOT_FAILED,
  epilog:
    'Exit status: 125 if ts-chroot itself fails, 126 if COMMAND is found but cannot be invoked, 127 if COMMAND cannot be found, the exit status of COMMAND otherwise. With --trace, every system call is printed with its result.',
};

runTool(spec, (cmd) => {
  const [newRoot, ...command] = cmd.rest;
  if (newRoot === undefined) throw new UsageError('missing operand');
  return runChroot({
    newRoot,
    command,
    userspec: value(cmd, 'userspec'),
    groups: value(cmd, 'groups'),
    skipChdir: flag(cmd, 'skip-chdir'),
    pivot: flag(cmd, 'pivot'),
  });
});
