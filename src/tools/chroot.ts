// ts-chroot: coreutils chroot(1), over real system calls, plus --pivot
// (pivot_root in a new mount namespace, the way container runtimes do it).
import { ToolSpec, flag, value } from '../cli/options.js';
import { Described, runTool } from '../cli/run.js';
import { UsageError } from '../cli/errors.js';
import { ExecError, SyscallError, errnoText } from '../syscalls/errors.js';
import { RootChangesError, UnknownIdError, runChroot } from '../core/chroot.js';

/** coreutils' EXIT_CANCELED: ts-chroot itself failed (126/127 for the command are run.ts's). */
const CHROOT_FAILED = 125;

/** 'X' as coreutils quotes a name in messages (quoteaf, C locale). */
function quoted(name: string): string {
  return `'${name.replace(/'/g, `'\\''`)}'`;
}

/** coreutils' words and statuses for what the library reports. */
function describe(err: unknown): Described | undefined {
  if (err instanceof ExecError)
    return { message: `failed to run command ${quoted(err.file)}: ${errnoText(err.errno)}` };
  if (err instanceof UnknownIdError) {
    // coreutils names the value only for --groups; the hint names it always.
    const message = err.from === 'groups' ? `invalid group ${quoted(err.value)}` : `invalid ${err.id}`;
    return {
      message,
      hint: `no ${err.id} ${quoted(err.value)} in /etc/${err.id === 'user' ? 'passwd' : 'group'}`,
      exitCode: CHROOT_FAILED,
    };
  }
  if (err instanceof RootChangesError)
    return {
      message: "option --skip-chdir only permitted if NEWROOT is old '/'",
      usage: true,
      exitCode: CHROOT_FAILED,
    };
  if (
    err instanceof SyscallError &&
    (err.code === 'EPERM' || err.code === 'EACCES') &&
    /^(chroot|unshare|mount)$/.test(err.call)
  )
    return {
      hint: 'chroot(2) needs CAP_SYS_CHROOT (and --pivot CAP_SYS_ADMIN): run as root, or as root of a user namespace (ts-unshare -r ts-chroot ...)',
      exitCode: CHROOT_FAILED,
    };
  if (err instanceof UsageError) return undefined;
  return { exitCode: CHROOT_FAILED };
}

const spec: ToolSpec = {
  name: 'ts-chroot',
  usage: '[OPTION] NEWROOT [COMMAND [ARG]...]',
  summary:
    "Run COMMAND with root directory set to NEWROOT.\nIf no command is given, run '\"$SHELL\" -i' (default: '/bin/sh -i').",
  options: [
    {
      long: 'groups',
      arg: 'required',
      valueSep: '=',
      value: 'G_LIST',
      help: 'specify supplementary groups as g1,g2,..,gN',
    },
    {
      long: 'userspec',
      arg: 'required',
      valueSep: '=',
      value: 'USER:GROUP',
      help: 'specify user and group (ID or name) to use',
    },
    { long: 'skip-chdir', help: "do not change working directory to '/'" },
    {
      long: 'pivot',
      help: 'pivot_root(2) into NEWROOT in a new mount namespace and unmount the old root, instead of chroot(2)',
    },
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

runTool(
  spec,
  (cmd) => {
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
  },
  { describe },
);
