import type { DaemonSet, Pod } from '@keel/api';
import { Resources } from '@keel/client';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness } from '../testing/harness';
import { daemonPodNode, DaemonSetController, shouldRun } from './daemonset';
import { daemonSet, node } from './fixtures.test-helpers';

let h: Harness<DaemonSetController>;
afterEach(() => h?.stop());
const setup = () => (h = new Harness((ctx) => new DaemonSetController(ctx)));

describe('DaemonSet placement', () => {
  it('runs on nodes matching nodeSelector whose taints it tolerates (daemon tolerations included)', () => {
    const ds = daemonSet('agent', { template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [], nodeSelector: { role: 'edge' } } } });
    expect(shouldRun(ds, node('a', { metadata: { name: 'a', labels: { role: 'edge' } } }))).toBe(true);
    expect(shouldRun(ds, node('b'))).toBe(false);
    const tainted = node('c', { metadata: { name: 'c', labels: { role: 'edge' } }, spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } });
    expect(shouldRun(ds, tainted)).toBe(false);
    const unreachable = node('d', { metadata: { name: 'd', labels: { role: 'edge' } }, spec: { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }], unschedulable: true } });
    expect(shouldRun(ds, unreachable)).toBe(true);
  });
});

describe('DaemonSet reconcile', () => {
  it('creates one pod per eligible node, placed by node affinity on metadata.name, and writes status', async () => {
    setup();
    h.seed(Resources.daemonSets, daemonSet('agent'));
    h.seed(Resources.nodes, node('a'));
    h.seed(Resources.nodes, node('b'));
    h.seed(Resources.nodes, node('c', { spec: { taints: [{ key: 'gpu', effect: 'NoSchedule' }] } }));
    const writes = await h.reconcile('default/agent');
    expect(writes.filter((w) => w.startsWith('create pods'))).toHaveLength(2);
    const pods = await h.list<Pod>(Resources.pods, 'default');
    expect(pods.map(daemonPodNode).sort()).toEqual(['a', 'b']);
    expect(pods[0]!.spec?.nodeName).toBeUndefined();
    expect(pods[0]!.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchFields?.[0]).toMatchObject({ key: 'metadata.name', operator: 'In' });
    expect(pods[0]!.spec?.tolerations?.some((t) => t.key === 'node.kubernetes.io/unreachable')).toBe(true);
    // Again, with the pods in the cache: nothing more to do but status.
    await h.reconcile('default/agent');
    const ds = await h.get<DaemonSet>(Resources.daemonSets, 'default', 'agent');
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberMisscheduled: 0, numberReady: 0, updatedNumberScheduled: 2 });
  });

  it('deletes the pod of a node that no longer qualifies or no longer exists', async () => {
    setup();
    h.seed(Resources.daemonSets, daemonSet('agent'));
    h.seed(Resources.nodes, node('a'));
    h.seed(Resources.nodes, node('b'));
    await h.reconcile('default/agent');
    await h.client.nodes().delete('b');
    const n = await h.get<import('@keel/api').Node>(Resources.nodes, undefined, 'a');
    await h.client.nodes().update({ ...n, spec: { taints: [{ key: 'gpu', effect: 'NoExecute' }] } });
    const writes = await h.reconcile('default/agent');
    expect(writes.filter((w) => w.startsWith('delete pods'))).toHaveLength(2);
  });
});
