// validateCreate / validateUpdate: the validation step of admission, by kind. Each kind has
// its name format (Namespaces and Services use DNS labels, RBAC objects path segments, most
// others DNS subdomains), its create rules and its update rules; metadata is checked for all
// of them. Every bad field is reported, not just the first. The assert* forms throw the 422
// `Invalid` ApiError kubectl prints.

import type { ApiError } from '../errors';
import { scheme, parseGroupVersion } from '../scheme';
import type { KubeObject } from '../types/meta';
import { toInvalidError, type FieldErrorList } from './field';
import {
  nameIsDNS1035Label,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  nameIsPathSegment,
  validateObjectMeta,
  validateObjectMetaUpdate,
  type NameValidator,
} from './meta';
import {
  validateBinding,
  validateConfigMap,
  validateConfigMapUpdate,
  validateEndpoints,
  validateEvent,
  validateNamespace,
  validateNode,
  validateNodeUpdate,
  validateSecret,
  validateSecretUpdate,
  validateService,
  validateServiceUpdate,
} from './core';
import {
  validateClusterRole,
  validateClusterRoleBinding,
  validateEndpointSlice,
  validateEndpointSliceUpdate,
  validateLease,
  validatePriorityClass,
  validatePriorityClassUpdate,
  validateRole,
  validateRoleBinding,
  validateRoleBindingUpdate,
  validateScale,
} from './other';
import { validatePod, validatePodStatus, validatePodUpdate } from './pod';
import {
  validateDaemonSet,
  validateDaemonSetStatus,
  validateDaemonSetUpdate,
  validateDeployment,
  validateDeploymentStatus,
  validateDeploymentUpdate,
  validateJob,
  validateJobStatus,
  validateJobUpdate,
  validateReplicaSet,
  validateReplicaSetStatus,
  validateReplicaSetUpdate,
} from './workloads';

interface KindRules {
  name: NameValidator;
  create: (object: never) => FieldErrorList;
  /** Defaults to the create rules applied to the new object. */
  update?: (updated: never, current: never) => FieldErrorList;
  /** Rules for a write through the status subresource (metadata is checked for all). */
  status?: (updated: never, current: never) => FieldErrorList;
}

const rules: Record<string, KindRules> = {
  '/Namespace': { name: nameIsDNSLabel, create: validateNamespace },
  '/Pod': { name: nameIsDNSSubdomain, create: validatePod, update: validatePodUpdate, status: validatePodStatus },
  '/Binding': { name: nameIsDNSSubdomain, create: validateBinding },
  '/Node': { name: nameIsDNSSubdomain, create: validateNode, update: validateNodeUpdate, status: validateNodeUpdate },
  '/Service': { name: nameIsDNS1035Label, create: validateService, update: validateServiceUpdate },
  '/Endpoints': { name: nameIsDNSSubdomain, create: validateEndpoints },
  '/ConfigMap': { name: nameIsDNSSubdomain, create: validateConfigMap, update: validateConfigMapUpdate },
  '/Secret': { name: nameIsDNSSubdomain, create: validateSecret, update: validateSecretUpdate },
  '/ServiceAccount': { name: nameIsDNSSubdomain, create: () => [] },
  '/Event': { name: nameIsDNSSubdomain, create: validateEvent },
  'apps/Deployment': { name: nameIsDNSSubdomain, create: validateDeployment, update: validateDeploymentUpdate, status: validateDeploymentStatus },
  'apps/ReplicaSet': { name: nameIsDNSSubdomain, create: validateReplicaSet, update: validateReplicaSetUpdate, status: validateReplicaSetStatus },
  'apps/DaemonSet': { name: nameIsDNSSubdomain, create: validateDaemonSet, update: validateDaemonSetUpdate, status: validateDaemonSetStatus },
  'batch/Job': { name: nameIsDNSSubdomain, create: validateJob, update: validateJobUpdate, status: validateJobStatus },
  'discovery.k8s.io/EndpointSlice': { name: nameIsDNSSubdomain, create: validateEndpointSlice, update: validateEndpointSliceUpdate },
  'coordination.k8s.io/Lease': { name: nameIsDNSSubdomain, create: validateLease },
  'rbac.authorization.k8s.io/Role': { name: nameIsPathSegment, create: validateRole },
  'rbac.authorization.k8s.io/ClusterRole': { name: nameIsPathSegment, create: validateClusterRole },
  'rbac.authorization.k8s.io/RoleBinding': {
    name: nameIsPathSegment,
    create: validateRoleBinding,
    update: ((u: never, c: never) => validateRoleBindingUpdate(u, c, validateRoleBinding)) as KindRules['update'],
  },
  'rbac.authorization.k8s.io/ClusterRoleBinding': {
    name: nameIsPathSegment,
    create: validateClusterRoleBinding,
    update: ((u: never, c: never) => validateRoleBindingUpdate(u, c, validateClusterRoleBinding)) as KindRules['update'],
  },
  'scheduling.k8s.io/PriorityClass': { name: nameIsDNSSubdomain, create: validatePriorityClass, update: validatePriorityClassUpdate },
  'autoscaling/Scale': { name: nameIsDNSSubdomain, create: validateScale },
};

function kindKey(object: KubeObject): { key: string; group: string; kind: string } {
  const group = object.apiVersion ? parseGroupVersion(object.apiVersion).group : '';
  const kind = object.kind ?? '';
  return { key: `${group}/${kind}`, group, kind };
}

function isNamespaced(object: KubeObject): boolean {
  const info = scheme.forObject(object);
  if (info) return info.namespaced;
  // Subresource bodies (Scale) live in their parent's namespace.
  return object.metadata?.namespace !== undefined;
}

/** Every problem with a new object: metadata and the kind's own rules. */
export function validateCreate(object: KubeObject): FieldErrorList {
  const { key } = kindKey(object);
  const kindRules = rules[key];
  const errs = validateObjectMeta(object.metadata, { namespaced: isNamespaced(object), validateName: kindRules?.name ?? nameIsDNSSubdomain });
  if (kindRules) errs.push(...(kindRules.create as (o: KubeObject) => FieldErrorList)(object));
  return errs;
}

/** Every problem with an update: the new object's own validity plus what may not change. */
export function validateUpdate(updated: KubeObject, current: KubeObject): FieldErrorList {
  const { key } = kindKey(updated);
  const kindRules = rules[key];
  const errs = validateObjectMeta(updated.metadata, { namespaced: isNamespaced(updated), validateName: kindRules?.name ?? nameIsDNSSubdomain });
  errs.push(...validateObjectMetaUpdate(updated.metadata ?? {}, current.metadata ?? {}));
  if (kindRules?.update) errs.push(...(kindRules.update as (u: KubeObject, c: KubeObject) => FieldErrorList)(updated, current));
  else if (kindRules) errs.push(...(kindRules.create as (o: KubeObject) => FieldErrorList)(updated));
  return errs;
}

/**
 * Problems with a write through the `status` subresource. The spec is taken from the stored
 * object (see keepSpec), so only metadata identity and the status itself are checked.
 */
export function validateStatusUpdate(updated: KubeObject, current: KubeObject): FieldErrorList {
  const { key } = kindKey(updated);
  const errs = validateObjectMetaUpdate(updated.metadata ?? {}, current.metadata ?? {});
  const statusRules = rules[key]?.status;
  if (statusRules) errs.push(...(statusRules as (u: KubeObject, c: KubeObject) => FieldErrorList)(updated, current));
  return errs;
}

function invalid(object: KubeObject, errs: FieldErrorList): ApiError | undefined {
  const { group, kind } = kindKey(object);
  return toInvalidError({ group, kind }, object.metadata?.name ?? object.metadata?.generateName ?? '', errs);
}

/** Throws the 422 Invalid ApiError naming every bad field, if there is any. */
export function assertValidCreate(object: KubeObject): void {
  const err = invalid(object, validateCreate(object));
  if (err) throw err;
}

export function assertValidUpdate(updated: KubeObject, current: KubeObject): void {
  const err = invalid(updated, validateUpdate(updated, current));
  if (err) throw err;
}

export function assertValidStatusUpdate(updated: KubeObject, current: KubeObject): void {
  const err = invalid(updated, validateStatusUpdate(updated, current));
  if (err) throw err;
}

export * from './core';
export * from './field';
export * from './meta';
export * from './names';
export * from './other';
export * from './pod';
export * from './workloads';
