// The one request handler behind both adapters (REST for kubectl and client libraries,
// gRPC for Keel's own parts): every verb on every resource, with Kubernetes' semantics.
// It owns the generic rules — identity and timestamps on create, the spec/status split,
// generation, no-op updates that write nothing, graceful deletion with finalizers, list and
// watch through the watch cache — and defers what is particular to a resource to its
// Strategy. Adapters parse their wire format into these calls and render what comes back.
import {
  ApiError,
  ApiErrors,
  recordUpdate,
  schemaFor,
  type PatchJsonObject,
  decodeObject,
  deepCopy,
  deepEqual,
  formatGroupVersion,
  generateName,
  prepareForCreate,
  prepareForFinalize,
  prepareForStatusUpdate,
  prepareForUpdate,
  validateStatusUpdate,
  parseGroupVersion,
  storeKey,
  storePrefix,
  type DeleteOptions,
  type KubeObject,
  type ResourceInfo,
  type StatusCause,
} from '@keel/api';
import type { EtcdClient } from '@keel/etcd-client';
import { ObjectStore, UNCHANGED, type ResourceRef } from '../storage/store';
import { WatchCache, type Subscriber, type Subscription } from '../storage/watch-cache';
import type { Strategy, StrategyTable } from './strategy';

export interface HandlerDeps {
  etcd: EtcdClient;
  strategies: StrategyTable;
  now?: () => Date;
  /** A new UID (RFC 4122 v4 in production). */
  uid: () => string;
  /** Uniform in [0,1), for generateName suffixes. */
  random: () => number;
  /** Seconds objects of a resource live after their last write (Events: --event-ttl); undefined for ever. */
  ttlSeconds?: (ref: { group?: string; resource: string }) => number | undefined;
}

export interface ListQuery {
  labelSelector?: (o: KubeObject) => boolean;
  fieldSelector?: (o: KubeObject) => boolean;
  limit?: number;
  continue?: string;
  /** As sent: undefined, '0' or a number as a string. */
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
}

export interface ListBody {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: KubeObject[];
}

/** Which part of an object a write may change. */
/** Which part of an object a write may change: the main resource, its status, or (namespaces) its finalizers. */
export type WritePart = 'main' | 'status' | 'finalize';

export interface WriteOptions {
  dryRun?: boolean;
  /** Which part of the object this write may change (the status subresource writes status). */
  part?: WritePart;
  /**
   * The change is the server's own (a binding setting spec.nodeName), not a client's
   * object: the update rules that guard client writes, immutable fields among them, do not apply.
   */
  serverSide?: boolean;
  /** Records this write in metadata.managedFields under that manager (operation Update). */
  fieldManager?: string;
}

export class ApiHandler {
  readonly store: ObjectStore;
  private readonly caches = new Map<string, WatchCache>();
  private readonly now: () => Date;

  constructor(private readonly deps: HandlerDeps) {
    this.store = new ObjectStore(deps.etcd, deps.ttlSeconds ? { ttlSeconds: deps.ttlSeconds } : {});
    this.now = deps.now ?? (() => new Date());
  }

  private strategy(info: ResourceInfo): Strategy {
    return this.deps.strategies(info);
  }

  /** The watch cache of a resource (all namespaces), started on first use. */
  cache(info: ResourceInfo): WatchCache {
    let cache = this.caches.get(info.resource);
    if (!cache) {
      cache = new WatchCache(this.deps.etcd, this.store, storePrefix(info));
      this.caches.set(info.resource, cache);
    }
    return cache;
  }

  stop(): void {
    for (const cache of this.caches.values()) cache.stop();
  }

  /**
   * Starts the watch cache of every resource now, as kube-apiserver does at startup: a
   * client that lists (at revision R) and then watches from R must find R inside the
   * cache's history, which holds only what happened after the cache started.
   */
  async startCaches(infos: readonly ResourceInfo[]): Promise<void> {
    await Promise.all(infos.filter((i) => i.verbs.includes('watch')).map((i) => this.cache(i).start()));
  }

  private ref(info: ResourceInfo): ResourceRef {
    return { group: info.group, resource: info.resource };
  }

  private key(info: ResourceInfo, namespace: string | undefined, name: string): string {
    if (info.namespaced && !namespace) throw ApiErrors.badRequest('a namespace is required for a namespaced resource');
    return storeKey(info, info.namespaced ? namespace : undefined, name);
  }

  // ---- reads ----

  async get(info: ResourceInfo, namespace: string | undefined, name: string, opts: { resourceVersion?: string } = {}): Promise<KubeObject> {
    const key = this.key(info, namespace, name);
    if (opts.resourceVersion === '0') {
      // "Any version": the watch cache answers without a round trip to the store.
      const cache = this.cache(info);
      await cache.start();
      const cached = cache.objects.get(key);
      if (!cached) throw ApiErrors.notFound(this.ref(info), name);
      return deepCopy(cached);
    }
    return this.store.get(this.ref(info), key, name);
  }

  async list(info: ResourceInfo, namespace: string | undefined, q: ListQuery = {}): Promise<ListBody> {
    const prefix = storePrefix(info, info.namespaced ? namespace : undefined);
    const predicate = combine(q.labelSelector, q.fieldSelector);
    const rv = parseResourceVersion(q.resourceVersion);
    let items: KubeObject[];
    let resourceVersion: string;
    let cont: string | undefined;
    let remaining: number | undefined;
    let fromCache = q.resourceVersion === '0' || (rv > 0 && q.resourceVersionMatch !== 'Exact' && !q.continue && !q.limit);
    const cache = this.cache(info);
    if (fromCache && q.resourceVersion === '0') {
      // Any version is allowed, but never one older than what this server has acknowledged
      // for this resource, so a client that wrote and then lists sees its write (its event is
      // on the way to this cache). If it does not arrive in time, the store answers.
      fromCache = await cache.waitFor(this.lastWrite.get(info.resource) ?? 0).then(
        () => true,
        () => false,
      );
    } else if (fromCache) {
      // Not older than rv: the cache if it has applied that far, else the store's current
      // state once the store has reached rv (a revision from the future waits, then 429s).
      await cache.start();
      if (cache.revision < rv) {
        if ((await this.store.currentRevision()) < rv) await cache.waitFor(rv, { progress: true });
        fromCache = cache.revision >= rv;
      }
    }
    if (fromCache) {
      const inPrefix = (o: KubeObject) => (info.namespaced && namespace ? o.metadata.namespace === namespace : true);
      const listed = cache.list((o) => inPrefix(o) && (predicate ? predicate(o) : true));
      items = listed.items.map((o) => deepCopy(o));
      resourceVersion = String(listed.revision);
    } else {
      if (q.resourceVersionMatch === 'Exact' && rv <= 0) {
        throw ApiErrors.badRequest('resourceVersionMatch=Exact requires a resourceVersion greater than 0');
      }
      const res = await this.store.list(this.ref(info), prefix, {
        ...(q.limit ? { limit: q.limit } : {}),
        ...(q.continue ? { continue: q.continue } : {}),
        ...(rv > 0 && q.resourceVersionMatch === 'Exact' ? { resourceVersion: rv, resourceVersionMatch: 'Exact' as const } : {}),
        ...(predicate ? { predicate } : {}),
      });
      items = res.items;
      resourceVersion = res.resourceVersion;
      cont = res.continue;
      remaining = res.remainingItemCount;
    }
    return {
      apiVersion: formatGroupVersion(info),
      kind: info.listKind,
      metadata: { resourceVersion, ...(cont ? { continue: cont } : {}), ...(remaining !== undefined ? { remainingItemCount: remaining } : {}) },
      items: items.map((o) => withTypeMeta(info, o)),
    };
  }

  /** Subscribes to changes; see WatchCache.watch for what each resourceVersion means. */
  async watch(
    info: ResourceInfo,
    namespace: string | undefined,
    q: Pick<ListQuery, 'labelSelector' | 'fieldSelector' | 'resourceVersion'>,
    sub: Subscriber,
  ): Promise<Subscription> {
    const predicate = combine(q.labelSelector, q.fieldSelector);
    const inNamespace = (o: KubeObject) => !(info.namespaced && namespace) || o.metadata.namespace === namespace;
    const rv = parseResourceVersion(q.resourceVersion);
    return this.cache(info).watch(rv > 0 ? rv : undefined, (o) => inNamespace(o) && (predicate ? predicate(o) : true), {
      send: (type, object) => sub.send(type, withTypeMeta(info, deepCopy(object))),
      progress: (revision) => sub.progress?.(revision),
      end: (reason, gone) => sub.end(reason, gone),
    });
  }

  // ---- writes ----

  /** Checks the body's kind and apiVersion against the resource the URL names. */
  private checkBody(info: ResourceInfo, body: unknown, expectedKind = info.kind, expectedGv = formatGroupVersion(info)): KubeObject {
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw ApiErrors.badRequest('the body of the request must be a JSON or YAML object');
    }
    // As kube-apiserver's decoder does, a body without apiVersion and kind takes them from
    // the endpoint it was sent to; one that names them must name the right ones.
    const obj = { ...(body as Partial<KubeObject>) };
    obj.kind ||= expectedKind;
    obj.apiVersion ||= expectedGv;
    if (obj.kind !== expectedKind || obj.apiVersion !== expectedGv) {
      let gv: string;
      try {
        gv = formatGroupVersion(parseGroupVersion(obj.apiVersion));
      } catch {
        gv = obj.apiVersion;
      }
      if (gv !== expectedGv) {
        throw ApiErrors.badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${expectedGv})`);
      }
      throw ApiErrors.badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${expectedKind})`);
    }
    // Typed as Go would type it (a wrong JSON type is a 400 naming the field), nulls dropped
    // as Go drops them, so defaulting and validation only see well-typed objects.
    const decoded = decodeObject({ group: info.group, version: info.version, kind: expectedKind }, obj);
    if (decoded.error) throw decoded.error;
    const out = decoded.object!;
    return { ...out, metadata: { ...(out.metadata ?? {}) } };
  }

  private checkNamespace(info: ResourceInfo, obj: KubeObject, namespace: string | undefined): void {
    if (!info.namespaced) {
      delete obj.metadata.namespace;
      return;
    }
    if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
      throw ApiErrors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    obj.metadata.namespace = namespace;
  }

  /** Namespace lifecycle: no new content in a namespace that does not exist or is terminating. */
  private async checkNamespaceAlive(info: ResourceInfo, namespace: string | undefined): Promise<void> {
    if (!info.namespaced || !namespace) return;
    const nsInfo = this.namespaceInfo;
    if (!nsInfo) return;
    const cache = this.cache(nsInfo);
    await cache.start();
    // A namespace this server just marked Terminating must be seen as such by the very next
    // request: wait for the cache to hold this server's last namespace write (its event is on
    // the way), and if it does not arrive in time ask the store instead of trusting the cache.
    const current = await cache.waitFor(this.lastWrite.get(nsInfo.resource) ?? 0).then(
      () => true,
      () => false,
    );
    type Namespace = KubeObject & { status?: { phase?: string } };
    let ns = current ? (cache.objects.get(storeKey(nsInfo, undefined, namespace)) as Namespace | undefined) : undefined;
    if (!ns) {
      // Just created and not yet in the cache? Ask the store before refusing.
      ns = (await this.store.get(this.ref(nsInfo), storeKey(nsInfo, undefined, namespace), namespace).catch(() => undefined)) as typeof ns;
    }
    if (!ns) throw ApiErrors.notFound({ resource: 'namespaces' }, namespace);
    if (ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') {
      throw new ApiError('Forbidden', `${info.resource} "${'…'}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
        kind: info.resource,
        group: info.group,
      }, [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }]);
    }
  }

  /** Per resource, the newest store revision this server has acknowledged a write at. */
  private readonly lastWrite = new Map<string, number>();

  private noteWrite<T extends KubeObject>(info: ResourceInfo, obj: T): T {
    const rv = Number(obj.metadata.resourceVersion ?? 0);
    if (rv > (this.lastWrite.get(info.resource) ?? 0)) this.lastWrite.set(info.resource, rv);
    return obj;
  }

  /** Set by the server: the Namespace resource, for lifecycle checks. */
  namespaceInfo: ResourceInfo | undefined;

  private invalid(info: ResourceInfo, name: string, causes: StatusCause[]): void {
    if (causes.length > 0) throw ApiErrors.invalid({ group: info.group, kind: info.kind }, name, causes);
  }

  async create(info: ResourceInfo, namespace: string | undefined, body: unknown, opts: WriteOptions = {}): Promise<KubeObject> {
    const strategy = this.strategy(info);
    let obj = this.checkBody(info, body);
    this.checkNamespace(info, obj, namespace);
    const now = this.now();
    if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = generateName(obj.metadata.generateName, this.deps.random);
    const name = obj.metadata.name ?? '';
    // Defaults, server-owned metadata (uid, timestamps, generation) and the initial status.
    obj = prepareForCreate(info, obj, { uid: this.deps.uid(), now });
    strategy.prepareForCreate?.(obj, { now });
    this.invalid(info, name, strategy.validate?.(obj) ?? []);
    obj = this.recordManager(info, undefined, obj, opts);
    await this.checkNamespaceAlive(info, obj.metadata.namespace);
    if (opts.dryRun) return withTypeMeta(info, obj);
    await strategy.beforeCreate?.(obj);
    try {
      return withTypeMeta(info, this.noteWrite(info, await this.store.create(this.ref(info), this.key(info, namespace, name), obj)));
    } catch (err) {
      await strategy.createFailed?.(obj);
      throw err;
    }
  }

  /**
   * Replaces an object (PUT), or a part of it. `mutate` turns the current object into the
   * desired one: for PUT it returns the body; for PATCH it applies the patch.
   */
  async update(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    mutate: (current: KubeObject) => unknown,
    opts: WriteOptions = {},
  ): Promise<KubeObject> {
    const strategy = this.strategy(info);
    const key = this.key(info, namespace, name);
    const part = opts.part ?? 'main';
    let deleteAfter = false;
    let dryRunResult: KubeObject | undefined;
    const written = await this.store.guaranteedUpdate(this.ref(info), key, name, async (current) => {
      let obj = this.checkBody(info, mutate(deepCopy(current)));
      if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
        throw ApiErrors.badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
      }
      this.checkNamespace(info, obj, namespace);
      const sent = obj.metadata.resourceVersion;
      if (sent && sent !== current.metadata.resourceVersion) {
        throw ApiErrors.conflict(this.ref(info), name, 'the object has been modified; please apply your changes to the latest version and try again');
      }
      // Which fields this write may change, and the server-owned ones kept as stored.
      if (part === 'status') obj = prepareForStatusUpdate(info, obj, current);
      else if (part === 'finalize') obj = prepareForFinalize(obj, current) as unknown as KubeObject;
      else obj = prepareForUpdate(info, obj, current);
      obj.metadata.name = name;
      delete obj.metadata.selfLink;
      strategy.prepareForUpdate?.(obj, current, { now: this.now() });
      obj.metadata.resourceVersion = current.metadata.resourceVersion;
      if (!opts.serverSide) {
        this.invalid(info, name, part === 'status' ? validateStatusUpdate(obj, current) : (strategy.validateUpdate?.(obj, current) ?? []));
      }
      // Nothing changed: write nothing, not even a new managedFields timestamp.
      if (deepEqual(obj, current)) return UNCHANGED;
      obj = this.recordManager(info, current, obj, opts);
      if (obj.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).length === 0 && !strategy.blocksRemoval?.(obj)) {
        // The last finalizer is gone from an object being deleted: it goes now.
        deleteAfter = true;
      }
      if (opts.dryRun) {
        dryRunResult = obj;
        return UNCHANGED;
      }
      return obj;
    });
    if (dryRunResult) return withTypeMeta(info, dryRunResult);
    if (deleteAfter) {
      const gone = await this.remove(info, key, name, written.metadata.resourceVersion);
      return withTypeMeta(info, gone);
    }
    return withTypeMeta(info, this.noteWrite(info, written));
  }

  /** Adds the write to metadata.managedFields (operation Update) when a manager is named. */
  private recordManager(info: ResourceInfo, old: KubeObject | undefined, obj: KubeObject, opts: WriteOptions): KubeObject {
    if (!opts.fieldManager) return obj;
    const gv = formatGroupVersion(info);
    return recordUpdate({
      old: old ? (withTypeMeta(info, old) as unknown as PatchJsonObject) : undefined,
      updated: withTypeMeta(info, obj) as unknown as PatchJsonObject,
      manager: opts.fieldManager,
      apiVersion: gv,
      time: formatTimestamp(this.now()),
      schema: schemaFor(gv, info.kind),
      ...(opts.part === 'status' ? { subresource: 'status' } : {}),
    }) as unknown as KubeObject;
  }

  /** Removes the object from the store if it is still at `resourceVersion`. */
  private async remove(info: ResourceInfo, key: string, name: string, resourceVersion?: string): Promise<KubeObject> {
    const gone = this.noteWrite(info, await this.store.delete(this.ref(info), key, name, resourceVersion ? { preconditions: { resourceVersion } } : {}));
    await this.strategy(info).afterDelete?.(gone);
    return gone;
  }

  /**
   * Deletes an object as Kubernetes does: graceful where the strategy asks for it, held back
   * by finalizers (and by the finalizers propagationPolicy adds), removed at once otherwise.
   * Returns the object as it now is (or was, if removed) and whether it is gone.
   */
  async delete(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions = {},
    opts: WriteOptions = {},
  ): Promise<{ object: KubeObject; removed: boolean }> {
    const strategy = this.strategy(info);
    const key = this.key(info, namespace, name);
    const propagation = options.propagationPolicy ?? (options.orphanDependents === true ? 'Orphan' : undefined);
    const extraFinalizer = propagation === 'Foreground' ? 'foregroundDeletion' : propagation === 'Orphan' ? 'orphan' : undefined;
    let removeNow = false;
    const marked = await this.store.guaranteedUpdate(
      this.ref(info),
      key,
      name,
      (current) => {
        const grace = strategy.gracePeriod?.(current, options);
        const finalizers = [...(current.metadata.finalizers ?? [])];
        if (extraFinalizer && !finalizers.includes(extraFinalizer)) finalizers.push(extraFinalizer);
        const held = finalizers.length > 0 || strategy.blocksRemoval?.(current) === true;
        if (!held && (grace === undefined || grace === 0)) {
          removeNow = true;
          return UNCHANGED;
        }
        const obj = deepCopy(current);
        const now = this.now();
        if (grace !== undefined && grace > 0) {
          const deadline = new Date(now.getTime() + grace * 1000);
          // A shorter grace period may replace a longer one, never the reverse.
          const existing = obj.metadata.deletionTimestamp ? Date.parse(obj.metadata.deletionTimestamp) : Infinity;
          if (deadline.getTime() < existing) {
            obj.metadata.deletionTimestamp = formatTimestamp(deadline);
            obj.metadata.deletionGracePeriodSeconds = grace;
          }
        } else {
          obj.metadata.deletionTimestamp ??= formatTimestamp(now);
          obj.metadata.deletionGracePeriodSeconds ??= 0;
        }
        if (finalizers.length > 0) obj.metadata.finalizers = finalizers;
        strategy.prepareForDelete?.(obj);
        if (opts.dryRun || deepEqual(obj, current)) return UNCHANGED;
        return obj;
      },
      options.preconditions ? { preconditions: options.preconditions } : {},
    );
    if (!removeNow) return { object: withTypeMeta(info, this.noteWrite(info, marked)), removed: false };
    if (opts.dryRun) return { object: withTypeMeta(info, marked), removed: true };
    const gone = await this.remove(info, key, name, marked.metadata.resourceVersion);
    return { object: withTypeMeta(info, gone), removed: true };
  }

  /** Deletes every object a list query selects; returns what was deleted or marked. */
  async deleteCollection(info: ResourceInfo, namespace: string | undefined, q: ListQuery, options: DeleteOptions = {}, opts: WriteOptions = {}): Promise<ListBody> {
    const listed = await this.list(info, namespace, q);
    const items: KubeObject[] = [];
    for (const item of listed.items) {
      try {
        items.push((await this.delete(info, item.metadata.namespace, item.metadata.name!, options, opts)).object);
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
      }
    }
    return { ...listed, items };
  }
}

function combine(...preds: (((o: KubeObject) => boolean) | undefined)[]): ((o: KubeObject) => boolean) | undefined {
  const present = preds.filter((p): p is (o: KubeObject) => boolean => p !== undefined);
  if (present.length === 0) return undefined;
  return (o) => present.every((p) => p(o));
}

/** '' and undefined → 0 ("unset"); '0' → 0; a decimal → that number; anything else is a 400. */
export function parseResourceVersion(rv: string | undefined): number {
  if (rv === undefined || rv === '' || rv === '0') return 0;
  if (!/^[1-9][0-9]{0,15}$/.test(rv)) throw ApiErrors.badRequest(`invalid resource version "${rv}"`);
  return Number(rv);
}

/** Kubernetes timestamps: RFC 3339 in UTC, to the second. */
export function formatTimestamp(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Objects leave the server with their apiVersion and kind set. */
function withTypeMeta(info: ResourceInfo, obj: KubeObject): KubeObject {
  return { ...obj, apiVersion: formatGroupVersion(info), kind: info.kind };
}
