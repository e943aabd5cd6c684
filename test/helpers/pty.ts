// Drive an interactive program under a real terminal with tmux.
import { spawnSync } from 'node:child_process';

// Each session has a tmux server of its own (-L), so tests never share one.
function tmux(args: string[]): string {
  // Through `env -u NODE_OPTIONS`: the tmux server passes its environment on
  // to the pane, and the test runner's preload must not reach the tools.
  const r = spawnSync('env', ['-u', 'NODE_OPTIONS', 'tmux', '-f', '/dev/null', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export class TmuxSession {
  readonly name: string;
  constructor(command: string, opts: { width?: number; height?: number; env?: Record<string, string> } = {}) {
    this.name = `nslab-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    // Start an idle pane, keep it after its command ends, then start the
    // command in it: no race with a command that ends at once.
    this.tmux([
      'new-session',
      '-d',
      '-s',
      this.name,
      '-x',
      String(opts.width ?? 160),
      '-y',
      String(opts.height ?? 50),
      'sleep 600',
    ]);
    this.tmux(['set-option', '-t', this.name, 'remain-on-exit', 'on']);
    const env = Object.entries(opts.env ?? {})
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(' ');
    this.tmux(['respawn-pane', '-k', '-t', this.name, env ? `env ${env} ${command}` : command]);
  }
  private tmux(args: string[]): string {
    return tmux(['-L', this.name, ...args]);
  }
  send(...keys: string[]): void {
    this.tmux(['send-keys', '-t', this.name, ...keys]);
  }
  type(text: string): void {
    this.tmux(['send-keys', '-t', this.name, '-l', text]);
  }
  screen(): string {
    return this.tmux(['capture-pane', '-p', '-t', this.name, '-S', '-200']);
  }
  /** The PID of the pane's command (what respawn-pane started). */
  panePid(): number {
    return Number(this.tmux(['display-message', '-p', '-t', this.name, '#{pane_pid}']).trim());
  }
  /** The pane's command ended: its exit status, else undefined. */
  exitStatus(): number | undefined {
    // tmux may show the pane dead a moment before it has the status: poll on.
    const [dead, status, signal] = this.tmux([
      'display-message',
      '-p',
      '-t',
      this.name,
      '#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}',
    ])
      .trim()
      .split(':');
    if (dead !== '1') return undefined;
    if (signal) return 128 + Number(signal);
    return status === '' ? undefined : Number(status);
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
    spawnSync('env', ['-u', 'NODE_OPTIONS', 'tmux', '-L', this.name, 'kill-server']);
  }
}
