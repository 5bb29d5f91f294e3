// NodeResourcesFit: the pod's requests (the larger of its containers' sum and its
// init-container peak, plus overhead — computed once in PodInfo) must fit in what the node
// has allocatable minus what its pods already request; and the node must have a pod slot
// left. All shortfalls are reported, one reason each, as Kubernetes does.

import type { FilterPlugin } from '../framework/interfaces';
import { Status } from '../framework/status';

export const ErrReasonTooManyPods = 'Too many pods';

export function newNodeResourcesFit(): FilterPlugin {
  return {
    name: 'NodeResourcesFit',
    events: ['PodDelete', 'NodeAdd', 'NodeUpdate'],
    filter(_state, pod, node) {
      const reasons: string[] = [];
      if (node.pods.length + 1 > node.allocatable.pods) reasons.push(ErrReasonTooManyPods);
      const req = pod.requests;
      const used = node.requested;
      const alloc = node.allocatable;
      if (req.milliCPU > 0 && req.milliCPU > alloc.milliCPU - used.milliCPU) reasons.push('Insufficient cpu');
      if (req.memory > 0 && req.memory > alloc.memory - used.memory) reasons.push('Insufficient memory');
      if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) {
        reasons.push('Insufficient ephemeral-storage');
      }
      for (const [name, amount] of req.scalar) {
        if (amount > 0 && amount > (alloc.scalar.get(name) ?? 0) - (used.scalar.get(name) ?? 0)) reasons.push(`Insufficient ${name}`);
      }
      return reasons.length === 0 ? Status.success() : Status.unschedulable(...reasons);
    },
  };
}
