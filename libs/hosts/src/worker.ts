// A worker node in a host: the node's containerd (libs/containerd) and keel-agent, both
// inside the host's network namespace, with the host's address as the node IP (the CRI
// stream server, the kubelet's logs endpoint and the proxy's NodePorts listen there). The
// agent's command and its connection flags (apiserver address, credentials) come from the
// caller — a test runs the built dist/apps/agent/main.js against an insecure apiserver,
// `keel up --ha` its own bin with certificates — and this file adds the node flags.
// Stopping undoes everything in order: the agent by its PID, containerd's teardown (pods
// through CRI, cgroups, CNI rules, the pod bridge), the agent's --cleanup (proxy chains,
// service device, routes, sysctls in the host), and the root-side routes it added.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join, resolve, basename } from 'node:path';
import { nodePaths, startContainerd, teardownNode, type RunningContainerd, type TeardownReport } from '@keel/containerd';
import { httpAnswers, stopDaemon } from '@keel/process';
import { cidrsOverlap, nthSubnet, parseCidr } from './cidr';
import type { Bridge } from './commands';
import { run } from './exec';
import { addRoute, publishLoopbackPort, removeRoute, startInHost, type Host } from './hosts';
import { assertKeelName } from './names';

/** The pod bridge inside every worker host (each host has its own links, so one name fits all). */
export const WORKER_POD_BRIDGE = 'keel-cni0';

export interface WorkerOptions {
  /** The host to run in (addHost); its address becomes the node IP. */
  host: Host;
  /** The node's folder, named keel-… with a name unique on this machine (the CNI network is named after it). */
  dir: string;
  /** The Node's name (default: the host's name). */
  nodeName?: string;
  /** The pause image every sandbox runs. */
  sandboxImage: string;
  /** Registry mirrors as containerd inside the host reaches them (see registryForHosts). */
  registries: { host: string; endpoint: string }[];
  /** All pods of the cluster (the proxy masquerades traffic from outside it). */
  clusterCidr: string;
  /** The Services CIDR (the apiserver's --service-cluster-ip-range). */
  serviceCidr: string;
  /**
   * The node's pod CIDR when given (--pod-cidr); otherwise the agent waits for the
   * controller-manager's node IPAM to set spec.podCIDR and rewrites the CNI range itself.
   */
  podCidr?: string;
  agent: {
    /** How to run keel-agent, e.g. ['node', '/…/dist/apps/agent/main.js']. */
    command: string[];
    /** Connection flags: --apiserver, --certificate-authority, --client-certificate, … */
    args: string[];
    /** The kubelet's logs endpoint port on the node IP (10250). */
    port?: number;
    /**
     * When the args serve the node endpoint over HTTPS (--tls-cert-file): the CA of its
     * serving certificate, to probe /healthz (open without a client certificate) over https.
     */
    healthCaFile?: string;
    readyTimeoutMs?: number;
  };
}

export interface WorkerNode {
  name: string;
  host: Host;
  /** The node IP (the host's address). */
  ip: string;
  containerd: RunningContainerd;
  agentPid: number;
  agentLog: string;
  /** Routes the pod CIDR to this node from the root side (host → pod IPs); removed at stop. */
  routeFromRoot(podCidr: string): Promise<void>;
  /** Stops the agent, tears the node down, and (with removeDir) deletes its folder. */
  stop(opts?: { removeDir?: boolean }): Promise<TeardownReport>;
}

/** The flags that make keel-agent a node of this host (pure; for tests and for callers that print them). */
export function workerAgentFlags(o: {
  nodeName: string;
  nodeIp: string;
  criEndpoint: string;
  rootDir: string;
  cniConf: string;
  cgroupParent: string;
  clusterCidr: string;
  serviceCidr: string;
  podCidr?: string;
  port: number;
}): string[] {
  parseCidr(o.clusterCidr);
  parseCidr(o.serviceCidr);
  return [
    '--container-runtime-endpoint', o.criEndpoint,
    '--root-dir', o.rootDir,
    '--node-name', o.nodeName,
    '--node-ip', o.nodeIp,
    '--port', String(o.port),
    '--cni-conf', o.cniConf,
    '--cgroup-parent', o.cgroupParent,
    '--cluster-cidr', o.clusterCidr,
    '--service-cidr', o.serviceCidr,
    '--pod-bridge', WORKER_POD_BRIDGE,
    ...(o.podCidr ? ['--pod-cidr', o.podCidr] : []),
  ];
}

/**
 * Makes a registry on the root side's loopback (127.0.0.1:PORT) reachable from the hosts
 * at the bridge gateway, and answers the mirror entry for WorkerOptions.registries: images
 * keep their 127.0.0.1:PORT/… names, containerd fetches them through the gateway.
 */
export async function registryForHosts(bridge: Bridge, registryAddr: string): Promise<{ host: string; endpoint: string }> {
  const m = /^127\.0\.0\.1:(\d+)$/.exec(registryAddr);
  if (!m) throw new Error(`registry address must be 127.0.0.1:PORT, got ${registryAddr}`);
  await publishLoopbackPort(bridge, Number(m[1]));
  return { host: registryAddr, endpoint: `http://${bridge.gateway}:${m[1]}` };
}

/** The bridge plugin's subnet in a conflist, if any. */
export function conflistSubnet(text: string): string | undefined {
  try {
    const list = JSON.parse(text) as { plugins?: { type?: string; ipam?: { ranges?: { subnet?: string }[][] } }[] };
    return list.plugins?.find((p) => p.type === 'bridge')?.ipam?.ranges?.[0]?.[0]?.subnet;
  } catch {
    return undefined;
  }
}

/**
 * The CNI range containerd starts with when no pod CIDR is given. The agent replaces it
 * with spec.podCIDR before its first pod (it starts none until it has one), so it only has
 * to pass the launcher's overlap check: the range this node had before (a restart: the
 * agent wrote spec.podCIDR into the conflist), else the first /24 of the cluster CIDR no
 * route in the host uses (a host whose agent was killed keeps its routes to other nodes).
 */
async function initialPodCidr(host: string, dir: string, clusterCidr: string): Promise<string> {
  const conflist = nodePaths(dir).cniConflist;
  const previous = existsSync(conflist) ? conflistSubnet(readFileSync(conflist, 'utf8')) : undefined;
  if (previous) return previous;
  const routes = (await run({ cmd: 'ip', args: ['-4', 'route', 'show'], netns: host })).stdout;
  const used = routes.split('\n').map((l) => l.split(' ')[0] ?? '').filter((d) => d.includes('/'));
  const count = 2 ** Math.max(0, 24 - parseCidr(clusterCidr).prefix);
  for (let i = 0; i < count; i++) {
    const cidr = nthSubnet(clusterCidr, 24, i);
    if (!used.some((d) => cidrsOverlap(d, cidr))) return cidr;
  }
  throw new Error(`no /24 of the cluster CIDR ${clusterCidr} is free of routes in ${host}`);
}

/** Whether an https URL answers 200, trusting only the CA in caFile (global fetch cannot take a CA). */
function httpsHealthy(url: string, caFile: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsRequest(url, { ca: readFileSync(caFile), timeout: 1000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** Starts the node's containerd and keel-agent inside the host; waits until the agent serves. */
export async function startWorker(opts: WorkerOptions): Promise<WorkerNode> {
  const dir = resolve(opts.dir);
  assertKeelName('worker folder', basename(dir));
  const name = opts.nodeName ?? opts.host.name;
  const ip = opts.host.address;
  const port = opts.agent.port ?? 10250;
  mkdirSync(dir, { recursive: true });
  const initialCidr = opts.podCidr ?? (await initialPodCidr(opts.host.name, dir, opts.clusterCidr));
  const containerd = await startContainerd({
    dir,
    netns: opts.host.name,
    sandboxImage: opts.sandboxImage,
    podCidr: initialCidr,
    bridge: WORKER_POD_BRIDGE,
    streamAddress: ip,
    registries: opts.registries,
  });

  const agentDir = join(dir, 'keel-agent');
  const agentPidFile = join(dir, 'agent.pid');
  const agentLog = join(dir, 'agent.log');
  const rootRoutes: { dst: string; via: string; dev: string }[] = [];
  const cleanupAgent = async (report: TeardownReport) => {
    // The proxy leaves its rules on a normal stop (so an agent restart keeps traffic
    // flowing); a node going away takes them too.
    const res = await run({ cmd: opts.agent.command[0]!, args: [...opts.agent.command.slice(1), '--cleanup', '--root-dir', agentDir], netns: opts.host.name });
    if (res.code === 0) report.removed.push('agent --cleanup');
    else report.problems.push(`agent --cleanup: ${(res.stderr || res.stdout).trim().split('\n').slice(-3).join(' ')}`);
  };

  let agentPid: number;
  try {
    const flags = workerAgentFlags({
      nodeName: name,
      nodeIp: ip,
      criEndpoint: containerd.endpoint,
      rootDir: agentDir,
      cniConf: containerd.paths.cniConflist,
      cgroupParent: containerd.cgroupParent,
      clusterCidr: opts.clusterCidr,
      serviceCidr: opts.serviceCidr,
      podCidr: opts.podCidr,
      port,
    });
    const agent = await startInHost(opts.host.name, {
      argv: [...(opts.agent.command as [string, ...string[]]), ...flags, ...opts.agent.args],
      pidFile: agentPidFile,
      logFile: agentLog,
      ready: () => (opts.agent.healthCaFile ? httpsHealthy(`https://${ip}:${port}/healthz`, opts.agent.healthCaFile) : httpAnswers(`http://${ip}:${port}/healthz`)),
      readyTimeoutMs: opts.agent.readyTimeoutMs ?? 30_000,
    });
    agentPid = agent.pid;
  } catch (err) {
    await stopDaemon(agentPidFile, 2_000).catch(() => undefined);
    await teardownNode(dir);
    throw err;
  }

  return {
    name,
    host: opts.host,
    ip,
    containerd,
    agentPid,
    agentLog,
    async routeFromRoot(podCidr: string) {
      const route = { dst: podCidr, via: ip, dev: opts.host.bridge.name };
      await addRoute(route);
      if (!rootRoutes.some((r) => r.dst === podCidr)) rootRoutes.push(route);
    },
    async stop(stopOpts = {}) {
      await stopDaemon(agentPidFile);
      const report = await teardownNode(dir);
      await cleanupAgent(report);
      for (const r of rootRoutes.splice(0)) if (await removeRoute(r)) report.removed.push(`root route ${r.dst} via ${r.via}`);
      if (stopOpts.removeDir) rmSync(dir, { recursive: true, force: true });
      return report;
    },
  };
}
