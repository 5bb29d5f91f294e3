// PATCH, shared by both adapters: the four Kubernetes patch types applied to the current
// object inside the handler's compare-and-swap update, so a patch never overwrites a write
// it did not see. Server-side apply keeps its own managedFields entry and creates what does
// not exist yet. The adapters only say which type came in and hand over the parsed patch.
import {
  ApiError,
  ApiErrors,
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  conflictCauses,
  formatGroupVersion,
  PatchError,
  schemaFor,
  serverSideApply,
  type KubeObject,
  type PatchJsonObject,
  type PatchJsonValue,
  type ResourceInfo,
} from '@keel/api';
import { formatTimestamp, type ApiHandler, type WriteOptions, type WritePart } from './handler';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

/** The media type REST clients name each patch type by. */
export const PATCH_MEDIA_TYPES = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
} as const satisfies Record<string, PatchType>;

export interface PatchRequest {
  type: PatchType;
  /** The patch, parsed (JSON, or YAML for apply). */
  patch: PatchJsonValue;
  part: WritePart;
  /** dryRun and fieldManager, as for any write; apply requires the field manager. */
  options: WriteOptions;
  /** Apply only: take fields other managers own instead of failing with a conflict. */
  force?: boolean;
  now: Date;
}

/** A patch that cannot be applied: 400 when the patch itself is malformed, else 422. */
export function patchFailure(err: unknown): unknown {
  if (!(err instanceof PatchError)) return err;
  const where = err.path ? ` at ${err.path}` : '';
  if (err.code === 'InvalidPatch' || err.code === 'InvalidPointer') return ApiErrors.badRequest(`the patch is not valid${where}: ${err.message}`);
  return new ApiError('Invalid', `the patch could not be applied${where}: ${err.message}`, {}, [
    { reason: 'FieldValueInvalid', message: err.message, ...(err.path ? { field: err.path } : {}) },
  ]);
}

/** Applies a patch through handler.update; `created` when an apply made a new object. */
export async function patchObject(
  handler: ApiHandler,
  info: ResourceInfo,
  namespace: string | undefined,
  name: string,
  req: PatchRequest,
): Promise<{ object: KubeObject; created: boolean }> {
  const gv = formatGroupVersion(info);
  const schema = schemaFor(gv, info.kind);
  const opts: WriteOptions = { ...req.options, part: req.part };
  const { patch } = req;
  if (req.type === 'apply') {
    // Apply keeps its own managedFields entry; the generic Update bookkeeping must not add one.
    const manager = opts.fieldManager;
    delete opts.fieldManager;
    if (!manager) throw ApiErrors.badRequest('fieldManager must be set for apply patches (for example: --field-manager=kubectl)');
    if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw ApiErrors.badRequest('an apply patch must be an object');
    const apply = (live: KubeObject | undefined): KubeObject => {
      const result = serverSideApply({
        live: live as unknown as PatchJsonObject | undefined,
        applied: patch,
        manager,
        apiVersion: gv,
        time: formatTimestamp(req.now),
        schema,
        force: req.force ?? false,
        ...(req.part === 'status' ? { subresource: 'status' } : {}),
      });
      if (!result.ok) throw new ApiError('Conflict', result.message, { name, kind: info.resource, group: info.group }, conflictCauses(result.conflicts));
      return result.object as unknown as KubeObject;
    };
    try {
      return { object: await handler.update(info, namespace, name, (cur) => apply(cur), opts), created: false };
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
      // Apply creates what does not exist yet.
      const body = apply(undefined);
      return { object: await handler.create(info, namespace, { ...body, metadata: { ...body.metadata, name } }, opts), created: true };
    }
  }
  const mutate = (current: KubeObject): unknown => {
    const doc = current as unknown as PatchJsonValue;
    try {
      switch (req.type) {
        case 'json':
          return applyJsonPatch(doc, patch);
        case 'merge':
          return applyMergePatch(doc, patch);
        default:
          return applyStrategicMergePatch(doc, patch, schema);
      }
    } catch (err) {
      throw patchFailure(err);
    }
  };
  return { object: await handler.update(info, namespace, name, mutate, opts), created: false };
}
