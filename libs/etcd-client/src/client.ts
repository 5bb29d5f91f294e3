// A client for the etcd v3 gRPC API, written on @grpc/grpc-js and Keel's own etcd protos.
// The apiserver stores every object through it, and the store benchmark drives etcd and
// keel-store through it alike. One gRPC channel serves all calls; with several endpoints
// the channel picks the first that answers and moves on when it fails. Every unary call has
// a deadline. Watches share one bidirectional stream (see watch.ts); lease keep-alives
// another.
import * as grpc from '@grpc/grpc-js';
import { loadProto } from '@keel/protos';
import type { ProtoGrpcType } from '@keel/protos/rpc';
import type { KVClient } from '@keel/protos/etcdserverpb/KV';
import type { LeaseClient } from '@keel/protos/etcdserverpb/Lease';
import type { MaintenanceClient } from '@keel/protos/etcdserverpb/Maintenance';
import type { ClusterClient } from '@keel/protos/etcdserverpb/Cluster';
import type { WatchClient } from '@keel/protos/etcdserverpb/Watch';
import type { RangeRequest } from '@keel/protos/etcdserverpb/RangeRequest';
import type { RangeResponse__Output } from '@keel/protos/etcdserverpb/RangeResponse';
import type { RequestOp } from '@keel/protos/etcdserverpb/RequestOp';
import type { ResponseOp__Output } from '@keel/protos/etcdserverpb/ResponseOp';
import type { Compare as CompareMsg } from '@keel/protos/etcdserverpb/Compare';
import type { ResponseHeader__Output } from '@keel/protos/etcdserverpb/ResponseHeader';
import { EtcdError } from './errors';
import { type Bytes, type KeyValue, fromKv, prefixEnd, toBuffer } from './types';
import { LeaseKeepAlive } from './lease';
import { WatchStream, type WatchHandlers, type WatchOptions, type Watcher } from './watch';

export interface EtcdClientOptions {
  /** `host:port` of each member. */
  endpoints: string[];
  /** Deadline for unary calls, in ms. Default 5000. */
  callTimeoutMs?: number;
}

export interface RangeOptions {
  /** Every key with `key` as prefix. */
  prefix?: boolean;
  /** Explicit range end (exclusive); `\0` means every key ≥ key. */
  rangeEnd?: Bytes;
  limit?: number;
  /** Read at this past revision; 0 or absent for the newest. */
  revision?: number;
  keysOnly?: boolean;
  countOnly?: boolean;
  /** Serve from the member's local state without a linearizable read. */
  serializable?: boolean;
  sort?: { order: 'ASCEND' | 'DESCEND'; target?: 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' };
  minModRevision?: number;
  maxModRevision?: number;
}

export interface RangeResult {
  kvs: KeyValue[];
  count: number;
  more: boolean;
  /** The store revision the answer reflects. */
  revision: number;
}

export interface Header {
  revision: number;
  memberId: string;
  clusterId: string;
  raftTerm: number;
}

/** A comparison in a transaction; each names its key and the target it compares. */
export type Compare =
  | { key: Bytes; target: 'MOD'; result: CompareResult; modRevision: number; rangeEnd?: Bytes }
  | { key: Bytes; target: 'CREATE'; result: CompareResult; createRevision: number; rangeEnd?: Bytes }
  | { key: Bytes; target: 'VERSION'; result: CompareResult; version: number; rangeEnd?: Bytes }
  | { key: Bytes; target: 'VALUE'; result: CompareResult; value: Bytes; rangeEnd?: Bytes }
  | { key: Bytes; target: 'LEASE'; result: CompareResult; lease: string; rangeEnd?: Bytes };
export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';

/** An operation in a transaction branch. */
export type TxnOp =
  | { put: { key: Bytes; value: Bytes; lease?: string; prevKv?: boolean } }
  | { range: { key: Bytes } & RangeOptions }
  | { delete: { key: Bytes; prefix?: boolean; rangeEnd?: Bytes; prevKv?: boolean } }
  | { txn: TxnRequest };

export interface TxnRequest {
  compare: Compare[];
  success: TxnOp[];
  failure?: TxnOp[];
}

export type TxnOpResult =
  | { put: { prevKv?: KeyValue } }
  | { range: RangeResult }
  | { delete: { deleted: number; prevKvs: KeyValue[] } }
  | { txn: TxnResult };

export interface TxnResult {
  succeeded: boolean;
  revision: number;
  results: TxnOpResult[];
}

export interface MemberInfo {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface EndpointStatus {
  version: string;
  dbSize: number;
  leader: string;
  memberId: string;
  raftIndex: number;
  raftTerm: number;
  /** The store revision this member has applied (from the answer's header). */
  revision: number;
}

type Unary<Req, Res> = (
  req: Req,
  meta: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: Res) => void,
) => grpc.ClientUnaryCall;

let proto: ProtoGrpcType | undefined;
function etcdProto(): ProtoGrpcType {
  proto ??= loadProto<ProtoGrpcType>('etcd/etcdserverpb/rpc.proto');
  return proto;
}

/** gRPC target for several endpoints: one channel that fails over between them. */
function targetFor(endpoints: string[]): string {
  if (endpoints.length === 0) throw new EtcdError('invalid', 'etcd client: no endpoints given', grpc.status.INVALID_ARGUMENT);
  if (endpoints.length === 1) return endpoints[0]!;
  const allIpv4 = endpoints.every((e) => /^\d+\.\d+\.\d+\.\d+:\d+$/.test(e));
  if (!allIpv4) return endpoints[0]!;
  return `ipv4:${endpoints.join(',')}`;
}

function header(h: ResponseHeader__Output | null): Header {
  return {
    revision: Number(h?.revision ?? 0),
    memberId: h?.member_id ?? '0',
    clusterId: h?.cluster_id ?? '0',
    raftTerm: Number(h?.raft_term ?? 0),
  };
}

// An empty range_end must be left out, not sent empty: etcd tells "absent" (one key) from
// "present but empty" (every key from `key` on) by nil-ness, and protobufjs writes an empty
// Buffer to the wire.
function rangeRequest(key: Bytes, opts: RangeOptions = {}): RangeRequest {
  const k = toBuffer(key);
  return {
    key: k,
    range_end: opts.prefix ? prefixEnd(k) : opts.rangeEnd !== undefined ? toBuffer(opts.rangeEnd) : undefined,
    limit: opts.limit ?? 0,
    revision: opts.revision ?? 0,
    keys_only: opts.keysOnly ?? false,
    count_only: opts.countOnly ?? false,
    serializable: opts.serializable ?? false,
    sort_order: opts.sort?.order ?? 'NONE',
    sort_target: opts.sort?.target ?? 'KEY',
    min_mod_revision: opts.minModRevision ?? 0,
    max_mod_revision: opts.maxModRevision ?? 0,
  };
}

function rangeResult(res: RangeResponse__Output): RangeResult {
  return { kvs: res.kvs.map(fromKv), count: Number(res.count), more: res.more, revision: header(res.header).revision };
}

function compareMsg(c: Compare): CompareMsg {
  const base = {
    key: toBuffer(c.key),
    result: c.result,
    target: c.target,
    range_end: c.rangeEnd !== undefined ? toBuffer(c.rangeEnd) : undefined,
  };
  switch (c.target) {
    case 'MOD':
      return { ...base, mod_revision: c.modRevision, target_union: 'mod_revision' };
    case 'CREATE':
      return { ...base, create_revision: c.createRevision, target_union: 'create_revision' };
    case 'VERSION':
      return { ...base, version: c.version, target_union: 'version' };
    case 'VALUE':
      return { ...base, value: toBuffer(c.value), target_union: 'value' };
    case 'LEASE':
      return { ...base, lease: c.lease, target_union: 'lease' };
  }
}

function opMsg(op: TxnOp): RequestOp {
  if ('put' in op) {
    const p = op.put;
    return { request_put: { key: toBuffer(p.key), value: toBuffer(p.value), lease: p.lease ?? '0', prev_kv: p.prevKv ?? false } };
  }
  if ('range' in op) return { request_range: rangeRequest(op.range.key, op.range) };
  if ('delete' in op) {
    const d = op.delete;
    const k = toBuffer(d.key);
    return {
      request_delete_range: {
        key: k,
        range_end: d.prefix ? prefixEnd(k) : d.rangeEnd !== undefined ? toBuffer(d.rangeEnd) : undefined,
        prev_kv: d.prevKv ?? false,
      },
    };
  }
  return { request_txn: txnMsg(op.txn) };
}

function txnMsg(t: TxnRequest) {
  return { compare: t.compare.map(compareMsg), success: t.success.map(opMsg), failure: (t.failure ?? []).map(opMsg) };
}

function opResult(r: ResponseOp__Output): TxnOpResult {
  if (r.response_put) return { put: r.response_put.prev_kv ? { prevKv: fromKv(r.response_put.prev_kv) } : {} };
  if (r.response_range) return { range: rangeResult(r.response_range) };
  if (r.response_delete_range) {
    return { delete: { deleted: Number(r.response_delete_range.deleted), prevKvs: r.response_delete_range.prev_kvs.map(fromKv) } };
  }
  const t = r.response_txn!;
  return { txn: { succeeded: t.succeeded, revision: header(t.header).revision, results: t.responses.map(opResult) } };
}

export class EtcdClient {
  private readonly channelTarget: string;
  private readonly kv: KVClient;
  private readonly leaseClient: LeaseClient;
  private readonly maintenance: MaintenanceClient;
  private readonly cluster: ClusterClient;
  private readonly watchClient: WatchClient;
  private readonly callTimeoutMs: number;
  private watchStream: WatchStream | undefined;
  private readonly keepAlives = new Set<LeaseKeepAlive>();
  private closed = false;

  constructor(readonly options: EtcdClientOptions) {
    const p = etcdProto().etcdserverpb;
    this.channelTarget = targetFor(options.endpoints);
    this.callTimeoutMs = options.callTimeoutMs ?? 5000;
    const creds = grpc.credentials.createInsecure();
    const channelOptions: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.max_send_message_length': 16 * 1024 * 1024,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2000,
      'grpc.keepalive_time_ms': 30_000,
    };
    this.kv = new p.KV(this.channelTarget, creds, channelOptions);
    // All services share the KV client's channel, so one connection carries everything.
    const shared = { channelOverride: this.kv.getChannel() };
    this.leaseClient = new p.Lease(this.channelTarget, creds, shared);
    this.maintenance = new p.Maintenance(this.channelTarget, creds, shared);
    this.cluster = new p.Cluster(this.channelTarget, creds, shared);
    this.watchClient = new p.Watch(this.channelTarget, creds, shared);
  }

  private call<Req, Res>(what: string, client: grpc.Client, fn: Unary<Req, Res>, req: Req, timeoutMs?: number): Promise<Res> {
    if (this.closed) return Promise.reject(new EtcdError('canceled', `${what}: client closed`, grpc.status.CANCELLED));
    return new Promise((resolve, reject) => {
      fn.call(
        client,
        req,
        new grpc.Metadata(),
        { deadline: Date.now() + (timeoutMs ?? this.callTimeoutMs), waitForReady: true },
        (err, res) => (err ? reject(EtcdError.fromGrpc(err, what)) : resolve(res!)),
      );
    });
  }

  async range(key: Bytes, opts: RangeOptions = {}): Promise<RangeResult> {
    const res = await this.call('range', this.kv, this.kv.Range as Unary<RangeRequest, RangeResponse__Output>, rangeRequest(key, opts));
    return rangeResult(res);
  }

  /** The key's current value, or undefined; with the revision of the read. */
  async get(key: Bytes, opts: Pick<RangeOptions, 'revision' | 'serializable'> = {}): Promise<{ kv?: KeyValue; revision: number }> {
    const res = await this.range(key, opts);
    return { kv: res.kvs[0], revision: res.revision };
  }

  async put(key: Bytes, value: Bytes, opts: { lease?: string; prevKv?: boolean } = {}): Promise<{ revision: number; prevKv?: KeyValue }> {
    const res = await this.call('put', this.kv, this.kv.Put as Unary<object, { header: ResponseHeader__Output | null; prev_kv: null | Parameters<typeof fromKv>[0] }>, {
      key: toBuffer(key),
      value: toBuffer(value),
      lease: opts.lease ?? '0',
      prev_kv: opts.prevKv ?? false,
    });
    return { revision: header(res.header).revision, ...(res.prev_kv ? { prevKv: fromKv(res.prev_kv) } : {}) };
  }

  async delete(
    key: Bytes,
    opts: { prefix?: boolean; rangeEnd?: Bytes; prevKv?: boolean } = {},
  ): Promise<{ revision: number; deleted: number; prevKvs: KeyValue[] }> {
    const req = opMsg({ delete: { key, ...opts } }).request_delete_range!;
    const res = await this.call('delete', this.kv, this.kv.DeleteRange as Unary<object, { header: ResponseHeader__Output | null; deleted: string; prev_kvs: Parameters<typeof fromKv>[0][] }>, req);
    return { revision: header(res.header).revision, deleted: Number(res.deleted), prevKvs: res.prev_kvs.map(fromKv) };
  }

  async txn(t: TxnRequest): Promise<TxnResult> {
    const res = await this.call('txn', this.kv, this.kv.Txn as Unary<object, { header: ResponseHeader__Output | null; succeeded: boolean; responses: ResponseOp__Output[] }>, txnMsg(t));
    return { succeeded: res.succeeded, revision: header(res.header).revision, results: res.responses.map(opResult) };
  }

  /** Compacts history before `revision`; with `physical`, answers once the space is freed. */
  async compact(revision: number, physical = false): Promise<{ revision: number }> {
    const res = await this.call('compact', this.kv, this.kv.Compact as Unary<object, { header: ResponseHeader__Output | null }>, { revision, physical }, 60_000);
    return { revision: header(res.header).revision };
  }

  /** Watches a key or range from a revision; events arrive in order, without gaps or duplicates. */
  watch(opts: WatchOptions, handlers: WatchHandlers): Watcher {
    if (this.closed) throw new EtcdError('canceled', 'watch: client closed', grpc.status.CANCELLED);
    this.watchStream ??= new WatchStream(this.watchClient);
    return this.watchStream.add(opts, handlers);
  }

  /** Asks the server to report the current revision on every watch (a progress notification). */
  requestWatchProgress(): void {
    this.watchStream?.requestProgress();
  }

  async leaseGrant(ttlSeconds: number, id = '0'): Promise<{ id: string; ttl: number }> {
    const res = await this.call('lease grant', this.leaseClient, this.leaseClient.LeaseGrant as Unary<object, { ID: string; TTL: string; error: string }>, { TTL: ttlSeconds, ID: id });
    if (res.error) throw new EtcdError('other', `lease grant: ${res.error}`, grpc.status.UNKNOWN);
    return { id: res.ID, ttl: Number(res.TTL) };
  }

  async leaseRevoke(id: string): Promise<void> {
    await this.call('lease revoke', this.leaseClient, this.leaseClient.LeaseRevoke as Unary<object, object>, { ID: id });
  }

  async leaseTimeToLive(id: string, keys = false): Promise<{ ttl: number; grantedTtl: number; keys: Buffer[] }> {
    const res = await this.call('lease time-to-live', this.leaseClient, this.leaseClient.LeaseTimeToLive as Unary<object, { TTL: string; grantedTTL: string; keys: Buffer[] }>, { ID: id, keys });
    return { ttl: Number(res.TTL), grantedTtl: Number(res.grantedTTL), keys: res.keys };
  }

  async leaseList(): Promise<string[]> {
    const res = await this.call('lease list', this.leaseClient, this.leaseClient.LeaseLeases as Unary<object, { leases: { ID: string }[] }>, {});
    return res.leases.map((l) => l.ID);
  }

  /** Keeps a lease alive until stopped; `onLost` fires if the server says it expired. */
  keepAlive(id: string, ttlSeconds: number, onLost?: (err: EtcdError) => void): LeaseKeepAlive {
    const keeper = new LeaseKeepAlive(this.leaseClient, id, ttlSeconds, onLost, () => this.keepAlives.delete(keeper));
    this.keepAlives.add(keeper);
    return keeper;
  }

  async status(): Promise<EndpointStatus> {
    const res = await this.call('status', this.maintenance, this.maintenance.Status as Unary<object, { version: string; dbSize: string; leader: string; raftIndex: string; raftTerm: string; header: ResponseHeader__Output | null }>, {});
    return {
      version: res.version,
      dbSize: Number(res.dbSize),
      leader: res.leader,
      memberId: header(res.header).memberId,
      raftIndex: Number(res.raftIndex),
      raftTerm: Number(res.raftTerm),
      revision: header(res.header).revision,
    };
  }

  async memberList(): Promise<MemberInfo[]> {
    const res = await this.call('member list', this.cluster, this.cluster.MemberList as Unary<object, { members: { ID: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner: boolean }[] }>, {});
    return res.members.map((m) => ({ id: m.ID, name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: m.isLearner }));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watchStream?.close();
    for (const k of this.keepAlives) k.stop();
    this.kv.close();
  }
}
