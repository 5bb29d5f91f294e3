// @keel/api patch algorithms: JSON Patch, JSON Merge Patch, strategic merge patch (with the
// per-kind metadata it needs), and server-side apply with field managers. Pure: no I/O; the
// clock comes in as `time`. Exports are listed by name (the JSON helpers renamed) so that
// re-exporting this module from the package root cannot collide with the rest of @keel/api.
//
// How the apiserver uses it, per PATCH content type (then defaults, validates, stores):
//   application/json-patch+json          applyJsonPatch(stored, body)
//   application/merge-patch+json         applyMergePatch(stored, body)
//   application/strategic-merge-patch+json
//                                        applyStrategicMergePatch(stored, body, schemaFor(apiVersion, kind))
//   then, for all three and for create/PUT: recordUpdate({ old, updated, manager, apiVersion, time, schema })
//   application/apply-patch+yaml         serverSideApply({ live, applied, manager, apiVersion, time, force, schema });
//                                        `ok: false` is a 409 Conflict with conflictMessage() and
//                                        conflictCauses() (reason FieldManagerConflict) as the causes.
// A result deep-equal (jsonDeepEqual) to the stored object is "unchanged": no write, no new
// resourceVersion. PatchError codes map to Statuses: InvalidPatch and InvalidPointer are 400
// BadRequest; PathNotFound, InvalidTarget and TestFailed are 422 Invalid.
//
// Simplified on purpose (see each file): apply's field sets ignore unions and treat every
// struct without metadata as granular; `$patch: merge` on a map is accepted as a no-op where
// Kubernetes refuses it; Update entries mark new maps with "." below the top-level fields only.
export { PatchError, type PatchErrorCode } from './errors';
export { deepEqual as jsonDeepEqual, deepClone as jsonDeepClone, type JsonValue as PatchJsonValue, type JsonObject as PatchJsonObject } from './json';
export { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS, parseJsonPointer, formatJsonPointer, getByPointer, type JsonPatchOperation } from './json-patch';
export { applyMergePatch, createMergePatch } from './merge-patch';
export { schemaFor, hasSchema, objectMetaSchema, podSpecSchema, type FieldSchema, type ListSchema } from './strategic-metadata';
export { applyStrategicMergePatch, createTwoWayMergePatch, createThreeWayMergePatch } from './strategic';
export { FieldSet, fieldsOf, formatFieldPath, type FieldPath } from './managed-fields';
export {
  serverSideApply,
  recordUpdate,
  readManagedFields,
  conflictMessage,
  conflictCauses,
  type ManagedFieldsEntry,
  type FieldManagerConflict,
  type ConflictCause,
  type ApplyRequest,
  type ApplyResult,
  type UpdateRequest,
} from './apply';
