import { describe, expect, it } from 'vitest';
import { Backoff, CrashLoopBackoff } from './backoff';

describe('Backoff', () => {
  it('doubles from 10 s to 5 min and holds there', () => {
    const b = new Backoff(CrashLoopBackoff);
    const delays: number[] = [];
    let now = 0;
    for (let i = 0; i < 8; i++) {
      delays.push(b.next('pod/c', now));
      now += delays.at(-1)! + 1_000;
    }
    expect(delays).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it('is in back-off until the delay has passed since the failure', () => {
    const b = new Backoff(CrashLoopBackoff);
    expect(b.inBackoff('k', 0)).toBe(false);
    b.next('k', 1_000);
    expect(b.inBackoff('k', 5_000)).toBe(true);
    expect(b.remaining('k', 5_000)).toBe(6_000);
    expect(b.inBackoff('k', 11_000)).toBe(false);
    // Measured from when the container finished, not when the agent noticed.
    expect(b.inBackoff('k', 11_000, 2_000)).toBe(true);
  });

  it('starts over after 10 min without a failure, and per key', () => {
    const b = new Backoff(CrashLoopBackoff);
    b.next('a', 0);
    expect(b.next('a', 20_000)).toBe(20_000);
    expect(b.next('a', 20_000 + 600_001)).toBe(10_000);
    expect(b.next('b', 0)).toBe(10_000);
    b.forgetPrefix('a');
    expect(b.delay('a')).toBe(0);
    expect(b.delay('b')).toBe(10_000);
  });
});
