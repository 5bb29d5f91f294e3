// Back-off per key, as kubelet's flowcontrol.Backoff: the first failure waits `initialMs`,
// every further failure within the window doubles the wait up to `maxMs`, and a key that
// has not failed for `resetAfterMs` starts over. Used for CrashLoopBackOff (10 s → 5 min,
// reset after 10 min) and ImagePullBackOff. Pure: time comes in as an argument.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** A key quiet (no failure) for this long starts again from `initialMs`. */
  resetAfterMs: number;
}

interface Entry {
  delayMs: number;
  /** When the last failure was recorded. */
  lastMs: number;
}

export const CrashLoopBackoff: BackoffOptions = { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };
export const ImagePullBackoff: BackoffOptions = { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };

export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: BackoffOptions) {}

  /** Records a failure at `now`; answers the wait before the next try. */
  next(key: string, now: number): number {
    const e = this.entries.get(key);
    const delayMs = !e || now - e.lastMs > this.opts.resetAfterMs ? this.opts.initialMs : Math.min(e.delayMs * 2, this.opts.maxMs);
    this.entries.set(key, { delayMs, lastMs: now });
    return delayMs;
  }

  /**
   * True while `key` must still wait: its last failure was less than its delay before `now`.
   * `eventMs` is when the thing failed (a container's finish time), so a restart of the
   * agent does not shorten the wait.
   */
  inBackoff(key: string, now: number, eventMs?: number): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    return now < (eventMs ?? e.lastMs) + e.delayMs;
  }

  /** Milliseconds left of the wait (0 when none). */
  remaining(key: string, now: number, eventMs?: number): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    return Math.max(0, (eventMs ?? e.lastMs) + e.delayMs - now);
  }

  /** The current delay of `key` (0 when none), for messages such as "back-off 20s". */
  delay(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets keys that start with `prefix` (a pod's uid once it is gone). */
  forgetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}
