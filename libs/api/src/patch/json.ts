// JSON values as every patch algorithm here sees them, and the few helpers they all need:
// deep equality, deep copy, and own-key reads and writes that cannot touch a prototype
// (a patch may name a key `__proto__`; plain assignment would rewrite the object's prototype).

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function hasKey(obj: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** The own value of `key`, or undefined (never an inherited one). */
export function getKey(obj: JsonObject, key: string): JsonValue | undefined {
  return hasKey(obj, key) ? obj[key] : undefined;
}

/** Sets an own, enumerable property even for `__proto__`. */
export function setKey(obj: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((k) => hasKey(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

export function deepClone<T extends JsonValue>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => deepClone(v)) as T;
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const k of Object.keys(value)) setKey(out, k, deepClone(value[k]!));
    return out as T;
  }
  return value;
}
