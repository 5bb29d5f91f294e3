// NodeResourcesLeastAllocated: prefer nodes with the most free cpu and memory after placing
// the pod, counting pods without requests at Kubernetes' defaults (100m, 200Mi) so empty
// pods still spread. Score per resource = free × 100 / allocatable, weighted average.

import type { NodeInfo } from '../framework/node-info';
import { MaxNodeScore, type ScorePlugin } from '../framework/interfaces';
import type { PodInfo } from '../framework/pod-info';

export interface LeastAllocatedArgs {
  /** Resource weights; cpu and memory at 1 by default. */
  resources?: { name: 'cpu' | 'memory'; weight: number }[];
}

function leastRequested(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MaxNodeScore) / capacity);
}

export function newNodeResourcesLeastAllocated(args: LeastAllocatedArgs = {}): ScorePlugin {
  const resources = args.resources ?? [
    { name: 'cpu', weight: 1 },
    { name: 'memory', weight: 1 },
  ];
  const totalWeight = resources.reduce((s, r) => s + r.weight, 0) || 1;
  return {
    name: 'NodeResourcesLeastAllocated',
    score(_state, pod: PodInfo, node: NodeInfo) {
      let sum = 0;
      for (const r of resources) {
        const s =
          r.name === 'cpu'
            ? leastRequested(node.nonZeroRequested.milliCPU + pod.nonZeroRequests.milliCPU, node.allocatable.milliCPU)
            : leastRequested(node.nonZeroRequested.memory + pod.nonZeroRequests.memory, node.allocatable.memory);
        sum += s * r.weight;
      }
      return Math.floor(sum / totalWeight);
    },
  };
}
