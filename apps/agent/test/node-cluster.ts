// A cluster of worker nodes on one machine, for the agent's integration tests (two-node,
// e2e): the control plane on the root side — a store (Debian's etcd or keel-store),
// keel-apiserver listening on the gateway of a keel-… host bridge, keel-controller-manager
// with node IPAM, keel-scheduler — and each node a host of libs/hosts (a keel-… network
// namespace on that bridge) running its own containerd and keel-agent (kubelet and proxy,
// so the proxy's iptables rules stay inside the node's namespace). Images from
// tools/images are pushed to a registry on loopback that the hosts reach through the
// gateway.
// The apps run from a bundle of their sources in a folder of this cluster's own (not
// dist/, which every test file that bundles rewrites), so test files with clusters on
// different addresses can run at the same time.
// stop() tears everything down and asserts nothing is left: namespaces, links, iptables
// rules, root-side routes, pod cgroups, processes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { Client, GrpcTransport } from '@keel/client';
import { CriClient, runExec } from '@keel/cri';
import {
  addEgressGuard,
  addHost,
  ensureBridge,
  hostExists,
  linkExists,
  registryForHosts,
  removeBridge,
  removeHost,
  startWorker,
  vethName,
  type Bridge,
  type WorkerNode,
} from '@keel/hosts';
import { eventually as pollUntil, freeLoopbackPort, freeLoopbackPorts, httpAnswers, startDaemon, type RunningDaemon } from '@keel/process';
import { startEtcdCluster } from '@keel/tools-etcd';
import { buildImages } from '@keel/tools-images';
import { pushImage, startRegistry, type Registry } from '@keel/tools-registry';
import { bundleApp, startStoreCluster } from '@keel/tools-store';
import { Labels } from '../src/kubelet/cri-config';

const root = resolve(import.meta.dirname, '../../..');

export interface NodeClusterOptions {
  /** keel-…: the prefix of the cluster's folders. */
  name: string;
  /** The hosts' bridge on the root side (keel-…, at most 15 characters). */
  bridge: string;
  hostSubnet: string;
  /** Node IPAM hands each node a /24 of it. */
  clusterCidr: string;
  serviceCidr: string;
  /** Host (netns) names, keel-…, and their addresses in hostSubnet. */
  nodes: readonly { name: string; address: string }[];
  store: 'etcd' | 'keel-store';
}

export interface NodeCluster {
  client: Client;
  bridge: Bridge;
  /** By node index; startNode replaces an entry. */
  workers: WorkerNode[];
  /** The registry reference of an image of tools/images (keel/web, keel/pause, …). */
  image(name: string): string;
  /** Starts node i (again, after killHost: a new containerd and agent in the same host). */
  startNode(i: number): Promise<WorkerNode>;
  /** Polls `check` until it answers something other than undefined (errors count as not yet). */
  eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  /** Runs a command in the running container of a pod on node i, through that node's CRI exec. */
  execInPod(i: number, podName: string, cmd: string[]): Promise<{ code: number; out: string }>;
  /** Every PID this cluster started (control plane, containerds, agents). */
  startedPids: number[];
  /** Tears everything down, then asserts that nothing is left. */
  stop(): Promise<void>;
}

function tail(file: string, lines = 12): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

/** Bundles the apps' sources, each to <dir>/<app>/main.js (npm packages resolve from the repo's node_modules). */
async function bundleApps(dir: string, apps: string[]): Promise<Record<string, string>> {
  const scripts = await Promise.all(apps.map((app) => bundleApp(app, join(dir, app, 'main.js'))));
  return Object.fromEntries(apps.map((app, i) => [app, scripts[i]!]));
}

export async function startNodeCluster(o: NodeClusterOptions): Promise<NodeCluster> {
  const work = mkdtempSync(join(tmpdir(), `${o.name}-`));
  // Under the repo, so the bundles find node_modules and protos/ by walking up.
  mkdirSync(join(root, 'tmp'), { recursive: true });
  const bundleDir = mkdtempSync(join(root, 'tmp', `${o.name}-bundle-`));
  let registry: Registry | undefined;
  let storeStop: (() => Promise<void>) | undefined;
  const daemons: RunningDaemon[] = [];
  let bridge: Bridge | undefined;
  const workers: WorkerNode[] = [];
  const startedPids: number[] = [];
  const cgroupParents: string[] = [];
  const podCidrs = new Set<string>();
  let client: Client | undefined;

  const eventually = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> =>
    pollUntil(what, check, { timeoutMs, intervalMs: 200, details: () => workers.map((w) => `--- ${w.name}\n${tail(w.agentLog)}`).join('\n') });

  const stop = async () => {
    const problems: string[] = [];
    // The pod CIDRs node IPAM handed out, to check their root-side routes are gone.
    if (client) {
      try {
        for (const n of (await client.nodes().list()).items) if (n.spec?.podCIDR) podCidrs.add(n.spec.podCIDR);
      } catch (err) {
        problems.push(`listing nodes: ${(err as Error).message}`);
      }
      client.close();
    }
    for (const w of workers) {
      const report = await w.stop({ removeDir: !process.env['KEEL_DEBUG'] }).catch((err: Error) => ({ removed: [], problems: [err.message] }));
      problems.push(...report.problems);
    }
    // Stopping the workers removed their root-side routes (before the bridge takes any with it).
    const rootRoutes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
    for (const n of o.nodes) await removeHost(n.name, { kill: true }).catch((err: Error) => problems.push(err.message));
    if (bridge) await removeBridge(o.bridge).catch((err: Error) => problems.push(err.message));
    for (const d of daemons.reverse()) await d.stop();
    await storeStop?.();
    await registry?.stop();
    if (process.env['KEEL_DEBUG']) execFileSync('cp', ['-r', work, `/tmp/${o.name}-debug`]);
    rmSync(work, { recursive: true, force: true });
    rmSync(bundleDir, { recursive: true, force: true });

    expect(problems).toEqual([]);
    const routeTo = (cidr: string) => new RegExp(`^${cidr.replace(/\./g, '\\.')}\\b`, 'm');
    for (const cidr of podCidrs) expect(rootRoutes).not.toMatch(routeTo(cidr));
    // Nothing is left: namespaces, links, rules, routes, pod cgroups, processes.
    for (const n of o.nodes) {
      expect(hostExists(n.name)).toBe(false);
      expect(await linkExists(vethName(n.name))).toBe(false);
    }
    expect(await linkExists(o.bridge)).toBe(false);
    expect(execFileSync('iptables-save', { encoding: 'utf8' })).not.toContain(o.bridge);
    const routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
    expect(routes).not.toMatch(routeTo(o.hostSubnet));
    for (const cidr of podCidrs) expect(routes).not.toMatch(routeTo(cidr));
    for (const n of o.nodes) expect(routes).not.toContain(`via ${n.address} `);
    for (const parent of cgroupParents) expect(existsSync(join('/sys/fs/cgroup/memory', parent))).toBe(false);
    expect(startedPids.filter(alive)).toEqual([]);
  };

  try {
    const [scripts, images] = await Promise.all([
      bundleApps(bundleDir, ['apiserver', 'agent', 'controller-manager', 'scheduler']),
      buildImages(join(work, 'images')),
    ]);
    registry = await startRegistry({ dir: join(work, 'keel-registry'), addr: `127.0.0.1:${await freeLoopbackPort()}` });
    for (const i of images) await pushImage(i.layoutDir, i.ref, registry.addr);
    const registryAddr = registry.addr;
    const image = (name: string) => {
      const found = images.find((i) => i.name === name);
      if (!found) throw new Error(`no image ${name} in tools/images`);
      return `${registryAddr}/${found.ref}`;
    };

    // The hosts' bridge; nothing from the hosts or their pods leaves through a non-keel link.
    bridge = await ensureBridge({ name: o.bridge, subnet: o.hostSubnet });
    await addEgressGuard(o.bridge, o.clusterCidr);
    const mirror = await registryForHosts(bridge, registry.addr);

    let storeEndpoints: string[];
    if (o.store === 'etcd') {
      const etcd = await startEtcdCluster({ dir: join(work, 'keel-etcd'), members: 1 });
      storeStop = () => etcd.stop({ removeData: true });
      storeEndpoints = etcd.endpoints;
    } else {
      const store = await startStoreCluster({ members: 1 });
      storeStop = () => store.stop();
      storeEndpoints = store.endpoints;
      startedPids.push(...store.members.map((m) => Number(readFileSync(m.pidFile, 'utf8').trim())));
    }

    // The control plane on the root side; the apiserver listens on the bridge gateway, where
    // the nodes reach it (and the root side too: the gateway is one of its own addresses).
    const [http, grpc, cmHealth, schedHealth] = (await freeLoopbackPorts(4)) as [number, number, number, number];
    const gw = bridge.gateway;
    daemons.push(
      await startDaemon({
        argv: [
          process.execPath, scripts['apiserver']!,
          '--etcd-servers', storeEndpoints.join(','),
          '--bind-address', gw,
          '--insecure-port', String(http),
          '--grpc-port', String(grpc),
          '--service-cluster-ip-range', o.serviceCidr,
        ],
        pidFile: join(work, 'keel-cp', 'apiserver.pid'),
        logFile: join(work, 'keel-cp', 'apiserver.log'),
        ready: () => httpAnswers(`http://${gw}:${http}/healthz`),
      }),
    );
    const grpcAddress = `${gw}:${grpc}`;
    client = new Client(new GrpcTransport({ address: grpcAddress, callTimeoutMs: 5_000 }));
    daemons.push(
      ...(await Promise.all([
        startDaemon({
          argv: [
            process.execPath, scripts['controller-manager']!,
            '--apiserver', grpcAddress,
            '--apiserver-url', `http://${gw}:${http}`,
            '--cluster-cidr', o.clusterCidr,
            '--healthz-port', String(cmHealth),
          ],
          pidFile: join(work, 'keel-cp', 'controller-manager.pid'),
          logFile: join(work, 'keel-cp', 'controller-manager.log'),
          ready: () => httpAnswers(`http://127.0.0.1:${cmHealth}/healthz`),
        }),
        startDaemon({
          argv: [process.execPath, scripts['scheduler']!, '--grpc-server', grpcAddress, '--secure-port', String(schedHealth)],
          pidFile: join(work, 'keel-cp', 'scheduler.pid'),
          logFile: join(work, 'keel-cp', 'scheduler.log'),
          ready: () => httpAnswers(`http://127.0.0.1:${schedHealth}/healthz`),
        }),
      ])),
    );
    startedPids.push(...daemons.map((d) => d.pid));

    const startNode = async (i: number) => {
      const n = o.nodes[i]!;
      const host = await addHost({ name: n.name, bridge: bridge!, address: n.address });
      const worker = await startWorker({
        host,
        dir: join(work, n.name),
        sandboxImage: image('keel/pause'),
        registries: [mirror],
        clusterCidr: o.clusterCidr,
        serviceCidr: o.serviceCidr,
        agent: { command: [process.execPath, scripts['agent']!], args: ['--apiserver', grpcAddress] },
      });
      workers[i] = worker;
      startedPids.push(worker.containerd.pid, worker.agentPid);
      if (!cgroupParents.includes(worker.containerd.cgroupParent)) cgroupParents.push(worker.containerd.cgroupParent);
      return worker;
    };
    for (const i of o.nodes.keys()) await startNode(i);

    const execInPod = async (i: number, podName: string, cmd: string[]) => {
      const cri = new CriClient(workers[i]!.containerd.endpoint);
      try {
        const containers = await cri.listContainers({ label_selector: { [Labels.podName]: podName } });
        const container = containers.find((c) => c.state === 'CONTAINER_RUNNING');
        if (!container) throw new Error(`no running container of pod ${podName} on node ${o.nodes[i]!.name}`);
        const url = await cri.exec({ container_id: container.id, cmd, stdout: true, stderr: true });
        const res = await runExec(url);
        return { code: res.exitCode, out: res.stdout.toString() + res.stderr.toString() };
      } finally {
        cri.close();
      }
    };

    return { client, bridge, workers, image, startNode, eventually, execInPod, startedPids, stop };
  } catch (err) {
    // A cluster that did not come up is still torn down; the setup error is the one to report.
    await stop().catch(() => undefined);
    throw err;
  }
}
