// The apiserver as the client sees it: every verb on any resource, objects as plain
// Kubernetes JSON. `ApiTransport` is the seam: GrpcTransport speaks keel.v1 to a real
// apiserver; FakeApi (./fake.ts) keeps objects in memory for unit tests. Everything above
// (typed clients, informers, leader election, events) is written against this interface
// only. Failures are always ApiError, so callers test `err.reason`, never gRPC codes.
import * as grpc from '@grpc/grpc-js';
import { ApiError, type KubeObject, type List, type Status, type WatchEventType } from '@keel/api';
import { loadProto } from '@keel/protos';
import type { ProtoGrpcType } from '@keel/protos/keel';
import type { ApiClient } from '@keel/protos/keel/v1/Api';
import type { DeleteResponse__Output } from '@keel/protos/keel/v1/DeleteResponse';
import type { ListResponse__Output } from '@keel/protos/keel/v1/ListResponse';
import type { ObjectResponse__Output } from '@keel/protos/keel/v1/ObjectResponse';
import type { PatchType as WirePatchType } from '@keel/protos/keel/v1/PatchType';
import type { WatchEvent__Output } from '@keel/protos/keel/v1/WatchEvent';
import { apiserverTarget } from './endpoints';
import { fromServiceError } from './status';

export interface GroupVersionResource {
  /** '' for the core group. */
  group: string;
  version: string;
  /** The plural, e.g. `pods`. */
  resource: string;
}

export interface CallOptions {
  /** The call's deadline, from now; the transport's default when absent. */
  timeoutMs?: number;
}

export interface WriteOptions extends CallOptions {
  dryRun?: boolean;
  fieldManager?: string;
}

export interface ListOptions extends CallOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** '' or absent: newest; '0': any (from the server's cache); a revision: not older than it. */
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  limit?: number;
  continue?: string;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Absent or '0': current objects first, as ADDED; a revision: every change after it. */
  resourceVersion?: string;
  allowBookmarks?: boolean;
  timeoutSeconds?: number;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

/** A create subresource of one object: `serviceaccounts/<name>/token`. */
export interface SubresourceTarget {
  name?: string;
  subresource?: string;
}

export interface PatchOptions extends WriteOptions {
  /** Apply only: take over fields other managers own. */
  force?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
}

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: Exclude<WatchEventType, 'ERROR'>;
  object: T;
}

export interface WatchHandlers<T extends KubeObject = KubeObject> {
  event(e: WatchEvent<T>): void;
  /**
   * The stream ended, once, unless the caller stopped it. `err` is the reason when it ended
   * badly: an ERROR event's Status (410 Expired: relist) or a failed call.
   */
  end(err?: ApiError): void;
}

export interface WatchHandle {
  /** Resolves once the server has the watch registered (rejects if it never did). */
  readonly established: Promise<void>;
  stop(): void;
}

export interface ApiTransport {
  get(gvr: GroupVersionResource, namespace: string | undefined, name: string, opts?: CallOptions & { subresource?: string; resourceVersion?: string }): Promise<KubeObject>;
  list(gvr: GroupVersionResource, namespace: string | undefined, opts?: ListOptions): Promise<List<KubeObject>>;
  /** POST a collection; with `name` and `subresource`, POST that create subresource of the object (serviceaccounts/token). */
  create(gvr: GroupVersionResource, namespace: string | undefined, object: KubeObject, opts?: WriteOptions & SubresourceTarget): Promise<KubeObject>;
  update(gvr: GroupVersionResource, namespace: string | undefined, name: string, object: KubeObject, opts?: WriteOptions & { subresource?: string }): Promise<KubeObject>;
  patch(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    opts?: PatchOptions & { subresource?: string },
  ): Promise<KubeObject>;
  delete(gvr: GroupVersionResource, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<{ object: KubeObject; removed: boolean }>;
  deleteCollection(gvr: GroupVersionResource, namespace: string | undefined, opts?: ListOptions & DeleteOptions): Promise<List<KubeObject>>;
  watch(gvr: GroupVersionResource, namespace: string | undefined, opts: WatchOptions, handlers: WatchHandlers): WatchHandle;
  bind(namespace: string, name: string, nodeName: string, opts?: WriteOptions & { uid?: string }): Promise<KubeObject>;
  close(): void;
}

export interface GrpcTransportOptions {
  /**
   * `host:port` of the apiserver's gRPC port, or several IPv4 `a.b.c.d:port` comma-separated:
   * the channel then uses the first that connects and fails over to the next.
   */
  address: string;
  /** TLS: the cluster CA (PEM), and a client certificate and key when the client has one. */
  tls?: { ca: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
  /** A bearer token (static or ServiceAccount), sent with every call. */
  token?: string;
  /** Channel credentials as built by the caller; wins over `tls`. Plain text when neither is given. */
  credentials?: grpc.ChannelCredentials;
  /** Deadline of each unary call, in ms. Default 10 000. */
  callTimeoutMs?: number;
  /** Metadata sent with every call (a bearer token, once authentication is on). */
  metadata?: () => grpc.Metadata;
}

const wirePatchTypes: Record<PatchType, WirePatchType> = {
  json: 'JSON_PATCH',
  merge: 'MERGE_PATCH',
  strategic: 'STRATEGIC_MERGE_PATCH',
  apply: 'APPLY_PATCH',
};

const MAX_MESSAGE = 64 * 1024 * 1024;

function encode(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function decode<T = KubeObject>(bytes: Buffer): T {
  return JSON.parse(bytes.toString('utf8')) as T;
}

function writeOptions(opts: WriteOptions | undefined) {
  return { dry_run: opts?.dryRun ?? false, field_manager: opts?.fieldManager ?? '' };
}

function listOptions(opts: ListOptions | undefined) {
  return {
    label_selector: opts?.labelSelector ?? '',
    field_selector: opts?.fieldSelector ?? '',
    resource_version: opts?.resourceVersion ?? '',
    resource_version_match: opts?.resourceVersionMatch ?? '',
    limit: opts?.limit ?? 0,
    continue: opts?.continue ?? '',
  };
}

function deleteOptionsJson(opts: DeleteOptions | undefined): Buffer {
  if (!opts) return Buffer.alloc(0);
  const { gracePeriodSeconds, preconditions, propagationPolicy } = opts;
  const body = {
    ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}),
    ...(preconditions ? { preconditions } : {}),
    ...(propagationPolicy ? { propagationPolicy } : {}),
  };
  return Object.keys(body).length > 0 ? encode({ kind: 'DeleteOptions', apiVersion: 'v1', ...body }) : Buffer.alloc(0);
}

function fromListResponse(res: ListResponse__Output): List<KubeObject> {
  return {
    kind: res.kind,
    apiVersion: res.api_version,
    metadata: {
      resourceVersion: res.resource_version,
      ...(res.continue ? { continue: res.continue } : {}),
      ...(res.remaining_item_count !== undefined ? { remainingItemCount: Number(res.remaining_item_count) } : {}),
    },
    items: res.items.map((b) => decode(b)),
  };
}

let cachedProto: ProtoGrpcType | undefined;
function keelProto(): ProtoGrpcType {
  return (cachedProto ??= loadProto<ProtoGrpcType>('keel/v1/keel.proto'));
}

/** keel.v1 over one gRPC channel; every unary call has a deadline. */
export class GrpcTransport implements ApiTransport {
  private readonly stub: ApiClient;
  private readonly callTimeoutMs: number;

  constructor(private readonly opts: GrpcTransportOptions) {
    const Api = keelProto().keel.v1.Api;
    const pem = (v: string | Buffer | undefined) => (v === undefined ? null : Buffer.from(v));
    const credentials = opts.credentials ?? (opts.tls ? grpc.credentials.createSsl(pem(opts.tls.ca), pem(opts.tls.key), pem(opts.tls.cert)) : grpc.credentials.createInsecure());
    // A single address goes to grpc-js as given (it may be any target it knows); a list
    // becomes one ipv4: target.
    const target = opts.address.includes(',') ? apiserverTarget(opts.address) : opts.address;
    this.stub = new Api(target, credentials, {
      'grpc.max_receive_message_length': MAX_MESSAGE,
      'grpc.max_send_message_length': MAX_MESSAGE,
      // A watch may be silent for minutes: pings find a dead server (or path) long before TCP does.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
    });
    this.callTimeoutMs = opts.callTimeoutMs ?? 10_000;
  }

  /** Each call's metadata: the caller's, with the bearer token. */
  private metadata(): grpc.Metadata {
    const metadata = this.opts.metadata?.() ?? new grpc.Metadata();
    if (this.opts.token) metadata.set('authorization', `Bearer ${this.opts.token}`);
    return metadata;
  }

  private call<Res>(
    opts: CallOptions | undefined,
    invoke: (metadata: grpc.Metadata, options: grpc.CallOptions, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall,
  ): Promise<Res> {
    const metadata = this.metadata();
    const deadline = Date.now() + (opts?.timeoutMs ?? this.callTimeoutMs);
    return new Promise<Res>((resolve, reject) => {
      invoke(metadata, { deadline }, (err, res) => (err || !res ? reject(fromServiceError(err)) : resolve(res)));
    });
  }

  async get(gvr: GroupVersionResource, namespace: string | undefined, name: string, opts: CallOptions & { subresource?: string; resourceVersion?: string } = {}) {
    const res = await this.call<ObjectResponse__Output>(opts, (md, co, cb) => this.stub.Get({ resource: { ...gvr, namespace: namespace ?? '' }, name, subresource: opts.subresource ?? '', resource_version: opts.resourceVersion ?? '' }, md, co, cb));
    return decode(res.object);
  }

  async list(gvr: GroupVersionResource, namespace: string | undefined, opts: ListOptions = {}) {
    return fromListResponse(await this.call<ListResponse__Output>(opts, (md, co, cb) => this.stub.List({ resource: { ...gvr, namespace: namespace ?? '' }, options: listOptions(opts) }, md, co, cb)));
  }

  async create(gvr: GroupVersionResource, namespace: string | undefined, object: KubeObject, opts: WriteOptions & SubresourceTarget = {}) {
    const res = await this.call<ObjectResponse__Output>(opts, (md, co, cb) =>
      this.stub.Create({ resource: { ...gvr, namespace: namespace ?? '' }, object: encode(object), options: writeOptions(opts), name: opts.name ?? '', subresource: opts.subresource ?? '' }, md, co, cb),
    );
    return decode(res.object);
  }

  async update(gvr: GroupVersionResource, namespace: string | undefined, name: string, object: KubeObject, opts: WriteOptions & { subresource?: string } = {}) {
    const res = await this.call<ObjectResponse__Output>(opts, (md, co, cb) => this.stub.Update({ resource: { ...gvr, namespace: namespace ?? '' }, name, subresource: opts.subresource ?? '', object: encode(object), options: writeOptions(opts) }, md, co, cb));
    return decode(res.object);
  }

  async patch(gvr: GroupVersionResource, namespace: string | undefined, name: string, type: PatchType, patch: unknown, opts: PatchOptions & { subresource?: string } = {}) {
    const res = await this.call<ObjectResponse__Output>(opts, (md, co, cb) => this.stub.Patch({
        resource: { ...gvr, namespace: namespace ?? '' },
        name,
        subresource: opts.subresource ?? '',
        type: wirePatchTypes[type],
        patch: encode(patch),
        options: writeOptions(opts),
        force: opts.force ?? false,
      }, md, co, cb));
    return decode(res.object);
  }

  async delete(gvr: GroupVersionResource, namespace: string | undefined, name: string, opts: DeleteOptions = {}) {
    const res = await this.call<DeleteResponse__Output>(opts, (md, co, cb) => this.stub.Delete({ resource: { ...gvr, namespace: namespace ?? '' }, name, delete_options: deleteOptionsJson(opts), options: writeOptions(opts) }, md, co, cb));
    return { object: decode(res.object), removed: res.removed };
  }

  async deleteCollection(gvr: GroupVersionResource, namespace: string | undefined, opts: ListOptions & DeleteOptions = {}) {
    const res = await this.call<ListResponse__Output>(opts, (md, co, cb) => this.stub.DeleteCollection({ resource: { ...gvr, namespace: namespace ?? '' }, list_options: listOptions(opts), delete_options: deleteOptionsJson(opts), options: writeOptions(opts) }, md, co, cb));
    return fromListResponse(res);
  }

  async bind(namespace: string, name: string, nodeName: string, opts: WriteOptions & { uid?: string } = {}) {
    const res = await this.call<ObjectResponse__Output>(opts, (md, co, cb) => this.stub.Bind({ namespace, name, node_name: nodeName, uid: opts.uid ?? '', options: writeOptions(opts) }, md, co, cb));
    return decode(res.object);
  }

  watch(gvr: GroupVersionResource, namespace: string | undefined, opts: WatchOptions, handlers: WatchHandlers): WatchHandle {
    const metadata = this.metadata();
    const call = this.stub.Watch(
      {
        resource: { ...gvr, namespace: namespace ?? '' },
        label_selector: opts.labelSelector ?? '',
        field_selector: opts.fieldSelector ?? '',
        resource_version: opts.resourceVersion ?? '',
        allow_bookmarks: opts.allowBookmarks ?? false,
        timeout_seconds: opts.timeoutSeconds ?? 0,
      },
      metadata,
    );
    let done = false;
    let stopped = false;
    let settle: { resolve: () => void; reject: (e: unknown) => void } | undefined;
    const established = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    // Nobody may be waiting on it; an unobserved rejection must not crash the process.
    established.catch(() => undefined);
    const finish = (err?: ApiError) => {
      if (done) return;
      done = true;
      settle?.reject(err ?? new ApiError('Timeout', 'the watch ended before it was established'));
      if (!stopped) handlers.end(err);
    };
    // The server sends its headers once the watch is registered.
    call.on('metadata', () => settle?.resolve());
    call.on('data', (e: WatchEvent__Output) => {
      if (done) return;
      const object = decode(e.object);
      if (e.type === 'ERROR') {
        finish(ApiError.fromStatus(object as unknown as Status));
        call.cancel();
        return;
      }
      if (e.type === 'EVENT_TYPE_UNSPECIFIED') return;
      settle?.resolve();
      handlers.event({ type: e.type, object });
    });
    call.on('error', (err: grpc.ServiceError) => {
      if (stopped && err.code === grpc.status.CANCELLED) return;
      finish(fromServiceError(err));
    });
    call.on('end', () => finish());
    return {
      established,
      stop: () => {
        if (stopped) return;
        stopped = true;
        done = true;
        settle?.reject(new ApiError('Timeout', 'the watch was stopped'));
        call.cancel();
      },
    };
  }

  close(): void {
    this.stub.close();
  }
}
