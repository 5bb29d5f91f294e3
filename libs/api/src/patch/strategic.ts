// Strategic merge patch, as Kubernetes applies it for `application/strategic-merge-patch+json`
// (kubectl apply, kubectl patch): a JSON merge patch that knows, from the kind's patch metadata,
// which lists merge element by element (by a merge key, or as a set of primitives) instead of
// being replaced, and that understands the directives kubectl sends:
//   `$patch: replace | delete | merge` on a map or a list element, `{"$patch": "replace"}` in a list,
//   `$retainKeys`, `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`.
// It also computes the patches kubectl would send (two-way and three-way), so the CLI and the
// tests can produce exactly what a client-side apply puts on the wire.

import { PatchError } from './errors';
import { deepClone, deepEqual, getKey, hasKey, isObject, setKey, type JsonObject, type JsonValue } from './json';
import { fieldSchema, itemSchema, type FieldSchema, type ListSchema } from './strategic-metadata';

const PATCH = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE = '$deleteFromPrimitiveList/';

/**
 * Applies a strategic merge patch to `original` (which is not modified) and returns the result.
 * `schema` is the kind's metadata (`schemaFor(apiVersion, kind)`); without it every list is
 * replaced whole, as for a plain merge patch.
 */
export function applyStrategicMergePatch(original: JsonValue | undefined, patch: JsonValue, schema?: FieldSchema): JsonObject {
  if (!isObject(patch)) throw new PatchError('InvalidPatch', 'a strategic merge patch must be a JSON object', '');
  const base = isObject(original) ? deepClone(original) : {};
  if (getKey(patch, PATCH) === 'delete') throw new PatchError('InvalidPatch', '"$patch: delete" cannot delete the whole object', '');
  return mergeMap(base, patch, schema, '');
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function isDirectiveKey(key: string): boolean {
  return key === PATCH || key === RETAIN_KEYS || key.startsWith(SET_ORDER) || key.startsWith(DELETE_FROM_PRIMITIVE);
}

/** Merges `patch` into `original` (owned by the caller, mutated in place). */
function mergeMap(original: JsonObject | undefined, patch: JsonObject, schema: FieldSchema | undefined, path: string): JsonObject {
  const directive = getKey(patch, PATCH);
  if (directive !== undefined) {
    // Kubernetes empties a map deleted this way rather than removing its key; in a list the
    // element goes (see mergeList).
    if (directive === 'delete') return {};
    if (directive === 'replace') {
      // The map becomes exactly the patch (its own directives still apply to its children).
      const rest = { ...patch };
      delete rest[PATCH];
      return mergeMap(undefined, rest, schema, path);
    }
    // `merge` is the default; Kubernetes refuses it here, we accept it as a no-op.
    if (directive !== 'merge') {
      throw new PatchError('InvalidPatch', `${join(path, PATCH)}: unknown directive ${JSON.stringify(directive)}`, path);
    }
  }
  const result: JsonObject = original ?? {};

  const retain = getKey(patch, RETAIN_KEYS);
  if (retain !== undefined) {
    if (!Array.isArray(retain) || !retain.every((k) => typeof k === 'string')) {
      throw new PatchError('InvalidPatch', `${join(path, RETAIN_KEYS)} must be a list of strings`, path);
    }
    for (const key of Object.keys(patch)) {
      if (isDirectiveKey(key) || patch[key] === null || retain.includes(key)) continue;
      throw new PatchError('InvalidPatch', `${join(path, key)}: the patch sets a key its $retainKeys does not list`, join(path, key));
    }
    // Keys the patch does not retain are cleared, so switching e.g. a Deployment's strategy
    // type drops the old type's settings; keys the patch sets are merged below.
    for (const key of Object.keys(result)) {
      if (!retain.includes(key)) delete result[key];
    }
  }

  // Lists as they were before this patch: `$setElementOrder` places server-only elements by it.
  const before = new Map<string, JsonValue[]>();
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ORDER)) continue;
    const field = key.slice(SET_ORDER.length);
    const current = getKey(result, field);
    before.set(field, Array.isArray(current) ? current : []);
  }

  for (const key of Object.keys(patch)) {
    if (!key.startsWith(DELETE_FROM_PRIMITIVE)) continue;
    const field = key.slice(DELETE_FROM_PRIMITIVE.length);
    const values = patch[key]!;
    if (!Array.isArray(values)) throw new PatchError('InvalidPatch', `${join(path, key)} must be a list`, join(path, field));
    const current = getKey(result, field);
    if (Array.isArray(current)) {
      setKey(result, field, current.filter((v) => !values.some((d) => deepEqual(d, v))));
    }
  }

  for (const key of Object.keys(patch)) {
    if (isDirectiveKey(key)) continue;
    const value = patch[key]!;
    const childPath = join(path, key);
    if (value === null) {
      delete result[key];
      continue;
    }
    const child = fieldSchema(schema, key);
    const previous = getKey(result, key);
    if (isObject(value)) {
      setKey(result, key, mergeMap(isObject(previous) ? previous : undefined, value, child, childPath));
    } else if (Array.isArray(value)) {
      setKey(result, key, mergeList(Array.isArray(previous) ? previous : undefined, value, child?.list, childPath));
    } else {
      setKey(result, key, value);
    }
  }

  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ORDER)) continue;
    const field = key.slice(SET_ORDER.length);
    const order = patch[key]!;
    if (!Array.isArray(order)) throw new PatchError('InvalidPatch', `${join(path, key)} must be a list`, join(path, field));
    const current = getKey(result, field);
    if (!Array.isArray(current)) continue;
    const list = fieldSchema(schema, field)?.list;
    const keyOf = elementKey(list?.mergeKey, join(path, field), true);
    setKey(result, field, orderElements(current, order, before.get(field) ?? [], keyOf));
  }
  return result;
}

function mergeList(previous: JsonValue[] | undefined, patch: JsonValue[], list: ListSchema | undefined, path: string): JsonValue[] {
  // No merge strategy: the list is one value, replaced whole.
  if (!list || list.strategy !== 'merge') return deepClone(patch);
  const original = previous ?? [];
  const mergeKey = list.mergeKey;

  if (mergeKey === undefined) {
    // A merge list of primitives is a set: the union, without duplicates.
    const merged: JsonValue[] = [];
    for (const value of [...original, ...patch]) {
      if (isObject(value) || Array.isArray(value)) {
        throw new PatchError('InvalidPatch', `${path}: a list of primitives cannot hold ${JSON.stringify(value)}`, path);
      }
      if (!merged.some((v) => deepEqual(v, value))) merged.push(value);
    }
    return orderElements(merged, patch, original, (v) => v);
  }

  const keyOf = elementKey(mergeKey, path, false);
  let result = [...original];
  const items: JsonObject[] = [];
  let replace = false;
  for (const item of patch) {
    if (!isObject(item)) throw new PatchError('InvalidPatch', `${path}: element ${JSON.stringify(item)} is not an object`, path);
    const directive = getKey(item, PATCH);
    if (directive === undefined) {
      items.push(item);
    } else if (directive === 'delete') {
      const key = keyOf(item);
      result = result.filter((e) => !deepEqual(keyOf(e), key));
    } else if (directive === 'replace') {
      replace = true;
    } else {
      throw new PatchError('InvalidPatch', `${path}: list elements cannot say $patch: ${JSON.stringify(directive)}`, path);
    }
  }
  // `{"$patch": "replace"}` in the list: the list becomes the other elements.
  if (replace) return items.map((item) => mergeMap(undefined, item, list.items, path));

  for (const item of items) {
    const key = keyOf(item);
    const at = result.findIndex((e) => isObject(e) && deepEqual(getKey(e, mergeKey), key));
    const elementPath = `${path}[${mergeKey}=${JSON.stringify(key)}]`;
    const merged = mergeMap(at >= 0 ? (result[at] as JsonObject) : undefined, item, list.items, elementPath);
    if (at >= 0) result[at] = merged;
    else result.push(merged);
  }
  return orderElements(result, items, original, keyOf);
}

/** How elements of a list are identified: by merge key, or themselves for primitives. */
function elementKey(mergeKey: string | undefined, path: string, inOrderList: boolean): (v: JsonValue) => JsonValue {
  if (mergeKey === undefined) return (v) => v;
  return (v) => {
    const key = isObject(v) ? getKey(v, mergeKey) : undefined;
    if (key === undefined) {
      const where = inOrderList ? '$setElementOrder entry' : 'element';
      throw new PatchError('InvalidPatch', `${path}: ${where} ${JSON.stringify(v)} does not contain the merge key "${mergeKey}"`, path);
    }
    return key;
  };
}

/**
 * Kubernetes' element order after a merge: elements the patch names (`patchOrder`: the patch
 * list or a `$setElementOrder`) come in the patch's order; the others (server-only) keep their
 * order from `serverOrder`, the list before the patch. The two runs are interleaved: a
 * server-only element goes first only when both it and the next patch element were in the old
 * list and it came earlier there. New elements therefore come before later server-only ones.
 */
function orderElements(merged: JsonValue[], patchOrder: JsonValue[], serverOrder: JsonValue[], keyOf: (v: JsonValue) => JsonValue): JsonValue[] {
  const orderKeys = patchOrder.map(keyOf);
  const serverKeys = serverOrder.map(keyOf);
  const rank = (keys: JsonValue[], v: JsonValue) => {
    const key = keyOf(v);
    return keys.findIndex((k) => deepEqual(k, key));
  };
  const byRank = (keys: JsonValue[]) => (a: JsonValue, b: JsonValue) => {
    const ra = rank(keys, a);
    const rb = rank(keys, b);
    return ra >= 0 && rb >= 0 ? ra - rb : 0;
  };
  const patchItems = merged.filter((v) => rank(orderKeys, v) >= 0).sort(byRank(orderKeys));
  const serverOnly = merged.filter((v) => rank(orderKeys, v) < 0).sort(byRank(serverKeys));
  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < patchItems.length) {
    if (j >= patchItems.length) {
      out.push(serverOnly[i++]!);
    } else if (i >= serverOnly.length) {
      out.push(patchItems[j++]!);
    } else {
      const rs = rank(serverKeys, serverOnly[i]!);
      const rp = rank(serverKeys, patchItems[j]!);
      out.push(rs >= 0 && rp >= 0 && rs < rp ? serverOnly[i++]! : patchItems[j++]!);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Computing patches, as kubectl does for client-side apply.

interface DiffOptions {
  /** Do not emit deletions (fields or elements present in `from` only). */
  ignoreDeletions?: boolean;
  /** Emit only deletions. */
  ignoreChangesAndAdditions?: boolean;
}

/** The strategic merge patch that turns `original` into `modified`. */
export function createTwoWayMergePatch(original: JsonObject, modified: JsonObject, schema?: FieldSchema): JsonObject {
  return diffMaps(original, modified, schema, {});
}

/**
 * kubectl apply's patch: changes and additions are taken against the live object (`current`),
 * deletions only of what the last applied configuration (`original`) had and `modified` dropped,
 * so fields set by others (defaults, controllers) survive.
 */
export function createThreeWayMergePatch(
  original: JsonObject | undefined,
  modified: JsonObject,
  current: JsonObject,
  schema?: FieldSchema,
): JsonObject {
  const delta = diffMaps(current, modified, schema, { ignoreDeletions: true });
  const deletions = diffMaps(original ?? {}, modified, schema, { ignoreChangesAndAdditions: true });
  return combinePatches(deletions, delta, schema);
}

function diffMaps(from: JsonObject, to: JsonObject, schema: FieldSchema | undefined, opts: DiffOptions): JsonObject {
  const patch: JsonObject = {};
  for (const key of Object.keys(to)) {
    const next = to[key]!;
    const child = fieldSchema(schema, key);
    if (!hasKey(from, key)) {
      if (!opts.ignoreChangesAndAdditions) setKey(patch, key, deepClone(next));
      continue;
    }
    const prev = from[key]!;
    if (deepEqual(prev, next)) continue;
    if (isObject(prev) && isObject(next)) {
      const sub = diffMaps(prev, next, child, opts);
      if (Object.keys(sub).length > 0) {
        if (child?.retainKeys && !opts.ignoreChangesAndAdditions) sub[RETAIN_KEYS] = Object.keys(next).sort();
        setKey(patch, key, sub);
      }
    } else if (Array.isArray(prev) && Array.isArray(next)) {
      diffLists(patch, key, prev, next, child?.list, opts);
    } else if (!opts.ignoreChangesAndAdditions) {
      setKey(patch, key, deepClone(next));
    }
  }
  if (!opts.ignoreDeletions) {
    for (const key of Object.keys(from)) if (!hasKey(to, key)) setKey(patch, key, null);
  }
  return patch;
}

function diffLists(patch: JsonObject, key: string, from: JsonValue[], to: JsonValue[], list: ListSchema | undefined, opts: DiffOptions): void {
  const mergeKey = list?.mergeKey;
  // Without a merge strategy, or with nothing to merge into, the list goes whole.
  if (!list || list.strategy !== 'merge' || from.length === 0) {
    if (!opts.ignoreChangesAndAdditions) setKey(patch, key, deepClone(to));
    return;
  }
  if (mergeKey === undefined) {
    const added = to.filter((v) => !from.some((f) => deepEqual(f, v)));
    const removed = from.filter((v, i) => !to.some((t) => deepEqual(t, v)) && from.findIndex((f) => deepEqual(f, v)) === i);
    if (added.length > 0 && !opts.ignoreChangesAndAdditions) setKey(patch, key, deepClone(added));
    if (removed.length > 0 && !opts.ignoreDeletions) patch[DELETE_FROM_PRIMITIVE + key] = deepClone(removed);
    // The order goes along when anything changed, including only the order.
    if ((removed.length > 0 && !opts.ignoreDeletions) || (!opts.ignoreChangesAndAdditions && !deepEqual(from, to))) {
      patch[SET_ORDER + key] = deepClone(to);
    }
    return;
  }
  const keyOf = (v: JsonValue) => (isObject(v) ? getKey(v, mergeKey) : undefined);
  const entries: JsonValue[] = [];
  for (const item of to) {
    const match = from.find((f) => keyOf(f) !== undefined && deepEqual(keyOf(f), keyOf(item)));
    if (match === undefined || !isObject(match) || !isObject(item)) {
      if (!opts.ignoreChangesAndAdditions) entries.push(deepClone(item));
      continue;
    }
    const sub = diffMaps(match, item, list.items, opts);
    if (Object.keys(sub).length === 0) continue;
    const entry: JsonObject = { [mergeKey]: deepClone(item[mergeKey]!), ...sub };
    if (list.retainKeys && !opts.ignoreChangesAndAdditions) entry[RETAIN_KEYS] = Object.keys(item).sort();
    entries.push(entry);
  }
  if (!opts.ignoreDeletions) {
    for (const item of from) {
      const k = keyOf(item);
      if (k !== undefined && !to.some((t) => deepEqual(keyOf(t), k))) entries.push({ [mergeKey]: deepClone(k), [PATCH]: 'delete' });
    }
  }
  const orderSame = from.length === to.length && from.every((f, i) => deepEqual(keyOf(f), keyOf(to[i]!)));
  if (entries.length > 0) setKey(patch, key, entries);
  if (entries.length > 0 || (!opts.ignoreChangesAndAdditions && !orderSame)) {
    patch[SET_ORDER + key] = to.filter(isObject).map((t) => ({ [mergeKey]: deepClone(t[mergeKey] ?? null) }));
  }
}

/** Joins two patches for the same object; `b` wins where both set the same scalar. */
function combinePatches(a: JsonObject, b: JsonObject, schema: FieldSchema | undefined): JsonObject {
  const result = deepClone(a);
  for (const key of Object.keys(b)) {
    const next = b[key]!;
    const prev = getKey(result, key);
    const child = isDirectiveKey(key) ? undefined : fieldSchema(schema, key);
    if (isObject(prev) && isObject(next)) {
      setKey(result, key, combinePatches(prev, next, child));
    } else if (Array.isArray(prev) && Array.isArray(next) && child?.list?.strategy === 'merge' && child.list.mergeKey !== undefined) {
      const mergeKey = child.list.mergeKey;
      const merged = [...prev];
      for (const entry of next) {
        const at = merged.findIndex((m) => isObject(m) && isObject(entry) && deepEqual(getKey(m, mergeKey), getKey(entry, mergeKey)));
        if (at >= 0) merged[at] = combinePatches(merged[at] as JsonObject, entry as JsonObject, itemSchema(child));
        else merged.push(deepClone(entry));
      }
      setKey(result, key, merged);
    } else {
      setKey(result, key, deepClone(next));
    }
  }
  return result;
}
