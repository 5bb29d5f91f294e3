// kubectl's JSONPath templates (k8s.io/client-go/util/jsonpath), parsed and run the same way:
// text between `{…}` actions; in an action `.a.b`, `$`/`@` (both the current object, as in
// kubectl), `..name` recursive descent, `*` and `[*]`, `[n]` (negative too), slices
// `[start:end:step]`, unions `[0,1]` / `['a','b']` (a quoted key is the key itself where it
// exists, else a dotted path as kubectl reads it), filters `[?(@.x=="y")]` with == != < > <= >=
// and existence `[?(@.x)]` (plus `&&` / `||`, which kubectl lacks), `{range …}…{end}`, and quoted
// text `{"\n"}` with Go's escapes. Printing follows kubectl: one action's results joined by a
// space, maps and lists as compact JSON, strings raw, null as <nil>. A missing key prints nothing unless
// missing keys are refused (`--allow-missing-template-keys=false`); then it is "x is not found".
// Errors carry kubectl's words and, for a parse error, the column it happened at.

/** One step of an action, applied to every current value in turn. */
type Step =
  | { t: 'field'; name: string }
  | { t: 'key'; name: string }
  | { t: 'wildcard' }
  | { t: 'recursive' }
  | { t: 'array'; start?: number; end?: number; derivedEnd: boolean; step?: number }
  | { t: 'union'; parts: Step[][] }
  | { t: 'filter'; any: Clause[][] }
  | { t: 'text'; text: string }
  | { t: 'literal'; value: number | boolean }
  | { t: 'identifier'; name: string };

/** A filter comparison; `any` above is an OR of ANDs of these. */
type Clause = { op: 'exists'; left: Step[] } | { op: Op; left: Step[]; right: Step[] };
type Op = '==' | '!=' | '<' | '>' | '<=' | '>=';
const OPS: readonly string[] = ['==', '!=', '<', '>', '<=', '>='];

type Node = { t: 'text'; text: string } | { t: 'action'; steps: Step[] } | { t: 'range'; steps: Step[]; body: Node[] };

export class JsonPathError extends Error {}

export interface JsonPathOptions {
  /** kubectl's --allow-missing-template-keys; true (the default) prints nothing for a missing key. */
  allowMissingKeys?: boolean;
  /** `-o jsonpath-as-json`: each action's results as one indented JSON array. */
  asJson?: boolean;
}

class ParseError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

/** Parses a template into text, actions and ranges; throws kubectl's "error parsing jsonpath …". */
export function parseTemplate(template: string): Node[] {
  try {
    return new Parser(template).template();
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    const col = Math.min(err.at, template.length);
    throw new JsonPathError(`error parsing jsonpath ${template}, ${err.message} (at column ${col + 1})\n  ${template}\n  ${' '.repeat(col)}^`);
  }
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t';
const isEol = (c: string | undefined) => c === '\r' || c === '\n';
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isAlnum = (c: string | undefined) => c !== undefined && (c === '_' || /[\p{L}\p{N}]/u.test(c));
const isTerminator = (c: string | undefined) => c === undefined || isSpace(c) || isEol(c) || '.,[]$@{}'.includes(c);

class Parser {
  private pos: number;

  /** Parses `s[from, to)`; sub-parsers (union parts, filter sides) keep absolute columns. */
  constructor(
    private readonly s: string,
    from = 0,
    private readonly to = s.length,
  ) {
    this.pos = from;
  }

  private peek(k = 0): string | undefined {
    return this.pos + k < this.to ? this.s[this.pos + k] : undefined;
  }

  private startsWith(p: string): boolean {
    return this.pos + p.length <= this.to && this.s.startsWith(p, this.pos);
  }

  template(): Node[] {
    const root: Node[] = [];
    const stack: { body: Node[]; at: number }[] = [{ body: root, at: 0 }];
    while (this.pos < this.to) {
      const open = this.s.indexOf('{', this.pos);
      const textEnd = open < 0 || open >= this.to ? this.to : open;
      if (textEnd > this.pos) stack[stack.length - 1]!.body.push({ t: 'text', text: this.s.slice(this.pos, textEnd) });
      if (textEnd === this.to) break;
      const at = textEnd;
      this.pos = textEnd + 1;
      const steps = this.action();
      const head = steps[0];
      if (head?.t === 'identifier' && head.name === 'range') {
        const node: Node = { t: 'range', steps: steps.slice(1), body: [] };
        stack[stack.length - 1]!.body.push(node);
        stack.push({ body: node.body, at });
      } else if (head?.t === 'identifier' && head.name === 'end') {
        if (stack.length === 1) throw new ParseError('not in range, nothing to end', at);
        stack.pop();
      } else {
        stack[stack.length - 1]!.body.push({ t: 'action', steps });
      }
    }
    if (stack.length > 1) throw new ParseError('{range} without {end}', stack[stack.length - 1]!.at);
    return root;
  }

  /** The steps of one action, up to and past its `}` (or to the end of a sub-parse). */
  action(sub = false): Step[] {
    const steps: Step[] = [];
    for (;;) {
      if (sub && this.pos >= this.to) return steps;
      const c = this.peek();
      if (!sub && c === '}') {
        this.pos++;
        return steps;
      }
      if (this.startsWith('[?(')) steps.push(this.filter());
      else if (this.startsWith('..')) {
        if (steps[steps.length - 1]?.t === 'recursive') throw new ParseError('invalid multiple recursive descent', this.pos);
        this.pos += 2;
        steps.push({ t: 'recursive' });
        if (isAlnum(this.peek())) steps.push(this.field());
      } else if (c === undefined || isEol(c)) throw new ParseError('unclosed action', this.pos);
      else if (isSpace(c) || c === '@' || c === '$') this.pos++;
      else if (c === '[') steps.push(this.array());
      else if (c === '"' || c === "'") steps.push({ t: 'text', text: this.quoted() });
      else if (c === '.') {
        this.pos++;
        steps.push(this.field());
      } else if (c === '+' || c === '-' || isDigit(c)) steps.push(this.number());
      else if (isAlnum(c)) {
        const start = this.pos;
        while (!isTerminator(this.peek())) this.pos++;
        const word = this.s.slice(start, this.pos);
        steps.push(word === 'true' || word === 'false' ? { t: 'literal', value: word === 'true' } : { t: 'identifier', name: word });
      } else {
        const code = c.codePointAt(0)!;
        throw new ParseError(`unrecognized character in action: U+${code.toString(16).toUpperCase().padStart(4, '0')} '${c}'`, this.pos);
      }
    }
  }

  /** A field name after `.`: up to a terminator, `\` escaping the next character (`app\.kubernetes\.io`). */
  private field(): Step {
    let name = '';
    for (let c = this.peek(); !isTerminator(c); c = this.peek()) {
      if (c === '\\' && this.peek(1) !== undefined) {
        name += this.peek(1);
        this.pos += 2;
      } else {
        name += c;
        this.pos++;
      }
    }
    return name === '*' ? { t: 'wildcard' } : { t: 'field', name };
  }

  private number(): Step {
    const start = this.pos;
    if (this.peek() === '+' || this.peek() === '-') this.pos++;
    while (isDigit(this.peek()) || this.peek() === '.') this.pos++;
    const text = this.s.slice(start, this.pos);
    const n = Number(text);
    if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text) || Number.isNaN(n)) throw new ParseError(`cannot parse number ${text}`, start);
    return { t: 'literal', value: n };
  }

  /** A quoted string with Go's escapes; kubectl's UnquoteExtend takes '…' as well as "…". */
  private quoted(): string {
    const start = this.pos;
    const q = this.s[this.pos]!;
    this.pos++;
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '\n') throw new ParseError('unterminated quoted string', start);
      this.pos++;
      if (c === '\\') this.pos++;
      else if (c === q) break;
    }
    const lit = this.s.slice(start, this.pos);
    try {
      return unquote(lit);
    } catch (err) {
      throw new ParseError(`unquote string ${lit} error ${(err as Error).message}`, start);
    }
  }

  private array(): Step {
    const start = this.pos;
    let quote: string | undefined;
    let close = -1;
    for (let j = this.pos + 1; j < this.to; j++) {
      const c = this.s[j];
      if (quote) {
        if (c === '\\') j++;
        else if (c === quote) quote = undefined;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === '\n') break;
      else if (c === ']') {
        close = j;
        break;
      }
    }
    if (close < 0) throw new ParseError('unterminated array', start);
    this.pos = close + 1;
    const innerStart = start + 1;
    const inner = this.s.slice(innerStart, close);
    const parts = splitTop(inner, ',');
    if (parts.length > 1) {
      return {
        t: 'union',
        parts: parts.map(({ text, at }) => {
          const lead = text.length - text.trimStart().length;
          return arrayOrKey(text.trim(), innerStart + at + lead);
        }),
      };
    }
    const [step] = arrayOrKey(inner.trim(), innerStart + (inner.length - inner.trimStart().length));
    return step!;
  }

  /** `[?( … )]`: ORs of ANDs of `left OP right` or bare `left` (existence). */
  private filter(): Step {
    const start = this.pos;
    this.pos += 3;
    const from = this.pos;
    let quote: string | undefined;
    let depth = 0;
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '\n') throw new ParseError('unterminated filter', start);
      this.pos++;
      if (quote) {
        if (c === '\\') this.pos++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '(') depth++;
      else if (c === ')' && depth-- === 0) break;
    }
    const to = this.pos - 1;
    if (this.peek() !== ']') throw new ParseError('unclosed array expect ]', this.pos);
    this.pos++;
    const text = this.s.slice(from, to);
    const any = splitTop(text, '||').map((or) => splitTop(or.text, '&&').map((and) => this.clause(and.text, from + or.at + and.at)));
    return { t: 'filter', any };
  }

  private clause(text: string, at: number): Clause {
    // kubectl's split: the left side runs up to the first of ! < > =, the operator is the run of them.
    const m = /^([^!<>=]+)([!<>=]+)(.+?)$/s.exec(text);
    if (!m) return { op: 'exists', left: new Parser(this.s, at, at + text.length).action(true) };
    const [, left, op, right] = m as unknown as [string, string, string, string];
    if (!OPS.includes(op)) throw new ParseError(`unrecognized filter operator ${op}`, at + left.length);
    const rightAt = at + left.length + op.length;
    return {
      op: op as Op,
      left: new Parser(this.s, at, at + left.length).action(true),
      right: new Parser(this.s, rightAt, rightAt + right.length).action(true),
    };
  }
}

/** The inside of `[…]` (one union part): a quoted key, or an index or slice. */
function arrayOrKey(text: string, at: number): Step[] {
  const key = /^'([^']*)'$|^"((?:[^"\\]|\\.)*)"$/.exec(text);
  if (key) return [{ t: 'key', name: key[1] ?? unquote(`"${key[2]}"`) }];
  const m = /^(-?\d*)(:-?\d*)?(:-?\d*)?$/.exec(text === '*' ? ':' : text);
  if (!m) throw new ParseError(`invalid array index ${text}`, at);
  const num = (s: string | undefined) => (s === undefined || s === '' || s === ':' ? undefined : Number(s.replace(/^:/, '')));
  const start = num(m[1]);
  if (m[2] === undefined) {
    // `[n]` is the slice n:n+1, with the end marked derived so `[-1]` means the last item.
    return [{ t: 'array', start: start ?? 0, end: (start ?? 0) + 1, derivedEnd: true }];
  }
  const end = num(m[2]);
  const step = num(m[3]);
  return [{ t: 'array', ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}), derivedEnd: false, ...(step !== undefined ? { step } : {}) }];
}

/** Splits on `sep` outside quotes and parentheses, keeping each part's offset. */
function splitTop(s: string, sep: string): { text: string; at: number }[] {
  const parts: { text: string; at: number }[] = [];
  let quote: string | undefined;
  let depth = 0;
  let from = 0;
  for (let j = 0; j < s.length; j++) {
    const c = s[j];
    if (quote) {
      if (c === '\\') j++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && s.startsWith(sep, j)) {
      parts.push({ text: s.slice(from, j), at: from });
      from = j + sep.length;
      j += sep.length - 1;
    }
  }
  parts.push({ text: s.slice(from), at: from });
  return parts;
}

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"' };

/** Go's strconv.Unquote, also for single-quoted strings (kubectl's UnquoteExtend). */
function unquote(lit: string): string {
  const q = lit[0]!;
  let out = '';
  for (let j = 1; j < lit.length - 1; j++) {
    const c = lit[j]!;
    if (c === q) throw new Error('invalid syntax');
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = lit[++j];
    if (e !== undefined && e in SIMPLE_ESCAPES) out += SIMPLE_ESCAPES[e];
    else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = lit.slice(j + 1, j + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw new Error('invalid syntax');
      out += String.fromCodePoint(parseInt(hex, 16));
      j += n;
    } else if (e !== undefined && e >= '0' && e <= '7') {
      const oct = lit.slice(j, j + 3);
      if (!/^[0-7]{3}$/.test(oct)) throw new Error('invalid syntax');
      out += String.fromCharCode(parseInt(oct, 8));
      j += 2;
    } else throw new Error('invalid syntax');
  }
  return out;
}

// --- evaluation ------------------------------------------------------------------------

type Value = unknown;

const isMap = (v: Value): v is Record<string, Value> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Go's name for a decoded JSON value's type, as kubectl's messages print it. */
function goType(v: Value): string {
  if (Array.isArray(v)) return '[]interface {}';
  if (isMap(v)) return 'map[string]interface {}';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  return typeof v;
}

class Evaluator {
  constructor(private readonly allowMissing: boolean) {}

  steps(input: Value[], steps: Step[]): Value[] {
    return steps.reduce((vals, s) => this.step(vals, s), input);
  }

  private step(input: Value[], s: Step): Value[] {
    switch (s.t) {
      case 'field':
        return this.field(input, s.name);
      case 'key':
        return this.key(input, s.name);
      case 'wildcard':
        return input.flatMap((v) => (Array.isArray(v) ? v : isMap(v) ? Object.keys(v).sort().map((k) => v[k]) : []));
      case 'recursive':
        return input.flatMap((v) => descend(v));
      case 'array':
        return input.flatMap((v) => this.array(v, s));
      case 'union':
        return s.parts.flatMap((part) => this.steps(input, part));
      case 'filter':
        return input.flatMap((v) => this.filter(v, s.any));
      case 'text':
        return [s.text];
      case 'literal':
        return [s.value];
      case 'identifier':
        throw new JsonPathError(`unrecognized identifier ${s.name}`);
    }
  }

  private field(input: Value[], name: string): Value[] {
    if (name === '') return input;
    if (input.length === 0) return [];
    const out: Value[] = [];
    for (const v of input) if (isMap(v) && Object.prototype.hasOwnProperty.call(v, name)) out.push(v[name]);
    if (out.length === 0 && !this.allowMissing) throw new JsonPathError(`${name} is not found`);
    return out;
  }

  /**
   * `['a.b']`: the key `a.b` where an object has it (a label such as app.kubernetes.io/name),
   * else the path `.a.b`, which is how kubectl reads it (`{.items[*]['metadata.name']}`).
   */
  private key(input: Value[], name: string): Value[] {
    if (!name.includes('.') || input.some((v) => isMap(v) && Object.prototype.hasOwnProperty.call(v, name))) return this.field(input, name);
    return name.split('.').reduce((vals, part) => this.field(vals, part), input);
  }

  /** kubectl's evalArray: out-of-range indexes are errors, as is a step below 1. */
  private array(v: Value, s: Extract<Step, { t: 'array' }>): Value[] {
    if (v === null || v === undefined) return [];
    if (!Array.isArray(v)) throw new JsonPathError(`${goType(v)} is not array or slice`);
    const len = v.length;
    let start = s.start ?? 0;
    if (start < 0) start += len;
    let end = s.end ?? len;
    if (end < 0 || (end === 0 && s.derivedEnd)) end += len;
    if (start === end) return [];
    if (start >= len || start < 0) throw new JsonPathError(`array index out of bounds: index ${start}, length ${len}`);
    if (end > len || end < 0) throw new JsonPathError(`array index out of bounds: index ${end - 1}, length ${len}`);
    if (start > end) throw new JsonPathError(`starting index ${start} is greater than ending index ${end}`);
    const stride = s.step ?? 1;
    if (stride <= 0) throw new JsonPathError('step must be > 0');
    const out: Value[] = [];
    for (let i = start; i < end; i += stride) out.push(v[i]);
    return out;
  }

  private filter(v: Value, any: Clause[][]): Value[] {
    if (!Array.isArray(v)) throw new JsonPathError(`${goType(v)} is not array or slice and cannot be filtered`);
    return v.filter((item) => any.some((all) => all.every((c) => this.clause(item, c))));
  }

  private clause(item: Value, c: Clause): boolean {
    if (c.op === 'exists') {
      try {
        return this.steps([item], c.left).length > 0;
      } catch {
        return false;
      }
    }
    const lefts = this.steps([item], c.left);
    if (lefts.length === 0) return false;
    if (lefts.length > 1) throw new JsonPathError('can only compare one element at a time');
    const rights = this.steps([item], c.right);
    if (rights.length === 0) return false;
    if (rights.length > 1) throw new JsonPathError('can only compare one element at a time');
    return compare(lefts[0], c.op, rights[0]);
  }
}

/** Go template's comparison rules: same basic kind only; booleans only for == and !=. */
function compare(a: Value, op: Op, b: Value): boolean {
  const kind = (x: Value) => (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean' ? typeof x : undefined);
  const ka = kind(a);
  const kb = kind(b);
  if (!ka || !kb) throw new JsonPathError('invalid type for comparison');
  if (ka !== kb) throw new JsonPathError('incompatible types for comparison');
  if (op === '==') return a === b;
  if (op === '!=') return a !== b;
  if (ka === 'boolean') throw new JsonPathError('invalid type for comparison');
  const x = a as string | number;
  const y = b as string | number;
  return op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y;
}

/** `..`: the value itself when it has children, then every descendant that does (kubectl's evalRecursive). */
function descend(v: Value): Value[] {
  const children = Array.isArray(v) ? v : isMap(v) ? Object.keys(v).sort().map((k) => v[k]) : [];
  if (children.length === 0) return [];
  return [v, ...children.flatMap(descend)];
}

/** Go's encoding/json: sorted keys, compact, and <, >, & escaped as \u003c and so on. */
export function goJson(v: Value, indent?: string): string {
  const sorted = (x: Value): Value => (Array.isArray(x) ? x.map(sorted) : isMap(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sorted(x[k])])) : x);
  return JSON.stringify(sorted(v), null, indent).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One result as kubectl prints it: maps and lists as JSON, the rest as Go's fmt.Fprint (null is "<nil>"). */
function show(v: Value): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'object') return goJson(v);
  return String(v);
}

/** The results of each action, in order; text between actions is a result of its own. */
function run(nodes: Node[], current: Value, ev: Evaluator, out: Value[][]): void {
  for (const n of nodes) {
    if (n.t === 'text') out.push([n.text]);
    else if (n.t === 'action') out.push(ev.steps([current], n.steps));
    else for (const item of ev.steps([current], n.steps)) run(n.body, item, ev, out);
  }
}

/** Runs an already parsed template; the raw template is only for the error message. */
export function execute(nodes: Node[], template: string, value: unknown, opts: JsonPathOptions = {}): string {
  const results: Value[][] = [];
  try {
    run(nodes, value, new Evaluator(opts.allowMissingKeys ?? true), results);
  } catch (err) {
    if (!(err instanceof JsonPathError)) throw err;
    throw new JsonPathError(
      `error executing jsonpath ${JSON.stringify(template)}: Error executing template: ${err.message}. Printing more information for debugging the template:\n\ttemplate was:\n\t\t${template}`,
    );
  }
  if (opts.asJson) return results.map((r) => goJson(r, '    ') + '\n').join('');
  return results.map((r) => r.map(show).join(' ')).join('');
}

/** Runs a template against a value (an object, or a List for several). */
export function jsonpath(template: string, value: unknown, opts: JsonPathOptions = {}): string {
  return execute(parseTemplate(template), template, value, opts);
}

/** Each result of the template, unprinted (custom columns format them their own way). */
export function jsonpathValues(nodes: Node[], value: unknown): unknown[] {
  const results: Value[][] = [];
  run(nodes, value, new Evaluator(true), results);
  return results.flat();
}

export type { Node as JsonPathTemplate };
