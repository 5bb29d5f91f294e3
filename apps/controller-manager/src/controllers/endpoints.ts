// The Endpoints and EndpointSlice controllers (one module, one queue of Service keys, since
// both are the same computation written two ways): for each Service with a selector, the
// pods it selects become addresses — Ready pods under `addresses`, the rest under
// `notReadyAddresses` (all ready with publishNotReadyAddresses) — with each port's
// targetPort resolved on each pod (a name through the pod's container ports, so pods may
// differ), grouped into subsets of pods with the same ports. EndpointSlices carry the same
// endpoints with ready/serving/terminating conditions, at most 100 per slice, labelled with
// the Service and owned by it. Services without a selector are left to their users.
import {
  deepEqual,
  isPodReady,
  isPodTerminal,
  newControllerRef,
  objectKey,
  selectorFromSet,
  type Endpoint,
  type EndpointAddress,
  type EndpointPort,
  type EndpointSlice,
  type EndpointSlicePort,
  type EndpointSubset,
  type Endpoints,
  type Pod,
  type Service,
  type ServicePort,
} from '@keel/api';
import { Resources } from '@keel/client';
import { Controller, isNotFound, type ControllerContext } from '../runtime/controller';
import { Expectations } from '../runtime/expectations';
import type { Informer } from '../runtime/informer';

export const ServiceNameLabel = 'kubernetes.io/service-name';
export const ManagedByLabel = 'endpointslice.kubernetes.io/managed-by';
export const ManagedBy = 'endpointslice-controller.k8s.io';
const MAX_ENDPOINTS_PER_SLICE = 100;

/** The pod's port for a Service port (FindPort): a number as is, a name through the containers. */
export function findPort(pod: Pod, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP')) return p.containerPort;
  }
  return undefined;
}

interface PodEndpoint {
  pod: Pod;
  ip: string;
  ready: boolean;
  ports: EndpointPort[];
}

/** Which selected pods are endpoints at all, and their ports. */
export function podEndpoints(service: Service, pods: readonly Pod[], includeTerminating: boolean): PodEndpoint[] {
  const selector = selectorFromSet(service.spec?.selector ?? {});
  const out: PodEndpoint[] = [];
  for (const pod of pods) {
    if (pod.metadata.namespace !== service.metadata.namespace || !selector.matches(pod.metadata.labels)) continue;
    const ip = pod.status?.podIP;
    if (!ip || isPodTerminal(pod)) continue;
    if (pod.metadata.deletionTimestamp && !includeTerminating && !service.spec?.publishNotReadyAddresses) continue;
    const ports: EndpointPort[] = [];
    for (const sp of service.spec?.ports ?? []) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
    }
    const ready = (service.spec?.publishNotReadyAddresses ?? false) || (isPodReady(pod) && !pod.metadata.deletionTimestamp);
    out.push({ pod, ip, ready, ports });
  }
  return out.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : (a.pod.metadata.name ?? '') < (b.pod.metadata.name ?? '') ? -1 : 1));
}

const portsKey = (ports: EndpointPort[]) => JSON.stringify([...ports].sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : 1)));

function address(e: PodEndpoint): EndpointAddress {
  const { pod } = e;
  return {
    ip: e.ip,
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! },
  };
}

/** Endpoints subsets (RepackSubsets): one subset per distinct port list. */
export function endpointSubsets(service: Service, pods: readonly Pod[]): EndpointSubset[] {
  const groups = new Map<string, EndpointSubset>();
  for (const e of podEndpoints(service, pods, false)) {
    // A pod that resolves none of several ports is no endpoint of the Service.
    if (e.ports.length === 0 && (service.spec?.ports ?? []).length > 0) continue;
    const key = portsKey(e.ports);
    let subset = groups.get(key);
    if (!subset) groups.set(key, (subset = e.ports.length > 0 ? { ports: [...e.ports].sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : 1)) } : {}));
    if (e.ready) (subset.addresses ??= []).push(address(e));
    else (subset.notReadyAddresses ??= []).push(address(e));
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, s]) => s);
}

/** The slices a Service should have, each with its port list and at most 100 endpoints. */
export function desiredSlices(service: Service, pods: readonly Pod[]): { ports: EndpointSlicePort[]; endpoints: Endpoint[] }[] {
  const groups = new Map<string, { ports: EndpointSlicePort[]; endpoints: Endpoint[] }>();
  for (const e of podEndpoints(service, pods, true)) {
    if (e.ports.length === 0 && (service.spec?.ports ?? []).length > 0) continue;
    const key = portsKey(e.ports);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { ports: e.ports, endpoints: [] }));
    const terminating = e.pod.metadata.deletionTimestamp !== undefined;
    group.endpoints.push({
      addresses: [e.ip],
      conditions: { ready: e.ready && !terminating, serving: service.spec?.publishNotReadyAddresses ? true : isPodReady(e.pod), terminating },
      ...(e.pod.spec?.nodeName ? { nodeName: e.pod.spec.nodeName } : {}),
      targetRef: { kind: 'Pod', namespace: e.pod.metadata.namespace!, name: e.pod.metadata.name!, uid: e.pod.metadata.uid! },
    });
  }
  const out: { ports: EndpointSlicePort[]; endpoints: Endpoint[] }[] = [];
  for (const [, g] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) out.push({ ports: g.ports, endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
  }
  // A selector Service with no endpoints still gets one empty slice, as Kubernetes keeps.
  if (out.length === 0) out.push({ ports: (service.spec?.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), protocol: p.protocol ?? 'TCP' })), endpoints: [] });
  return out;
}

export class EndpointsController extends Controller {
  readonly name = 'endpoints';
  private readonly services: Informer<Service>;
  private readonly pods: Informer<Pod>;
  private readonly endpoints: Informer<Endpoints>;
  private readonly slices: Informer<EndpointSlice>;
  /** Slices are created with generated names: until the watch shows them, do not create more. */
  private readonly sliceExpectations: Expectations;

  constructor(private readonly ctx: ControllerContext) {
    super();
    this.sliceExpectations = new Expectations(ctx.now, 30_000);
    this.services = ctx.informers.for<Service>(Resources.services);
    this.pods = ctx.informers.for<Pod>(Resources.pods);
    this.endpoints = ctx.informers.for<Endpoints>(Resources.endpoints);
    this.slices = ctx.informers.for<EndpointSlice>(Resources.endpointSlices);
    this.services.addHandler({
      add: (s) => this.enqueue(objectKey(s)),
      update: (_, s) => this.enqueue(objectKey(s)),
      delete: (s) => this.enqueue(objectKey(s)),
    });
    const onPod = (pod: Pod) => {
      for (const s of this.services.list(pod.metadata.namespace)) {
        if (s.spec?.selector && selectorFromSet(s.spec.selector).matches(pod.metadata.labels)) this.enqueue(objectKey(s));
      }
    };
    this.pods.addHandler({
      add: onPod,
      update: (old, pod) => {
        onPod(pod);
        if (!deepEqual(old.metadata.labels, pod.metadata.labels)) onPod(old);
      },
      delete: onPod,
    });
    this.endpoints.addHandler({ delete: (e) => this.enqueue(objectKey(e)) });
    const onSlice = (slice: EndpointSlice) => {
      const service = slice.metadata.labels?.[ServiceNameLabel];
      if (service && slice.metadata.labels?.[ManagedByLabel] === ManagedBy) this.enqueue(`${slice.metadata.namespace}/${service}`);
    };
    this.slices.addHandler({
      add: (slice) => {
        const service = slice.metadata.labels?.[ServiceNameLabel];
        if (service) this.sliceExpectations.creationObserved(`${slice.metadata.namespace}/${service}`);
        onSlice(slice);
      },
      update: (_, slice) => onSlice(slice),
      delete: onSlice,
    });
  }

  async reconcile(key: string): Promise<void> {
    const service = this.services.get(key);
    const [namespace, name] = key.split('/') as [string, string];
    if (!service) {
      // The Endpoints share the Service's name and have no owner: remove them ourselves.
      // (The slices are owned by the Service; the garbage collector removes them.)
      if (this.endpoints.get(key)) await this.ctx.client.endpoints(namespace).delete(name).catch(ignoreNotFound);
      return;
    }
    if (!service.spec?.selector) return;
    const pods = this.pods.list(namespace);
    await this.syncEndpoints(service, pods);
    await this.syncSlices(service, pods);
  }

  private async syncEndpoints(service: Service, pods: Pod[]): Promise<void> {
    const { namespace, name } = service.metadata;
    const labels: Record<string, string> = { ...(service.metadata.labels ?? {}) };
    if (service.spec?.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
    const subsets = endpointSubsets(service, pods);
    const current = this.endpoints.get(objectKey(service));
    const client = this.ctx.client.endpoints(namespace);
    if (!current) {
      await client.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels }, subsets });
      return;
    }
    if (deepEqual(current.subsets ?? [], subsets) && deepEqual(current.metadata.labels ?? {}, labels)) return;
    await client.update({ ...current, metadata: { ...current.metadata, labels }, subsets });
  }

  private async syncSlices(service: Service, pods: Pod[]): Promise<void> {
    const { namespace, name } = service.metadata;
    const client = this.ctx.client.endpointSlices(namespace);
    const existing = this.slices
      .list(namespace)
      .filter((s) => s.metadata.labels?.[ServiceNameLabel] === name && s.metadata.labels?.[ManagedByLabel] === ManagedBy)
      .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
    const key = objectKey(service);
    if (!this.sliceExpectations.satisfied(key)) return;
    const desired = desiredSlices(service, pods);
    const creates = Math.max(0, desired.length - existing.length);
    if (creates > 0) this.sliceExpectations.expect(key, creates);
    const owner = { ...service, apiVersion: 'v1', kind: 'Service' };
    const labels = { ...(service.metadata.labels ?? {}), [ServiceNameLabel]: name!, [ManagedByLabel]: ManagedBy };
    for (let i = 0; i < desired.length; i++) {
      const want = desired[i]!;
      const have = existing[i];
      if (!have) {
        const slice: EndpointSlice = {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { generateName: `${name}-`, namespace, labels, ownerReferences: [newControllerRef(owner)] },
          addressType: 'IPv4',
          endpoints: want.endpoints,
          ports: want.ports,
        };
        try {
          await client.create(slice);
        } catch (err) {
          this.sliceExpectations.creationFailed(key);
          throw err;
        }
        continue;
      }
      if (deepEqual(have.endpoints ?? [], want.endpoints) && deepEqual(have.ports ?? [], want.ports) && deepEqual(have.metadata.labels, labels)) continue;
      await client.update({ ...have, metadata: { ...have.metadata, labels }, endpoints: want.endpoints, ports: want.ports });
    }
    for (const extra of existing.slice(desired.length)) await client.delete(extra.metadata.name!).catch(ignoreNotFound);
  }
}

function ignoreNotFound(err: unknown): undefined {
  if (!isNotFound(err)) throw err;
  return undefined;
}
