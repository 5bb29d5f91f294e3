// One shared informer per resource for the whole process, so the ReplicaSet, Deployment,
// Job, Endpoints and garbage collector controllers share a single pod cache and a single
// pod watch.
import type { KubeObject } from '@keel/api';
import { Informer as ClientInformer, type Client, type Clock, type GroupVersionResource } from '@keel/client';
import { Informer } from './informer';
import type { Logger } from './log';

export const gvrKey = (gvr: GroupVersionResource): string => (gvr.group ? `${gvr.group}/${gvr.resource}` : gvr.resource);

export class InformerFactory {
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private started = false;

  constructor(
    private readonly client: Client,
    private readonly log: Logger,
    private readonly clock?: Clock,
  ) {}

  for<T extends KubeObject>(gvr: GroupVersionResource): Informer<T> {
    const key = gvrKey(gvr);
    let informer = this.informers.get(key);
    if (!informer) {
      const resource = this.client.resource<KubeObject>({ group: gvr.group, version: gvr.version, resource: gvr.resource });
      informer = new Informer<KubeObject>(
        new ClientInformer<KubeObject>(resource, {
          ...(this.clock ? { clock: this.clock } : {}),
          onError: (err, context) => this.log.warn('informer', { resource: key, context, err: (err as Error).message }),
        }),
      );
      this.informers.set(key, informer);
      if (this.started) informer.start();
    }
    return informer as unknown as Informer<T>;
  }

  start(): void {
    this.started = true;
    for (const informer of this.informers.values()) informer.start();
  }

  async synced(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.synced));
  }

  stop(): void {
    for (const informer of this.informers.values()) informer.stop();
  }
}
