// keel-controller-manager: every controller of the cluster in one process — Deployment,
// ReplicaSet, DaemonSet, Job, node lifecycle and IPAM, Endpoints and EndpointSlice,
// ServiceAccount, Namespace and the garbage collector — reaching cluster state only through
// the apiserver's keel.v1 gRPC API. Flags follow kube-controller-manager's where they
// overlap. With --leader-elect, replicas share a Lease and only the holder runs controllers.
import { Client, GrpcTransport, LeaderElector, LeaseLock, parseApiserverAddresses, Resources } from '@keel/client';
import type { Lease } from '@keel/api';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { selectControllers } from './controllers';
import { parseCidr } from './controllers/node-ipam';
import { ControllerManager } from './manager';
import { jsonLogger } from './runtime/log';

/** A Go-style duration (`40s`, `1m30s`, `500ms`) in milliseconds. */
export function parseDuration(value: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) throw new InvalidArgumentError('expected a duration such as 40s, 1m or 500ms');
  return parts.reduce((ms, p) => ms + Number(p[1]) * units[p[2]!]!, 0);
}

function address(value: string): string {
  // One host:port, or several IPv4 apiservers comma-separated (the client fails over).
  try {
    return parseApiserverAddresses(value).join(',');
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function cidr(value: string): string {
  try {
    parseCidr(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number above 0');
  return n;
}

function controllers(value: string): string[] {
  try {
    return selectControllers(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function duration(flags: string, description: string, fallback: string): Option {
  return new Option(flags, description).argParser(parseDuration).default(parseDuration(fallback), fallback);
}

const program = new Command('keel-controller-manager')
  .description('Keel controller manager: the cluster\'s controllers, over the apiserver\'s keel.v1 gRPC API')
  .option('--apiserver <host:port>', 'the apiserver\'s keel.v1 gRPC address', address, '127.0.0.1:6444')
  .option('--apiserver-url <url>', 'the apiserver\'s REST URL, only for namespaces/finalize, which keel.v1 does not serve (e.g. http://127.0.0.1:6443)')
  .option('--certificate-authority <file>', 'CA of the apiserver\'s serving certificate (PEM): TLS to the apiserver')
  .option('--client-certificate <file>', 'client certificate (PEM) to authenticate with, over TLS')
  .option('--client-key <file>', 'key of --client-certificate')
  .option('--token-file <file>', 'bearer token to authenticate with (a ServiceAccount token, say)')
  .option('--root-ca-file <file>', 'the cluster CA (PEM) published as kube-root-ca.crt in every namespace (default: --certificate-authority)')
  .addOption(new Option('--controllers <list>', 'controllers to run: * for all, name to add, -name to remove').argParser(controllers).default(selectControllers('*'), '*'))
  .option('--leader-elect', 'run only while holding the kube-system/keel-controller-manager Lease', false)
  .addOption(duration('--leader-elect-lease-duration <duration>', 'how long a Lease holds without renewal', '15s'))
  .addOption(duration('--leader-elect-renew-deadline <duration>', 'how long the leader retries renewing before it steps down', '10s'))
  .addOption(duration('--leader-elect-retry-period <duration>', 'how often to try to acquire or renew', '2s'))
  .option('--cluster-cidr <cidr>', 'IPv4 CIDR node pod CIDRs come from (node IPAM is off without it)', cidr)
  .option('--node-cidr-mask-size <n>', 'prefix length of each node\'s pod CIDR', positive, 24)
  .addOption(duration('--node-monitor-grace-period <duration>', 'how long a node may go without renewing its Lease before it is Unknown', '40s'))
  .option('--concurrent-syncs <n>', 'workers per controller', positive, 5)
  .option('--healthz-port <port>', 'port of /healthz and /metrics on 127.0.0.1 (0 picks a free one, -1 turns it off)', (v) => (v === '-1' ? -1 : port(v)), 10257)
  .exitOverride();

interface Options {
  apiserver: string;
  apiserverUrl?: string;
  certificateAuthority?: string;
  clientCertificate?: string;
  clientKey?: string;
  tokenFile?: string;
  rootCaFile?: string;
  controllers: string[];
  leaderElect: boolean;
  leaderElectLeaseDuration: number;
  leaderElectRenewDeadline: number;
  leaderElectRetryPeriod: number;
  clusterCidr?: string;
  nodeCidrMaskSize: number;
  nodeMonitorGracePeriod: number;
  concurrentSyncs: number;
  healthzPort: number;
}

/** A bad flag: one line on stderr, exit 2 (as commander does for its own checks). */
function fail(message: string): never {
  process.stderr.write(`keel-controller-manager: ${message}\n`);
  process.exit(2);
}

function read(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    return fail(`cannot read ${file}: ${(err as Error).message}`);
  }
}

async function main(): Promise<void> {
  try {
    program.parse(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2);
    throw err;
  }
  const opts = program.opts<Options>();
  const log = jsonLogger().with({ component: 'keel-controller-manager' });
  if (Boolean(opts.clientCertificate) !== Boolean(opts.clientKey)) fail('--client-certificate and --client-key go together');
  if (opts.clientCertificate && !opts.certificateAuthority) fail('--client-certificate needs --certificate-authority (TLS)');
  const tls = opts.certificateAuthority
    ? {
        ca: read(opts.certificateAuthority),
        ...(opts.clientCertificate ? { cert: read(opts.clientCertificate), key: read(opts.clientKey!) } : {}),
      }
    : undefined;
  const token = opts.tokenFile ? read(opts.tokenFile).toString('utf8').trim() : undefined;
  // What pods get to verify the apiserver with: the CA this process trusts it by, unless told otherwise.
  const rootCAFile = opts.rootCaFile ?? opts.certificateAuthority;
  const rootCA = rootCAFile ? read(rootCAFile).toString('utf8') : undefined;
  const auth = { ...(tls ? { tls } : {}), ...(token ? { token } : {}) };
  const client = new Client(new GrpcTransport({ address: opts.apiserver, ...auth }));
  const stop = new AbortController();
  let manager: ControllerManager | undefined;
  let healthy = true;

  let server: Server | undefined;
  if (opts.healthzPort >= 0) {
    server = createServer((req, res) => {
      if (req.url === '/healthz' || req.url === '/readyz' || req.url === '/livez') {
        res.writeHead(healthy ? 200 : 500, { 'Content-Type': 'text/plain' });
        res.end(healthy ? 'ok' : 'unhealthy');
        return;
      }
      if (req.url === '/metrics') {
        const body = `# HELP keel_controller_manager_leader Whether this replica runs the controllers.\n# TYPE keel_controller_manager_leader gauge\nkeel_controller_manager_leader ${manager ? 1 : 0}\n${manager?.metrics() ?? ''}`;
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
        res.end(body);
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(opts.healthzPort, '127.0.0.1', resolve);
    });
    log.info('serving /healthz and /metrics', { address: `127.0.0.1:${(server.address() as { port: number }).port}` });
  }

  const runControllers = async () => {
    manager = new ControllerManager({
      client,
      controllers: opts.controllers,
      log,
      workers: opts.concurrentSyncs,
      config: {
        ...(opts.clusterCidr ? { clusterCidr: opts.clusterCidr } : {}),
        ...(opts.apiserverUrl ? { apiserverUrl: opts.apiserverUrl, apiserverAuth: auth } : {}),
        nodeCidrMaskSize: opts.nodeCidrMaskSize,
        ...(rootCA ? { rootCA } : {}),
        nodeMonitorGracePeriodMs: opts.nodeMonitorGracePeriod,
      },
    });
    await manager.start();
  };

  let lost = false;
  // Logged at start, so a tool can tell which replica holds the Lease.
  const identity = `${hostname()}_${randomUUID()}`;
  const elector = !opts.leaderElect
    ? undefined
    : new LeaderElector({
        lock: new LeaseLock(client.resource<Lease>(Resources.leases), 'kube-system', 'keel-controller-manager'),
        identity,
        leaseDurationMs: opts.leaderElectLeaseDuration,
        renewDeadlineMs: opts.leaderElectRenewDeadline,
        retryPeriodMs: opts.leaderElectRetryPeriod,
        onStartedLeading: () => {
          log.info('leader election: became leader', { lease: 'kube-system/keel-controller-manager' });
          runControllers().catch((err: unknown) => {
            log.error('controllers failed to start', { err: (err as Error).message });
            void shutdown(1);
          });
        },
        onStoppedLeading: () => {
          if (!stop.signal.aborted) lost = true;
        },
        onNewLeader: (identity) => log.info('leader election: leader is', { identity }),
        onError: (err) => log.warn('leader election', { err: (err as Error).message }),
      });
  const shutdown = async (code: number) => {
    if (stop.signal.aborted) return;
    log.info('stopping');
    stop.abort();
    // The Lease is released first, so a standby replica takes over without waiting it out.
    await elector?.stop();
    await manager?.stop();
    client.close();
    server?.close();
    process.exit(code);
  };
  process.once('SIGTERM', () => void shutdown(0));
  process.once('SIGINT', () => void shutdown(0));

  log.info('starting', { apiserver: opts.apiserver, controllers: opts.controllers, leaderElect: opts.leaderElect, identity });
  if (!opts.leaderElect) {
    await runControllers();
    return;
  }
  await elector!.run();
  // Kubernetes exits when it loses the Lease, so a fresh process starts clean.
  if (lost) {
    healthy = false;
    log.error('leader election: lost the lease');
    await shutdown(1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`keel-controller-manager: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
