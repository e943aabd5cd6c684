// Running a step's command: on the host in a fresh bash, or in a session (a
// long-lived shell, e.g. inside `ts-unshare -fp --mount-proc bash`, that
// keeps its namespaces, variables and working directory between steps).
import { spawn, ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export interface CommandResult {
  exit: number | null;
  output: string;
  /** Set when the command did not finish: hung, or its session died. */
  error?: string;
}

/** Run a command as setpriv's unprivileged nobody (uid and gid 65534, no groups). */
const AS_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'];

function argvFor(script: string, as?: 'nobody'): string[] {
  const bash = ['bash', '--norc', '--noprofile', '-c', script];
  return as === 'nobody' ? [...AS_NOBODY, ...bash] : bash;
}

/** Host commands still running: killed when the lab is interrupted. */
const running = new Set<ChildProcess>();

export function killRunningCommands(): void {
  for (const child of running) killGroup(child);
}

/** Is any process still in process group `pgid`? (field 5 of /proc/PID/stat) */
function groupHasMembers(pgid: number): boolean {
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) return true;
    } catch {
      // gone
    }
  }
  return false;
}

/** Kill a whole process group we started (spawned with detached: true). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export interface HostCommandOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  as?: 'nobody';
  timeoutSeconds: number;
}

/** Run `script` in a new bash on the host; stdout and stderr merged in order. */
export function runOnHost(script: string, opts: HostCommandOptions): Promise<CommandResult> {
  return new Promise((resolve) => {
    const argv = argvFor(`{ ${script}\n} 2>&1`, opts.as);
    // detached: its own process group, so a hung step's whole tree can be killed.
    const child = spawn(argv[0]!, argv.slice(1), {
      env: opts.env,
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    running.add(child);
    let output = '';
    let error: string | undefined;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => {
      error = `still running after ${opts.timeoutSeconds} s; stopped`;
      killGroup(child);
    }, opts.timeoutSeconds * 1000);
    child.on('error', (err) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ exit: null, output, error: err.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ exit: code ?? (signal ? 128 + (signalNumbers[signal] ?? 0) : null), output, error });
    });
  });
}

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGTERM: 15,
};

/** PIDs below `pid` (children, grandchildren, ...), deepest last. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let text: string;
      try {
        text = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim();
      } catch {
        continue;
      }
      for (const c of text ? text.split(/\s+/).map(Number) : []) {
        out.push(c);
        walk(c);
      }
    }
  };
  walk(pid);
  return out;
}

/**
 * A long-lived shell. Each command is sent on its stdin followed by a marker
 * line carrying `$?`, and the output up to the marker is the command's.
 */
export class Session {
  readonly name: string;
  readonly describe: string;
  private child?: ChildProcess;
  private buffer = '';
  private waiting?: { token: string; resolve: (r: CommandResult) => void };
  private exited = false;
  private counter = 0;
  /** The session shell's PID as the host sees it (for ts-nsenter -t, /proc/PID/ns). */
  shellPid?: number;

  constructor(name: string, describe: string) {
    this.name = name;
    this.describe = describe;
  }

  async start(start: string, opts: HostCommandOptions): Promise<CommandResult> {
    // stderr into stdout before the program starts: what it prints while
    // starting (errors, --trace lines) arrives in order with the rest.
    const argv = argvFor(`exec 2>&1; exec ${start}`, opts.as);
    const child = spawn(argv[0]!, argv.slice(1), {
      env: opts.env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => this.received(d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => this.received(d));
    child.stdin!.on('error', () => {
      // the shell went away; 'exit' reports it
    });
    child.on('error', (err) => this.finish(err.message));
    child.on('exit', (code, signal) => {
      this.exited = true;
      this.finish(`the session '${this.name}' ended (${signal ? `killed by ${signal}` : `exit status ${code}`})`);
    });
    // Make the shell send its errors the same way as its output, then wait
    // until it answers: that proves the namespaces were made.
    const ready = await this.run('exec 2>&1; true', opts.timeoutSeconds);
    if (!ready.error && child.pid !== undefined) {
      const below = descendants(child.pid);
      this.shellPid = below.at(-1) ?? child.pid;
    }
    return ready;
  }

  private received(data: string): void {
    this.buffer += data;
    const w = this.waiting;
    if (!w) return;
    const marker = `\n${w.token} `;
    const at = this.buffer.indexOf(marker);
    if (at < 0) return;
    const end = this.buffer.indexOf('\n', at + marker.length);
    if (end < 0) return;
    const status = Number(this.buffer.slice(at + marker.length, end));
    const output = this.buffer.slice(0, at);
    this.buffer = this.buffer.slice(end + 1);
    this.waiting = undefined;
    w.resolve({ exit: status, output });
  }

  private finish(why: string): void {
    const w = this.waiting;
    if (!w) return;
    this.waiting = undefined;
    const output = this.buffer;
    this.buffer = '';
    w.resolve({ exit: null, output, error: why });
  }

  get alive(): boolean {
    return !!this.child && !this.exited;
  }

  run(script: string, timeoutSeconds: number): Promise<CommandResult> {
    if (!this.alive)
      return Promise.resolve({ exit: null, output: '', error: `the session '${this.name}' is not running` });
    const token = `__NSLAB_DONE_${process.pid}_${++this.counter}__`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.finish(`no answer from the session '${this.name}' after ${timeoutSeconds} s`);
        void this.stop();
      }, timeoutSeconds * 1000);
      this.waiting = {
        token,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      // stdin of the command is /dev/null: a command that reads input must
      // not swallow the next ones. Braces, not a subshell: cd and variables persist.
      this.child!.stdin!.write(`{ ${script}\n} </dev/null; printf '\\n%s %d\\n' ${token} $?\n`);
      this.received('');
    });
  }

  /** End the session: EOF first (the shell exits), then kill what is left of its process group. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return;
    child.stdin!.end();
    const gone = await new Promise<boolean>((resolve) => {
      if (this.exited) return resolve(true);
      const timer = setTimeout(() => resolve(false), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    // Background jobs left in the session's process group go too: we started
    // them. Only while the group still has members, so that a reused number
    // can never hit someone else's processes.
    if (!gone || groupHasMembers(child.pid!)) killGroup(child, 'SIGKILL');
  }
}
