// End to end, issue 8's "Done when" in one file, against real containerd, real iptables and
// the real control plane (keel-store, keel-apiserver, keel-controller-manager,
// keel-scheduler on the root side; node-cluster.ts) with ONE worker node: a keel-… network
// namespace running its own containerd and keel-agent (kubelet and proxy, its iptables
// rules inside the namespace).
//  - A Deployment of 3 keel/web pods reaches Running with pod IPs; its Service's ClusterIP
//    answers from the node's host network (curl in the node's namespace, not in a pod) with
//    every one of the 3 pods; scaled to 5, 5 pods answer; back to 3, only the 3 left do.
//  - A container's process killed (SIGKILL to its PID, found through CRI) is restarted
//    (restartCount 1, exit 137) and the pod is Ready again; a failing liveness probe
//    restarts its container; a failing readiness probe takes the pod out of the
//    EndpointSlice's ready endpoints and of the Endpoints' addresses, and the ClusterIP
//    stops answering from it across many requests — until the probe passes again.
//  - A Job that fails is retried up to its backoffLimit, then Failed with
//    BackoffLimitExceeded; a Job that succeeds is Complete. Both are started early and
//    run alongside the other cases (the controller waits 10 s before the retry).
// Every condition is polled for; nothing sleeps for correctness. afterAll tears everything
// down and checks that nothing is left (namespace, links, rules, routes, cgroups, processes).
// Addresses (apart from two-node.int.test.ts's, so both can run at once): hosts
// 10.242.10.0/24, pods 10.246.100.0/22, Services 10.248.0.0/20.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment, Job, Pod, Service } from '@keel/api';
import type { Client } from '@keel/client';
import { CriClient } from '@keel/cri';
import { containsAddress, runInHost } from '@keel/hosts';
import { Labels } from '../src/kubelet/cri-config';
import { startNodeCluster, type NodeCluster } from './node-cluster';

const NODE = { name: 'keel-e2e-a', address: '10.242.10.11' } as const;
const CLUSTER_CIDR = '10.246.100.0/22';
const SERVICE_CIDR = '10.248.0.0/20';
const NS = 'default';

let cluster: NodeCluster;
let client: Client;
let eventually: NodeCluster['eventually'];
let vip = '';
let podCidr = '';
/** The 3 web pods left after scaling back: one to kill, one to fail liveness, one to fail readiness. */
let web: string[] = [];

beforeAll(async () => {
  const t0 = Date.now();
  cluster = await startNodeCluster({
    name: 'keel-e2e',
    bridge: 'keel-e2e0',
    hostSubnet: '10.242.10.0/24',
    clusterCidr: CLUSTER_CIDR,
    serviceCidr: SERVICE_CIDR,
    nodes: [NODE],
    store: 'keel-store',
  });
  ({ client, eventually } = cluster);
  console.log(`e2e cluster up in ${Date.now() - t0} ms`);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
}, 120_000);

const isReady = (p: Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
const webContainer = (p: Pod) => p.status?.containerStatuses?.find((c) => c.name === 'web');

/** The Deployment's pods that are not being deleted. */
async function webPods(): Promise<Pod[]> {
  const pods = (await client.pods(NS).list({ labelSelector: 'app=web' })).items;
  return pods.filter((p) => !p.metadata.deletionTimestamp);
}

/**
 * `n` requests to the ClusterIP from the node's host network namespace (not from a pod),
 * each a new connection, so each is a new pick among the endpoints; one line per answer
 * (the pod's name), FAIL for a request that got none.
 */
async function hits(n: number): Promise<string[]> {
  const script = `for i in $(seq ${n}); do curl -s -m 2 http://${vip}/ || echo FAIL; done`;
  const res = await runInHost(NODE.name, 'sh', ['-c', script], { timeoutMs: n * 3_000 });
  return res.stdout.split('\n').filter(Boolean);
}

/** Waits until requests through the ClusterIP have been answered by exactly `names` (and no one else). */
async function answeredByExactly(names: string[], what: string): Promise<void> {
  const want = [...names].sort();
  let seen = new Set<string>();
  await eventually(what, async () => {
    const lines = await hits(20);
    // Anyone else answering (or no answer) starts the count again: the rules have not settled.
    if (lines.some((l) => !want.includes(l))) seen = new Set();
    else for (const l of lines) seen.add(l);
    return want.every((n) => seen.has(n)) ? true : undefined;
  }, 40_000);
  // Settled: many more requests, every one answered, and only by them.
  const lines = await hits(30);
  expect(new Set(lines)).toEqual(new Set(lines.filter((l) => want.includes(l))));
  expect(lines).toHaveLength(30);
}

async function restartCountOf(name: string): Promise<number | undefined> {
  return webContainer(await client.pods(NS).get(name))?.restartCount;
}

/** Waits for the pod to be Ready again with `restarts` restarts; answers it. */
async function readyAfterRestarts(name: string, restarts: number, what: string): Promise<Pod> {
  return eventually(what, async () => {
    const p = await client.pods(NS).get(name);
    return webContainer(p)?.restartCount === restarts && isReady(p) ? p : undefined;
  }, 40_000);
}

function job(name: string, image: string, backoffLimit: number): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: NS },
    spec: {
      backoffLimit,
      template: {
        metadata: { labels: { e2e: name } },
        spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: cluster.image(image) }] },
      },
    },
  };
}

const jobPods = async (name: string) => (await client.pods(NS).list({ labelSelector: `e2e=${name}` })).items;

describe('e2e: one node in a network namespace, real containerd and iptables, the whole control plane on keel-store', () => {
  it('registers the node Ready with a pod CIDR from node IPAM', async () => {
    const node = await eventually('the node Ready with a pod CIDR', async () => {
      const n = await client.nodes().get(NODE.name);
      return n.spec?.podCIDR && n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? n : undefined;
    });
    expect(node.status!.addresses).toContainEqual({ type: 'InternalIP', address: NODE.address });
    podCidr = node.spec!.podCIDR!;
    expect(podCidr).toBe('10.246.100.0/24');
  });

  it('starts a Job that fails and one that succeeds (checked at the end: they run alongside)', async () => {
    await client.jobs(NS).create(job('fails', 'keel/job-fail', 1));
    await client.jobs(NS).create(job('succeeds', 'keel/job-ok', 1));
  });

  it('runs a Deployment of 3 web pods with pod IPs; the ClusterIP answers from the host network with all 3', async () => {
    const deployment: Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'web',
                image: cluster.image('keel/web'),
                // Each pod answers with its own name; /ready and /healthz are files the
                // test removes to fail the probes (httpd answers 404 for a missing file).
                command: [
                  'sh',
                  '-c',
                  'mkdir -p /tmp/www && echo "$POD_NAME" > /tmp/www/index.html && touch /tmp/www/ready /tmp/www/healthz && exec httpd -f -p 8080 -h /tmp/www',
                ],
                env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
                ports: [{ containerPort: 8080 }],
                readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 1 },
                livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 3 },
              },
            ],
          },
        },
      },
    };
    await client.deployments(NS).create(deployment);
    const svc: Service = await client.services(NS).create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: NS },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    vip = svc.spec!.clusterIP!;
    expect(containsAddress(SERVICE_CIDR, vip)).toBe(true);

    const pods = await eventually('3 web pods Running and Ready', async () => {
      const ps = await webPods();
      return ps.length === 3 && ps.every((p) => p.status?.phase === 'Running' && isReady(p)) ? ps : undefined;
    });
    const ips = pods.map((p) => p.status!.podIP!);
    for (const p of pods) {
      expect(p.spec!.nodeName).toBe(NODE.name);
      expect(containsAddress(podCidr, p.status!.podIP!)).toBe(true);
    }
    expect(new Set(ips).size).toBe(3);
    await answeredByExactly(pods.map((p) => p.metadata.name!), 'the ClusterIP answered by each of the 3 pods');
  });

  it('scales to 5 (5 pods answer) and back to 3 (only the 3 left answer)', async () => {
    await client.deployments(NS).patch('web', 'merge', { spec: { replicas: 5 } });
    const five = await eventually('5 web pods Ready', async () => {
      const ps = await webPods();
      return ps.length === 5 && ps.every(isReady) ? ps : undefined;
    });
    await answeredByExactly(five.map((p) => p.metadata.name!), 'the ClusterIP answered by each of the 5 pods');

    await client.deployments(NS).patch('web', 'merge', { spec: { replicas: 3 } });
    const three = await eventually('3 web pods left, the other 2 gone', async () => {
      const all = (await client.pods(NS).list({ labelSelector: 'app=web' })).items;
      return all.length === 3 && all.every(isReady) ? all : undefined;
    });
    const names = three.map((p) => p.metadata.name!);
    expect(five.map((p) => p.metadata.name!)).toEqual(expect.arrayContaining(names));
    await answeredByExactly(names, 'the ClusterIP answered by the 3 pods left only');
    web = [...names].sort();
  });

  it("restarts a container whose process was killed (restartCount 1) and the pod is Ready again", async () => {
    const name = web[0]!;
    expect(await restartCountOf(name)).toBe(0);
    // The container's process (httpd, its PID 1) as the host sees it, from CRI's verbose status.
    const cri = new CriClient(cluster.workers[0]!.containerd.endpoint);
    let pid: number;
    let containerId: string;
    try {
      const running = (await cri.listContainers({ label_selector: { [Labels.podName]: name } })).filter((c) => c.state === 'CONTAINER_RUNNING');
      expect(running).toHaveLength(1);
      containerId = running[0]!.id;
      const info = JSON.parse((await cri.containerStatus(containerId, true)).info['info'] ?? '{}') as { pid?: number };
      pid = info.pid ?? 0;
    } finally {
      cri.close();
    }
    expect(pid).toBeGreaterThan(1);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe('httpd');
    // Its own PID namespace (the agent asks CRI for one per container): not ours.
    expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^NSpid:\s+\d+\s+1$/m);
    process.kill(pid, 'SIGKILL');

    const pod = await readyAfterRestarts(name, 1, `${name} restarted once and Ready`);
    const status = webContainer(pod)!;
    expect(status.lastState?.terminated?.exitCode).toBe(137);
    expect(status.containerID).not.toContain(containerId);
    expect(status.state?.running).toBeDefined();
    await answeredByExactly(web, 'the ClusterIP answered by all 3 pods again');
  });

  it('restarts a container whose liveness probe fails', async () => {
    const name = web[1]!;
    expect(await restartCountOf(name)).toBe(0);
    expect(await cluster.execInPod(0, name, ['rm', '/tmp/www/healthz'])).toEqual({ code: 0, out: '' });
    await readyAfterRestarts(name, 1, `${name} restarted by its liveness probe and Ready`);
    // It was the probe that restarted it (the Killing event), not a crash.
    const events = (await client.events(NS).list()).items.filter((e) => e.involvedObject.name === name);
    expect(events.map((e) => `${e.reason}: ${e.message}`)).toContainEqual(expect.stringMatching(/^Killing: .*failed liveness probe/));
    // The new container has its file again: it stays up.
    expect((await cluster.execInPod(0, name, ['ls', '/tmp/www/healthz'])).code).toBe(0);
  });

  it("takes a pod whose readiness probe fails out of the Service's endpoints, and the ClusterIP stops reaching it; back when it passes", async () => {
    const name = web[2]!;
    const others = web.filter((n) => n !== name);
    const ip = (await client.pods(NS).get(name)).status!.podIP!;
    const endpointState = async () => {
      const slices = (await client.endpointSlices(NS).list({ labelSelector: 'kubernetes.io/service-name=web' })).items;
      const inSlice = slices.flatMap((s) => s.endpoints ?? []).find((e) => e.addresses.includes(ip));
      const ep = await client.endpoints(NS).get('web');
      const addresses = ep.subsets?.flatMap((s) => s.addresses ?? []).map((a) => a.ip) ?? [];
      const notReady = ep.subsets?.flatMap((s) => s.notReadyAddresses ?? []).map((a) => a.ip) ?? [];
      return { sliceReady: inSlice?.conditions?.ready, ready: addresses.includes(ip), notReady: notReady.includes(ip), addresses: addresses.length };
    };
    expect(await endpointState()).toEqual({ sliceReady: true, ready: true, notReady: false, addresses: 3 });

    expect(await cluster.execInPod(0, name, ['rm', '/tmp/www/ready'])).toEqual({ code: 0, out: '' });
    await eventually(`${name} not Ready`, async () => (isReady(await client.pods(NS).get(name)) ? undefined : true), 30_000);
    await eventually(`${name} out of the ready endpoints`, async () => {
      const s = await endpointState();
      return s.sliceReady === false && !s.ready && s.notReady && s.addresses === 2 ? true : undefined;
    }, 30_000);
    // Its container keeps running: only readiness changed.
    expect(await restartCountOf(name)).toBe(0);
    await answeredByExactly(others, `the ClusterIP answered by the 2 ready pods, never by ${name}`);
    // Yet the pod itself still answers on its own IP (from the node): only the Service left it.
    const direct = await runInHost(NODE.name, 'curl', ['-s', '-m', '2', `http://${ip}:8080/`]);
    expect(direct.stdout.trim()).toBe(name);

    expect(await cluster.execInPod(0, name, ['touch', '/tmp/www/ready'])).toEqual({ code: 0, out: '' });
    await eventually(`${name} back in the ready endpoints`, async () => {
      const s = await endpointState();
      return s.sliceReady === true && s.ready && !s.notReady && s.addresses === 3 ? true : undefined;
    }, 30_000);
    await answeredByExactly(web, 'the ClusterIP answered by all 3 pods again');
  });

  it('fails the Job that fails after backoffLimit retries (BackoffLimitExceeded) and completes the one that succeeds', async () => {
    const done = await eventually('both Jobs finished', async () => {
      const [fails, succeeds] = await Promise.all([client.jobs(NS).get('fails'), client.jobs(NS).get('succeeds')]);
      const finished = (j: Job) => j.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
      return finished(fails) && finished(succeeds) ? { fails, succeeds } : undefined;
    }, 60_000);

    // backoffLimit 1: the first pod and one retry, both Failed; then no more pods.
    expect(done.fails.status!.conditions).toContainEqual(expect.objectContaining({ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }));
    expect(done.fails.status!.failed).toBe(2);
    expect(done.fails.status!.succeeded ?? 0).toBe(0);
    const failed = await jobPods('fails');
    expect(failed.map((p) => p.status?.phase)).toEqual(['Failed', 'Failed']);
    for (const p of failed) expect(p.status!.containerStatuses![0]!.state?.terminated?.exitCode).toBe(1);

    expect(done.succeeds.status!.conditions).toContainEqual(expect.objectContaining({ type: 'Complete', status: 'True' }));
    expect(done.succeeds.status!.succeeded).toBe(1);
    expect(done.succeeds.status!.failed ?? 0).toBe(0);
    const succeeded = await jobPods('succeeds');
    expect(succeeded.map((p) => p.status?.phase)).toEqual(['Succeeded']);
  });
});
