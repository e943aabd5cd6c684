// ts-recvtty: runc's contrib/cmd/recvtty. Listen on a unix socket, receive
// a container's pty master over SCM_RIGHTS (ts-runc --console-socket), and
// connect it to this terminal (--mode single), or read and drop what it
// says, for any number of containers (--mode null).
import { closeSync, unlinkSync, writeFileSync } from 'node:fs';
import { ToolSpec, value } from '../cli/options.js';
import { runTool } from '../cli/run.js';
import { UsageError } from '../cli/errors.js';
import { relayPty } from '../cli/pty-relay.js';
import { acceptConsole, listenConsoleSocket, receiveFd } from '../runtime/console.js';

const spec: ToolSpec = {
  name: 'ts-recvtty',
  usage: '[--mode single|null] [--pid-file FILE] SOCKET',
  summary:
    "Receive a container's terminal (a pty master sent over a unix socket, as ts-runc --console-socket does) and connect it to this one.",
  options: [
    {
      long: 'mode',
      short: 'm',
      arg: 'required',
      value: 'MODE',
      help: 'single: one container, connected to this terminal (default); null: any number, their output dropped',
    },
    { long: 'pid-file', arg: 'required', value: 'FILE', help: 'write the pid of this process to FILE' },
  ],
  stopAtPositional: false,
};

runTool(spec, async (cmd) => {
  const mode = value(cmd, 'mode') ?? 'single';
  if (mode !== 'single' && mode !== 'null') throw new UsageError(`invalid mode '${mode}' (single or null)`);
  if (cmd.rest.length !== 1) throw new UsageError(cmd.rest.length ? 'too many arguments' : 'missing SOCKET');
  const path = cmd.rest[0]!;
  const listener = listenConsoleSocket(path);
  const pidFile = value(cmd, 'pid-file');
  if (pidFile) writeFileSync(pidFile, `${process.pid}\n`);
  const stop = () => {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.on('exit', stop);
  for (;;) {
    const conn = acceptConsole(listener);
    const { fd } = receiveFd(conn);
    closeSync(conn);
    if (mode === 'single') {
      closeSync(listener);
      await relayPty(fd);
      return 0;
    }
    // null: drop the output in the background and take the next container.
    void relayPty(fd, { discard: true });
    await new Promise((r) => setImmediate(r));
  }
});
