// NodeUnschedulable: a cordoned node (spec.unschedulable) takes only pods that tolerate the
// `node.kubernetes.io/unschedulable:NoSchedule` taint the cordon implies.

import type { FilterPlugin } from '../framework/interfaces';
import { Status } from '../framework/status';
import { toleratesAny } from '../framework/tolerations';

export const ErrReasonUnschedulable = 'node(s) were unschedulable';
const unschedulableTaint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' as const };

export function newNodeUnschedulable(): FilterPlugin {
  return {
    name: 'NodeUnschedulable',
    events: ['NodeAdd', 'NodeUpdate'],
    filter(_state, pod, node) {
      if (!node.node.spec?.unschedulable) return Status.success();
      if (toleratesAny(pod.pod.spec?.tolerations, unschedulableTaint)) return Status.success();
      // Evicting pods does not uncordon a node, so preemption cannot help here.
      return Status.unresolvable(ErrReasonUnschedulable);
    },
  };
}
