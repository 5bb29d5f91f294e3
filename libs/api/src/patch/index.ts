// @keel/api patch algorithms: JSON Patch, JSON Merge Patch, strategic merge patch (with the
// per-kind metadata it needs), and server-side apply with field managers. Pure: no I/O.
// Exports are listed by name (and the JSON helpers renamed) so that re-exporting this module
// from the package root cannot collide with the rest of @keel/api.
export { PatchError, type PatchErrorCode } from './errors';
export { deepEqual as jsonDeepEqual, deepClone as jsonDeepClone, type JsonValue as PatchJsonValue, type JsonObject as PatchJsonObject } from './json';
export { applyJsonPatch, parseJsonPointer, formatJsonPointer, getByPointer, type JsonPatchOperation } from './json-patch';
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
