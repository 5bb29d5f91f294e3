// keel-scheduler against a real keel-apiserver (on etcd): nodes and pods are API objects
// (hollow nodes: nothing runs on them); the scheduler binds pods within their resources
// and taints, reports an unschedulable pod as Kubernetes does, and preempts for a
// higher-priority pod.
import type { Node, Pod, Taint } from '@keel/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startCluster, type TestCluster } from './cluster';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster();
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

function node(name: string, cpu: string, taints?: Taint[]): Node {
  const allocatable = { cpu, memory: '8Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: taints ? { taints } : {},
    status: { capacity: allocatable, allocatable, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function pod(name: string, cpu: string, extra: Partial<Pod['spec'] & object> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }], ...extra },
  };
}

async function createNode(n: Node): Promise<void> {
  const created = await cluster.client.nodes().create(n);
  // The API may drop status on create, as Kubernetes does for some kinds: write it as the agent would.
  if (!created.status?.allocatable) await cluster.client.nodes().updateStatus({ ...created, status: n.status! });
}

describe('keel-scheduler', () => {
  it('binds pods within resources and taints, and explains an unschedulable one', async () => {
    const { client } = cluster;
    await createNode(node('small-1', '2'));
    await createNode(node('small-2', '2'));
    await createNode(node('big-tainted', '8', [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }]));
    for (let i = 0; i < 4; i++) await client.pods('default').create(pod(`web-${i}`, '1'));
    const placed = await eventually(async () => {
      const pods = (await client.pods('default').list()).items.filter((p) => p.metadata.name?.startsWith('web-'));
      return pods.every((p) => p.spec?.nodeName) ? pods.map((p) => p.spec!.nodeName!) : undefined;
    });
    expect(placed.sort()).toEqual(['small-1', 'small-1', 'small-2', 'small-2']);

    await client.pods('default').create(pod('too-big', '3'));
    const message =
      '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.';
    const event = await eventually(async () =>
      (await client.events('default').list()).items.find((e) => e.involvedObject.name === 'too-big' && e.reason === 'FailedScheduling'),
    );
    expect(event.type).toBe('Warning');
    expect(event.message).toBe(message);
    const condition = await eventually(async () => (await client.pods('default').get('too-big')).status?.conditions?.find((c) => c.type === 'PodScheduled'));
    expect(condition).toMatchObject({ status: 'False', reason: 'Unschedulable', message });

    // A tolerating pod may use the tainted node.
    await client.pods('default').create(pod('infra', '3', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }] }));
    const infraNode = await eventually(async () => (await client.pods('default').get('infra')).spec?.nodeName);
    expect(infraNode).toBe('big-tainted');
  });

  it('preempts the fewest lower-priority pods for a PriorityClass pod', async () => {
    const { client } = cluster;
    await client.priorityClasses().create({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'critical' }, value: 1000 });
    // small-1 and small-2 are full of priority-0 web pods (1 cpu each).
    await client.pods('default').create(pod('vip', '1', { priorityClassName: 'critical' }));
    const nominated = await eventually(async () => (await client.pods('default').get('vip')).status?.nominatedNodeName);
    expect(['small-1', 'small-2']).toContain(nominated);
    const victims = await eventually(async () => {
      const pods = (await client.pods('default').list()).items.filter((p) => p.metadata.deletionTimestamp || false);
      return pods.length > 0 ? pods : undefined;
    });
    // One 1-cpu pod frees enough: exactly one victim, on the nominated node.
    expect(victims).toHaveLength(1);
    expect(victims[0]!.spec?.nodeName).toBe(nominated);
    // No agent runs on hollow nodes: finish the graceful delete as the agent would.
    await client.pods('default').delete(victims[0]!.metadata.name!, { gracePeriodSeconds: 0 });
    const bound = await eventually(async () => (await client.pods('default').get('vip')).spec?.nodeName);
    expect(bound).toBe(nominated);
  });

  it('a second replica waits, and takes over when the leader stops (SIGTERM releases the Lease)', async () => {
    const { client } = cluster;
    const standby = await cluster.startScheduler('scheduler-2');
    const leaderGauge = async (url: string) => /leader_election_master_status\{name="keel-scheduler"\} (\d)/.exec(await (await fetch(url)).text())?.[1];
    await new Promise((r) => setTimeout(r, 1000));
    expect(await leaderGauge(standby.metricsUrl)).toBe('0');
    const lease = await client.leases('kube-system').get('kube-scheduler');
    expect(lease.spec?.holderIdentity).toBeTruthy();
    // Stop the first replica (the leader); the standby acquires the released Lease and schedules.
    const first = (await fetch(cluster.metricsUrl).then((r) => r.text())).includes('master_status{name="keel-scheduler"} 1');
    expect(first).toBe(true);
    await cluster.stopFirstScheduler();
    await eventually(async () => ((await leaderGauge(standby.metricsUrl)) === '1' ? true : undefined), 30_000);
    await client.pods('default').create(pod('after-failover', '100m', { tolerations: [{ operator: 'Exists' }] }));
    const placed = await eventually(async () => (await client.pods('default').get('after-failover')).spec?.nodeName);
    expect(placed).toBeTruthy();
    cluster.metricsUrl = standby.metricsUrl;
  }, 60_000);

  it('retries an unschedulable pod when a node that fits it is added', async () => {
    const { client } = cluster;
    await client.pods('default').create(pod('needs-room', '6'));
    await eventually(async () =>
      (await client.events('default').list()).items.find((e) => e.involvedObject.name === 'needs-room' && e.reason === 'FailedScheduling'),
    );
    // Room for it and for the 3-cpu pod still pending since the first test, which is retried too.
    await createNode(node('roomy', '16'));
    const placed = await eventually(async () => (await client.pods('default').get('needs-room')).spec?.nodeName);
    expect(placed).toBe('roomy');
    expect((await client.pods('default').get('too-big')).spec?.nodeName).toBe('roomy');
  });

  it('serves metrics', async () => {
    const text = await (await fetch(cluster.metricsUrl)).text();
    expect(text).toMatch(/scheduler_schedule_attempts_total\{result="scheduled"\} [1-9]/);
    expect(text).toContain('leader_election_master_status{name="keel-scheduler"} 1');
  });
});
