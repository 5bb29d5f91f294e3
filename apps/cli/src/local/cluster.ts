// The processes of a local cluster, started by `keel up` and stopped by `keel down`: each
// Keel command that this build has (keel-store, keel-apiserver, then the scheduler,
// controller-manager and agent as they land), run from the bundles beside this CLI, with
// data, logs and recorded PIDs under one keel-… folder. A part already running from that
// folder is left running, so `keel up` can be repeated.
import { runningPid, startContainerd, teardownNode } from '@keel/containerd';
import { EtcdClient } from '@keel/etcd-client';
import { createClusterPki, kubeconfig, type ClusterPki } from '@keel/pki';
import { freeLoopbackPort, runningDaemon, startDaemon, stopDaemon } from '@keel/process';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ApiConnection, httpsAnswers } from './connection';

export interface LocalClusterOptions {
  /** The cluster folder (its last element must start with keel-). */
  dir: string;
  /** dist/apps: where the command bundles are. */
  bundles: string;
  storePort: number;
  apiserverPort: number;
  /** Run a node too (containerd and keel-agent); without it only the control plane runs. */
  node: boolean;
  /** The local registry pods pull from (host:port on loopback). */
  registry: string;
}

export type PartName = 'keel-store' | 'keel-apiserver' | 'keel-controller-manager' | 'keel-scheduler' | 'containerd' | 'keel-agent';

export interface PartStatus {
  part: PartName;
  state: 'running' | 'started' | 'not-built' | 'skipped' | 'failed' | 'stopped';
  detail: string;
}

const bundleOf: Record<PartName, string> = {
  'keel-store': 'store/main.js',
  'keel-apiserver': 'apiserver/main.js',
  'keel-controller-manager': 'controller-manager/main.js',
  'keel-scheduler': 'scheduler/main.js',
  containerd: '',
  'keel-agent': 'agent/main.js',
};

export const PART_ORDER: PartName[] = ['keel-store', 'keel-apiserver', 'keel-controller-manager', 'keel-scheduler', 'containerd', 'keel-agent'];

/** The local node: its name, pod network and where its runtime lives. */
const NODE_NAME = 'keel-local';
const CLUSTER_CIDR = '10.244.0.0/16';
const NODE_POD_CIDR = '10.244.0.0/24';

function runToEnd(cmd: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('error', () => resolve(null));
    child.on('exit', (code) => resolve(code));
  });
}

async function httpOk(url: string): Promise<boolean> {
  return (await fetch(url).catch(() => undefined))?.ok === true;
}

export class LocalCluster {
  constructor(readonly opts: LocalClusterOptions) {}

  get storeEndpoint(): string {
    return `127.0.0.1:${this.opts.storePort}`;
  }

  get apiserverUrl(): string {
    return `https://127.0.0.1:${this.opts.apiserverPort}`;
  }

  /** keel.v1 gRPC, on the port after the REST one. */
  get grpcAddress(): string {
    return `127.0.0.1:${this.opts.apiserverPort + 1}`;
  }

  /** The cluster's CA, certificates and ServiceAccount keys (made once, then reused). */
  private pki: ClusterPki | undefined;

  private async ensurePki(): Promise<ClusterPki> {
    this.pki ??= await createClusterPki(join(this.opts.dir, 'pki'), { nodes: [NODE_NAME] });
    return this.pki;
  }

  /** An admin connection to the apiserver (after up()). */
  async adminConnection(): Promise<ApiConnection> {
    const pki = await this.ensurePki();
    const admin = pki.clients['admin']!;
    return new ApiConnection({ server: this.apiserverUrl, caFile: pki.ca.certFile, certFile: admin.certFile, keyFile: admin.keyFile });
  }

  get kubeconfigPath(): string {
    return join(this.opts.dir, 'kubeconfig');
  }

  private pidFile(part: PartName): string {
    return join(this.opts.dir, 'run', `${part}.pid`);
  }

  private logFile(part: PartName): string {
    return join(this.opts.dir, 'logs', `${part}.log`);
  }

  bundle(part: PartName): string {
    return join(this.opts.bundles, bundleOf[part]);
  }

  built(part: PartName): boolean {
    return part === 'containerd' ? true : existsSync(this.bundle(part));
  }

  private get nodeDir(): string {
    return join(this.opts.dir, 'keel-node');
  }

  private async storeReady(): Promise<boolean> {
    const client = new EtcdClient({ endpoints: [this.storeEndpoint], callTimeoutMs: 1000 });
    try {
      const status = await client.status();
      return status.leader !== '0';
    } catch {
      return false;
    } finally {
      client.close();
    }
  }

  /** The command line and readiness probe of a part, or undefined when it cannot run yet. */
  private async spec(part: PartName): Promise<{ args: string[]; ready: () => Promise<boolean> } | undefined> {
    const { dir } = this.opts;
    const pki = await this.ensurePki();
    const client = (name: string) => {
      const c = pki.clients[name]!;
      return ['--certificate-authority', pki.ca.certFile, '--client-certificate', c.certFile, '--client-key', c.keyFile];
    };
    switch (part) {
      case 'keel-store':
        return {
          args: [
            '--name',
            'keel-local',
            '--data-dir',
            join(dir, 'keel-store'),
            '--listen-client-urls',
            `http://${this.storeEndpoint}`,
            '--listen-peer-urls',
            `http://127.0.0.1:${this.opts.storePort + 1}`,
          ],
          ready: () => this.storeReady(),
        };
      case 'keel-apiserver':
        return {
          args: [
            '--etcd-servers',
            this.storeEndpoint,
            '--secure-port',
            String(this.opts.apiserverPort),
            '--grpc-port',
            String(this.opts.apiserverPort + 1),
            '--tls-cert-file',
            pki.apiserver.certFile,
            '--tls-private-key-file',
            pki.apiserver.keyFile,
            '--client-ca-file',
            pki.ca.certFile,
            '--service-account-key-file',
            pki.serviceAccount.publicKeyFile,
            '--service-account-signing-key-file',
            pki.serviceAccount.privateKeyFile,
            // Logs, exec, attach and port-forward reach the agent over HTTPS as kube-apiserver-kubelet-client.
            '--kubelet-client-certificate',
            pki.kubeletClient.certFile,
            '--kubelet-client-key',
            pki.kubeletClient.keyFile,
            '--kubelet-certificate-authority',
            pki.ca.certFile,
          ],
          ready: () => httpsAnswers(this.apiserverUrl, pki.ca.certFile, '/readyz'),
        };
      case 'keel-scheduler': {
        const metrics = await freeLoopbackPort();
        return {
          args: ['--grpc-server', this.grpcAddress, ...client('kube-scheduler'), '--secure-port', String(metrics)],
          ready: () => httpOk(`http://127.0.0.1:${metrics}/healthz`),
        };
      }
      case 'keel-controller-manager': {
        const health = await freeLoopbackPort();
        return {
          args: [
            '--apiserver',
            this.grpcAddress,
            '--apiserver-url',
            this.apiserverUrl,
            ...client('kube-controller-manager'),
            '--cluster-cidr',
            CLUSTER_CIDR,
            '--healthz-port',
            String(health),
          ],
          ready: () => httpOk(`http://127.0.0.1:${health}/healthz`),
        };
      }
      case 'keel-agent': {
        const port = await freeLoopbackPort();
        const node = pki.clients[`node-${NODE_NAME}`]!;
        const serving = pki.kubeletServing[NODE_NAME]!;
        return {
          args: [
            '--node-name',
            NODE_NAME,
            '--apiserver',
            this.grpcAddress,
            '--certificate-authority',
            pki.ca.certFile,
            '--client-certificate',
            node.certFile,
            '--client-key',
            node.keyFile,
            '--container-runtime-endpoint',
            `unix://${join(this.nodeDir, 'containerd.sock')}`,
            '--root-dir',
            join(dir, 'keel-agent'),
            '--pod-cidr',
            NODE_POD_CIDR,
            '--cni-conf',
            join(this.nodeDir, 'cni', 'net.d', '10-keel.conflist'),
            '--cluster-cidr',
            CLUSTER_CIDR,
            '--port',
            String(port),
            // The node endpoint: HTTPS, only for client certificates the cluster CA signed.
            '--tls-cert-file',
            serving.certFile,
            '--tls-private-key-file',
            serving.keyFile,
            '--client-ca-file',
            pki.ca.certFile,
          ],
          ready: () => httpsAnswers(`https://127.0.0.1:${port}`, pki.ca.certFile, '/healthz'),
        };
      }
      default:
        return undefined;
    }
  }

  /** Starts every built part in order; stops at the first that fails. */
  async up(): Promise<PartStatus[]> {
    mkdirSync(join(this.opts.dir, 'run'), { recursive: true });
    const report: PartStatus[] = [];
    let failed = false;
    for (const part of PART_ORDER) {
      if (!this.opts.node && (part === 'containerd' || part === 'keel-agent')) {
        report.push({ part, state: 'skipped', detail: 'no node: --no-node' });
        continue;
      }
      if (part === 'containerd') {
        report.push(failed ? { part, state: 'failed', detail: 'not started: an earlier part failed' } : await this.startRuntime());
        if (report[report.length - 1]!.state === 'failed') failed = true;
        continue;
      }
      if (!this.built(part)) {
        report.push({ part, state: 'not-built', detail: 'not built yet in this version of Keel' });
        continue;
      }
      const running = runningDaemon(this.pidFile(part));
      if (running) {
        report.push({ part, state: 'running', detail: `pid ${running.pid}` });
        continue;
      }
      const spec = await this.spec(part);
      if (!spec) {
        report.push({ part, state: 'skipped', detail: 'built, but keel up does not start it yet' });
        continue;
      }
      if (failed) {
        report.push({ part, state: 'failed', detail: 'not started: an earlier part failed' });
        continue;
      }
      try {
        const daemon = await startDaemon({
          argv: [process.execPath, this.bundle(part), ...spec.args],
          pidFile: this.pidFile(part),
          logFile: this.logFile(part),
          ready: spec.ready,
          readyTimeoutMs: 30_000,
        });
        report.push({ part, state: 'started', detail: `pid ${daemon.pid}, log ${this.logFile(part)}` });
      } catch (err) {
        failed = true;
        report.push({ part, state: 'failed', detail: (err as Error).message.split('\n').slice(0, 4).join(' | ') });
      }
    }
    await this.writeKubeconfig();
    return report;
  }

  /** The node's containerd (host network), with the local registry as its mirror. */
  private async startRuntime(): Promise<PartStatus> {
    const running = existsSync(this.nodeDir) ? runningPid(this.nodeDir) : undefined;
    if (running) return { part: 'containerd', state: 'running', detail: `pid ${running}` };
    try {
      const rt = await startContainerd({
        dir: this.nodeDir,
        sandboxImage: `${this.opts.registry}/keel/pause:3.9`,
        podCidr: NODE_POD_CIDR,
        streamAddress: '127.0.0.1',
        registries: [{ host: this.opts.registry, endpoint: `http://${this.opts.registry}` }],
      });
      return { part: 'containerd', state: 'started', detail: `pid ${rt.pid}, pods in ${NODE_POD_CIDR}` };
    } catch (err) {
      return { part: 'containerd', state: 'failed', detail: (err as Error).message.split('\n').slice(0, 3).join(' | ') };
    }
  }

  /** Stops every part this folder recorded, in reverse order; the node's pods and network go too. */
  async down(): Promise<PartStatus[]> {
    const report: PartStatus[] = [];
    for (const part of [...PART_ORDER].reverse()) {
      if (part === 'containerd') {
        if (!existsSync(this.nodeDir)) {
          report.push({ part, state: 'stopped', detail: 'was not running' });
          continue;
        }
        const teardown = await teardownNode(this.nodeDir);
        report.push({ part, state: 'stopped', detail: `stopped; pods, bridge and network removed${teardown.problems.length ? ` (${teardown.problems.length} problems: ${teardown.problems.join('; ')})` : ''}` });
        continue;
      }
      const stopped = await stopDaemon(this.pidFile(part), 10_000);
      let detail = stopped ? 'stopped' : 'was not running';
      if (part === 'keel-agent' && this.built(part) && existsSync(join(this.opts.dir, 'keel-agent'))) {
        // The agent leaves its Service rules in place when it stops (so traffic survives a
        // restart); a cluster going away takes them with it.
        const clean = await runToEnd(process.execPath, [this.bundle(part), '--cleanup', '--root-dir', join(this.opts.dir, 'keel-agent')]);
        detail += clean === 0 ? '; Service rules removed' : '; removing Service rules failed (see keel-agent --cleanup)';
      }
      report.push({ part, state: stopped ? 'stopped' : 'not-built', detail });
    }
    return report;
  }

  status(): PartStatus[] {
    return PART_ORDER.map((part) => {
      if (part === 'containerd') {
        const pid = existsSync(this.nodeDir) ? runningPid(this.nodeDir) : undefined;
        return pid ? { part, state: 'running' as const, detail: `pid ${pid}` } : { part, state: 'stopped' as const, detail: 'not running' };
      }
      if (!this.built(part)) return { part, state: 'not-built' as const, detail: 'not built yet in this version of Keel' };
      const running = runningDaemon(this.pidFile(part));
      return running ? { part, state: 'running' as const, detail: `pid ${running.pid}` } : { part, state: 'stopped' as const, detail: 'not running' };
    });
  }

  /** The admin's kubeconfig: kubectl as cluster-admin (system:masters) over TLS. */
  private async writeKubeconfig(): Promise<void> {
    const pki = await this.ensurePki();
    const admin = pki.clients['admin']!;
    mkdirSync(dirname(this.kubeconfigPath), { recursive: true });
    writeFileSync(
      this.kubeconfigPath,
      kubeconfig({ server: this.apiserverUrl, caFile: pki.ca.certFile, client: admin, user: admin.user, cluster: 'keel-local' }),
      { mode: 0o600 },
    );
  }
}
