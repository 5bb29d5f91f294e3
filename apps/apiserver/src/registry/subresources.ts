// Subresources with rules of their own, shared by both adapters: `binding` (a pod assigned
// to a node, once) and `scale` (the autoscaling/v1 Scale view of a Deployment or
// ReplicaSet, whose writes change only spec.replicas). Both run inside the handler's
// compare-and-swap update, so they cannot lose a race with another writer.
import { ApiErrors, applyJsonPatch, applyMergePatch, deepCopy, toScale, type KubeObject, type PatchJsonValue, type ResourceInfo, type Scalable, type Scale } from '@keel/api';
import type { ApiHandler, WriteOptions } from './handler';
import { patchFailure, type PatchType } from './patch';

/**
 * Assigns a pod to a node once: a pod already bound elsewhere, being deleted, or (with
 * `uid`) not the pod the binding was made for is a 409.
 */
export async function bindPod(
  handler: ApiHandler,
  info: ResourceInfo,
  namespace: string | undefined,
  name: string,
  node: string,
  opts: { uid?: string } & Pick<WriteOptions, 'dryRun'> = {},
): Promise<KubeObject> {
  if (!node) {
    throw ApiErrors.invalid({ kind: 'Binding' }, name, [{ reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' }]);
  }
  return handler.update(
    info,
    namespace,
    name,
    (current) => {
      const pod = current as KubeObject & { spec?: { nodeName?: string } };
      if (opts.uid && pod.metadata.uid !== opts.uid) {
        throw ApiErrors.conflict({ resource: 'pods' }, name, `the UID in the binding (${opts.uid}) does not match the pod's (${pod.metadata.uid})`);
      }
      if (pod.metadata.deletionTimestamp) {
        throw ApiErrors.conflict({ resource: 'pods' }, name, 'pod is being deleted, cannot be assigned to a host');
      }
      if (pod.spec?.nodeName) {
        throw ApiErrors.conflict({ resource: 'pods' }, name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
      }
      return { ...pod, spec: { ...pod.spec, nodeName: node } };
    },
    { serverSide: true, ...(opts.dryRun ? { dryRun: true } : {}) },
  );
}

/** The Scale of a scalable object. */
export async function readScale(handler: ApiHandler, info: ResourceInfo, namespace: string | undefined, name: string): Promise<Scale> {
  return toScale((await handler.get(info, namespace, name)) as Scalable);
}

/**
 * Writes a Scale back: `change` turns the current Scale into the desired one (PUT returns
 * the body; PATCH applies the patch). A stale resourceVersion in it is a 409; replicas must
 * be a non-negative integer.
 */
export async function updateScale(
  handler: ApiHandler,
  info: ResourceInfo,
  namespace: string | undefined,
  name: string,
  change: (current: Scale) => unknown,
  opts: WriteOptions = {},
): Promise<Scale> {
  const updated = await handler.update(
    info,
    namespace,
    name,
    (current) => {
      const cur = current as Scalable;
      const desired = change(toScale(cur)) as Partial<Scale> | null | undefined;
      const sentVersion = desired?.metadata?.resourceVersion;
      if (sentVersion && sentVersion !== cur.metadata.resourceVersion) {
        throw ApiErrors.conflict({ group: info.group, resource: info.resource }, name, 'the object has been modified; please apply your changes to the latest version and try again');
      }
      const replicas = desired?.spec?.replicas;
      if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
        throw ApiErrors.invalid({ group: 'autoscaling', kind: 'Scale' }, name, [
          { reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0`, field: 'spec.replicas' },
        ]);
      }
      const next = deepCopy(cur);
      next.spec = { ...next.spec, replicas };
      delete next.metadata.resourceVersion;
      return next;
    },
    opts,
  );
  return toScale(updated as Scalable);
}

/** The change a PATCH of a Scale makes, for updateScale. */
export function patchScale(type: PatchType, patch: unknown): (current: Scale) => unknown {
  return (current) => {
    try {
      if (type === 'json') return applyJsonPatch(current as unknown as PatchJsonValue, patch as PatchJsonValue);
      // Merge, strategic merge and apply mean the same for Scale, which has no lists.
      return applyMergePatch(current as unknown as PatchJsonValue, patch as PatchJsonValue);
    } catch (err) {
      throw patchFailure(err);
    }
  };
}
