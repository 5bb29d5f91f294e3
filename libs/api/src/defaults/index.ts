// applyDefaults: the defaulting step of admission, by kind. It deep-copies the object and
// fills in what Kubernetes would; the caller's object is untouched and a second application
// is a no-op.

import { deepCopy } from '../objects';
import { parseGroupVersion } from '../scheme';
import type { KubeObject } from '../types/meta';
import { defaultDaemonSet, defaultDeployment, defaultReplicaSet } from './apps';
import { defaultJob } from './batch';
import {
  defaultConfigMap,
  defaultEndpoints,
  defaultNamespace,
  defaultNode,
  defaultPod,
  defaultSecret,
  defaultService,
} from './core';
import { defaultEndpointSlice, defaultPriorityClass, defaultRoleBinding } from './other';

// Each defaulter mutates the private copy it is handed.
type Defaulter = (object: never) => void;

const defaulters: Record<string, Defaulter> = {
  '/Pod': defaultPod,
  '/Service': defaultService,
  '/Namespace': defaultNamespace,
  '/Node': defaultNode,
  '/Secret': defaultSecret,
  '/ConfigMap': defaultConfigMap,
  '/Endpoints': defaultEndpoints,
  'apps/Deployment': defaultDeployment,
  'apps/ReplicaSet': defaultReplicaSet,
  'apps/DaemonSet': defaultDaemonSet,
  'batch/Job': defaultJob,
  'discovery.k8s.io/EndpointSlice': defaultEndpointSlice,
  'scheduling.k8s.io/PriorityClass': defaultPriorityClass,
  'rbac.authorization.k8s.io/RoleBinding': defaultRoleBinding,
  'rbac.authorization.k8s.io/ClusterRoleBinding': defaultRoleBinding,
};

/** A defaulted copy of `object`, chosen by its apiVersion and kind (unknown kinds are only copied). */
export function applyDefaults<T extends KubeObject>(object: T): T {
  const copy = deepCopy(object);
  const group = object.apiVersion ? parseGroupVersion(object.apiVersion).group : '';
  const defaulter = defaulters[`${group}/${object.kind ?? ''}`] as ((o: T) => void) | undefined;
  defaulter?.(copy);
  return copy;
}

export * from './apps';
export * from './batch';
export * from './core';
export * from './other';
