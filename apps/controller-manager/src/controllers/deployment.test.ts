import type { Deployment, ReplicaSet } from '@keel/api';
import { Resources } from '@keel/client';
import { afterEach, describe, expect, it } from 'vitest';
import { Harness } from '../testing/harness';
import { DeploymentController } from './deployment';
import { computeHash, DesiredReplicasAnnotation, MaxReplicasAnnotation, RevisionAnnotation } from './deployment-util';
import { deployment } from './fixtures.test-helpers';

let h: Harness<DeploymentController>;
afterEach(() => h?.stop());
const setup = () => (h = new Harness((ctx) => new DeploymentController(ctx)));

const rsOf = async (name = 'web') => (await h.list<ReplicaSet>(Resources.replicaSets, 'default')).filter((r) => r.metadata.name!.startsWith(`${name}-`));
const dep = async () => h.get<Deployment>(Resources.deployments, 'default', 'web');

/** Stands in for the ReplicaSet controller: every RS has all its replicas, ready and available. */
async function settleReplicaSets(available = true) {
  for (const rs of await rsOf()) {
    const n = rs.spec?.replicas ?? 0;
    await h.client.replicaSets('default').updateStatus({ ...rs, status: { replicas: n, readyReplicas: available ? n : 0, availableReplicas: available ? n : 0, observedGeneration: rs.metadata.generation ?? 1 } });
  }
}

/** A RollingUpdate Deployment (surge 1, unavailable 1) of `replicas`, settled on img:1, then given img:2. */
async function startRollout(replicas: number) {
  setup();
  h.seed(Resources.deployments, deployment('web', replicas, 'img:1', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }));
  await h.reconcile('default/web');
  await settleReplicaSets();
  await h.reconcile('default/web');
  const d = await dep();
  await h.client.deployments('default').update({ ...d, metadata: { ...d.metadata, generation: 2 }, spec: { ...d.spec!, template: { ...d.spec!.template, spec: { containers: [{ name: 'c', image: 'img:2' }] } } } });
}

describe('Deployment reconcile', () => {
  it('creates <name>-<hash> with the hash label in selector and template, revision 1, and Progressing', async () => {
    setup();
    h.seed(Resources.deployments, deployment('web', 3));
    const writes = await h.reconcile('default/web');
    const hash = computeHash((await dep()).spec!.template);
    expect(writes).toContain(`create replicasets/default/web-${hash}`);
    const [rs] = await rsOf();
    expect(rs!.spec!.replicas).toBe(3);
    expect(rs!.spec!.selector.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs!.spec!.template!.metadata!.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs!.metadata.annotations).toMatchObject({ [RevisionAnnotation]: '1', [DesiredReplicasAnnotation]: '3', [MaxReplicasAnnotation]: '4' });
    const d = await dep();
    expect(d.metadata.annotations?.[RevisionAnnotation]).toBe('1');
    expect(await h.events()).toEqual([`ScalingReplicaSet: Scaled up replica set web-${hash} from 0 to 3`]);
    expect(d.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "web-${hash}"` });
  });

  it('reports NewReplicaSetAvailable and Available once the ReplicaSet is available', async () => {
    setup();
    h.seed(Resources.deployments, deployment('web', 3));
    await h.reconcile('default/web');
    await settleReplicaSets();
    await h.reconcile('default/web');
    const d = await dep();
    expect(d.status).toMatchObject({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 0 });
    expect(d.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual(
      expect.arrayContaining([
        ['Available', 'True', 'MinimumReplicasAvailable'],
        ['Progressing', 'True', 'NewReplicaSetAvailable'],
      ]),
    );
  });

  it('rolls out a new template within maxSurge and maxUnavailable', async () => {
    await startRollout(4);
    // Step by step: never more than 5 pods, never fewer than 3 available.
    for (let step = 0; step < 10; step++) {
      await h.reconcile('default/web');
      const sets = await rsOf();
      const total = sets.reduce((n, r) => n + (r.spec?.replicas ?? 0), 0);
      expect(total).toBeLessThanOrEqual(5);
      const available = sets.reduce((n, r) => n + (r.status?.availableReplicas ?? 0), 0);
      expect(available).toBeGreaterThanOrEqual(3);
      await settleReplicaSets();
    }
    const sets = await rsOf();
    expect(sets).toHaveLength(2);
    const newRS = sets.find((r) => r.metadata.annotations?.[RevisionAnnotation] === '2')!;
    expect(newRS.spec!.replicas).toBe(4);
    expect(sets.find((r) => r !== newRS)!.spec!.replicas).toBe(0);
    expect((await dep()).metadata.annotations?.[RevisionAnnotation]).toBe('2');
  });

  it('never scales an old ReplicaSet up while its status still counts more available pods than it asks for', async () => {
    await startRollout(5);
    await h.reconcile('default/web'); // the new ReplicaSet (1), the old one down to 4
    // The old ReplicaSet's status lags its scale-down: 5 pods still available for a spec of 4,
    // and the new one's pod is not available yet. Kubernetes refuses to "clean up" into a scale-up.
    const old = (await rsOf()).find((r) => r.metadata.annotations?.[RevisionAnnotation] === '1')!;
    expect(old.spec!.replicas).toBe(4);
    await h.client.replicaSets('default').updateStatus({ ...old, status: { replicas: 5, readyReplicas: 5, availableReplicas: 5, observedGeneration: old.metadata.generation ?? 1 } });
    for (let step = 0; step < 3; step++) {
      // The new ReplicaSet's pods become available as it asks for them.
      const fresh = (await rsOf()).find((r) => r.metadata.uid !== old.metadata.uid)!;
      const n = fresh.spec?.replicas ?? 0;
      await h.client.replicaSets('default').updateStatus({ ...fresh, status: { replicas: n, readyReplicas: n, availableReplicas: n, observedGeneration: fresh.metadata.generation ?? 1 } });
      await h.reconcile('default/web');
      const sets = await rsOf();
      expect(sets.reduce((n, r) => n + (r.spec?.replicas ?? 0), 0)).toBeLessThanOrEqual(6);
      expect(sets.find((r) => r.metadata.uid === old.metadata.uid)!.spec!.replicas).toBeLessThanOrEqual(4);
    }
    // Not even for a moment between two writes of one reconcile.
    expect((await h.events()).filter((e) => e.startsWith(`ScalingReplicaSet: Scaled up replica set ${old.metadata.name} from `) && !e.endsWith('from 0 to 5'))).toEqual([]);
  });

  it('Recreate scales the old ReplicaSet to zero before creating the new one', async () => {
    setup();
    h.seed(Resources.deployments, deployment('web', 2, 'img:1', { strategy: { type: 'Recreate' } }));
    await h.reconcile('default/web');
    await settleReplicaSets();
    const d = await dep();
    await h.client.deployments('default').update({ ...d, spec: { ...d.spec!, template: { ...d.spec!.template, spec: { containers: [{ name: 'c', image: 'img:2' }] } } } });
    const writes = await h.reconcile('default/web');
    expect(writes.some((w) => w.startsWith('create replicasets'))).toBe(false);
    expect((await rsOf()).map((r) => r.spec!.replicas)).toEqual([0]);
    await settleReplicaSets();
    const next = await h.reconcile('default/web');
    expect(next.some((w) => w.startsWith('create replicasets'))).toBe(true);
  });

  it('a scale-up while paused only scales, and sets Progressing Unknown DeploymentPaused', async () => {
    setup();
    h.seed(Resources.deployments, deployment('web', 2));
    await h.reconcile('default/web');
    const d = await dep();
    await h.client.deployments('default').update({ ...d, spec: { ...d.spec!, paused: true, replicas: 5, template: { ...d.spec!.template, spec: { containers: [{ name: 'c', image: 'img:9' }] } } } });
    const writes = await h.reconcile('default/web');
    expect(writes.some((w) => w.startsWith('create replicasets'))).toBe(false);
    expect((await rsOf()).map((r) => r.spec!.replicas)).toEqual([5]);
    expect((await dep()).status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused' });
  });

  it('reports ProgressDeadlineExceeded when nothing moves for progressDeadlineSeconds', async () => {
    setup();
    h.seed(Resources.deployments, deployment('web', 2, 'img:1', { progressDeadlineSeconds: 30 }));
    await h.reconcile('default/web');
    await h.reconcile('default/web');
    h.now += 31_000;
    await h.reconcile('default/web');
    expect((await dep()).status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
  });

  it('removes old ReplicaSets beyond revisionHistoryLimit, and rolls back to an old template as a new revision', async () => {
    setup();
    h.seed(Resources.deployments, deployment('web', 1, 'img:1', { revisionHistoryLimit: 1, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
    const rollTo = async (image: string) => {
      const d = await dep();
      await h.client.deployments('default').update({ ...d, spec: { ...d.spec!, template: { ...d.spec!.template, spec: { containers: [{ name: 'c', image }] } } } });
      for (let i = 0; i < 6; i++) {
        await h.reconcile('default/web');
        await settleReplicaSets();
      }
    };
    await rollTo('img:1');
    await rollTo('img:2');
    await rollTo('img:3');
    const sets = await rsOf();
    expect(sets.map((r) => r.metadata.annotations?.[RevisionAnnotation]).sort()).toEqual(['2', '3']);
    // `kubectl rollout undo`: the template of revision 2 goes back into the Deployment.
    await rollTo('img:2');
    const after = await rsOf();
    const img2 = after.find((r) => r.spec!.template!.spec!.containers[0]!.image === 'img:2')!;
    expect(img2.metadata.annotations?.[RevisionAnnotation]).toBe('4');
    expect(img2.spec!.replicas).toBe(1);
  });
});
