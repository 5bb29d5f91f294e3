// Admission on the node, kubelet's predicate admit handler: a pod the scheduler placed
// here (or that was bound directly) is refused when the node's allocatable cpu, memory
// or pod count cannot hold it next to the pods already admitted. A refused pod fails at
// once with Kubernetes' reason (OutOfcpu, OutOfmemory, OutOfpods) and message. Pure.
import { Quantity, parseResourceList, podRequests, type Pod, type ResourceList } from '@keel/api';

export interface Rejection {
  reason: string;
  message: string;
}

/** Whether `pod` fits beside `admitted` (the node's active pods, without `pod`). */
export function admit(pod: Pod, admitted: Pod[], allocatable: ResourceList | undefined): Rejection | undefined {
  if (!allocatable) return undefined;
  const cap = parseResourceList(allocatable);
  const pods = cap.get('pods');
  if (pods && admitted.length + 1 > pods.value()) {
    return { reason: 'OutOfpods', message: `Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: ${admitted.length}, capacity: ${pods.value()}` };
  }
  const want = podRequests(pod);
  for (const resource of ['cpu', 'memory', 'ephemeral-storage']) {
    const asked = want.get(resource);
    const capacity = cap.get(resource);
    if (!asked || asked.isZero() || !capacity) continue;
    let used = Quantity.zero();
    for (const other of admitted) used = used.add(podRequests(other).get(resource) ?? Quantity.zero());
    if (used.add(asked).cmp(capacity) > 0) {
      // Kubernetes prints cpu in millicores and the rest in units.
      const n = (q: Quantity) => (resource === 'cpu' ? q.milliValue() : q.value());
      return {
        reason: `OutOf${resource}`,
        message: `Pod was rejected: Node didn't have enough resource: ${resource}, requested: ${n(asked)}, used: ${n(used)}, capacity: ${n(capacity)}`,
      };
    }
  }
  return undefined;
}
