// The apiserver's storage: Kubernetes objects kept in an etcd v3 store (keel-store or etcd)
// under `/registry/...` keys, as JSON. The rules are Kubernetes':
//  - an object's resourceVersion is the mod_revision of its key; it is never stored in the
//    value, only set on the way out;
//  - create is a transaction "mod_revision == 0 → put", so two creators cannot both win;
//  - update is read → change → "mod_revision == what I read → put", retried on a lost race
//    unless the caller named a resourceVersion, in which case a lost race is a 409;
//  - delete is "mod_revision == what I read → delete", with uid/resourceVersion preconditions;
//  - a list reads at one revision, page after page (continue tokens), and a revision that
//    has been compacted answers 410 Gone;
//  - objects of a resource with a TTL (Events) are written under an etcd lease, so the store
//    deletes them when it runs out; each write starts the TTL again.
import { ApiError, ApiErrors, type KubeObject } from '@keel/api';
import { EtcdClient, EtcdError, prefixEnd, type KeyValue } from '@keel/etcd-client';
import { decodeContinue, encodeContinue } from './continue';
import { LeaseManager } from './leases';

/** Which resource an error is about, for Kubernetes' messages (`pods "web" not found`). */
export interface ResourceRef {
  group?: string;
  resource: string;
}

export interface ListOptions {
  limit?: number;
  continue?: string;
  /** Read at this revision (resourceVersionMatch=Exact), or at least this one (NotOlderThan). */
  resourceVersion?: number;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  /** Keep only objects for which this returns true (label and field selectors). */
  predicate?: (obj: KubeObject) => boolean;
}

export interface ListResult<T extends KubeObject> {
  items: T[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

/** What an update function may return: the new object, or `unchanged` for a no-op. */
export const UNCHANGED = Symbol('unchanged');

/** A write's uid/resourceVersion preconditions against the stored object: 409 when they fail. */
function checkPreconditions(ref: ResourceRef, name: string, current: KubeObject, pre: Preconditions | undefined): void {
  if (pre?.uid && pre.uid !== current.metadata.uid) {
    throw ApiErrors.conflict(ref, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
  }
  if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
    throw ApiErrors.conflict(ref, name, 'the object has been modified; please apply your changes to the latest version and try again');
  }
}

export class ObjectStore {
  /** How many keys one etcd read fetches while filtering a list. */
  private readonly pageSize = 500;

  private readonly leases: LeaseManager;

  constructor(
    private readonly etcd: EtcdClient,
    private readonly opts: { ttlSeconds?: (ref: ResourceRef) => number | undefined } = {},
  ) {
    this.leases = new LeaseManager(etcd);
  }

  /**
   * Runs a write under the lease its resource's objects expire with, if any. A shared lease
   * the store no longer knows (revoked, or lost with a store's data) is dropped and the write
   * tried once more under a new one.
   */
  private async withLease<R>(ref: ResourceRef, write: (lease: { lease?: string }) => Promise<R>): Promise<R> {
    const ttl = this.opts.ttlSeconds?.(ref);
    if (ttl === undefined || ttl <= 0) return write({});
    const lease = await this.leases.leaseFor(ttl);
    try {
      return await write({ lease });
    } catch (err) {
      if (!(err instanceof EtcdError && err.kind === 'not-found')) throw err;
      this.leases.forget(lease);
      return write({ lease: await this.leases.leaseFor(ttl) });
    }
  }

  /** Decodes a stored value; the resourceVersion comes from the key's mod_revision. */
  decode<T extends KubeObject>(kv: KeyValue): T {
    const obj = JSON.parse(kv.value.toString('utf8')) as T;
    obj.metadata = { ...obj.metadata, resourceVersion: String(kv.modRevision) };
    return obj;
  }

  private encode(obj: KubeObject): Buffer {
    const { resourceVersion: _rv, ...metadata } = obj.metadata;
    return Buffer.from(JSON.stringify({ ...obj, metadata }));
  }

  private static wrap(err: unknown, ref: ResourceRef, name: string): never {
    if (err instanceof ApiError) throw err;
    if (err instanceof EtcdError) {
      switch (err.kind) {
        case 'compacted':
          throw ApiErrors.gone(`The resourceVersion for the provided list is too old.`);
        case 'future-revision':
          throw new ApiError('Timeout', `Too large resource version: the store has not reached it yet`, { name, kind: ref.resource, group: ref.group ?? '' }, [], 1);
        case 'unavailable':
        case 'timeout':
          throw new ApiError('ServiceUnavailable', `storage unavailable: ${err.message}`, {}, [], 1);
        default:
          throw ApiErrors.internal(err.message);
      }
    }
    throw ApiErrors.internal(err instanceof Error ? err.message : String(err));
  }

  async create<T extends KubeObject>(ref: ResourceRef, key: string, obj: T): Promise<T> {
    const name = obj.metadata.name ?? '';
    try {
      const res = await this.withLease(ref, (lease) =>
        this.etcd.txn({
          compare: [{ key, target: 'MOD', result: 'EQUAL', modRevision: 0 }],
          success: [{ put: { key, value: this.encode(obj), ...lease } }],
          failure: [],
        }),
      );
      if (!res.succeeded) throw ApiErrors.alreadyExists(ref, name);
      return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(res.revision) } };
    } catch (err) {
      return ObjectStore.wrap(err, ref, name);
    }
  }

  async get<T extends KubeObject>(ref: ResourceRef, key: string, name: string, opts: { resourceVersion?: number } = {}): Promise<T> {
    try {
      const { kv } = await this.etcd.get(key, opts.resourceVersion ? { revision: opts.resourceVersion } : {});
      if (!kv) throw ApiErrors.notFound(ref, name);
      return this.decode<T>(kv);
    } catch (err) {
      return ObjectStore.wrap(err, ref, name);
    }
  }

  /** The store's current revision (a linearizable read of nothing in particular). */
  async currentRevision(): Promise<number> {
    const res = await this.etcd.range('/registry/', { countOnly: true, limit: 1 });
    return res.revision;
  }

  /**
   * Lists every object under `prefix` (which ends with '/'), in key order, filtered by the
   * predicate, up to `limit`, at one revision.
   */
  async list<T extends KubeObject>(ref: ResourceRef, prefix: string, opts: ListOptions = {}): Promise<ListResult<T>> {
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    let startKey = prefix;
    let revision = 0;
    if (opts.continue) {
      const token = decodeContinue(opts.continue, prefix);
      startKey = token.startKey;
      revision = token.revision;
    } else if (opts.resourceVersion && opts.resourceVersionMatch === 'Exact') {
      revision = opts.resourceVersion;
    }
    const end = prefixEnd(prefix);
    const items: T[] = [];
    try {
      for (;;) {
        const page = await this.etcd.range(startKey, {
          rangeEnd: end,
          limit: limit ? Math.max(limit - items.length, opts.predicate ? this.pageSize : 0) : 0,
          ...(revision ? { revision } : {}),
        });
        if (!revision) revision = page.revision;
        let lastKey: string | undefined;
        for (const kv of page.kvs) {
          lastKey = kv.key.toString('utf8');
          const obj = this.decode<T>(kv);
          if (opts.predicate && !opts.predicate(obj)) continue;
          items.push(obj);
          if (limit && items.length === limit) {
            // Is there anything after this key? Then hand out a continue token.
            const rest = await this.etcd.range(`${lastKey}\0`, { rangeEnd: end, countOnly: true, revision });
            if (rest.count === 0) return { items, resourceVersion: String(revision) };
            return {
              items,
              resourceVersion: String(revision),
              continue: encodeContinue(revision, `${lastKey.slice(prefix.length)}\0`),
              // With a predicate the count of what remains is unknown, as in Kubernetes.
              ...(opts.predicate ? {} : { remainingItemCount: rest.count }),
            };
          }
        }
        if (!page.more || lastKey === undefined) return { items, resourceVersion: String(revision) };
        startKey = `${lastKey}\0`;
      }
    } catch (err) {
      if (err instanceof EtcdError && err.kind === 'compacted' && opts.continue) {
        throw new ApiError(
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      return ObjectStore.wrap(err, ref, '');
    }
  }

  /**
   * Reads the object, lets `update` produce the new one, and writes it if nobody wrote in
   * between. A lost race is retried with the fresh object, unless the caller pinned a
   * resourceVersion (then it is a 409 Conflict, as in Kubernetes). `update` may return
   * UNCHANGED, which writes nothing and returns the current object.
   */
  async guaranteedUpdate<T extends KubeObject>(
    ref: ResourceRef,
    key: string,
    name: string,
    update: (current: T) => T | typeof UNCHANGED | Promise<T | typeof UNCHANGED>,
    opts: { preconditions?: Preconditions } = {},
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get<T>(ref, key, name);
      checkPreconditions(ref, name, current, opts.preconditions);
      const next = await update(current);
      if (next === UNCHANGED) return current;
      const mod = Number(current.metadata.resourceVersion);
      try {
        const res = await this.withLease(ref, (lease) =>
          this.etcd.txn({
            compare: [{ key, target: 'MOD', result: 'EQUAL', modRevision: mod }],
            success: [{ put: { key, value: this.encode(next), ...lease } }],
            failure: [],
          }),
        );
        if (res.succeeded) return { ...next, metadata: { ...next.metadata, resourceVersion: String(res.revision) } };
      } catch (err) {
        ObjectStore.wrap(err, ref, name);
      }
      if (attempt >= 20) throw ApiErrors.conflict(ref, name, 'too many concurrent updates; try again');
    }
  }

  /**
   * Deletes the object if it is still the one the checks were made against. Returns the
   * deleted object, with the resourceVersion of the deletion.
   */
  async delete<T extends KubeObject>(
    ref: ResourceRef,
    key: string,
    name: string,
    opts: { preconditions?: Preconditions; check?: (current: T) => void } = {},
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get<T>(ref, key, name);
      checkPreconditions(ref, name, current, opts.preconditions);
      opts.check?.(current);
      try {
        const res = await this.etcd.txn({
          compare: [{ key, target: 'MOD', result: 'EQUAL', modRevision: Number(current.metadata.resourceVersion) }],
          success: [{ delete: { key } }],
          failure: [],
        });
        if (res.succeeded) return { ...current, metadata: { ...current.metadata, resourceVersion: String(res.revision) } };
      } catch (err) {
        ObjectStore.wrap(err, ref, name);
      }
      if (attempt >= 20) throw ApiErrors.conflict(ref, name, 'too many concurrent updates; try again');
    }
  }
}
