// Connect a pty master to this process's terminal: keystrokes go to the
// master, what the container writes comes to stdout, the local terminal is
// raw while it lasts and its size follows ours. For ts-runc run/exec with a
// terminal, and ts-recvtty.
import { writeSync } from 'node:fs';
import { cfunc } from '../syscalls/libc.js';

const TIOCSWINSZ = 0x5414;

function copySize(master: number): void {
  const out = process.stdout;
  if (!out.isTTY || !out.columns) return;
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(out.rows, 0);
  ws.writeUInt16LE(out.columns, 2);
  cfunc('int ioctl(int, unsigned long, void *)')(master, TIOCSWINSZ, ws);
}

function writeAll(fd: number, data: Buffer): void {
  for (let off = 0; off < data.length;) {
    try {
      off += writeSync(fd, data, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}

/**
 * Relay until the pty has no writer left (EIO on the master once every
 * slave fd is closed). `discard`: read and drop (recvtty --mode null).
 */
export function relayPty(master: number, opts: { discard?: boolean } = {}): Promise<void> {
  const tty = process.getBuiltinModule('node:tty') as typeof import('node:tty');
  const input = process.stdin;
  const interactive = !opts.discard;
  const raw = interactive && input.isTTY;
  copySize(master);
  const onWinch = () => copySize(master);
  if (raw) {
    input.setRawMode(true);
    process.on('SIGWINCH', onWinch);
  }
  const onInput = (d: Buffer) => writeAll(master, d);
  if (interactive) input.on('data', onInput);
  const stream = new tty.ReadStream(master);
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      if (interactive) {
        input.off('data', onInput);
        input.pause();
      }
      if (raw) {
        input.setRawMode(false);
        process.off('SIGWINCH', onWinch);
      }
      stream.destroy();
      resolve();
    };
    stream.on('data', (d: Buffer) => {
      if (!opts.discard) writeAll(1, d);
    });
    stream.on('error', finish); // EIO: the last slave is closed
    stream.on('end', finish);
    stream.on('close', finish);
  });
}
