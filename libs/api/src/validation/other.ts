// Validation of the smaller kinds: discovery.k8s.io EndpointSlice, coordination.k8s.io Lease,
// rbac.authorization.k8s.io roles and bindings (a binding's roleRef is fixed), scheduling.k8s.io
// PriorityClass (value fixed; the `system-` names reserved), and autoscaling/v1 Scale.

import { deepEqual } from '../objects';
import type { Scale } from '../types/autoscaling';
import type { Lease } from '../types/coordination';
import type { EndpointSlice } from '../types/discovery';
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding } from '../types/rbac';
import type { PriorityClass } from '../types/scheduling';
import { FieldErrors, FieldPathBuilder, validateNonnegative, validatePositive, type FieldErrorList } from './field';
import { validateLabelSelector } from './meta';
import { isDNS1123Label, isDNS1123Subdomain, isIPv4, isIPv6, isValidPortNum } from './names';

// --- EndpointSlice ---

const addressTypes = ['IPv4', 'IPv6', 'FQDN'];
/** Kubernetes' bounds on one slice. */
export const MaxEndpointsPerSlice = 1000;
export const MaxPortsPerSlice = 100;

export function validateEndpointSlice(slice: EndpointSlice): FieldErrorList {
  const errs: FieldErrorList = [];
  const type = slice.addressType;
  if (!type) errs.push(FieldErrors.required(FieldPathBuilder.root('addressType')));
  else if (!addressTypes.includes(type)) errs.push(FieldErrors.notSupported(FieldPathBuilder.root('addressType'), type, addressTypes));
  const endpoints = slice.endpoints ?? [];
  if (endpoints.length > MaxEndpointsPerSlice) errs.push(FieldErrors.tooMany(FieldPathBuilder.root('endpoints'), endpoints.length, MaxEndpointsPerSlice));
  endpoints.forEach((endpoint, i) => {
    const path = FieldPathBuilder.root('endpoints').index(i);
    const addresses = endpoint.addresses ?? [];
    if (addresses.length === 0) errs.push(FieldErrors.required(path.child('addresses'), 'must contain at least 1 address'));
    if (addresses.length > 100) errs.push(FieldErrors.tooMany(path.child('addresses'), addresses.length, 100));
    addresses.forEach((address, j) => {
      const addressPath = path.child('addresses').index(j);
      if (type === 'IPv4' && !isIPv4(address)) errs.push(FieldErrors.invalid(addressPath, address, 'must be a valid IPv4 address'));
      if (type === 'IPv6' && !isIPv6(address)) errs.push(FieldErrors.invalid(addressPath, address, 'must be a valid IPv6 address'));
      if (type === 'FQDN') for (const msg of isDNS1123Subdomain(address)) errs.push(FieldErrors.invalid(addressPath, address, msg));
    });
    if (endpoint.hostname) for (const msg of isDNS1123Label(endpoint.hostname)) errs.push(FieldErrors.invalid(path.child('hostname'), endpoint.hostname, msg));
    if (endpoint.nodeName) for (const msg of isDNS1123Subdomain(endpoint.nodeName)) errs.push(FieldErrors.invalid(path.child('nodeName'), endpoint.nodeName, msg));
  });
  const ports = slice.ports ?? [];
  if (ports.length > MaxPortsPerSlice) errs.push(FieldErrors.tooMany(FieldPathBuilder.root('ports'), ports.length, MaxPortsPerSlice));
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const path = FieldPathBuilder.root('ports').index(i);
    const name = port.name ?? '';
    if (name) for (const msg of isDNS1123Label(name)) errs.push(FieldErrors.invalid(path.child('name'), name, msg));
    if (names.has(name)) errs.push(FieldErrors.duplicate(path.child('name'), name));
    names.add(name);
    if (port.port !== undefined) for (const msg of isValidPortNum(port.port)) errs.push(FieldErrors.invalid(path.child('port'), port.port, msg));
    if (port.protocol !== undefined && !['SCTP', 'TCP', 'UDP'].includes(port.protocol)) {
      errs.push(FieldErrors.notSupported(path.child('protocol'), port.protocol, ['SCTP', 'TCP', 'UDP']));
    }
  });
  return errs;
}

export function validateEndpointSliceUpdate(updated: EndpointSlice, current: EndpointSlice): FieldErrorList {
  const errs = validateEndpointSlice(updated);
  if (updated.addressType !== current.addressType) errs.push(FieldErrors.invalid(FieldPathBuilder.root('addressType'), updated.addressType, 'field is immutable'));
  return errs;
}

// --- Lease ---

export function validateLease(lease: Lease): FieldErrorList {
  const spec = lease.spec ?? {};
  const path = FieldPathBuilder.root('spec');
  return [
    ...validatePositive(spec.leaseDurationSeconds, path.child('leaseDurationSeconds')),
    ...validateNonnegative(spec.leaseTransitions, path.child('leaseTransitions')),
  ];
}

// --- RBAC ---

function validatePolicyRule(rule: PolicyRule, path: FieldPathBuilder, namespaced: boolean): FieldErrorList {
  const errs: FieldErrorList = [];
  if ((rule.verbs ?? []).length === 0) errs.push(FieldErrors.required(path.child('verbs'), 'verbs must contain at least one value'));
  const nonResource = rule.nonResourceURLs ?? [];
  if (nonResource.length > 0) {
    if (namespaced) errs.push(FieldErrors.invalid(path.child('nonResourceURLs'), nonResource, 'namespaced rules cannot apply to non-resource URLs'));
    if ((rule.apiGroups ?? []).length > 0 || (rule.resources ?? []).length > 0 || (rule.resourceNames ?? []).length > 0) {
      errs.push(FieldErrors.invalid(path.child('nonResourceURLs'), nonResource, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if ((rule.apiGroups ?? []).length === 0) errs.push(FieldErrors.required(path.child('apiGroups'), 'resource rules must supply at least one api group'));
  if ((rule.resources ?? []).length === 0) errs.push(FieldErrors.required(path.child('resources'), 'resource rules must supply at least one resource'));
  return errs;
}

export function validateRole(role: Role): FieldErrorList {
  return (role.rules ?? []).flatMap((rule, i) => validatePolicyRule(rule, FieldPathBuilder.root('rules').index(i), true));
}

export function validateClusterRole(role: ClusterRole): FieldErrorList {
  const errs = (role.rules ?? []).flatMap((rule, i) => validatePolicyRule(rule, FieldPathBuilder.root('rules').index(i), false));
  (role.aggregationRule?.clusterRoleSelectors ?? []).forEach((selector, i) =>
    errs.push(...validateLabelSelector(selector, FieldPathBuilder.root('aggregationRule').child('clusterRoleSelectors').index(i))),
  );
  return errs;
}

const rbacGroup = 'rbac.authorization.k8s.io';

function validateBinding(binding: RoleBinding | ClusterRoleBinding, roleKinds: string[], clusterScoped: boolean): FieldErrorList {
  const errs: FieldErrorList = [];
  const roleRef = binding.roleRef ?? ({} as RoleBinding['roleRef']);
  const refPath = FieldPathBuilder.root('roleRef');
  if (roleRef.apiGroup !== rbacGroup) errs.push(FieldErrors.notSupported(refPath.child('apiGroup'), roleRef.apiGroup ?? '', [rbacGroup]));
  if (!roleKinds.includes(roleRef.kind)) errs.push(FieldErrors.notSupported(refPath.child('kind'), roleRef.kind ?? '', roleKinds));
  if (!roleRef.name) errs.push(FieldErrors.required(refPath.child('name')));
  (binding.subjects ?? []).forEach((subject, i) => {
    const path = FieldPathBuilder.root('subjects').index(i);
    if (!subject.name) errs.push(FieldErrors.required(path.child('name')));
    switch (subject.kind) {
      case 'ServiceAccount':
        if (subject.apiGroup) errs.push(FieldErrors.notSupported(path.child('apiGroup'), subject.apiGroup, ['']));
        if (clusterScoped && !subject.namespace) errs.push(FieldErrors.required(path.child('namespace')));
        if (subject.name) for (const msg of isDNS1123Subdomain(subject.name)) errs.push(FieldErrors.invalid(path.child('name'), subject.name, msg));
        break;
      case 'User':
      case 'Group':
        if (subject.apiGroup !== rbacGroup) errs.push(FieldErrors.notSupported(path.child('apiGroup'), subject.apiGroup ?? '', [rbacGroup]));
        break;
      default:
        errs.push(FieldErrors.notSupported(path.child('kind'), subject.kind ?? '', ['ServiceAccount', 'User', 'Group']));
    }
  });
  return errs;
}

export function validateRoleBinding(binding: RoleBinding): FieldErrorList {
  return validateBinding(binding, ['Role', 'ClusterRole'], false);
}

export function validateClusterRoleBinding(binding: ClusterRoleBinding): FieldErrorList {
  return validateBinding(binding, ['ClusterRole'], true);
}

/** A binding grants one role for life; to change it, delete and recreate. */
export function validateRoleBindingUpdate<T extends RoleBinding | ClusterRoleBinding>(updated: T, current: T, validate: (b: T) => FieldErrorList): FieldErrorList {
  const errs = validate(updated);
  if (!deepEqual(updated.roleRef, current.roleRef)) errs.push(FieldErrors.invalid(FieldPathBuilder.root('roleRef'), updated.roleRef, 'cannot change roleRef'));
  return errs;
}

// --- PriorityClass ---

/** The largest value a user-defined PriorityClass may have; above it are the system classes. */
export const HighestUserDefinablePriority = 1_000_000_000;
/** The built-in classes, the only names allowed the `system-` prefix. */
export const SystemPriorityClasses: Record<string, number> = {
  'system-node-critical': 2_000_001_000,
  'system-cluster-critical': 2_000_000_000,
};

export function validatePriorityClass(priorityClass: PriorityClass): FieldErrorList {
  const errs: FieldErrorList = [];
  const name = priorityClass.metadata.name ?? '';
  const systemValue = SystemPriorityClasses[name];
  if (systemValue !== undefined) {
    if (priorityClass.value !== systemValue) {
      errs.push(FieldErrors.forbidden(FieldPathBuilder.root('value'), `value of ${name} must be ${systemValue}`));
    }
  } else {
    if (name.startsWith('system-')) {
      errs.push(FieldErrors.forbidden(FieldPathBuilder.root('metadata').child('name'), "priority class names with 'system-' prefix are reserved"));
    }
    if (typeof priorityClass.value !== 'number') errs.push(FieldErrors.required(FieldPathBuilder.root('value')));
    else if (priorityClass.value > HighestUserDefinablePriority) {
      errs.push(FieldErrors.forbidden(FieldPathBuilder.root('value'), `maximum allowed value of a user defined priority is ${HighestUserDefinablePriority}`));
    }
  }
  const policy = priorityClass.preemptionPolicy;
  if (policy !== undefined && policy !== 'PreemptLowerPriority' && policy !== 'Never') {
    errs.push(FieldErrors.notSupported(FieldPathBuilder.root('preemptionPolicy'), policy, ['Never', 'PreemptLowerPriority']));
  }
  return errs;
}

export function validatePriorityClassUpdate(updated: PriorityClass, current: PriorityClass): FieldErrorList {
  const errs = validatePriorityClass(updated);
  if (updated.value !== current.value) errs.push(FieldErrors.forbidden(FieldPathBuilder.root('value'), 'may not be changed in an update.'));
  if (updated.preemptionPolicy !== current.preemptionPolicy) {
    errs.push(FieldErrors.invalid(FieldPathBuilder.root('preemptionPolicy'), updated.preemptionPolicy ?? null, 'field is immutable'));
  }
  return errs;
}

// --- Scale ---

export function validateScale(scale: Scale): FieldErrorList {
  return validateNonnegative(scale.spec?.replicas, FieldPathBuilder.root('spec').child('replicas'));
}
