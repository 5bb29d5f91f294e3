// The reconcile runner: N workers pull keys from a WorkQueue and call `reconcile(key)`,
// which re-reads the current state and makes the world match (level-triggered: it is told
// which object, never what changed). A failure requeues the key with back-off; a success
// forgets its failures; a result may ask for another look later. The queue guarantees that
// no two workers reconcile one key at once.
import type { WorkQueue } from './workqueue';

/** What a reconcile may ask for besides success: another look after a delay. */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type Reconcile<K> = (key: K) => Promise<ReconcileResult | void>;

export interface ReconcileRunnerOptions<K> {
  queue: WorkQueue<K>;
  reconcile: Reconcile<K>;
  /** Parallel workers (distinct keys only). Default 1. */
  workers?: number;
  /** Give up on a key after this many consecutive failures (it is forgotten, not requeued). */
  maxRetries?: number;
  /** Told about each failure (for logs and events); `retrying` false when the key is dropped. */
  onError?: (key: K, err: unknown, retrying: boolean) => void;
}

export class ReconcileRunner<K = string> {
  private running: Promise<void> | undefined;

  constructor(private readonly opts: ReconcileRunnerOptions<K>) {}

  /** Starts the workers; the promise resolves once the queue is shut down and they have stopped. */
  run(): Promise<void> {
    this.running ??= Promise.all(Array.from({ length: Math.max(1, this.opts.workers ?? 1) }, () => this.worker())).then(() => undefined);
    return this.running;
  }

  /** Shuts the queue down and waits for the reconciles in flight to finish. */
  async stop(): Promise<void> {
    await this.opts.queue.shutDownWithDrain();
    await this.running;
  }

  private async worker(): Promise<void> {
    const { queue, reconcile, maxRetries, onError } = this.opts;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        const result = await reconcile(key);
        queue.forget(key);
        if (result && result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        const retrying = maxRetries === undefined || queue.numRequeues(key) < maxRetries;
        onError?.(key, err, retrying);
        if (retrying) queue.addRateLimited(key);
        else queue.forget(key);
      } finally {
        queue.done(key);
      }
    }
  }
}
