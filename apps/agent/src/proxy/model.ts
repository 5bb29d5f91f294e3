// What the proxy reads from the API objects, flattened: one ServicePortInfo per port of a
// Service that has a cluster IP, and the ready endpoints of each such port gathered from
// the Service's EndpointSlices (or converted Endpoints). This is where target ports are
// resolved: a slice carries, per port name, the number the endpoint controller resolved
// from the pod (a named targetPort may differ from pod to pod, hence from slice to slice).
import type { Endpoints, EndpointSlice, IntOrString, Service } from '@keel/api';
import { servicePortName } from './names';

export type ProxyProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePortInfo {
  /** "ns/name:port" (kube-proxy's ServicePortName); also the comment on its rules. */
  key: string;
  namespace: string;
  service: string;
  portName: string;
  protocol: ProxyProtocol;
  clusterIp: string;
  port: number;
  nodePort?: number;
  targetPort: IntOrString;
  /** Seconds a client sticks to its endpoint (sessionAffinity ClientIP), if set. */
  affinitySeconds?: number;
}

export interface EndpointInfo {
  ip: string;
  port: number;
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const DEFAULT_AFFINITY_SECONDS = 10_800;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isIPv4(ip: string): boolean {
  const m = IPV4.exec(ip);
  return !!m && m.slice(1).every((octet) => Number(octet) <= 255);
}

/** The ports the proxy programs for a Service; none for headless, ExternalName or IPv6. */
export function servicePorts(svc: Service): ServicePortInfo[] {
  const spec = svc.spec;
  const clusterIp = spec?.clusterIP;
  if (!spec || spec.type === 'ExternalName' || !clusterIp || clusterIp === 'None' || !isIPv4(clusterIp)) return [];
  const namespace = svc.metadata.namespace ?? 'default';
  const withNodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  // sessionAffinityConfig is not in the typed spec yet; read it as the API sends it.
  const timeout = (spec as { sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } } }).sessionAffinityConfig?.clientIP
    ?.timeoutSeconds;
  return (spec.ports ?? []).map((p) => ({
    key: servicePortName(namespace, svc.metadata.name ?? '', p.name ?? ''),
    namespace,
    service: svc.metadata.name ?? '',
    portName: p.name ?? '',
    protocol: (p.protocol ?? 'TCP') as ProxyProtocol,
    clusterIp,
    port: p.port,
    nodePort: withNodePorts && p.nodePort ? p.nodePort : undefined,
    targetPort: p.targetPort ?? p.port,
    affinitySeconds: spec.sessionAffinity === 'ClientIP' ? (timeout ?? DEFAULT_AFFINITY_SECONDS) : undefined,
  }));
}

/** The "ns/name" of the Service a slice belongs to, or undefined for a slice of nobody. */
export function sliceServiceKey(slice: EndpointSlice): string | undefined {
  const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return service ? `${slice.metadata.namespace ?? 'default'}/${service}` : undefined;
}

/** The number an endpoint listens on for this service port, as this slice says; undefined if it cannot tell. */
function targetPortIn(slice: EndpointSlice, sp: ServicePortInfo): number | undefined {
  const ports = slice.ports ?? [];
  const sameProtocol = ports.filter((p) => (p.protocol ?? 'TCP') === sp.protocol && p.port !== undefined);
  // The endpoint controller names each slice port after the service port.
  const byServicePortName = sameProtocol.find((p) => (p.name ?? '') === sp.portName);
  if (byServicePortName) return byServicePortName.port;
  // Slices written by hand may name the container port instead.
  if (typeof sp.targetPort === 'string') return sameProtocol.find((p) => p.name === sp.targetPort)?.port;
  // A slice without ports (hand-made) still serves a numeric target port.
  return ports.length === 0 ? sp.targetPort : undefined;
}

function ipOrder(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

/**
 * The ready endpoints of one service port over all the Service's slices, deduplicated and
 * in address order (so a slice reshuffle rewrites no chain). Ready means
 * `conditions.ready` is not false: the API says a missing condition means ready.
 */
export function readyEndpoints(sp: ServicePortInfo, slices: readonly EndpointSlice[]): EndpointInfo[] {
  const seen = new Map<string, EndpointInfo>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const port = targetPortIn(slice, sp);
    if (port === undefined || port <= 0) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      const ip = ep.addresses?.[0];
      if (!ip || !isIPv4(ip)) continue;
      seen.set(`${ip}:${port}`, { ip, port });
    }
  }
  return [...seen.values()].sort((a, b) => ipOrder(a.ip, b.ip) || a.port - b.port);
}

/** The slices an Endpoints object stands for, for clusters (or tests) that only have Endpoints. */
export function endpointsToSlices(ep: Endpoints): EndpointSlice[] {
  return (ep.subsets ?? []).map((subset, i) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${ep.metadata.name}-subset-${i}`,
      namespace: ep.metadata.namespace,
      labels: { [SERVICE_NAME_LABEL]: ep.metadata.name ?? '' },
    },
    addressType: 'IPv4',
    ports: (subset.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
    endpoints: [
      ...(subset.addresses ?? []).map((a) => ({ addresses: [a.ip], conditions: { ready: true } })),
      ...(subset.notReadyAddresses ?? []).map((a) => ({ addresses: [a.ip], conditions: { ready: false } })),
    ],
  }));
}
