// Helpers over whole objects that the apiserver and controllers share: deep copy and deep
// equality of JSON values, the spec/status split behind the status subresource, the
// generation rule (a desired-state change bumps it, a status or metadata change does not),
// owner references (the controller reference) and finalizers. Everything is pure and
// returns new objects; nothing here mutates its arguments.

import type { ResourceInfo } from './scheme';
import type { KubeObject, ObjectMeta, OwnerReference } from './types/meta';

/** Top-level fields that are never part of an object's desired state. */
const envelopeFields = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * Sets an own property, even one named `__proto__`: plain assignment with a key from a
 * request body would set the object's prototype instead of a field.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** A deep copy of a JSON value (objects, arrays, strings, numbers, booleans, null). */
export function deepCopy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => deepCopy(item)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) setOwn(out, key, deepCopy(item));
  }
  return out as T;
}

/**
 * Structural equality of JSON values. A field set to `undefined` equals a missing field, as
 * they serialize the same; an empty array or object does not equal a missing one.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => deepEqual(item, other[i]));
  }
  const left = Object.entries(a).filter(([, v]) => v !== undefined);
  const right = b as Record<string, unknown>;
  const rightCount = Object.values(right).filter((v) => v !== undefined).length;
  return left.length === rightCount && left.every(([k, v]) => deepEqual(v, right[k]));
}

type StatusInfo = Pick<ResourceInfo, 'statusFields'>;

/** The object's desired state: every top-level field but the envelope and the status fields. */
export function specPart(info: StatusInfo, object: KubeObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (!envelopeFields.has(key) && !info.statusFields.includes(key) && value !== undefined) setOwn(out, key, value);
  }
  return out;
}

/** The object's observed state: its status fields only. */
export function statusPart(info: StatusInfo, object: KubeObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const record = object as unknown as Record<string, unknown>;
  for (const key of info.statusFields) if (record[key] !== undefined) out[key] = record[key];
  return out;
}

function withoutFields<T extends KubeObject>(object: T, drop: (key: string) => boolean): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) if (!drop(key)) setOwn(out, key, value);
  return out as T;
}

/**
 * A write to the main resource: everything from `updated` except status, which stays as in
 * `current`. For a resource without a status subresource this is `updated` itself.
 */
export function keepStatus<T extends KubeObject>(info: StatusInfo, updated: T, current: T): T {
  if (info.statusFields.length === 0) return deepCopy(updated);
  const out = withoutFields(deepCopy(updated), (key) => info.statusFields.includes(key));
  return { ...out, ...deepCopy(statusPart(info, current)) };
}

/**
 * A write to the `status` subresource: status from `updated`, everything else (spec and
 * metadata alike, as Kubernetes resets metadata on status writes) from `current`. Only
 * `resourceVersion` comes from `updated`, since it is the write's precondition.
 */
export function keepSpec<T extends KubeObject>(info: StatusInfo, updated: T, current: T): T {
  const out = withoutFields(deepCopy(current), (key) => info.statusFields.includes(key));
  const metadata: ObjectMeta = { ...out.metadata };
  if (updated.metadata.resourceVersion !== undefined) metadata.resourceVersion = updated.metadata.resourceVersion;
  return { ...out, ...deepCopy(statusPart(info, updated)), metadata };
}

/** Whether the desired state differs between two versions of an object. */
export function specChanged(info: StatusInfo, updated: KubeObject, current: KubeObject): boolean {
  return !deepEqual(specPart(info, updated), specPart(info, current));
}

/**
 * The generation `updated` should be stored with: 1 on create, +1 when the desired state
 * changed, unchanged otherwise; left out for resources that do not track generations.
 */
export function nextGeneration(
  info: Pick<ResourceInfo, 'statusFields' | 'tracksGeneration'>,
  updated: KubeObject,
  current: KubeObject | undefined,
): number | undefined {
  if (!info.tracksGeneration) return current?.metadata.generation;
  if (!current) return 1;
  const generation = current.metadata.generation ?? 1;
  return specChanged(info, updated, current) ? generation + 1 : generation;
}

// --- owner references ---

/** The one owner reference with `controller: true`, if any. */
export function controllerRef(object: KubeObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((ref) => ref.controller === true);
}

/** An owner reference that makes `owner` the controller of whatever carries it. */
export function newControllerRef(owner: KubeObject & { apiVersion: string; kind: string }): OwnerReference {
  const { name, uid } = owner.metadata;
  if (!name || !uid) throw new Error('newControllerRef: owner needs a name and a uid');
  return { apiVersion: owner.apiVersion, kind: owner.kind, name, uid, controller: true, blockOwnerDeletion: true };
}

/** Whether `object` names the owner with this uid among its owner references. */
export function isOwnedBy(object: KubeObject, ownerUid: string): boolean {
  return object.metadata.ownerReferences?.some((ref) => ref.uid === ownerUid) ?? false;
}

/** A copy of `object` with `ref` added, replacing any reference with the same uid. */
export function withOwnerReference<T extends KubeObject>(object: T, ref: OwnerReference): T {
  const refs = (object.metadata.ownerReferences ?? []).filter((r) => r.uid !== ref.uid);
  return { ...object, metadata: { ...object.metadata, ownerReferences: [...refs, ref] } };
}

/** A copy of `object` without the reference to the owner with this uid. */
export function withoutOwnerReference<T extends KubeObject>(object: T, ownerUid: string): T {
  const refs = (object.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
  const metadata: ObjectMeta = { ...object.metadata, ownerReferences: refs };
  if (refs.length === 0) delete metadata.ownerReferences;
  return { ...object, metadata };
}

// --- finalizers ---

export function hasFinalizer(object: KubeObject, finalizer: string): boolean {
  return object.metadata.finalizers?.includes(finalizer) ?? false;
}

/** A copy of `object` with `finalizer` added once. */
export function withFinalizer<T extends KubeObject>(object: T, finalizer: string): T {
  if (hasFinalizer(object, finalizer)) return object;
  return { ...object, metadata: { ...object.metadata, finalizers: [...(object.metadata.finalizers ?? []), finalizer] } };
}

/** A copy of `object` without `finalizer` (and without an empty finalizers list). */
export function withoutFinalizer<T extends KubeObject>(object: T, finalizer: string): T {
  const finalizers = (object.metadata.finalizers ?? []).filter((f) => f !== finalizer);
  const metadata: ObjectMeta = { ...object.metadata, finalizers };
  if (finalizers.length === 0) delete metadata.finalizers;
  return { ...object, metadata };
}

/** Whether deletion has begun: the object lingers only for its finalizers or grace period. */
export function isBeingDeleted(object: KubeObject): boolean {
  return object.metadata.deletionTimestamp !== undefined;
}

/** The well-known finalizers the garbage collector acts on. */
export const Finalizers = {
  orphan: 'orphan',
  foregroundDeletion: 'foregroundDeletion',
  kubernetes: 'kubernetes',
} as const;

// --- time ---

/** A Date (or milliseconds) as metav1.Time: RFC 3339 in UTC, whole seconds. */
export function formatTime(at: Date | number): string {
  const date = typeof at === 'number' ? new Date(at) : at;
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** A Date (or milliseconds) as metav1.MicroTime: RFC 3339 in UTC with microseconds. */
export function formatMicroTime(at: Date | number): string {
  const date = typeof at === 'number' ? new Date(at) : at;
  return `${date.toISOString().slice(0, 23)}000Z`;
}
