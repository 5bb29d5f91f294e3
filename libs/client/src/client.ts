// The typed client: `client.pods('default').list({ labelSelector })`, or for any resource
// `client.resource<Lease>(LEASES).namespace('kube-system').get('keel-scheduler')`. A
// ResourceClient is a thin, typed view over the ApiTransport: it fills in the group,
// version, resource and namespace of each call and names objects by their metadata.
import type {
  ConfigMap,
  ControllerRevision,
  DaemonSet,
  Deployment,
  EndpointSlice,
  Endpoints,
  Event,
  Job,
  KubeObject,
  Lease,
  List,
  Namespace,
  Node,
  Pod,
  PriorityClass,
  ReplicaSet,
  Scale,
  Secret,
  Service,
  ServiceAccount,
} from '@keel/api';
import {
  GrpcTransport,
  type ApiTransport,
  type CallOptions,
  type DeleteOptions,
  type GroupVersionResource,
  type GrpcTransportOptions,
  type ListOptions,
  type PatchOptions,
  type PatchType,
  type WatchHandle,
  type WatchHandlers,
  type WatchOptions,
  type WriteOptions,
} from './transport';

/** authentication.k8s.io/v1 TokenRequest: what serviceaccounts/{name}/token takes and answers. */
export interface TokenRequest extends KubeObject {
  spec: {
    /** Empty: the apiserver's own audiences. */
    audiences?: string[];
    expirationSeconds?: number;
    /** The token is valid only while this object (a Pod) exists with this uid. */
    boundObjectRef?: { kind: string; apiVersion?: string; name: string; uid?: string };
  };
  status?: { token: string; expirationTimestamp: string };
}

/** The resources Keel's own parts use, by group, version and plural. */
export const Resources = {
  pods: { group: '', version: 'v1', resource: 'pods' },
  nodes: { group: '', version: 'v1', resource: 'nodes' },
  namespaces: { group: '', version: 'v1', resource: 'namespaces' },
  services: { group: '', version: 'v1', resource: 'services' },
  endpoints: { group: '', version: 'v1', resource: 'endpoints' },
  configMaps: { group: '', version: 'v1', resource: 'configmaps' },
  secrets: { group: '', version: 'v1', resource: 'secrets' },
  serviceAccounts: { group: '', version: 'v1', resource: 'serviceaccounts' },
  events: { group: '', version: 'v1', resource: 'events' },
  deployments: { group: 'apps', version: 'v1', resource: 'deployments' },
  replicaSets: { group: 'apps', version: 'v1', resource: 'replicasets' },
  daemonSets: { group: 'apps', version: 'v1', resource: 'daemonsets' },
  controllerRevisions: { group: 'apps', version: 'v1', resource: 'controllerrevisions' },
  jobs: { group: 'batch', version: 'v1', resource: 'jobs' },
  endpointSlices: { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' },
  leases: { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' },
  priorityClasses: { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' },
} as const satisfies Record<string, GroupVersionResource>;

/** One resource, in one namespace or (undefined) across all / cluster-scoped. */
export class ResourceClient<T extends KubeObject> {
  constructor(
    readonly transport: ApiTransport,
    readonly gvr: GroupVersionResource,
    readonly ns?: string,
  ) {}

  /** The same resource in another namespace. */
  namespace(ns: string | undefined): ResourceClient<T> {
    return new ResourceClient<T>(this.transport, this.gvr, ns);
  }

  private nsOf(object?: KubeObject): string | undefined {
    return this.ns ?? object?.metadata.namespace;
  }

  private nameOf(object: KubeObject): string {
    const name = object.metadata.name;
    if (!name) throw new TypeError(`${this.gvr.resource}: the object has no metadata.name`);
    return name;
  }

  async get(name: string, opts?: CallOptions & { resourceVersion?: string }): Promise<T> {
    return (await this.transport.get(this.gvr, this.ns, name, opts)) as T;
  }

  async list(opts?: ListOptions): Promise<List<T>> {
    return (await this.transport.list(this.gvr, this.ns, opts)) as List<T>;
  }

  async create(object: T, opts?: WriteOptions): Promise<T> {
    return (await this.transport.create(this.gvr, this.nsOf(object), object, opts)) as T;
  }

  /** Replaces the object; its metadata.resourceVersion, when set, must be current (else Conflict). */
  async update(object: T, opts?: WriteOptions): Promise<T> {
    return (await this.transport.update(this.gvr, this.nsOf(object), this.nameOf(object), object, opts)) as T;
  }

  /** Writes only the status (the status subresource); spec changes in `object` are ignored. */
  async updateStatus(object: T, opts?: WriteOptions): Promise<T> {
    return (await this.transport.update(this.gvr, this.nsOf(object), this.nameOf(object), object, { ...opts, subresource: 'status' })) as T;
  }

  async patch(name: string, type: PatchType, patch: unknown, opts?: PatchOptions & { subresource?: 'status' }): Promise<T> {
    return (await this.transport.patch(this.gvr, this.ns, name, type, patch, opts)) as T;
  }

  /** Server-side apply under `fieldManager`. */
  async apply(object: Partial<T> & KubeObject, opts: PatchOptions & { fieldManager: string }): Promise<T> {
    return (await this.transport.patch(this.gvr, this.nsOf(object), this.nameOf(object), 'apply', object, opts)) as T;
  }

  /** Deletes; `removed` false means the object lingers (grace period, finalizers). */
  async delete(name: string, opts?: DeleteOptions): Promise<{ object: T; removed: boolean }> {
    return (await this.transport.delete(this.gvr, this.ns, name, opts)) as { object: T; removed: boolean };
  }

  async deleteCollection(opts?: ListOptions & DeleteOptions): Promise<List<T>> {
    return (await this.transport.deleteCollection(this.gvr, this.ns, opts)) as List<T>;
  }

  watch(opts: WatchOptions, handlers: WatchHandlers<T>): WatchHandle {
    return this.transport.watch(this.gvr, this.ns, opts, handlers as unknown as WatchHandlers);
  }

  /** POST .../{name}/{subresource} (a create subresource such as serviceaccounts/token): `body` in, the server's answer out. */
  async createSubresource<R extends KubeObject>(name: string, subresource: string, body: KubeObject, opts?: WriteOptions): Promise<R> {
    return (await this.transport.create(this.gvr, this.ns, body, { ...opts, name, subresource })) as R;
  }

  async getScale(name: string, opts?: CallOptions): Promise<Scale> {
    return (await this.transport.get(this.gvr, this.ns, name, { ...opts, subresource: 'scale' })) as Scale;
  }

  async updateScale(name: string, replicas: number, opts?: WriteOptions): Promise<Scale> {
    const scale: Scale = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name }, spec: { replicas } };
    return (await this.transport.update(this.gvr, this.ns, name, scale, { ...opts, subresource: 'scale' })) as Scale;
  }
}

export class Client {
  constructor(readonly transport: ApiTransport) {}

  /** A client of the apiserver's gRPC API at `address` (host:port). */
  static connect(opts: GrpcTransportOptions): Client {
    return new Client(new GrpcTransport(opts));
  }

  resource<T extends KubeObject>(gvr: GroupVersionResource): ResourceClient<T> {
    return new ResourceClient<T>(this.transport, gvr);
  }

  pods(ns?: string) {
    return new ResourceClient<Pod>(this.transport, Resources.pods, ns);
  }
  nodes() {
    return new ResourceClient<Node>(this.transport, Resources.nodes);
  }
  namespaces() {
    return new ResourceClient<Namespace>(this.transport, Resources.namespaces);
  }
  services(ns?: string) {
    return new ResourceClient<Service>(this.transport, Resources.services, ns);
  }
  endpoints(ns?: string) {
    return new ResourceClient<Endpoints>(this.transport, Resources.endpoints, ns);
  }
  configMaps(ns?: string) {
    return new ResourceClient<ConfigMap>(this.transport, Resources.configMaps, ns);
  }
  secrets(ns?: string) {
    return new ResourceClient<Secret>(this.transport, Resources.secrets, ns);
  }
  serviceAccounts(ns?: string) {
    return new ResourceClient<ServiceAccount>(this.transport, Resources.serviceAccounts, ns);
  }
  /** TokenRequest (serviceaccounts/{name}/token): a signed token for the ServiceAccount, bound as `spec` says. */
  async createToken(namespace: string, serviceAccount: string, spec: TokenRequest['spec'], opts?: WriteOptions): Promise<TokenRequest> {
    const body: TokenRequest = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name: serviceAccount, namespace }, spec };
    return this.serviceAccounts(namespace).createSubresource<TokenRequest>(serviceAccount, 'token', body, opts);
  }
  events(ns?: string) {
    return new ResourceClient<Event>(this.transport, Resources.events, ns);
  }
  deployments(ns?: string) {
    return new ResourceClient<Deployment>(this.transport, Resources.deployments, ns);
  }
  replicaSets(ns?: string) {
    return new ResourceClient<ReplicaSet>(this.transport, Resources.replicaSets, ns);
  }
  daemonSets(ns?: string) {
    return new ResourceClient<DaemonSet>(this.transport, Resources.daemonSets, ns);
  }
  controllerRevisions(ns?: string) {
    return new ResourceClient<ControllerRevision>(this.transport, Resources.controllerRevisions, ns);
  }
  jobs(ns?: string) {
    return new ResourceClient<Job>(this.transport, Resources.jobs, ns);
  }
  endpointSlices(ns?: string) {
    return new ResourceClient<EndpointSlice>(this.transport, Resources.endpointSlices, ns);
  }
  leases(ns?: string) {
    return new ResourceClient<Lease>(this.transport, Resources.leases, ns);
  }
  priorityClasses() {
    return new ResourceClient<PriorityClass>(this.transport, Resources.priorityClasses);
  }

  /** Assigns a pod to a node (pods/binding), once; `uid` guards against a re-created pod. */
  async bind(namespace: string, podName: string, nodeName: string, opts?: WriteOptions & { uid?: string }): Promise<Pod> {
    return (await this.transport.bind(namespace, podName, nodeName, opts)) as Pod;
  }

  close(): void {
    this.transport.close();
  }
}
