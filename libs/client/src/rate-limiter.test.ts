import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock';
import { BucketRateLimiter, defaultControllerRateLimiter, ExponentialFailureRateLimiter, MaxOfRateLimiter } from './rate-limiter';

describe('ExponentialFailureRateLimiter', () => {
  it('doubles per failure up to the cap, per key, and starts over when forgotten', () => {
    const l = new ExponentialFailureRateLimiter<string>(5, 100);
    expect([l.when('a'), l.when('a'), l.when('a'), l.when('a'), l.when('a'), l.when('a')]).toEqual([5, 10, 20, 40, 80, 100]);
    expect(l.when('b')).toBe(5);
    expect(l.numRequeues('a')).toBe(6);
    l.forget('a');
    expect(l.numRequeues('a')).toBe(0);
    expect(l.when('a')).toBe(5);
  });

  it('never overflows past the cap', () => {
    const l = new ExponentialFailureRateLimiter<string>(5, 1000_000);
    for (let i = 0; i < 2000; i++) l.when('k');
    expect(l.when('k')).toBe(1000_000);
  });
});

describe('BucketRateLimiter', () => {
  it('lets a burst through, then spaces keys at the rate, and refills with time', async () => {
    const clock = new FakeClock();
    const l = new BucketRateLimiter<string>(10, 3, clock);
    expect([l.when('a'), l.when('b'), l.when('c')]).toEqual([0, 0, 0]);
    expect(l.when('d')).toBe(100);
    expect(l.when('e')).toBe(200);
    await clock.advance(1000);
    // Five tokens earned, two owed: three left.
    expect([l.when('f'), l.when('g'), l.when('h'), l.when('i')]).toEqual([0, 0, 0, 100]);
  });
});

describe('default controller rate limiter', () => {
  it('is the larger of per-key back-off and the overall bucket', () => {
    const clock = new FakeClock();
    const l = defaultControllerRateLimiter<string>(clock);
    expect(l.when('x')).toBe(5);
    expect(l.when('x')).toBe(10);
    expect(l.numRequeues('x')).toBe(2);
    l.forget('x');
    expect(l.numRequeues('x')).toBe(0);
    const m = new MaxOfRateLimiter<string>(new ExponentialFailureRateLimiter(1, 10), new ExponentialFailureRateLimiter(3, 10));
    expect(m.when('y')).toBe(3);
  });
});
