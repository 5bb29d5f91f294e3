// The subset of kubectl's JSONPath templates people actually type: text between actions,
// `{.a.b}`, `[n]` (negative too), `[a:b]` slices, `[*]` and `.*`, `['key.with.dots']`, `..name`
// (recursive descent), filters `[?(@.x=="y")]`, `{range …}…{end}`, and string literals
// `{"\n"}`. Several results of one action are joined by a space; objects print as JSON;
// a missing field prints nothing (kubectl's default, allowMissingTemplateKeys).

type Segment =
  | { t: 'field'; name: string }
  | { t: 'recursive'; name: string }
  | { t: 'wildcard' }
  | { t: 'index'; i: number }
  | { t: 'slice'; start?: number; end?: number }
  | { t: 'filter'; path: Segment[]; op?: string; value?: unknown };

interface PathExpr {
  root: '$' | '@';
  segments: Segment[];
}

type Node = { t: 'text'; text: string } | { t: 'path'; path: PathExpr } | { t: 'range'; path: PathExpr; body: Node[] };

export class JsonPathError extends Error {}

/** Splits a template into text and actions, nesting range…end. */
export function parseTemplate(template: string): Node[] {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0) {
      stack[stack.length - 1]!.push({ t: 'text', text: template.slice(i) });
      break;
    }
    if (open > i) stack[stack.length - 1]!.push({ t: 'text', text: template.slice(i, open) });
    const close = findClose(template, open);
    const action = template.slice(open + 1, close).trim();
    i = close + 1;
    const current = stack[stack.length - 1]!;
    if (action === 'end') {
      if (stack.length === 1) throw new JsonPathError(`jsonpath ${template}: {end} without {range}`);
      stack.pop();
    } else if (action.startsWith('range ')) {
      const node: Node = { t: 'range', path: parsePath(action.slice(6).trim()), body: [] };
      current.push(node);
      stack.push(node.body);
    } else if (action.startsWith('"') || action.startsWith("'")) {
      current.push({ t: 'text', text: parseString(action) });
    } else {
      current.push({ t: 'path', path: parsePath(action) });
    }
  }
  if (stack.length > 1) throw new JsonPathError(`jsonpath ${template}: {range} without {end}`);
  return root;
}

function findClose(s: string, open: number): number {
  let quote: string | undefined;
  for (let j = open + 1; j < s.length; j++) {
    const c = s[j];
    if (quote) {
      if (c === '\\') j++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '}') return j;
  }
  throw new JsonPathError(`jsonpath ${s}: unclosed {`);
}

function parseString(lit: string): string {
  const q = lit[0]!;
  if (lit.length < 2 || lit[lit.length - 1] !== q) throw new JsonPathError(`jsonpath: unterminated string ${lit}`);
  const inner = lit.slice(1, -1);
  if (q === '"') {
    try {
      return JSON.parse(`"${inner}"`) as string;
    } catch {
      throw new JsonPathError(`jsonpath: bad string ${lit}`);
    }
  }
  return inner.replace(/\\'/g, "'");
}

/** Parses `.a.b[0]`, `$.a`, `@.x`, `..name`, `a.b` (a leading name is a field). */
export function parsePath(expr: string): PathExpr {
  let i = 0;
  let root: '$' | '@' = '@';
  const segs: Segment[] = [];
  if (expr[0] === '$' || expr[0] === '@') {
    root = expr[0];
    i = 1;
  } else if (expr[0] !== '.' && expr[0] !== '[') {
    expr = '.' + expr;
  }
  const ident = () => {
    const m = /^[^.[\]\s]*/.exec(expr.slice(i))![0];
    i += m.length;
    return m;
  };
  while (i < expr.length) {
    const c = expr[i];
    if (c === '.') {
      if (expr[i + 1] === '.') {
        i += 2;
        const name = ident();
        segs.push({ t: 'recursive', name });
        continue;
      }
      i++;
      const name = ident();
      if (name === '*') segs.push({ t: 'wildcard' });
      else if (name !== '') segs.push({ t: 'field', name });
    } else if (c === '[') {
      const end = findBracket(expr, i);
      const inner = expr.slice(i + 1, end).trim();
      i = end + 1;
      segs.push(parseBracket(inner, expr));
    } else {
      throw new JsonPathError(`jsonpath ${expr}: unexpected "${c}" at ${i}`);
    }
  }
  return { root, segments: segs };
}

function findBracket(s: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let j = open; j < s.length; j++) {
    const c = s[j];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return j;
  }
  throw new JsonPathError(`jsonpath ${s}: unclosed [`);
}

function parseBracket(inner: string, expr: string): Segment {
  if (inner === '*') return { t: 'wildcard' };
  if (/^-?\d+$/.test(inner)) return { t: 'index', i: Number(inner) };
  const slice = /^(-?\d*):(-?\d*)$/.exec(inner);
  if (slice) return { t: 'slice', ...(slice[1] ? { start: Number(slice[1]) } : {}), ...(slice[2] ? { end: Number(slice[2]) } : {}) };
  if (/^(['"]).*\1$/.test(inner)) return { t: 'field', name: parseString(inner) };
  const filter = /^\?\((.*)\)$/.exec(inner);
  if (filter) {
    const m = /^(@[^\s=!<>]*)\s*(==|!=|<=|>=|<|>)\s*(.+)$/.exec(filter[1]!.trim());
    if (!m) return { t: 'filter', path: parsePath(filter[1]!.trim()).segments };
    const lit = m[3]!.trim();
    const value = /^['"]/.test(lit) ? parseString(lit) : lit === 'true' ? true : lit === 'false' ? false : Number.isNaN(Number(lit)) ? lit : Number(lit);
    return { t: 'filter', path: parsePath(m[1]!).segments, op: m[2]!, value };
  }
  throw new JsonPathError(`jsonpath ${expr}: cannot read [${inner}]`);
}

function step(values: unknown[], seg: Segment): unknown[] {
  const out: unknown[] = [];
  for (const v of values) {
    switch (seg.t) {
      case 'field':
        if (v !== null && typeof v === 'object' && !Array.isArray(v) && seg.name in v) out.push((v as Record<string, unknown>)[seg.name]);
        break;
      case 'recursive':
        collect(v, seg.name, out);
        break;
      case 'wildcard':
        if (Array.isArray(v)) out.push(...v);
        else if (v !== null && typeof v === 'object') out.push(...Object.values(v));
        break;
      case 'index':
        if (Array.isArray(v)) {
          const i = seg.i < 0 ? v.length + seg.i : seg.i;
          if (i >= 0 && i < v.length) out.push(v[i]);
          else throw new JsonPathError(`array index out of bounds: index ${seg.i}, length ${v.length}`);
        }
        break;
      case 'slice':
        if (Array.isArray(v)) out.push(...v.slice(seg.start, seg.end));
        break;
      case 'filter':
        if (Array.isArray(v)) out.push(...v.filter((item) => matches(item, seg)));
        break;
    }
  }
  return out;
}

function collect(v: unknown, name: string, out: unknown[]): void {
  if (Array.isArray(v)) for (const x of v) collect(x, name, out);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === name || name === '*') out.push(x);
      collect(x, name, out);
    }
  }
}

function matches(item: unknown, seg: Extract<Segment, { t: 'filter' }>): boolean {
  const found = seg.path.reduce<unknown[]>((vals, s) => step(vals, s), [item]);
  if (seg.op === undefined) return found.length > 0;
  return found.some((x) => {
    const a = x as string | number;
    const b = seg.value as string | number;
    switch (seg.op) {
      case '==':
        return a === b || String(a) === String(b);
      case '!=':
        return String(a) !== String(b);
      case '<':
        return a < b;
      case '>':
        return a > b;
      case '<=':
        return a <= b;
      default:
        return a >= b;
    }
  });
}

function evaluate(path: PathExpr, root: unknown, current: unknown): unknown[] {
  return path.segments.reduce<unknown[]>((vals, seg) => step(vals, seg), [path.root === '$' ? root : current]);
}

function show(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function render(nodes: Node[], root: unknown, current: unknown): string {
  let out = '';
  for (const n of nodes) {
    if (n.t === 'text') out += n.text;
    else if (n.t === 'path') out += evaluate(n.path, root, current).map(show).join(' ');
    else for (const item of evaluate(n.path, root, current)) out += render(n.body, root, item);
  }
  return out;
}

/** Runs a template against a value (an object, or a List for several). */
export function jsonpath(template: string, value: unknown): string {
  return render(parseTemplate(template), value, value);
}
