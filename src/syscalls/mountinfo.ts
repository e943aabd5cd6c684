// The one reader of /proc/PID/mountinfo (proc(5)): every layer that needs
// the mount table (cgroup hierarchies, lsns's nsfs bind mounts, netns, the
// labs' checks, the inventory and the doctor) asks here.
import { readFileSync } from 'node:fs';

export interface MountInfo {
  mountId: number;
  parentId: number;
  /** "major:minor" of the file system. */
  device: string;
  /** The path inside the file system that is mounted here (for nsfs: "net:[4026531840]"). */
  root: string;
  mountPoint: string;
  /** Per-mount options: rw, nosuid, ... */
  mountOptions: string[];
  /** shared:N, master:N, propagate_from:N, unbindable. */
  optionalFields: string[];
  fstype: string;
  source: string;
  /** Per-superblock options: for a v1 cgroup hierarchy, its controllers. */
  superOptions: string[];
}

/** proc(5): space, tab, newline and backslash in paths are written as \ooo. */
export function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parse the text of a mountinfo file; lines that do not have its shape are skipped. */
export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const fields = line.split(' ');
    // The optional fields end with a lone "-" (proc(5)).
    const dash = fields.indexOf('-', 6);
    if (dash < 0 || fields.length < dash + 3) continue;
    out.push({
      mountId: Number(fields[0]),
      parentId: Number(fields[1]),
      // dash >= 6 and dash + 2 < fields.length: every field below exists.
      device: fields[2]!,
      root: unescapeMountField(fields[3]!),
      mountPoint: unescapeMountField(fields[4]!),
      mountOptions: fields[5]!.split(','),
      optionalFields: fields.slice(6, dash),
      fstype: fields[dash + 1]!,
      source: unescapeMountField(fields[dash + 2]!),
      superOptions: (fields[dash + 3] ?? '').split(','),
    });
  }
  return out;
}

/** The mount table of a process (default: the caller's own mount namespace). */
export function readMountInfo(pid: number | 'self' = 'self'): MountInfo[] {
  return parseMountInfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
}
