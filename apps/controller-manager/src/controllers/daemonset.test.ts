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

describe('DaemonSet history (ControllerRevisions)', () => {
  const revisions = async () =>
    (await h.list<import('@keel/api').ControllerRevision>(Resources.controllerRevisions, 'default')).map((r) => ({
      name: r.metadata.name,
      revision: r.revision,
      hash: r.metadata.labels?.['controller-revision-hash'],
      image: (r.data as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec.containers[0]?.image,
    }));
  const setImage = async (image: string) => {
    const ds = await h.get<DaemonSet>(Resources.daemonSets, 'default', 'agent');
    await h.client.daemonSets('default').update({ ...ds, spec: { ...ds.spec!, template: { ...ds.spec!.template, spec: { containers: [{ name: 'c', image }] } } } });
  };

  it('records a revision per template, renumbers one rolled back to, and its pods carry its hash', async () => {
    setup();
    h.seed(Resources.daemonSets, daemonSet('agent', { template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'v1' }] } } }));
    h.seed(Resources.nodes, node('a'));
    await h.reconcile('default/agent');
    const [first] = await revisions();
    expect(first).toMatchObject({ revision: 1, image: 'v1', name: `agent-${first!.hash}` });
    const pods = await h.list<Pod>(Resources.pods, 'default');
    expect(pods[0]!.metadata.labels?.['controller-revision-hash']).toBe(first!.hash);
    const rev = (await h.list<import('@keel/api').ControllerRevision>(Resources.controllerRevisions, 'default'))[0]!;
    expect((rev.data as { spec: { template: Record<string, unknown> } }).spec.template['$patch']).toBe('replace');
    expect(rev.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'DaemonSet', name: 'agent', controller: true });

    const ds = await h.get<DaemonSet>(Resources.daemonSets, 'default', 'agent');
    await h.client.daemonSets('default').update({ ...ds, metadata: { ...ds.metadata, annotations: { 'kubernetes.io/change-cause': 'to v2' } } });
    await setImage('v2');
    await h.reconcile('default/agent');
    expect((await revisions()).map((r) => [r.revision, r.image]).sort()).toEqual([[1, 'v1'], [2, 'v2']]);
    // The DaemonSet's annotations go with the revision, so `rollout history` shows the change cause.
    const second = (await h.list<import('@keel/api').ControllerRevision>(Resources.controllerRevisions, 'default')).find((r) => r.revision === 2)!;
    expect(second.metadata.annotations?.['kubernetes.io/change-cause']).toBe('to v2');
    // The old pod is replaced (maxUnavailable 1): deleted, then created with the new hash.
    await h.reconcile('default/agent');
    const after = (await h.list<Pod>(Resources.pods, 'default')).filter((p) => !p.metadata.deletionTimestamp);
    expect(after.map((p) => p.metadata.labels?.['controller-revision-hash'])).toEqual([(await revisions()).find((r) => r.image === 'v2')!.hash]);

    // Back to v1: its revision is renumbered 3, not copied.
    await setImage('v1');
    await h.reconcile('default/agent');
    expect((await revisions()).map((r) => [r.revision, r.image]).sort()).toEqual([[2, 'v2'], [3, 'v1']]);
  });

  it('keeps at most revisionHistoryLimit old revisions that no pod uses', async () => {
    setup();
    h.seed(Resources.daemonSets, daemonSet('agent', { revisionHistoryLimit: 1, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'v1' }] } } }));
    for (const image of ['v2', 'v3', 'v4']) {
      await h.reconcile('default/agent');
      await setImage(image);
    }
    await h.reconcile('default/agent');
    await h.reconcile('default/agent');
    // No nodes, so no pods: v4 (current) and one old one, the newest, remain.
    expect((await revisions()).map((r) => [r.revision, r.image]).sort()).toEqual([[3, 'v3'], [4, 'v4']]);
  });
});
