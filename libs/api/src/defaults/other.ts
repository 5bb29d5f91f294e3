// Defaulting for the smaller groups: EndpointSlice ports are TCP, a PriorityClass preempts
// lower priorities, and an RBAC subject's apiGroup follows its kind.

import type { EndpointSlice } from '../types/discovery';
import type { ClusterRoleBinding, RoleBinding } from '../types/rbac';
import type { PriorityClass } from '../types/scheduling';

export function defaultEndpointSlice(slice: EndpointSlice): void {
  for (const port of slice.ports ?? []) {
    port.protocol ??= 'TCP';
    port.name ??= '';
  }
}

export function defaultPriorityClass(priorityClass: PriorityClass): void {
  priorityClass.preemptionPolicy ??= 'PreemptLowerPriority';
}

export function defaultRoleBinding(binding: RoleBinding | ClusterRoleBinding): void {
  for (const subject of binding.subjects ?? []) {
    if (subject.apiGroup === undefined) subject.apiGroup = subject.kind === 'ServiceAccount' ? '' : 'rbac.authorization.k8s.io';
  }
}
