// The gRPC adapter (keel.v1, protos/keel/v1/keel.proto): the API for Keel's own parts,
// over the same ApiHandler as REST. It turns each message into the handler call its REST
// twin makes (the shared rules of patch, scale and binding live in ../registry), renders
// objects as their Kubernetes JSON, streams watches with bookmarks and the 410 ERROR event
// REST sends, and answers every failure with ApiError's gRPC code and the meta/v1 Status in
// the `keel-status-bin` trailer, so the client rebuilds the same ApiError.
//
// Authentication and authorization are hooks, so the REST side's authenticator and RBAC
// can be wired in without this file knowing them: `authenticate` sees each call's metadata
// (a bearer token) and TLS peer certificate, `authorize` the Kubernetes request attributes
// (verb, group, resource, subresource, namespace, name), and `runAs` wraps the work; the
// first two throw an ApiError (Unauthorized, Forbidden) to refuse. With no hooks every call
// is allowed: listen on loopback only until they are wired.
import * as grpc from '@grpc/grpc-js';
import { ApiError, ApiErrors, formatGroupVersion, type DeleteOptions, type KubeObject, type ResourceInfo, type Scheme, type Verb } from '@keel/api';
import { toServiceError } from '@keel/client';
import { loadProto } from '@keel/protos';
import type { ProtoGrpcType } from '@keel/protos/keel';
import type { ApiHandlers } from '@keel/protos/keel/v1/Api';
import type { ListResponse } from '@keel/protos/keel/v1/ListResponse';
import type { PatchType as WirePatchType } from '@keel/protos/keel/v1/PatchType';
import type { ResourceRef__Output } from '@keel/protos/keel/v1/ResourceRef';
import type { WatchEvent } from '@keel/protos/keel/v1/WatchEvent';
import type { WatchRequest__Output } from '@keel/protos/keel/v1/WatchRequest';
import type { WriteOptions__Output } from '@keel/protos/keel/v1/WriteOptions';
import type { ApiHandler, ListBody, WriteOptions } from '../registry/handler';
import { patchObject, type PatchType } from '../registry/patch';
import { checkDeleteOptions, checkFieldManager, compileListQuery } from '../registry/query';
import { bindPod, patchScale, readScale, updateScale } from '../registry/subresources';

/** What a request asks to do, in RBAC's terms. */
export interface RequestAttributes {
  verb: Verb;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

export interface GrpcCallInfo {
  /** The RPC: `Get`, `Watch`, ... */
  method: string;
  /** The call's metadata: `authorization: Bearer <token>` for token clients. */
  metadata: grpc.Metadata;
  peer: string;
  /** The TLS peer certificate, when the client sent one (grpc-js does not say whether it verified). */
  authContext: ReturnType<grpc.ServerUnaryCall<unknown, unknown>['getAuthContext']>;
}

export interface GrpcApiOptions {
  scheme: Scheme;
  handler: ApiHandler;
  /** How often an idle watch gets a BOOKMARK, when the client allows them. Default 60 s. */
  bookmarkIntervalMs?: number;
  now?: () => Date;
  /** Who is calling; throws ApiError('Unauthorized') to refuse. Absent: everyone is anonymous. */
  authenticate?: (call: GrpcCallInfo) => unknown;
  /** Whether the caller may; throws ApiError('Forbidden') to refuse. Absent: everything is allowed. */
  authorize?: (user: unknown, attributes: RequestAttributes) => unknown;
  /**
   * Create subresources served beside the handler, by `resource/subresource`
   * (`serviceaccounts/token`: the TokenRequest, signed by the REST side's token issuer).
   * Called after the caller was authorized for `create` on that subresource.
   */
  createSubresources?: Record<string, (namespace: string, name: string, body: unknown) => Promise<unknown>>;
  /** Runs the call's work as the user (in-flight limits, the escalation guard's context). */
  runAs?: <T>(user: unknown, attributes: RequestAttributes, work: () => Promise<T>) => Promise<T>;
  log?: (entry: Record<string, unknown>) => void;
}

/** Bodies over this are refused, as REST refuses them (Kubernetes' 3 MiB). */
const MAX_OBJECT_BYTES = 3 * 1024 * 1024;
/** A watcher with this many events unsent is too far behind and is cut off. */
const MAX_PENDING_EVENTS = 10_000;

const patchTypes: Partial<Record<WirePatchType, PatchType>> = {
  JSON_PATCH: 'json',
  MERGE_PATCH: 'merge',
  STRATEGIC_MERGE_PATCH: 'strategic',
  APPLY_PATCH: 'apply',
};

function parseObject(bytes: Buffer, what = 'object'): unknown {
  if (bytes.length > MAX_OBJECT_BYTES) throw new ApiError('RequestEntityTooLarge', `the ${what} is ${bytes.length} bytes, larger than the limit of ${MAX_OBJECT_BYTES}`);
  if (bytes.length === 0) throw ApiErrors.badRequest(`the ${what} is empty`);
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (err) {
    throw ApiErrors.badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function writeOptions(w: WriteOptions__Output | null | undefined, withManager = true): WriteOptions {
  return {
    ...(w?.dry_run ? { dryRun: true } : {}),
    ...(withManager && w?.field_manager ? { fieldManager: checkFieldManager(w.field_manager) } : {}),
  };
}

function deleteOptions(bytes: Buffer): DeleteOptions {
  if (bytes.length === 0) return {};
  const parsed = parseObject(bytes, 'DeleteOptions');
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw ApiErrors.badRequest('DeleteOptions must be an object');
  return checkDeleteOptions(parsed as DeleteOptions);
}

function listResponse(list: ListBody): ListResponse {
  return {
    kind: list.kind,
    api_version: list.apiVersion,
    resource_version: list.metadata.resourceVersion,
    continue: list.metadata.continue ?? '',
    ...(list.metadata.remainingItemCount !== undefined ? { remaining_item_count: list.metadata.remainingItemCount } : {}),
    items: list.items.map(json),
  };
}

function notFound(): ApiError {
  return new ApiError('NotFound', 'the server could not find the requested resource');
}

export class GrpcApiServer {
  readonly server: grpc.Server;
  private readonly now: () => Date;
  /** Open watches, ended on stop so the server can drain. */
  private readonly watches = new Set<() => void>();

  constructor(private readonly opts: GrpcApiOptions) {
    this.now = opts.now ?? (() => new Date());
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': 2 * MAX_OBJECT_BYTES,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
      // Pings find clients that vanished, so their watches end and free their subscriptions.
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
    });
    const proto = loadProto<ProtoGrpcType>('keel/v1/keel.proto');
    this.server.addService(proto.keel.v1.Api.service, this.handlers());
  }

  /** Listens on host:port (port 0 picks a free one); resolves to the port. */
  listen(address: string, credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
    return new Promise((resolve, reject) =>
      this.server.bindAsync(address, credentials, (err, port) => (err ? reject(new Error(`cannot listen on ${address} for gRPC: ${err.message}`)) : resolve(port))),
    );
  }

  /** Ends open watches, lets unary calls finish (up to graceMs), then closes. */
  async stop(graceMs = 2000): Promise<void> {
    for (const end of [...this.watches]) end();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private info(ref: ResourceRef__Output | null): ResourceInfo {
    if (!ref?.resource || !ref.version) throw ApiErrors.badRequest('the request must name a resource (group, version, resource)');
    const info = this.opts.scheme.byGVR({ group: ref.group, version: ref.version, resource: ref.resource });
    if (!info) throw notFound();
    return info;
  }

  private namespace(info: ResourceInfo, ref: ResourceRef__Output | null): string | undefined {
    return info.namespaced && ref?.namespace ? ref.namespace : undefined;
  }

  private checkSubresource(info: ResourceInfo, subresource: string, allowed: readonly string[]): void {
    if (!subresource) return;
    if (!info.subresources.some((s) => s.name === subresource)) throw notFound();
    if (!allowed.includes(subresource)) {
      throw new ApiError('MethodNotAllowed', `keel.v1 does not serve ${info.resource}/${subresource} for this call`);
    }
  }

  /** Authenticates and authorizes one call, then does its work as that user. */
  private async guard<T>(
    method: string,
    call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>,
    verb: Verb,
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    subresource: string,
    work: () => Promise<T>,
  ): Promise<T> {
    const { authenticate, authorize, runAs } = this.opts;
    if (!authenticate && !authorize) return work();
    const user = await authenticate?.({ method, metadata: call.metadata, peer: call.getPeer(), authContext: call.getAuthContext() });
    const attributes: RequestAttributes = { verb, group: info.group, version: info.version, resource: info.resource, subresource, namespace: namespace ?? '', name };
    await authorize?.(user, attributes);
    return runAs ? runAs(user, attributes, work) : work();
  }

  /** Wraps a unary method: errors become ApiError statuses, and every call is logged. */
  private unary<Req, Res>(method: string, fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const started = Date.now();
      fn(call.request, call).then(
        (res) => {
          this.opts.log?.({ msg: 'grpc', method, code: 'OK', ms: Date.now() - started });
          callback(null, res);
        },
        (err: unknown) => {
          const status = toServiceError(err);
          this.opts.log?.({ msg: 'grpc', method, code: grpc.status[status.code], ms: Date.now() - started });
          callback(status);
        },
      );
    };
  }

  private handlers(): ApiHandlers {
    const { handler } = this.opts;
    return {
      Get: this.unary('Get', async (req, call) => {
        const info = this.info(req.resource);
        const ns = this.namespace(info, req.resource);
        this.checkSubresource(info, req.subresource, ['status', 'scale']);
        return this.guard('Get', call, 'get', info, ns, req.name, req.subresource, async () => {
          if (req.subresource === 'scale') return { object: json(await readScale(handler, info, ns, req.name)) };
          return { object: json(await handler.get(info, ns, req.name, req.resource_version ? { resourceVersion: req.resource_version } : {})) };
        });
      }),
      List: this.unary('List', async (req, call) => {
        const info = this.info(req.resource);
        const ns = this.namespace(info, req.resource);
        return this.guard('List', call, 'list', info, ns, '', '', async () => {
          const o = req.options;
          const query = compileListQuery(info, {
            labelSelector: o?.label_selector ?? '',
            fieldSelector: o?.field_selector ?? '',
            limit: Number(o?.limit ?? 0),
            continue: o?.continue ?? '',
            // Absent and '' both mean "the newest", as on REST.
            ...(o?.resource_version ? { resourceVersion: o.resource_version } : {}),
            resourceVersionMatch: o?.resource_version_match ?? '',
          });
          return listResponse(await handler.list(info, ns, query));
        });
      }),
      Create: this.unary('Create', async (req, call) => {
        const info = this.info(req.resource);
        const ns = this.namespace(info, req.resource);
        if (req.subresource || req.name) {
          // POST .../{name}/{subresource}: only the create subresources this server was given.
          const serve = this.opts.createSubresources?.[`${info.resource}/${req.subresource}`];
          if (!serve || !req.name || !ns) throw notFound();
          return this.guard('Create', call, 'create', info, ns, req.name, req.subresource, async () => ({ object: json(await serve(ns, req.name, parseObject(req.object))) }));
        }
        return this.guard('Create', call, 'create', info, ns, '', '', async () => {
          return { object: json(await handler.create(info, ns, parseObject(req.object), writeOptions(req.options))) };
        });
      }),
      Update: this.unary('Update', async (req, call) => {
        const info = this.info(req.resource);
        const ns = this.namespace(info, req.resource);
        this.checkSubresource(info, req.subresource, ['status', 'scale', 'finalize']);
        return this.guard('Update', call, 'update', info, ns, req.name, req.subresource, async () => {
          const body = parseObject(req.object);
          const opts = writeOptions(req.options);
          if (req.subresource === 'scale') return { object: json(await updateScale(handler, info, ns, req.name, () => body, opts)) };
          // namespaces/finalize changes only spec.finalizers, as over REST.
          const part = req.subresource === 'status' ? 'status' : req.subresource === 'finalize' ? 'finalize' : 'main';
          return { object: json(await handler.update(info, ns, req.name, () => body, { ...opts, part })) };
        });
      }),
      Patch: this.unary('Patch', async (req, call) => {
        const info = this.info(req.resource);
        const ns = this.namespace(info, req.resource);
        this.checkSubresource(info, req.subresource, ['status', 'scale']);
        const type = patchTypes[req.type];
        if (!type) throw ApiErrors.badRequest('the patch type is missing: one of JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH');
        return this.guard('Patch', call, 'patch', info, ns, req.name, req.subresource, async () => {
          const patch = parseObject(req.patch, 'patch');
          const options = writeOptions(req.options);
          if (req.subresource === 'scale') return { object: json(await updateScale(handler, info, ns, req.name, patchScale(type, patch), options)) };
          const part = req.subresource === 'status' ? 'status' : 'main';
          const { object } = await patchObject(handler, info, ns, req.name, { type, patch: patch as never, part, options, force: req.force, now: this.now() });
          return { object: json(object) };
        });
      }),
      Delete: this.unary('Delete', async (req, call) => {
        const info = this.info(req.resource);
        const ns = this.namespace(info, req.resource);
        return this.guard('Delete', call, 'delete', info, ns, req.name, '', async () => {
          const { object, removed } = await handler.delete(info, ns, req.name, deleteOptions(req.delete_options), writeOptions(req.options, false));
          return { object: json(object), removed };
        });
      }),
      DeleteCollection: this.unary('DeleteCollection', async (req, call) => {
        const info = this.info(req.resource);
        const ns = this.namespace(info, req.resource);
        return this.guard('DeleteCollection', call, 'deletecollection', info, ns, '', '', async () => {
          const o = req.list_options;
          const query = compileListQuery(info, {
            labelSelector: o?.label_selector ?? '',
            fieldSelector: o?.field_selector ?? '',
            ...(o?.resource_version ? { resourceVersion: o.resource_version } : {}),
          });
          return listResponse(await handler.deleteCollection(info, ns, query, deleteOptions(req.delete_options), writeOptions(req.options, false)));
        });
      }),
      Bind: this.unary('Bind', async (req, call) => {
        const info = this.opts.scheme.byGVR({ group: '', version: 'v1', resource: 'pods' });
        if (!info) throw notFound();
        if (!req.namespace || !req.name) throw ApiErrors.badRequest('a binding names the pod: namespace and name');
        return this.guard('Bind', call, 'create', info, req.namespace, req.name, 'binding', async () => {
          const opts = { ...(req.uid ? { uid: req.uid } : {}), ...(req.options?.dry_run ? { dryRun: true } : {}) };
          return { object: json(await bindPod(handler, info, req.namespace, req.name, req.node_name, opts)) };
        });
      }),
      Watch: (call) => void this.watch(call),
    };
  }

  /** Streams watch events until the client leaves, the timeout passes or the server ends it. */
  private async watch(call: grpc.ServerWritableStream<WatchRequest__Output, WatchEvent>): Promise<void> {
    const req = call.request;
    let open = true;
    let lastRevision = 0;
    let subscription: { close(): void } | undefined;
    let bookmarkTimer: NodeJS.Timeout | undefined;
    let timeout: NodeJS.Timeout | undefined;
    const write = (type: WatchEvent['type'], object: unknown): boolean => {
      if (!open) return false;
      call.write({ type, object: json(object) });
      // A client this far behind would hold memory without bound: cut it off.
      return call.writableLength < MAX_PENDING_EVENTS;
    };
    const finish = () => {
      if (!open) return;
      open = false;
      this.watches.delete(finish);
      clearInterval(bookmarkTimer);
      clearTimeout(timeout);
      subscription?.close();
      if (!call.cancelled) call.end();
    };
    this.watches.add(finish);
    call.on('cancelled', finish);
    try {
      const info = this.info(req.resource);
      const ns = this.namespace(info, req.resource);
      // A watch outlives this call's work: only its admission runs as the user.
      await this.guard('Watch', call, 'watch', info, ns, '', '', async () => undefined);
      const query = compileListQuery(info, {
        labelSelector: req.label_selector,
        fieldSelector: req.field_selector,
        ...(req.resource_version ? { resourceVersion: req.resource_version } : {}),
      });
      const timeoutSeconds = Number(req.timeout_seconds) || 1800 + Math.floor(Math.random() * 1800);
      timeout = setTimeout(finish, timeoutSeconds * 1000);
      timeout.unref();
      if (req.allow_bookmarks) {
        bookmarkTimer = setInterval(() => {
          if (lastRevision > 0) write('BOOKMARK', { kind: info.kind, apiVersion: formatGroupVersion(info), metadata: { resourceVersion: String(lastRevision) } });
        }, this.opts.bookmarkIntervalMs ?? 60_000);
        bookmarkTimer.unref();
      }
      subscription = await this.opts.handler.watch(info, ns, query, {
        send: (type, object: KubeObject) => {
          lastRevision = Math.max(lastRevision, Number(object.metadata.resourceVersion ?? 0));
          return write(type, object);
        },
        progress: (revision) => {
          lastRevision = Math.max(lastRevision, revision);
        },
        end: (reason, gone) => {
          if (gone) write('ERROR', ApiErrors.gone(reason).toStatus());
          finish();
        },
      });
      if (!open) {
        subscription.close();
        return;
      }
      // The headers tell the client the watch is registered: changes from now on reach it.
      call.sendMetadata(new grpc.Metadata());
    } catch (err) {
      if (!open) return;
      if (err instanceof ApiError && (err.reason === 'Expired' || err.reason === 'Gone')) {
        // As REST does: a watch from a version that is gone starts, then says so in an ERROR event.
        write('ERROR', err.toStatus());
        finish();
        return;
      }
      open = false;
      this.watches.delete(finish);
      clearInterval(bookmarkTimer);
      clearTimeout(timeout);
      call.emit('error', toServiceError(err));
    }
  }
}
