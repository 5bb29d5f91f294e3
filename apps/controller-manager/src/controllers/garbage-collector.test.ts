import type { ConfigMap, Deployment, OwnerReference, ReplicaSet } from '@keel/api';
import { Resources } from '@keel/client';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness } from '../testing/harness';
import { deployment, ownedBy, replicaSet, ts } from './fixtures.test-helpers';
import { GarbageCollector } from './garbage-collector';

let h: Harness<GarbageCollector>;
afterEach(() => h?.stop());
const setup = () => (h = new Harness((ctx) => new GarbageCollector(ctx)));
const cm = (name: string, refs: OwnerReference[]): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', uid: `uid-${name}`, ownerReferences: refs } });

describe('garbage collector', () => {
  it('deletes a dependent whose only owner is gone (Background)', async () => {
    setup();
    h.seed(Resources.replicaSets, replicaSet('web-abc', 1, { app: 'web' }, ownedBy('Deployment', 'web')));
    expect(await h.reconcile('apps/replicasets|default/web-abc')).toEqual(['delete replicasets/default/web-abc']);
  });

  it('keeps a dependent whose owner exists, and drops only the dangling reference of one with two owners', async () => {
    setup();
    h.seed(Resources.deployments, deployment('web', 1));
    h.seed(Resources.replicaSets, replicaSet('web-abc', 1, { app: 'web' }, ownedBy('Deployment', 'web')));
    expect(await h.reconcile('apps/replicasets|default/web-abc')).toEqual([]);
    h.seed(Resources.configMaps, cm('shared', [...ownedBy('Deployment', 'web').ownerReferences, { apiVersion: 'v1', kind: 'ConfigMap', name: 'gone', uid: 'uid-gone' }]));
    expect(await h.reconcile('configmaps|default/shared')).toEqual(['update configmaps/default/shared']);
    expect((await h.get<ConfigMap>(Resources.configMaps, 'default', 'shared')).metadata.ownerReferences?.map((r) => r.name)).toEqual(['web']);
  });

  it('treats an owner with the same name but another uid as gone', async () => {
    setup();
    const d = deployment('web', 1);
    d.metadata.uid = 'uid-new-web';
    h.seed(Resources.deployments, d);
    h.seed(Resources.replicaSets, replicaSet('web-abc', 1, { app: 'web' }, ownedBy('Deployment', 'web')));
    expect(await h.reconcile('apps/replicasets|default/web-abc')).toEqual(['delete replicasets/default/web-abc']);
  });

  it('orphan: removes the owner reference from dependents, then the orphan finalizer', async () => {
    setup();
    const d: Deployment = { ...deployment('web', 1), metadata: { ...deployment('web', 1).metadata, deletionTimestamp: ts(), finalizers: ['orphan'] } };
    h.seed(Resources.deployments, d);
    h.seed(Resources.replicaSets, replicaSet('web-abc', 1, { app: 'web' }, ownedBy('Deployment', 'web')));
    const writes = await h.reconcile('apps/deployments|default/web');
    expect(writes).toEqual(['update replicasets/default/web-abc', 'update deployments/default/web']);
    expect((await h.get<ReplicaSet>(Resources.replicaSets, 'default', 'web-abc')).metadata.ownerReferences).toBeUndefined();
    expect((await h.get<Deployment>(Resources.deployments, 'default', 'web')).metadata.finalizers).toBeUndefined();
  });

  it('foregroundDeletion: deletes blocking dependents in the foreground and keeps the finalizer until they are gone', async () => {
    setup();
    const base = deployment('web', 1);
    h.seed(Resources.deployments, { ...base, metadata: { ...base.metadata, deletionTimestamp: ts(), finalizers: ['foregroundDeletion'] } });
    h.seed(Resources.replicaSets, replicaSet('web-abc', 1, { app: 'web' }, ownedBy('Deployment', 'web')));
    // FakeApi deletes at once, so the owner is free on the next pass.
    expect(await h.reconcile('apps/deployments|default/web')).toEqual(['delete replicasets/default/web-abc']);
    expect(await h.reconcile('apps/deployments|default/web')).toEqual(['update deployments/default/web']);
  });
});
