// JSON Merge Patch (RFC 7386), for `application/merge-patch+json` (kubectl label, annotate,
// scale): an object patch merges key by key, `null` deletes a key, and anything else (arrays
// included) replaces. `createMergePatch` computes the patch that turns one document into another.
// Neither function modifies its arguments.

import { deepClone, deepEqual, getKey, hasKey, isObject, setKey, type JsonObject, type JsonValue } from './json';

export function applyMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return deepClone(patch);
  const result: JsonObject = isObject(target) ? deepClone(target) : {};
  for (const key of Object.keys(patch)) {
    const value = patch[key]!;
    if (value === null) {
      delete result[key];
    } else {
      setKey(result, key, applyMergePatch(getKey(result, key), value));
    }
  }
  return result;
}

/**
 * The merge patch that turns `original` into `modified`. A merge patch cannot say "set this
 * key to null" (null means delete), so `modified` must hold no null object members for the
 * round trip `applyMergePatch(original, createMergePatch(original, modified))` to be exact.
 */
export function createMergePatch(original: JsonValue, modified: JsonValue): JsonValue {
  if (!isObject(original) || !isObject(modified)) return deepClone(modified);
  const patch: JsonObject = {};
  for (const key of Object.keys(original)) {
    if (!hasKey(modified, key)) setKey(patch, key, null);
  }
  for (const key of Object.keys(modified)) {
    const next = modified[key]!;
    if (!hasKey(original, key)) {
      setKey(patch, key, deepClone(next));
      continue;
    }
    const prev = original[key]!;
    if (deepEqual(prev, next)) continue;
    setKey(patch, key, isObject(prev) && isObject(next) ? createMergePatch(prev, next) : deepClone(next));
  }
  return patch;
}
