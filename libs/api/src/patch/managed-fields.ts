// Field sets for server-side apply, in Kubernetes' `FieldsV1` format. A field set is a trie of
// path elements, each written as Kubernetes writes them in `metadata.managedFields`:
//   `f:<name>`  a struct field or map key        `k:{"name":"web"}`  a list element by its keys
//   `v:<json>`  a member of a set list             `i:<n>`             a list element by index
// A node that is itself a member and also has children carries a `".": {}` entry.
// This file owns the trie, its (de)serialisation, computing the set of fields a value holds
// (guided by the kind's listType/listMapKeys metadata), and reading or removing a value by path.

import { PatchError } from './errors';
import { getKey, isObject, type JsonObject, type JsonValue } from './json';
import { fieldSchema, itemSchema, type FieldSchema, type ListSchema } from './strategic-metadata';

export type FieldPath = readonly string[];

export class FieldSet {
  private member = false;
  private readonly children = new Map<string, FieldSet>();

  static fromPaths(paths: Iterable<FieldPath>): FieldSet {
    const set = new FieldSet();
    for (const p of paths) set.insert(p);
    return set;
  }

  /** Parses a `fieldsV1` object; throws PatchError on anything that is not one. */
  static fromFieldsV1(json: JsonValue, path = 'fieldsV1'): FieldSet {
    const set = new FieldSet();
    if (!isObject(json)) throw new PatchError('InvalidPatch', `${path} must be an object`, path);
    for (const key of Object.keys(json)) {
      if (key === '.') {
        set.member = true;
        continue;
      }
      if (!/^[fkvi]:/.test(key)) throw new PatchError('InvalidPatch', `${path}: unknown path element ${JSON.stringify(key)}`, path);
      const child = FieldSet.fromFieldsV1(json[key]!, `${path}.${key}`);
      // A leaf (`{}`) is a member; a node with children is a member only if it says `.`.
      if (child.children.size === 0) child.member = true;
      set.children.set(key, child);
    }
    return set;
  }

  toFieldsV1(): JsonObject {
    const out: JsonObject = {};
    if (this.member && this.children.size > 0) out['.'] = {};
    for (const key of [...this.children.keys()].sort()) out[key] = this.children.get(key)!.toFieldsV1();
    return out;
  }

  insert(path: FieldPath): void {
    let node = this.self();
    for (const pe of path) {
      let next = node.children.get(pe);
      if (!next) {
        next = new FieldSet();
        node.children.set(pe, next);
      }
      node = next;
    }
    node.member = true;
  }

  has(path: FieldPath): boolean {
    const node = this.node(path);
    return node !== undefined && node.member;
  }

  /** Whether the set holds `path` or anything below it. */
  hasAtOrBelow(path: FieldPath): boolean {
    const node = this.node(path);
    return node !== undefined && (node.member || node.children.size > 0);
  }

  /** Whether the node at `path` has members below it. */
  hasChildren(path: FieldPath): boolean {
    const node = this.node(path);
    return node !== undefined && node.children.size > 0;
  }

  isEmpty(): boolean {
    return !this.member && this.children.size === 0;
  }

  /** Every member path, parents before children. */
  paths(): string[][] {
    const out: string[][] = [];
    const walk = (node: FieldSet, prefix: string[]) => {
      if (node.member && prefix.length > 0) out.push(prefix);
      for (const [pe, child] of node.children) walk(child, [...prefix, pe]);
    };
    walk(this, []);
    return out;
  }

  union(other: FieldSet): FieldSet {
    return FieldSet.fromPaths([...this.paths(), ...other.paths()]);
  }

  difference(other: FieldSet): FieldSet {
    return FieldSet.fromPaths(this.paths().filter((p) => !other.has(p)));
  }

  intersection(other: FieldSet): FieldSet {
    return FieldSet.fromPaths(this.paths().filter((p) => other.has(p)));
  }

  equals(other: FieldSet): boolean {
    const a = this.paths();
    const b = other.paths();
    return a.length === b.length && a.every((p) => other.has(p));
  }

  /** This set, typed for walking without aliasing `this`. */
  private self(): FieldSet {
    return this;
  }

  private node(path: FieldPath): FieldSet | undefined {
    let node: FieldSet | undefined = this.self();
    for (const pe of path) {
      node = node.children.get(pe);
      if (!node) return undefined;
    }
    return node;
  }
}

/** `.spec.template.spec.containers[name="web"].image`, as Kubernetes prints a field path. */
export function formatFieldPath(path: FieldPath): string {
  return path
    .map((pe) => {
      const body = pe.slice(2);
      switch (pe[0]) {
        case 'f':
          return `.${body}`;
        case 'k': {
          const key = JSON.parse(body) as JsonObject;
          return `[${Object.keys(key)
            .map((k) => `${k}=${JSON.stringify(key[k])}`)
            .join(',')}]`;
        }
        case 'v':
          return `[=${body}]`;
        default:
          return `[${body}]`;
      }
    })
    .join('');
}

/** The `k:` path element of a map-list element: its key fields (defaults filled), sorted by name. */
export function keyElement(item: JsonValue, list: ListSchema): string | undefined {
  if (!isObject(item)) return undefined;
  const names = [...(list.keys ?? (list.mergeKey ? [list.mergeKey] : []))].sort();
  const key: JsonObject = {};
  for (const name of names) {
    const value = getKey(item, name) ?? list.keyDefaults?.[name];
    if (value !== undefined) key[name] = value;
  }
  return Object.keys(key).length > 0 ? `k:${JSON.stringify(key)}` : undefined;
}

/** How a list is tracked; fields without metadata are atomic, as for CRDs. */
export function listType(schema: FieldSchema | undefined): 'atomic' | 'set' | 'map' {
  return schema?.list?.type ?? 'atomic';
}

/**
 * The fields `value` holds. `apply` mode gives what an applier owns: leaves, atomic values,
 * list elements and empty maps. `all` mode also lists every non-root map and list as a node,
 * which is how an Update's newly created maps show up (with `.`).
 */
export function fieldsOf(value: JsonValue, schema: FieldSchema | undefined, mode: 'apply' | 'all'): FieldSet {
  const out = new FieldSet();
  collect(value, schema, [], out, mode);
  return out;
}

function collect(value: JsonValue, schema: FieldSchema | undefined, path: string[], out: FieldSet, mode: 'apply' | 'all'): void {
  if (isObject(value) && !schema?.atomic) {
    const keys = Object.keys(value);
    // Top-level fields (metadata, spec) always exist, so they are never owned as nodes.
    if (path.length > 1 && (mode === 'all' || keys.length === 0)) out.insert(path);
    if (path.length === 1 && keys.length === 0) out.insert(path);
    for (const key of keys) collect(value[key]!, fieldSchema(schema, key), [...path, `f:${key}`], out, mode);
    return;
  }
  if (Array.isArray(value)) {
    const list = schema?.list;
    const type = listType(schema);
    if (!list || type === 'atomic') {
      out.insert(path);
      return;
    }
    if (mode === 'all' || value.length === 0) out.insert(path);
    for (const item of value) {
      if (type === 'set') {
        out.insert([...path, `v:${JSON.stringify(item)}`]);
        continue;
      }
      const pe = keyElement(item, list);
      if (pe === undefined || !isObject(item)) {
        // An element without its keys cannot be told apart: own the list whole.
        out.insert(path);
        continue;
      }
      const elementPath = [...path, pe];
      out.insert(elementPath);
      for (const key of Object.keys(item)) collect(item[key]!, fieldSchema(list.items, key), [...elementPath, `f:${key}`], out, mode);
    }
    return;
  }
  out.insert(path);
}

interface Located {
  value: JsonValue;
  schema: FieldSchema | undefined;
}

/** The value at a field path, or undefined when the object has nothing there. */
export function valueAt(root: JsonValue, path: FieldPath, schema: FieldSchema | undefined): JsonValue | undefined {
  let node: Located | undefined = { value: root, schema };
  for (const pe of path) {
    node = step(node, pe);
    if (!node) return undefined;
  }
  return node.value;
}

function step(node: Located, pe: string): Located | undefined {
  const body = pe.slice(2);
  const { value, schema } = node;
  if (pe.startsWith('f:')) {
    if (!isObject(value)) return undefined;
    const child = getKey(value, body);
    return child === undefined ? undefined : { value: child, schema: fieldSchema(schema, body) };
  }
  if (!Array.isArray(value)) return undefined;
  const at = indexIn(value, pe, schema?.list);
  return at < 0 ? undefined : { value: value[at]!, schema: itemSchema(schema) };
}

function indexIn(list: JsonValue[], pe: string, schema: ListSchema | undefined): number {
  const body = pe.slice(2);
  if (pe.startsWith('k:')) return schema ? list.findIndex((item) => keyElement(item, schema) === pe) : -1;
  if (pe.startsWith('v:')) return list.findIndex((item) => JSON.stringify(item) === body);
  if (pe.startsWith('i:')) {
    const i = Number(body);
    return Number.isInteger(i) && i >= 0 && i < list.length ? i : -1;
  }
  return -1;
}

/**
 * Removes the value at `path` from `root` (in place). Maps and lists the removal leaves empty
 * are removed too, below the top-level fields and unless `keep` says the path is still wanted,
 * as Go's typed objects would drop them.
 */
export function removeAt(root: JsonObject, path: FieldPath, schema: FieldSchema | undefined, keep: (path: FieldPath) => boolean = () => false): void {
  const chain: Located[] = [{ value: root, schema }];
  for (const pe of path.slice(0, -1)) {
    const next = step(chain[chain.length - 1]!, pe);
    if (!next) return;
    chain.push(next);
  }
  for (let depth = path.length - 1; depth >= 0; depth--) {
    const parent = chain[depth]!;
    const pe = path[depth]!;
    if (pe.startsWith('f:')) {
      if (isObject(parent.value)) delete parent.value[pe.slice(2)];
    } else if (Array.isArray(parent.value)) {
      const at = indexIn(parent.value, pe, parent.schema?.list);
      if (at >= 0) parent.value.splice(at, 1);
    }
    // Go on only if the parent is now empty, below the top level, and not wanted as it is.
    const empty = Array.isArray(parent.value) ? parent.value.length === 0 : isObject(parent.value) && Object.keys(parent.value).length === 0;
    if (depth < 2 || !empty || keep(path.slice(0, depth))) return;
  }
}
