// Tables the way util-linux prints them with libsmartcols: aligned columns
// (numbers to the right), a tree drawn in one column (├─ └─ │, or |- `- |
// when the locale is not UTF-8), --raw (one space between cells; spaces,
// backslashes and every byte outside printable ASCII escaped as \xNN, the
// tree included), and --json ({"<key>": [ {...}, ... ]}, numbers as
// numbers, children nested).
//
// Text that came from bytes which are not UTF-8 (a command line) holds each
// such byte as U+DC00+byte, U+DC80 to U+DCFF (keepBytes in src/core/lsns.ts).
// The table and --raw print it as \xNN; JSON keeps the byte itself, as
// libsmartcols does (write the result with toBytes).

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
  /** The locale's text is UTF-8 (default: from LC_ALL, LC_CTYPE, LANG). */
  utf8?: boolean;
}

/** Does the locale encode text as UTF-8? The variables in setlocale's order of precedence. */
export function utf8Locale(env: NodeJS.ProcessEnv = process.env): boolean {
  return /utf-?8/i.test(env.LC_ALL || env.LC_CTYPE || env.LANG || '');
}

const hex = (byte: number) => `\\x${byte.toString(16).padStart(2, '0')}`;

/** One character as \xNN escapes of its bytes (a kept byte as itself). */
function escapeChar(ch: string): string {
  const code = ch.codePointAt(0)!;
  if (code >= 0xdc80 && code <= 0xdcff) return hex(code - 0xdc00);
  return [...Buffer.from(ch, 'utf8')].map(hex).join('');
}

/** --raw: spaces, backslashes, control characters and everything outside ASCII as \xNN. */
function rawText(s: string): string {
  return [...s].map((ch) => (ch === ' ' || ch === '\\' || ch < ' ' || ch >= '\x7f' ? escapeChar(ch) : ch)).join('');
}

/** The table: control characters, kept bytes and a backslash before 'x' as \xNN; outside ASCII too unless the locale is UTF-8. */
function safeText(s: string, utf8: boolean): string {
  const chars = [...s];
  return chars
    .map((ch, i) => {
      // A backslash before 'x' is escaped too, so that every \x in the output is an escape.
      if (ch === '\\') return chars[i + 1] === 'x' ? escapeChar(ch) : ch;
      return ch < ' ' || ch === '\x7f' || (ch >= '\udc80' && ch <= '\udcff') || (!utf8 && ch >= '\x80')
        ? escapeChar(ch)
        : ch;
    })
    .join('');
}

interface Line {
  prefix: string;
  row: Row;
}

const GLYPHS = {
  utf8: { branch: '├─', last: '└─', down: '│ ' },
  ascii: { branch: '|-', last: '`-', down: '| ' },
};

/**
 * Rows in display order, each with its tree prefix ("│ ├─"); top-level rows
 * have none. Without a tree every row is still listed, depth first.
 */
function flatten(
  rows: readonly Row[],
  glyphs: (typeof GLYPHS)['utf8'] | undefined,
  base: string | undefined = undefined,
): Line[] {
  const out: Line[] = [];
  rows.forEach((row, i) => {
    const last = i === rows.length - 1;
    const top = base === undefined;
    out.push({ prefix: glyphs && !top ? base + (last ? glyphs.last : glyphs.branch) : '', row });
    if (row.children?.length)
      out.push(...flatten(row.children, glyphs, top ? '' : base + (last ? '  ' : (glyphs?.down ?? ''))));
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
  return rows.flatMap((row) => {
    const obj: Record<string, unknown> = {};
    for (const c of columns) obj[c.name.toLowerCase()] = jsonValue(c, row.cells[c.name]);
    if (tree && row.children?.length) obj.children = jsonRows(columns, row.children, tree);
    // Without a tree, children are rows of the same list.
    return tree || !row.children?.length ? [obj] : [obj, ...jsonRows(columns, row.children, tree)];
  });
}

/** JSON.stringify, with kept bytes left as they are (it would write them as \udcNN). */
function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(
    /(?<!\\)((?:\\\\)*)\\udc([89a-f][0-9a-f])/g,
    (_, slashes: string, byte: string) => slashes + String.fromCharCode(0xdc00 + parseInt(byte, 16)),
  );
}

/** Text to write: UTF-8, except that a kept byte (a lone U+DC80 to U+DCFF) is written as that byte. */
export function toBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const lone =
      c >= 0xdc80 && c <= 0xdcff && !(i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff);
    if (!lone) continue;
    parts.push(Buffer.from(text.slice(from, i), 'utf8'), Buffer.from([c - 0xdc00]));
    from = i + 1;
  }
  parts.push(Buffer.from(text.slice(from), 'utf8'));
  return Buffer.concat(parts);
}

/** libsmartcols' layout: three-space indents, objects in an array joined by "},{". */
function jsonArray(items: object[], indent: number): string {
  const pad = ' '.repeat(indent + 3);
  const objects = items.map((item) => {
    const fields = Object.entries(item).map(
      ([k, v]) => `${pad}   ${JSON.stringify(k)}: ${Array.isArray(v) ? jsonArray(v, indent + 6) : jsonText(v)}`,
    );
    return fields.join(',\n');
  });
  if (!objects.length) return `[\n\n${' '.repeat(indent)}]`;
  return `[\n${pad}{\n${objects.join(`\n${pad}},{\n`)}\n${pad}}\n${' '.repeat(indent)}]`;
}

export function renderTable(columns: readonly Column[], rows: readonly Row[], opts: TableOptions): string {
  const utf8 = opts.utf8 ?? utf8Locale();
  if (opts.mode === 'json')
    return `{\n   ${JSON.stringify(opts.jsonKey)}: ${jsonArray(jsonRows(columns, rows, opts.treeColumn !== undefined), 3)}\n}\n`;
  if (!rows.length) return ''; // libsmartcols prints no headings for an empty table
  const treeAt = columns.findIndex((c) => c.name === opts.treeColumn);
  const lines = flatten(rows, treeAt >= 0 ? (utf8 ? GLYPHS.utf8 : GLYPHS.ascii) : undefined);
  const cellsOf = (line: Line) =>
    columns.map((c, i) => (i === treeAt ? line.prefix : '') + text(line.row.cells[c.name]));
  if (opts.mode === 'raw') {
    const out = lines.map((line) => cellsOf(line).map(rawText).join(' '));
    if (opts.headings) out.unshift(columns.map((c) => c.name).join(' '));
    return out.length ? out.join('\n') + '\n' : '';
  }
  const body = lines.map((line) => cellsOf(line).map((cell) => safeText(cell, utf8)));
  const all = opts.headings ? [columns.map((c) => c.name), ...body] : body;
  const widths = columns.map((c, i) => Math.max(c.minWidth ?? 0, ...all.map((cells) => [...cells[i]].length)));
  // The tree column reads left to right; other numbers line up on the right.
  const right = columns.map((c, i) => (c.number === true || c.right === true) && i !== treeAt);
  if (opts.width !== undefined) {
    const total = widths.reduce((a, b) => a + b, 0) + widths.length - 1;
    const cut = columns.findIndex((c) => c.truncate);
    if (total > opts.width && cut >= 0)
      widths[cut] = Math.max(columns[cut].name.length, widths[cut] - (total - opts.width));
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
