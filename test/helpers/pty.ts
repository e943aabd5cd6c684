// Drive an interactive program under a real terminal with tmux.
import { spawnSync } from 'node:child_process';

function tmux(args: string[]): string {
  const r = spawnSync('tmux', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export class TmuxSession {
  readonly name: string;
  constructor(command: string, opts: { width?: number; height?: number } = {}) {
    this.name = `nslab-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    tmux(['new-session', '-d', '-s', this.name, '-x', String(opts.width ?? 160), '-y', String(opts.height ?? 50), command]);
    tmux(['set-option', '-t', this.name, 'remain-on-exit', 'on']);
  }
  send(...keys: string[]): void {
    tmux(['send-keys', '-t', this.name, ...keys]);
  }
  type(text: string): void {
    tmux(['send-keys', '-t', this.name, '-l', text]);
  }
  screen(): string {
    return tmux(['capture-pane', '-p', '-t', this.name, '-S', '-200']);
  }
  /** The pane's command ended: its exit status, else undefined. */
  exitStatus(): number | undefined {
    const out = tmux(['display-message', '-p', '-t', this.name, '#{pane_dead} #{pane_dead_status}']).trim().split(' ');
    return out[0] === '1' ? Number(out[1]) : undefined;
  }
  async waitFor(pred: (screen: string) => boolean, timeoutMs = 15_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    let s = '';
    while (Date.now() < end) {
      s = this.screen();
      if (pred(s)) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting; screen was:\n${s}`);
  }
  kill(): void {
    spawnSync('tmux', ['kill-session', '-t', this.name]);
  }
}
