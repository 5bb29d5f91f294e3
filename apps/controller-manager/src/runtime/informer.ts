// The informer as controllers here read it: @keel/client's Informer (list + watch into an
// indexed cache, resumed and relisted as needed) seen through a small Lister — get by
// `namespace/name`, list all or one namespace — plus handlers. Cached objects are shared:
// callers must copy before they change anything.
import type { KubeObject } from '@keel/api';
import type { EventHandler, Informer as ClientInformer } from '@keel/client';

export type { EventHandler };

/** What controllers read: the cache, never the apiserver. */
export interface Lister<T extends KubeObject> {
  get(key: string): T | undefined;
  list(namespace?: string): T[];
}

export class Informer<T extends KubeObject> implements Lister<T> {
  constructor(readonly inner: ClientInformer<T>) {}

  addHandler(handler: EventHandler<T>): void {
    this.inner.addEventHandler(handler);
  }

  get(key: string): T | undefined {
    return this.inner.store.getByKey(key);
  }

  list(namespace?: string): T[] {
    return namespace === undefined ? this.inner.store.list() : this.inner.store.byNamespace(namespace);
  }

  get synced(): Promise<void> {
    return this.inner.waitForSync();
  }

}
