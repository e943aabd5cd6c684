// Command lines as util-linux and coreutils parse them: getopt_long (see
// getopt.ts for the rules) over a table of options, the result by long name.
// --help is rendered here from the same table, in util-linux's layout.
import { ArgKind, LongOption, getoptLong } from './getopt.js';
import { UsageError } from './errors.js';

export interface OptionSpec {
  long: string;
  short?: string;
  /** 'required': --opt VALUE or --opt=VALUE; 'optional': only --opt=VALUE (and -oVALUE). */
  arg?: 'required' | 'optional';
  /** The short form's argument when it differs: unshare's -n takes none, --net[=FILE] one. */
  shortArg?: ArgKind;
  /** Placeholder in --help: <file>. */
  value?: string;
  /** How --help joins a required value: ' ' (--setuid <uid>, the default) or '=' (--root=<dir>). */
  valueSep?: ' ' | '=';
  /** Description in --help; '\n' starts an indented continuation line. */
  help: string;
  /** May be given several times; values are collected in order. */
  repeat?: boolean;
  /** --help leaves a blank line before this option: util-linux's option groups. */
  gap?: boolean;
  /**
   * Checks the value as the option is read (throws to refuse it), the way
   * util-linux's option loop does: a bad value is reported before any
   * mistake later on the command line.
   */
  check?: (value: string | undefined) => void;
}

export interface ToolSpec {
  name: string;
  /** Text after the name in "Usage: name ..." */
  usage: string;
  summary: string;
  options: OptionSpec[];
  /** Stop at the first non-option (the program to run), getopt's '+'. Default true. */
  stopAtPositional?: boolean;
  /** A word such as -1.2.3.4/24 is an operand, not options (tools that follow iproute2). */
  dashDigitOperands?: boolean;
  /** More text after the options in --help. */
  epilog?: string;
  /** Our documentation page, named on --help's last line: docs/unshare.md. */
  docs?: string;
  /**
   * The order of the real tool's long option table, where it differs from
   * --help's: getopt lists ambiguous prefixes in that order. Names not listed
   * follow, in --help's order.
   */
  longOrder?: string[];
  /** Exit status for a bad command line: 1 (util-linux) unless set (coreutils chroot: 125). */
  usageExitCode?: number;
}

export type OptionValue = string | true | string[];

export interface ParsedCommandLine {
  /** By long name: true for a flag, the value (or '' for an optional value left out) otherwise. */
  opts: Record<string, OptionValue | undefined>;
  /** The program and its arguments, or the positional operands. */
  rest: string[];
}

export const COMMON_OPTIONS: OptionSpec[] = [
  { long: 'trace', help: 'print each system call and its result on stderr', gap: true },
  { long: 'help', short: 'h', help: 'display this help' },
  { long: 'version', short: 'V', help: 'display version' },
];

/** The tool's options, then the common ones it does not define itself. */
export function allOptions(spec: ToolSpec): OptionSpec[] {
  const own = new Set(spec.options.map((o) => o.long));
  return [...spec.options, ...COMMON_OPTIONS.filter((o) => !own.has(o.long))];
}

function keyOf(o: OptionSpec): string {
  return o.short ?? `--${o.long}`;
}

/** getopt's optstring and long option table for a spec. */
export function getoptTables(spec: ToolSpec): { optstring: string; longopts: LongOption[] } {
  const options = allOptions(spec);
  let optstring = (spec.stopAtPositional ?? true) ? '+' : '';
  for (const o of options) {
    if (!o.short) continue;
    const kind = o.shortArg ?? o.arg ?? 'none';
    optstring += o.short + (kind === 'required' ? ':' : kind === 'optional' ? '::' : '');
  }
  const rank = new Map((spec.longOrder ?? []).map((name, i) => [name, i]));
  const ordered = options
    .map((o, i) => ({ o, r: rank.get(o.long) ?? rank.size + i }))
    .sort((a, b) => a.r - b.r)
    .map(({ o }) => o);
  return { optstring, longopts: ordered.map((o) => ({ name: o.long, has: o.arg ?? 'none', key: keyOf(o) })) };
}

export function parseCommandLine(
  spec: ToolSpec,
  argv: readonly string[],
  env: { POSIXLY_CORRECT?: string } = process.env,
): ParsedCommandLine {
  const options = allOptions(spec);
  const { optstring, longopts } = getoptTables(spec);
  const parsed = getoptLong(argv, optstring, longopts, env, { dashDigitOperands: spec.dashDigitOperands });
  const byKey = new Map(options.map((o) => [keyOf(o), o]));
  const opts: Record<string, OptionValue | undefined> = {};
  for (const { key, value } of parsed.options) {
    const o = byKey.get(key)!;
    o.check?.(value);
    if (!o.arg) opts[o.long] = true;
    else if (o.repeat) opts[o.long] = [...((opts[o.long] as string[] | undefined) ?? []), value ?? ''];
    else opts[o.long] = value ?? '';
    // util-linux prints help or version as soon as it reads the option; what follows is never looked at.
    if (o.long === 'help' || o.long === 'version') return { opts: { [o.long]: true }, rest: [] };
  }
  if (parsed.error) throw new UsageError(parsed.error.message, spec.name);
  return { opts, rest: parsed.operands };
}

// ---- --help

const HELP_WIDTH = 80;
/** Option columns wider than this put the description on the next line. */
const MAX_LEFT = 28;

function optionColumn(o: OptionSpec): string {
  const head = o.short ? ` -${o.short}, --${o.long}` : `     --${o.long}`;
  const v = o.value ?? '<arg>';
  if (o.arg === 'optional') return `${head}[=${v}]`;
  if (o.arg === 'required') return `${head}${o.valueSep ?? ' '}${v}`;
  return head;
}

/** `text` in lines that fit: the first after `first` columns, the others after `indent`. */
function wrapText(text: string, first: number, indent: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let room = HELP_WIDTH - (lines.length ? indent : first);
    if (paragraph.length <= room) {
      lines.push(paragraph);
      continue;
    }
    let line = '';
    for (const word of paragraph.split(' ')) {
      if (line && line.length + 1 + word.length > room) {
        lines.push(line);
        room = HELP_WIDTH - indent;
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
  }
  return lines;
}

/** Prose wrapped to the width; indented lines (tables, command lists) kept as they are. */
function prose(text: string): string[] {
  return text.split('\n').flatMap((line) => (line.startsWith(' ') ? [line] : wrapText(line, 0, 0)));
}

/** --help in util-linux's layout: Usage, summary, grouped options, epilog, where the docs are. */
export function renderHelp(spec: ToolSpec): string {
  const options = allOptions(spec);
  const lefts = options.map(optionColumn);
  const col = Math.min(MAX_LEFT, Math.max(...lefts.map((l) => l.length))) + 2;
  const lines = ['', 'Usage:', ` ${spec.name} ${spec.usage}`, '', ...prose(spec.summary), '', 'Options:'];
  options.forEach((o, i) => {
    if (o.gap && i > 0) lines.push('');
    const [first, ...more] = wrapText(o.help, col, col + 2);
    if (lefts[i].length > col - 2) lines.push(lefts[i], ' '.repeat(col) + first);
    else lines.push(lefts[i].padEnd(col) + first);
    for (const m of more) lines.push(' '.repeat(col + 2) + m);
  });
  if (spec.epilog) lines.push('', ...prose(spec.epilog));
  if (spec.docs) lines.push('', `For more details see ${spec.docs}.`);
  return lines.join('\n') + '\n';
}

export function flag(p: ParsedCommandLine, name: string): boolean {
  return p.opts[name] !== undefined;
}

export function value(p: ParsedCommandLine, name: string): string | undefined {
  const v = p.opts[name];
  if (v === undefined || v === true) return undefined;
  return Array.isArray(v) ? v[v.length - 1] : v;
}

export function values(p: ParsedCommandLine, name: string): string[] {
  const v = p.opts[name];
  if (v === undefined || v === true) return [];
  return Array.isArray(v) ? v : [v];
}
