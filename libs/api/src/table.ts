// Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for. One column
// set per resource, with the columns, order and cell text kubectl users know (a pod's
// READY `1/1`, STATUS `CrashLoopBackOff`, RESTARTS `3 (2m ago)`; a service's PORT(S)
// `80:30080/TCP`), wide-only columns at priority 1, and a NAME/AGE table for the rest.
// `now` comes in as an argument, so the AGE column is a pure function of it.

import { isConditionTrue } from './conditions';
import { age, humanDuration } from './duration';
import { formatLabelSelector } from './selectors/labels';
import type { DaemonSet, Deployment, ReplicaSet } from './types/apps';
import type { Job } from './types/batch';
import type { ConfigMap, Container, Endpoints, Event, Namespace, Node, Pod, Secret, Service, ServiceAccount } from './types/core';
import type { Lease } from './types/coordination';
import type { KubeObject, ListMeta, PartialObjectMetadata, Table, TableColumnDefinition, TableRow } from './types/meta';
import type { PriorityClass } from './types/scheduling';

interface Column {
  name: string;
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description?: string;
  /** 1 for `-o wide` only. */
  priority?: number;
}

/** What every row printer gets: the object and the time to measure ages against. */
interface PrintContext {
  now: number;
}

interface Printer {
  columns: Column[];
  cells: (object: never, ctx: PrintContext) => unknown[];
}

const nameColumn: Column = { name: 'Name', format: 'name', description: 'Name must be unique within a namespace.' };
const ageColumn: Column = { name: 'Age', description: 'CreationTimestamp is the time the object was created.' };

const none = '<none>';
const orNone = (text: string | undefined): string => (text ? text : none);

function containersAndImages(containers: Container[] | undefined): [string, string] {
  const list = containers ?? [];
  return [list.map((c) => c.name).join(','), list.map((c) => c.image ?? '').join(',')];
}

// --- pods ---

interface PodSummary {
  /** The STATUS column. */
  reason: string;
  ready: number;
  total: number;
  restarts: number;
  /** When the most recent counted restart happened (ms), if known. */
  lastRestart?: number;
}

/**
 * What `kubectl get pods` shows, derived as Kubernetes' pod printer derives it: the phase,
 * overridden by the first unfinished init container, else by the last container that is
 * waiting or terminated; restarts of the init containers while initializing, of the regular
 * ones after; sidecars (init containers with restartPolicy Always) count as containers.
 */
export function summarizePod(pod: Pod): PodSummary {
  const status = pod.status ?? {};
  const initContainers = pod.spec?.initContainers ?? [];
  const sidecars = new Set(initContainers.filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  const summary: PodSummary = { reason: status.reason || status.phase || 'Unknown', ready: 0, total: (pod.spec?.containers?.length ?? 0) + sidecars.size, restarts: 0 };
  const noteRestart = (finishedAt: string | undefined) => {
    const at = finishedAt ? Date.parse(finishedAt) : Number.NaN;
    if (!Number.isNaN(at) && (summary.lastRestart === undefined || at > summary.lastRestart)) summary.lastRestart = at;
  };
  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const container = initStatuses[i]!;
    summary.restarts += container.restartCount ?? 0;
    noteRestart(container.lastState?.terminated?.finishedAt);
    if (sidecars.has(container.name) && container.started) {
      if (container.ready) summary.ready++;
      continue;
    }
    const state = container.state ?? {};
    if (state.terminated && state.terminated.exitCode === 0) continue;
    if (state.terminated) {
      const t = state.terminated;
      summary.reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    } else if (state.waiting?.reason && state.waiting.reason !== 'PodInitializing') {
      summary.reason = `Init:${state.waiting.reason}`;
    } else {
      summary.reason = `Init:${i}/${initContainers.length}`;
    }
    initializing = true;
    break;
  }
  if (!initializing || isConditionTrue(status.conditions, 'Initialized')) {
    summary.restarts = 0;
    summary.lastRestart = undefined;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i]!;
      summary.restarts += container.restartCount ?? 0;
      noteRestart(container.lastState?.terminated?.finishedAt);
      const state = container.state ?? {};
      if (state.waiting?.reason) summary.reason = state.waiting.reason;
      else if (state.terminated?.reason) summary.reason = state.terminated.reason;
      else if (state.terminated) summary.reason = state.terminated.signal ? `Signal:${state.terminated.signal}` : `ExitCode:${state.terminated.exitCode}`;
      else if (container.ready && state.running) {
        hasRunning = true;
        summary.ready++;
      }
    }
    // A completed container next to a running one: the pod is still running.
    if (summary.reason === 'Completed' && hasRunning) summary.reason = isConditionTrue(status.conditions, 'Ready') ? 'Running' : 'NotReady';
  }
  const terminal = status.phase === 'Succeeded' || status.phase === 'Failed';
  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') summary.reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && !terminal) summary.reason = 'Terminating';
  return summary;
}

/** The STATUS column alone. */
export function podStatusReason(pod: Pod): string {
  return summarizePod(pod).reason;
}

const podPrinter: Printer = {
  columns: [
    nameColumn,
    { name: 'Ready', description: 'The aggregate readiness state of this pod for accepting traffic.' },
    { name: 'Status', description: 'The aggregate status of the containers in this pod.' },
    { name: 'Restarts', description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.' },
    ageColumn,
    { name: 'IP', description: 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', priority: 1 },
    { name: 'Node', description: "NodeName is a request to schedule this pod onto a specific node.", priority: 1 },
    { name: 'Nominated Node', description: 'nominatedNodeName is set only when this pod preempts other pods on the node.', priority: 1 },
    { name: 'Readiness Gates', description: 'If specified, all readiness gates will be evaluated for pod readiness.', priority: 1 },
  ],
  cells: (pod: Pod, { now }) => {
    const summary = summarizePod(pod);
    const restarts =
      summary.restarts > 0 && summary.lastRestart !== undefined ? `${summary.restarts} (${humanDuration(now - summary.lastRestart)} ago)` : `${summary.restarts}`;
    const gates = pod.spec?.readinessGates ?? [];
    const gatesText =
      gates.length === 0 ? none : `${gates.filter((g) => isConditionTrue(pod.status?.conditions, g.conditionType)).length}/${gates.length}`;
    return [
      pod.metadata.name,
      `${summary.ready}/${summary.total}`,
      summary.reason,
      restarts,
      age(pod.metadata.creationTimestamp, now),
      orNone(pod.status?.podIP),
      orNone(pod.spec?.nodeName),
      orNone(pod.status?.nominatedNodeName),
      gatesText,
    ];
  },
};

// --- workloads ---

const deploymentPrinter: Printer = {
  columns: [
    nameColumn,
    { name: 'Ready', description: 'Number of the pod with ready state' },
    { name: 'Up-to-date', type: 'integer', description: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.' },
    { name: 'Available', type: 'integer', description: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.' },
    ageColumn,
    { name: 'Containers', description: 'Names of each container in the template.', priority: 1 },
    { name: 'Images', description: 'Images referenced by each container in the template.', priority: 1 },
    { name: 'Selector', description: 'Label selector for pods.', priority: 1 },
  ],
  cells: (d: Deployment, { now }) => {
    const [containers, images] = containersAndImages(d.spec?.template?.spec?.containers);
    return [
      d.metadata.name,
      `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
      d.status?.updatedReplicas ?? 0,
      d.status?.availableReplicas ?? 0,
      age(d.metadata.creationTimestamp, now),
      containers,
      images,
      orNone(formatLabelSelector(d.spec?.selector ?? {})),
    ];
  },
};

const replicaSetPrinter: Printer = {
  columns: [
    nameColumn,
    { name: 'Desired', type: 'integer', description: 'Replicas is the number of desired replicas.' },
    { name: 'Current', type: 'integer', description: 'Replicas is the most recently observed number of replicas.' },
    { name: 'Ready', type: 'integer', description: 'The number of ready replicas for this replica set.' },
    ageColumn,
    { name: 'Containers', description: 'Names of each container in the template.', priority: 1 },
    { name: 'Images', description: 'Images referenced by each container in the template.', priority: 1 },
    { name: 'Selector', description: 'Label selector for pods.', priority: 1 },
  ],
  cells: (rs: ReplicaSet, { now }) => {
    const [containers, images] = containersAndImages(rs.spec?.template?.spec?.containers);
    return [
      rs.metadata.name,
      rs.spec?.replicas ?? 0,
      rs.status?.replicas ?? 0,
      rs.status?.readyReplicas ?? 0,
      age(rs.metadata.creationTimestamp, now),
      containers,
      images,
      orNone(formatLabelSelector(rs.spec?.selector ?? {})),
    ];
  },
};

const daemonSetPrinter: Printer = {
  columns: [
    nameColumn,
    { name: 'Desired', type: 'integer', description: 'The total number of nodes that should be running the daemon pod.' },
    { name: 'Current', type: 'integer', description: 'The number of nodes that are running at least 1 daemon pod.' },
    { name: 'Ready', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.' },
    { name: 'Up-to-date', type: 'integer', description: 'The total number of nodes that are running updated daemon pod.' },
    { name: 'Available', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.' },
    { name: 'Node Selector', description: 'NodeSelector is a selector which must be true for the pod to fit on a node.' },
    ageColumn,
    { name: 'Containers', description: 'Names of each container in the template.', priority: 1 },
    { name: 'Images', description: 'Images referenced by each container in the template.', priority: 1 },
    { name: 'Selector', description: 'Label selector for pods.', priority: 1 },
  ],
  cells: (ds: DaemonSet, { now }) => {
    const [containers, images] = containersAndImages(ds.spec?.template?.spec?.containers);
    const nodeSelector = Object.entries(ds.spec?.template?.spec?.nodeSelector ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return [
      ds.metadata.name,
      ds.status?.desiredNumberScheduled ?? 0,
      ds.status?.currentNumberScheduled ?? 0,
      ds.status?.numberReady ?? 0,
      ds.status?.updatedNumberScheduled ?? 0,
      ds.status?.numberAvailable ?? 0,
      orNone(nodeSelector),
      age(ds.metadata.creationTimestamp, now),
      containers,
      images,
      orNone(formatLabelSelector(ds.spec?.selector ?? {})),
    ];
  },
};

function jobStatus(job: Job): string {
  const conditions = job.status?.conditions ?? [];
  const has = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
  if (has('Failed')) return 'Failed';
  if (has('Complete')) return 'Complete';
  if (has('Suspended')) return 'Suspended';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  return 'Running';
}

const jobPrinter: Printer = {
  columns: [
    nameColumn,
    { name: 'Status', description: 'Status of the job.' },
    { name: 'Completions', description: 'The desired number of successfully finished pods the job should be run with.' },
    { name: 'Duration', description: 'Time required to complete the job.' },
    ageColumn,
    { name: 'Containers', description: 'Names of each container in the template.', priority: 1 },
    { name: 'Images', description: 'Images referenced by each container in the template.', priority: 1 },
    { name: 'Selector', description: 'Label selector for pods.', priority: 1 },
  ],
  cells: (job: Job, { now }) => {
    const [containers, images] = containersAndImages(job.spec?.template?.spec?.containers);
    const succeeded = job.status?.succeeded ?? 0;
    const completions =
      job.spec?.completions !== undefined
        ? `${succeeded}/${job.spec.completions}`
        : (job.spec?.parallelism ?? 0) > 1
          ? `${succeeded}/1 of ${job.spec?.parallelism}`
          : `${succeeded}/1`;
    const start = job.status?.startTime ? Date.parse(job.status.startTime) : Number.NaN;
    const end = job.status?.completionTime ? Date.parse(job.status.completionTime) : now;
    const duration = Number.isNaN(start) || Number.isNaN(end) ? '' : humanDuration(end - start);
    return [
      job.metadata.name,
      jobStatus(job),
      completions,
      duration,
      age(job.metadata.creationTimestamp, now),
      containers,
      images,
      orNone(formatLabelSelector(job.spec?.selector ?? {})),
    ];
  },
};

// --- services and endpoints ---

function servicePorts(service: Service): string {
  const ports = service.spec?.ports ?? [];
  if (ports.length === 0) return none;
  return ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

function serviceExternalIP(service: Service): string {
  const spec = service.spec ?? {};
  const external = spec.externalIPs ?? [];
  switch (spec.type ?? 'ClusterIP') {
    case 'ExternalName':
      return spec.externalName ?? none;
    case 'LoadBalancer': {
      const ingress = (service.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean);
      const all = [...ingress, ...external];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    default:
      return external.length > 0 ? external.join(',') : none;
  }
}

const servicePrinter: Printer = {
  columns: [
    nameColumn,
    { name: 'Type', description: 'type determines how the Service is exposed.' },
    { name: 'Cluster-IP', description: 'clusterIP is the IP address of the service and is usually assigned randomly.' },
    { name: 'External-IP', description: 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.' },
    { name: 'Port(s)', description: 'The list of ports that are exposed by this service.' },
    ageColumn,
    { name: 'Selector', description: 'Route service traffic to pods with label keys and values matching this selector.', priority: 1 },
  ],
  cells: (svc: Service, { now }) => [
    svc.metadata.name,
    svc.spec?.type ?? 'ClusterIP',
    orNone(svc.spec?.clusterIP),
    serviceExternalIP(svc),
    servicePorts(svc),
    age(svc.metadata.creationTimestamp, now),
    orNone(
      Object.entries(svc.spec?.selector ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    ),
  ],
};

function endpointsText(endpoints: Endpoints): string {
  const all: string[] = [];
  for (const subset of endpoints.subsets ?? []) {
    const ports = subset.ports ?? [];
    for (const address of subset.addresses ?? []) {
      if (ports.length === 0) all.push(address.ip);
      else for (const port of ports) all.push(`${address.ip}:${port.port}`);
    }
  }
  if (all.length === 0) return none;
  // kubectl shows three and counts the rest.
  return all.length > 3 ? `${all.slice(0, 3).join(',')} + ${all.length - 3} more...` : all.join(',');
}

const endpointsPrinter: Printer = {
  columns: [nameColumn, { name: 'Endpoints', description: 'Endpoints of the service.' }, ageColumn],
  cells: (ep: Endpoints, { now }) => [ep.metadata.name, endpointsText(ep), age(ep.metadata.creationTimestamp, now)],
};

// --- nodes and namespaces ---

function nodeStatus(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const parts = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith('node-role.kubernetes.io/')) {
      const role = key.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (key === 'kubernetes.io/role' && value) {
      roles.add(value);
    }
  }
  return roles.size > 0 ? [...roles].sort().join(',') : none;
}

const nodePrinter: Printer = {
  columns: [
    nameColumn,
    { name: 'Status', description: 'The status of the node' },
    { name: 'Roles', description: 'The roles of the node' },
    ageColumn,
    { name: 'Version', description: 'Kubelet Version reported by the node.' },
    { name: 'Internal-IP', description: 'List of addresses reachable to the node. Queried from cloud provider, if available.', priority: 1 },
    { name: 'External-IP', description: 'List of addresses reachable to the node. Queried from cloud provider, if available.', priority: 1 },
    { name: 'OS-Image', description: 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', priority: 1 },
    { name: 'Kernel-Version', description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", priority: 1 },
    { name: 'Container-Runtime', description: 'Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).', priority: 1 },
  ],
  cells: (node: Node, { now }) => {
    const address = (type: string) => node.status?.addresses?.find((a) => a.type === type)?.address;
    const info = node.status?.nodeInfo;
    return [
      node.metadata.name,
      nodeStatus(node),
      nodeRoles(node),
      age(node.metadata.creationTimestamp, now),
      info?.kubeletVersion ?? '',
      orNone(address('InternalIP')),
      orNone(address('ExternalIP')),
      orNone(info?.osImage),
      orNone(info?.kernelVersion),
      orNone(info?.containerRuntimeVersion),
    ];
  },
};

const namespacePrinter: Printer = {
  columns: [nameColumn, { name: 'Status', description: 'The status of the namespace' }, ageColumn],
  cells: (ns: Namespace, { now }) => [ns.metadata.name, ns.status?.phase ?? '', age(ns.metadata.creationTimestamp, now)],
};

// --- configuration ---

const configMapPrinter: Printer = {
  columns: [nameColumn, { name: 'Data', type: 'integer', description: 'Data contains the configuration data.' }, ageColumn],
  cells: (cm: ConfigMap, { now }) => [
    cm.metadata.name,
    Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length,
    age(cm.metadata.creationTimestamp, now),
  ],
};

const secretPrinter: Printer = {
  columns: [
    nameColumn,
    { name: 'Type', description: 'Used to facilitate programmatic handling of secret data.' },
    { name: 'Data', type: 'integer', description: 'Data contains the secret data.' },
    ageColumn,
  ],
  cells: (s: Secret, { now }) => [s.metadata.name, s.type ?? 'Opaque', Object.keys(s.data ?? {}).length, age(s.metadata.creationTimestamp, now)],
};

const serviceAccountPrinter: Printer = {
  columns: [nameColumn, { name: 'Secrets', type: 'integer', description: 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.' }, ageColumn],
  cells: (sa: ServiceAccount, { now }) => [sa.metadata.name, (sa.secrets ?? []).length, age(sa.metadata.creationTimestamp, now)],
};

// --- events ---

function eventLastSeen(event: Event): string | undefined {
  return event.series?.lastObservedTime ?? event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata.creationTimestamp;
}

const eventPrinter: Printer = {
  columns: [
    { name: 'Last Seen', description: 'The last time this event was observed.' },
    { name: 'Type', description: 'Type of this event (Normal, Warning), new types could be added in the future.' },
    { name: 'Reason', description: 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.' },
    { name: 'Object', description: 'The object that this event is about.' },
    { name: 'Subobject', description: 'The sub-object (field path) of the object this event is about.', priority: 1 },
    { name: 'Source', description: 'The component reporting this event.', priority: 1 },
    { name: 'Message', description: 'A human-readable description of the status of this operation.' },
    { name: 'First Seen', description: 'The first time this event was observed.', priority: 1 },
    { name: 'Count', description: 'The number of times this event has occurred.', priority: 1 },
    { name: 'Name', format: 'name', description: 'Name must be unique within a namespace.', priority: 1 },
  ],
  cells: (e: Event, { now }) => {
    const involved = e.involvedObject ?? {};
    const source = e.source?.component ? [e.source.component, e.source.host].filter(Boolean).join(', ') : e.reportingComponent ?? '';
    return [
      age(eventLastSeen(e), now),
      e.type ?? '',
      e.reason ?? '',
      `${(involved.kind ?? '').toLowerCase()}/${involved.name ?? ''}`,
      involved.fieldPath ?? '',
      source,
      (e.message ?? '').trim(),
      age(e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp, now),
      e.series?.count ?? e.count ?? 1,
      e.metadata.name,
    ];
  },
};

// --- the rest ---

const leasePrinter: Printer = {
  columns: [nameColumn, { name: 'Holder', description: 'HolderIdentity contains the identity of the holder of a current lease.' }, ageColumn],
  cells: (l: Lease, { now }) => [l.metadata.name, l.spec?.holderIdentity ?? '', age(l.metadata.creationTimestamp, now)],
};

const priorityClassPrinter: Printer = {
  columns: [
    nameColumn,
    { name: 'Value', type: 'integer', description: 'The integer value of this priority class.' },
    { name: 'Global-Default', type: 'boolean', description: 'globalDefault specifies whether this PriorityClass should be considered as the default priority.' },
    ageColumn,
  ],
  cells: (pc: PriorityClass, { now }) => [pc.metadata.name, pc.value, pc.globalDefault ?? false, age(pc.metadata.creationTimestamp, now)],
};

const defaultPrinter: Printer = {
  columns: [nameColumn, ageColumn],
  cells: (o: KubeObject, { now }) => [o.metadata.name, age(o.metadata.creationTimestamp, now)],
};

const printers: Record<string, Printer> = {
  pods: podPrinter,
  deployments: deploymentPrinter,
  replicasets: replicaSetPrinter,
  daemonsets: daemonSetPrinter,
  jobs: jobPrinter,
  services: servicePrinter,
  endpoints: endpointsPrinter,
  nodes: nodePrinter,
  namespaces: namespacePrinter,
  configmaps: configMapPrinter,
  secrets: secretPrinter,
  serviceaccounts: serviceAccountPrinter,
  events: eventPrinter,
  leases: leasePrinter,
  priorityclasses: priorityClassPrinter,
};

function printerFor(resource: string): Printer {
  return printers[resource] ?? defaultPrinter;
}

/** The column definitions of a resource's Table. */
export function tableColumns(resource: string): TableColumnDefinition[] {
  return printerFor(resource).columns.map((c) => ({
    name: c.name,
    type: c.type ?? 'string',
    format: c.format ?? '',
    description: c.description ?? '',
    priority: c.priority ?? 0,
  }));
}

/** How much of each object a row carries (`?includeObject=`): kubectl asks for Metadata. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  /** Milliseconds since the epoch (or a Date): the moment AGE is measured at. */
  now: number | Date;
  includeObject?: IncludeObject;
  /** Leave out columnDefinitions, as watch events after the first do. */
  noHeaders?: boolean;
  listMeta?: ListMeta;
}

function partialObject(object: KubeObject): PartialObjectMetadata {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}

/** One object's row. */
export function tableRow(resource: string, object: KubeObject, options: TableOptions): TableRow {
  const now = typeof options.now === 'number' ? options.now : options.now.getTime();
  const cells = (printerFor(resource).cells as (o: KubeObject, ctx: PrintContext) => unknown[])(object, { now });
  const row: TableRow = { cells };
  if (resource === 'pods' || resource === 'jobs') {
    const phase = (object as Pod).status?.phase;
    const done = resource === 'pods' ? phase === 'Succeeded' || phase === 'Failed' : ['Complete', 'Failed'].includes(jobStatus(object as Job));
    // kubectl hides completed pods from some views by this condition.
    if (done) row.conditions = [{ type: 'Completed', status: 'True' }];
  }
  const include = options.includeObject ?? 'Metadata';
  if (include === 'Metadata') row.object = partialObject(object);
  else if (include === 'Object') row.object = object;
  return row;
}

/** The meta.k8s.io/v1 Table for a list (or a single object, or one watch event's object). */
export function toTable(resource: string, objects: readonly KubeObject[], options: TableOptions): Table {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: options.listMeta ?? {},
    columnDefinitions: options.noHeaders ? [] : tableColumns(resource),
    rows: objects.map((object) => tableRow(resource, object, options)),
  };
}
