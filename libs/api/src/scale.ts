// The `scale` subresource: an autoscaling/v1 Scale view of a Deployment or ReplicaSet, and
// the write back. `kubectl scale` PATCHes the Scale and expects a Scale in return; only
// spec.replicas flows back into the object.

import { deepCopy } from './objects';
import { formatLabelSelector } from './selectors/labels';
import type { Scale } from './types/autoscaling';
import type { KubeObject, LabelSelector } from './types/meta';

/** Any object with a scale subresource: replicas in its spec, a selector, a replica count in its status. */
export interface Scalable extends KubeObject {
  spec?: { replicas?: number; selector?: LabelSelector };
  status?: { replicas?: number };
}

/** The Scale of a scalable object; metadata carries the object's identity and resourceVersion. */
export function toScale(object: Scalable): Scale {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata;
  const metadata: Scale['metadata'] = { name, namespace, uid, resourceVersion, creationTimestamp };
  for (const key of Object.keys(metadata) as (keyof typeof metadata)[]) if (metadata[key] === undefined) delete metadata[key];
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata,
    spec: { replicas: object.spec?.replicas ?? 0 },
    status: { replicas: object.status?.replicas ?? 0, selector: formatLabelSelector(object.spec?.selector ?? {}) },
  };
}

/**
 * The object with the Scale's desired replicas written into its spec. The Scale's
 * resourceVersion, when given, becomes the write's precondition.
 */
export function applyScale<T extends Scalable>(object: T, scale: Scale): T {
  const out = deepCopy(object);
  out.spec = { ...(out.spec ?? {}), replicas: scale.spec?.replicas ?? 0 };
  if (scale.metadata.resourceVersion) out.metadata = { ...out.metadata, resourceVersion: scale.metadata.resourceVersion };
  return out;
}
