// Requests only the leader can answer, forwarded from a follower to the leader's client
// URL (which members publish through the log), as etcd forwards them over its peer
// listener. Today that is LeaseTimeToLive: only the leader's clock knows how long a lease
// has left, because keep-alives renew it there.
import * as grpc from '@grpc/grpc-js';
import { loadProto } from '@keel/protos';
import type { LeaseClient } from '@keel/protos/etcdserverpb/Lease';
import type { LeaseTimeToLiveRequest } from '@keel/protos/etcdserverpb/LeaseTimeToLiveRequest';
import type { LeaseTimeToLiveResponse__Output } from '@keel/protos/etcdserverpb/LeaseTimeToLiveResponse';
import type { ProtoGrpcType } from '@keel/protos/rpc';
import { StoreError } from '../errors';
import { hostPort } from '../members';
import type { StoreNode } from '../store-node';

export class LeaderForwarder {
  private readonly clients = new Map<string, LeaseClient>();
  private proto: ProtoGrpcType['etcdserverpb'] | undefined;

  constructor(
    private readonly node: StoreNode,
    private readonly timeoutMs: number,
  ) {}

  /** The leader's client, or undefined when this member leads or the leader's URL is not known yet. */
  private leaderLease(): LeaseClient | undefined {
    const leader = this.node.leaderId;
    if (leader === 0) throw new StoreError('NoLeader');
    if (leader === this.node.id) return undefined;
    const url = this.node.attributes.get(leader)?.clientUrls[0];
    if (!url) return undefined;
    const address = hostPort(url);
    let client = this.clients.get(address);
    if (!client) {
      this.proto ??= loadProto<ProtoGrpcType>('etcd/etcdserverpb/rpc.proto').etcdserverpb;
      client = new this.proto.Lease(address, grpc.credentials.createInsecure()) as unknown as LeaseClient;
      this.clients.set(address, client);
    }
    return client;
  }

  /** The leader's answer, or undefined when this member should answer itself. */
  timeToLive(req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse__Output> | undefined {
    const client = this.leaderLease();
    if (!client) return undefined;
    return new Promise((resolve, reject) => {
      client.LeaseTimeToLive(req, { deadline: Date.now() + this.timeoutMs }, (err, res) => {
        if (err || !res) reject(err?.code === grpc.status.DEADLINE_EXCEEDED ? new StoreError('Timeout') : (err ?? new StoreError('Internal')));
        else resolve(res);
      });
    });
  }

  close(): void {
    for (const client of this.clients.values()) (client as unknown as grpc.Client).close();
    this.clients.clear();
  }
}
