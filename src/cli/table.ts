// Tables the way util-linux prints them with libsmartcols: aligned columns
// (numbers to the right), a tree drawn in the first column (├─ └─ │),
// --raw (one space between cells, spaces escaped as \x20), and --json
// ({"<key>": [ {...}, ... ]}, numbers as numbers, children nested).

export interface Column {
  /** Header, e.g. 'NPROCS'; the JSON key is its lower-case form. */
  name: string;
  /** A number: right-aligned, and a JSON number. */
  number?: boolean;
  /** Right-aligned without being a number (NETNSID: "unassigned" or an id). */
  right?: boolean;
  /** May be cut to fit the terminal (COMMAND), unless --notruncate. */
  truncate?: boolean;
  /** libsmartcols' width hint: the column is at least this wide. */
  minWidth?: number;
}

export type Cell = string | number | undefined;

export interface Row {
  cells: Record<string, Cell>;
  children?: Row[];
}

export interface TableOptions {
  mode: 'table' | 'raw' | 'json';
  headings: boolean;
  /** The name of the array in JSON output ('namespaces'). */
  jsonKey: string;
  /** Draw `children` as a tree in this column; undefined: no tree. */
  treeColumn?: string;
  /** Terminal width to truncate to, or undefined for no truncation. */
  width?: number;
}

interface Line {
  prefix: string;
  row: Row;
}

/** Rows in display order, each with its tree prefix ("│ ├─"); top-level rows have none. */
function flatten(rows: readonly Row[], tree: boolean, base: string | undefined = undefined): Line[] {
  const out: Line[] = [];
  rows.forEach((row, i) => {
    const last = i === rows.length - 1;
    const top = base === undefined;
    out.push({ prefix: tree && !top ? base + (last ? '└─' : '├─') : '', row });
    if (tree && row.children?.length) out.push(...flatten(row.children, tree, top ? '' : base + (last ? '  ' : '│ ')));
  });
  return out;
}

function text(cell: Cell): string {
  return cell === undefined ? '' : String(cell);
}

function jsonValue(column: Column, cell: Cell): string | number | null {
  if (cell === undefined || cell === '') return null;
  return column.number ? Number(cell) : String(cell);
}

function jsonRows(columns: readonly Column[], rows: readonly Row[], tree: boolean): object[] {
  return rows.map((row) => {
    const obj: Record<string, unknown> = {};
    for (const c of columns) obj[c.name.toLowerCase()] = jsonValue(c, row.cells[c.name]);
    if (tree && row.children?.length) obj.children = jsonRows(columns, row.children, tree);
    return obj;
  });
}

/** libsmartcols' layout: three-space indents, objects in an array joined by "},{". */
function jsonArray(items: object[], indent: number): string {
  const pad = ' '.repeat(indent + 3);
  const objects = items.map((item) => {
    const fields = Object.entries(item).map(([k, v]) => `${pad}   ${JSON.stringify(k)}: ${Array.isArray(v) ? jsonArray(v, indent + 6) : JSON.stringify(v)}`);
    return fields.join(',\n');
  });
  if (!objects.length) return `[\n\n${' '.repeat(indent)}]`;
  return `[\n${pad}{\n${objects.join(`\n${pad}},{\n`)}\n${pad}}\n${' '.repeat(indent)}]`;
}

export function renderTable(columns: readonly Column[], rows: readonly Row[], opts: TableOptions): string {
  if (opts.mode === 'json') return `{\n   ${JSON.stringify(opts.jsonKey)}: ${jsonArray(jsonRows(columns, rows, opts.treeColumn !== undefined), 3)}\n}\n`;
  if (!rows.length) return ''; // libsmartcols prints no headings for an empty table
  const treeAt = columns.findIndex((c) => c.name === opts.treeColumn);
  const tree = treeAt >= 0;
  const lines = flatten(rows, tree);
  const cellsOf = (line: Line) => columns.map((c, i) => (i === treeAt ? line.prefix : '') + text(line.row.cells[c.name]));
  const body = lines.map(cellsOf);
  if (opts.mode === 'raw') {
    const raw = (s: string) => s.replace(/\\/g, '\\x5c').replace(/ /g, '\\x20');
    const out = body.map((cells) => cells.map(raw).join(' '));
    if (opts.headings) out.unshift(columns.map((c) => c.name).join(' '));
    return out.length ? out.join('\n') + '\n' : '';
  }
  const all = opts.headings ? [columns.map((c) => c.name), ...body] : body;
  const widths = columns.map((c, i) => Math.max(c.minWidth ?? 0, ...all.map((cells) => [...cells[i]].length)));
  // The tree column reads left to right; other numbers line up on the right.
  const right = columns.map((c, i) => (c.number === true || c.right === true) && i !== treeAt);
  if (opts.width !== undefined) {
    const total = widths.reduce((a, b) => a + b, 0) + widths.length - 1;
    const cut = columns.findIndex((c) => c.truncate);
    if (total > opts.width && cut >= 0) widths[cut] = Math.max(columns[cut].name.length, widths[cut] - (total - opts.width));
  }
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const chars = [...cell];
        const fitted = chars.length > widths[i] ? chars.slice(0, widths[i]).join('') : cell;
        if (i === cells.length - 1 && !right[i]) return fitted;
        const pad = ' '.repeat(widths[i] - [...fitted].length);
        return right[i] ? pad + fitted : fitted + pad;
      })
      .join(' ');
  return all.map(format).join('\n') + (all.length ? '\n' : '');
}
