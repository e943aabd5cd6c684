// Which labs are running now, in any terminal: each runner holds a file
// /run/nslab/running/<lab>.<pid> holding "<pid> <start time>" (the start
// time from /proc/PID/stat, so a PID reused after a crash is not taken for
// the runner). `ts-lab reset` leaves those labs alone. A sandboxed run's own
// /run is the sandbox's, so the ts-lab outside, which waits for it, holds
// the file on the host.
import { mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function runningDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.NSLAB_RUNNING_DIR ?? '/run/nslab/running';
}

/** Field 22 of /proc/PID/stat (after the command name, which may hold spaces). */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Mark these labs as running in this process until the returned function (or the process's exit) removes the marks. */
export function markRunning(labIds: string[], pid = process.pid): () => void {
  const dir = runningDir();
  const files: string[] = [];
  for (const id of labIds) {
    const file = join(dir, `${id}.${pid}`);
    // Twice: another runner may remove the empty directory between our mkdir and our write.
    for (let attempt = 0; attempt < 2; attempt++)
      try {
        mkdirSync(dir, { recursive: true, mode: 0o755 });
        writeFileSync(file, `${pid} ${startTime(pid) ?? ''}\n`);
        files.push(file);
        break;
      } catch {
        // Not root (a rootless check): nothing to protect from a reset, which needs root too.
      }
  }
  const release = () => {
    for (const f of files.splice(0)) rmSync(f, { force: true });
    // The directories go with the last mark: nothing of ours stays in /run.
    for (const d of [dir, dirname(dir)])
      try {
        rmdirSync(d);
      } catch {
        break; // not empty (another lab runs), or not ours to remove
      }
  };
  process.once('exit', release);
  return release;
}

/** Lab id -> PIDs of the runners alive now; marks of runners that are gone are removed. */
export function runningLabs(): Map<string, number[]> {
  const dir = runningDir();
  const found = new Map<string, number[]>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return found;
  }
  for (const name of names) {
    const m = /^(.+)\.(\d+)$/.exec(name);
    if (!m) continue;
    let content: string;
    try {
      content = readFileSync(join(dir, name), 'utf8');
    } catch {
      continue;
    }
    const [pidText, started] = content.trim().split(' ');
    const pid = Number(pidText);
    if (pid > 0 && startTime(pid) !== undefined && startTime(pid) === started)
      found.set(m[1], [...(found.get(m[1]) ?? []), pid]);
    else rmSync(join(dir, name), { force: true });
  }
  return found;
}
