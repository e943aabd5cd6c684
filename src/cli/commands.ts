// A command table dispatched one way, used by ts-image and ts-cri: each
// command parses its own options, counts its operands, and its usage errors
// point at its own --help. ts-cgroup, ts-lab, ts-veth and ts-runc still
// dispatch their own tables, with wordings their tests and users rely on
// (issue 19 leaves that open).
import { writeSync } from 'node:fs';
import { OptionSpec, ParsedCommandLine, ToolSpec, flag, parseCommandLine, renderHelp } from './options.js';
import { UsageError } from './errors.js';

export interface Command {
  usage: string;
  summary: string;
  options?: OptionSpec[];
  /** How many operands it takes; one more is refused, not ignored. */
  operands: [min: number, max: number];
  /** Options only before the first operand (the rest is a program to run). */
  stopAtPositional?: boolean;
  run: (cmd: ParsedCommandLine) => number | void;
}

export interface CommandTable {
  tool: string;
  commands: Record<string, Command>;
  /** Words a domain error as the tool would (throws the ToolError), or rethrows. */
  describe: (err: unknown) => never;
  /** Checked after parsing, before the command runs (e.g. "needs root"). */
  before?: (name: string) => void;
}

/** The "Commands:" lines of the tool's --help. */
export function commandList(table: Record<string, Command>): string {
  return Object.values(table)
    .map((c) => `  ${c.usage}`)
    .join('\n');
}

export async function dispatch(table: CommandTable, top: ParsedCommandLine): Promise<number | void> {
  const [name, ...args] = top.rest;
  if (name === undefined) throw new UsageError(`missing command (${Object.keys(table.commands).join(', ')})`);
  const command = Object.hasOwn(table.commands, name) ? table.commands[name] : undefined;
  if (!command) throw new UsageError(`unknown command '${name}'`);
  const sub: ToolSpec = {
    name: `${table.tool} ${name}`,
    usage: command.usage.replace(/^\S+\s*/, ''),
    summary: command.summary,
    options: command.options ?? [],
    stopAtPositional: command.stopAtPositional ?? false,
  };
  const cmd = parseCommandLine(sub, args);
  if (flag(cmd, 'help')) {
    writeSync(1, (await renderHelp(sub)) + '\n');
    return 0;
  }
  const usage = (message: string) => new UsageError(message, sub.name);
  const [min, max] = command.operands;
  if (cmd.rest.length < min) throw usage(`${name}: missing operand (usage: ${table.tool} ${command.usage})`);
  if (cmd.rest.length > max) throw usage(`${name}: unexpected argument '${cmd.rest[max]}'`);
  table.before?.(name);
  try {
    return command.run(cmd);
  } catch (err) {
    if (err instanceof UsageError && !err.command) throw usage(err.message);
    return table.describe(err);
  }
}
