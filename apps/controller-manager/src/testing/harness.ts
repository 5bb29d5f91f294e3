// A controller under test: @keel/client's FakeApi as the apiserver, the real informers over
// it, and a clock the test sets. `seed` stores fixtures, `sync` lets the informers catch up,
// `reconcile` runs one key and returns the writes it made (`verb resource/ns/name`, reads
// left out), so a test reads "given these objects, reconciling this key makes these writes".
import type { KubeObject } from '@keel/api';
import { Client, EventRecorder, FakeApi, flushPromises, type GroupVersionResource } from '@keel/client';
import type { Controller, ControllerConfig, ControllerContext } from '../runtime/controller';
import { InformerFactory } from '../runtime/factory';
import { silentLogger } from '../runtime/log';

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

export class Harness<C extends Controller> {
  readonly api: FakeApi;
  readonly client: Client;
  readonly informers: InformerFactory;
  readonly controller: C;
  readonly recorder: EventRecorder;
  now = T0;

  constructor(make: (ctx: ControllerContext) => C, config: ControllerConfig = {}) {
    this.api = new FakeApi(() => new Date(this.now));
    this.client = new Client(this.api);
    this.informers = new InformerFactory(this.client, silentLogger);
    this.recorder = new EventRecorder({ client: this.client, component: 'keel-controller-manager', clock: { now: () => this.now, setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); } } });
    this.controller = make({ client: this.client, informers: this.informers, recorder: this.recorder, now: () => this.now, log: silentLogger, config });
  }

  seed<T extends KubeObject>(gvr: GroupVersionResource, obj: T): T {
    return this.api.seed(gvr, obj) as T;
  }

  /** Starts the informers (once) and lets every pending watch event arrive. */
  async sync(): Promise<void> {
    this.informers.start();
    await this.informers.synced();
    for (let i = 0; i < 5; i++) await flushPromises();
  }

  /** Reconciles `key` once and returns the writes it made. */
  async reconcile(key: string): Promise<string[]> {
    await this.sync();
    const mark = this.api.calls.length;
    await this.controller.reconcile(key);
    await this.recorder.flush();
    await this.sync();
    return this.api.calls.slice(mark).filter((c) => !/^(get|list|watch) /.test(c) && !/^\w+ events\//.test(c));
  }

  /** The events recorded so far, as `reason: message`. */
  async events(): Promise<string[]> {
    await this.recorder.flush();
    return (await this.list<import('@keel/api').Event>({ group: '', version: 'v1', resource: 'events' })).map((e) => `${e.reason}: ${e.message}`);
  }

  async get<T extends KubeObject>(gvr: GroupVersionResource, namespace: string | undefined, name: string): Promise<T> {
    return (await this.api.get(gvr, namespace, name)) as T;
  }

  async list<T extends KubeObject>(gvr: GroupVersionResource, namespace?: string): Promise<T[]> {
    return (await this.api.list(gvr, namespace)).items as T[];
  }

  stop(): void {
    this.informers.stop();
    this.controller.queue.shutDown();
  }
}
