import type { EndpointSlice, Endpoints, Pod } from '@keel/api';
import { Resources } from '@keel/client';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness } from '../testing/harness';
import { endpointSubsets, EndpointsController, findPort } from './endpoints';
import { pod, service } from './fixtures.test-helpers';

let h: Harness<EndpointsController>;
afterEach(() => h?.stop());
const setup = () => (h = new Harness((ctx) => new EndpointsController(ctx)));

const web = (name: string, ip: string, ready: boolean, port = 8080): Pod => {
  const p = pod(name, { app: 'web' }, { ready, ip, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i', ports: [{ name: 'http', containerPort: port }] }] } });
  p.metadata.uid = `uid-${name}`;
  return p;
};

describe('endpoint subsets', () => {
  it('resolves named target ports per pod and groups pods by their ports', () => {
    const svc = service('web', { app: 'web' }, [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    const subsets = endpointSubsets(svc, [web('a', '10.0.0.2', true), web('b', '10.0.0.1', false), web('c', '10.0.0.3', true, 9090)]);
    expect(subsets).toEqual([
      {
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        addresses: [{ ip: '10.0.0.2', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }],
        notReadyAddresses: [{ ip: '10.0.0.1', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } }],
      },
      { ports: [{ name: 'http', port: 9090, protocol: 'TCP' }], addresses: [{ ip: '10.0.0.3', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'c', uid: 'uid-c' } }] },
    ]);
  });

  it('leaves out pods with no IP, finished pods, and pods without the named port', () => {
    const svc = service('web', { app: 'web' }, [{ name: 'http', port: 80, targetPort: 'metrics' }]);
    expect(findPort(web('a', '1.1.1.1', true), { port: 80, targetPort: 'metrics' })).toBeUndefined();
    expect(findPort(web('a', '1.1.1.1', true), { port: 80 })).toBe(80);
    expect(endpointSubsets(svc, [web('a', '1.1.1.1', true)])).toEqual([]);
    const done = web('d', '1.1.1.2', false);
    done.status!.phase = 'Succeeded';
    const noIp = web('e', '', true);
    expect(endpointSubsets(service('web', { app: 'web' }), [done, noIp])).toEqual([]);
  });

  it('publishNotReadyAddresses lists every pod as ready', () => {
    const svc = service('web', { app: 'web' });
    svc.spec!.publishNotReadyAddresses = true;
    expect(endpointSubsets(svc, [web('a', '10.0.0.1', false)])[0]!.addresses).toHaveLength(1);
  });
});

describe('Endpoints reconcile', () => {
  it('writes Endpoints and one EndpointSlice owned by the Service, then updates them as readiness changes', async () => {
    setup();
    h.seed(Resources.services, service('web', { app: 'web' }));
    h.seed(Resources.pods, web('a', '10.0.0.1', true));
    expect(await h.reconcile('default/web')).toEqual(['create endpoints/default/web', expect.stringMatching(/^create endpointslices\/default\/web-/)]);
    const slices = await h.list<EndpointSlice>(Resources.endpointSlices, 'default');
    expect(slices).toHaveLength(1);
    expect(slices[0]!.metadata.labels).toMatchObject({ 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    expect(slices[0]!.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Service', name: 'web', controller: true });
    expect(slices[0]!.endpoints).toEqual([{ addresses: ['10.0.0.1'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } }]);
    // Nothing changed: nothing written.
    expect(await h.reconcile('default/web')).toEqual([]);
    const p = await h.get<Pod>(Resources.pods, 'default', 'a');
    await h.client.pods('default').update({ ...p, status: { ...p.status, conditions: [{ type: 'Ready', status: 'False' }] } });
    expect(await h.reconcile('default/web')).toEqual(['update endpoints/default/web', expect.stringMatching(/^update endpointslices/)]);
    const ep = await h.get<Endpoints>(Resources.endpoints, 'default', 'web');
    expect(ep.subsets?.[0]?.notReadyAddresses?.map((a) => a.ip)).toEqual(['10.0.0.1']);
  });

  it('leaves Services without a selector alone and removes Endpoints of a deleted Service', async () => {
    setup();
    h.seed(Resources.services, service('manual', undefined));
    expect(await h.reconcile('default/manual')).toEqual([]);
    h.seed(Resources.endpoints, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'gone', namespace: 'default' } } as Endpoints);
    expect(await h.reconcile('default/gone')).toEqual(['delete endpoints/default/gone']);
  });
});
