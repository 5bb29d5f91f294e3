// The controllers against a real apiserver on a real store (keel-store; KEEL_TEST_STORE=etcd
// for Debian's etcd). Pods never run (no agent): the test plays the kubelet and marks them
// Running/Ready or Succeeded through the status subresource (see cluster.ts). Each case waits
// on what a user would see with kubectl.
import { type Deployment, type Endpoints, type EndpointSlice, type Job, type Pod, type ReplicaSet } from '@keel/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubelet, retryOnConflict, startTestCluster, waitFor, type TestCluster } from './cluster';

let t: TestCluster;
beforeAll(async () => {
  t = await startTestCluster({ clusterCidr: '10.244.0.0/16', nodeMonitorGracePeriodMs: 2000, jobBackoffBaseMs: 200 });
}, 120_000);
afterAll(async () => t?.stop(), 60_000);

const deploymentOf = (name: string, ns: string, replicas: number, image: string): Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image, ports: [{ name: 'http', containerPort: 8080 }] }] } },
  },
});

const podsOf = async (ns: string, app: string) => (await t.client.pods(ns).list({ labelSelector: `app=${app}` })).items.filter((p) => !p.metadata.deletionTimestamp);
const replicaSetsOf = async (ns: string, app: string) => (await t.client.replicaSets(ns).list({ labelSelector: `app=${app}` })).items;

/** Marks every pod of `app` Ready, as a kubelet would once they run. */
async function readyAll(ns: string, app: string): Promise<Pod[]> {
  const pods = await podsOf(ns, app);
  for (const p of pods) {
    if (p.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') await kubelet(t.client, p).catch(() => undefined);
  }
  return pods;
}

describe('Deployment, ReplicaSet and the garbage collector', () => {
  it('a Deployment of 3 makes one ReplicaSet and 3 pods, scales to 5, rolls out a new image within the bounds, and is collected', async () => {
    const ns = 'default';
    await t.client.deployments(ns).create(deploymentOf('web', ns, 3, 'keel/web:1'));
    const [rs] = await waitFor(async () => {
      const sets = await replicaSetsOf(ns, 'web');
      return sets.length === 1 && sets[0]!.spec?.replicas === 3 && sets;
    }, 20_000, 'the ReplicaSet');
    expect(rs!.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(rs!.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'web', controller: true });
    await waitFor(async () => (await podsOf(ns, 'web')).length === 3, 20_000, '3 pods');
    const pods = await podsOf(ns, 'web');
    expect(pods.every((p) => p.metadata.ownerReferences?.[0]?.uid === rs!.metadata.uid)).toBe(true);

    await readyAll(ns, 'web');
    await waitFor(async () => {
      const d = await t.client.deployments(ns).get('web');
      return d.status?.availableReplicas === 3 && d.status.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable');
    }, 20_000, 'the Deployment available');

    // Scale to 5.
    const d = await t.client.deployments(ns).get('web');
    await t.client.deployments(ns).update({ ...d, spec: { ...d.spec!, replicas: 5 } });
    await waitFor(async () => (await podsOf(ns, 'web')).length === 5, 20_000, '5 pods');
    await readyAll(ns, 'web');
    await waitFor(async () => (await t.client.deployments(ns).get('web')).status?.availableReplicas === 5, 20_000, '5 available');

    // A new image: a second ReplicaSet; never more than 6 pods asked for (surge 1) nor fewer than 4 ready
    // (unavailable 1). The surge bound is Kubernetes' own: on the sum of the ReplicaSets' spec.replicas.
    // Live pods may pass it for a moment, as in Kubernetes, while an old ReplicaSet's pod deletion is
    // still in flight and the new one has already created its pods.
    const d2 = await t.client.deployments(ns).get('web');
    await t.client.deployments(ns).update({ ...d2, spec: { ...d2.spec!, template: { ...d2.spec!.template, spec: { containers: [{ name: 'web', image: 'keel/web:2', ports: [{ name: 'http', containerPort: 8080 }] }] } } } });
    let maxAskedFor = 0;
    let minReady = Infinity;
    await waitFor(async () => {
      const sets = await replicaSetsOf(ns, 'web');
      const askedFor = sets.reduce((sum, rs) => sum + (rs.spec?.replicas ?? 0), 0);
      if (askedFor > 6 && maxAskedFor <= 6) {
        // What the controller did, for the failure below.
        const scaled = (await t.client.events(ns).list()).items.filter((e) => (e as { reason?: string }).reason === 'ScalingReplicaSet');
        console.log(`over the surge bound: ${JSON.stringify(sets.map((rs) => [rs.metadata.name, rs.spec?.replicas, rs.metadata.resourceVersion]))}\n${scaled.map((e) => `${(e as { lastTimestamp?: string }).lastTimestamp} ${(e as { message?: string }).message}`).join('\n')}`);
      }
      maxAskedFor = Math.max(maxAskedFor, askedFor);
      const live = await podsOf(ns, 'web');
      minReady = Math.min(minReady, live.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length);
      await readyAll(ns, 'web');
      const dep = await t.client.deployments(ns).get('web');
      // As `kubectl rollout status`: only a status for the current generation counts.
      return (
        dep.status?.observedGeneration === dep.metadata.generation &&
        dep.status?.updatedReplicas === 5 &&
        dep.status.availableReplicas === 5 &&
        dep.status.replicas === 5 &&
        dep.status.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable')
      );
    }, 60_000, 'the rollout');
    expect(maxAskedFor).toBeLessThanOrEqual(6);
    expect(minReady).toBeGreaterThanOrEqual(4);
    const sets = await replicaSetsOf(ns, 'web');
    expect(sets).toHaveLength(2);
    expect(sets.map((s) => [s.metadata.annotations?.['deployment.kubernetes.io/revision'], s.spec?.replicas]).sort()).toEqual([
      ['1', 0],
      ['2', 5],
    ]);
    const dep = await t.client.deployments(ns).get('web');
    expect(dep.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    expect(dep.status?.observedGeneration).toBe(dep.metadata.generation);

    // Deleting the Deployment (Background): the garbage collector removes its ReplicaSets and their pods.
    await t.client.deployments(ns).delete('web');
    await waitFor(async () => (await replicaSetsOf(ns, 'web')).length === 0 && (await podsOf(ns, 'web')).length === 0, 30_000, 'RS and pods collected');
  }, 120_000);

  it('Foreground deletion removes dependents first; Orphan leaves them without an owner', async () => {
    const ns = 'default';
    await t.client.deployments(ns).create(deploymentOf('fg', ns, 1, 'keel/web:1'));
    await waitFor(async () => (await podsOf(ns, 'fg')).length === 1, 20_000, 'fg pod');
    await t.client.deployments(ns).delete('fg', { propagationPolicy: 'Foreground' });
    await waitFor(async () => {
      const gone = await t.client.deployments(ns).get('fg').then(() => false, () => true);
      return gone && (await replicaSetsOf(ns, 'fg')).length === 0 && (await podsOf(ns, 'fg')).length === 0;
    }, 30_000, 'foreground deletion');

    await t.client.deployments(ns).create(deploymentOf('orphan', ns, 1, 'keel/web:1'));
    await waitFor(async () => (await podsOf(ns, 'orphan')).length === 1, 20_000, 'orphan pod');
    await t.client.deployments(ns).delete('orphan', { propagationPolicy: 'Orphan' });
    await waitFor(async () => t.client.deployments(ns).get('orphan').then(() => false, () => true), 20_000, 'the Deployment gone');
    const sets = await replicaSetsOf(ns, 'orphan');
    expect(sets).toHaveLength(1);
    expect(sets[0]!.metadata.ownerReferences ?? []).toEqual([]);
    // The ReplicaSet keeps its pod; clean up by deleting it (Background this time).
    await t.client.replicaSets(ns).delete(sets[0]!.metadata.name!);
    await waitFor(async () => (await podsOf(ns, 'orphan')).length === 0, 20_000, 'orphaned RS pods collected');
  }, 90_000);
});

describe('Job', () => {
  it('runs parallelism pods until completions succeed, then is Complete', async () => {
    const ns = 'default';
    await t.client.jobs(ns).create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'pi', namespace: ns },
      spec: { completions: 3, parallelism: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'keel/busybox' }] } } },
    });
    const jobPods = async () => (await t.client.pods(ns).list({ labelSelector: 'job-name=pi' })).items;
    await waitFor(async () => (await jobPods()).length === 2, 20_000, '2 job pods');
    const succeeded = new Set<string>();
    await waitFor(async () => {
      for (const p of await jobPods()) {
        if (p.status?.phase !== 'Succeeded' && !succeeded.has(p.metadata.name!)) {
          succeeded.add(p.metadata.name!);
          await kubelet(t.client, p, { phase: 'Succeeded' });
        }
      }
      const job = await t.client.jobs(ns).get('pi');
      return job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') && job;
    }, 30_000, 'the Job complete');
    const job: Job = await t.client.jobs(ns).get('pi');
    expect(job.status).toMatchObject({ succeeded: 3, active: 0 });
    expect(job.status?.failed ?? 0).toBe(0);
    expect(job.status?.startTime).toBeDefined();
    expect(job.status?.completionTime).toBeDefined();
    expect((await jobPods()).length).toBe(3);
  }, 60_000);

  it('fails with BackoffLimitExceeded after backoffLimit failed pods', async () => {
    const ns = 'default';
    await t.client.jobs(ns).create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'flaky', namespace: ns },
      spec: { backoffLimit: 1, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'x', image: 'keel/busybox' }] } } },
    });
    await waitFor(async () => {
      for (const p of (await t.client.pods(ns).list({ labelSelector: 'job-name=flaky' })).items) {
        if (p.status?.phase !== 'Failed') await kubelet(t.client, p, { phase: 'Failed' }).catch(() => undefined);
      }
      const job = await t.client.jobs(ns).get('flaky');
      return job.status?.conditions?.some((c) => c.type === 'Failed' && c.reason === 'BackoffLimitExceeded');
    }, 30_000, 'the Job failed');
    expect((await t.client.jobs(ns).get('flaky')).status?.failed).toBe(2);
  }, 60_000);
});

describe('Job TTL and DaemonSet', () => {
  it('an Indexed Job runs one pod per index and lists the completed indexes', async () => {
    const ns = 'default';
    await t.client.jobs(ns).create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'indexed', namespace: ns },
      spec: { completions: 3, parallelism: 3, completionMode: 'Indexed', template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'keel/busybox' }] } } },
    });
    const index = (p: Pod) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'];
    const pods = await waitFor(async () => {
      const list = (await t.client.pods(ns).list({ labelSelector: 'batch.kubernetes.io/job-name=indexed' })).items;
      return list.length === 3 && list;
    }, 20_000, 'three indexed pods');
    expect(pods.map(index).sort()).toEqual(['0', '1', '2']);
    expect(pods.map((p) => p.spec?.hostname).sort()).toEqual(['indexed-0', 'indexed-1', 'indexed-2']);
    for (const p of pods) await kubelet(t.client, p, { phase: 'Succeeded' });
    const done = await waitFor(async () => {
      const j = await t.client.jobs(ns).get('indexed');
      return j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') && j;
    }, 20_000, 'the Job Complete');
    expect(done.status).toMatchObject({ succeeded: 3, completedIndexes: '0-2' });
  }, 60_000);

  it('a finished Job with ttlSecondsAfterFinished 0 is deleted, and its pods with it', async () => {
    const ns = 'default';
    await t.client.jobs(ns).create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'once', namespace: ns },
      spec: { ttlSecondsAfterFinished: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'x', image: 'keel/busybox' }] } } },
    });
    const pods = async () => (await t.client.pods(ns).list({ labelSelector: 'job-name=once' })).items;
    const [p] = await waitFor(async () => {
      const list = await pods();
      return list.length === 1 && list;
    }, 20_000, 'the job pod');
    await kubelet(t.client, p!, { phase: 'Succeeded' });
    await waitFor(async () => (await t.client.jobs(ns).get('once').then(() => false, () => true)) && (await pods()).length === 0, 20_000, 'job and pod gone');
  }, 60_000);

  it('a DaemonSet gets one pod per eligible node, pinned by node affinity', async () => {
    const ns = 'default';
    for (const name of ['keel-ds-1', 'keel-ds-2']) {
      await t.client.nodes().create({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'keel.test/ds': 'yes' } } });
    }
    await t.client.nodes().create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'keel-ds-3', labels: { 'keel.test/ds': 'no' } } });
    await t.client.daemonSets(ns).create({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: ns },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        // These nodes never heartbeat and turn unreachable after the 2 s grace: tolerate it.
        template: { metadata: { labels: { app: 'agent' } }, spec: { nodeSelector: { 'keel.test/ds': 'yes' }, tolerations: [{ operator: 'Exists' }], containers: [{ name: 'a', image: 'keel/busybox' }] } },
      },
    });
    const pods = await waitFor(async () => {
      const list = await podsOf(ns, 'agent');
      return list.length === 2 && list;
    }, 20_000, 'two daemon pods');
    const nodes = pods.map((p) => p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchFields?.[0]?.values?.[0]).sort();
    expect(nodes).toEqual(['keel-ds-1', 'keel-ds-2']);
    await waitFor(async () => (await t.client.daemonSets(ns).get('agent')).status?.desiredNumberScheduled === 2, 20_000, 'DaemonSet status');
    // Its template is recorded as revision 1, and its pods carry that revision's hash.
    const [rev] = (await t.client.controllerRevisions(ns).list()).items.filter((r) => r.metadata.ownerReferences?.[0]?.name === 'agent');
    expect(rev?.revision).toBe(1);
    expect(pods.every((p) => p.metadata.labels?.['controller-revision-hash'] === rev!.metadata.labels?.['controller-revision-hash'])).toBe(true);
    await t.client.daemonSets(ns).delete('agent');
    await waitFor(async () => (await podsOf(ns, 'agent')).length === 0, 20_000, 'daemon pods collected');
    for (const name of ['keel-ds-1', 'keel-ds-2', 'keel-ds-3']) await t.client.nodes().delete(name);
  }, 60_000);
});

describe('Endpoints and EndpointSlices', () => {
  it('follow pod readiness, with named target ports resolved', async () => {
    const ns = 'default';
    await t.client.services(ns).create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: ns }, spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });
    await t.client.deployments(ns).create(deploymentOf('api', ns, 2, 'keel/web:1'));
    await waitFor(async () => (await podsOf(ns, 'api')).length === 2, 20_000, 'api pods');
    const pods = await readyAll(ns, 'api');
    const ep = await waitFor(async () => {
      const e: Endpoints = await t.client.endpoints(ns).get('api');
      return e.subsets?.[0]?.addresses?.length === 2 && e;
    }, 20_000, 'two ready addresses');
    expect(ep.subsets![0]!.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    // One pod stops being ready: it moves to notReadyAddresses.
    const one = await t.client.pods(ns).get(pods[0]!.metadata.name!);
    await kubelet(t.client, one, { ready: false });
    await waitFor(async () => {
      const e: Endpoints = await t.client.endpoints(ns).get('api');
      return e.subsets?.[0]?.addresses?.length === 1 && e.subsets[0]!.notReadyAddresses?.length === 1;
    }, 20_000, 'one not-ready address');
    // The slice is written right after the Endpoints, in the same reconcile.
    const slices = await waitFor(async () => {
      const list: EndpointSlice[] = (await t.client.endpointSlices(ns).list({ labelSelector: 'kubernetes.io/service-name=api' })).items;
      return list.length === 1 && list[0]!.endpoints.map((e) => e.conditions?.ready).sort().join() === 'false,true' && list;
    }, 20_000, 'the EndpointSlice with one ready endpoint');
    expect(slices[0]!.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    await t.client.deployments(ns).delete('api');
    await t.client.services(ns).delete('api');
    await waitFor(async () => t.client.endpoints(ns).get('api').then(() => false, () => true), 20_000, 'endpoints removed');
  }, 60_000);
});

describe('Namespace and ServiceAccount', () => {
  it('a new namespace gets a default ServiceAccount; a terminating one empties and disappears', async () => {
    await t.client.namespaces().create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'keel-doomed' } });
    await waitFor(async () => t.client.serviceAccounts('keel-doomed').get('default').then(() => true, () => false), 20_000, 'the default ServiceAccount');
    await t.client.deployments('keel-doomed').create(deploymentOf('w', 'keel-doomed', 2, 'keel/web:1'));
    await t.client.configMaps('keel-doomed').create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'keel-doomed' }, data: { a: 'b' } });
    await waitFor(async () => (await podsOf('keel-doomed', 'w')).length === 2, 20_000, 'pods in the namespace');
    await t.client.namespaces().delete('keel-doomed');
    await waitFor(async () => t.client.namespaces().get('keel-doomed').then(() => false, () => true), 30_000, 'the namespace gone');
    const left = (await t.client.pods('keel-doomed').list()).items.length + (await t.client.configMaps('keel-doomed').list()).items.length;
    expect(left).toBe(0);
  }, 60_000);
});

describe('Node lifecycle', () => {
  it('allocates a pod CIDR; a node whose Lease stops is Unknown, tainted, and its pods evicted', async () => {
    const now = () => new Date().toISOString().replace(/Z$/, '000Z').replace(/\.(\d{3})000Z$/, '.$1000Z');
    await t.client.nodes().create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'keel-node-a' }, status: {} });
    const heartbeat = () =>
      retryOnConflict(async () => {
        const node = await t.client.nodes().get('keel-node-a');
        await t.client.nodes().updateStatus({ ...node, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: new Date().toISOString().slice(0, 19) + 'Z' }] } });
      });
    await heartbeat();
    await t.client.leases('kube-node-lease').create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'keel-node-a', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'keel-node-a', leaseDurationSeconds: 40, renewTime: now() } });
    const withCidr = await waitFor(async () => {
      const n = await t.client.nodes().get('keel-node-a');
      return n.spec?.podCIDR ? n : undefined;
    }, 20_000, 'a pod CIDR');
    expect(withCidr.spec!.podCIDR).toMatch(/^10\.244\.\d+\.0\/24$/);
    // A pod bound to the node (as the scheduler would) that tolerates the node being unreachable
    // for 1 s (without a toleration of its own, admission would give it Kubernetes' 300 s).
    const p = await t.client.pods('default').create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'on-a', namespace: 'default' },
      spec: {
        containers: [{ name: 'c', image: 'keel/busybox' }],
        tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }],
      },
    });
    await t.client.bind('default', p.metadata.name!, 'keel-node-a');
    // No renewals from here: after the 2 s grace the node is Unknown and tainted.
    const unknown = await waitFor(async () => {
      const n = await t.client.nodes().get('keel-node-a');
      return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown' && n.spec?.taints?.some((x) => x.key === 'node.kubernetes.io/unreachable' && x.effect === 'NoExecute') && n;
    }, 20_000, 'the node Unknown and tainted');
    expect(unknown.status!.conditions!.find((c) => c.type === 'Ready')!.reason).toBe('NodeStatusUnknown');
    // Its toleration runs out: it is evicted (deleted; it lingers for its grace period, as no agent confirms).
    await waitFor(async () => {
      const pod = await t.client.pods('default').get('on-a').catch(() => undefined);
      return !pod || pod.metadata.deletionTimestamp !== undefined;
    }, 20_000, 'the pod evicted');
    // Heartbeats again: Ready comes back (the agent would write it), the taints go.
    await heartbeat();
    const lease = await t.client.leases('kube-node-lease').get('keel-node-a');
    await t.client.leases('kube-node-lease').update({ ...lease, spec: { ...lease.spec, renewTime: now() } });
    await waitFor(async () => {
      const m = await t.client.nodes().get('keel-node-a');
      return !(m.spec?.taints ?? []).some((x) => x.key === 'node.kubernetes.io/unreachable');
    }, 20_000, 'the taints removed');
    await t.client.pods('default').delete('on-a', { gracePeriodSeconds: 0 }).catch(() => undefined);
  }, 60_000);
});

export type { ReplicaSet };
