// getopt_long(3) as glibc has it, which is what util-linux and coreutils
// parse their command lines with: same rules, same error texts. Pure (no
// module loaded, no I/O), so every tool pays nothing for it at start-up.
//
// The rules, as glibc applies them:
// - optstring lists the short options: "x" takes no argument, "x:" requires
//   one (attached, -xVALUE, or the next word, even one starting with '-'),
//   "x::" takes one only attached (-xVALUE). Short options bundle: -fp.
// - A leading '+' in optstring (or POSIXLY_CORRECT in the environment) stops
//   at the first non-option; otherwise non-options are set aside and the
//   options after them are still parsed (GNU permutation). '-' alone is a
//   non-option. '--' ends the options in both modes. (glibc's third mode, a
//   leading '-' that returns non-options in order, is used by none of our
//   tools and not implemented.)
// - Long options: --name, --name=value, and for a required argument also
//   --name value. An optional argument attaches only with '='. Any
//   unambiguous prefix of a name is accepted; an exact name wins over longer
//   names it is a prefix of; a prefix matching options that differ (in
//   argument kind or in what they stand for) is ambiguous.
// - The first error ends the parse (util-linux exits at the first '?').
//   getoptLong() returns it with the options read before it.

export type ArgKind = 'none' | 'required' | 'optional';

export interface LongOption {
  name: string;
  has: ArgKind;
  /** What the option stands for: the short letter it is an alias of, or its own key. */
  key: string;
}

export interface ParsedOption {
  key: string;
  /** undefined: no argument given (a flag, or an optional argument left out). */
  value?: string;
}

export interface GetoptResult {
  /** The options in order, up to the first error if there is one. */
  options: ParsedOption[];
  /** Non-options in order, then everything after '--' (empty after an error). */
  operands: string[];
  /**
   * What getopt refused. The options before it are still given: util-linux
   * acts on each option as it comes (--help exits, a bad value is reported),
   * so a mistake after them is never reached.
   */
  error?: GetoptError;
}

/** A command line getopt refuses; message is glibc's text without the "prog: " prefix. */
export class GetoptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GetoptError';
  }
}

function shortKind(optstring: string, c: string): ArgKind | undefined {
  // ':' and ';' are optstring syntax, never options.
  if (c === ':' || c === ';') return undefined;
  const body = optstring.replace(/^[+-]?:?/, '');
  const i = body.indexOf(c);
  if (i < 0) return undefined;
  if (body[i + 1] !== ':') return 'none';
  return body[i + 2] === ':' ? 'optional' : 'required';
}

/** Exact name first; else the prefix matches, ambiguous if they differ. */
function findLong(longopts: readonly LongOption[], name: string, text: string): LongOption {
  const exact = longopts.find((o) => o.name === name);
  if (exact) return exact;
  const matches = longopts.filter((o) => o.name.startsWith(name));
  if (matches.length === 0) throw new GetoptError(`unrecognized option '--${text}'`);
  const first = matches[0];
  const differing = matches.filter((o) => o === first || o.has !== first.has || o.key !== first.key);
  if (differing.length > 1)
    throw new GetoptError(
      `option '--${text}' is ambiguous; possibilities:${differing.map((o) => ` '--${o.name}'`).join('')}`,
    );
  return first;
}

/**
 * Beyond glibc: `dashDigitOperands` makes a word like "-1.2.3.4/24" or "-5"
 * an operand, for tools whose reference reads its own words (iproute2's ip
 * calls such a word a bad address, not options -1, -., ...).
 */
export interface GetoptExtras {
  dashDigitOperands?: boolean;
}

export function getoptLong(
  argv: readonly string[],
  optstring: string,
  longopts: readonly LongOption[] = [],
  env: { POSIXLY_CORRECT?: string } = {},
  extras: GetoptExtras = {},
): GetoptResult {
  const options: ParsedOption[] = [];
  try {
    return { options, operands: scan(argv, optstring, longopts, env, options, extras) };
  } catch (err) {
    if (err instanceof GetoptError) return { options, operands: [], error: err };
    throw err;
  }
}

function scan(
  argv: readonly string[],
  optstring: string,
  longopts: readonly LongOption[],
  env: { POSIXLY_CORRECT?: string },
  options: ParsedOption[],
  extras: GetoptExtras,
): string[] {
  const inOrder = optstring.startsWith('+') || env.POSIXLY_CORRECT !== undefined;
  const skipped: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const word = argv[i];
    if (word === '--') {
      i++;
      break;
    }
    if (!word.startsWith('-') || word === '-' || (extras.dashDigitOperands && /^-\d/.test(word))) {
      if (inOrder) break;
      skipped.push(word);
      i++;
      continue;
    }
    i++;
    if (word.startsWith('--')) {
      const text = word.slice(2);
      const eq = text.indexOf('=');
      const name = eq < 0 ? text : text.slice(0, eq);
      const o = findLong(longopts, name, text);
      if (eq >= 0) {
        if (o.has === 'none') throw new GetoptError(`option '--${o.name}' doesn't allow an argument`);
        options.push({ key: o.key, value: text.slice(eq + 1) });
      } else if (o.has === 'required') {
        if (i >= argv.length) throw new GetoptError(`option '--${o.name}' requires an argument`);
        options.push({ key: o.key, value: argv[i++] });
      } else {
        options.push({ key: o.key });
      }
      continue;
    }
    // A bundle of short options: -fp, -t123, -w/tmp.
    for (let j = 1; j < word.length; j++) {
      const c = word[j];
      const kind = shortKind(optstring, c);
      if (kind === undefined) throw new GetoptError(`invalid option -- '${c}'`);
      if (kind === 'none') {
        options.push({ key: c });
        continue;
      }
      const attached = word.slice(j + 1);
      if (attached !== '') options.push({ key: c, value: attached });
      else if (kind === 'optional') options.push({ key: c });
      else if (i < argv.length) options.push({ key: c, value: argv[i++] });
      else throw new GetoptError(`option requires an argument -- '${c}'`);
      break;
    }
  }
  return [...skipped, ...argv.slice(i)];
}
