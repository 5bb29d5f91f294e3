// coordination.k8s.io/v1: Lease — leader election for the scheduler and controller-manager,
// and node heartbeats (one Lease per node in `kube-node-lease`).

import type { KubeObject, MicroTime } from './meta';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: MicroTime;
  renewTime?: MicroTime;
  leaseTransitions?: number;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}
