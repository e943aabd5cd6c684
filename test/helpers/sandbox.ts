// A throwaway place for network experiments: a holder process (started by
// the test, so the test may enter it) in a new network namespace with no
// uplink and a private mount namespace with its own tmpfs on /run (mode
// 755, as on a host, so only root may make /run/netns). Every
// command of a test runs in there through nsenter, so no packet can leave
// the machine and no /run/netns file or bind mount reaches the host.
// stop() ends the holder; with it go the outer namespace, the /run tmpfs,
// the bind mounts on it and so every namespace and link made inside.
import { spawn, ChildProcess } from 'node:child_process';
import { asNobody, run, RunOptions, RunResult } from './tools.js';

/** The environment without the test runner's variables (tap preloads code through NODE_OPTIONS). */
function toolEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (k !== 'NODE_OPTIONS' && !k.startsWith('TAP') && !k.startsWith('_TAP')) env[k] = v;
  return env;
}

export class NetSandbox {
  private constructor(
    private readonly holder: ChildProcess,
    readonly pid: number,
  ) {}

  static start(): Promise<NetSandbox> {
    const holder = spawn(
      'unshare',
      [
        '--net',
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount -t tmpfs -o mode=755 nslab-test-run /run && echo ready && exec sleep infinity',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: toolEnv() },
    );
    return new Promise((resolve, reject) => {
      let out = '';
      holder.on('error', reject);
      holder.on('exit', (code) => reject(new Error(`sandbox holder exited (${code}) before it was ready`)));
      holder.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('ready')) resolve(new NetSandbox(holder, holder.pid!));
      });
    });
  }

  /** Run argv inside the sandbox (as root, or as nobody through setpriv). */
  run(argv: string[], opts: RunOptions = {}): RunResult {
    const inner = opts.as === 'nobody' ? asNobody(argv) : argv;
    return run(['env', '-u', 'NODE_OPTIONS', 'nsenter', '-t', String(this.pid), '-n', '-m', '--', ...inner], {
      ...opts,
      as: undefined,
      env: opts.env ?? toolEnv(),
    });
  }

  sh(script: string, opts: RunOptions = {}): RunResult {
    return this.run(['sh', '-c', script], opts);
  }

  /** Names of the links in the sandbox (or in its named netns `ns`), as ip sees them. */
  links(ns?: string): string[] {
    const r = this.run(['ip', ...(ns ? ['-n', ns] : []), '-j', 'link']);
    return (JSON.parse(r.stdout) as Array<{ ifname: string }>).map((l) => l.ifname).sort();
  }

  netnsFiles(): string[] {
    const r = this.run(['sh', '-c', 'ls -1 /run/netns 2>/dev/null || true']);
    return r.stdout.split('\n').filter(Boolean).sort();
  }

  /** What the sandbox holds: links here and in each named netns, and the netns files. */
  inventory(): { netns: string[]; links: Record<string, string[]> } {
    const netns = this.netnsFiles();
    const links: Record<string, string[]> = { '': this.links() };
    for (const ns of netns) links[ns] = this.links(ns);
    return { netns, links };
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.holder.exitCode !== null || this.holder.signalCode !== null) return resolve();
      this.holder.removeAllListeners('exit');
      this.holder.on('exit', () => resolve());
      this.holder.kill('SIGKILL');
    });
  }
}
