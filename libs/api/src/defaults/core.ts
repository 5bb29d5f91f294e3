// Defaulting for core/v1 kinds, as Kubernetes' SetDefaults_* functions and create
// strategies fill them in: a Pod gets restartPolicy Always, dnsPolicy ClusterFirst, a 30 s
// grace period and the default scheduler; each container gets an image pull policy from its
// tag, the termination-message defaults and TCP ports; probes get their timings; a Service
// gets type ClusterIP and targetPort = port. Each function fills only what is missing, so
// applying it twice changes nothing. They mutate the copy they are given (defaults/index.ts
// hands them one); no caller's object is changed.

import type {
  ConfigMap,
  Container,
  Endpoints,
  Namespace,
  Node,
  Pod,
  PodSpec,
  Probe,
  Secret,
  Service,
  Volume,
} from '../types/core';
import type { HTTPGetAction } from '../types/core';

export const DefaultSchedulerName = 'default-scheduler';
export const DefaultTerminationGracePeriodSeconds = 30;
export const DefaultTerminationMessagePath = '/dev/termination-log';
/** 0644, the mode of projected, configMap and secret volume files. */
export const DefaultVolumeMode = 0o644;

/**
 * `Always` for an image tagged `:latest` or not tagged at all, `IfNotPresent` otherwise
 * (a digest counts as a tag). Only the last path segment can hold a tag: `host:5000/img`
 * has a registry port, not a tag.
 */
export function defaultImagePullPolicy(image: string | undefined): 'Always' | 'IfNotPresent' {
  if (!image) return 'Always';
  if (image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon < 0) return 'Always';
  return lastSegment.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultHTTPGet(action: HTTPGetAction | undefined): void {
  if (!action) return;
  action.path ??= '/';
  action.scheme ??= 'HTTP';
}

export function defaultProbe(probe: Probe | undefined): void {
  if (!probe) return;
  probe.timeoutSeconds ??= 1;
  probe.periodSeconds ??= 10;
  probe.successThreshold ??= 1;
  probe.failureThreshold ??= 3;
  defaultHTTPGet(probe.httpGet);
}

export function defaultContainer(container: Container, hostNetwork: boolean): void {
  container.imagePullPolicy ??= defaultImagePullPolicy(container.image);
  container.terminationMessagePath ??= DefaultTerminationMessagePath;
  container.terminationMessagePolicy ??= 'File';
  for (const port of container.ports ?? []) {
    port.protocol ??= 'TCP';
    // On the host's network a container port is a host port.
    if (hostNetwork && !port.hostPort) port.hostPort = port.containerPort;
  }
  for (const env of container.env ?? []) {
    if (env.valueFrom?.fieldRef) env.valueFrom.fieldRef.apiVersion ??= 'v1';
  }
  defaultProbe(container.livenessProbe);
  defaultProbe(container.readinessProbe);
  defaultProbe(container.startupProbe);
  defaultHTTPGet(container.lifecycle?.preStop?.httpGet);
  defaultHTTPGet(container.lifecycle?.postStart?.httpGet);
  // Limits without requests: the request is the limit (SetDefaults_Pod).
  const limits = container.resources?.limits;
  if (container.resources && limits && Object.keys(limits).length > 0) {
    const requests = (container.resources.requests ??= {});
    for (const [name, value] of Object.entries(limits)) requests[name] ??= value;
  }
}

export function defaultVolume(volume: Volume): void {
  const hasSource =
    volume.emptyDir || volume.hostPath || volume.configMap || volume.secret || volume.projected || volume.downwardAPI || volume.persistentVolumeClaim;
  if (!hasSource) volume.emptyDir = {};
  if (volume.hostPath) volume.hostPath.type ??= '';
  if (volume.configMap) volume.configMap.defaultMode ??= DefaultVolumeMode;
  if (volume.secret) volume.secret.defaultMode ??= DefaultVolumeMode;
  if (volume.downwardAPI) volume.downwardAPI.defaultMode ??= DefaultVolumeMode;
  if (volume.projected) {
    volume.projected.defaultMode ??= DefaultVolumeMode;
    for (const source of volume.projected.sources ?? []) {
      if (source.serviceAccountToken) source.serviceAccountToken.expirationSeconds ??= 3600;
      for (const item of source.downwardAPI?.items ?? []) if (item.fieldRef) item.fieldRef.apiVersion ??= 'v1';
    }
  }
  for (const item of volume.downwardAPI?.items ?? []) if (item.fieldRef) item.fieldRef.apiVersion ??= 'v1';
}

export function defaultPodSpec(spec: PodSpec): void {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.terminationGracePeriodSeconds ??= DefaultTerminationGracePeriodSeconds;
  spec.schedulerName ??= DefaultSchedulerName;
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  // serviceAccount is the deprecated spelling; keep the two in step.
  if (spec.serviceAccountName === undefined && spec.serviceAccount !== undefined) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName !== undefined && spec.serviceAccount === undefined) spec.serviceAccount = spec.serviceAccountName;
  const hostNetwork = spec.hostNetwork === true;
  for (const container of spec.initContainers ?? []) defaultContainer(container, hostNetwork);
  for (const container of spec.containers ?? []) defaultContainer(container, hostNetwork);
  for (const volume of spec.volumes ?? []) defaultVolume(volume);
  for (const toleration of spec.tolerations ?? []) {
    if (toleration.operator === undefined && toleration.key !== undefined) toleration.operator = 'Equal';
  }
}

export function defaultPod(pod: Pod): void {
  if (pod.spec) defaultPodSpec(pod.spec);
}

export function defaultService(service: Service): void {
  const spec = (service.spec ??= {});
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  for (const port of spec.ports ?? []) {
    port.protocol ??= 'TCP';
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port;
  }
  if (spec.type !== 'ExternalName') spec.internalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
}

/** A new namespace is Active and carries the `kubernetes` finalizer the namespace controller clears. */
export function defaultNamespace(namespace: Namespace): void {
  const spec = (namespace.spec ??= {});
  spec.finalizers ??= ['kubernetes'];
  const status = (namespace.status ??= {});
  status.phase ??= 'Active';
}

export function defaultNode(node: Node): void {
  const status = node.status;
  if (status?.capacity && !status.allocatable) status.allocatable = { ...status.capacity };
}

export function defaultSecret(secret: Secret): void {
  secret.type ??= 'Opaque';
}

export function defaultConfigMap(_configMap: ConfigMap): void {
  // Nothing to default; listed so every kind has an entry.
}

export function defaultEndpoints(endpoints: Endpoints): void {
  for (const subset of endpoints.subsets ?? []) for (const port of subset.ports ?? []) port.protocol ??= 'TCP';
}
