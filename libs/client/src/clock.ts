// Time, injected: the work queue's delays, the informer's back-off and the leader elector's
// lease arithmetic all read a Clock, so unit tests drive them with FakeClock, whose time
// moves only when the test says so.

/** Cancels a timer; calling it twice is harmless. */
export type Cancel = () => void;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): Cancel;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    // A pending retry or renewal must not keep a finished process alive.
    t.unref?.();
    return () => clearTimeout(t);
  },
};

/** Resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

interface Timer {
  due: number;
  seq: number;
  fn: () => void;
}

/** Lets every pending promise continuation run (a macrotask turn). */
export function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock for tests. advance(ms) moves time forward timer by timer, and after each timer
 * lets the promise continuations it started run, so async code driven by timers (retry
 * loops, lease renewals) behaves as it would in real time, only instantly.
 */
export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<number, Timer>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): Cancel {
    const seq = ++this.seq;
    this.timers.set(seq, { due: this.time + Math.max(0, ms), seq, fn });
    return () => void this.timers.delete(seq);
  }

  /** How many timers are waiting. */
  get pending(): number {
    return this.timers.size;
  }

  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await flushPromises();
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.timers.values()) if (t.due <= end && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t;
      if (!next) break;
      this.timers.delete(next.seq);
      this.time = Math.max(this.time, next.due);
      next.fn();
      await flushPromises();
    }
    this.time = end;
    await flushPromises();
  }
}
