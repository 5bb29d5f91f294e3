// The informer: keeps a local cache of one resource in step with the apiserver, as
// client-go's reflector + shared informer do, and tells handlers what changed.
//  1. List (resourceVersion '0' the first time: the server's watch cache answers, and the
//     watch that follows is sure to find the changes after it in that cache's history).
//  2. Replace the cache with the list; handlers see add, update (when the resourceVersion
//     moved) and delete for what vanished meanwhile. hasSynced() is true from here on.
//  3. Watch from the list's resourceVersion, with bookmarks; every event and bookmark moves
//     the last-seen resourceVersion on.
//  4. When the watch ends: a plain end (server timeout) re-watches at once from the last
//     resourceVersion; a failure re-watches after a back-off; 410 Gone/Expired relists
//     (from the newest state, resourceVersion ''). A failed list is retried with back-off.
// Handlers run synchronously and should only enqueue keys; a throwing handler is reported
// and does not stop the informer.
import type { ApiError, KubeObject, List } from '@keel/api';
import { systemClock, type Cancel, type Clock } from './clock';
import { Indexer, type IndexFunc } from './cache';
import type { ListOptions, WatchHandle, WatchHandlers, WatchOptions } from './transport';

/** What an informer needs of a resource: a ResourceClient fits. */
export interface ListerWatcher<T extends KubeObject> {
  list(opts?: ListOptions): Promise<List<T>>;
  watch(opts: WatchOptions, handlers: WatchHandlers<T>): WatchHandle;
}

export interface EventHandler<T> {
  add?(object: T): void;
  update?(oldObject: T, newObject: T): void;
  /** The last state the informer knew. */
  delete?(object: T): void;
}

export interface InformerOptions<T extends KubeObject> {
  clock?: Clock;
  labelSelector?: string;
  fieldSelector?: string;
  /** Extra indexes besides `namespace`. */
  indexers?: Record<string, IndexFunc<T>>;
  /** Every so often, hand every cached object to update handlers again (0: never). */
  resyncMs?: number;
  /** Back-off after a failed list or watch: doubles from min to max. */
  backoff?: { minMs: number; maxMs: number };
  /** Ask the server to end each watch after this long (it is renewed at once). Default 5–10 min. */
  watchTimeoutSeconds?: number;
  /** Told about list and watch failures and throwing handlers. */
  onError?: (err: unknown, context: string) => void;
}

export class Informer<T extends KubeObject> {
  readonly store: Indexer<T>;
  private readonly handlers: EventHandler<T>[] = [];
  private readonly clock: Clock;
  private synced = false;
  private stopped = true;
  private watch: WatchHandle | undefined;
  private timer: Cancel | undefined;
  private resyncTimer: Cancel | undefined;
  private failures = 0;
  private syncWaiters: (() => void)[] = [];
  /** The resourceVersion the cache reflects; watches resume from it. */
  lastSyncResourceVersion = '';
  /** Counters for tests and metrics. */
  readonly stats = { lists: 0, watches: 0, relistsOnGone: 0 };

  constructor(
    private readonly lw: ListerWatcher<T>,
    private readonly opts: InformerOptions<T> = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.store = new Indexer<T>({ namespace: (o) => [o.metadata.namespace ?? ''], ...(opts.indexers ?? {}) });
  }

  /** Adds a handler; objects already cached reach its add() at once, as in client-go. */
  addEventHandler(handler: EventHandler<T>): void {
    this.handlers.push(handler);
    if (this.synced) for (const obj of this.store.list()) this.call(handler, 'add', () => handler.add?.(obj));
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list is in the cache. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.listAndWatch('0');
    if (this.opts.resyncMs) this.scheduleResync(this.opts.resyncMs);
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    this.watch = undefined;
    this.timer?.();
    this.resyncTimer?.();
  }

  private call(_handler: EventHandler<T>, what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.opts.onError?.(err, `${what} handler`);
    }
  }

  private emit(what: 'add' | 'update' | 'delete', a: T, b?: T): void {
    for (const h of this.handlers) {
      if (what === 'add') this.call(h, what, () => h.add?.(a));
      else if (what === 'update') this.call(h, what, () => h.update?.(a, b!));
      else this.call(h, what, () => h.delete?.(a));
    }
  }

  private backoffMs(): number {
    const { minMs, maxMs } = this.opts.backoff ?? { minMs: 200, maxMs: 30_000 };
    return Math.min(maxMs, minMs * 2 ** Math.min(this.failures++, 30));
  }

  private after(ms: number, fn: () => void): void {
    this.timer?.();
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) fn();
    }, ms);
  }

  private async listAndWatch(resourceVersion: '0' | ''): Promise<void> {
    let list: List<T>;
    try {
      this.stats.lists++;
      list = await this.lw.list({
        ...(resourceVersion ? { resourceVersion } : {}),
        ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}),
        ...(this.opts.fieldSelector ? { fieldSelector: this.opts.fieldSelector } : {}),
      });
    } catch (err) {
      if (this.stopped) return;
      this.opts.onError?.(err, 'list');
      this.after(this.backoffMs(), () => void this.listAndWatch(resourceVersion));
      return;
    }
    if (this.stopped) return;
    this.replace(list.items);
    this.lastSyncResourceVersion = list.metadata.resourceVersion ?? '';
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
    this.startWatch();
  }

  /** The cache becomes exactly `items`; handlers hear the difference. */
  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const old = this.store.set(obj);
      seen.add(this.keyOf(obj));
      if (!old) this.emit('add', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', old, obj);
    }
    for (const key of this.store.listKeys()) {
      if (seen.has(key)) continue;
      const old = this.store.delete(key);
      if (old) this.emit('delete', old);
    }
  }

  private keyOf(obj: T): string {
    const { namespace, name } = obj.metadata;
    return namespace ? `${namespace}/${name}` : (name ?? '');
  }

  private startWatch(): void {
    if (this.stopped) return;
    this.stats.watches++;
    const timeoutSeconds = this.opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    let received = false;
    const startedAt = this.clock.now();
    const handle = this.lw.watch(
      {
        resourceVersion: this.lastSyncResourceVersion,
        allowBookmarks: true,
        timeoutSeconds,
        ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}),
        ...(this.opts.fieldSelector ? { fieldSelector: this.opts.fieldSelector } : {}),
      },
      {
        event: (e) => {
          if (this.stopped || this.watch !== handle) return;
          if (!received) {
            received = true;
            this.failures = 0;
          }
          const rv = e.object.metadata.resourceVersion;
          if (e.type === 'BOOKMARK') {
            if (rv) this.lastSyncResourceVersion = rv;
            return;
          }
          if (e.type === 'DELETED') {
            const old = this.store.delete(this.keyOf(e.object));
            this.emit('delete', old ?? e.object);
          } else {
            const old = this.store.set(e.object);
            if (old) this.emit('update', old, e.object);
            else this.emit('add', e.object);
          }
          if (rv) this.lastSyncResourceVersion = rv;
        },
        end: (err) => {
          if (this.stopped || this.watch !== handle) return;
          this.watch = undefined;
          // A stream that ends at once with nothing in it, again and again, would spin.
          const short = !received && this.clock.now() - startedAt < 1000;
          this.watchEnded(err, short);
        },
      },
    );
    this.watch = handle;
    // Once the server holds the watch, the stream is healthy: back-off starts over.
    handle.established.then(
      () => {
        if (this.watch === handle) this.failures = 0;
      },
      () => undefined,
    );
  }

  private watchEnded(err: ApiError | undefined, short: boolean): void {
    if (!err) {
      // The server's timeout: carry on from where we are (after a pause if it ended at once).
      if (short) this.after(this.backoffMs(), () => this.startWatch());
      else this.startWatch();
      return;
    }
    if (err.reason === 'Expired' || err.reason === 'Gone') {
      // The server no longer has the changes after our version: start over from a list.
      this.stats.relistsOnGone++;
      void this.listAndWatch('');
      return;
    }
    this.opts.onError?.(err, 'watch');
    this.after(this.backoffMs(), () => this.startWatch());
  }

  private scheduleResync(ms: number): void {
    this.resyncTimer = this.clock.setTimeout(() => {
      if (this.stopped) return;
      for (const obj of this.store.list()) this.emit('update', obj, obj);
      this.scheduleResync(ms);
    }, ms);
  }
}
