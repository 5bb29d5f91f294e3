// The work queue of keys a controller reconciles, with client-go's guarantees:
//  - a key queued twice is processed once (`dirty`: the keys waiting);
//  - no two workers hold one key at once (`processing`): a key added while a worker holds it
//    waits, and is queued again when that worker calls done();
//  - delayed and rate-limited adds (per-key exponential back-off), forgotten on success;
//  - shutDown() wakes every waiting worker; get() then answers undefined.
// Keys are usually `namespace/name` strings; the queue only needs them to be Map keys.
import { systemClock, type Cancel, type Clock } from './clock';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter';

export interface WorkQueueOptions<K> {
  clock?: Clock;
  rateLimiter?: RateLimiter<K>;
}

export class WorkQueue<K = string> {
  private queue: K[] = [];
  /** Keys that need processing: queued, or added again while being processed. */
  private readonly dirty = new Set<K>();
  /** Keys a worker holds right now. */
  private readonly processing = new Set<K>();
  /** Delayed adds: the earliest time each key is due, and its timer. */
  private readonly waiting = new Map<K, { due: number; cancel: Cancel }>();
  private readonly waiters: ((key: K | undefined) => void)[] = [];
  private readonly drained: (() => void)[] = [];
  private shutdown = false;
  private readonly clock: Clock;
  readonly rateLimiter: RateLimiter<K>;

  constructor(opts: WorkQueueOptions<K> = {}) {
    this.clock = opts.clock ?? systemClock;
    this.rateLimiter = opts.rateLimiter ?? defaultControllerRateLimiter<K>(this.clock);
  }

  /** Queues `key` unless it is already waiting; a key being processed is queued again on done(). */
  add(key: K): void {
    if (this.shutdown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.push(key);
  }

  private push(key: K): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      // Hand the key straight to a waiting worker.
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
  }

  /** Queues `key` after `ms`; a key already waiting keeps the earlier of the two times. */
  addAfter(key: K, ms: number): void {
    if (this.shutdown) return;
    if (ms <= 0) return this.add(key);
    const due = this.clock.now() + ms;
    const existing = this.waiting.get(key);
    if (existing && existing.due <= due) return;
    existing?.cancel();
    const cancel = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, { due, cancel });
  }

  /** Queues `key` after its rate limiter's delay (a failure counts). */
  addRateLimited(key: K): void {
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** The key was handled: its next failure starts back-off from the beginning. */
  forget(key: K): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.rateLimiter.numRequeues(key);
  }

  /** The next key, held until done(key); undefined once the queue is shut down. */
  get(): Promise<K | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shutdown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The worker is finished with `key`; if it was added meanwhile, it is queued again. */
  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shutdown) this.push(key);
    else this.dirty.delete(key);
    if (this.processing.size === 0) for (const resolve of this.drained.splice(0)) resolve();
  }

  /** Keys waiting to be handed out (not counting delayed ones). */
  len(): number {
    return this.queue.length;
  }

  get shuttingDown(): boolean {
    return this.shutdown;
  }

  /** Stops handing out keys: waiting workers get undefined, delayed adds are dropped. */
  shutDown(): void {
    if (this.shutdown) return;
    this.shutdown = true;
    this.queue = [];
    this.dirty.clear();
    for (const { cancel } of this.waiting.values()) cancel();
    this.waiting.clear();
    for (const resolve of this.waiters.splice(0)) resolve(undefined);
  }

  /** shutDown(), then waits until every key being processed is done. */
  async shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return;
    await new Promise<void>((resolve) => this.drained.push(resolve));
  }
}
