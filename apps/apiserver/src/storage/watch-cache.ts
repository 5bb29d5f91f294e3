// The watch cache of one resource: a single etcd watch on the resource's key prefix feeds
// an in-memory copy of every object and a bounded history of recent changes, and that one
// feed serves every client watch of the resource — as kube-apiserver's cacher does.
//  - A client watching from resourceVersion R gets every change after R from the history,
//    then live changes; if R is older than the history holds, it gets 410 Gone and relists.
//  - A client watching with no resourceVersion (or "0") first gets the current objects as
//    ADDED events, then live changes.
//  - Selectors are applied per client against the object before and after each change, so
//    an object that stops matching arrives as DELETED and one that starts matching as ADDED.
//  - A client that cannot keep up is cut off rather than allowed to hold memory without bound.
import { ApiErrors, type KubeObject } from '@keel/api';
import type { EtcdClient, KeyValue, Watcher } from '@keel/etcd-client';
import type { ObjectStore } from './store';

export type CacheEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface CacheEvent<T extends KubeObject = KubeObject> {
  type: CacheEventType;
  key: string;
  /** The object after the change; for DELETED the last state, with the deletion's revision. */
  object: T;
  /** The object before the change (absent for ADDED). */
  prev?: T;
  revision: number;
}

export interface Subscriber<T extends KubeObject = KubeObject> {
  /** Delivers one event; returns false when the client is too far behind and must go. */
  send(type: CacheEventType, object: T): boolean;
  /** Every change up to `revision` has been delivered (for bookmarks). */
  progress?(revision: number): void;
  /** The watch ended from our side (cache reset, slow client); the client should re-watch. */
  end(reason: string, gone: boolean): void;
}

export interface Subscription {
  close(): void;
}

export interface WatchCacheOptions {
  /** How many recent changes to keep for watches that resume from a resourceVersion. */
  historySize?: number;
}

export class WatchCache<T extends KubeObject = KubeObject> {
  readonly objects = new Map<string, T>();
  private history: CacheEvent<T>[] = [];
  /** History holds every change after this revision. */
  private oldest = 0;
  /** Every change up to this revision has been applied (what lists from the cache reflect). */
  revision = 0;
  /**
   * What the store has said in progress reports. It may run ahead of `revision`: etcd 3.4
   * answers a progress request on the spot, possibly before events it has yet to send, so a
   * progress report tells a watch where to start waiting but never what a list contains.
   */
  private progressRevision = 0;
  private readonly subscribers = new Map<Subscriber<T>, (o: T, revision: number) => boolean>();
  private readonly waiters: { revision: number; progress: boolean; resolve: () => void }[] = [];
  private watcher: Watcher | undefined;
  private ready: Promise<void> | undefined;
  private stopped = false;
  private readonly historySize: number;

  constructor(
    private readonly etcd: EtcdClient,
    private readonly store: ObjectStore,
    readonly prefix: string,
    opts: WatchCacheOptions = {},
  ) {
    this.historySize = opts.historySize ?? 10_000;
  }

  /** Lists the prefix, then follows it; resolves once the cache holds a consistent state. */
  start(): Promise<void> {
    // A failed load is forgotten, so the next start() lists again: the server retries while
    // a restarted store member has no leader yet, and must not get the first refusal forever.
    this.ready ??= this.load().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.cancel();
    for (const s of [...this.subscribers.keys()]) s.end('watch cache stopped', false);
    this.subscribers.clear();
  }

  private async load(): Promise<void> {
    const res = await this.etcd.range(this.prefix, { prefix: true });
    this.objects.clear();
    for (const kv of res.kvs) this.objects.set(kv.key.toString('utf8'), this.store.decode<T>(kv));
    this.history = [];
    this.oldest = res.revision;
    this.revision = res.revision;
    this.watcher = this.etcd.watch(
      { key: this.prefix, prefix: true, startRevision: res.revision + 1, prevKv: true, progressNotify: true },
      {
        onEvents: (events, headerRevision) => {
          for (const ev of events) this.apply(ev.type, ev.kv, ev.prevKv);
          this.advance(headerRevision, true);
        },
        onProgress: (rev) => this.advance(rev, false),
        onError: (err) => void this.reset(`the watch cache lost its store watch: ${err.message}`),
      },
    );
  }

  /** Starts over from a fresh list; every client is told to re-watch (with 410). */
  private async reset(reason: string): Promise<void> {
    if (this.stopped) return;
    this.watcher?.cancel();
    for (const s of [...this.subscribers.keys()]) s.end(reason, true);
    this.subscribers.clear();
    this.ready = this.load();
    await this.ready;
  }

  private apply(type: 'PUT' | 'DELETE', kv: KeyValue, prevKv?: KeyValue): void {
    const key = kv.key.toString('utf8');
    const prev = this.objects.get(key) ?? (prevKv ? this.store.decode<T>(prevKv) : undefined);
    let event: CacheEvent<T>;
    if (type === 'DELETE') {
      if (!prev) return;
      this.objects.delete(key);
      const object = { ...prev, metadata: { ...prev.metadata, resourceVersion: String(kv.modRevision) } };
      event = { type: 'DELETED', key, object, prev, revision: kv.modRevision };
    } else {
      const object = this.store.decode<T>(kv);
      this.objects.set(key, object);
      event = prev ? { type: 'MODIFIED', key, object, prev, revision: kv.modRevision } : { type: 'ADDED', key, object, revision: kv.modRevision };
    }
    this.history.push(event);
    if (this.history.length > this.historySize) {
      const dropped = this.history.splice(0, this.history.length - this.historySize);
      this.oldest = dropped[dropped.length - 1]!.revision;
    }
    this.revision = Math.max(this.revision, event.revision);
    for (const [sub, filter] of [...this.subscribers]) this.deliver(sub, filter, event);
  }

  private advance(revision: number, fromEvents: boolean): void {
    if (fromEvents && revision > this.revision) this.revision = revision;
    if (revision > this.progressRevision) this.progressRevision = revision;
    for (const sub of this.subscribers.keys()) sub.progress?.(this.progressRevision);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.revision <= (w.progress ? this.progressRevision : this.revision)) this.waiters.splice(i, 1)[0]!.resolve();
    }
  }

  /** Sends one change to one client as that client's selectors see it. */
  private deliver(sub: Subscriber<T>, filter: (o: T, revision: number) => boolean, event: CacheEvent<T>): void {
    const now = event.type !== 'DELETED' && filter(event.object, event.revision);
    const before = event.prev !== undefined && filter(event.prev, event.revision);
    let ok = true;
    if (event.type === 'DELETED') {
      if (before) ok = sub.send('DELETED', event.object);
    } else if (now && before) {
      ok = sub.send('MODIFIED', event.object);
    } else if (now) {
      ok = sub.send('ADDED', event.object);
    } else if (before) {
      ok = sub.send('DELETED', event.object);
    }
    if (!ok) {
      this.subscribers.delete(sub);
      sub.end('the client could not keep up with the watch', false);
    }
  }

  /**
   * Resolves once the cache has applied every change up to `revision` — or, with `progress`,
   * once the store has reported the watch at least that far (for a watch that must start
   * there; the revision may belong to a write to another resource, which this cache never
   * hears of, so it asks the store for progress reports while it waits).
   */
  async waitFor(revision: number, opts: { progress?: boolean; timeoutMs?: number } = {}): Promise<void> {
    await this.start();
    const progress = opts.progress ?? false;
    const seen = () => (progress ? Math.max(this.revision, this.progressRevision) : this.revision);
    if (seen() >= revision) return;
    await new Promise<void>((resolve, reject) => {
      let again: NodeJS.Timeout | undefined;
      const waiter = {
        revision,
        progress,
        resolve: () => {
          clearInterval(again);
          resolve();
        },
      };
      this.waiters.push(waiter);
      if (progress) {
        this.etcd.requestWatchProgress();
        again = setInterval(() => this.etcd.requestWatchProgress(), 100);
      }
      setTimeout(() => {
        clearInterval(again);
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          reject(ApiErrors.tooManyRequests(`Too large resource version: ${revision}, current: ${seen()}`, 1));
        }
      }, opts.timeoutMs ?? 3000).unref();
    });
  }

  /** The objects matching `filter`, at the cache's revision, in key order. */
  list(filter: (o: T) => boolean = () => true): { items: T[]; revision: number } {
    const keys = [...this.objects.keys()].sort();
    const items: T[] = [];
    for (const k of keys) {
      const o = this.objects.get(k)!;
      if (filter(o)) items.push(o);
    }
    return { items, revision: this.revision };
  }

  /**
   * Subscribes a client. `fromRevision` undefined or 0: current objects first (as ADDED),
   * then changes. Otherwise every change after `fromRevision`; 410 Gone if it is too old.
   */
  async watch(fromRevision: number | undefined, filter: (o: T) => boolean, client: Subscriber<T>): Promise<Subscription> {
    await this.start();
    // Remember whether the client was cut off while catching up, so it is not registered.
    let ended = false;
    const sub: Subscriber<T> = {
      send: (type, object) => client.send(type, object),
      progress: (revision) => client.progress?.(revision),
      end: (reason, gone) => {
        ended = true;
        client.end(reason, gone);
      },
    };
    if (fromRevision && fromRevision < this.oldest) {
      throw ApiErrors.gone(`too old resource version: ${fromRevision} (${this.oldest})`);
    }
    if (!fromRevision) {
      for (const o of this.list(filter).items) {
        if (!sub.send('ADDED', o)) {
          sub.end('the client could not keep up with the watch', false);
          return { close: () => undefined };
        }
      }
    } else {
      if (fromRevision > this.revision) await this.waitFor(fromRevision, { progress: true });
      for (const event of this.history) {
        if (event.revision > fromRevision) this.deliver(sub, filter, event);
      }
    }
    if (ended) return { close: () => undefined };
    // A client watching from R has everything up to R: an event at or below R that reaches
    // the cache late (etcd 3.4 can report progress before sending it) is not news to it.
    const after = fromRevision ?? 0;
    this.subscribers.set(sub, after ? (o, rev) => rev > after && filter(o) : filter);
    return { close: () => void this.subscribers.delete(sub) };
  }

  get watcherCount(): number {
    return this.subscribers.size;
  }
}
