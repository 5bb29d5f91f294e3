// Small questions about pods and keys that the scheduler, controllers and agents all ask:
// is it ready, finished, scheduled, being deleted; and the `namespace/name` key a work queue
// and a watch cache index objects by.

import { isConditionTrue } from './conditions';
import type { Pod } from './types/core';
import type { KubeObject } from './types/meta';

/** `namespace/name`, or `name` for a cluster-scoped object (Kubernetes' MetaNamespaceKeyFunc). */
export function objectKey(object: Pick<KubeObject, 'metadata'>): string {
  const { namespace, name = '' } = object.metadata;
  return namespace ? `${namespace}/${name}` : name;
}

/** The inverse of objectKey; throws on a key with more than one slash. */
export function splitObjectKey(key: string): { namespace?: string; name: string } {
  const parts = key.split('/');
  if (parts.length === 1) return { name: parts[0]! };
  if (parts.length === 2) return { namespace: parts[0]!, name: parts[1]! };
  throw new Error(`unexpected key format: ${JSON.stringify(key)}`);
}

/** Ready: its Ready condition is True (so Services send it traffic). */
export function isPodReady(pod: Pod): boolean {
  return isConditionTrue(pod.status?.conditions, 'Ready');
}

/** Finished for good: Succeeded or Failed. */
export function isPodTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Bound to a node. */
export function isPodScheduled(pod: Pod): boolean {
  return Boolean(pod.spec?.nodeName);
}

/** Counts for a controller: not finished and not being deleted. */
export function isPodActive(pod: Pod): boolean {
  return !isPodTerminal(pod) && pod.metadata.deletionTimestamp === undefined;
}
