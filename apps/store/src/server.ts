// The client-facing servers of one member: the etcd v3 gRPC API on each client URL, and
// plain HTTP for /health, /version and /metrics (etcd's --listen-metrics-urls). Auth is not among
// the services, so gRPC itself answers Unimplemented for it.
import * as grpc from '@grpc/grpc-js';
import { loadProto } from '@keel/protos';
import type { ProtoGrpcType } from '@keel/protos/rpc';
import { createServer, type Server } from 'node:http';
import { clusterService } from './rpc/cluster';
import { kvService } from './rpc/kv';
import { LeaderForwarder } from './rpc/forward';
import { leaseService } from './rpc/lease';
import { ETCD_VERSION, maintenanceService } from './rpc/maintenance';
import { watchService } from './rpc/watch';
import type { StoreNode } from './store-node';

export interface ClientServerOptions {
  /** host:port for each client URL. */
  listen: string[];
  token: string;
  maxRequestBytes: number;
  progressIntervalMs: number;
}

export async function startClientServer(node: StoreNode, opts: ClientServerOptions): Promise<grpc.Server> {
  const proto = loadProto<ProtoGrpcType>('etcd/etcdserverpb/rpc.proto').etcdserverpb;
  const server = new grpc.Server({
    // etcd's limit plus its allowance for gRPC framing; a larger request is refused by gRPC.
    'grpc.max_receive_message_length': opts.maxRequestBytes + 512 * 1024,
    'grpc.max_send_message_length': 2 ** 31 - 1,
    'grpc.keepalive_permit_without_calls': 1,
  });
  server.addService(proto.KV.service, kvService(node));
  server.addService(proto.Watch.service, watchService(node, { progressIntervalMs: opts.progressIntervalMs }));
  server.addService(proto.Lease.service, leaseService(node, new LeaderForwarder(node, 5000)));
  server.addService(proto.Cluster.service, clusterService(node, opts.token));
  server.addService(proto.Maintenance.service, maintenanceService(node));
  for (const address of opts.listen) {
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
  }
  return server;
}

export async function startHttpServer(node: StoreNode, listen: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health' || path === '/healthz') {
      const healthy = node.leaderId !== 0;
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ health: String(healthy), reason: healthy ? '' : 'RAFT NO LEADER' }));
      return;
    }
    if (path === '/version') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ etcdserver: ETCD_VERSION, etcdcluster: '3.4.0' }));
      return;
    }
    if (path === '/metrics') {
      node.mvcc
        .dbSize()
        .catch(() => 0)
        .then((dbSize) => {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
          res.end(
            node.metrics.render({
              hasLeader: node.leaderId !== 0,
              isLeader: node.leaderId === node.id,
              dbSize,
              revision: node.mvcc.revision,
              watchers: node.mvcc.watcherCount,
            }),
          );
        }, () => undefined);
      return;
    }
    res.writeHead(404).end();
  });
  const i = listen.lastIndexOf(':');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(listen.slice(i + 1)), listen.slice(0, i), resolve);
  });
  return server;
}
