// The processes of a local cluster, started by `keel up` and stopped by `keel down`: each
// Keel command that this build has (keel-store, keel-apiserver, then the scheduler,
// controller-manager and agent as they land), run from the bundles beside this CLI, with
// data, logs and recorded PIDs under one keel-… folder. A part already running from that
// folder is left running, so `keel up` can be repeated.
import { EtcdClient } from '@keel/etcd-client';
import { createClusterPki, kubeconfig, type ClusterPki } from '@keel/pki';
import { freeLoopbackPort, runningDaemon, startDaemon, stopDaemon } from '@keel/process';
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
}

export type PartName = 'keel-store' | 'keel-apiserver' | 'keel-controller-manager' | 'keel-scheduler' | 'keel-agent';

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
  'keel-agent': 'agent/main.js',
};

export const PART_ORDER: PartName[] = ['keel-store', 'keel-apiserver', 'keel-controller-manager', 'keel-scheduler', 'keel-agent'];

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
    this.pki ??= await createClusterPki(join(this.opts.dir, 'pki'), { nodes: ['keel-local'] });
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
    return existsSync(this.bundle(part));
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
          ],
          ready: () => httpsAnswers(this.apiserverUrl, pki.ca.certFile, '/readyz'),
        };
      case 'keel-scheduler': {
        const metrics = await freeLoopbackPort();
        return {
          args: ['--grpc-server', this.grpcAddress, ...client('kube-scheduler'), '--secure-port', String(metrics)],
          ready: async () => (await fetch(`http://127.0.0.1:${metrics}/healthz`).catch(() => undefined))?.ok === true,
        };
      }
      default:
        // The controller-manager and agent are started here once they can reach a TLS apiserver.
        return undefined;
    }
  }

  /** Starts every built part in order; stops at the first that fails. */
  async up(): Promise<PartStatus[]> {
    mkdirSync(join(this.opts.dir, 'run'), { recursive: true });
    const report: PartStatus[] = [];
    let failed = false;
    for (const part of PART_ORDER) {
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

  /** Stops every part this folder recorded, in reverse order. */
  async down(): Promise<PartStatus[]> {
    const report: PartStatus[] = [];
    for (const part of [...PART_ORDER].reverse()) {
      const stopped = await stopDaemon(this.pidFile(part), 10_000);
      report.push({ part, state: stopped ? 'stopped' : 'not-built', detail: stopped ? 'stopped' : 'was not running' });
    }
    return report;
  }

  status(): PartStatus[] {
    return PART_ORDER.map((part) => {
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
