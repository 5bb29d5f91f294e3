// policy/v1: Eviction — the body of `POST pods/{name}/eviction`, a delete that respects
// disruption budgets.

import type { DeleteOptions, KubeObject } from './meta';

export interface Eviction extends KubeObject {
  deleteOptions?: DeleteOptions;
}
