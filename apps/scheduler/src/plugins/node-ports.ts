// NodePorts: a pod asking for host ports fits only where no other pod holds the same
// protocol/port on an overlapping host IP (0.0.0.0 overlaps every IP).

import type { FilterPlugin } from '../framework/interfaces';
import { portKey } from '../framework/node-info';
import { Status } from '../framework/status';

export const ErrReasonNodePorts = "node(s) didn't have free ports for the requested pod ports";

export function newNodePorts(): FilterPlugin {
  return {
    name: 'NodePorts',
    events: ['PodDelete', 'NodeAdd'],
    filter(_state, pod, node) {
      for (const hp of pod.hostPorts) {
        const used = node.usedPorts.get(portKey(hp));
        if (!used || used.size === 0) continue;
        if (hp.ip === '0.0.0.0' || used.has('0.0.0.0') || used.has(hp.ip)) return Status.unschedulable(ErrReasonNodePorts);
      }
      return Status.success();
    },
  };
}
