// `-o custom-columns=NAME:.path,…` and `-o custom-columns-file=FILE`, as kubectl prints them:
// each path is a relaxed JSONPath (`.a.b`, `a.b`, `{.a.b}`), missing values show `<none>`,
// several values are joined by commas, maps and lists print in Go's %v form (`map[a:b]`),
// and the columns are padded as kubectl's tabwriter pads them (at least 10 wide, 3 apart).
import { JsonPathError, parseTemplate, jsonpathValues, type JsonPathTemplate } from './jsonpath';

export interface CustomColumn {
  header: string;
  /** The template as written after relaxing (`{.metadata.name}`). */
  template: string;
  parsed: JsonPathTemplate[];
}

/** kubectl's RelaxedJSONPathExpression: `a.b`, `.a.b`, `{a.b}`, `{.a.b}` all become `{.a.b}`. */
export function relaxedJsonPath(path: string): string {
  if (path === '') return path;
  const m = /^\{\.?([^{}]+)\}$|^\.?([^{}]+)$/.exec(path);
  if (!m) throw new JsonPathError("unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'");
  return `{.${m[1] ?? m[2]}}`;
}

function column(header: string, path: string): CustomColumn {
  const template = relaxedJsonPath(path);
  return { header, template, parsed: parseTemplate(template) };
}

/** `NAME:.metadata.name,NODE:.spec.nodeName`. */
export function parseCustomColumns(spec: string): CustomColumn[] {
  if (spec === '') throw new JsonPathError('custom-columns format specified but no custom columns given');
  return spec.split(',').map((part) => {
    const colon = part.split(':');
    if (colon.length !== 2) throw new JsonPathError(`unexpected custom-columns spec: ${part}, expected <header>:<json-path-expr>`);
    return column(colon[0]!, colon[1]!);
  });
}

/** A file with one line of headers and one line of paths, each whitespace-separated. */
export function parseCustomColumnsFile(text: string): CustomColumn[] {
  const lines = text.split('\n');
  const words = (l: string | undefined) => (l ?? '').trim().split(/\s+/).filter(Boolean);
  const expected = 'Expected format is one line of space separated headers, one line of space separated column specs.';
  if (lines.length < 1 || text === '') throw new JsonPathError(`invalid template, missing header line. ${expected}`);
  if (lines.length < 2) throw new JsonPathError(`invalid template, missing spec line. ${expected}`);
  const headers = words(lines[0]);
  const specs = words(lines[1]);
  if (headers.length !== specs.length) throw new JsonPathError(`number of headers (${headers.length}) and field specifications (${specs.length}) don't match`);
  return headers.map((h, i) => column(h, specs[i]!));
}

/** Go's %v of a decoded JSON value: `map[a:1 b:[x y]]`, `<nil>`. */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o)
      .sort()
      .map((k) => `${k}:${goValue(o[k])}`)
      .join(' ')}]`;
  }
  return String(v);
}

/** One row of cells for one object. */
export function customColumnCells(columns: CustomColumn[], obj: unknown): string[] {
  return columns.map((c) => {
    const values = jsonpathValues(c.parsed, obj);
    return values.length === 0 ? '<none>' : values.map(goValue).join(',');
  });
}

/** kubectl's tabwriter (minwidth 10, padding 3): every column but the last is padded. */
export function customColumnsTable(columns: CustomColumn[], objects: unknown[], headers = true): string {
  const lines = objects.map((o) => customColumnCells(columns, o));
  if (headers) lines.unshift(columns.map((c) => c.header));
  const widths = columns.map((_, i) => Math.max(10, ...lines.map((l) => l[i]!.length + 3)));
  return lines.map((cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('')).join('\n');
}
