// JSON Patch (RFC 6902) over JSON Pointers (RFC 6901), for `application/json-patch+json`.
// Application is atomic: the operations run against a private copy of the document and the
// copy is returned only when every operation succeeded, so a failure leaves the caller's
// object untouched. Errors name the failing operation (its index and op) and its path.

import { PatchError } from './errors';
import { deepClone, deepEqual, getKey, hasKey, isObject, setKey, type JsonObject, type JsonValue } from './json';

export type JsonPatchOperation =
  | { op: 'add'; path: string; value: JsonValue }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: JsonValue }
  | { op: 'move'; from: string; path: string }
  | { op: 'copy'; from: string; path: string }
  | { op: 'test'; path: string; value: JsonValue };

/** Splits a JSON Pointer into its reference tokens, undoing the `~1` and `~0` escapes. */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) {
    throw new PatchError('InvalidPointer', `JSON pointer ${JSON.stringify(pointer)} must be empty or start with "/"`, pointer);
  }
  return pointer
    .slice(1)
    .split('/')
    .map((token) => {
      // A `~` must be followed by 0 or 1; anything else is not a valid escape.
      if (/~(?![01])/.test(token)) {
        throw new PatchError('InvalidPointer', `JSON pointer ${JSON.stringify(pointer)} has an invalid "~" escape`, pointer);
      }
      // ~1 first, then ~0, so `~01` decodes to `~1` and not to `/`.
      return token.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

/** Builds a JSON Pointer from reference tokens. */
export function formatJsonPointer(tokens: readonly string[]): string {
  return tokens.map((t) => '/' + t.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** Reads the value a pointer names, or undefined when it names nothing. */
export function getByPointer(doc: JsonValue, pointer: string): JsonValue | undefined {
  let node: JsonValue | undefined = doc;
  for (const token of parseJsonPointer(pointer)) {
    if (Array.isArray(node)) {
      const index = arrayIndex(token, node.length, false);
      node = index === undefined ? undefined : node[index];
    } else if (isObject(node)) {
      node = getKey(node, token);
    } else {
      return undefined;
    }
    if (node === undefined) return undefined;
  }
  return node;
}

/** Kubernetes refuses JSON patches longer than this. */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;

/**
 * Applies the operations in order and returns the patched copy; `doc` is never modified.
 * Throws PatchError (with the failing operation's index) when any operation fails.
 */
export function applyJsonPatch(doc: JsonValue, operations: unknown, opts: { maxOperations?: number } = {}): JsonValue {
  if (!Array.isArray(operations)) {
    throw new PatchError('InvalidPatch', 'a JSON patch must be an array of operations', '');
  }
  const max = opts.maxOperations ?? MAX_JSON_PATCH_OPERATIONS;
  if (operations.length > max) {
    throw new PatchError('InvalidPatch', `a JSON patch may hold at most ${max} operations, this one has ${operations.length}`, '');
  }
  let result = deepClone(doc);
  operations.forEach((raw: unknown, index) => {
    const op = validateOperation(raw, index);
    try {
      result = applyOperation(result, op);
    } catch (err) {
      if (err instanceof PatchError) {
        throw new PatchError(err.code, `operation ${index} (${op.op} ${op.path}): ${err.message}`, err.path, index);
      }
      throw err;
    }
  });
  return result;
}

function validateOperation(raw: unknown, index: number): JsonPatchOperation {
  const fail = (message: string, path = ''): never => {
    throw new PatchError('InvalidPatch', `operation ${index}: ${message}`, path, index);
  };
  if (!isObject(raw)) return fail('must be an object');
  const { op, path } = raw;
  if (typeof path !== 'string') return fail('"path" must be a string');
  switch (op) {
    case 'add':
    case 'replace':
    case 'test':
      // `value: null` is a real value, so presence is what matters.
      if (!hasKey(raw, 'value')) return fail(`"${op}" needs a "value"`, path);
      return { op, path, value: raw['value']! };
    case 'remove':
      return { op, path };
    case 'move':
    case 'copy':
      if (typeof raw['from'] !== 'string') return fail(`"${op}" needs a string "from"`, path);
      return { op, path, from: raw['from'] };
    default:
      return fail(`unknown op ${JSON.stringify(op)}`, path);
  }
}

function applyOperation(doc: JsonValue, op: JsonPatchOperation): JsonValue {
  switch (op.op) {
    case 'add':
      return add(doc, op.path, deepClone(op.value));
    case 'remove':
      return remove(doc, op.path).doc;
    case 'replace': {
      const tokens = parseJsonPointer(op.path);
      if (tokens.length === 0) return deepClone(op.value);
      const { parent, token } = locateParent(doc, tokens, op.path);
      if (Array.isArray(parent)) {
        parent[existingIndex(token, parent.length, op.path)] = deepClone(op.value);
      } else {
        if (!hasKey(parent, token)) throw notFound(op.path);
        setKey(parent, token, deepClone(op.value));
      }
      return doc;
    }
    case 'move': {
      if (op.from === op.path) {
        if (getByPointer(doc, op.from) === undefined) throw notFound(op.from);
        return doc;
      }
      // A location cannot be moved into one of its own children.
      if (op.path.startsWith(op.from + '/')) {
        throw new PatchError('InvalidTarget', `cannot move ${op.from} into its own child ${op.path}`, op.path);
      }
      const removed = remove(doc, op.from);
      return add(removed.doc, op.path, removed.value);
    }
    case 'copy': {
      const value = getByPointer(doc, op.from);
      if (value === undefined) throw notFound(op.from);
      return add(doc, op.path, deepClone(value));
    }
    case 'test': {
      const value = getByPointer(doc, op.path);
      if (value === undefined) throw notFound(op.path);
      if (!deepEqual(value, op.value)) {
        throw new PatchError(
          'TestFailed',
          `test failed: value is ${JSON.stringify(value)}, expected ${JSON.stringify(op.value)}`,
          op.path,
        );
      }
      return doc;
    }
  }
}

function add(doc: JsonValue, path: string, value: JsonValue): JsonValue {
  const tokens = parseJsonPointer(path);
  if (tokens.length === 0) return value;
  const { parent, token } = locateParent(doc, tokens, path);
  if (Array.isArray(parent)) {
    const index = token === '-' ? parent.length : arrayIndex(token, parent.length, true);
    if (index === undefined) throw badIndex(token, parent.length, path);
    parent.splice(index, 0, value);
  } else {
    setKey(parent, token, value);
  }
  return doc;
}

function remove(doc: JsonValue, path: string): { doc: JsonValue; value: JsonValue } {
  const tokens = parseJsonPointer(path);
  if (tokens.length === 0) throw new PatchError('InvalidTarget', 'cannot remove the whole document', path);
  const { parent, token } = locateParent(doc, tokens, path);
  if (Array.isArray(parent)) {
    const index = existingIndex(token, parent.length, path);
    const [value] = parent.splice(index, 1);
    return { doc, value: value! };
  }
  if (!hasKey(parent, token)) throw notFound(path);
  const value = parent[token]!;
  delete parent[token];
  return { doc, value };
}

/** Walks to the container that holds the last token; every step before it must exist. */
function locateParent(doc: JsonValue, tokens: string[], path: string): { parent: JsonObject | JsonValue[]; token: string } {
  let node: JsonValue = doc;
  for (const token of tokens.slice(0, -1)) {
    let next: JsonValue | undefined;
    if (Array.isArray(node)) {
      const index = arrayIndex(token, node.length, false);
      next = index === undefined ? undefined : node[index];
    } else if (isObject(node)) {
      next = getKey(node, token);
    }
    if (next === undefined) throw notFound(path);
    node = next;
  }
  if (!Array.isArray(node) && !isObject(node)) {
    throw new PatchError('InvalidTarget', `parent of ${path} is not an object or array`, path);
  }
  return { parent: node, token: tokens[tokens.length - 1]! };
}

/**
 * RFC 6901 array indices: `0` or digits without a leading zero. `allowEnd` admits the
 * position one past the last element (where `add` inserts).
 */
function arrayIndex(token: string, length: number, allowEnd: boolean): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
  const index = Number(token);
  return index < length || (allowEnd && index === length) ? index : undefined;
}

function existingIndex(token: string, length: number, path: string): number {
  const index = arrayIndex(token, length, false);
  if (index === undefined) throw badIndex(token, length, path);
  return index;
}

function badIndex(token: string, length: number, path: string): PatchError {
  return new PatchError('InvalidTarget', `array index ${JSON.stringify(token)} is not valid for an array of length ${length}`, path);
}

function notFound(path: string): PatchError {
  return new PatchError('PathNotFound', `path ${JSON.stringify(path)} does not exist`, path);
}
