import type { Lease, Node, Pod } from '@keel/api';
import { Resources } from '@keel/client';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness, T0 } from '../testing/harness';
import { node, pod, ts } from './fixtures.test-helpers';
import { RangeAllocator, parseCidr, formatCidr } from './node-ipam';
import { evictionTime, NodeLifecycleController, readinessTaints } from './node-lifecycle';

let h: Harness<NodeLifecycleController>;
afterEach(() => h?.stop());
const setup = (clusterCidr?: string) => (h = new Harness((ctx) => new NodeLifecycleController(ctx), { nodeMonitorGracePeriodMs: 40_000, ...(clusterCidr ? { clusterCidr } : {}) }));
const lease = (name: string, renewTime = ts()): Lease => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime } });

describe('node IPAM', () => {
  it('parses and formats CIDRs', () => {
    expect(formatCidr(parseCidr('10.244.3.7/16'))).toBe('10.244.0.0/16');
    expect(() => parseCidr('10.244.0.0')).toThrow(/invalid CIDR/);
  });

  it('hands out the first free /24, skipping ones in use or pending, until full', () => {
    const a = new RangeAllocator('10.244.0.0/23', 24);
    expect(a.allocate(['10.244.0.0/24'])).toBe('10.244.1.0/24');
    expect(a.allocate(['10.244.0.0/24'])).toBeUndefined();
    a.settle('10.244.1.0/24');
    expect(a.allocate([])).toBe('10.244.0.0/24');
  });
});

describe('taints and eviction', () => {
  it('maps Ready to the not-ready / unreachable taints', () => {
    expect(readinessTaints({ type: 'Ready', status: 'True' })).toEqual([]);
    expect(readinessTaints(undefined)).toEqual([]);
    expect(readinessTaints({ type: 'Ready', status: 'False' }).map((t) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute']);
    expect(readinessTaints({ type: 'Ready', status: 'Unknown' })[1]).toEqual({ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' });
  });

  it('evicts at once without a toleration, after tolerationSeconds with one, never with an unbounded one', () => {
    const taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' as const, timeAdded: ts() };
    const p = pod('p', {});
    expect(evictionTime(p, [taint], T0 + 5)).toBe(T0 + 5);
    p.spec!.tolerations = [{ key: taint.key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }];
    expect(evictionTime(p, [taint], T0)).toBe(T0 + 300_000);
    p.spec!.tolerations = [{ operator: 'Exists' }];
    expect(evictionTime(p, [taint], T0)).toBeUndefined();
  });
});

describe('node lifecycle reconcile', () => {
  it('allocates a pod CIDR to a node without one', async () => {
    setup('10.244.0.0/16');
    h.seed(Resources.nodes, node('a', { spec: { podCIDR: '10.244.0.0/24' } }));
    h.seed(Resources.nodes, node('b'));
    h.seed(Resources.leases, lease('b'));
    expect(await h.reconcile('b')).toEqual(['update nodes//b']);
    expect((await h.get<Node>(Resources.nodes, undefined, 'b')).spec).toEqual({ podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] });
  });

  it('leaves a node with a fresh Lease alone; after the grace period marks it Unknown, taints it and evicts its pods', async () => {
    setup();
    h.seed(Resources.nodes, node('a'));
    h.seed(Resources.leases, lease('a'));
    const tolerant = pod('tolerant', {}, { spec: { nodeName: 'a', containers: [], tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }] } });
    h.seed(Resources.pods, tolerant);
    h.seed(Resources.pods, pod('plain', {}, { spec: { nodeName: 'a', containers: [] } }));
    h.seed(Resources.pods, pod('elsewhere', {}, { spec: { nodeName: 'b', containers: [] } }));
    expect(await h.reconcile('a')).toEqual([]);
    h.now += 41_000;
    const writes = await h.reconcile('a');
    expect(writes).toEqual(['update nodes//a', 'update nodes//a', 'delete pods/default/plain']);
    const n = await h.get<Node>(Resources.nodes, undefined, 'a');
    expect(n.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    expect(n.spec?.taints?.map((t) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
    // The tolerant pod goes when its 60 s are up.
    h.now += 61_000;
    expect(await h.reconcile('a')).toEqual(['delete pods/default/tolerant']);
    expect((await h.list<Pod>(Resources.pods)).map((p) => p.metadata.name)).toEqual(['elsewhere']);
  });

  it('deletes pods bound to a node that no longer exists', async () => {
    setup();
    h.seed(Resources.pods, pod('stranded', {}, { spec: { nodeName: 'gone', containers: [] } }));
    h.seed(Resources.pods, pod('fine', {}, { spec: { nodeName: 'a', containers: [] } }));
    h.seed(Resources.nodes, node('a'));
    expect(await h.reconcile('gone')).toEqual(['delete pods/default/stranded']);
  });

  it('a renewed Lease keeps the node, and Ready again removes the taints', async () => {
    setup();
    const n = node('a', { spec: { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: ts() }] } });
    h.seed(Resources.nodes, n);
    h.seed(Resources.leases, lease('a'));
    expect(await h.reconcile('a')).toEqual(['update nodes//a']);
    expect((await h.get<Node>(Resources.nodes, undefined, 'a')).spec?.taints).toBeUndefined();
    h.now += 30_000;
    const l = await h.get<Lease>(Resources.leases, 'kube-node-lease', 'a');
    await h.client.leases('kube-node-lease').update({ ...l, spec: { ...l.spec, renewTime: ts(30_000) } });
    h.now += 30_000;
    expect(await h.reconcile('a')).toEqual([]);
  });
});
