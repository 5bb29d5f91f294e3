// The in-flight limiter: separate budgets, 429 with Retry-After beyond them, release once.
import { ApiError } from '@keel/api';
import { describe, expect, it } from 'vitest';
import { parseDuration } from './flags';
import { InflightLimiter } from './inflight';

describe('InflightLimiter', () => {
  it('counts read-only and mutating requests apart and refuses beyond each limit', () => {
    const limiter = new InflightLimiter({ readOnly: 2, mutating: 1 });
    const r1 = limiter.acquire(true);
    limiter.acquire(true);
    const m1 = limiter.acquire(false);
    const err = (() => {
      try {
        limiter.acquire(true);
      } catch (e) {
        return e as ApiError;
      }
      return undefined;
    })();
    expect(err?.httpStatus).toBe(429);
    expect(err?.retryAfterSeconds).toBe(1);
    expect(() => limiter.acquire(false)).toThrow('Too many requests, please try again later.');
    r1();
    r1(); // a second release changes nothing
    expect(limiter.inFlight).toEqual({ readOnly: 1, mutating: 1 });
    limiter.acquire(true);
    m1();
    limiter.acquire(false);
  });

  it('has no limit at 0', () => {
    const limiter = new InflightLimiter({ readOnly: 0, mutating: 0 });
    for (let i = 0; i < 1000; i++) limiter.acquire(i % 2 === 0);
    expect(limiter.inFlight).toEqual({ readOnly: 500, mutating: 500 });
  });
});

describe('parseDuration', () => {
  it('reads Go durations and seconds', () => {
    expect(parseDuration('48h')).toBe(172800);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('600')).toBe(600);
    expect(() => parseDuration('1d')).toThrow('expected a duration');
    expect(() => parseDuration('1h x')).toThrow('expected a duration');
  });
});
