// The controller manager: one informer factory shared by the chosen controllers, each run
// by its own workers, all started together once the informers have listed, and all stopped
// together (queues shut down, watches stopped) when the manager stops or loses leadership.
import { EventRecorder, type Client, type Clock, type ReconcileRunner } from '@keel/client';
import { controllerFactories } from './controllers';
import { runnerFor, type Controller, type ControllerConfig } from './runtime/controller';
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
  /** The informers' and queues' clock (tests). */
  clock?: Clock;
}

export class ControllerManager {
  readonly informers: InformerFactory;
  readonly controllers: Controller[];
  readonly recorder: EventRecorder;
  private runners: ReconcileRunner<string>[] = [];

  constructor(private readonly opts: ManagerOptions) {
    this.informers = new InformerFactory(opts.client, opts.log, opts.clock);
    this.recorder = new EventRecorder({
      client: opts.client,
      component: 'keel-controller-manager',
      ...(opts.clock ? { clock: opts.clock } : {}),
      onError: (err) => opts.log.warn('event not recorded', { err: (err as Error).message }),
    });
    const ctx = { client: opts.client, informers: this.informers, recorder: this.recorder, now: opts.now ?? Date.now, log: opts.log, config: opts.config };
    this.controllers = opts.controllers.map((name) => controllerFactories[name]!(ctx));
  }

  /** Starts the informers, waits for their first lists, then the workers. */
  async start(): Promise<void> {
    this.informers.start();
    await this.informers.synced();
    this.opts.log.info('caches synced, controllers starting', { controllers: this.controllers.map((c) => c.name) });
    this.runners = this.controllers.map((c) => runnerFor(c, this.opts.workers ?? 5, this.opts.log));
    for (const r of this.runners) void r.run();
  }

  /** Whether every queue is empty and no reconcile is running (tests wait for this). */
  idle(): boolean {
    return this.controllers.every((c) => c.idle());
  }

  /** Prometheus text: per controller, reconciles, failures, queue depth and reconciles in flight. */
  metrics(): string {
    const lines: string[] = [];
    const family = (name: string, help: string, type: string, value: (c: Controller) => number) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const c of this.controllers) lines.push(`${name}{controller="${c.name}"} ${value(c)}`);
    };
    family('keel_controller_reconciles_total', 'Reconciles run.', 'counter', (c) => c.counts.reconciles);
    family('keel_controller_reconcile_errors_total', 'Reconciles that failed and were requeued.', 'counter', (c) => c.counts.errors);
    family('keel_controller_queue_depth', 'Keys waiting in the work queue.', 'gauge', (c) => c.queue.len());
    family('keel_controller_reconciles_in_flight', 'Reconciles running now.', 'gauge', (c) => c.inFlight);
    return lines.join('\n') + '\n';
  }

  async stop(): Promise<void> {
    this.informers.stop();
    await Promise.all(this.runners.map((r) => r.stop()));
    await this.recorder.flush();
  }
}
