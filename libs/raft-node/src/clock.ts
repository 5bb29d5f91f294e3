// Clock: the host's only source of time (ticks, proposal and read deadlines), injected so
// tests can drive a host with FakeClock, whose time moves only when the test says so.

/** Cancels a timer; calling it twice is harmless. */
export type Cancel = () => void;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): Cancel;
  setInterval(fn: () => void, ms: number): Cancel;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    return () => clearInterval(t);
  },
};

interface Timer {
  due: number;
  seq: number;
  fn: () => void;
  every?: number;
}

/** A clock for tests: advance(ms) fires the timers that come due, in order of due time. */
export class FakeClock implements Clock {
  private time = 0;
  private seq = 0;
  private timers = new Map<number, Timer>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): Cancel {
    return this.add({ due: this.time + ms, seq: ++this.seq, fn });
  }

  setInterval(fn: () => void, ms: number): Cancel {
    if (ms <= 0) throw new Error('interval must be positive');
    return this.add({ due: this.time + ms, seq: ++this.seq, fn, every: ms });
  }

  /** Moves time forward by ms, running each timer as its time comes. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.timers.values()) {
        if (t.due <= end && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.time = next.due;
      if (next.every) next.due += next.every;
      else this.timers.delete(next.seq);
      next.fn();
    }
    this.time = end;
  }

  /** Timers still pending. */
  get pending(): number {
    return this.timers.size;
  }

  private add(t: Timer): Cancel {
    this.timers.set(t.seq, t);
    return () => {
      this.timers.delete(t.seq);
    };
  }
}
