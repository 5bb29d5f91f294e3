// Shared informers: the controller-manager runs many controllers in one process, and
// several of them watch pods (ReplicaSet, Job, Endpoints, garbage collector). One informer
// per resource (and namespace and selectors) serves them all — one list, one watch, one
// cache — as client-go's SharedInformerFactory does. Controllers ask the factory, add
// their handlers, and the process starts the factory once and waits for every cache.
import type { KubeObject } from '@keel/api';
import type { Client } from './client';
import type { IndexFunc } from './cache';
import { Informer, type InformerOptions } from './informer';
import type { GroupVersionResource } from './transport';

export interface InformerFactoryOptions {
  /** Every informer's resync period (0: never). */
  resyncMs?: number;
  clock?: InformerOptions<KubeObject>['clock'];
  onError?: InformerOptions<KubeObject>['onError'];
}

export interface SharedInformerOptions<T extends KubeObject> {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Indexes this user needs, added to the shared cache; one already there by that name is taken to be the same. */
  indexers?: Record<string, IndexFunc<T>>;
}

export class InformerFactory {
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private started = false;

  constructor(
    private readonly client: Client,
    private readonly opts: InformerFactoryOptions = {},
  ) {}

  /** The one informer for this resource, namespace and selectors; started if the factory is. */
  forResource<T extends KubeObject>(gvr: GroupVersionResource, o: SharedInformerOptions<T> = {}): Informer<T> {
    const key = JSON.stringify([gvr.group, gvr.version, gvr.resource, o.namespace ?? '', o.labelSelector ?? '', o.fieldSelector ?? '']);
    let informer = this.informers.get(key) as Informer<T> | undefined;
    if (!informer) {
      informer = new Informer<T>(this.client.resource<T>(gvr).namespace(o.namespace), {
        ...(this.opts.clock ? { clock: this.opts.clock } : {}),
        ...(this.opts.onError ? { onError: this.opts.onError } : {}),
        ...(this.opts.resyncMs ? { resyncMs: this.opts.resyncMs } : {}),
        ...(o.labelSelector ? { labelSelector: o.labelSelector } : {}),
        ...(o.fieldSelector ? { fieldSelector: o.fieldSelector } : {}),
      });
      this.informers.set(key, informer as unknown as Informer<KubeObject>);
      if (this.started) informer.start();
    }
    if (o.indexers) {
      const missing = Object.fromEntries(Object.entries(o.indexers).filter(([name]) => !informer!.store.hasIndexer(name)));
      informer.store.addIndexers(missing);
    }
    return informer;
  }

  /** Starts every informer (and those asked for later). */
  start(): void {
    this.started = true;
    for (const informer of this.informers.values()) informer.start();
  }

  /** Resolves once every informer asked for so far has synced. */
  async waitForSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
  }

  stop(): void {
    this.started = false;
    for (const informer of this.informers.values()) informer.stop();
  }
}
