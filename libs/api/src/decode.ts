// Decoding: the check Kubernetes gets for free from unmarshalling JSON into Go structs. A
// body whose field has the wrong JSON type (`"replicas": "three"`, `"containers": {}`,
// `"replicas": 1.5`) is refused with a 400 naming the field and the type it needed, in the
// words kubectl users see:
//   Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal
//   string into Go struct field DeploymentSpec.spec.replicas of type int32
// so defaulting and validation only ever see well-typed objects. Fields Keel does not model
// are kept as they are and reported, so the apiserver can honour `fieldValidation`
// (Strict: `strict decoding error: unknown field "spec.foo"`, Warn, Ignore).

import { ApiErrors, type ApiError } from './errors';
import { setOwn } from './objects';
import type { GroupVersionKind } from './scheme';
import type { KubeObject } from './types/meta';

/** How one field is typed, with the Go type name Kubernetes' errors print. */
export type Shape =
  | { kind: 'string' | 'boolean' | 'any'; go: string }
  | { kind: 'integer'; go: 'int32' | 'int64' }
  | { kind: 'intOrString' | 'quantity' | 'bytes' | 'time'; go: string }
  | { kind: 'struct'; go: string; fields: () => Record<string, Shape> }
  | { kind: 'list'; go: string; item: Shape }
  | { kind: 'map'; go: string; value: Shape };

const str: Shape = { kind: 'string', go: 'string' };
const i32: Shape = { kind: 'integer', go: 'int32' };
const i64: Shape = { kind: 'integer', go: 'int64' };
const bool: Shape = { kind: 'boolean', go: 'bool' };
const any: Shape = { kind: 'any', go: 'interface {}' };
const time: Shape = { kind: 'time', go: 'v1.Time' };
const microTime: Shape = { kind: 'time', go: 'v1.MicroTime' };

/** RFC 3339, as Go's time.RFC3339 layout accepts it (fractional seconds allowed). */
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const intOrString: Shape = { kind: 'intOrString', go: 'intstr.IntOrString' };
const quantity: Shape = { kind: 'quantity', go: 'resource.Quantity' };
const strings: Shape = { kind: 'list', go: '[]string', item: str };
const stringMap: Shape = { kind: 'map', go: 'map[string]string', value: str };
const resourceList: Shape = { kind: 'map', go: 'v1.ResourceList', value: quantity };
/** Secret and ConfigMap binary values: base64 text on the wire, bytes in Go. */
const bytesMap: Shape = { kind: 'map', go: 'map[string][]uint8', value: { kind: 'bytes', go: '[]uint8' } };

/** A struct; `pkg` is the Go package alias Kubernetes' messages print (`v1`). */
function struct(name: string, fields: () => Record<string, Shape>, pkg = 'v1'): Shape & { kind: 'struct' } {
  return { kind: 'struct', go: `${pkg}.${name}`, fields };
}
function list(item: Shape): Shape {
  return { kind: 'list', go: `[]${item.go}`, item };
}
function ptr(shape: Shape): Shape {
  return shape.kind === 'struct' ? { ...shape, go: `*${shape.go}` } : shape;
}

// --- meta/v1 ---

const ownerReference = struct('OwnerReference', () => ({ apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool }));
const managedFieldsEntry = struct('ManagedFieldsEntry', () => ({
  manager: str,
  operation: str,
  apiVersion: str,
  time,
  fieldsType: str,
  fieldsV1: any,
  subresource: str,
}));
export const objectMetaShape = struct('ObjectMeta', () => ({
  name: str,
  generateName: str,
  namespace: str,
  selfLink: str,
  uid: str,
  resourceVersion: str,
  generation: i64,
  creationTimestamp: time,
  deletionTimestamp: time,
  deletionGracePeriodSeconds: i64,
  labels: stringMap,
  annotations: stringMap,
  ownerReferences: list(ownerReference),
  finalizers: strings,
  managedFields: list(managedFieldsEntry),
}));
const labelSelectorRequirement = struct('LabelSelectorRequirement', () => ({ key: str, operator: str, values: strings }));
const labelSelector = ptr(struct('LabelSelector', () => ({ matchLabels: stringMap, matchExpressions: list(labelSelectorRequirement) })));
const preconditions = struct('Preconditions', () => ({ uid: str, resourceVersion: str }));
const deleteOptions = struct('DeleteOptions', () => ({
  apiVersion: str,
  kind: str,
  gracePeriodSeconds: i64,
  preconditions: ptr(preconditions),
  orphanDependents: bool,
  propagationPolicy: str,
  dryRun: strings,
}));

// --- core/v1 ---

const objectReference = struct('ObjectReference', () => ({
  kind: str,
  namespace: str,
  name: str,
  uid: str,
  apiVersion: str,
  resourceVersion: str,
  fieldPath: str,
}));
const localObjectReference = struct('LocalObjectReference', () => ({ name: str }));
const keyToPath = struct('KeyToPath', () => ({ key: str, path: str, mode: i32 }));
const objectFieldSelector = ptr(struct('ObjectFieldSelector', () => ({ apiVersion: str, fieldPath: str })));
const resourceFieldSelector = ptr(struct('ResourceFieldSelector', () => ({ containerName: str, resource: str, divisor: quantity })));
const downwardAPIVolumeFile = struct('DownwardAPIVolumeFile', () => ({ path: str, fieldRef: objectFieldSelector, resourceFieldRef: resourceFieldSelector, mode: i32 }));
const volumeProjection = struct('VolumeProjection', () => ({
  serviceAccountToken: ptr(struct('ServiceAccountTokenProjection', () => ({ audience: str, expirationSeconds: i64, path: str }))),
  configMap: ptr(struct('ConfigMapProjection', () => ({ name: str, items: list(keyToPath), optional: bool }))),
  secret: ptr(struct('SecretProjection', () => ({ name: str, items: list(keyToPath), optional: bool }))),
  downwardAPI: ptr(struct('DownwardAPIProjection', () => ({ items: list(downwardAPIVolumeFile) }))),
}));
const volume = struct('Volume', () => ({
  name: str,
  emptyDir: ptr(struct('EmptyDirVolumeSource', () => ({ medium: str, sizeLimit: quantity }))),
  hostPath: ptr(struct('HostPathVolumeSource', () => ({ path: str, type: str }))),
  configMap: ptr(struct('ConfigMapVolumeSource', () => ({ name: str, items: list(keyToPath), defaultMode: i32, optional: bool }))),
  secret: ptr(struct('SecretVolumeSource', () => ({ secretName: str, items: list(keyToPath), defaultMode: i32, optional: bool }))),
  projected: ptr(struct('ProjectedVolumeSource', () => ({ sources: list(volumeProjection), defaultMode: i32 }))),
  downwardAPI: ptr(struct('DownwardAPIVolumeSource', () => ({ items: list(downwardAPIVolumeFile), defaultMode: i32 }))),
  persistentVolumeClaim: ptr(struct('PersistentVolumeClaimVolumeSource', () => ({ claimName: str, readOnly: bool }))),
}));
const containerPort = struct('ContainerPort', () => ({ name: str, hostPort: i32, containerPort: i32, protocol: str, hostIP: str }));
const envVar = struct('EnvVar', () => ({
  name: str,
  value: str,
  valueFrom: ptr(
    struct('EnvVarSource', () => ({
      fieldRef: objectFieldSelector,
      resourceFieldRef: resourceFieldSelector,
      configMapKeyRef: ptr(struct('ConfigMapKeySelector', () => ({ name: str, key: str, optional: bool }))),
      secretKeyRef: ptr(struct('SecretKeySelector', () => ({ name: str, key: str, optional: bool }))),
    })),
  ),
}));
const envFromSource = struct('EnvFromSource', () => ({
  prefix: str,
  configMapRef: ptr(struct('ConfigMapEnvSource', () => ({ name: str, optional: bool }))),
  secretRef: ptr(struct('SecretEnvSource', () => ({ name: str, optional: bool }))),
}));
const execAction = ptr(struct('ExecAction', () => ({ command: strings })));
const httpGetAction = ptr(
  struct('HTTPGetAction', () => ({
    path: str,
    port: intOrString,
    host: str,
    scheme: str,
    httpHeaders: list(struct('HTTPHeader', () => ({ name: str, value: str }))),
  })),
);
const tcpSocketAction = ptr(struct('TCPSocketAction', () => ({ port: intOrString, host: str })));
const probe = ptr(
  struct('Probe', () => ({
    exec: execAction,
    httpGet: httpGetAction,
    tcpSocket: tcpSocketAction,
    grpc: ptr(struct('GRPCAction', () => ({ port: i32, service: str }))),
    initialDelaySeconds: i32,
    timeoutSeconds: i32,
    periodSeconds: i32,
    successThreshold: i32,
    failureThreshold: i32,
    terminationGracePeriodSeconds: i64,
  })),
);
const lifecycleHandler = ptr(
  struct('LifecycleHandler', () => ({ exec: execAction, httpGet: httpGetAction, tcpSocket: tcpSocketAction, sleep: ptr(struct('SleepAction', () => ({ seconds: i64 }))) })),
);
const seccompProfile = ptr(struct('SeccompProfile', () => ({ type: str, localhostProfile: str })));
const securityContext = ptr(
  struct('SecurityContext', () => ({
    capabilities: ptr(struct('Capabilities', () => ({ add: strings, drop: strings }))),
    privileged: bool,
    runAsUser: i64,
    runAsGroup: i64,
    runAsNonRoot: bool,
    readOnlyRootFilesystem: bool,
    allowPrivilegeEscalation: bool,
    seccompProfile,
  })),
);
const container = struct('Container', () => ({
  name: str,
  image: str,
  command: strings,
  args: strings,
  workingDir: str,
  ports: list(containerPort),
  envFrom: list(envFromSource),
  env: list(envVar),
  resources: struct('ResourceRequirements', () => ({ limits: resourceList, requests: resourceList })),
  restartPolicy: str,
  volumeMounts: list(struct('VolumeMount', () => ({ name: str, mountPath: str, subPath: str, readOnly: bool, mountPropagation: str }))),
  livenessProbe: probe,
  readinessProbe: probe,
  startupProbe: probe,
  lifecycle: ptr(struct('Lifecycle', () => ({ postStart: lifecycleHandler, preStop: lifecycleHandler }))),
  terminationMessagePath: str,
  terminationMessagePolicy: str,
  imagePullPolicy: str,
  securityContext,
  stdin: bool,
  stdinOnce: bool,
  tty: bool,
}));
const nodeSelectorRequirement = struct('NodeSelectorRequirement', () => ({ key: str, operator: str, values: strings }));
const nodeSelectorTerm = struct('NodeSelectorTerm', () => ({ matchExpressions: list(nodeSelectorRequirement), matchFields: list(nodeSelectorRequirement) }));
const podAffinityTerm = struct('PodAffinityTerm', () => ({
  labelSelector,
  namespaceSelector: labelSelector,
  namespaces: strings,
  topologyKey: str,
  matchLabelKeys: strings,
  mismatchLabelKeys: strings,
}));
const podAffinity = (name: string) =>
  ptr(
    struct(name, () => ({
      requiredDuringSchedulingIgnoredDuringExecution: list(podAffinityTerm),
      preferredDuringSchedulingIgnoredDuringExecution: list(struct('WeightedPodAffinityTerm', () => ({ weight: i32, podAffinityTerm }))),
    })),
  );
const affinity = ptr(
  struct('Affinity', () => ({
    nodeAffinity: ptr(
      struct('NodeAffinity', () => ({
        requiredDuringSchedulingIgnoredDuringExecution: ptr(struct('NodeSelector', () => ({ nodeSelectorTerms: list(nodeSelectorTerm) }))),
        preferredDuringSchedulingIgnoredDuringExecution: list(struct('PreferredSchedulingTerm', () => ({ weight: i32, preference: nodeSelectorTerm }))),
      })),
    ),
    podAffinity: podAffinity('PodAffinity'),
    podAntiAffinity: podAffinity('PodAntiAffinity'),
  })),
);
const toleration = struct('Toleration', () => ({ key: str, operator: str, value: str, effect: str, tolerationSeconds: i64 }));
const topologySpreadConstraint = struct('TopologySpreadConstraint', () => ({
  maxSkew: i32,
  topologyKey: str,
  whenUnsatisfiable: str,
  labelSelector,
  minDomains: i32,
  nodeAffinityPolicy: str,
  nodeTaintsPolicy: str,
  matchLabelKeys: strings,
}));
const podSpec = struct('PodSpec', () => ({
  volumes: list(volume),
  initContainers: list(container),
  containers: list(container),
  restartPolicy: str,
  terminationGracePeriodSeconds: i64,
  activeDeadlineSeconds: i64,
  dnsPolicy: str,
  dnsConfig: ptr(
    struct('PodDNSConfig', () => ({
      nameservers: strings,
      searches: strings,
      options: list(struct('PodDNSConfigOption', () => ({ name: str, value: str }))),
    })),
  ),
  nodeSelector: stringMap,
  serviceAccountName: str,
  serviceAccount: str,
  automountServiceAccountToken: bool,
  nodeName: str,
  hostNetwork: bool,
  hostPID: bool,
  hostIPC: bool,
  shareProcessNamespace: bool,
  securityContext: ptr(
    struct('PodSecurityContext', () => ({
      runAsUser: i64,
      runAsGroup: i64,
      runAsNonRoot: bool,
      fsGroup: i64,
      supplementalGroups: list(i64),
      seccompProfile,
      sysctls: list(struct('Sysctl', () => ({ name: str, value: str }))),
    })),
  ),
  imagePullSecrets: list(localObjectReference),
  hostname: str,
  subdomain: str,
  affinity,
  schedulerName: str,
  tolerations: list(toleration),
  hostAliases: list(struct('HostAlias', () => ({ ip: str, hostnames: strings }))),
  priorityClassName: str,
  priority: i32,
  preemptionPolicy: str,
  enableServiceLinks: bool,
  topologySpreadConstraints: list(topologySpreadConstraint),
  readinessGates: list(struct('PodReadinessGate', () => ({ conditionType: str }))),
  runtimeClassName: str,
  overhead: resourceList,
}));
const condition = (name: string, extra: Record<string, Shape> = {}) =>
  struct(name, () => ({ type: str, status: str, lastTransitionTime: time, reason: str, message: str, ...extra }));
const containerState = struct('ContainerState', () => ({
  waiting: ptr(struct('ContainerStateWaiting', () => ({ reason: str, message: str }))),
  running: ptr(struct('ContainerStateRunning', () => ({ startedAt: time }))),
  terminated: ptr(
    struct('ContainerStateTerminated', () => ({
      exitCode: i32,
      signal: i32,
      reason: str,
      message: str,
      startedAt: time,
      finishedAt: time,
      containerID: str,
    })),
  ),
}));
const containerStatus = struct('ContainerStatus', () => ({
  name: str,
  state: containerState,
  lastState: containerState,
  ready: bool,
  restartCount: i32,
  image: str,
  imageID: str,
  containerID: str,
  started: bool,
}));
const podIP = struct('PodIP', () => ({ ip: str }));
const podStatus = struct('PodStatus', () => ({
  phase: str,
  conditions: list(condition('PodCondition', { lastProbeTime: time })),
  message: str,
  reason: str,
  nominatedNodeName: str,
  hostIP: str,
  hostIPs: list(struct('HostIP', () => ({ ip: str }))),
  podIP: str,
  podIPs: list(podIP),
  startTime: time,
  initContainerStatuses: list(containerStatus),
  containerStatuses: list(containerStatus),
  qosClass: str,
  observedGeneration: i64,
}));
const podTemplateSpec = struct('PodTemplateSpec', () => ({ metadata: objectMetaShape, spec: podSpec }));

const nodeSystemInfo = struct('NodeSystemInfo', () => ({
  machineID: str,
  systemUUID: str,
  bootID: str,
  kernelVersion: str,
  osImage: str,
  containerRuntimeVersion: str,
  kubeletVersion: str,
  kubeProxyVersion: str,
  operatingSystem: str,
  architecture: str,
}));
const servicePort = struct('ServicePort', () => ({ name: str, protocol: str, appProtocol: str, port: i32, targetPort: intOrString, nodePort: i32 }));
const endpointAddress = struct('EndpointAddress', () => ({ ip: str, hostname: str, nodeName: str, targetRef: ptr(objectReference) }));
const endpointPort = struct('EndpointPort', () => ({ name: str, port: i32, protocol: str, appProtocol: str }));

// --- apps/v1, batch/v1 and the rest ---

const rollingUpdate = (name: string) => ptr(struct(name, () => ({ maxUnavailable: intOrString, maxSurge: intOrString })));
const policyRule = struct(
  'PolicyRule',
  () => ({ verbs: strings, apiGroups: strings, resources: strings, resourceNames: strings, nonResourceURLs: strings }),
);
const subject = struct('Subject', () => ({ kind: str, apiGroup: str, name: str, namespace: str }));
const roleRef = struct('RoleRef', () => ({ apiGroup: str, kind: str, name: str }));

const envelope = () => ({ apiVersion: str, kind: str, metadata: objectMetaShape });

/** Each kind's top-level shape, by `group/Kind`. */
const kinds: Record<string, Shape & { kind: 'struct' }> = {
  '/Namespace': struct('Namespace', () => ({
    ...envelope(),
    spec: struct('NamespaceSpec', () => ({ finalizers: strings })),
    status: struct('NamespaceStatus', () => ({ phase: str, conditions: list(condition('NamespaceCondition')) })),
  })),
  '/Pod': struct('Pod', () => ({ ...envelope(), spec: podSpec, status: podStatus })),
  '/Binding': struct('Binding', () => ({ ...envelope(), target: objectReference })),
  '/Node': struct('Node', () => ({
    ...envelope(),
    spec: struct('NodeSpec', () => ({
      podCIDR: str,
      podCIDRs: strings,
      providerID: str,
      unschedulable: bool,
      taints: list(struct('Taint', () => ({ key: str, value: str, effect: str, timeAdded: time }))),
    })),
    status: struct('NodeStatus', () => ({
      capacity: resourceList,
      allocatable: resourceList,
      phase: str,
      conditions: list(condition('NodeCondition', { lastHeartbeatTime: time })),
      addresses: list(struct('NodeAddress', () => ({ type: str, address: str }))),
      daemonEndpoints: struct('NodeDaemonEndpoints', () => ({ kubeletEndpoint: struct('DaemonEndpoint', () => ({ Port: i32 })) })),
      nodeInfo: nodeSystemInfo,
      images: list(struct('ContainerImage', () => ({ names: strings, sizeBytes: i64 }))),
    })),
  })),
  '/Service': struct('Service', () => ({
    ...envelope(),
    spec: struct('ServiceSpec', () => ({
      ports: list(servicePort),
      selector: stringMap,
      clusterIP: str,
      clusterIPs: strings,
      type: str,
      externalIPs: strings,
      sessionAffinity: str,
      loadBalancerIP: str,
      externalName: str,
      externalTrafficPolicy: str,
      internalTrafficPolicy: str,
      ipFamilies: strings,
      ipFamilyPolicy: str,
      publishNotReadyAddresses: bool,
      sessionAffinityConfig: any,
      healthCheckNodePort: i32,
      allocateLoadBalancerNodePorts: bool,
    })),
    status: struct('ServiceStatus', () => ({
      loadBalancer: struct('LoadBalancerStatus', () => ({ ingress: list(struct('LoadBalancerIngress', () => ({ ip: str, hostname: str }))) })),
      conditions: list(any),
    })),
  })),
  '/Endpoints': struct('Endpoints', () => ({
    ...envelope(),
    subsets: list(
      struct('EndpointSubset', () => ({ addresses: list(endpointAddress), notReadyAddresses: list(endpointAddress), ports: list(endpointPort) })),
    ),
  })),
  '/ConfigMap': struct('ConfigMap', () => ({ ...envelope(), data: stringMap, binaryData: bytesMap, immutable: bool })),
  '/Secret': struct('Secret', () => ({
    ...envelope(),
    data: bytesMap,
    stringData: stringMap,
    type: str,
    immutable: bool,
  })),
  '/ServiceAccount': struct('ServiceAccount', () => ({
    ...envelope(),
    secrets: list(objectReference),
    imagePullSecrets: list(localObjectReference),
    automountServiceAccountToken: bool,
  })),
  '/Event': struct('Event', () => ({
    ...envelope(),
    involvedObject: objectReference,
    reason: str,
    message: str,
    source: struct('EventSource', () => ({ component: str, host: str })),
    firstTimestamp: time,
    lastTimestamp: time,
    count: i32,
    type: str,
    eventTime: microTime,
    series: ptr(struct('EventSeries', () => ({ count: i32, lastObservedTime: microTime }))),
    action: str,
    related: ptr(objectReference),
    reportingComponent: str,
    reportingInstance: str,
  })),
  'apps/Deployment': struct('Deployment', () => ({
    ...envelope(),
    spec: struct('DeploymentSpec', () => ({
      replicas: i32,
      selector: labelSelector,
      template: podTemplateSpec,
      strategy: struct('DeploymentStrategy', () => ({ type: str, rollingUpdate: rollingUpdate('RollingUpdateDeployment') })),
      minReadySeconds: i32,
      revisionHistoryLimit: i32,
      paused: bool,
      progressDeadlineSeconds: i32,
    })),
    status: struct('DeploymentStatus', () => ({
      observedGeneration: i64,
      replicas: i32,
      updatedReplicas: i32,
      readyReplicas: i32,
      availableReplicas: i32,
      unavailableReplicas: i32,
      terminatingReplicas: i32,
      conditions: list(condition('DeploymentCondition', { lastUpdateTime: time })),
      collisionCount: i32,
    })),
  })),
  'apps/ReplicaSet': struct('ReplicaSet', () => ({
    ...envelope(),
    spec: struct('ReplicaSetSpec', () => ({ replicas: i32, minReadySeconds: i32, selector: labelSelector, template: podTemplateSpec })),
    status: struct('ReplicaSetStatus', () => ({
      replicas: i32,
      fullyLabeledReplicas: i32,
      readyReplicas: i32,
      availableReplicas: i32,
      terminatingReplicas: i32,
      observedGeneration: i64,
      conditions: list(condition('ReplicaSetCondition')),
    })),
  })),
  'apps/DaemonSet': struct('DaemonSet', () => ({
    ...envelope(),
    spec: struct('DaemonSetSpec', () => ({
      selector: labelSelector,
      template: podTemplateSpec,
      updateStrategy: struct('DaemonSetUpdateStrategy', () => ({ type: str, rollingUpdate: rollingUpdate('RollingUpdateDaemonSet') })),
      minReadySeconds: i32,
      revisionHistoryLimit: i32,
    })),
    status: struct('DaemonSetStatus', () => ({
      currentNumberScheduled: i32,
      numberMisscheduled: i32,
      desiredNumberScheduled: i32,
      numberReady: i32,
      observedGeneration: i64,
      updatedNumberScheduled: i32,
      numberAvailable: i32,
      numberUnavailable: i32,
      collisionCount: i32,
      conditions: list(condition('DaemonSetCondition')),
    })),
  })),
  'batch/Job': struct('Job', () => ({
    ...envelope(),
    spec: struct('JobSpec', () => ({
      parallelism: i32,
      completions: i32,
      activeDeadlineSeconds: i64,
      backoffLimit: i32,
      selector: labelSelector,
      manualSelector: bool,
      template: podTemplateSpec,
      ttlSecondsAfterFinished: i32,
      completionMode: str,
      suspend: bool,
      podReplacementPolicy: str,
    })),
    status: struct('JobStatus', () => ({
      conditions: list(condition('JobCondition', { lastProbeTime: time })),
      startTime: time,
      completionTime: time,
      active: i32,
      succeeded: i32,
      failed: i32,
      terminating: i32,
      ready: i32,
      completedIndexes: str,
      uncountedTerminatedPods: struct('UncountedTerminatedPods', () => ({ succeeded: strings, failed: strings })),
    })),
  })),
  'discovery.k8s.io/EndpointSlice': struct('EndpointSlice', () => ({
    ...envelope(),
    addressType: str,
    endpoints: list(
      struct('Endpoint', () => ({
        addresses: strings,
        conditions: struct('EndpointConditions', () => ({ ready: bool, serving: bool, terminating: bool })),
        hostname: str,
        targetRef: ptr(objectReference),
        nodeName: str,
        zone: str,
      })),
    ),
    ports: list(struct('EndpointPort', () => ({ name: str, protocol: str, port: i32, appProtocol: str }))),
  })),
  'coordination.k8s.io/Lease': struct('Lease', () => ({
    ...envelope(),
    spec: struct('LeaseSpec', () => ({
      holderIdentity: str,
      leaseDurationSeconds: i32,
      acquireTime: microTime,
      renewTime: microTime,
      leaseTransitions: i32,
    })),
  })),
  'rbac.authorization.k8s.io/Role': struct('Role', () => ({ ...envelope(), rules: list(policyRule) })),
  'rbac.authorization.k8s.io/ClusterRole': struct('ClusterRole', () => ({
    ...envelope(),
    rules: list(policyRule),
    aggregationRule: ptr(struct('AggregationRule', () => ({ clusterRoleSelectors: list(labelSelector) }))),
  })),
  'rbac.authorization.k8s.io/RoleBinding': struct('RoleBinding', () => ({ ...envelope(), subjects: list(subject), roleRef })),
  'rbac.authorization.k8s.io/ClusterRoleBinding': struct('ClusterRoleBinding', () => ({ ...envelope(), subjects: list(subject), roleRef })),
  'scheduling.k8s.io/PriorityClass': struct('PriorityClass', () => ({
    ...envelope(),
    value: i32,
    globalDefault: bool,
    description: str,
    preemptionPolicy: str,
  })),
  'autoscaling/Scale': struct('Scale', () => ({
    ...envelope(),
    spec: struct('ScaleSpec', () => ({ replicas: i32 })),
    status: struct('ScaleStatus', () => ({ replicas: i32, selector: str })),
  })),
  'policy/Eviction': struct('Eviction', () => ({ ...envelope(), deleteOptions: ptr(deleteOptions) })),
  'meta.k8s.io/DeleteOptions': deleteOptions,
};

/** The shape of a kind, or undefined for a kind Keel does not model. */
export function shapeOf(gvk: Pick<GroupVersionKind, 'group' | 'kind'>): (Shape & { kind: 'struct' }) | undefined {
  return kinds[`${gvk.group}/${gvk.kind}`];
}

// --- checking ---

interface Mismatch {
  /** What the JSON held: `string`, `number`, `number 1.5`, `bool`, `array`, `object`. */
  value: string;
  /** The Go struct that holds the field (`DeploymentSpec`). */
  struct: string;
  /** The field's path from the root, without indexes (`spec.replicas`). */
  field: string;
  /** The Go type the field needed (`int32`). */
  type: string;
}

function jsonTypeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value === 'object' ? 'object' : typeof value;
}

const int32Range = [-(2 ** 31), 2 ** 31 - 1] as const;

interface Walk {
  mismatch?: Mismatch;
  /** A value of the right JSON type that still does not decode (bad base64). */
  malformed?: string;
  unknown: string[];
}

/** Where standard base64 text first goes wrong, as Go's decoder reports it; undefined when valid. */
function illegalBase64Offset(text: string): number | undefined {
  const body = text.replace(/=+$/, '');
  const bad = body.search(/[^A-Za-z0-9+/]/);
  if (bad >= 0) return bad;
  const padding = text.length - body.length;
  if (padding > 2 || (text.length % 4 !== 0 && padding > 0)) return body.length;
  if (text.length % 4 !== 0) return body.length - (body.length % 4);
  return undefined;
}

/** The value Go leaves in a field the JSON set to null: nothing, or a zero struct in a list or map. */
function zeroOf(shape: Shape): unknown {
  switch (shape.kind) {
    case 'struct':
      return {};
    case 'string':
    case 'bytes':
    case 'time':
      return '';
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    default:
      return undefined;
  }
}

/**
 * Checks `value` against `shape` and returns it as Go would re-encode it: null fields
 * dropped, null list items and map values zeroed. Stops at the first mismatch, as a JSON
 * decoder does.
 */
function check(value: unknown, shape: Shape, parentStruct: string, field: string, indexed: string, walk: Walk): unknown {
  if (walk.mismatch || walk.malformed || value === null || value === undefined) return undefined;
  const fail = (what = jsonTypeOf(value)) => {
    walk.mismatch = { value: what, struct: parentStruct, field, type: shape.go };
    return undefined;
  };
  switch (shape.kind) {
    case 'any':
      return value;
    case 'string':
      return typeof value === 'string' ? value : fail();
    case 'boolean':
      return typeof value === 'boolean' ? value : fail();
    case 'integer': {
      if (typeof value !== 'number') return fail();
      const outOfRange = shape.go === 'int32' ? value < int32Range[0] || value > int32Range[1] : !Number.isSafeInteger(value);
      return !Number.isInteger(value) || outOfRange ? fail(`number ${value}`) : value;
    }
    case 'bytes': {
      if (typeof value !== 'string') return fail();
      const offset = illegalBase64Offset(value);
      if (offset !== undefined) walk.malformed = `illegal base64 data at input byte ${offset}`;
      return value;
    }
    case 'time': {
      if (typeof value !== 'string') return fail();
      if (!rfc3339.test(value) || Number.isNaN(Date.parse(value))) {
        walk.malformed = `parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(value)} as "2006"`;
      }
      return value;
    }
    case 'intOrString':
    case 'quantity':
      return typeof value === 'string' || typeof value === 'number' ? value : fail();
    case 'list': {
      if (!Array.isArray(value)) return fail();
      return value.map((item, i) => (item === null ? zeroOf(shape.item) : check(item, shape.item, parentStruct, field, `${indexed}[${i}]`, walk)));
    }
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) return fail();
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        const decoded = item === null ? zeroOf(shape.value) : check(item, shape.value, parentStruct, field, `${indexed}[${key}]`, walk);
        if (decoded !== undefined) setOwn(out, key, decoded);
      }
      return out;
    }
    case 'struct': {
      if (typeof value !== 'object' || Array.isArray(value)) return fail();
      const fields = shape.fields();
      const structName = shape.go.replace(/^\*?[a-z0-9]+\./, '');
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        const fieldShape = Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined;
        const childField = field ? `${field}.${key}` : key;
        const childIndexed = indexed ? `${indexed}.${key}` : key;
        if (!fieldShape) {
          walk.unknown.push(childIndexed);
          // Kept as sent: Keel may simply not model a field Kubernetes has.
          if (item !== null) setOwn(out, key, item);
          continue;
        }
        const decoded = check(item, fieldShape, structName, childField, childIndexed, walk);
        if (decoded !== undefined) setOwn(out, key, decoded);
      }
      return out;
    }
  }
}

export interface DecodeResult<T = KubeObject> {
  /** The object as Go would have decoded it (nulls dropped, metadata present); absent on error. */
  object?: T;
  /** The first wrong-typed field, as the 400 Kubernetes answers with. */
  error?: ApiError;
  /** Fields Keel does not model, with indexes: `spec.containers[0].imagee`. */
  unknownFields: string[];
}

/**
 * Decodes a request body of a known kind: checks each field's JSON type, drops nulls as Go
 * does, and makes sure `metadata` exists. `version` is only for the message. A kind Keel does
 * not model is passed through unchecked (the scheme refuses unknown kinds earlier).
 */
export function decodeObject<T extends KubeObject = KubeObject>(gvk: GroupVersionKind, body: unknown): DecodeResult<T> {
  const shape = shapeOf(gvk);
  const kind = gvk.kind;
  const prefix = `${kind} in version "${gvk.version}" cannot be handled as a ${kind}`;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const go = shape?.go ?? 'map[string]interface {}';
    return { error: ApiErrors.badRequest(`${prefix}: json: cannot unmarshal ${jsonTypeOf(body)} into Go value of type ${go}`), unknownFields: [] };
  }
  if (!shape) {
    const object = { ...(body as Record<string, unknown>) };
    if (typeof object['metadata'] !== 'object' || object['metadata'] === null) object['metadata'] = {};
    return { object: object as unknown as T, unknownFields: [] };
  }
  const walk: Walk = { unknown: [] };
  const decoded = check(body, shape, kind, '', '', walk) as Record<string, unknown> | undefined;
  if (walk.mismatch) {
    const m = walk.mismatch;
    const message = `${prefix}: json: cannot unmarshal ${m.value} into Go struct field ${m.struct}.${m.field} of type ${m.type}`;
    return { error: ApiErrors.badRequest(message), unknownFields: walk.unknown };
  }
  if (walk.malformed) return { error: ApiErrors.badRequest(`${prefix}: ${walk.malformed}`), unknownFields: walk.unknown };
  const object = { ...decoded, metadata: decoded?.['metadata'] ?? {} };
  return { object: object as unknown as T, unknownFields: walk.unknown };
}

/** The 400 for unknown fields under `fieldValidation=Strict`, worded as Kubernetes words it. */
export function strictDecodingError(unknownFields: readonly string[]): ApiError | undefined {
  if (unknownFields.length === 0) return undefined;
  return ApiErrors.badRequest(`strict decoding error: ${unknownFields.map((f) => `unknown field "${f}"`).join(', ')}`);
}
