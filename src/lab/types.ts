// The shape of a lab file (labs/*.json). A lab is data: the engine knows
// nothing about any experiment, it only runs commands and evaluates checks.

/** Where a command runs: on the host (a fresh `bash -c`), or in a named session. */
export type Place = 'host' | string;

/**
 * One expectation about a step. The matchers (exit, match, contains, ...)
 * apply to the step's own output and exit status, unless `probe` gives a
 * command whose output and status they apply to instead (a predicate on the
 * system: "is the tmpfs in the host's mount table?"). `predicate` names one
 * of the engine's built-in system predicates (see checks.ts).
 */
export interface Check {
  /** What the check proves, shown next to its mark: "PID 1 is bash". */
  that: string;
  exit?: number | 'nonzero';
  /** A regular expression (multiline) the output must match. */
  match?: string;
  notMatch?: string;
  contains?: string;
  notContains?: string;
  /** In words, what match (or notMatch) looks for, shown instead of the pattern when the check fails: "a default route via 10.44.0.1". */
  expect?: string;
  /** A command run after the step (on the host unless `in` says otherwise); host probes see the step's output in $STEP_OUTPUT. */
  probe?: { run: string; in?: Place };
  predicate?: PredicateSpec;
  /** Shown when the check fails: what went wrong and what to try. */
  hint?: string;
}

export type PredicateSpec =
  /** A mount point is (or is not) in the host's mount table (the lab runner's mount namespace). */
  | { name: 'host-mount'; path: string; present: boolean }
  /** The session's namespace of this type is (or is not) the host's. */
  | { name: 'namespace'; session: string; type: string; same: boolean }
  /** /proc/1/comm as the session sees it. */
  | { name: 'pid1'; session: string; comm: string };

export interface Step {
  id: string;
  /** What the student is about to see and why it matters. */
  explain: string;
  /** The command, exactly as shown to the student. Runs in bash. */
  run: string;
  in?: Place;
  /** Run the command as this user instead of root (rootless experiments). */
  as?: 'nobody';
  needs?: Requirement;
  /** Seconds before the step is considered hung (default 60). */
  timeout?: number;
  checks?: Check[];
  /**
   * Checked before the command runs; if one fails the command is not run.
   * Safety for commands that would change the host if the namespace were
   * missing (hostname, ip addr): "the session has its own UTS namespace".
   */
  guard?: Check[];
  /** Keep part of the output for later host commands and probes: $VAR = the regex's first group. */
  capture?: { var: string; match: string };
  /** Shown after the checks, whatever their result: what to take away. */
  note?: string;
}

export interface SessionSpec {
  /** The long-lived process; it must read shell commands on stdin (bash, sh). */
  start: string;
  as?: 'nobody';
  /** What the session stands for, shown in guided mode: "a shell in a new PID namespace". */
  describe: string;
}

/** Without these the lab (or step) is skipped with the reason, never passed. */
export interface Requirement {
  /**
   * Binaries needed on PATH (ts-* tools included); the skip reason says how to install each.
   * An entry may be `${VAR:-default}`: the program the student chose through an environment variable (or a path).
   */
  binaries?: string[];
  /** The lab runs only inside the sandbox (`--sandbox`, or CI): it makes networks or daemons that must never reach the host. */
  sandbox?: boolean;
  root?: boolean;
  /** An unprivileged user may create user namespaces here (rootless steps). */
  userNamespaces?: boolean;
  /** A file that must exist (e.g. /proc/sys/user/max_user_namespaces). */
  files?: string[];
  /** Controllers a cgroup made below the lab's own cgroup must be able to get (memory, pids, ...). */
  cgroupControllers?: string[];
}

export interface Lab {
  id: string;
  /** Position in the series; labs are listed in this order. */
  order: number;
  /** How long the lab takes a student in guided mode, reading included (ts-lab list, docs/teaching.md). */
  minutes?: number;
  /** On the suggested two-hour path through the series (ts-lab list marks it). */
  core?: boolean;
  title: string;
  /** Paragraphs in our own words. */
  intro: string[];
  needs?: Requirement;
  sessions?: Record<string, SessionSpec>;
  /** Run before the steps, not shown as steps (setup the student need not type). */
  setup?: string[];
  steps: Step[];
  /** Said at the end of the lab, in our own words: what was built, the system calls that did it, one command to try next. */
  recap?: { built: string; syscalls: string[]; next: string };
  /** Always runs, after success, failure or Ctrl-C. Each line runs on its own; failures are reported, not fatal. */
  cleanup?: string[];
  /**
   * What the lab makes under names another program chooses (a CNI plugin's
   * veth1234abcd): glob patterns (* matches anything) tried on a leftover's
   * name and full path. Everything its commands name is its own already
   * (src/lab/leftovers.ts).
   */
  owns?: string[];
  /** Where the file came from (filled in by the loader). */
  file?: string;
}

export interface Exercise {
  id: string;
  title: string;
  /** The task, in our own words; no solution. */
  task: string[];
  /** Revealed one at a time by `ts-lab exercise NAME --hint N`. */
  hints: string[];
  needs?: Requirement;
  /** Checks on the system state after the student's work; matchers apply to each probe. */
  grader: Check[];
  /** Run by ts-lab reset, one by one: undo what the exercise asks for (its pid file, cgroup, processes), never anything it cannot be sure is the student's. */
  reset?: string[];
  file?: string;
}

export type Outcome = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  that: string;
  outcome: Outcome;
  /** Why it failed or was skipped. */
  why?: string;
  hint?: string;
}

export interface StepResult {
  id: string;
  outcome: Outcome;
  command: string;
  in: Place;
  exit: number | null;
  output: string;
  checks: CheckResult[];
  skipReason?: string;
  error?: string;
  /** Sessions this step started, with what their program printed while starting (its --trace lines). */
  sessions?: Array<{ name: string; command: string; output: string }>;
}

export interface LabResult {
  id: string;
  title: string;
  outcome: Outcome;
  skipReason?: string;
  steps: StepResult[];
  /** Cleanup commands that failed, and anything the lab left behind. */
  cleanupProblems: string[];
  leftovers: string[];
  /** The step the run started at (ts-lab run --from); the steps before it ran without pauses. */
  from?: string;
  /** Changes during the lab that it could not have made (another program's mounts, links, cgroups): shown, never failing it. */
  unrelated?: string[];
}
