// The controller manager: one informer factory shared by the chosen controllers, each run
// by its own workers, all started together once the informers have listed, and all stopped
// together (queues shut down, watches stopped) when the manager stops or loses leadership.
import type { Client } from '@keel/client';
import { controllerFactories } from './controllers';
import { runWorkers, type Controller, type ControllerConfig } from './runtime/controller';
import { InformerFactory } from './runtime/factory';
import type { Logger } from './runtime/log';

export interface ManagerOptions {
  client: Client;
  controllers: string[];
  config: ControllerConfig;
  log: Logger;
  /** Workers per controller. Default 5 (Kubernetes' --concurrent-*-syncs are 5 for most). */
  workers?: number;
  now?: () => number;
  /** How long an informer waits before relisting after its watch ended. */
  relistDelayMs?: number;
}

export class ControllerManager {
  readonly informers: InformerFactory;
  readonly controllers: Controller[];
  private running: Promise<unknown> | undefined;

  constructor(private readonly opts: ManagerOptions) {
    this.informers = new InformerFactory(opts.client, opts.log, opts.relistDelayMs);
    const ctx = { client: opts.client, informers: this.informers, now: opts.now ?? Date.now, log: opts.log, config: opts.config };
    this.controllers = opts.controllers.map((name) => controllerFactories[name]!(ctx));
  }

  /** Starts the informers, waits for their first lists, then the workers. */
  async start(): Promise<void> {
    this.informers.start();
    await this.informers.synced();
    this.opts.log.info('caches synced, controllers starting', { controllers: this.controllers.map((c) => c.name) });
    this.running = Promise.all(this.controllers.map((c) => runWorkers(c, this.opts.workers ?? 5, this.opts.log)));
  }

  /** Whether every queue is empty and no reconcile is running (tests wait for this). */
  idle(): boolean {
    return this.controllers.every((c) => c.queue.idle());
  }

  async stop(): Promise<void> {
    for (const c of this.controllers) c.queue.shutDown();
    this.informers.stop();
    await this.running;
  }
}
