// keel-store: Keel's backing store, a Raft log over LevelDB with an MVCC key-value store on
// top, serving the etcd v3 gRPC API so etcd clients (etcdctl, the apiserver) work against
// it unchanged. Flags follow etcd's where they overlap; this file reads them, checks them
// the way etcd does, and starts the member and its servers.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { Server as GrpcServer } from '@grpc/grpc-js';
import type { Server as HttpServer } from 'node:http';
import { clusterId, hostPort, memberId, parseInitialCluster } from './members';
import { startClientServer, startHttpServer } from './server';
import { StoreNode } from './store-node';

type Level = 'debug' | 'info' | 'warn' | 'error';
const levels: Level[] = ['debug', 'info', 'warn', 'error'];

function urlList(value: string): string[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0 || list.some((u) => !/^https?:\/\/[^:/\s]+:\d+\/?$/.test(u))) {
    throw new InvalidArgumentError('expected http://host:port[,http://host:port...]');
  }
  return list.map((u) => u.replace(/\/+$/, ''));
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function level(value: string): Level {
  if (!levels.includes(value as Level)) throw new InvalidArgumentError(`expected one of ${levels.join(', ')}`);
  return value as Level;
}

const program = new Command('keel-store')
  .description("Keel's store: Raft + MVCC over LevelDB, serving the etcd v3 gRPC API")
  .option('--name <name>', 'human-readable name for this member', 'default')
  .option('--data-dir <dir>', 'path to the data directory (default: <name>.keel-store)')
  .option('--listen-client-urls <urls>', 'URLs to serve the etcd v3 API on', urlList, ['http://127.0.0.1:2379'])
  .option('--advertise-client-urls <urls>', "this member's client URLs to advertise (default: the listen URLs)", urlList)
  .option('--listen-peer-urls <urls>', 'URLs to listen on for Raft traffic (one)', urlList, ['http://127.0.0.1:2380'])
  .option('--initial-advertise-peer-urls <urls>', "this member's peer URL (default: the listen peer URL)", urlList)
  .option('--initial-cluster <list>', 'initial cluster configuration, name=http://host:port,... (default: this member alone)')
  .option('--initial-cluster-state <state>', 'new (bootstrap) or existing (join a cluster that added this member)', 'new')
  .option('--initial-cluster-token <token>', 'cluster token, part of member and cluster IDs', 'etcd-cluster')
  .option('--heartbeat-interval <ms>', 'time of a heartbeat interval, in milliseconds', positive, 100)
  .option('--election-timeout <ms>', 'time of an election timeout, in milliseconds', positive, 1000)
  .option('--snapshot-count <n>', 'applied entries between Raft snapshots', positive, 10_000)
  .option('--max-request-bytes <n>', 'largest request a client may send, in bytes', positive, 1_572_864)
  .option('--listen-metrics-urls <url>', 'HTTP URL for /health and /metrics', urlList)
  .option('--log-level <level>', 'debug, info, warn or error', level, 'info' as Level)
  .exitOverride();

interface Flags {
  name: string;
  dataDir?: string;
  listenClientUrls: string[];
  advertiseClientUrls?: string[];
  listenPeerUrls: string[];
  initialAdvertisePeerUrls?: string[];
  initialCluster?: string;
  initialClusterState: string;
  initialClusterToken: string;
  heartbeatInterval: number;
  electionTimeout: number;
  snapshotCount: number;
  maxRequestBytes: number;
  listenMetricsUrls?: string[];
  logLevel: Level;
}

function usage(reason: string): never {
  process.stderr.write(`keel-store: ${reason}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  try {
    program.parse(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2);
    throw err;
  }
  const flags = program.opts<Flags>();
  const minLevel = levels.indexOf(flags.logLevel);
  const log = (lvl: Level, msg: string, fields: Record<string, unknown> = {}) => {
    if (levels.indexOf(lvl) < minLevel) return;
    process.stdout.write(JSON.stringify({ ts: new Date().toISOString(), level: lvl, name: flags.name, msg, ...fields }) + '\n');
  };

  if (!['new', 'existing'].includes(flags.initialClusterState)) usage('--initial-cluster-state must be new or existing');
  if (flags.electionTimeout < 5 * flags.heartbeatInterval) {
    usage(`--election-timeout (${flags.electionTimeout}) must be at least 5 times --heartbeat-interval (${flags.heartbeatInterval})`);
  }
  if (flags.listenPeerUrls.length !== 1) usage('--listen-peer-urls takes exactly one URL');
  const peerUrl = (flags.initialAdvertisePeerUrls ?? flags.listenPeerUrls)[0]!;
  let cluster: Map<string, string>;
  try {
    cluster = parseInitialCluster(flags.initialCluster ?? `${flags.name}=${peerUrl}`);
  } catch (err) {
    usage(`--initial-cluster: ${(err as Error).message}`);
  }
  if (cluster.get(flags.name) !== peerUrl) {
    usage(`--initial-cluster has no ${flags.name}=${peerUrl} (this member's --name and --initial-advertise-peer-urls)`);
  }
  const token = flags.initialClusterToken;
  const members = new Map([...cluster].map(([, url]) => [memberId(url, token), hostPort(url)]));
  const id = memberId(peerUrl, token);
  const isNew = flags.initialClusterState === 'new';

  const fatal = (err: Error) => {
    log('error', 'stopping: the member failed', { error: err.message });
    process.exit(1);
  };
  const node = await StoreNode.start({
    name: flags.name,
    dataDir: flags.dataDir ?? `${flags.name}.keel-store`,
    id,
    clusterId: isNew ? clusterId([...members.keys()], token) : 0,
    listenPeer: hostPort(flags.listenPeerUrls[0]!),
    bootstrap: isNew ? members : undefined,
    peers: members,
    clientUrls: flags.advertiseClientUrls ?? flags.listenClientUrls,
    heartbeatMs: flags.heartbeatInterval,
    electionMs: flags.electionTimeout,
    snapshotCount: flags.snapshotCount,
    maxRequestBytes: flags.maxRequestBytes,
    log,
    onFatal: fatal,
  });
  const grpcServer: GrpcServer = await startClientServer(node, {
    listen: flags.listenClientUrls.map(hostPort),
    token,
    maxRequestBytes: flags.maxRequestBytes,
    progressIntervalMs: 10 * 60_000,
  });
  let httpServer: HttpServer | undefined;
  if (flags.listenMetricsUrls?.[0]) httpServer = await startHttpServer(node, hostPort(flags.listenMetricsUrls[0]));
  log('info', 'serving', {
    id: id.toString(16),
    clientUrls: flags.listenClientUrls,
    peerUrl,
    metricsUrl: flags.listenMetricsUrls?.[0],
    dataDir: node.config.dataDir,
  });

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    log('info', 'stopping');
    const force = setTimeout(() => grpcServer.forceShutdown(), 2000);
    grpcServer.tryShutdown(() => {
      clearTimeout(force);
      httpServer?.closeAllConnections();
      httpServer?.close();
      void node
        .stop()
        .catch((err: unknown) => log('warn', 'stop failed', { error: String(err) }))
        .finally(() => process.exit(0));
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`keel-store: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
