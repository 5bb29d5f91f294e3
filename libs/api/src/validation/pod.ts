// Validation of a PodSpec, shared by Pods and every workload's pod template: containers and
// init containers (names unique across both, image required, ports, env and envFrom,
// resources, volume mounts, probes and lifecycle handlers, security context), volumes,
// restart and DNS policies, scheduling fields (nodeSelector, affinity, tolerations,
// topology spread), and the few changes a running pod accepts (ValidatePodUpdate).

import { deepEqual } from '../objects';
import { Quantity } from '../quantity';
import type {
  Affinity,
  Container,
  EnvVar,
  HTTPGetAction,
  LifecycleHandler,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  Pod,
  PodAffinityTerm,
  PodSpec,
  Probe,
  ResourceRequirements,
  SecurityContext,
  Toleration,
  TopologySpreadConstraint,
  Volume,
} from '../types/core';
import type { IntOrString } from '../intstr';
import { FieldErrors, FieldPathBuilder, type FieldErrorList } from './field';
import { validateLabels, validateLabelSelector } from './meta';
import {
  inclusiveRangeError,
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isLabelValue,
  isQualifiedName,
  isValidIP,
  isValidPortName,
  isValidPortNum,
} from './names';

const supportedProtocols = ['SCTP', 'TCP', 'UDP'];
const supportedPullPolicies = ['Always', 'IfNotPresent', 'Never'];
const supportedTerminationMessagePolicies = ['File', 'FallbackToLogsOnError'];
const supportedRestartPolicies = ['Always', 'OnFailure', 'Never'];
const supportedDNSPolicies = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];
const supportedTaintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const supportedEnvFieldPaths = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];
const supportedResourceFieldRefs = [
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
];
const standardContainerResources = ['cpu', 'memory', 'ephemeral-storage'];

function dnsLabelErrors(value: string, path: FieldPathBuilder): FieldErrorList {
  return isDNS1123Label(value).map((msg) => FieldErrors.invalid(path, value, msg));
}

function dnsSubdomainErrors(value: string, path: FieldPathBuilder): FieldErrorList {
  return isDNS1123Subdomain(value).map((msg) => FieldErrors.invalid(path, value, msg));
}

// --- volumes ---

function validateFileMode(mode: number | undefined, path: FieldPathBuilder): FieldErrorList {
  if (mode === undefined) return [];
  return mode < 0 || mode > 0o777 || !Number.isInteger(mode)
    ? [FieldErrors.invalid(path, mode, 'must be a number between 0 and 0777 (octal), both inclusive')]
    : [];
}

const volumeSourceNames = ['emptyDir', 'hostPath', 'configMap', 'secret', 'projected', 'downwardAPI', 'persistentVolumeClaim'] as const;

function validateVolume(volume: Volume, path: FieldPathBuilder): FieldErrorList {
  const errs: FieldErrorList = [];
  const sources = volumeSourceNames.filter((name) => volume[name] !== undefined);
  if (sources.length === 0) errs.push(FieldErrors.required(path, 'must specify a volume type'));
  for (const extra of sources.slice(1)) errs.push(FieldErrors.forbidden(path.child(extra), 'may not specify more than 1 volume type'));
  if (volume.hostPath && !volume.hostPath.path) errs.push(FieldErrors.required(path.child('hostPath', 'path')));
  if (volume.configMap) {
    if (!volume.configMap.name) errs.push(FieldErrors.required(path.child('configMap', 'name')));
    errs.push(...validateFileMode(volume.configMap.defaultMode, path.child('configMap', 'defaultMode')));
  }
  if (volume.secret) {
    if (!volume.secret.secretName) errs.push(FieldErrors.required(path.child('secret', 'secretName')));
    errs.push(...validateFileMode(volume.secret.defaultMode, path.child('secret', 'defaultMode')));
  }
  if (volume.persistentVolumeClaim && !volume.persistentVolumeClaim.claimName) {
    errs.push(FieldErrors.required(path.child('persistentVolumeClaim', 'claimName')));
  }
  if (volume.projected) {
    errs.push(...validateFileMode(volume.projected.defaultMode, path.child('projected', 'defaultMode')));
    (volume.projected.sources ?? []).forEach((source, i) => {
      const sourcePath = path.child('projected', 'sources').index(i);
      const token = source.serviceAccountToken;
      if (token) {
        const tokenPath = sourcePath.child('serviceAccountToken');
        if (!token.path) errs.push(FieldErrors.required(tokenPath.child('path')));
        const seconds = token.expirationSeconds;
        if (seconds !== undefined && seconds < 600) {
          errs.push(FieldErrors.invalid(tokenPath.child('expirationSeconds'), seconds, 'may not specify a duration less than 10 minutes'));
        } else if (seconds !== undefined && seconds > 2 ** 32) {
          errs.push(FieldErrors.invalid(tokenPath.child('expirationSeconds'), seconds, 'may not specify a duration larger than 2^32 seconds'));
        }
      }
      if (source.configMap && !source.configMap.name) errs.push(FieldErrors.required(sourcePath.child('configMap', 'name')));
      if (source.secret && !source.secret.name) errs.push(FieldErrors.required(sourcePath.child('secret', 'name')));
    });
  }
  return errs;
}

function validateVolumes(volumes: Volume[] | undefined, path: FieldPathBuilder): { errs: FieldErrorList; names: Set<string> } {
  const errs: FieldErrorList = [];
  const names = new Set<string>();
  (volumes ?? []).forEach((volume, i) => {
    const volumePath = path.index(i);
    if (!volume.name) errs.push(FieldErrors.required(volumePath.child('name')));
    else if (names.has(volume.name)) errs.push(FieldErrors.duplicate(volumePath.child('name'), volume.name));
    else errs.push(...dnsLabelErrors(volume.name, volumePath.child('name')));
    if (volume.name) names.add(volume.name);
    errs.push(...validateVolume(volume, volumePath));
  });
  return { errs, names };
}

// --- containers ---

function validatePortNumberOrName(port: IntOrString | undefined, path: FieldPathBuilder): FieldErrorList {
  if (port === undefined) return [FieldErrors.required(path)];
  if (typeof port === 'number') return isValidPortNum(port).map((msg) => FieldErrors.invalid(path, port, msg));
  return isValidPortName(port).map((msg) => FieldErrors.invalid(path, port, msg));
}

function validateHTTPGet(action: HTTPGetAction, path: FieldPathBuilder): FieldErrorList {
  const errs: FieldErrorList = [];
  if (action.path === '') errs.push(FieldErrors.required(path.child('path')));
  errs.push(...validatePortNumberOrName(action.port, path.child('port')));
  if (action.scheme !== undefined && action.scheme !== 'HTTP' && action.scheme !== 'HTTPS') {
    errs.push(FieldErrors.notSupported(path.child('scheme'), action.scheme, ['HTTP', 'HTTPS']));
  }
  (action.httpHeaders ?? []).forEach((header, i) => {
    if (!/^[-A-Za-z0-9]+$/.test(header.name ?? '')) {
      errs.push(
        FieldErrors.invalid(
          path.child('httpHeaders').index(i).child('name'),
          header.name ?? '',
          "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')",
        ),
      );
    }
  });
  return errs;
}

/** Exactly one handler (exec, httpGet, tcpSocket, grpc, sleep), each well formed. */
function validateHandler(handler: Probe | LifecycleHandler, path: FieldPathBuilder): FieldErrorList {
  const errs: FieldErrorList = [];
  const kinds = (['exec', 'httpGet', 'tcpSocket', 'grpc', 'sleep'] as const).filter((k) => (handler as Record<string, unknown>)[k] !== undefined);
  if (kinds.length === 0) return [FieldErrors.required(path, 'must specify a handler type')];
  for (const extra of kinds.slice(1)) errs.push(FieldErrors.forbidden(path.child(extra), 'may not specify more than 1 handler type'));
  if (handler.exec && (handler.exec.command ?? []).length === 0) errs.push(FieldErrors.required(path.child('exec', 'command')));
  if (handler.httpGet) errs.push(...validateHTTPGet(handler.httpGet, path.child('httpGet')));
  if (handler.tcpSocket) errs.push(...validatePortNumberOrName(handler.tcpSocket.port, path.child('tcpSocket', 'port')));
  const grpc = (handler as Probe).grpc;
  if (grpc) errs.push(...validatePortNumberOrName(grpc.port, path.child('grpc', 'port')));
  return errs;
}

function validateProbe(probe: Probe | undefined, path: FieldPathBuilder, successMustBeOne: boolean): FieldErrorList {
  if (!probe) return [];
  const errs = validateHandler(probe, path);
  for (const field of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    const value = probe[field];
    if (value !== undefined && value < 0) errs.push(FieldErrors.invalid(path.child(field), value, 'must be greater than or equal to 0'));
  }
  if (successMustBeOne && probe.successThreshold !== undefined && probe.successThreshold !== 1) {
    errs.push(FieldErrors.invalid(path.child('successThreshold'), probe.successThreshold, 'must be 1'));
  }
  if (probe.terminationGracePeriodSeconds !== undefined && probe.terminationGracePeriodSeconds <= 0) {
    errs.push(FieldErrors.invalid(path.child('terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds, 'must be greater than 0'));
  }
  return errs;
}

function validateEnvVar(env: EnvVar, path: FieldPathBuilder): FieldErrorList {
  const errs: FieldErrorList = [];
  if (!env.name) errs.push(FieldErrors.required(path.child('name')));
  else if (!/^[\x20-\x3c\x3e-\x7e]+$/.test(env.name)) {
    errs.push(FieldErrors.invalid(path.child('name'), env.name, "a valid environment variable name must consist only of printable ASCII characters other than '='"));
  }
  const from = env.valueFrom;
  if (!from) return errs;
  const fromPath = path.child('valueFrom');
  const sources = (['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'] as const).filter((k) => from[k] !== undefined);
  if (env.value) errs.push(FieldErrors.invalid(fromPath, '', 'may not be specified when `value` is not empty'));
  if (sources.length === 0) {
    errs.push(FieldErrors.invalid(fromPath, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
  } else if (sources.length > 1) {
    errs.push(FieldErrors.invalid(fromPath, '', 'may not have more than one field specified at a time'));
  }
  if (from.fieldRef) {
    const refPath = fromPath.child('fieldRef');
    const fieldPath = from.fieldRef.fieldPath;
    if (!from.fieldRef.apiVersion) errs.push(FieldErrors.required(refPath.child('apiVersion')));
    if (!fieldPath) errs.push(FieldErrors.required(refPath.child('fieldPath')));
    else if (!supportedEnvFieldPaths.includes(fieldPath) && !/^metadata\.(labels|annotations)\['[^']+'\]$/.test(fieldPath)) {
      errs.push(FieldErrors.notSupported(refPath.child('fieldPath'), fieldPath, supportedEnvFieldPaths));
    }
  }
  if (from.resourceFieldRef) {
    const refPath = fromPath.child('resourceFieldRef');
    const resource = from.resourceFieldRef.resource;
    if (!resource) errs.push(FieldErrors.required(refPath.child('resource')));
    else if (!supportedResourceFieldRefs.includes(resource)) errs.push(FieldErrors.notSupported(refPath.child('resource'), resource, supportedResourceFieldRefs));
    if (from.resourceFieldRef.divisor !== undefined) errs.push(...validateQuantityString(from.resourceFieldRef.divisor, refPath.child('divisor')));
  }
  for (const key of ['configMapKeyRef', 'secretKeyRef'] as const) {
    const ref = from[key];
    if (!ref) continue;
    const refPath = fromPath.child(key);
    if (!ref.name) errs.push(FieldErrors.required(refPath.child('name')));
    if (!ref.key) errs.push(FieldErrors.required(refPath.child('key')));
    else for (const msg of isConfigMapKey(ref.key)) errs.push(FieldErrors.invalid(refPath.child('key'), ref.key, msg));
  }
  return errs;
}

function validateQuantityString(text: string, path: FieldPathBuilder): FieldErrorList {
  try {
    Quantity.parse(String(text));
    return [];
  } catch (err) {
    return [FieldErrors.invalid(path, text, (err as Error).message)];
  }
}

function validateResources(resources: ResourceRequirements | undefined, path: FieldPathBuilder): FieldErrorList {
  const errs: FieldErrorList = [];
  if (!resources) return errs;
  const parsed: Record<'limits' | 'requests', Map<string, Quantity>> = { limits: new Map(), requests: new Map() };
  for (const part of ['limits', 'requests'] as const) {
    for (const [name, value] of Object.entries(resources[part] ?? {})) {
      const itemPath = path.child(part).key(name);
      for (const msg of isQualifiedName(name)) errs.push(FieldErrors.invalid(itemPath, name, msg));
      if (!name.includes('/') && !standardContainerResources.includes(name) && !name.startsWith('hugepages-')) {
        errs.push(FieldErrors.invalid(itemPath, name, 'must be a standard resource for containers'));
      }
      const quantityErrors = validateQuantityString(value, itemPath);
      if (quantityErrors.length > 0) {
        errs.push(...quantityErrors);
        continue;
      }
      const quantity = Quantity.parse(String(value));
      if (quantity.sign() < 0) errs.push(FieldErrors.invalid(itemPath, value, 'must be greater than or equal to 0'));
      parsed[part].set(name, quantity);
    }
  }
  for (const [name, request] of parsed.requests) {
    const limit = parsed.limits.get(name);
    if (limit && request.cmp(limit) > 0) {
      // Kubernetes names the requests map here, not the key.
      errs.push(FieldErrors.invalid(path.child('requests'), request.toString(), `must be less than or equal to ${name} limit of ${limit.toString()}`));
    }
  }
  return errs;
}

function validateSecurityContext(context: SecurityContext | undefined, path: FieldPathBuilder): FieldErrorList {
  const errs: FieldErrorList = [];
  if (!context) return errs;
  for (const field of ['runAsUser', 'runAsGroup'] as const) {
    const value = context[field];
    if (value !== undefined && (value < 0 || value > 2147483647)) errs.push(FieldErrors.invalid(path.child(field), value, inclusiveRangeError(0, 2147483647)));
  }
  if (context.privileged === true && context.allowPrivilegeEscalation === false) {
    errs.push(FieldErrors.invalid(path, context, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
  }
  return errs;
}

interface ContainerContext {
  volumeNames: Set<string>;
  hostNetwork: boolean;
  init: boolean;
}

function validateContainer(container: Container, path: FieldPathBuilder, ctx: ContainerContext): FieldErrorList {
  const errs: FieldErrorList = [];
  if (!container.image) errs.push(FieldErrors.required(path.child('image')));
  else if (container.image.trim() !== container.image) {
    errs.push(FieldErrors.invalid(path.child('image'), container.image, 'must not have leading or trailing whitespace'));
  }
  if (container.imagePullPolicy !== undefined && !supportedPullPolicies.includes(container.imagePullPolicy)) {
    errs.push(FieldErrors.notSupported(path.child('imagePullPolicy'), container.imagePullPolicy, supportedPullPolicies));
  }
  if (container.terminationMessagePolicy !== undefined && !supportedTerminationMessagePolicies.includes(container.terminationMessagePolicy)) {
    errs.push(FieldErrors.notSupported(path.child('terminationMessagePolicy'), container.terminationMessagePolicy, supportedTerminationMessagePolicies));
  }
  // Ports.
  const portNames = new Set<string>();
  (container.ports ?? []).forEach((port, i) => {
    const portPath = path.child('ports').index(i);
    if (port.name) {
      for (const msg of isValidPortName(port.name)) errs.push(FieldErrors.invalid(portPath.child('name'), port.name, msg));
      if (portNames.has(port.name)) errs.push(FieldErrors.duplicate(portPath.child('name'), port.name));
      portNames.add(port.name);
    }
    if (!port.containerPort) errs.push(FieldErrors.required(portPath.child('containerPort')));
    else for (const msg of isValidPortNum(port.containerPort)) errs.push(FieldErrors.invalid(portPath.child('containerPort'), port.containerPort, msg));
    if (port.hostPort) for (const msg of isValidPortNum(port.hostPort)) errs.push(FieldErrors.invalid(portPath.child('hostPort'), port.hostPort, msg));
    if (ctx.hostNetwork && port.hostPort && port.hostPort !== port.containerPort) {
      errs.push(FieldErrors.invalid(portPath.child('hostPort'), port.hostPort, 'must match `containerPort` when `hostNetwork` is true'));
    }
    if (port.protocol !== undefined && !supportedProtocols.includes(port.protocol)) {
      errs.push(FieldErrors.notSupported(portPath.child('protocol'), port.protocol, supportedProtocols));
    }
  });
  // Environment.
  (container.env ?? []).forEach((env, i) => errs.push(...validateEnvVar(env, path.child('env').index(i))));
  (container.envFrom ?? []).forEach((source, i) => {
    const sourcePath = path.child('envFrom').index(i);
    const count = (source.configMapRef ? 1 : 0) + (source.secretRef ? 1 : 0);
    if (count === 0) errs.push(FieldErrors.invalid(sourcePath, '', 'must specify one of: `configMapRef` or `secretRef`'));
    if (count > 1) errs.push(FieldErrors.invalid(sourcePath, '', 'may not have more than one field specified at a time'));
    if (source.configMapRef && !source.configMapRef.name) errs.push(FieldErrors.required(sourcePath.child('configMapRef', 'name')));
    if (source.secretRef && !source.secretRef.name) errs.push(FieldErrors.required(sourcePath.child('secretRef', 'name')));
  });
  errs.push(...validateResources(container.resources, path.child('resources')));
  // Volume mounts.
  const mountPaths = new Set<string>();
  (container.volumeMounts ?? []).forEach((mount, i) => {
    const mountPath = path.child('volumeMounts').index(i);
    if (!mount.name) errs.push(FieldErrors.required(mountPath.child('name')));
    else if (!ctx.volumeNames.has(mount.name)) {
      errs.push(FieldErrors.notFound(mountPath.child('name'), mount.name));
    }
    if (!mount.mountPath) errs.push(FieldErrors.required(mountPath.child('mountPath')));
    else if (mountPaths.has(mount.mountPath)) errs.push(FieldErrors.invalid(mountPath.child('mountPath'), mount.mountPath, 'must be unique'));
    if (mount.mountPath) mountPaths.add(mount.mountPath);
    if (mount.subPath && (mount.subPath.startsWith('/') || mount.subPath.split('/').includes('..'))) {
      errs.push(FieldErrors.invalid(mountPath.child('subPath'), mount.subPath, "must be a relative path without '..'"));
    }
  });
  // Probes and lifecycle.
  const sidecar = ctx.init && container.restartPolicy === 'Always';
  if (ctx.init && !sidecar) {
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
      if (container[probe]) errs.push(FieldErrors.forbidden(path.child(probe), 'may not be set for init containers without restartPolicy=Always'));
    }
    if (container.lifecycle) errs.push(FieldErrors.forbidden(path.child('lifecycle'), 'may not be set for init containers without restartPolicy=Always'));
  } else {
    errs.push(...validateProbe(container.livenessProbe, path.child('livenessProbe'), true));
    errs.push(...validateProbe(container.readinessProbe, path.child('readinessProbe'), false));
    errs.push(...validateProbe(container.startupProbe, path.child('startupProbe'), true));
    if (container.lifecycle?.preStop) errs.push(...validateHandler(container.lifecycle.preStop, path.child('lifecycle', 'preStop')));
    if (container.lifecycle?.postStart) errs.push(...validateHandler(container.lifecycle.postStart, path.child('lifecycle', 'postStart')));
  }
  if (container.restartPolicy !== undefined) {
    if (!ctx.init) errs.push(FieldErrors.forbidden(path.child('restartPolicy'), 'may not be set for non-init containers'));
    else if (container.restartPolicy !== 'Always') errs.push(FieldErrors.notSupported(path.child('restartPolicy'), container.restartPolicy, ['Always']));
  }
  errs.push(...validateSecurityContext(container.securityContext, path.child('securityContext')));
  return errs;
}

/** Two containers of a pod cannot bind the same host IP, protocol and port. */
function validateHostPortConflicts(containers: Container[], path: FieldPathBuilder): FieldErrorList {
  const errs: FieldErrorList = [];
  const seen = new Set<string>();
  containers.forEach((container, i) => {
    (container.ports ?? []).forEach((port, j) => {
      if (!port.hostPort) return;
      const key = `${port.hostIP ?? ''}/${port.protocol ?? 'TCP'}/${port.hostPort}`;
      if (seen.has(key)) errs.push(FieldErrors.duplicate(path.index(i).child('ports').index(j).child('hostPort'), key));
      seen.add(key);
    });
  });
  return errs;
}

// --- scheduling ---

function validateNodeSelectorRequirement(req: NodeSelectorRequirement, path: FieldPathBuilder, isField: boolean): FieldErrorList {
  const errs: FieldErrorList = [];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errs.push(FieldErrors.required(path.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) errs.push(FieldErrors.forbidden(path.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    case 'Gt':
    case 'Lt':
      if (values.length !== 1) errs.push(FieldErrors.required(path.child('values'), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      break;
    default:
      errs.push(FieldErrors.invalid(path.child('operator'), req.operator, 'not a valid selector operator'));
  }
  if (isField) {
    if (req.key !== 'metadata.name') errs.push(FieldErrors.invalid(path.child('key'), req.key, 'not a valid field selector key'));
  } else {
    for (const msg of isQualifiedName(req.key ?? '')) errs.push(FieldErrors.invalid(path.child('key'), req.key ?? '', msg));
  }
  return errs;
}

function validateNodeSelectorTerm(term: NodeSelectorTerm, path: FieldPathBuilder): FieldErrorList {
  const errs: FieldErrorList = [];
  (term.matchExpressions ?? []).forEach((req, i) => errs.push(...validateNodeSelectorRequirement(req, path.child('matchExpressions').index(i), false)));
  (term.matchFields ?? []).forEach((req, i) => errs.push(...validateNodeSelectorRequirement(req, path.child('matchFields').index(i), true)));
  return errs;
}

function validateWeight(weight: number, path: FieldPathBuilder): FieldErrorList {
  return weight >= 1 && weight <= 100 ? [] : [FieldErrors.invalid(path, weight, 'must be in the range 1-100')];
}

function validatePodAffinityTerm(term: PodAffinityTerm, path: FieldPathBuilder): FieldErrorList {
  const errs = validateLabelSelector(term.labelSelector, path.child('labelSelector'));
  errs.push(...validateLabelSelector(term.namespaceSelector, path.child('namespaceSelector')));
  (term.namespaces ?? []).forEach((ns, i) => errs.push(...dnsLabelErrors(ns, path.child('namespaces').index(i))));
  if (!term.topologyKey) errs.push(FieldErrors.required(path.child('topologyKey'), 'can not be empty'));
  else for (const msg of isQualifiedName(term.topologyKey)) errs.push(FieldErrors.invalid(path.child('topologyKey'), term.topologyKey, msg));
  return errs;
}

function validateAffinity(affinity: Affinity | undefined, path: FieldPathBuilder): FieldErrorList {
  const errs: FieldErrorList = [];
  if (!affinity) return errs;
  const node = affinity.nodeAffinity;
  if (node) {
    const nodePath = path.child('nodeAffinity');
    const required = node.requiredDuringSchedulingIgnoredDuringExecution;
    if (required) {
      const termsPath = nodePath.child('requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms');
      if ((required.nodeSelectorTerms ?? []).length === 0) errs.push(FieldErrors.required(termsPath, 'must have at least one node selector term'));
      (required.nodeSelectorTerms ?? []).forEach((term, i) => errs.push(...validateNodeSelectorTerm(term, termsPath.index(i))));
    }
    (node.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((pref, i) => {
      const prefPath = nodePath.child('preferredDuringSchedulingIgnoredDuringExecution').index(i);
      errs.push(...validateWeight(pref.weight, prefPath.child('weight')));
      errs.push(...validateNodeSelectorTerm(pref.preference ?? {}, prefPath.child('preference')));
    });
  }
  for (const key of ['podAffinity', 'podAntiAffinity'] as const) {
    const podAffinity = affinity[key];
    if (!podAffinity) continue;
    const affinityPath = path.child(key);
    (podAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? []).forEach((term, i) =>
      errs.push(...validatePodAffinityTerm(term, affinityPath.child('requiredDuringSchedulingIgnoredDuringExecution').index(i))),
    );
    (podAffinity.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((weighted, i) => {
      const weightedPath = affinityPath.child('preferredDuringSchedulingIgnoredDuringExecution').index(i);
      errs.push(...validateWeight(weighted.weight, weightedPath.child('weight')));
      errs.push(...validatePodAffinityTerm(weighted.podAffinityTerm ?? { topologyKey: '' }, weightedPath.child('podAffinityTerm')));
    });
  }
  return errs;
}

export function validateTolerations(tolerations: Toleration[] | undefined, path: FieldPathBuilder): FieldErrorList {
  const errs: FieldErrorList = [];
  (tolerations ?? []).forEach((toleration, i) => {
    const tPath = path.index(i);
    if (toleration.key) for (const msg of isQualifiedName(toleration.key)) errs.push(FieldErrors.invalid(tPath.child('key'), toleration.key, msg));
    if (!toleration.key && toleration.operator !== 'Exists') {
      errs.push(
        FieldErrors.invalid(tPath.child('operator'), toleration.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'),
      );
    }
    if (toleration.tolerationSeconds !== undefined && toleration.effect !== 'NoExecute') {
      errs.push(FieldErrors.invalid(tPath.child('effect'), toleration.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    switch (toleration.operator) {
      case undefined:
      case 'Equal':
        for (const msg of isLabelValue(toleration.value ?? '')) errs.push(FieldErrors.invalid(tPath.child('value'), toleration.value, msg));
        break;
      case 'Exists':
        if (toleration.value) errs.push(FieldErrors.invalid(tPath.child('operator'), toleration, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(FieldErrors.notSupported(tPath.child('operator'), toleration.operator, ['Equal', 'Exists']));
    }
    if (toleration.effect && !supportedTaintEffects.includes(toleration.effect)) {
      errs.push(FieldErrors.notSupported(tPath.child('effect'), toleration.effect, supportedTaintEffects));
    }
  });
  return errs;
}

function validateTopologySpread(constraints: TopologySpreadConstraint[] | undefined, path: FieldPathBuilder): FieldErrorList {
  const errs: FieldErrorList = [];
  const seen = new Set<string>();
  (constraints ?? []).forEach((constraint, i) => {
    const cPath = path.index(i);
    if (!(constraint.maxSkew > 0)) errs.push(FieldErrors.invalid(cPath.child('maxSkew'), constraint.maxSkew, 'must be greater than zero'));
    if (!constraint.topologyKey) errs.push(FieldErrors.required(cPath.child('topologyKey'), 'can not be empty'));
    else for (const msg of isQualifiedName(constraint.topologyKey)) errs.push(FieldErrors.invalid(cPath.child('topologyKey'), constraint.topologyKey, msg));
    if (constraint.whenUnsatisfiable !== 'DoNotSchedule' && constraint.whenUnsatisfiable !== 'ScheduleAnyway') {
      errs.push(FieldErrors.notSupported(cPath.child('whenUnsatisfiable'), constraint.whenUnsatisfiable, ['DoNotSchedule', 'ScheduleAnyway']));
    }
    if (constraint.minDomains !== undefined) {
      if (constraint.minDomains <= 0) errs.push(FieldErrors.invalid(cPath.child('minDomains'), constraint.minDomains, 'must be greater than 0'));
      else if (constraint.whenUnsatisfiable !== 'DoNotSchedule') {
        errs.push(FieldErrors.invalid(cPath.child('minDomains'), constraint.minDomains, 'can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway'));
      }
    }
    errs.push(...validateLabelSelector(constraint.labelSelector, cPath.child('labelSelector')));
    const pair = `{${constraint.topologyKey}, ${constraint.whenUnsatisfiable}}`;
    if (seen.has(pair)) errs.push(FieldErrors.duplicate(cPath, pair));
    seen.add(pair);
  });
  return errs;
}

// --- the spec ---

export function validatePodSpec(spec: PodSpec | undefined, path: FieldPathBuilder): FieldErrorList {
  if (!spec) return [FieldErrors.required(path)];
  const errs: FieldErrorList = [];
  const { errs: volumeErrs, names: volumeNames } = validateVolumes(spec.volumes, path.child('volumes'));
  errs.push(...volumeErrs);
  const hostNetwork = spec.hostNetwork === true;
  const containerNames = new Set<string>();
  const checkName = (container: Container, cPath: FieldPathBuilder) => {
    if (!container.name) errs.push(FieldErrors.required(cPath.child('name')));
    else if (containerNames.has(container.name)) errs.push(FieldErrors.duplicate(cPath.child('name'), container.name));
    else errs.push(...dnsLabelErrors(container.name, cPath.child('name')));
    if (container.name) containerNames.add(container.name);
  };
  // Containers first, then init containers, as Kubernetes orders them: a name shared between
  // the two is reported on the init container.
  if ((spec.containers ?? []).length === 0) errs.push(FieldErrors.required(path.child('containers')));
  (spec.containers ?? []).forEach((container, i) => {
    const cPath = path.child('containers').index(i);
    checkName(container, cPath);
    errs.push(...validateContainer(container, cPath, { volumeNames, hostNetwork, init: false }));
  });
  errs.push(...validateHostPortConflicts(spec.containers ?? [], path.child('containers')));
  (spec.initContainers ?? []).forEach((container, i) => {
    const cPath = path.child('initContainers').index(i);
    checkName(container, cPath);
    errs.push(...validateContainer(container, cPath, { volumeNames, hostNetwork, init: true }));
  });
  if (spec.restartPolicy !== undefined && !supportedRestartPolicies.includes(spec.restartPolicy)) {
    errs.push(FieldErrors.notSupported(path.child('restartPolicy'), spec.restartPolicy, supportedRestartPolicies));
  }
  if (spec.dnsPolicy !== undefined && !supportedDNSPolicies.includes(spec.dnsPolicy)) {
    errs.push(FieldErrors.notSupported(path.child('dnsPolicy'), spec.dnsPolicy, supportedDNSPolicies));
  }
  if (spec.dnsPolicy === 'None' && !spec.dnsConfig) {
    errs.push(FieldErrors.required(path.child('dnsConfig'), 'must provide `dnsConfig` when `dnsPolicy` is None'));
  }
  if (spec.terminationGracePeriodSeconds !== undefined && spec.terminationGracePeriodSeconds < 0) {
    errs.push(FieldErrors.invalid(path.child('terminationGracePeriodSeconds'), spec.terminationGracePeriodSeconds, 'must be greater than or equal to 0'));
  }
  if (spec.activeDeadlineSeconds !== undefined && (spec.activeDeadlineSeconds < 1 || spec.activeDeadlineSeconds > 2147483647)) {
    errs.push(FieldErrors.invalid(path.child('activeDeadlineSeconds'), spec.activeDeadlineSeconds, inclusiveRangeError(1, 2147483647)));
  }
  errs.push(...validateLabels(spec.nodeSelector, path.child('nodeSelector')));
  for (const field of ['nodeName', 'serviceAccountName', 'priorityClassName', 'schedulerName'] as const) {
    const value = spec[field];
    if (value) errs.push(...dnsSubdomainErrors(value, path.child(field)));
  }
  for (const field of ['hostname', 'subdomain'] as const) {
    const value = spec[field];
    if (value) errs.push(...dnsLabelErrors(value, path.child(field)));
  }
  errs.push(...validateAffinity(spec.affinity, path.child('affinity')));
  errs.push(...validateTolerations(spec.tolerations, path.child('tolerations')));
  errs.push(...validateTopologySpread(spec.topologySpreadConstraints, path.child('topologySpreadConstraints')));
  (spec.imagePullSecrets ?? []).forEach((ref, i) => {
    if (!ref.name) errs.push(FieldErrors.required(path.child('imagePullSecrets').index(i).child('name')));
  });
  if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== 'PreemptLowerPriority' && spec.preemptionPolicy !== 'Never') {
    errs.push(FieldErrors.notSupported(path.child('preemptionPolicy'), spec.preemptionPolicy, ['Never', 'PreemptLowerPriority']));
  }
  if (spec.securityContext) {
    for (const field of ['runAsUser', 'runAsGroup', 'fsGroup'] as const) {
      const value = spec.securityContext[field];
      if (value !== undefined && (value < 0 || value > 2147483647)) {
        errs.push(FieldErrors.invalid(path.child('securityContext', field), value, inclusiveRangeError(0, 2147483647)));
      }
    }
  }
  return errs;
}

/** The spec of a Pod; metadata is checked by the caller. */
export function validatePod(pod: Pod): FieldErrorList {
  return validatePodSpec(pod.spec, FieldPathBuilder.root('spec'));
}

/** A status write: the pod's IPs are addresses, and podIP is the first of podIPs. */
export function validatePodStatus(updated: Pod): FieldErrorList {
  const errs: FieldErrorList = [];
  const status = updated.status ?? {};
  const statusPath = FieldPathBuilder.root('status');
  for (const [single, list] of [['podIP', 'podIPs'], ['hostIP', 'hostIPs']] as const) {
    const ips = status[list] ?? [];
    ips.forEach((entry, i) => {
      if (!isValidIP(entry.ip ?? '')) errs.push(FieldErrors.invalid(statusPath.child(list).index(i).child('ip'), entry.ip ?? '', 'must be a valid IP address'));
    });
    const first = status[single];
    if (first && ips.length > 0 && ips[0]!.ip !== first) {
      errs.push(FieldErrors.invalid(statusPath.child(list).index(0).child('ip'), ips[0]!.ip, `must be equal to ${single}`));
    }
    if (first && !isValidIP(first)) errs.push(FieldErrors.invalid(statusPath.child(single), first, 'must be a valid IP address'));
  }
  (status.containerStatuses ?? []).forEach((cs, i) => {
    if (cs.restartCount < 0) errs.push(FieldErrors.invalid(statusPath.child('containerStatuses').index(i).child('restartCount'), cs.restartCount, 'must be greater than or equal to 0'));
  });
  return errs;
}

const podUpdateForbiddenMessage =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/**
 * ValidatePodUpdate: a pod's spec is fixed once created, except container images,
 * activeDeadlineSeconds (only shortened, never removed), and tolerations (only added to).
 */
export function validatePodUpdate(updated: Pod, current: Pod): FieldErrorList {
  const errs = validatePod(updated);
  const specPath = FieldPathBuilder.root('spec');
  const next = updated.spec;
  const prev = current.spec;
  if (!next || !prev) return errs;
  // activeDeadlineSeconds may only be set or lowered.
  if (prev.activeDeadlineSeconds !== undefined) {
    if (next.activeDeadlineSeconds === undefined) {
      errs.push(FieldErrors.invalid(specPath.child('activeDeadlineSeconds'), null, 'must not update from a positive integer to nil value'));
    } else if (next.activeDeadlineSeconds > prev.activeDeadlineSeconds) {
      errs.push(FieldErrors.invalid(specPath.child('activeDeadlineSeconds'), next.activeDeadlineSeconds, 'must be less than or equal to previous value'));
    }
  }
  // Tolerations may only grow (an existing one may change only its tolerationSeconds).
  const stripSeconds = ({ tolerationSeconds: _s, ...rest }: Toleration) => rest;
  const nextTolerations = (next.tolerations ?? []).map(stripSeconds);
  const tolerationsOk = (prev.tolerations ?? []).every((t) => nextTolerations.some((n) => deepEqual(n, stripSeconds(t))));
  if (!tolerationsOk) errs.push(FieldErrors.forbidden(specPath.child('tolerations'), 'existing toleration can not be modified except its tolerationSeconds'));
  // Everything else must be equal once the mutable fields are taken from the current pod.
  const withImagesFrom = (containers: Container[] | undefined, from: Container[] | undefined) =>
    containers?.map((c, i) => (from?.[i] ? { ...c, image: from[i].image } : c));
  const comparable: PodSpec = {
    ...next,
    containers: withImagesFrom(next.containers, prev.containers) ?? [],
    initContainers: withImagesFrom(next.initContainers, prev.initContainers),
    activeDeadlineSeconds: prev.activeDeadlineSeconds,
    tolerations: prev.tolerations,
  };
  if (comparable.initContainers === undefined) delete comparable.initContainers;
  if (comparable.activeDeadlineSeconds === undefined) delete comparable.activeDeadlineSeconds;
  if (comparable.tolerations === undefined) delete comparable.tolerations;
  if (prev.terminationGracePeriodSeconds !== undefined && prev.terminationGracePeriodSeconds < 0 && next.terminationGracePeriodSeconds === 1) {
    comparable.terminationGracePeriodSeconds = prev.terminationGracePeriodSeconds;
  }
  if (!deepEqual(comparable, prev)) errs.push(FieldErrors.forbidden(specPath, podUpdateForbiddenMessage));
  return errs;
}
