// The `binding` subresource: how the scheduler puts a pod on a node. The pod gets the node's
// name, the binding's annotations, and a PodScheduled=True condition, all in one write; a pod
// already on a node, or being deleted, is a 409 Conflict, as in Kubernetes.

import { setCondition } from './conditions';
import { ApiErrors } from './errors';
import type { Binding, Pod, PodCondition } from './types/core';

const bindingResource = { resource: 'pods/binding' };

/** The pod after `binding`, at `now` (ms or Date). Validate the Binding first (validateCreate). */
export function applyBinding(pod: Pod, binding: Binding, now: number | Date): Pod {
  const name = pod.metadata.name ?? '';
  const nodeName = binding.target?.name ?? '';
  if (binding.metadata.uid && pod.metadata.uid && binding.metadata.uid !== pod.metadata.uid) {
    throw ApiErrors.conflict(bindingResource, name, `Precondition failed: UID in precondition: ${binding.metadata.uid}, UID in object meta: ${pod.metadata.uid}`);
  }
  if (pod.metadata.deletionTimestamp) {
    throw ApiErrors.conflict(bindingResource, name, `pod ${name} is being deleted, cannot be assigned to a host`);
  }
  if (pod.spec?.nodeName) {
    throw ApiErrors.conflict(bindingResource, name, `pod ${name} is already assigned to node ${JSON.stringify(pod.spec.nodeName)}`);
  }
  const annotations = { ...(pod.metadata.annotations ?? {}), ...(binding.metadata.annotations ?? {}) };
  const scheduled: PodCondition = { type: 'PodScheduled', status: 'True' };
  return {
    ...pod,
    metadata: Object.keys(annotations).length > 0 ? { ...pod.metadata, annotations } : pod.metadata,
    spec: { containers: [], ...pod.spec, nodeName },
    status: { ...(pod.status ?? {}), conditions: setCondition(pod.status?.conditions, scheduled, now) },
  };
}
