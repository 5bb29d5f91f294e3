// An informer: a list, then a watch from the list's resource version, into a cache keyed by
// `namespace/name`, telling handlers about adds, updates and deletes. When the watch ends
// for any reason (410 Expired, a dropped stream, a restarted apiserver) it relists after a
// short pause and reports the difference, so handlers never miss a change, only see it
// late. Cached objects are shared: callers must copy before they change anything.
// Kept in this app until @keel/client ships informers.
import { objectKey, type KubeObject } from '@keel/api';
import type { ResourceClient } from '@keel/client';
import type { Logger } from './log';

export interface EventHandler<T extends KubeObject> {
  add?(obj: T): void;
  update?(old: T, obj: T): void;
  delete?(obj: T): void;
}

/** What controllers read: the cache, never the apiserver. */
export interface Lister<T extends KubeObject> {
  get(key: string): T | undefined;
  list(namespace?: string): T[];
}

export class Informer<T extends KubeObject> implements Lister<T> {
  private readonly items = new Map<string, T>();
  private readonly handlers: EventHandler<T>[] = [];
  private watch: { stop(): void } | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private started = false;
  private resolveSynced!: () => void;
  /** Resolves once the first list is in the cache. */
  readonly synced: Promise<void> = new Promise((r) => (this.resolveSynced = r));

  constructor(
    private readonly client: ResourceClient<T>,
    private readonly log: Logger,
    private readonly relistDelayMs = 1000,
  ) {}

  get resource(): string {
    return this.client.gvr.group ? `${this.client.gvr.resource}.${this.client.gvr.group}` : this.client.gvr.resource;
  }

  addHandler(handler: EventHandler<T>): void {
    this.handlers.push(handler);
    // A handler that joins late still hears about everything already cached.
    for (const obj of this.items.values()) handler.add?.(obj);
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  list(namespace?: string): T[] {
    const all = [...this.items.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    if (this.retry) clearTimeout(this.retry);
  }

  private scheduleRelist(): void {
    if (this.stopped) return;
    this.retry = setTimeout(() => void this.relist(), this.relistDelayMs);
    this.retry.unref?.();
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    let list;
    try {
      list = await this.client.list();
    } catch (err) {
      this.log.warn('list failed', { resource: this.resource, err: (err as Error).message });
      return this.scheduleRelist();
    }
    if (this.stopped) return;
    this.replace(list.items);
    this.resolveSynced();
    this.watch = this.client.watch(
      { resourceVersion: list.metadata.resourceVersion ?? '', allowBookmarks: true },
      {
        event: (e) => {
          if (e.type === 'BOOKMARK') return;
          if (e.type === 'DELETED') this.remove(e.object);
          else this.upsert(e.object);
        },
        end: (err) => {
          if (err) this.log.info('watch ended, relisting', { resource: this.resource, reason: err.reason, err: err.message });
          this.scheduleRelist();
        },
      },
    );
  }

  private upsert(obj: T): void {
    const key = objectKey(obj);
    const old = this.items.get(key);
    // A relist or a resumed watch can repeat what we have; handlers hear only real changes.
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    this.items.set(key, obj);
    for (const h of this.handlers) {
      if (old) h.update?.(old, obj);
      else h.add?.(obj);
    }
  }

  private remove(obj: T): void {
    const key = objectKey(obj);
    const old = this.items.get(key);
    if (!old) return;
    this.items.delete(key);
    for (const h of this.handlers) h.delete?.(old);
  }

  /** Makes the cache exactly `items`, reporting the differences. */
  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      seen.add(objectKey(obj));
      this.upsert(obj);
    }
    for (const [key, obj] of [...this.items]) if (!seen.has(key)) this.remove(obj);
  }
}
