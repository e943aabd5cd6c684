// OOM notifications, the way each version delivers them:
// - v1: create an eventfd, open memory.oom_control, and write
//   "<eventfd> <oom_control fd>" to cgroup.event_control; the kernel bumps
//   the eventfd on every OOM in the cgroup, and once more when the cgroup
//   is removed. The oom_kill line of memory.oom_control counts the kills.
// - v2: memory.events is a file the kernel marks modified (inotify, poll)
//   whenever a counter in it changes: max, oom, oom_kill.
import { existsSync, watch as watchFile } from 'node:fs';
import { posix } from 'node:path';
import { CgroupDir } from './hierarchy.js';
import { parseKeyedFile, readOptionalFile, writeCgroupFile } from './files.js';
import { eventfd, onEventfd, openReadOnly } from '../syscalls/eventfd.js';

export interface OomWatch {
  /** How events arrive, for the user: which files and calls. */
  how: string;
  stop(): void;
}

/** Calls `wake` whenever the kernel says something happened to the cgroup's memory. */
export function watchOomEvents(c: CgroupDir, wake: () => void, onError: (err: Error) => void): OomWatch {
  if (c.hierarchy.version === 1) {
    const efd = eventfd();
    const ofd = openReadOnly(posix.join(c.dir, 'memory.oom_control'));
    writeCgroupFile(c.dir, 'cgroup.event_control', `${efd} ${ofd}`);
    const cancel = onEventfd(efd, () => {
      wake();
      // The kernel signals once more when the cgroup is removed; nothing follows.
      return existsSync(c.dir);
    }, onError);
    return { how: `eventfd ${efd} registered in cgroup.event_control for memory.oom_control (fd ${ofd})`, stop: cancel };
  }
  const watcher = watchFile(posix.join(c.dir, 'memory.events'), () => wake());
  watcher.on('error', () => wake());
  return { how: 'inotify on memory.events', stop: () => watcher.close() };
}

/** The OOM-kill counter: v1 memory.oom_control "oom_kill", v2 memory.events "oom_kill". */
export function oomKillCount(c: CgroupDir): number | undefined {
  const file = c.hierarchy.version === 1 ? 'memory.oom_control' : 'memory.events';
  return parseKeyedFile(readOptionalFile(c.dir, file)).oom_kill;
}
