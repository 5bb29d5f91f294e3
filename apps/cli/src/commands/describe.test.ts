import { describe, expect, it } from 'vitest';
import { resourceInfo as info } from '../kube/discovery.test-helpers';
import { ApiStatusError } from '../kube/rest';
import { eventsFor, relatedFor, type Reader } from './describe';


const resources = [
  info('', 'v1', 'events', 'Event'),
  info('', 'v1', 'pods', 'Pod'),
  info('apps', 'v1', 'replicasets', 'ReplicaSet'),
  info('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice'),
];

/** A server that answers from a table of paths, an ApiStatusError code for a refusal, and records each read. */
function fakeReader(answers: Record<string, unknown>): Reader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    resources: () => Promise.resolve(resources),
    get: <T>(path: string, query?: Record<string, string | undefined>): Promise<T> => {
      const q = Object.entries(query ?? {}).filter(([, v]) => v !== undefined);
      reads.push(q.length ? `${path}?${q.map(([k, v]) => `${k}=${v}`).join('&')}` : path);
      const a = answers[path];
      if (typeof a === 'number') return Promise.reject(new ApiStatusError(a, { message: `refused with ${a}` }));
      if (a === undefined) return Promise.reject(new ApiStatusError(404, { message: `${path} not found` }));
      return Promise.resolve(a as T);
    },
  };
}

describe('describe reads', () => {
  it("reads a Deployment's ReplicaSets by its selector", async () => {
    const api = fakeReader({ '/apis/apps/v1/namespaces/demo/replicasets': { items: [{ metadata: { name: 'web-1' } }] } });
    const related = await relatedFor(api, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'demo' }, spec: { selector: { matchLabels: { app: 'web' } } } });
    expect(api.reads).toEqual(['/apis/apps/v1/namespaces/demo/replicasets?labelSelector=app=web']);
    expect(related.replicaSets).toHaveLength(1);
  });

  it("reads a ReplicaSet's pods, keeping the error when they cannot be listed", async () => {
    const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-1', namespace: 'demo' }, spec: { selector: { matchLabels: { app: 'web' } } } };
    const api = fakeReader({ '/api/v1/namespaces/demo/pods': { items: [{}, {}] } });
    expect((await relatedFor(api, rs)).pods).toHaveLength(2);
    expect(api.reads).toEqual(['/api/v1/namespaces/demo/pods?labelSelector=app=web']);
    expect((await relatedFor(fakeReader({ '/api/v1/namespaces/demo/pods': 403 }), rs)).pods).toBe('refused with 403');
  });

  it("reads a Service's EndpointSlices by the service-name label", async () => {
    const api = fakeReader({ '/apis/discovery.k8s.io/v1/namespaces/demo/endpointslices': { items: [{ endpoints: [] }] } });
    const related = await relatedFor(api, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'demo' } });
    expect(api.reads).toEqual(['/apis/discovery.k8s.io/v1/namespaces/demo/endpointslices?labelSelector=kubernetes.io/service-name=web']);
    expect(related.endpointSlices).toHaveLength(1);
  });

  it("reads a Node's running pods in every namespace and its Lease, tolerating refusals", async () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', uid: 'n1' } };
    const api = fakeReader({ '/api/v1/pods': { items: [{}] }, '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-a': { spec: { holderIdentity: 'node-a' } } });
    const related = await relatedFor(api, node);
    expect(api.reads).toEqual(['/api/v1/pods?fieldSelector=spec.nodeName=node-a,status.phase!=Succeeded,status.phase!=Failed', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-a']);
    expect(related.nodePods).toHaveLength(1);
    expect(related.lease).toEqual({ spec: { holderIdentity: 'node-a' } });
    const refused = await relatedFor(fakeReader({ '/api/v1/pods': 403 }), node);
    expect(refused.nodePods).toBeUndefined();
    expect(refused.lease).toEqual({ error: '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-a not found' });
    await expect(relatedFor(fakeReader({ '/api/v1/pods': 500 }), node)).rejects.toThrow('refused with 500');
  });

  it('reads nothing more for a Pod or a kind without a layout of its own', async () => {
    const api = fakeReader({});
    expect(await relatedFor(api, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'demo' } })).toEqual({});
    expect(await relatedFor(api, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'demo' } })).toEqual({});
    expect(api.reads).toEqual([]);
  });

  it("finds events by the object's uid, and a node's also by its name", async () => {
    const api = fakeReader({ '/api/v1/events': { items: [{ reason: 'NodeReady' }] }, '/api/v1/namespaces/demo/events': { items: [{ reason: 'Pulled' }] } });
    expect(await eventsFor(api, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'demo', uid: 'u1' } })).toEqual([{ reason: 'Pulled' }]);
    expect(await eventsFor(api, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', uid: 'n1' } })).toHaveLength(2);
    expect(api.reads).toEqual([
      '/api/v1/namespaces/demo/events?fieldSelector=involvedObject.uid=u1,involvedObject.name=p,involvedObject.namespace=demo',
      '/api/v1/events?fieldSelector=involvedObject.uid=n1,involvedObject.name=node-a',
      '/api/v1/events?fieldSelector=involvedObject.uid=node-a,involvedObject.name=node-a',
    ]);
    expect(await eventsFor(fakeReader({ '/api/v1/namespaces/demo/events': 403 }), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'demo', uid: 'u1' } })).toEqual([]);
  });
});
