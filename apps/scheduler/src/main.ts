// keel-scheduler: watches pods with no node and binds them, through the apiserver's keel.v1
// gRPC API (@keel/client informers on pods, nodes, PriorityClasses, Namespaces, Services and
// ReplicaSets). With --leader-elect several replicas run and the holder of the
// kube-system/kube-scheduler Lease schedules.
// Flags follow kube-scheduler's where they overlap.

import type { Namespace, Node, Pod, PriorityClass, ReplicaSet, Service } from '@keel/api';
import { Client, clientFromFiles, EventRecorder, Informer, LeaderElector, LeaseLock, parseApiserverAddresses } from '@keel/client';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import type { SchedulerConfiguration } from './framework/config';
import { ClientSchedulerApi } from './process/api';
import { serveHealth } from './process/metrics';
import { Scheduler, type Log } from './scheduler';

function address(value: string): string {
  // One host:port, or several IPv4 apiservers comma-separated (the client fails over).
  try {
    return parseApiserverAddresses(value).join(',');
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}

function loadConfig(path: string): SchedulerConfiguration {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return parseYaml(text) as SchedulerConfiguration; // YAML is a superset of JSON
  } catch (err) {
    throw new InvalidArgumentError(`${path} is not a KubeSchedulerConfiguration: ${(err as Error).message}`);
  }
}

const log: Log = (level, msg, fields = {}) => {
  process.stdout.write(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields }) + '\n');
};

const program = new Command('keel-scheduler')
  .description('Keel scheduler: binds pending pods to nodes (filter, score, preempt)')
  .option('--grpc-server <host:port>', "the apiserver's keel.v1 gRPC address", address, '127.0.0.1:6444')
  .option('--server <host:port>', 'same as --grpc-server (kube-style name)', address)
  .option('--certificate-authority <file>', "CA of the apiserver's certificate (PEM): connect with TLS")
  .option('--client-certificate <file>', 'client certificate (PEM) to authenticate with, with --client-key')
  .option('--client-key <file>', 'key of --client-certificate (PEM)')
  .option('--token-file <file>', 'bearer token (static or ServiceAccount) to authenticate with')
  .option('--config <file>', 'KubeSchedulerConfiguration (JSON or YAML): profile plugins, weights, percentageOfNodesToScore', loadConfig)
  .option('--leader-elect', 'run as one of several replicas; only the Lease holder schedules', false)
  .option('--leader-elect-resource-namespace <ns>', 'namespace of the Lease', 'kube-system')
  .option('--leader-elect-resource-name <name>', 'name of the Lease (kube-scheduler, as in Kubernetes: the bootstrap RBAC role lets the scheduler update only that one)', 'kube-scheduler')
  .option('--bind-address <ip>', 'address of /healthz and /metrics', '127.0.0.1')
  .option('--secure-port <port>', 'port of /healthz and /metrics (plain HTTP for now; 0 picks a free one)', port, 10259)
  .exitOverride();

interface Options {
  grpcServer: string;
  certificateAuthority?: string;
  clientCertificate?: string;
  clientKey?: string;
  tokenFile?: string;
  server?: string;
  config?: SchedulerConfiguration;
  leaderElect: boolean;
  leaderElectResourceNamespace: string;
  leaderElectResourceName: string;
  bindAddress: string;
  securePort: number;
}

async function main(): Promise<void> {
  try {
    program.parse(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2);
    throw err;
  }
  const opts = program.opts<Options>();
  const identity = `${hostname()}_${randomUUID()}`;
  let client: Client;
  try {
    client = clientFromFiles({
      address: opts.server ?? opts.grpcServer,
      ...(opts.certificateAuthority ? { certificateAuthority: opts.certificateAuthority } : {}),
      ...(opts.clientCertificate ? { clientCertificate: opts.clientCertificate } : {}),
      ...(opts.clientKey ? { clientKey: opts.clientKey } : {}),
      ...(opts.tokenFile ? { tokenFile: opts.tokenFile } : {}),
    });
  } catch (err) {
    process.stderr.write(`keel-scheduler: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const events = new EventRecorder({ client, component: 'default-scheduler', host: hostname(), onError: (err) => log('warn', 'event not written', { error: String(err) }) });
  const scheduler = new Scheduler({
    api: new ClientSchedulerApi(client, events, Date.now),
    ...(opts.config ? { config: opts.config } : {}),
    now: Date.now,
    random: Math.random,
    log,
  });

  const onError = (what: string) => (err: unknown, context?: string) => log('warn', `${what} informer`, { context, error: err instanceof Error ? err.message : String(err) });
  const pods = new Informer<Pod>(client.pods(), { onError: onError('pods') });
  const nodes = new Informer<Node>(client.nodes(), { onError: onError('nodes') });
  const classes = new Informer<PriorityClass>(client.priorityClasses(), { onError: onError('priorityclasses') });
  // Namespaces (for affinity namespaceSelectors), Services and ReplicaSets (default spreading).
  const namespaces = new Informer<Namespace>(client.namespaces(), { onError: onError('namespaces') });
  const services = new Informer<Service>(client.services(), { onError: onError('services') });
  const replicaSets = new Informer<ReplicaSet>(client.replicaSets(), { onError: onError('replicasets') });
  const others = [namespaces, services, replicaSets];
  namespaces.addEventHandler({
    add: (o) => scheduler.onNamespaceEvent('ADDED', o),
    update: (_, o) => scheduler.onNamespaceEvent('MODIFIED', o),
    delete: (o) => scheduler.onNamespaceEvent('DELETED', o),
  });
  services.addEventHandler({
    add: (o) => scheduler.onServiceEvent('ADDED', o),
    update: (_, o) => scheduler.onServiceEvent('MODIFIED', o),
    delete: (o) => scheduler.onServiceEvent('DELETED', o),
  });
  replicaSets.addEventHandler({
    add: (o) => scheduler.onReplicaSetEvent('ADDED', o),
    update: (_, o) => scheduler.onReplicaSetEvent('MODIFIED', o),
    delete: (o) => scheduler.onReplicaSetEvent('DELETED', o),
  });
  classes.addEventHandler({
    add: (o) => scheduler.onPriorityClassEvent('ADDED', o),
    update: (_, o) => scheduler.onPriorityClassEvent('MODIFIED', o),
    delete: (o) => scheduler.onPriorityClassEvent('DELETED', o),
  });
  nodes.addEventHandler({
    add: (o) => scheduler.onNodeEvent('ADDED', o),
    update: (_, o) => scheduler.onNodeEvent('MODIFIED', o),
    delete: (o) => scheduler.onNodeEvent('DELETED', o),
  });
  pods.addEventHandler({
    add: (o) => scheduler.onPodEvent('ADDED', o),
    update: (_, o) => scheduler.onPodEvent('MODIFIED', o),
    delete: (o) => scheduler.onPodEvent('DELETED', o),
  });

  let leading = false;
  const health = serveHealth(scheduler, () => leading);
  await new Promise<void>((resolve, reject) => {
    health.once('error', reject);
    health.listen(opts.securePort, opts.bindAddress, resolve);
  });
  const addr = health.address() as { address: string; port: number };
  log('info', 'serving', { healthz: `http://${addr.address}:${addr.port}/healthz`, apiserver: opts.server ?? opts.grpcServer, identity });

  // Classes and nodes first, so the first pods are judged with priorities and the whole cluster.
  classes.start();
  nodes.start();
  for (const i of others) i.start();
  await Promise.all([classes.waitForSync(), nodes.waitForSync(), ...others.map((i) => i.waitForSync())]);
  pods.start();
  await pods.waitForSync();
  log('info', 'caches synced', { nodes: scheduler.cache.nodeCount(), pending: scheduler.queue.lengths() });

  const stopping = new AbortController();
  let elector: LeaderElector | undefined;
  const schedule = async (signal: AbortSignal) => {
    leading = true;
    log('info', 'scheduling');
    await scheduler.run(signal);
    leading = false;
  };
  let done: Promise<unknown>;
  if (opts.leaderElect) {
    let loop: Promise<void> = Promise.resolve();
    elector = new LeaderElector({
      lock: new LeaseLock(client.leases(), opts.leaderElectResourceNamespace, opts.leaderElectResourceName),
      identity,
      onStartedLeading: (signal) => {
        log('info', 'became leader', { lease: `${opts.leaderElectResourceNamespace}/${opts.leaderElectResourceName}` });
        loop = schedule(AbortSignal.any([signal, stopping.signal]));
      },
      onStoppedLeading: () => log('info', 'stopped leading'),
      onNewLeader: (who) => log('info', 'leader', { identity: who }),
      onError: (err) => log('warn', 'leader election', { error: err instanceof Error ? err.message : String(err) }),
    });
    done = elector.run().then(() => loop);
  } else {
    done = schedule(stopping.signal);
  }

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    log('info', 'stopping');
    stopping.abort();
    await elector?.stop();
    await done;
    await scheduler.settle();
    await events.flush();
    pods.stop();
    nodes.stop();
    classes.stop();
    for (const i of others) i.stop();
    health.close();
    health.closeAllConnections();
    client.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  await done;
  // Leadership lost while not stopping: exit so a supervisor restarts a clean candidate.
  if (!stopped) {
    log('error', 'lost leadership; exiting');
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`keel-scheduler: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
