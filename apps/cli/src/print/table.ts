// Printing the server's meta.k8s.io/v1 Table as kubectl does: upper-case headers, columns
// padded to the widest cell with three spaces between them, priority > 0 columns only with
// -o wide, a NAMESPACE column first with -A, `kind/name` when several types are listed, and
// a LABELS column with --show-labels.

export interface TableColumn {
  name: string;
  type?: string;
  format?: string;
  priority?: number;
}

export interface TableRow {
  cells: unknown[];
  object?: { metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } };
}

export interface Table {
  kind: 'Table';
  columnDefinitions?: TableColumn[];
  rows?: TableRow[];
  metadata?: { resourceVersion?: string };
}

export interface TableOptions {
  wide?: boolean;
  allNamespaces?: boolean;
  /** Prefix names with this (`pod`, `deployment.apps`) when several types print together. */
  kindPrefix?: string;
  showLabels?: boolean;
  noHeaders?: boolean;
}

export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '<none>';
  if (Array.isArray(v)) return v.length ? v.map(cellText).join(',') : '<none>';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function labelsText(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

/** The header and row cells a table prints (before padding). */
export function tableCells(columns: TableColumn[], rows: TableRow[], opts: TableOptions): { header: string[]; rows: string[][] } {
  const shown = columns.map((c, i) => ({ c, i })).filter(({ c }) => opts.wide || !c.priority);
  const header = shown.map(({ c }) => c.name.toUpperCase());
  if (opts.allNamespaces) header.unshift('NAMESPACE');
  if (opts.showLabels) header.push('LABELS');
  const out = rows.map((r) => {
    const cells = shown.map(({ c, i }) => {
      const text = cellText(r.cells[i]);
      return c.format === 'name' && opts.kindPrefix ? `${opts.kindPrefix}/${text}` : text;
    });
    if (opts.allNamespaces) cells.unshift(r.object?.metadata?.namespace ?? '');
    if (opts.showLabels) cells.push(labelsText(r.object?.metadata?.labels));
    return cells;
  });
  return { header, rows: out };
}

/** Pads columns: every column but the last is padded to its widest cell plus three spaces. */
export function padColumns(lines: string[][], widths?: number[]): string {
  const w = widths ?? columnWidths(lines);
  return lines.map((cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd((w[i] ?? c.length) + 3))).join('').trimEnd()).join('\n');
}

export function columnWidths(lines: string[][]): number[] {
  const w: number[] = [];
  for (const cells of lines) cells.forEach((c, i) => (w[i] = Math.max(w[i] ?? 0, c.length)));
  return w;
}

export function printTable(table: Table, opts: TableOptions): string {
  const { header, rows } = tableCells(table.columnDefinitions ?? [], table.rows ?? [], opts);
  return padColumns(opts.noHeaders ? rows : [header, ...rows]);
}
