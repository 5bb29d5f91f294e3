// autoscaling/v1: Scale — the `scale` subresource's view of a Deployment or ReplicaSet
// (`kubectl scale` reads and patches it).

import type { KubeObject } from './meta';

export interface ScaleSpec {
  replicas?: number;
}

export interface ScaleStatus {
  replicas: number;
  /** The label selector in query-string form (`app=web`). */
  selector?: string;
}

export interface Scale extends KubeObject {
  spec?: ScaleSpec;
  status?: ScaleStatus;
}
