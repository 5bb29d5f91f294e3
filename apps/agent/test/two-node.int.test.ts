// Integration, issue 8: two nodes on one machine. Each node is a host of libs/hosts (a
// keel-… network namespace on the keel-mn0 bridge) running its own containerd and
// keel-agent; the control plane (etcd, apiserver, controller-manager with node IPAM,
// scheduler) runs on the root side, the apiserver listening on the bridge gateway. A
// Deployment of keel/web is pinned to node b, a client pod to node a: from the client pod,
// the Service's ClusterIP answers with every one of node b's pods, and pod IP → pod IP
// works across nodes (both through the agents' routes to each other's pod CIDRs). Then
// everything is torn down and checked to be gone: namespaces, links, iptables rules,
// pod cgroups, processes (the cluster is node-cluster.ts).
// Addresses: hosts 10.242.0.0/24, pods 10.246.0.0/16, Services 10.243.0.0/16 (keel up --ha uses 10.241 and 10.247;
// e2e.int.test.ts, which may run at the same time, 10.242.10.0/24, 10.246.100.0/22 and 10.248.0.0/20).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node, Pod, Service } from '@keel/api';
import type { Client } from '@keel/client';
import { CriClient } from '@keel/cri';
import { killHost, pidsInHost, runInHost, type WorkerNode } from '@keel/hosts';
import { Labels } from '../src/kubelet/cri-config';
import { startNodeCluster, type NodeCluster } from './node-cluster';

const NODES = [
  { name: 'keel-mn-a', address: '10.242.0.11' },
  { name: 'keel-mn-b', address: '10.242.0.12' },
] as const;
const REPLICAS = 3;

let cluster: NodeCluster;
let client: Client;
let workers: WorkerNode[];
let image: (name: string) => string;
let eventually: NodeCluster['eventually'];
let clusterIp = '';
let webNames: string[] = [];

beforeAll(async () => {
  const t0 = Date.now();
  cluster = await startNodeCluster({
    name: 'keel-two-node',
    bridge: 'keel-mn0',
    hostSubnet: '10.242.0.0/24',
    clusterCidr: '10.246.0.0/16',
    serviceCidr: '10.243.0.0/16',
    nodes: NODES,
    store: 'etcd',
  });
  ({ client, workers, image, eventually } = cluster);
  console.log(`two-node cluster up in ${Date.now() - t0} ms`);
}, 150_000);

afterAll(async () => {
  await cluster?.stop();
}, 120_000);

const nodeOf = (name: string) => client.nodes().get(name);

/** Runs a command in the client pod's container on node a, through that node's CRI exec. */
const execInPod = (podName: string, cmd: string[]) => cluster.execInPod(0, podName, cmd);

describe('two nodes, each a network namespace with its own containerd and agent', () => {
  it('registers both nodes Ready, with pod CIDRs from node IPAM and routes to each other', async () => {
    const nodes = await eventually('both nodes Ready with a pod CIDR', async () => {
      const ns = await Promise.all(NODES.map((n) => nodeOf(n.name)));
      const ok = ns.every((n) => n.spec?.podCIDR && n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True');
      return ok ? ns : undefined;
    });
    const [a, b] = nodes as [Node, Node];
    expect(a.status!.addresses).toContainEqual({ type: 'InternalIP', address: NODES[0].address });
    expect(b.status!.addresses).toContainEqual({ type: 'InternalIP', address: NODES[1].address });
    expect(a.spec!.podCIDR).toMatch(/^10\.246\.\d+\.0\/24$/);
    expect(b.spec!.podCIDR).not.toBe(a.spec!.podCIDR);
    // Each agent routes the other node's pod CIDR through the other node's address.
    await eventually('routes between the nodes', async () => {
      const inA = (await runInHost(NODES[0].name, 'ip', ['-4', 'route', 'show'])).stdout;
      const inB = (await runInHost(NODES[1].name, 'ip', ['-4', 'route', 'show'])).stdout;
      return inA.includes(`${b.spec!.podCIDR} via ${NODES[1].address}`) && inB.includes(`${a.spec!.podCIDR} via ${NODES[0].address}`) ? true : undefined;
    });
    // And the root side reaches each node's pods through the bridge.
    for (const [i, n] of [a, b].entries()) await workers[i]!.routeFromRoot(n.spec!.podCIDR!);
  });

  it("answers from a pod on node a through the ClusterIP with every one of node b's pods, and pod IP to pod IP", async () => {
    const web = (podName: string) => ({
      name: 'web',
      image: image('keel/web'),
      // Each pod answers with its own name, so the answers tell the endpoints apart.
      command: ['sh', '-c', 'mkdir -p /tmp/www && echo "$POD_NAME" > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www'],
      env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: podName } } }],
      ports: [{ containerPort: 8080 }],
      readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
    });
    await client.deployments('default').create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: REPLICAS,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { nodeSelector: { 'kubernetes.io/hostname': NODES[1].name }, terminationGracePeriodSeconds: 1, containers: [web('metadata.name')] },
        },
      },
    });
    const svc: Service = await client.services('default').create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    const vip = svc.spec!.clusterIP!;
    expect(vip).toMatch(/^10\.243\./);
    const clientPod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'client', namespace: 'default', labels: { app: 'client' } },
      spec: { nodeSelector: { 'kubernetes.io/hostname': NODES[0].name }, terminationGracePeriodSeconds: 1, containers: [web('metadata.name')] },
    };
    await client.pods('default').create(clientPod);

    const pods = await eventually(`${REPLICAS} web pods Ready on node b and the client Running on node a`, async () => {
      const all = (await client.pods('default').list()).items;
      const webs = all.filter((p) => p.metadata.labels?.['app'] === 'web');
      const ready = webs.filter((p) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True');
      const cl = all.find((p) => p.metadata.name === 'client');
      return ready.length === REPLICAS && cl?.status?.phase === 'Running' ? { webs: ready, client: cl } : undefined;
    }, 90_000);
    expect(pods.webs.map((p) => p.spec!.nodeName)).toEqual(Array(REPLICAS).fill(NODES[1].name));
    expect(pods.client.spec!.nodeName).toBe(NODES[0].name);
    const bCidr = (await nodeOf(NODES[1].name)).spec!.podCIDR!.replace(/\.0\/24$/, '.');
    for (const p of pods.webs) expect(p.status!.podIP!.startsWith(bCidr)).toBe(true);
    const names = pods.webs.map((p) => p.metadata.name!).sort();

    // Pod IP → pod IP across the nodes.
    for (const p of pods.webs) {
      const res = await execInPod('client', ['wget', '-q', '-O', '-', `http://${p.status!.podIP}:8080/`]);
      expect(res).toEqual({ code: 0, out: `${p.metadata.name}\n` });
    }
    // ClusterIP from node a → every pod on node b answers, across a few requests.
    // Node a's proxy may not have the ready endpoints yet when the API says the pods are
    // Ready (the Service is REJECTed until then): poll until it has, then demand a clean round.
    const seen = new Set<string>();
    const round = async () =>
      (await execInPod('client', ['sh', '-c', `for i in 1 2 3 4 5 6 7 8 9 10 11 12; do wget -q -O - http://${vip}/; done`])).out.split('\n').filter(Boolean);
    await eventually('every endpoint answering through the ClusterIP', async () => {
      for (const line of await round()) if (names.includes(line)) seen.add(line);
      return names.every((n) => seen.has(n)) ? true : undefined;
    }, 30_000);
    expect([...seen].sort()).toEqual(names);
    const steady = await round();
    expect(steady).toHaveLength(12);
    for (const line of steady) expect(names).toContain(line);
    clusterIp = vip;
    webNames = names;
    // The root side reaches node b's pods by their IPs (root route through the bridge).
    const body = await (await fetch(`http://${pods.webs[0]!.status!.podIP}:8080/`, { signal: AbortSignal.timeout(3_000) })).text();
    expect(body).toBe(`${pods.webs[0]!.metadata.name}\n`);
    // Node b's containerd and agent run inside its host (its pods in namespaces of their own).
    expect(pidsInHost(NODES[1].name)).toEqual(expect.arrayContaining([workers[1]!.containerd.pid, workers[1]!.agentPid]));
  });
  it("restarts node a after everything in its host was killed: its pod runs again and reaches node b's Service", async () => {
    // Everything running in host a dies at once (containerd, its shims, the agent), as on a
    // crashed machine. The new containerd finds the shims dead and reports the pod's
    // containers exited; the new agent starts the pod again, once.
    const killed = await killHost(NODES[0].name);
    expect(killed).toEqual(expect.arrayContaining([workers[0]!.containerd.pid, workers[0]!.agentPid]));
    expect(pidsInHost(NODES[0].name)).toEqual([]);
    const restarted = await cluster.startNode(0);
    // The old worker's root-side route goes with the new one (stop removes it).
    await restarted.routeFromRoot((await nodeOf(NODES[0].name)).spec!.podCIDR!);
    await eventually('the client pod running again and reaching the ClusterIP', async () => {
      const res = await execInPod('client', ['wget', '-q', '-O', '-', `http://${clusterIp}/`]);
      return res.code === 0 && webNames.includes(res.out.trim()) ? true : undefined;
    }, 60_000);
    const cri = new CriClient(workers[0]!.containerd.endpoint);
    try {
      const ready = await eventually('one ready sandbox of the client pod, its IP in the API', async () => {
        const sandboxes = await cri.listPodSandbox({ label_selector: { [Labels.podName]: 'client' } });
        const up = sandboxes.filter((s) => s.state === 'SANDBOX_READY');
        if (up.length !== 1) return undefined;
        const ip = (await cri.podSandboxStatus(up[0]!.id)).status?.network?.ip;
        const pod = await client.pods('default').get('client');
        return pod.status?.phase === 'Running' && pod.status.podIP === ip ? up : undefined;
      });
      expect(ready).toHaveLength(1);
    } finally {
      cri.close();
    }
  }, 100_000);
});
