// ts-lsns: util-linux lsns(8): list namespaces, as a table, raw, JSON, or a
// tree of which user namespace owns which namespace (-T).
import { ToolSpec, flag, value, values } from '../cli/options.js';
import { Described, runTool } from '../cli/run.js';
import { Column, Row, renderTable, toBytes } from '../cli/table.js';
import { ToolError } from '../cli/errors.js';
import { NAMESPACES, NamespaceName } from '../syscalls/namespaces.js';
import {
  NamespaceInfo,
  NamespaceNotFoundError,
  TreeRelation,
  addRelations,
  collectNamespaces,
  namespacePath,
  namespaceTree,
  netnsId,
  nsfsMounts,
  ownerName,
  readProcesses,
  selectNamespaces,
} from '../core/lsns.js';

const COLUMNS: Record<
  string,
  {
    help: string;
    number?: boolean;
    right?: boolean;
    truncate?: boolean;
    minWidth?: number;
    cell: (n: NamespaceInfo) => string | number | undefined;
  }
> = {
  NS: { minWidth: 10, help: 'namespace identifier (inode number)', number: true, cell: (n) => n.ns },
  TYPE: { help: 'kind of namespace', cell: (n) => n.type },
  PATH: { help: 'path to the namespace', cell: (n) => namespacePath(n) },
  NPROCS: { minWidth: 5, help: 'number of processes in the namespace', number: true, cell: (n) => n.processes.length },
  PID: { minWidth: 5, help: 'lowest PID in the namespace', number: true, cell: (n) => n.processes[0]?.pid },
  PPID: { minWidth: 5, help: 'PPID of the PID', number: true, cell: (n) => n.processes[0]?.ppid },
  COMMAND: { help: 'command line of the PID', truncate: true, cell: (n) => n.processes[0]?.command },
  UID: { help: 'UID of the PID', number: true, cell: (n) => n.processes[0]?.uid ?? n.ownerUid },
  USER: { help: 'username of the PID', cell: (n) => ownerName(n.processes[0]?.uid ?? n.ownerUid) },
  NETNSID: { right: true, help: 'namespace ID as used by network subsystem', cell: (n) => netnsId(n) },
  NSFS: {
    help: 'nsfs mountpoint (usually used network subsystem)',
    cell: (n) => (nsfs ??= nsfsMounts()).get(n.ns)?.join(','),
  },
  PNS: {
    minWidth: 10,
    help: 'parent namespace identifier (inode number)',
    number: true,
    cell: (n) => (addRelations(n), n.parent ?? 0),
  },
  ONS: {
    minWidth: 10,
    help: 'owner namespace identifier (inode number)',
    number: true,
    cell: (n) => (addRelations(n), n.owner ?? 0),
  },
};
let nsfs: Map<number, string[]> | undefined;
const DEFAULT_COLUMNS = ['NS', 'TYPE', 'NPROCS', 'PID', 'USER', 'COMMAND'];

const spec: ToolSpec = {
  name: 'ts-lsns',
  usage: '[options] [<namespace>]',
  summary: 'List system namespaces.',
  stopAtPositional: false,
  options: [
    { long: 'json', short: 'J', help: 'use JSON output format' },
    { long: 'list', short: 'l', help: 'use list format output' },
    { long: 'noheadings', short: 'n', help: "don't print headings" },
    {
      long: 'output',
      short: 'o',
      arg: 'required',
      repeat: true,
      value: '<list>',
      help: 'define which output columns to use (+LIST adds to the default)',
    },
    { long: 'output-all', help: 'output all columns' },
    { long: 'task', short: 'p', arg: 'required', value: '<pid>', help: 'print process namespaces' },
    { long: 'raw', short: 'r', help: 'use the raw output format' },
    { long: 'notruncate', short: 'u', help: "don't truncate text in columns" },
    { long: 'nowrap', short: 'W', help: "don't use multi-line representation" },
    {
      long: 'type',
      short: 't',
      arg: 'required',
      repeat: true,
      value: '<name>',
      help: 'namespace type (mnt, net, ipc, user, pid, uts, cgroup, time)',
    },
    { long: 'tree', short: 'T', arg: 'optional', value: '<rel>', help: 'use tree format (parent, owner, or process)' },
  ],
  epilog: `Available output columns:\n${Object.entries(COLUMNS)
    .map(([name, c]) => `${name.padStart(12)}  ${c.help}`)
    .join(
      '\n',
    )}\n\nPNS and ONS come from the NS_GET_PARENT and NS_GET_USERNS ioctls on the namespace files; --trace prints them.`,
  docs: 'docs/lsns.md',
  // util-linux's table order: ambiguous prefixes (--no) list their possibilities in it.
  longOrder: [
    'json',
    'task',
    'help',
    'output',
    'output-all',
    'notruncate',
    'version',
    'noheadings',
    'nowrap',
    'list',
    'raw',
    'type',
    'tree',
  ],
};

function parseColumns(lists: string[], all: boolean, types: Set<NamespaceName> | undefined): string[] {
  if (all) return Object.keys(COLUMNS);
  // Listing only network namespaces, util-linux adds what matters for them.
  let columns =
    types?.size === 1 && types.has('net')
      ? ['NS', 'TYPE', 'NPROCS', 'PID', 'USER', 'NETNSID', 'NSFS', 'COMMAND']
      : DEFAULT_COLUMNS;
  for (const list of lists) {
    const add = list.startsWith('+');
    const names = (add ? list.slice(1) : list)
      .split(',')
      .filter(Boolean)
      .map((n) => n.toUpperCase());
    for (const n of names) {
      if (!COLUMNS[n]) throw new ToolError(`unknown column: ${n}`);
    }
    columns = add ? [...columns, ...names] : names;
  }
  return columns;
}

function parseTypes(names: string[]): Set<NamespaceName> | undefined {
  if (!names.length) return undefined;
  return new Set(
    names.map((t) => {
      const ns = NAMESPACES.find((n) => n.name === t);
      if (!ns) throw new ToolError(`unknown namespace type: ${t}`);
      return ns.name;
    }),
  );
}

// util-linux's bad values are one line (errx), no usage hint; a number too
// large for the type is refused, not cut down.
function parseNumber(text: string, what: 'PID' | 'namespace', max: bigint): bigint {
  if (!/^\d+$/.test(text)) throw new ToolError(`invalid ${what} argument: '${text}'`);
  const n = BigInt(text);
  if (n > max) throw new ToolError(`invalid ${what} argument: '${text}': Numerical result out of range`);
  return n;
}
const PID_MAX = 2n ** 31n - 1n; // pid_t
const INODE_MAX = 2n ** 64n - 1n; // what util-linux reads a namespace operand into

/** ts-lsns's wording of the library's errors, as util-linux's. */
function describe(err: unknown): Described | undefined {
  if (err instanceof NamespaceNotFoundError) return { message: `not found namespace: ${err.ns}` };
  return undefined;
}

function toRows(columns: string[], infos: NamespaceInfo[]): Row[] {
  return infos.map((info) => ({
    cells: Object.fromEntries(columns.map((c) => [c, COLUMNS[c]!.cell(info)])),
    children: info.children?.length ? toRows(columns, info.children) : undefined,
  }));
}

runTool(
  spec,
  (cmd) => {
    const types = parseTypes(values(cmd, 'type'));
    const columns = parseColumns(values(cmd, 'output'), flag(cmd, 'output-all'), types);
    const pidText = value(cmd, 'task');
    // util-linux reads the first operand only and ignores any more.
    const ns = cmd.rest[0] === undefined ? undefined : parseNumber(cmd.rest[0], 'namespace', INODE_MAX);
    // Without -l, lsns draws the process tree in COMMAND; -T draws namespaces in NS.
    let relation: TreeRelation | undefined = 'process';
    if (flag(cmd, 'tree')) {
      const rel = value(cmd, 'tree') || 'owner';
      if (rel !== 'owner' && rel !== 'parent' && rel !== 'process') throw new ToolError(`unknown tree type: ${rel}`);
      relation = rel;
    }
    if (flag(cmd, 'list')) relation = undefined;
    const treeColumn = relation === undefined ? undefined : relation === 'process' ? 'COMMAND' : 'NS';
    // The process tree lives in COMMAND: without that column, a plain list (util-linux).
    if (relation === 'process' && !columns.includes('COMMAND')) relation = undefined;

    const all = collectNamespaces(readProcesses());
    const listed = selectNamespaces(all, {
      types,
      pid: pidText === undefined ? undefined : Number(parseNumber(pidText, 'PID', PID_MAX)),
      ns,
    });
    const infos = relation ? namespaceTree(listed, all, relation) : listed;
    const mode = flag(cmd, 'json') ? 'json' : flag(cmd, 'raw') ? 'raw' : 'table';
    const width = !flag(cmd, 'notruncate') && process.stdout.isTTY ? process.stdout.columns : undefined;
    const table = columns.map((name): Column => {
      const { number, right, truncate, minWidth } = COLUMNS[name]!; // the names were checked against COLUMNS
      return { name, number, right, truncate, minWidth };
    });
    process.stdout.write(
      toBytes(
        renderTable(table, toRows(columns, infos), {
          mode,
          headings: !flag(cmd, 'noheadings'),
          jsonKey: 'namespaces',
          treeColumn: relation && columns.includes(treeColumn ?? '') ? treeColumn : undefined,
          width,
        }),
      ),
    );
    return 0;
  },
  { describe },
);
