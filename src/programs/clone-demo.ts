// The clone() demo of lab 13, in TypeScript: one clone(2) call creates new
// network, UTS, mount, IPC, PID and user namespaces at once, and the child
// runs a program there (bash by default).
//
//   clone-demo [--trace] [--hostname NAME] [PROGRAM [ARG...]]
//
// The child gets no uid_map on purpose, as in the classic C demo: inside, it
// is the overflow user (nobody), yet it holds every capability over the
// namespaces its new user namespace owns, so it can make / private and mount
// a /proc of its own before it execs. Node cannot run JavaScript in a forked
// child, so everything the child does is a plan of libc calls (plan.ts).
import { ToolSpec, value } from '../cli/options.js';
import { runTool } from '../cli/run.js';
import { CLONE, MS } from '../syscalls/constants.js';
import { mountCall, propagationCall } from '../syscalls/mount.js';
import { sethostnameCall } from '../syscalls/uts.js';
import { programCalls, runInChild } from '../core/program.js';

const spec: ToolSpec = {
  name: 'clone-demo',
  usage: '[--hostname NAME] [PROGRAM [ARG...]]',
  summary: 'Run PROGRAM in new net, UTS, mount, IPC, PID and user namespaces created by a single clone(2).',
  options: [
    { long: 'hostname', arg: 'required', value: '<name>', help: 'set this host name in the new UTS namespace' },
  ],
};

const FLAGS =
  CLONE.CLONE_NEWNET |
  CLONE.CLONE_NEWUTS |
  CLONE.CLONE_NEWNS |
  CLONE.CLONE_NEWIPC |
  CLONE.CLONE_NEWPID |
  CLONE.CLONE_NEWUSER;

runTool(spec, (cmd) => {
  const hostname = value(cmd, 'hostname');
  const calls = [
    // Keep the new /proc from propagating back to the parent's mount namespace.
    propagationCall(MS.MS_REC | MS.MS_PRIVATE),
    // The child is PID 1 of the new PID namespace: a proc mounted now shows that namespace.
    mountCall('proc', '/proc', 'proc', MS.MS_NOSUID | MS.MS_NODEV | MS.MS_NOEXEC, null, 'mount /proc'),
    ...(hostname ? [sethostnameCall(hostname)] : []),
    ...programCalls(cmd.rest.length ? cmd.rest : ['bash'], { login: false }),
  ];
  return runInChild(calls, { cloneFlags: FLAGS });
});
