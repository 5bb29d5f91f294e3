// Label selectors: the query-string syntax of `?labelSelector=` and `kubectl -l`
// (`app=web,tier!=db,env in (a,b),!legacy,has`) and the structured meta/v1 LabelSelector
// (matchLabels + matchExpressions) both become one LabelSelectorQuery, a list of ANDed
// requirements that matches a label map. Parse errors say what was found and what was
// expected, and surface as a 400 through `ApiErrors.badRequest`.

import { ApiErrors } from '../errors';
import type { LabelSelector } from '../types/meta';
import { isLabelKey, isLabelValue } from '../validation/names';

export type RequirementOperator =
  | 'in'
  | 'notin'
  | 'exists'
  | '!'
  | '='
  | '=='
  | '!='
  | 'gt'
  | 'lt';

/** One clause of a selector; all clauses must hold. */
export interface Requirement {
  key: string;
  operator: RequirementOperator;
  /** Sorted; empty for `exists` and `!`, one value for `=`, `==`, `!=`, `gt`, `lt`. */
  values: string[];
}

/** Thrown for a selector that does not parse; the message names the problem. */
export class SelectorParseError extends Error {
  override readonly name = 'SelectorParseError';
}

export interface LabelSelectorQuery {
  readonly requirements: readonly Requirement[];
  /** Whether the labels satisfy every requirement. */
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
  /** True for a selector with no requirements: it selects everything. */
  isEmpty(): boolean;
  /** The query-string form, requirements sorted by key. */
  toString(): string;
}

function matchRequirement(req: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = has ? labels[req.key] : undefined;
  switch (req.operator) {
    case 'in':
    case '=':
    case '==':
      return has && req.values.includes(value!);
    case 'notin':
    case '!=':
      return !has || !req.values.includes(value!);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || !/^-?[0-9]+$/.test(value!)) return false;
      const actual = Number(value);
      const bound = Number(req.values[0]);
      return req.operator === 'gt' ? actual > bound : actual < bound;
    }
  }
}

function formatRequirement(req: Requirement): string {
  switch (req.operator) {
    case 'in':
    case 'notin':
      return `${req.key} ${req.operator} (${req.values.join(',')})`;
    case 'exists':
      return req.key;
    case '!':
      return `!${req.key}`;
    case 'gt':
      return `${req.key}>${req.values[0]}`;
    case 'lt':
      return `${req.key}<${req.values[0]}`;
    default:
      return `${req.key}${req.operator}${req.values[0]}`;
  }
}

class Query implements LabelSelectorQuery {
  readonly requirements: readonly Requirement[];

  constructor(requirements: Requirement[]) {
    this.requirements = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  matches(labels: Readonly<Record<string, string>> | undefined): boolean {
    const set = labels ?? {};
    return this.requirements.every((req) => matchRequirement(req, set));
  }

  isEmpty(): boolean {
    return this.requirements.length === 0;
  }

  toString(): string {
    return this.requirements.map(formatRequirement).join(',');
  }
}

/** A selector that selects nothing: what a nil LabelSelector means. */
class Nothing implements LabelSelectorQuery {
  readonly requirements: readonly Requirement[] = [];
  matches(): boolean {
    return false;
  }
  isEmpty(): boolean {
    return false;
  }
  toString(): string {
    return '';
  }
}

export const everything = (): LabelSelectorQuery => new Query([]);
export const nothing = (): LabelSelectorQuery => new Nothing();

/** Builds a requirement, checking the key and values as Kubernetes does. */
export function newRequirement(key: string, operator: RequirementOperator, values: readonly string[]): Requirement {
  const keyErrors = isLabelKey(key);
  if (keyErrors.length > 0) throw new SelectorParseError(`key: Invalid value: ${JSON.stringify(key)}: ${keyErrors.join('; ')}`);
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) {
        throw new SelectorParseError(`values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty`);
      }
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) throw new SelectorParseError(`values: Invalid value: ${JSON.stringify(values)}: exact-match compatibility requires one single value`);
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) throw new SelectorParseError(`values: Invalid value: ${JSON.stringify(values)}: values set must be empty for exists and does not exist`);
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1 || !/^-?[0-9]+$/.test(values[0]!)) {
        throw new SelectorParseError(`values: Invalid value: ${JSON.stringify(values)}: for 'Gt', 'Lt' operators, exactly one value is required and it must be an integer`);
      }
      return { key, operator, values: [...values] };
  }
  values.forEach((value, i) => {
    const errors = isLabelValue(value);
    if (errors.length > 0) throw new SelectorParseError(`values[${i}][${key}]: Invalid value: ${JSON.stringify(value)}: ${errors.join('; ')}`);
  });
  return { key, operator, values: [...new Set(values)].sort() };
}

// --- the query-string parser ---

type Token =
  | { kind: 'identifier'; text: string }
  | { kind: 'op'; text: '=' | '==' | '!=' | '!' | '>' | '<' | '(' | ')' | ',' }
  | { kind: 'end' };

const identifierChar = /[^\s=!<>(),]/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '=' || c === '!') {
      if (text[i + 1] === '=') {
        tokens.push({ kind: 'op', text: c === '=' ? '==' : '!=' });
        i += 2;
      } else {
        tokens.push({ kind: 'op', text: c });
        i++;
      }
    } else if ('<>(),'.includes(c)) {
      tokens.push({ kind: 'op', text: c as '<' | '>' | '(' | ')' | ',' });
      i++;
    } else {
      let j = i;
      while (j < text.length && identifierChar.test(text[j]!)) j++;
      tokens.push({ kind: 'identifier', text: text.slice(i, j) });
      i = j;
    }
  }
  tokens.push({ kind: 'end' });
  return tokens;
}

function describe(token: Token): string {
  return token.kind === 'end' ? 'end of string' : `'${token.text}'`;
}

class Parser {
  private position = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.position]!;
  }

  private next(): Token {
    return this.tokens[this.position++]!;
  }

  private fail(found: Token, expected: string): never {
    throw new SelectorParseError(`unable to parse requirement: found ${describe(found)}, expected: ${expected}`);
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    if (this.peek().kind === 'end') return requirements;
    for (;;) {
      requirements.push(this.requirement());
      const token = this.next();
      if (token.kind === 'end') return requirements;
      if (token.kind !== 'op' || token.text !== ',') this.fail(token, "',' or end of string");
    }
  }

  private identifier(what: string): string {
    const token = this.next();
    if (token.kind !== 'identifier') this.fail(token, what);
    return token.text;
  }

  private requirement(): Requirement {
    const first = this.peek();
    if (first.kind === 'op' && first.text === '!') {
      this.next();
      return newRequirement(this.identifier('identifier after \'!\''), '!', []);
    }
    const key = this.identifier('identifier');
    const token = this.peek();
    if (token.kind === 'end' || (token.kind === 'op' && token.text === ',')) return newRequirement(key, 'exists', []);
    this.next();
    if (token.kind === 'identifier') {
      if (token.text === 'in' || token.text === 'notin') return newRequirement(key, token.text, this.valueSet());
      this.fail(token, "'=', '!=', '==', 'in', 'notin', '>', '<' or ','");
    }
    switch (token.text) {
      case '=':
      case '==':
      case '!=':
        return newRequirement(key, token.text, [this.singleValue()]);
      case '>':
        return newRequirement(key, 'gt', [this.singleValue()]);
      case '<':
        return newRequirement(key, 'lt', [this.singleValue()]);
      default:
        return this.fail(token, "'=', '!=', '==', 'in', 'notin', '>', '<' or ','");
    }
  }

  /** A value after `=`: an identifier, or nothing (the empty value) before `,` or the end. */
  private singleValue(): string {
    const token = this.peek();
    if (token.kind === 'identifier') return (this.next() as { text: string }).text;
    if (token.kind === 'end' || (token.kind === 'op' && token.text === ',')) return '';
    return this.fail(token, 'a value');
  }

  /** `(a,b,c)`; an empty slot is the empty value, as in Kubernetes. */
  private valueSet(): string[] {
    const open = this.next();
    if (open.kind !== 'op' || open.text !== '(') this.fail(open, "'(' after 'in' or 'notin'");
    const values: string[] = [];
    for (;;) {
      const token = this.peek();
      if (token.kind === 'identifier') {
        values.push(token.text);
        this.next();
      } else {
        values.push('');
      }
      const separator = this.next();
      if (separator.kind === 'op' && separator.text === ')') break;
      if (separator.kind !== 'op' || separator.text !== ',') this.fail(separator, "',' or ')' in a set of values");
    }
    // `in ()` is one empty slot: an empty set, which newRequirement refuses.
    return values.length === 1 && values[0] === '' ? [] : values;
  }
}

/** Parses the query-string syntax; the empty string selects everything. Throws SelectorParseError. */
export function parseLabelSelector(text: string): LabelSelectorQuery {
  return new Query(new Parser(tokenize(text)).parse());
}

/** Like parseLabelSelector, but a parse error is a 400 ApiError. */
export function parseLabelSelectorParam(text: string): LabelSelectorQuery {
  try {
    return parseLabelSelector(text);
  } catch (err) {
    if (err instanceof SelectorParseError) throw ApiErrors.badRequest(err.message);
    throw err;
  }
}

/**
 * The query of a structured LabelSelector. `undefined` (a nil selector) selects nothing; an
 * empty selector `{}` selects everything — Kubernetes' rule for controllers' selectors.
 */
export function labelSelectorAsQuery(selector: LabelSelector | undefined | null): LabelSelectorQuery {
  if (selector === undefined || selector === null) return nothing();
  const requirements: Requirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) requirements.push(newRequirement(key, '=', [value]));
  for (const expr of selector.matchExpressions ?? []) {
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
        requirements.push(newRequirement(expr.key ?? '', 'in', values));
        break;
      case 'NotIn':
        requirements.push(newRequirement(expr.key ?? '', 'notin', values));
        break;
      case 'Exists':
        requirements.push(newRequirement(expr.key ?? '', 'exists', values));
        break;
      case 'DoesNotExist':
        requirements.push(newRequirement(expr.key ?? '', '!', values));
        break;
      default:
        throw new SelectorParseError(`${JSON.stringify(expr.operator)} is not a valid label selector operator`);
    }
  }
  return new Query(requirements);
}

/**
 * The query-string form of a structured selector (for Scale's status.selector and Table
 * cells); `<error>` for one that does not parse, as Kubernetes prints it.
 */
export function formatLabelSelector(selector: LabelSelector | undefined | null): string {
  try {
    return labelSelectorAsQuery(selector).toString();
  } catch (err) {
    if (err instanceof SelectorParseError) return '<error>';
    throw err;
  }
}

/** Whether a structured selector selects these labels. */
export function labelSelectorMatches(selector: LabelSelector | undefined | null, labels: Record<string, string> | undefined): boolean {
  return labelSelectorAsQuery(selector).matches(labels);
}

/** A selector of exactly these labels (`matchLabels` only), as controllers build for their pods. */
export function selectorFromSet(labels: Record<string, string>): LabelSelectorQuery {
  return new Query(Object.entries(labels).map(([key, value]) => newRequirement(key, '=', [value])));
}
