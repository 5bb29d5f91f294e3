// scheduling.k8s.io/v1: PriorityClass — maps `priorityClassName` to the integer `priority`
// the scheduler sorts and preempts by.

import type { KubeObject } from './meta';

export interface PriorityClass extends KubeObject {
  value: number;
  globalDefault?: boolean;
  description?: string;
  preemptionPolicy?: 'PreemptLowerPriority' | 'Never';
}
