import { Resources } from '@keel/client';
import { ApiError, type Pod, type ReplicaSet } from '@keel/api';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness } from '../testing/harness';
import { ownedBy, pod, replicaSet, ts } from './fixtures.test-helpers';
import { calculateReplicaSetStatus, deletionOrder, ReplicaSetController } from './replicaset';

let h: Harness<ReplicaSetController>;
afterEach(() => h?.stop());

const setup = () => (h = new Harness((ctx) => new ReplicaSetController(ctx)));

describe('ReplicaSet reconcile', () => {
  it('creates the missing pods from the template, owned by the ReplicaSet', async () => {
    setup();
    h.seed(Resources.replicaSets, replicaSet('web', 3));
    const writes = await h.reconcile('default/web');
    expect(writes.filter((w) => w.startsWith('create pods/default/web-'))).toHaveLength(3);
    const pods = await h.list<Pod>(Resources.pods, 'default');
    expect(pods).toHaveLength(3);
    expect(pods[0]!.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'uid-web', controller: true, blockOwnerDeletion: true }]);
    expect(pods[0]!.metadata.labels).toEqual({ app: 'web' });
    expect(await h.events()).toEqual(pods.map((p) => `SuccessfulCreate: Created pod: ${p.metadata.name}`).sort());
  });

  it('deletes surplus pods, unscheduled and not-ready ones first', async () => {
    setup();
    h.seed(Resources.replicaSets, replicaSet('web', 1));
    h.seed(Resources.pods, pod('ready', { app: 'web' }, { ready: true, metadata: { name: 'ready', ...ownedBy('ReplicaSet', 'web') }, spec: { nodeName: 'n1', containers: [] } }));
    h.seed(Resources.pods, pod('pending', { app: 'web' }, { metadata: { name: 'pending', ...ownedBy('ReplicaSet', 'web') } }));
    const writes = await h.reconcile('default/web');
    expect(writes).toContain('delete pods/default/pending');
    expect(writes).not.toContain('delete pods/default/ready');
  });

  it('adopts an orphan that matches and releases an owned pod that no longer does', async () => {
    setup();
    h.seed(Resources.replicaSets, replicaSet('web', 1));
    h.seed(Resources.pods, pod('orphan', { app: 'web' }));
    h.seed(Resources.pods, pod('relabelled', { app: 'other' }, { metadata: { name: 'relabelled', ...ownedBy('ReplicaSet', 'web') } }));
    const writes = await h.reconcile('default/web');
    expect(writes).toEqual(expect.arrayContaining(['update pods/default/orphan', 'update pods/default/relabelled']));
    expect(writes.some((w) => w.startsWith('create pods'))).toBe(false);
    expect((await h.get<Pod>(Resources.pods, 'default', 'orphan')).metadata.ownerReferences?.[0]?.uid).toBe('uid-web');
    expect((await h.get<Pod>(Resources.pods, 'default', 'relabelled')).metadata.ownerReferences).toBeUndefined();
  });

  it('leaves pods another controller owns alone', async () => {
    setup();
    h.seed(Resources.replicaSets, replicaSet('web', 1));
    h.seed(Resources.pods, pod('theirs', { app: 'web' }, { metadata: { name: 'theirs', ...ownedBy('ReplicaSet', 'other') } }));
    const writes = await h.reconcile('default/web');
    expect(writes.filter((w) => w.startsWith('create pods'))).toHaveLength(1);
    expect(writes).not.toContain('update pods/default/theirs');
  });

  it('does not create again while its creates are not yet seen (expectations)', async () => {
    setup();
    h.seed(Resources.replicaSets, replicaSet('web', 2));
    await h.sync();
    // The first reconcile creates 2; pretend the watch has not shown them yet.
    h.controller.expectations.expect('default/web', 2);
    const writes = await h.reconcile('default/web');
    expect(writes.filter((w) => w.startsWith('create pods'))).toHaveLength(0);
    h.now += 6 * 60_000; // expectations time out: the controller counts again
    const later = await h.reconcile('default/web');
    expect(later.filter((w) => w.startsWith('create pods'))).toHaveLength(2);
  });

  it('reports ReplicaFailure (FailedCreate) while creates fail, and clears it once they work', async () => {
    setup();
    h.seed(Resources.replicaSets, replicaSet('web', 1));
    h.api.failNext('create', new ApiError('Forbidden', 'exceeded quota: pods'));
    await expect(h.reconcile('default/web')).rejects.toThrow(/exceeded quota/);
    await h.sync();
    const failed = (await h.get<ReplicaSet>(Resources.replicaSets, 'default', 'web')).status;
    expect(failed?.conditions).toEqual([expect.objectContaining({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'exceeded quota: pods' })]);
    expect(await h.events()).toEqual(['FailedCreate: Error creating: exceeded quota: pods']);
    await h.reconcile('default/web');
    expect((await h.get<ReplicaSet>(Resources.replicaSets, 'default', 'web')).status?.conditions).toBeUndefined();
  });

  it('writes status: replicas, ready, available after minReadySeconds, fully labelled, observedGeneration', async () => {
    setup();
    const rs = replicaSet('web', 2);
    rs.spec!.minReadySeconds = 120;
    rs.spec!.template!.metadata!.labels = { app: 'web', tier: 'front' };
    h.seed(Resources.replicaSets, rs);
    h.seed(Resources.pods, pod('a', { app: 'web', tier: 'front' }, { ready: true, metadata: { name: 'a', ...ownedBy('ReplicaSet', 'web') } }));
    h.seed(Resources.pods, pod('b', { app: 'web' }, { ready: false, metadata: { name: 'b', ...ownedBy('ReplicaSet', 'web') } }));
    await h.reconcile('default/web');
    const status = (await h.get<ReplicaSet>(Resources.replicaSets, 'default', 'web')).status;
    // `a` has been ready for 60 s only: ready but not yet available.
    expect(status).toEqual({ replicas: 2, fullyLabeledReplicas: 1, readyReplicas: 1, availableReplicas: 0, terminatingReplicas: 0, observedGeneration: 1 });
  });
});

describe('ReplicaSet helpers', () => {
  it('ranks pods for deletion as Kubernetes does', () => {
    const unscheduled = pod('u', {});
    const running = pod('r', {}, { ready: true, spec: { nodeName: 'n', containers: [] } });
    const pendingOnNode = { ...pod('p', {}, { spec: { nodeName: 'n', containers: [] } }) };
    expect([running, pendingOnNode, unscheduled].sort(deletionOrder).map((p) => p.metadata.name)).toEqual(['u', 'p', 'r']);
  });

  it('counts availability from the Ready transition time', () => {
    const rs = replicaSet('web', 1);
    rs.spec!.minReadySeconds = 30;
    const p = pod('a', { app: 'web' }, { ready: true });
    expect(calculateReplicaSetStatus(rs, [p], Date.parse(ts(0))).availableReplicas).toBe(1);
    expect(calculateReplicaSetStatus(rs, [p], Date.parse(ts(-40_000))).availableReplicas).toBe(0);
  });
});
