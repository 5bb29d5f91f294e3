// Object builders shared by the proxy's unit tests, the integration tests and the benchmark:
// a Service and its EndpointSlice written as the apiserver and endpoint controller would.
import type { EndpointSlice, Protocol, Service, ServicePort } from '@keel/api';
import { SERVICE_NAME_LABEL } from './model';

export function service(
  name: string,
  clusterIP: string,
  ports: ServicePort[],
  extra: { namespace?: string; type?: 'ClusterIP' | 'NodePort'; sessionAffinity?: 'ClientIP' } = {},
): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: extra.namespace ?? 'default' },
    spec: { type: extra.type ?? 'ClusterIP', clusterIP, clusterIPs: [clusterIP], ports, sessionAffinity: extra.sessionAffinity },
  };
}

export function slice(
  serviceName: string,
  ips: (string | { ip: string; ready: boolean })[],
  ports: { name?: string; port: number; protocol?: Protocol }[],
  extra: { namespace?: string; name?: string } = {},
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: extra.name ?? `${serviceName}-abcde`, namespace: extra.namespace ?? 'default', labels: { [SERVICE_NAME_LABEL]: serviceName } },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: ips.map((e) =>
      typeof e === 'string' ? { addresses: [e], conditions: { ready: true } } : { addresses: [e.ip], conditions: { ready: e.ready } },
    ),
  };
}
