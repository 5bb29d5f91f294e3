// `keel up --ha` and `keel down --ha`: the hosts of layout.ts made real. The hosts are
// network namespaces on one keel-… bridge (libs/hosts); each control-plane host runs a
// keel-store member, a keel-apiserver, and a leader-elected keel-controller-manager and
// keel-scheduler; each worker host runs its own containerd and keel-agent. Every process
// is started inside its host with its PID recorded under <dir>/<host>/run, so a host can be
// killed whole (the demo does) and `up` run again starts only what is missing. The folder
// also holds the PKI, the admin kubeconfig and ha.json, which says where everything is for
// tools (the HA demo) that must not import this app.
import { runningPid, teardownNode } from '@keel/containerd';
import { EtcdClient } from '@keel/etcd-client';
import {
  addEgressGuard,
  addHost,
  ensureBridge,
  hostExists,
  killHost,
  registryForHosts,
  removeBridge,
  removeHost,
  runInHost,
  startInHost,
  startWorker,
  stopInHost,
  type Bridge,
  type Host,
} from '@keel/hosts';
import { clusterIdentities, createClusterPki, kubeconfig, KUBELET_CLIENT, type ClusterPki } from '@keel/pki';
import { httpAnswers, runningDaemon } from '@keel/process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpsAnswers } from '../local/connection';
import {
  CONTROL_PLANE_PARTS,
  HA_CLUSTER_CIDR,
  PORTS,
  SERVICE_CIDR,
  allHosts,
  apiserverAddresses,
  apiserverArgs,
  apiserverUrl,
  controllerManagerArgs,
  schedulerArgs,
  storeArgs,
  storeEndpoints,
  workerAgentArgs,
  type HaHost,
  type HaLayout,
  type PartName,
  type PkiFiles,
} from './layout';

export interface HaClusterOptions {
  /** The cluster folder, named keel-…. */
  dir: string;
  /** dist/apps: where the command bundles are. */
  bundles: string;
  layout: HaLayout;
  /** The local registry on the machine's loopback (host:port); published to the hosts. */
  registry: string;
}

export interface PartReport {
  host: string;
  part: PartName | 'host';
  state: 'running' | 'started' | 'failed' | 'stopped' | 'skipped';
  detail: string;
}

/** What ha.json records for tools: where every member and apiserver is, and the admin's files. */
export interface HaClusterFile {
  dir: string;
  layout: HaLayout;
  storeEndpoints: string[];
  apiserverAddresses: string[];
  apiserverUrls: string[];
  kubeconfig: string;
  admin: { caFile: string; certFile: string; keyFile: string };
  /** PID files of each host's parts, for tools that check what runs. */
  pidFiles: Record<string, Partial<Record<PartName, string>>>;
}

const bundleOf: Partial<Record<PartName, string>> = {
  'keel-store': 'store/main.js',
  'keel-apiserver': 'apiserver/main.js',
  'keel-controller-manager': 'controller-manager/main.js',
  'keel-scheduler': 'scheduler/main.js',
  'keel-agent': 'agent/main.js',
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An error on one line: its first line and its last few (a daemon's own last words are at the end). */
function firstLines(err: unknown, n = 4): string {
  const lines = (err instanceof Error ? err.message : String(err)).split('\n');
  return (lines.length <= n ? lines : [lines[0]!, ...lines.slice(-(n - 1))]).join(' | ');
}

export class HaCluster {
  private pki: ClusterPki | undefined;
  /** The hosts as libs/hosts made them (by up). */
  private readonly hosts = new Map<string, Host>();

  constructor(readonly opts: HaClusterOptions) {}

  get layout(): HaLayout {
    return this.opts.layout;
  }

  get kubeconfigPath(): string {
    return join(this.opts.dir, 'kubeconfig');
  }

  get clusterFile(): string {
    return join(this.opts.dir, 'ha.json');
  }

  hostDir(host: HaHost): string {
    return join(this.opts.dir, host.name);
  }

  pidFile(host: HaHost, part: PartName): string {
    return join(this.hostDir(host), 'run', `${part}.pid`);
  }

  logFile(host: HaHost, part: PartName): string {
    return join(this.hostDir(host), 'logs', `${part}.log`);
  }

  /**
   * A worker's containerd folder. Its name is the node's CNI network name and pod cgroup
   * parent, so it must be unique on the machine: other clusters' nodes run here too.
   */
  private nodeDir(host: HaHost): string {
    return join(this.hostDir(host), `${host.name}-node`);
  }

  private bundle(part: PartName): string {
    return join(this.opts.bundles, bundleOf[part]!);
  }

  /** The PKI: made once (the apiserver's certificate names every control-plane IP), then read. */
  private async ensurePki(): Promise<ClusterPki> {
    if (this.pki) return this.pki;
    const dir = join(this.opts.dir, 'pki');
    const hosts = ['127.0.0.1', 'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', ...this.layout.controlPlanes.map((h) => h.ip)];
    const nodes = this.layout.workers.map((w) => w.name);
    const existing = pkiOnDisk(dir, nodes);
    // Each worker's serving certificate names its host IP, the InternalIP apiservers dial.
    const nodeIps = Object.fromEntries(this.layout.workers.map((w) => [w.name, [w.ip]]));
    this.pki = existing ?? (await createClusterPki(dir, { hosts, nodes, nodeIps }));
    return this.pki;
  }

  private pkiFiles(pki: ClusterPki): PkiFiles {
    return {
      caCert: pki.ca.certFile,
      apiserverCert: pki.apiserver.certFile,
      apiserverKey: pki.apiserver.keyFile,
      saPublicKey: pki.serviceAccount.publicKeyFile,
      saPrivateKey: pki.serviceAccount.privateKeyFile,
      kubeletClient: { cert: pki.kubeletClient.certFile, key: pki.kubeletClient.keyFile },
      client: (name) => {
        const c = pki.clients[name];
        if (!c) throw new Error(`no client certificate ${name} in ${pki.dir}`);
        return { cert: c.certFile, key: c.keyFile };
      },
      kubeletServing: (node) => {
        const c = pki.kubeletServing[node];
        if (!c) throw new Error(`no serving certificate kubelet-${node} in ${pki.dir}`);
        return { cert: c.certFile, key: c.keyFile };
      },
    };
  }

  /** The bridge and every host (idempotent). */
  private async ensureHosts(): Promise<Bridge> {
    const bridge = await ensureBridge({ name: this.layout.bridge.name, subnet: this.layout.bridge.subnet });
    // Pod traffic, like the hosts', never leaves through a non-keel link.
    if (this.layout.workers.length > 0) await addEgressGuard(bridge.name, HA_CLUSTER_CIDR);
    for (const host of allHosts(this.layout)) this.hosts.set(host.name, await addHost({ name: host.name, bridge, address: host.ip }));
    return bridge;
  }

  /** Starts every part that is not running, host by host in dependency order. */
  async up(): Promise<PartReport[]> {
    const report: PartReport[] = [];
    mkdirSync(this.opts.dir, { recursive: true });
    let bridge: Bridge;
    try {
      bridge = await this.ensureHosts();
    } catch (err) {
      return [{ host: this.layout.bridge.name, part: 'host', state: 'failed', detail: firstLines(err) }];
    }
    const pki = await this.ensurePki();
    const files = this.pkiFiles(pki);
    const cps = this.layout.controlPlanes;
    // Members start together: a member of three cannot lead alone, so none would be ready first.
    const stage = async (part: PartName, args: (h: HaHost) => string[], ready: (h: HaHost) => () => Promise<boolean>) => {
      const results = await Promise.all(cps.map((h) => this.startPart(h, part, args(h), ready(h))));
      report.push(...results);
      return results.every((r) => r.state !== 'failed');
    };
    const ok =
      (await stage('keel-store', (h) => storeArgs(this.layout, h, join(this.hostDir(h), 'keel-store')), (h) => () => httpAnswers(`http://${h.ip}:${PORTS.storeMetrics}/metrics`))) &&
      (await this.waitForStoreLeader(30_000).then(
        () => true,
        (err: unknown) => {
          report.push({ host: '-', part: 'keel-store', state: 'failed', detail: firstLines(err) });
          return false;
        },
      )) &&
      (await stage('keel-apiserver', (h) => apiserverArgs(this.layout, h, files), (h) => () => httpsAnswers(apiserverUrl(h), files.caCert, '/readyz'))) &&
      (await stage('keel-controller-manager', (h) => controllerManagerArgs(this.layout, h, files), (h) => () => this.controllerManagerHealthy(h))) &&
      (await stage('keel-scheduler', (h) => schedulerArgs(this.layout, h, files), (h) => () => httpAnswers(`http://${h.ip}:${PORTS.schedulerHealth}/healthz`)));
    if (ok) {
      for (const w of this.layout.workers) report.push(...(await this.startWorker(w, bridge, pki)));
    } else {
      for (const w of this.layout.workers) report.push({ host: w.name, part: 'keel-agent', state: 'skipped', detail: 'the control plane did not come up' });
    }
    this.writeClusterFiles(pki);
    return report;
  }

  private async startPart(host: HaHost, part: PartName, args: string[], ready: () => Promise<boolean>): Promise<PartReport> {
    const pidFile = this.pidFile(host, part);
    const running = runningDaemon(pidFile);
    if (running) return { host: host.name, part, state: 'running', detail: `pid ${running.pid}` };
    mkdirSync(join(this.hostDir(host), 'run'), { recursive: true });
    try {
      const d = await startInHost(host.name, {
        argv: [process.execPath, this.bundle(part), ...args],
        pidFile,
        logFile: this.logFile(host, part),
        ready,
        readyTimeoutMs: 60_000,
      });
      return { host: host.name, part, state: 'started', detail: `pid ${d.pid}` };
    } catch (err) {
      return { host: host.name, part, state: 'failed', detail: `${firstLines(err)} (log ${this.logFile(host, part)})` };
    }
  }

  /** A worker's agent: its PID file and log, as libs/hosts' startWorker keeps them. */
  agentPidFile(w: HaHost): string {
    return join(this.nodeDir(w), 'agent.pid');
  }

  /**
   * A worker: libs/hosts' startWorker runs its containerd and keel-agent inside the host
   * (node IP = host IP; no --pod-cidr, so the agent takes the controller-manager's
   * spec.podCIDR and routes to the other nodes' pods itself). Both running: left alone;
   * one of them only: the node is torn down and started again.
   */
  private async startWorker(w: HaHost, bridge: Bridge, pki: ClusterPki): Promise<PartReport[]> {
    const nodeDir = this.nodeDir(w);
    const containerdPid = existsSync(nodeDir) ? runningPid(nodeDir) : undefined;
    const agent = runningDaemon(this.agentPidFile(w));
    if (containerdPid && agent) {
      return [
        { host: w.name, part: 'containerd', state: 'running', detail: `pid ${containerdPid}` },
        { host: w.name, part: 'keel-agent', state: 'running', detail: `pid ${agent.pid}` },
      ];
    }
    try {
      if (containerdPid || agent) await this.stopWorker(w);
      const worker = await startWorker({
        host: this.hosts.get(w.name)!,
        dir: nodeDir,
        nodeName: w.name,
        sandboxImage: `${this.opts.registry}/keel/pause:3.9`,
        registries: [await registryForHosts(bridge, this.opts.registry)],
        clusterCidr: HA_CLUSTER_CIDR,
        serviceCidr: SERVICE_CIDR,
        agent: {
          command: [process.execPath, this.bundle('keel-agent')],
          args: workerAgentArgs(this.layout, w, this.pkiFiles(pki)),
          port: PORTS.agent,
          // The node endpoint is HTTPS: probe /healthz (open) trusting the cluster CA.
          healthCaFile: pki.ca.certFile,
          readyTimeoutMs: 60_000,
        },
      });
      return [
        { host: w.name, part: 'containerd', state: 'started', detail: `pid ${worker.containerd.pid}` },
        { host: w.name, part: 'keel-agent', state: 'started', detail: `pid ${worker.agentPid}, log ${worker.agentLog}` },
      ];
    } catch (err) {
      return [{ host: w.name, part: 'keel-agent', state: 'failed', detail: `${firstLines(err)} (logs in ${nodeDir})` }];
    }
  }

  /** What startWorker's stop does, from any process: the agent by PID, the node's teardown, the proxy's --cleanup. */
  private async stopWorker(w: HaHost): Promise<PartReport[]> {
    const report: PartReport[] = [];
    const stopped = await stopInHost(this.agentPidFile(w), 10_000).catch(() => false);
    report.push({ host: w.name, part: 'keel-agent', state: 'stopped', detail: stopped ? 'stopped' : 'was not running' });
    const nodeDir = this.nodeDir(w);
    if (!existsSync(nodeDir)) return report;
    const t = await teardownNode(nodeDir);
    let detail = `pods and network removed${t.problems.length ? ` (problems: ${t.problems.join('; ')})` : ''}`;
    const root = join(nodeDir, 'keel-agent');
    if (existsSync(root) && hostExists(w.name)) {
      // The proxy's rules live in the worker's namespace; its --cleanup must run there.
      const res = await runInHost(w.name, process.execPath, [this.bundle('keel-agent'), '--cleanup', '--root-dir', root], { timeoutMs: 30_000 });
      detail += res.code === 0 ? '; Service rules removed' : `; keel-agent --cleanup failed: ${res.stderr.trim().split('\n')[0]}`;
    }
    report.push({ host: w.name, part: 'containerd', state: 'stopped', detail });
    return report;
  }

  /** The controller-manager serves /healthz on its host's loopback only: ask from inside. */
  async controllerManagerHealthy(h: HaHost): Promise<boolean> {
    if (!hostExists(h.name)) return false;
    const res = await runInHost(h.name, 'busybox', ['wget', '-q', '-O', '-', `http://127.0.0.1:${PORTS.controllerManagerHealth}/healthz`], { timeoutMs: 3000 });
    return res.code === 0;
  }

  /** Resolves once a member reports a leader; throws after timeoutMs. */
  async waitForStoreLeader(timeoutMs: number): Promise<void> {
    const client = new EtcdClient({ endpoints: storeEndpoints(this.layout), callTimeoutMs: 1000 });
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        const leader = await client.status().then((s) => s.leader, () => '0');
        if (leader !== '0') return;
        if (Date.now() > deadline) throw new Error(`the store has no leader after ${timeoutMs / 1000} s`);
        await sleep(200);
      }
    } finally {
      client.close();
    }
  }

  /** Kills every process of a host at once (SIGKILL, as a machine that loses power). */
  async killHost(name: string): Promise<number[]> {
    return killHost(name);
  }

  /** Stops every part by its recorded PID, workers first, then removes the hosts, bridge and files' state. */
  async down(opts: { removeData?: boolean } = {}): Promise<PartReport[]> {
    const report: PartReport[] = [];
    for (const w of this.layout.workers) report.push(...(await this.stopWorker(w)));
    for (const h of [...this.layout.controlPlanes].reverse()) {
      for (const part of [...CONTROL_PLANE_PARTS].reverse()) {
        const stopped = await stopInHost(this.pidFile(h, part), 10_000).catch(() => false);
        report.push({ host: h.name, part, state: 'stopped', detail: stopped ? 'stopped' : 'was not running' });
      }
    }
    for (const h of allHosts(this.layout)) {
      // Anything still in the namespace was started by us into it (nsenter children): kill it with the host.
      await removeHost(h.name, { kill: true }).then(
        () => report.push({ host: h.name, part: 'host', state: 'stopped', detail: 'network namespace removed' }),
        (err: unknown) => report.push({ host: h.name, part: 'host', state: 'failed', detail: firstLines(err) }),
      );
    }
    const b = await removeBridge(this.layout.bridge.name).catch((err: unknown) => err as Error);
    report.push(
      b instanceof Error
        ? { host: this.layout.bridge.name, part: 'host', state: 'failed', detail: firstLines(b) }
        : { host: this.layout.bridge.name, part: 'host', state: 'stopped', detail: `bridge ${b.link ? 'removed' : 'was gone'}, ${b.rules} iptables rules removed` },
    );
    // Data goes only when everything else did, so a failed down can be run again.
    if (opts.removeData && !report.some((r) => r.state === 'failed')) {
      rmSync(this.opts.dir, { recursive: true, force: true });
      report.push({ host: '-', part: 'host', state: 'stopped', detail: `folder ${this.opts.dir} removed` });
    }
    return report;
  }

  /** PIDs of every part that runs now, by host. */
  running(): Record<string, Partial<Record<PartName, number>>> {
    const out: Record<string, Partial<Record<PartName, number>>> = {};
    for (const h of allHosts(this.layout)) {
      const parts: Partial<Record<PartName, number>> = {};
      for (const p of h.role === 'control-plane' ? CONTROL_PLANE_PARTS : []) {
        const r = runningDaemon(this.pidFile(h, p));
        if (r) parts[p] = r.pid;
      }
      if (h.role === 'worker') {
        const agent = runningDaemon(this.agentPidFile(h));
        if (agent) parts['keel-agent'] = agent.pid;
        const pid = existsSync(this.nodeDir(h)) ? runningPid(this.nodeDir(h)) : undefined;
        if (pid) parts.containerd = pid;
      }
      out[h.name] = parts;
    }
    return out;
  }

  /** The admin kubeconfig (one server: the first control-plane host's apiserver) and ha.json. */
  private writeClusterFiles(pki: ClusterPki): void {
    const admin = pki.clients['admin']!;
    const first = this.layout.controlPlanes[0]!;
    writeFileSync(this.kubeconfigPath, kubeconfig({ server: apiserverUrl(first), caFile: pki.ca.certFile, client: admin, user: admin.user, cluster: this.layout.prefix }), { mode: 0o600 });
    const pidFiles: HaClusterFile['pidFiles'] = {};
    for (const h of allHosts(this.layout)) {
      pidFiles[h.name] = h.role === 'control-plane' ? Object.fromEntries(CONTROL_PLANE_PARTS.map((p) => [p, this.pidFile(h, p)])) : { 'keel-agent': this.agentPidFile(h) };
    }
    const file: HaClusterFile = {
      dir: this.opts.dir,
      layout: this.layout,
      storeEndpoints: storeEndpoints(this.layout),
      apiserverAddresses: apiserverAddresses(this.layout),
      apiserverUrls: this.layout.controlPlanes.map(apiserverUrl),
      kubeconfig: this.kubeconfigPath,
      admin: { caFile: pki.ca.certFile, certFile: admin.certFile, keyFile: admin.keyFile },
      pidFiles,
    };
    writeFileSync(this.clusterFile, JSON.stringify(file, null, 2) + '\n');
  }

  /** ha.json of a cluster folder, when `keel up --ha` wrote one there. */
  static readClusterFile(dir: string): HaClusterFile | undefined {
    try {
      return JSON.parse(readFileSync(join(dir, 'ha.json'), 'utf8')) as HaClusterFile;
    } catch {
      return undefined;
    }
  }
}

/** The PKI already under dir, when every file this layout needs is there. */
function pkiOnDisk(dir: string, nodes: string[]): ClusterPki | undefined {
  const pair = (name: string) => ({ certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) });
  const ids = clusterIdentities(nodes);
  const files = [pair('ca'), pair('apiserver'), pair(KUBELET_CLIENT.name), ...ids.map((i) => pair(i.name)), ...nodes.map((n) => pair(`kubelet-${n}`))];
  const sa = { privateKeyFile: join(dir, 'sa.key'), publicKeyFile: join(dir, 'sa.pub') };
  if (!files.every((f) => existsSync(f.certFile) && existsSync(f.keyFile)) || !existsSync(sa.privateKeyFile) || !existsSync(sa.publicKeyFile)) return undefined;
  return {
    dir,
    ca: pair('ca'),
    apiserver: pair('apiserver'),
    clients: Object.fromEntries(ids.map((i) => [i.name, { ...pair(i.name), user: i.user, groups: i.groups }])),
    serviceAccount: sa,
    kubeletClient: { ...pair(KUBELET_CLIENT.name), user: KUBELET_CLIENT.user, groups: KUBELET_CLIENT.groups },
    kubeletServing: Object.fromEntries(nodes.map((n) => [n, pair(`kubelet-${n}`)])),
  };
}

