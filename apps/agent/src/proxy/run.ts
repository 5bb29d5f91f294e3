// Starting and stopping the proxy part of the agent, given a source of Service and
// EndpointSlice (or Endpoints) events: prepare the node's network (service route, sysctls),
// build the Proxier over real iptables and conntrack — on the host or in a node's network
// namespace — feed it the events, and on stop optionally remove every rule, chain, route,
// device and sysctl change it made. The source is an interface so that the informers of
// @keel/client (or a test, or a static list) can drive it.
import type { Endpoints, EndpointSlice, Service } from '@keel/api';
import { ProxyError } from './errors';
import { conntrackIn, iptablesIn, removeAllRules } from './iptables';
import { prepareNodeNetwork, restoreNodeNetwork, syncPodRoutes, type PodRoute } from './node-net';
import { Proxier, type LogFn } from './proxier';
import { isLoopback } from './rules';

export type EventType = 'upsert' | 'delete';

/** What a source calls; `synced` once its first full list of every kind has been delivered. */
export interface ProxyEventHandler {
  service(type: EventType, svc: Service): void;
  endpointSlice(type: EventType, slice: EndpointSlice): void;
  endpoints(type: EventType, ep: Endpoints): void;
  synced(): void;
}

export interface ProxyEventSource {
  /** Starts delivering events to the handler; answers a function that stops it. */
  subscribe(handler: ProxyEventHandler): () => void;
}

export interface ProxyRunOptions {
  source: ProxyEventSource;
  /** Run inside /var/run/netns/<netns> (a node on this machine); absent: the host's network. */
  netns?: string;
  serviceCidr: string;
  nodeIps: string[];
  /** The pod bridge(s) service traffic may be masqueraded out of, e.g. keel-cni0. */
  podBridges: string[];
  clusterCidr?: string;
  /** Where the node-network record is kept (a keel-… path). */
  recordFile: string;
  serviceDevice?: string;
  minSyncIntervalMs?: number;
  fullSyncIntervalMs?: number;
  log?: LogFn;
}

export interface RunningProxy {
  proxier: Proxier;
  warnings: string[];
  /** Sets the routes to other nodes' pod CIDRs (through keel-… links only). */
  setPodRoutes(routes: readonly PodRoute[]): Promise<{ added: PodRoute[]; removed: PodRoute[] }>;
  /** Stops syncing; with `cleanup`, removes every chain, rule, route, device and sysctl change it made. */
  stop(opts?: { cleanup?: boolean }): Promise<string[]>;
}

export async function startProxy(opts: ProxyRunOptions): Promise<RunningProxy> {
  // Masquerade is only ever allowed out of our own pod bridges, never out of the machine.
  const outside = opts.podBridges.filter((link) => !link.startsWith('keel-'));
  if (outside.length > 0) throw new ProxyError('Invalid', `pod bridges must be keel-… links; refusing to masquerade out of ${outside.join(', ')}`);
  const target = { netns: opts.netns };
  const { warnings } = await prepareNodeNetwork({
    netns: opts.netns,
    serviceCidr: opts.serviceCidr,
    device: opts.serviceDevice,
    recordFile: opts.recordFile,
    // DNAT of 127.0.0.1 to a pod is a martian without it (then masqueraded out of the bridge).
    sysctls: opts.nodeIps.some(isLoopback) ? { 'net.ipv4.conf.all.route_localnet': '1' } : undefined,
  });
  for (const w of warnings) opts.log?.('warn', w);
  const iptables = iptablesIn(target);
  const proxier = new Proxier({
    iptables,
    conntrack: conntrackIn(target),
    rules: { nodeIps: opts.nodeIps, masqueradeOut: opts.podBridges, clusterCidr: opts.clusterCidr },
    minSyncIntervalMs: opts.minSyncIntervalMs,
    fullSyncIntervalMs: opts.fullSyncIntervalMs,
    log: opts.log,
  });
  const unsubscribe = opts.source.subscribe({
    service: (type, svc) => (type === 'upsert' ? proxier.upsertService(svc) : proxier.deleteService(svc)),
    endpointSlice: (type, slice) => (type === 'upsert' ? proxier.upsertEndpointSlice(slice) : proxier.deleteEndpointSlice(slice)),
    endpoints: (type, ep) => (type === 'upsert' ? proxier.upsertEndpoints(ep) : proxier.deleteEndpoints(ep)),
    synced: () => proxier.setSynced(),
  });
  return {
    proxier,
    warnings,
    setPodRoutes: (routes) => syncPodRoutes(opts.recordFile, routes),
    async stop(stopOpts = {}) {
      unsubscribe();
      proxier.stop();
      await proxier.idle().catch(() => undefined);
      if (!stopOpts.cleanup) return [];
      return cleanupProxy({ netns: opts.netns, recordFile: opts.recordFile });
    },
  };
}

/** Removes everything the proxy made on a node, also from a later process; answers what went. */
export async function cleanupProxy(opts: { netns?: string; recordFile: string }): Promise<string[]> {
  const { chains, rules } = await removeAllRules(iptablesIn({ netns: opts.netns }));
  const undone = await restoreNodeNetwork(opts.recordFile);
  return [...(rules ? [`${rules} jump rules`] : []), ...chains.map((c) => `${c.table} ${c.chain}`), ...undone];
}

/** A source over objects held in memory: for tests, the benchmark and a static file. */
export class MemorySource implements ProxyEventSource {
  private handlers = new Set<ProxyEventHandler>();
  private readonly services = new Map<string, Service>();
  private readonly slices = new Map<string, EndpointSlice>();

  constructor(services: Service[] = [], slices: EndpointSlice[] = []) {
    for (const s of services) this.services.set(`${s.metadata.namespace}/${s.metadata.name}`, s);
    for (const s of slices) this.slices.set(`${s.metadata.namespace}/${s.metadata.name}`, s);
  }

  subscribe(handler: ProxyEventHandler): () => void {
    this.handlers.add(handler);
    for (const s of this.services.values()) handler.service('upsert', s);
    for (const s of this.slices.values()) handler.endpointSlice('upsert', s);
    handler.synced();
    return () => this.handlers.delete(handler);
  }

  service(type: EventType, svc: Service): void {
    const k = `${svc.metadata.namespace}/${svc.metadata.name}`;
    if (type === 'upsert') this.services.set(k, svc);
    else this.services.delete(k);
    for (const h of this.handlers) h.service(type, svc);
  }

  endpointSlice(type: EventType, slice: EndpointSlice): void {
    const k = `${slice.metadata.namespace}/${slice.metadata.name}`;
    if (type === 'upsert') this.slices.set(k, slice);
    else this.slices.delete(k);
    for (const h of this.handlers) h.endpointSlice(type, slice);
  }
}
