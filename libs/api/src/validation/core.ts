// Validation of the core/v1 kinds other than Pod (whose spec has pod.ts): Namespace, Node
// (taints, pod CIDRs set once), Service (ports, clusterIP set once, ExternalName rules),
// Endpoints, ConfigMap and Secret (keys, 1 MiB, `immutable: true`), Event, Binding.

import { base64Decode } from '../base64';
import { deepEqual } from '../objects';
import { Quantity } from '../quantity';
import type { Binding, ConfigMap, Endpoints, Event, Namespace, Node, ResourceList, Secret, Service } from '../types/core';
import { FieldErrors, FieldPathBuilder, fieldImmutableErrorMsg, type FieldErrorList } from './field';
import { utf8Length, validateLabels } from './meta';
import {
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isLabelValue,
  isQualifiedName,
  isValidIP,
  isIPv4,
  isValidPortName,
  isValidPortNum,
} from './names';

const supportedProtocols = ['SCTP', 'TCP', 'UDP'];
const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const ipErrorDetail = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

/** Kubernetes' limit on a ConfigMap's or Secret's data, in bytes. */
export const MaxSecretSize = 1024 * 1024;

function isCIDR(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash < 0) return false;
  const ip = value.slice(0, slash);
  const bits = value.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bits)) return false;
  return isValidIP(ip) && Number(bits) <= (isIPv4(ip) ? 32 : 128);
}

// --- Namespace ---

export function validateNamespace(namespace: Namespace): FieldErrorList {
  const errs: FieldErrorList = [];
  (namespace.spec?.finalizers ?? []).forEach((finalizer, i) => {
    for (const msg of isQualifiedName(finalizer)) errs.push(FieldErrors.invalid(FieldPathBuilder.root('spec').child('finalizers').index(i), finalizer, msg));
  });
  const phase = namespace.status?.phase;
  if (phase !== undefined && phase !== 'Active' && phase !== 'Terminating') {
    errs.push(FieldErrors.notSupported(FieldPathBuilder.root('status').child('phase'), phase, ['Active', 'Terminating']));
  }
  return errs;
}

// --- Node ---

export function validateResourceList(list: ResourceList | undefined, path: FieldPathBuilder): FieldErrorList {
  const errs: FieldErrorList = [];
  for (const [name, value] of Object.entries(list ?? {})) {
    const itemPath = path.key(name);
    for (const msg of isQualifiedName(name)) errs.push(FieldErrors.invalid(itemPath, name, msg));
    const quantity = Quantity.tryParse(String(value));
    if (!quantity) {
      try {
        Quantity.parse(String(value));
      } catch (err) {
        errs.push(FieldErrors.invalid(itemPath, value, (err as Error).message));
      }
    } else if (quantity.sign() < 0) {
      errs.push(FieldErrors.invalid(itemPath, value, 'must be greater than or equal to 0'));
    }
  }
  return errs;
}

export function validateNode(node: Node): FieldErrorList {
  const errs: FieldErrorList = [];
  const spec = node.spec ?? {};
  const specPath = FieldPathBuilder.root('spec');
  const seen = new Set<string>();
  (spec.taints ?? []).forEach((taint, i) => {
    const taintPath = specPath.child('taints').index(i);
    if (!taint.key) errs.push(FieldErrors.required(taintPath.child('key')));
    else for (const msg of isQualifiedName(taint.key)) errs.push(FieldErrors.invalid(taintPath.child('key'), taint.key, msg));
    if (taint.value) for (const msg of isLabelValue(taint.value)) errs.push(FieldErrors.invalid(taintPath.child('value'), taint.value, msg));
    if (!taint.effect) errs.push(FieldErrors.required(taintPath.child('effect')));
    else if (!taintEffects.includes(taint.effect)) errs.push(FieldErrors.notSupported(taintPath.child('effect'), taint.effect, taintEffects));
    const pair = `${taint.key}:${taint.effect}`;
    if (seen.has(pair)) errs.push(FieldErrors.duplicate(taintPath, pair));
    seen.add(pair);
  });
  if (spec.podCIDR && !isCIDR(spec.podCIDR)) {
    errs.push(FieldErrors.invalid(specPath.child('podCIDR'), spec.podCIDR, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
  }
  (spec.podCIDRs ?? []).forEach((cidr, i) => {
    if (!isCIDR(cidr)) errs.push(FieldErrors.invalid(specPath.child('podCIDRs').index(i), cidr, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
  });
  if ((spec.podCIDRs ?? []).length > 2) errs.push(FieldErrors.tooMany(specPath.child('podCIDRs'), spec.podCIDRs!.length, 2));
  errs.push(...validateResourceList(node.status?.capacity, FieldPathBuilder.root('status').child('capacity')));
  errs.push(...validateResourceList(node.status?.allocatable, FieldPathBuilder.root('status').child('allocatable')));
  return errs;
}

export function validateNodeUpdate(updated: Node, current: Node): FieldErrorList {
  const errs = validateNode(updated);
  const specPath = FieldPathBuilder.root('spec');
  const prevCIDRs = current.spec?.podCIDRs ?? (current.spec?.podCIDR ? [current.spec.podCIDR] : []);
  const nextCIDRs = updated.spec?.podCIDRs ?? (updated.spec?.podCIDR ? [updated.spec.podCIDR] : []);
  if (prevCIDRs.length > 0 && !deepEqual(prevCIDRs, nextCIDRs)) {
    errs.push(FieldErrors.forbidden(specPath.child('podCIDRs'), 'node updates may not change podCIDR except from "" to valid'));
  }
  const prevProvider = current.spec?.providerID;
  if (prevProvider && prevProvider !== updated.spec?.providerID) {
    errs.push(FieldErrors.forbidden(specPath.child('providerID'), 'node updates may not change providerID except from "" to valid'));
  }
  return errs;
}

// --- Service ---

const serviceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];

export function validateService(service: Service): FieldErrorList {
  const errs: FieldErrorList = [];
  const spec = service.spec ?? {};
  const specPath = FieldPathBuilder.root('spec');
  const type = spec.type ?? 'ClusterIP';
  if (!serviceTypes.includes(type)) errs.push(FieldErrors.notSupported(specPath.child('type'), type, serviceTypes));
  const headless = spec.clusterIP === 'None';
  const ports = spec.ports ?? [];

  if (type === 'ExternalName') {
    if (!spec.externalName) errs.push(FieldErrors.required(specPath.child('externalName')));
    else for (const msg of isDNS1123Subdomain(spec.externalName.replace(/\.$/, ''))) errs.push(FieldErrors.invalid(specPath.child('externalName'), spec.externalName, msg));
    if (spec.clusterIP) errs.push(FieldErrors.forbidden(specPath.child('clusterIP'), 'may not be set for ExternalName services'));
  } else if (ports.length === 0 && !headless) {
    errs.push(FieldErrors.required(specPath.child('ports')));
  }

  const ips = spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : []);
  const ipsPath = spec.clusterIPs ? specPath.child('clusterIPs') : undefined;
  ips.forEach((ip, i) => {
    const path = ipsPath ? ipsPath.index(i) : specPath.child('clusterIP');
    if (ip === 'None') {
      if (i > 0) errs.push(FieldErrors.invalid(path, ip, ipErrorDetail));
      else if (type === 'NodePort' || type === 'LoadBalancer') errs.push(FieldErrors.invalid(path, ip, `may not be set to 'None' for ${type} services`));
    } else if (ip !== '' && !isValidIP(ip)) {
      errs.push(FieldErrors.invalid(path, ip, ipErrorDetail));
    }
  });
  if (spec.clusterIP && spec.clusterIPs && spec.clusterIPs[0] !== spec.clusterIP) {
    errs.push(FieldErrors.invalid(specPath.child('clusterIPs'), spec.clusterIPs, 'element [0] must match clusterIP'));
  }

  const names = new Set<string>();
  const portKeys = new Set<string>();
  const nodePortKeys = new Set<string>();
  ports.forEach((port, i) => {
    const portPath = specPath.child('ports').index(i);
    if (ports.length > 1 && !port.name) errs.push(FieldErrors.required(portPath.child('name')));
    if (port.name) {
      for (const msg of isDNS1123Label(port.name)) errs.push(FieldErrors.invalid(portPath.child('name'), port.name, msg));
      if (names.has(port.name)) errs.push(FieldErrors.duplicate(portPath.child('name'), port.name));
      names.add(port.name);
    }
    for (const msg of isValidPortNum(port.port)) errs.push(FieldErrors.invalid(portPath.child('port'), port.port, msg));
    const protocol = port.protocol ?? 'TCP';
    if (!supportedProtocols.includes(protocol)) errs.push(FieldErrors.notSupported(portPath.child('protocol'), protocol, supportedProtocols));
    const key = JSON.stringify({ port: port.port, protocol });
    if (portKeys.has(key)) errs.push(FieldErrors.duplicate(portPath, JSON.parse(key)));
    portKeys.add(key);
    const target = port.targetPort;
    if (typeof target === 'number') {
      for (const msg of isValidPortNum(target)) errs.push(FieldErrors.invalid(portPath.child('targetPort'), target, msg));
    } else if (typeof target === 'string') {
      for (const msg of isValidPortName(target)) errs.push(FieldErrors.invalid(portPath.child('targetPort'), target, msg));
    }
    if (port.nodePort !== undefined && port.nodePort !== 0) {
      if (type === 'ClusterIP' || type === 'ExternalName') {
        errs.push(FieldErrors.forbidden(portPath.child('nodePort'), `may not be used when \`type\` is '${type}'`));
      } else {
        for (const msg of isValidPortNum(port.nodePort)) errs.push(FieldErrors.invalid(portPath.child('nodePort'), port.nodePort, msg));
        const nodeKey = `${port.nodePort}/${protocol}`;
        if (nodePortKeys.has(nodeKey)) errs.push(FieldErrors.duplicate(portPath.child('nodePort'), port.nodePort));
        nodePortKeys.add(nodeKey);
      }
    }
  });

  if (spec.sessionAffinity !== undefined && spec.sessionAffinity !== 'None' && spec.sessionAffinity !== 'ClientIP') {
    errs.push(FieldErrors.notSupported(specPath.child('sessionAffinity'), spec.sessionAffinity, ['ClientIP', 'None']));
  }
  for (const field of ['externalTrafficPolicy', 'internalTrafficPolicy'] as const) {
    const value = spec[field];
    if (value !== undefined && value !== 'Cluster' && value !== 'Local') errs.push(FieldErrors.notSupported(specPath.child(field), value, ['Cluster', 'Local']));
  }
  if (spec.externalTrafficPolicy !== undefined && type !== 'NodePort' && type !== 'LoadBalancer') {
    errs.push(FieldErrors.invalid(specPath.child('externalTrafficPolicy'), spec.externalTrafficPolicy, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"));
  }
  (spec.externalIPs ?? []).forEach((ip, i) => {
    if (!isValidIP(ip)) errs.push(FieldErrors.invalid(specPath.child('externalIPs').index(i), ip, ipErrorDetail));
  });
  errs.push(...validateLabels(spec.selector, specPath.child('selector')));
  return errs;
}

/** A Service's cluster IP, once allocated, stays unless the Service turns into or out of ExternalName. */
export function validateServiceUpdate(updated: Service, current: Service): FieldErrorList {
  const errs = validateService(updated);
  const prevType = current.spec?.type ?? 'ClusterIP';
  const nextType = updated.spec?.type ?? 'ClusterIP';
  const prevIP = current.spec?.clusterIP;
  if (prevIP && prevType !== 'ExternalName' && nextType !== 'ExternalName') {
    const nextIP = updated.spec?.clusterIP ?? '';
    if (nextIP !== prevIP) errs.push(FieldErrors.invalid(FieldPathBuilder.root('spec').child('clusterIP'), nextIP, fieldImmutableErrorMsg));
  }
  return errs;
}

// --- Endpoints ---

export function validateEndpoints(endpoints: Endpoints): FieldErrorList {
  const errs: FieldErrorList = [];
  (endpoints.subsets ?? []).forEach((subset, i) => {
    const subsetPath = FieldPathBuilder.root('subsets').index(i);
    for (const key of ['addresses', 'notReadyAddresses'] as const) {
      (subset[key] ?? []).forEach((address, j) => {
        const addressPath = subsetPath.child(key).index(j);
        if (!isValidIP(address.ip ?? '')) errs.push(FieldErrors.invalid(addressPath.child('ip'), address.ip ?? '', ipErrorDetail));
        if (address.nodeName) for (const msg of isDNS1123Subdomain(address.nodeName)) errs.push(FieldErrors.invalid(addressPath.child('nodeName'), address.nodeName, msg));
      });
    }
    const ports = subset.ports ?? [];
    const names = new Set<string>();
    ports.forEach((port, j) => {
      const portPath = subsetPath.child('ports').index(j);
      if (ports.length > 1 && !port.name) errs.push(FieldErrors.required(portPath.child('name')));
      if (port.name) {
        for (const msg of isDNS1123Label(port.name)) errs.push(FieldErrors.invalid(portPath.child('name'), port.name, msg));
        if (names.has(port.name)) errs.push(FieldErrors.duplicate(portPath.child('name'), port.name));
        names.add(port.name);
      }
      for (const msg of isValidPortNum(port.port)) errs.push(FieldErrors.invalid(portPath.child('port'), port.port, msg));
      const protocol = port.protocol ?? 'TCP';
      if (!supportedProtocols.includes(protocol)) errs.push(FieldErrors.notSupported(portPath.child('protocol'), protocol, supportedProtocols));
    });
  });
  return errs;
}

// --- ConfigMap and Secret ---

function validateDataKeys(data: Record<string, string> | undefined, field: string): FieldErrorList {
  const errs: FieldErrorList = [];
  for (const key of Object.keys(data ?? {})) {
    for (const msg of isConfigMapKey(key)) errs.push(FieldErrors.invalid(FieldPathBuilder.root(field).key(key), key, msg));
  }
  return errs;
}

/** Decoded size of base64 values; invalid base64 is an error on its key. */
function binaryDataSize(data: Record<string, string> | undefined, field: string, errs: FieldErrorList): number {
  let size = 0;
  for (const [key, value] of Object.entries(data ?? {})) {
    const bytes = base64Decode(value);
    if (!bytes) errs.push(FieldErrors.invalid(FieldPathBuilder.root(field).key(key), '<value omitted>', 'illegal base64 data'));
    else size += bytes.length;
  }
  return size;
}

export function validateConfigMap(configMap: ConfigMap): FieldErrorList {
  const errs = [...validateDataKeys(configMap.data, 'data'), ...validateDataKeys(configMap.binaryData, 'binaryData')];
  for (const key of Object.keys(configMap.binaryData ?? {})) {
    if (configMap.data && key in configMap.data) {
      errs.push(FieldErrors.invalid(FieldPathBuilder.root('binaryData').key(key), key, 'duplicate of key present in data'));
    }
  }
  let size = binaryDataSize(configMap.binaryData, 'binaryData', errs);
  for (const [key, value] of Object.entries(configMap.data ?? {})) size += utf8Length(key) + utf8Length(value);
  if (size > MaxSecretSize) errs.push(FieldErrors.tooLong(FieldPathBuilder.root(''), MaxSecretSize));
  return errs;
}

const immutableDetail = 'field is immutable when `immutable` is set';

/** Once `immutable: true`, the data may not change and the flag may not be cleared. */
function validateImmutableData(
  updated: { immutable?: boolean },
  current: { immutable?: boolean },
  fields: [string, unknown, unknown][],
): FieldErrorList {
  const errs: FieldErrorList = [];
  if (current.immutable !== true) return errs;
  for (const [field, next, prev] of fields) {
    if (!deepEqual(next ?? {}, prev ?? {})) errs.push(FieldErrors.forbidden(FieldPathBuilder.root(field), immutableDetail));
  }
  if (updated.immutable !== true) errs.push(FieldErrors.forbidden(FieldPathBuilder.root('immutable'), immutableDetail));
  return errs;
}

export function validateConfigMapUpdate(updated: ConfigMap, current: ConfigMap): FieldErrorList {
  return [
    ...validateConfigMap(updated),
    ...validateImmutableData(updated, current, [
      ['data', updated.data, current.data],
      ['binaryData', updated.binaryData, current.binaryData],
    ]),
  ];
}

/** Keys each built-in Secret type must carry. */
const requiredSecretKeys: Record<string, string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
};

export function validateSecret(secret: Secret): FieldErrorList {
  const errs = validateDataKeys(secret.data, 'data');
  const size = binaryDataSize(secret.data, 'data', errs);
  if (size > MaxSecretSize) errs.push(FieldErrors.tooLong(FieldPathBuilder.root('data'), MaxSecretSize));
  const type = secret.type ?? 'Opaque';
  const data = secret.data ?? {};
  for (const key of requiredSecretKeys[type] ?? []) {
    if (!(key in data)) errs.push(FieldErrors.required(FieldPathBuilder.root('data').key(key)));
  }
  if (type === 'kubernetes.io/basic-auth' && !('username' in data) && !('password' in data)) {
    errs.push(FieldErrors.required(FieldPathBuilder.root('data').key('username')));
    errs.push(FieldErrors.required(FieldPathBuilder.root('data').key('password')));
  }
  if (type === 'kubernetes.io/service-account-token' && !secret.metadata.annotations?.['kubernetes.io/service-account.name']) {
    errs.push(FieldErrors.required(FieldPathBuilder.root('metadata').child('annotations').key('kubernetes.io/service-account.name')));
  }
  return errs;
}

export function validateSecretUpdate(updated: Secret, current: Secret): FieldErrorList {
  const errs = validateSecret(updated);
  const nextType = updated.type ?? 'Opaque';
  if (nextType !== (current.type ?? 'Opaque')) errs.push(FieldErrors.invalid(FieldPathBuilder.root('type'), nextType, fieldImmutableErrorMsg));
  errs.push(...validateImmutableData(updated, current, [['data', updated.data, current.data]]));
  return errs;
}

// --- Event, Binding ---

export function validateEvent(event: Event): FieldErrorList {
  const errs: FieldErrorList = [];
  const involved = event.involvedObject ?? {};
  if (involved.namespace && event.metadata.namespace && involved.namespace !== event.metadata.namespace) {
    errs.push(FieldErrors.invalid(FieldPathBuilder.root('involvedObject').child('namespace'), involved.namespace, 'does not match event.namespace'));
  }
  if (event.type !== undefined && event.type !== 'Normal' && event.type !== 'Warning') {
    errs.push(FieldErrors.notSupported(FieldPathBuilder.root('type'), event.type, ['Normal', 'Warning']));
  }
  return errs;
}

export function validateBinding(binding: Binding): FieldErrorList {
  const errs: FieldErrorList = [];
  const target = binding.target ?? {};
  if (!target.name) errs.push(FieldErrors.required(FieldPathBuilder.root('target').child('name')));
  if (target.kind && target.kind !== 'Node') errs.push(FieldErrors.invalid(FieldPathBuilder.root('target').child('kind'), target.kind, "must be empty or 'Node'"));
  return errs;
}
