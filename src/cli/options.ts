// Command lines with getopt_long's rules, as util-linux and coreutils have
// them: bundled short flags (-fp), options stop at the program's name, `--`
// ends options, and an optional argument attaches only with '=' (--net=FILE),
// so `-n ip link` runs ip. yargs-parser does the parsing; the two getopt
// rules it lacks (optional arguments, stopping at the program) are handled
// here. --help is rendered by yargs, loaded only when asked for.
import yargsParser from 'yargs-parser';
import { UsageError } from '../syscalls/errors.js';

// The tools run as CommonJS bundles (scripts/build.mjs), where __filename exists.
declare const __filename: string;

export interface OptionSpec {
  long: string;
  short?: string;
  /** 'required': --opt VALUE or --opt=VALUE; 'optional': only --opt=VALUE. */
  arg?: 'required' | 'optional';
  /** Placeholder in --help: <file>. */
  value?: string;
  help: string;
  /** May be given several times; values are collected in order. */
  repeat?: boolean;
}

export interface ToolSpec {
  name: string;
  /** Text after the name in "Usage: name ..." */
  usage: string;
  summary: string;
  options: OptionSpec[];
  /** Stop at the first non-option (the program to run). Default true. */
  stopAtPositional?: boolean;
  /** More text after the options in --help. */
  epilog?: string;
  /** Exit status for a bad command line: 1 (util-linux) unless set (coreutils chroot: 125). */
  usageExitCode?: number;
}

export type OptionValue = string | true | string[];

export interface ParsedCommandLine {
  /** By long name: true for a flag, the value (or '' for --opt with no =value) otherwise. */
  opts: Record<string, OptionValue | undefined>;
  /** The program and its arguments, or the positional operands. */
  rest: string[];
}

export const COMMON_OPTIONS: OptionSpec[] = [
  { long: 'trace', help: 'print each system call and its result on stderr' },
  { long: 'help', short: 'h', help: 'display this help' },
  { long: 'version', short: 'V', help: 'display version' },
];

function allOptions(spec: ToolSpec): OptionSpec[] {
  const own = new Set(spec.options.map((o) => o.long));
  return [...spec.options, ...COMMON_OPTIONS.filter((o) => !own.has(o.long))];
}

/** Index of the first operand (program name), following getopt's rules. */
function operandIndex(argv: readonly string[], options: OptionSpec[], stopAtPositional: boolean): { index: number; dashdash: boolean } {
  const byLong = new Map(options.map((o) => [o.long, o]));
  const byShort = new Map(options.filter((o) => o.short).map((o) => [o.short!, o]));
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i];
    if (tok === '--') return { index: i + 1, dashdash: true };
    if (tok.startsWith('--')) {
      const o = byLong.get(tok.slice(2).split('=')[0]);
      if (o?.arg === 'required' && !tok.includes('=')) i++;
      continue;
    }
    if (tok.startsWith('-') && tok.length > 1) {
      for (let j = 1; j < tok.length; j++) {
        const o = byShort.get(tok[j]);
        if (o?.arg === 'required') {
          if (j === tok.length - 1) i++;
          break;
        }
      }
      continue;
    }
    if (stopAtPositional) return { index: i, dashdash: false };
  }
  return { index: argv.length, dashdash: false };
}

export function parseCommandLine(spec: ToolSpec, argv: readonly string[]): ParsedCommandLine {
  const options = allOptions(spec);
  const stop = spec.stopAtPositional ?? true;
  const { index, dashdash } = operandIndex(argv, options, stop);
  const optionPart = argv.slice(0, dashdash ? index - 1 : index);
  let rest = argv.slice(index);

  // getopt optional arguments: --name=value only. yargs-parser would drop the
  // value of a boolean, so take it out here and parse the bare flag.
  const optionalValues = new Map<string, string>();
  const optional = new Set(options.filter((o) => o.arg === 'optional').map((o) => o.long));
  const tokens = optionPart.map((tok) => {
    const m = /^--([^=]+)=(.*)$/s.exec(tok);
    if (m && optional.has(m[1])) {
      optionalValues.set(m[1], m[2]);
      return `--${m[1]}`;
    }
    return tok;
  });

  const parsed = yargsParser(tokens, {
    boolean: options.filter((o) => !o.arg || o.arg === 'optional').flatMap((o) => [o.long]),
    string: options.filter((o) => o.arg === 'required').map((o) => o.long),
    alias: Object.fromEntries(options.filter((o) => o.short).map((o) => [o.long, o.short!])),
    configuration: {
      'camel-case-expansion': false,
      'boolean-negation': false,
      'dot-notation': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'duplicate-arguments-array': true,
      'flatten-duplicate-arrays': true,
      'short-option-groups': true,
      'strip-aliased': true,
      'greedy-arrays': false,
      'unknown-options-as-args': false,
    },
  });

  const known = new Set(options.flatMap((o) => (o.short ? [o.long, o.short] : [o.long])));
  for (const key of Object.keys(parsed)) {
    if (key === '_' || known.has(key)) continue;
    const longForm = tokens.find((t) => t === `--${key}` || t.startsWith(`--${key}=`));
    throw new UsageError(longForm ? `unrecognized option '${longForm.split('=')[0]}'` : `invalid option -- '${key}'`);
  }
  // Operands that yargs-parser found among the options (only when not stopping at positionals).
  if (!stop) rest = [...parsed._.map(String), ...rest];

  const opts: Record<string, OptionValue | undefined> = {};
  for (const o of options) {
    let v = parsed[o.long] as string | boolean | Array<string | boolean> | undefined;
    if (v === undefined || v === false) continue;
    const given = (Array.isArray(v) ? v : [v]).filter((x) => x !== false);
    if (given.length === 0) continue;
    if (o.arg === 'required') {
      const values = given.map(String);
      if (values.some((x) => x === '' || x === 'true')) {
        const lastTok = tokens[tokens.length - 1];
        if (lastTok === `--${o.long}` || lastTok === `-${o.short}` || lastTok?.endsWith(o.short ?? '\0'))
          throw new UsageError(o.short ? `option requires an argument -- '${o.short}'` : `option '--${o.long}' requires an argument`);
      }
      opts[o.long] = o.repeat ? values : values[values.length - 1];
    } else if (o.arg === 'optional') {
      opts[o.long] = optionalValues.get(o.long) ?? '';
    } else {
      opts[o.long] = true;
    }
  }
  return { opts, rest };
}

/** --help text, rendered by yargs from the same option table. */
export async function renderHelp(spec: ToolSpec): Promise<string> {
  // Loaded only for --help: yargs is the slowest module a tool could load.
  const { createRequire } = process.getBuiltinModule('node:module') as typeof import('node:module');
  const req = createRequire(__filename);
  const yargs = req('yargs/yargs') as (args: string[]) => import('yargs').Argv;
  let y = yargs([])
    .scriptName(spec.name)
    .usage(`Usage:\n  ${spec.name} ${spec.usage}\n\n${spec.summary}`)
    .help(false)
    .version(false)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .parserConfiguration({ 'camel-case-expansion': false });
  for (const o of allOptions(spec)) {
    // Shown getopt-style: "--net[=<file>]" for optional values, "--root <dir>" for required ones.
    const shown = o.arg === 'optional' ? `${o.help} [=${o.value ?? '<value>'}]` : o.arg === 'required' ? `${o.help} <${(o.value ?? 'value').replace(/^<|>$/g, '')}>` : o.help;
    y = y.option(o.long, { alias: o.short, describe: shown });
  }
  if (spec.epilog) y = y.epilog(spec.epilog);
  return y.getHelp();
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
