// The process's shared informers: @keel/client's InformerFactory (one list, one watch and
// one cache per resource for every controller — the ReplicaSet, Deployment, Job, Endpoints
// and garbage collector controllers share the pod cache), each seen through this app's Lister.
import type { KubeObject } from '@keel/api';
import { InformerFactory as SharedInformerFactory, type Client, type Clock, type GroupVersionResource } from '@keel/client';
import { Informer } from './informer';
import type { Logger } from './log';

export const gvrKey = (gvr: GroupVersionResource): string => (gvr.group ? `${gvr.group}/${gvr.resource}` : gvr.resource);

export class InformerFactory {
  private readonly shared: SharedInformerFactory;
  private readonly views = new Map<string, Informer<KubeObject>>();

  constructor(client: Client, log: Logger, clock?: Clock) {
    this.shared = new SharedInformerFactory(client, {
      ...(clock ? { clock } : {}),
      onError: (err, context) => log.warn('informer', { context, err: (err as Error).message }),
    });
  }

  for<T extends KubeObject>(gvr: GroupVersionResource): Informer<T> {
    const key = gvrKey(gvr);
    let view = this.views.get(key);
    if (!view) {
      view = new Informer<KubeObject>(this.shared.forResource<KubeObject>({ group: gvr.group, version: gvr.version, resource: gvr.resource }));
      this.views.set(key, view);
    }
    return view as unknown as Informer<T>;
  }

  start(): void {
    this.shared.start();
  }

  synced(): Promise<void> {
    return this.shared.waitForSync();
  }

  stop(): void {
    this.shared.stop();
  }
}
