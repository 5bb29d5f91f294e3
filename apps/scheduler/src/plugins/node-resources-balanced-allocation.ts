// NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory would be used in equal
// fractions after placing the pod, so one resource is not exhausted while the other idles.
// Score = (1 − standard deviation of the fractions) × 100, over actual requests.

import { MaxNodeScore, type ScorePlugin } from '../framework/interfaces';

export function newNodeResourcesBalancedAllocation(): ScorePlugin {
  return {
    name: 'NodeResourcesBalancedAllocation',
    score(_state, pod, node) {
      const cpuCap = node.allocatable.milliCPU;
      const memCap = node.allocatable.memory;
      if (cpuCap === 0 || memCap === 0) return 0;
      const cpu = Math.min(1, (node.requested.milliCPU + pod.requests.milliCPU) / cpuCap);
      const mem = Math.min(1, (node.requested.memory + pod.requests.memory) / memCap);
      // With two resources the standard deviation is half their difference.
      const std = Math.abs(cpu - mem) / 2;
      return Math.floor((1 - std) * MaxNodeScore);
    },
  };
}
