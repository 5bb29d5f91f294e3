// Server-side apply (`application/apply-patch+yaml`) and the ownership bookkeeping of ordinary
// updates. Each object's `metadata.managedFields` lists, per field manager and operation, the
// set of fields that manager owns. Applying a configuration:
//   1. merges it into the live object (maps by key, `map` lists by their keys, `set` lists as
//      sets, everything else replaced);
//   2. reports a conflict for every field whose value it changes and that another manager owns,
//      unless `force`, which takes those fields over;
//   3. removes fields this manager applied last time and omits now, if nobody else owns them;
//   4. records the applied field set as this manager's `Apply` entry.
// An update (create, PUT, PATCH) gives its manager an `Update` entry owning what it added or
// changed, taking those fields from others without conflict. Time comes in as an argument.
//
// Simplified against Kubernetes' structured-merge-diff, on purpose:
// - the schema is the per-kind table of strategic-metadata.ts; fields without metadata are
//   granular maps or atomic lists (the CRD defaults), and unions/discriminators are not modelled;
// - reset fields are whole: the main resource ignores applied `status`, the status subresource
//   ignores everything else;
// - field sets are not converted between API versions (each entry keeps the version it was
//   written with, which is all the kinds Keel serves need: one version each);
// - `null` in an applied configuration means "not set"; maps a removal leaves empty are dropped
//   below the top-level fields;
// - an Update entry marks a map it created with "." only below the top-level fields.

import { deepClone, deepEqual, getKey, isObject, setKey, type JsonObject, type JsonValue } from './json';
import { FieldSet, fieldsOf, formatFieldPath, keyElement, removeAt, valueAt, type FieldPath } from './managed-fields';
import { PatchError } from './errors';
import { fieldSchema, type FieldSchema } from './strategic-metadata';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JsonObject;
  subresource?: string;
}

export interface FieldManagerConflict {
  /** The manager that owns the field. */
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  /** The field, printed as Kubernetes prints it: `.spec.replicas`. */
  field: string;
  path: FieldPath;
}

/** A StatusCause for the 409 answer (structurally the apiserver's StatusCause). */
export interface ConflictCause {
  reason: 'FieldManagerConflict';
  message: string;
  field: string;
}

export interface ApplyRequest {
  /** The stored object, or undefined when the apply creates it. Not modified. */
  live: JsonObject | undefined;
  /** The applied configuration, already parsed from YAML. */
  applied: JsonObject;
  /** The `fieldManager` query parameter. */
  manager: string;
  /** The group/version the request used (`apps/v1`). */
  apiVersion: string;
  /** The entry's timestamp (RFC 3339), supplied by the caller's clock. */
  time: string;
  force?: boolean;
  /** The kind's metadata (`schemaFor`); without it lists are atomic and maps granular. */
  schema?: FieldSchema;
  /** `status` when applying to the status subresource. */
  subresource?: string;
}

export type ApplyResult =
  | { ok: true; object: JsonObject; changed: boolean }
  | { ok: false; conflicts: FieldManagerConflict[]; message: string };

export interface UpdateRequest {
  /** The object before the write, or undefined for a create. */
  old: JsonObject | undefined;
  /** The object about to be stored. Not modified. */
  updated: JsonObject;
  manager: string;
  apiVersion: string;
  time: string;
  schema?: FieldSchema;
  subresource?: string;
}

/** Fields no manager owns: identity and bookkeeping the server sets itself. */
const untrackedMeta = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
] as const;

/** The part of an object field managers own: without apiVersion, kind and the server's metadata. */
function tracked(obj: JsonObject | undefined): JsonObject {
  const view = obj ? deepClone(obj) : {};
  delete view['apiVersion'];
  delete view['kind'];
  const meta = getKey(view, 'metadata');
  if (isObject(meta)) {
    for (const key of untrackedMeta) delete meta[key];
    if (Object.keys(meta).length === 0) delete view['metadata'];
  }
  return view;
}

/** Puts back what `tracked` left out, from `source`. */
function restoreUntracked(view: JsonObject, source: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const key of ['apiVersion', 'kind']) {
    const value = getKey(source, key);
    if (value !== undefined) out[key] = deepClone(value);
  }
  const sourceMeta = getKey(source, 'metadata');
  const meta: JsonObject = {};
  if (isObject(sourceMeta)) {
    for (const key of untrackedMeta) {
      const value = getKey(sourceMeta, key);
      if (value !== undefined && key !== 'managedFields') meta[key] = deepClone(value);
    }
  }
  const viewMeta = getKey(view, 'metadata');
  if (isObject(viewMeta)) for (const key of Object.keys(viewMeta)) setKey(meta, key, viewMeta[key]!);
  for (const key of Object.keys(view)) if (key !== 'metadata') setKey(out, key, view[key]!);
  if (Object.keys(meta).length > 0) out['metadata'] = meta;
  return out;
}

function rawManagedFields(obj: JsonObject | undefined): JsonValue | undefined {
  const meta = obj ? getKey(obj, 'metadata') : undefined;
  return isObject(meta) ? getKey(meta, 'managedFields') : undefined;
}

/** The stand-in owner of an object's fields before anyone applied or updated it with tracking. */
function beforeFirstApply(apiVersion: string): ManagedFieldsEntry {
  return { manager: 'before-first-apply', operation: 'Update', apiVersion, fieldsType: 'FieldsV1', fieldsV1: {} };
}

/** Reads `metadata.managedFields`; a malformed entry is a PatchError naming it. */
export function readManagedFields(obj: JsonObject | undefined): ManagedFieldsEntry[] {
  const raw = rawManagedFields(obj);
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new PatchError('InvalidPatch', 'metadata.managedFields must be a list', 'metadata.managedFields');
  return raw.map((entry, i) => {
    const path = `metadata.managedFields[${i}]`;
    if (!isObject(entry)) throw new PatchError('InvalidPatch', `${path} must be an object`, path);
    const { manager, operation, apiVersion, time, fieldsType, fieldsV1, subresource } = entry;
    if (typeof manager !== 'string') throw new PatchError('InvalidPatch', `${path}.manager must be a string`, `${path}.manager`);
    if (operation !== 'Apply' && operation !== 'Update') {
      throw new PatchError('InvalidPatch', `${path}.operation must be Apply or Update`, `${path}.operation`);
    }
    if (fieldsType !== undefined && fieldsType !== 'FieldsV1') {
      throw new PatchError('InvalidPatch', `${path}.fieldsType must be FieldsV1`, `${path}.fieldsType`);
    }
    const out: ManagedFieldsEntry = {
      manager,
      operation,
      apiVersion: typeof apiVersion === 'string' ? apiVersion : '',
      fieldsType: 'FieldsV1',
      fieldsV1: FieldSet.fromFieldsV1(fieldsV1 ?? {}, `${path}.fieldsV1`).toFieldsV1(),
    };
    if (typeof time === 'string') out.time = time;
    if (typeof subresource === 'string' && subresource !== '') out.subresource = subresource;
    return out;
  });
}

/**
 * Who a manager is: appliers are one manager across API versions, updaters are told apart by
 * the version they wrote with (as Kubernetes does).
 */
function identity(e: Pick<ManagedFieldsEntry, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  return JSON.stringify([e.manager, e.operation, e.subresource ?? '', e.operation === 'Update' ? e.apiVersion : '']);
}

interface Owner {
  entry: ManagedFieldsEntry;
  set: FieldSet;
}

function owners(obj: JsonObject | undefined): Owner[] {
  return readManagedFields(obj).map((entry) => ({ entry, set: FieldSet.fromFieldsV1(entry.fieldsV1) }));
}

/** Drops null members of maps: in an applied configuration null means "not set". */
function withoutNulls(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const key of Object.keys(value)) {
    const v = value[key]!;
    if (v !== null) setKey(out, key, withoutNulls(v));
  }
  return out;
}

/**
 * An applied configuration must identify its list elements: every key field of a `map` list
 * element present (or defaulted), and no two elements (or set members) alike.
 */
function validateApplied(value: JsonValue, schema: FieldSchema | undefined, path: string): void {
  if (isObject(value)) {
    if (schema?.atomic) return;
    for (const key of Object.keys(value)) validateApplied(value[key]!, fieldSchema(schema, key), path === '' ? key : `${path}.${key}`);
    return;
  }
  const list = schema?.list;
  if (!Array.isArray(value) || !list || list.type === 'atomic') return;
  const seen = new Set<string>();
  value.forEach((item, i) => {
    const where = `${path}[${i}]`;
    let id: string;
    if (list.type === 'set') {
      id = JSON.stringify(item);
    } else {
      const keys = list.keys ?? [];
      const missing = keys.find((k) => !isObject(item) || (getKey(item, k) === undefined && list.keyDefaults?.[k] === undefined));
      if (missing !== undefined) {
        throw new PatchError('InvalidPatch', `${where}: element of a list keyed by ${keys.join(', ')} has no "${missing}"`, where);
      }
      id = keyElement(item, list)!;
      validateApplied(item, list.items, where);
    }
    if (seen.has(id)) throw new PatchError('InvalidPatch', `${where}: duplicate entry ${id.replace(/^k:/, '')} in ${path}`, where);
    seen.add(id);
  });
}

/** Merges an applied configuration into the live value, by the schema's list types. */
function mergeApplied(live: JsonValue | undefined, applied: JsonValue, schema: FieldSchema | undefined): JsonValue {
  if (isObject(applied) && isObject(live) && !schema?.atomic) {
    const out = deepClone(live);
    for (const key of Object.keys(applied)) {
      setKey(out, key, mergeApplied(getKey(live, key), applied[key]!, fieldSchema(schema, key)));
    }
    return out;
  }
  if (Array.isArray(applied) && Array.isArray(live) && schema?.list && schema.list.type !== 'atomic') {
    const list = schema.list;
    const keyOf = list.type === 'set' ? (v: JsonValue) => `v:${JSON.stringify(v)}` : (v: JsonValue) => keyElement(v, list);
    return zipLists(live, applied, keyOf).map(([l, r]) =>
      r === undefined ? deepClone(l!) : l === undefined || list.type === 'set' ? deepClone(r) : mergeApplied(l, r, list.items),
    );
  }
  return deepClone(applied);
}

/**
 * Pairs the elements of a live list and an applied list by key, in the order the result takes
 * (as structured-merge-diff orders it): elements in both follow the applied order, new ones sit
 * where the applied list has them, and live-only ones keep their place among the rest.
 */
function zipLists(live: JsonValue[], applied: JsonValue[], keyOf: (v: JsonValue) => string | undefined): [JsonValue | undefined, JsonValue | undefined][] {
  // Elements without a usable key cannot be matched: they count as distinct.
  const keyed = (list: JsonValue[], side: string) => list.map((v, i) => ({ v, key: keyOf(v) ?? `${side}#${i}` }));
  const lhs = keyed(live, 'live');
  const rhs = keyed(applied, 'applied');
  const inLhs = new Map(lhs.map((e) => [e.key, e.v]));
  const inRhs = new Set(rhs.map((e) => e.key));
  const shared = rhs.filter((e) => inLhs.has(e.key)).map((e) => e.key);
  let next = 0;
  const out: [JsonValue | undefined, JsonValue | undefined][] = [];
  let l = 0;
  let r = 0;
  while (l < lhs.length || r < rhs.length) {
    const left = lhs[l];
    const right = rhs[r];
    if (left && right && left.key === right.key) {
      out.push([left.v, right.v]);
      l++;
      r++;
      if (shared[next] === left.key) next++;
      continue;
    }
    if (left && inRhs.has(left.key)) {
      if (right && shared[next] !== left.key) {
        // In both, but its turn comes later in the applied order.
        l++;
        continue;
      }
      if (!right) {
        // Already placed through the applied list.
        l++;
        continue;
      }
    } else if (left) {
      out.push([left.v, undefined]);
      l++;
      continue;
    }
    if (right) {
      out.push([inLhs.get(right.key), right.v]);
      r++;
      if (shared[next] === right.key) next++;
    }
  }
  return out;
}

/** Whether applying changed what is at `path` (an element or set member: whether it is new). */
function changedAt(before: JsonValue, after: JsonValue, path: FieldPath, schema: FieldSchema | undefined): boolean {
  const was = valueAt(before, path, schema);
  const last = path[path.length - 1] ?? '';
  if (last.startsWith('k:') || last.startsWith('v:')) return was === undefined;
  return !deepEqual(was, valueAt(after, path, schema));
}

/** Whether `path` is a key field of a list element (removing it would orphan the element). */
function isElementKey(path: FieldPath): boolean {
  const parent = path[path.length - 2];
  const last = path[path.length - 1];
  if (!parent?.startsWith('k:') || !last?.startsWith('f:')) return false;
  const key = JSON.parse(parent.slice(2)) as JsonObject;
  return Object.prototype.hasOwnProperty.call(key, last.slice(2));
}

/** Applies a configuration for `manager`; see the file comment for the rules. */
export function serverSideApply(req: ApplyRequest): ApplyResult {
  const { schema } = req;
  const recorded = owners(req.live);
  // An object nobody tracked yet (written before field management) belongs to a stand-in
  // manager, so a first apply still conflicts with values it did not set, as in Kubernetes.
  const all =
    req.live && recorded.length === 0
      ? [{ entry: beforeFirstApply(req.apiVersion), set: fieldsOf(tracked(req.live), schema, 'all') }]
      : owners(req.live);
  const me = identity({ manager: req.manager, operation: 'Apply', apiVersion: req.apiVersion, subresource: req.subresource });
  const mine = all.find((o) => identity(o.entry) === me);
  const others = all.filter((o) => o !== mine);

  const sentFields = rawManagedFields(req.applied);
  if (sentFields !== undefined && sentFields !== null && !(Array.isArray(sentFields) && sentFields.length === 0)) {
    // Ownership is the server's to record; an applier cannot declare it (Kubernetes refuses too).
    throw new PatchError('InvalidPatch', 'metadata.managedFields must be nil in an applied configuration', 'metadata.managedFields');
  }

  // The main resource ignores applied status and the status subresource ignores all but status,
  // as Kubernetes' reset fields do.
  let applied = withoutNulls(tracked(req.applied)) as JsonObject;
  if (req.subresource === 'status') applied = isObject(applied['status']) ? { status: applied['status'] } : {};
  else delete applied['status'];

  validateApplied(applied, schema, '');
  const before = tracked(req.live);
  const applySet = fieldsOf(applied, schema, 'apply');
  let merged = mergeApplied(before, applied, schema) as JsonObject;

  const conflicts: FieldManagerConflict[] = [];
  const conflicting = new Map<Owner, FieldPath[]>();
  for (const path of applySet.paths()) {
    if (!changedAt(before, merged, path, schema)) continue;
    for (const other of others) {
      if (!other.set.has(path)) continue;
      conflicts.push({
        manager: other.entry.manager,
        operation: other.entry.operation,
        apiVersion: other.entry.apiVersion,
        ...(other.entry.subresource ? { subresource: other.entry.subresource } : {}),
        field: formatFieldPath(path),
        path,
      });
      conflicting.set(other, [...(conflicting.get(other) ?? []), path]);
    }
  }
  if (conflicts.length > 0 && !req.force) return { ok: false, conflicts, message: conflictMessage(conflicts) };
  // Forcing takes the fields away from their owners.
  for (const [other, paths] of conflicting) other.set = other.set.difference(FieldSet.fromPaths(paths));

  // Fields this manager applied before and omits now go, unless another manager still owns
  // them (or something below them), or the new configuration still sets something below them.
  const ownedByOthers = others.reduce((acc, o) => acc.union(o.set), new FieldSet());
  const dropped = mine ? mine.set.difference(applySet).paths() : [];
  // Shallowest first: removing an element takes its fields with it.
  dropped.sort((a, b) => a.length - b.length);
  const removed = new FieldSet();
  for (const path of dropped) {
    if (ownedByOthers.hasAtOrBelow(path) || applySet.hasAtOrBelow(path) || isElementKey(path)) continue;
    if (path.some((_, i) => removed.has(path.slice(0, i)))) continue;
    removeAt(merged, path, schema, (p) => applySet.has(p) || ownedByOthers.has(p));
    removed.insert(path);
  }
  merged = withoutNulls(merged) as JsonObject;

  // Whatever is gone from the object is owned by nobody any more.
  const gone = fieldsOf(before, schema, 'all').difference(fieldsOf(merged, schema, 'all'));
  const entries: Owner[] = [];
  for (const owner of all) {
    if (owner === mine) continue;
    owner.set = owner.set.difference(gone);
    entries.push(owner);
  }
  const myEntry: ManagedFieldsEntry = {
    manager: req.manager,
    operation: 'Apply',
    apiVersion: req.apiVersion,
    time: req.time,
    fieldsType: 'FieldsV1',
    fieldsV1: applySet.toFieldsV1(),
    ...(req.subresource ? { subresource: req.subresource } : {}),
  };
  // Keep the entry where it was, so an unchanged apply leaves managedFields as they were.
  const position = mine ? all.indexOf(mine) : entries.length;
  entries.splice(position, 0, { entry: myEntry, set: applySet });

  const object = restoreUntracked(merged, req.live ?? req.applied);
  // A first apply by this manager always records it, even when it owns nothing.
  const changed = !mine || !deepEqual(merged, before) || !sameOwnership(recorded, entries);
  // The applier keeps its entry even when it owns no field (a Namespace applied with only its
  // name): Kubernetes records it too, and without it the next identical apply would find an
  // untracked object, hand everything to before-first-apply, and write again.
  if (changed) setManagedFields(object, entries, (o) => o.entry === myEntry);
  else setManagedFields(object, recorded, () => true);
  return { ok: true, object, changed };
}

/** Records an Update (create, PUT, PATCH) by `manager`; returns the object with managedFields set. */
export function recordUpdate(req: UpdateRequest): JsonObject {
  const { schema } = req;
  // A writer may replace managedFields: `[{}]` strips them all; other new contents become the
  // ownership this update starts from. An absent or empty list keeps what was stored, so
  // clients unaware of the field cannot drop it by accident (Kubernetes' rules).
  const sent = rawManagedFields(req.updated);
  const stored = rawManagedFields(req.old);
  if (Array.isArray(sent) && sent.length === 1 && isObject(sent[0]) && Object.keys(sent[0]).length === 0) {
    const stripped = deepClone(req.updated);
    delete (stripped['metadata'] as JsonObject)['managedFields'];
    return stripped;
  }
  const replaced = Array.isArray(sent) && sent.length > 0 && !deepEqual(sent, stored);
  const base = replaced ? req.updated : req.old;
  const all = owners(base);
  const me = identity({ manager: req.manager, operation: 'Update', apiVersion: req.apiVersion, subresource: req.subresource });
  const before = tracked(req.old);
  const after = tracked(req.updated);
  const beforeSet = fieldsOf(before, schema, 'all');
  const afterSet = fieldsOf(after, schema, 'all');
  const added = afterSet.difference(beforeSet);
  // A node with children changes only through them; a leaf changes when its value does.
  const modified = afterSet
    .intersection(beforeSet)
    .paths()
    .filter((p) => !afterSet.hasChildren(p) && !beforeSet.hasChildren(p) && changedAt(before, after, p, schema));
  const taken = added.union(FieldSet.fromPaths(modified));
  const gone = beforeSet.difference(afterSet);

  const entries: Owner[] = [];
  let mine: Owner | undefined;
  for (const owner of all) {
    if (identity(owner.entry) === me) {
      mine = owner;
      entries.push(owner);
      continue;
    }
    owner.set = owner.set.difference(taken).difference(gone);
    entries.push(owner);
  }
  const mySet = (mine?.set ?? new FieldSet()).union(taken).difference(gone);
  const myEntry: ManagedFieldsEntry = {
    manager: req.manager,
    operation: 'Update',
    apiVersion: req.apiVersion,
    time: req.time,
    fieldsType: 'FieldsV1',
    fieldsV1: mySet.toFieldsV1(),
    ...(req.subresource ? { subresource: req.subresource } : {}),
  };
  if (mine) mine.entry = myEntry;
  else entries.push({ entry: myEntry, set: mySet });
  if (mine) mine.set = mySet;

  const object = deepClone(req.updated);
  const changed = replaced || !deepEqual(before, after) || !sameOwnership(owners(req.old), entries);
  setManagedFields(object, changed ? entries : owners(req.old));
  return object;
}

function sameOwnership(a: Owner[], b: Owner[]): boolean {
  const live = (list: Owner[]) => list.filter((o) => !o.set.isEmpty());
  const x = live(a);
  const y = live(b);
  return x.length === y.length && x.every((o, i) => identity(o.entry) === identity(y[i]!.entry) && o.set.equals(y[i]!.set));
}

/** Writes the entries (dropping managers that own nothing, unless `keepEmpty`) into `metadata.managedFields`. */
function setManagedFields(object: JsonObject, entries: Owner[], keepEmpty: (o: Owner) => boolean = () => false): void {
  const list: JsonValue[] = entries
    .filter((o) => !o.set.isEmpty() || keepEmpty(o))
    .map((o) => {
      const e: JsonObject = {
        manager: o.entry.manager,
        operation: o.entry.operation,
        apiVersion: o.entry.apiVersion,
      };
      if (o.entry.time !== undefined) e['time'] = o.entry.time;
      e['fieldsType'] = 'FieldsV1';
      e['fieldsV1'] = o.set.toFieldsV1();
      if (o.entry.subresource) e['subresource'] = o.entry.subresource;
      return e;
    });
  let meta = getKey(object, 'metadata');
  if (!isObject(meta)) {
    if (list.length === 0) return;
    meta = {};
    object['metadata'] = meta;
  }
  if (list.length > 0) meta['managedFields'] = list;
  else delete meta['managedFields'];
}

/** Kubernetes' wording: `Apply failed with 1 conflict: conflict with "x" using apps/v1: .spec.replicas`. */
export function conflictMessage(conflicts: readonly FieldManagerConflict[]): string {
  const n = conflicts.length;
  const head = `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: `;
  if (n === 1) return head + conflictCauses(conflicts)[0]!.message + `: ${conflicts[0]!.field}`;
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const who = ownerText(c);
    byManager.set(who, [...(byManager.get(who) ?? []), c.field]);
  }
  return (
    head +
    [...byManager]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([who, fields]) => `conflicts with ${who}:\n${fields.map((f) => `- ${f}`).join('\n')}`)
      .join('\n')
  );
}

/** `"kubectl"`, `"kubelet" with subresource "status" using v1`: how Kubernetes names a manager. */
function ownerText(c: FieldManagerConflict): string {
  const who = c.subresource ? `"${c.manager}" with subresource "${c.subresource}"` : `"${c.manager}"`;
  return c.operation === 'Update' ? `${who} using ${c.apiVersion}` : who;
}

/** The `details.causes` of the 409: one FieldManagerConflict cause per field. */
export function conflictCauses(conflicts: readonly FieldManagerConflict[]): ConflictCause[] {
  return conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${ownerText(c)}`, field: c.field }));
}
