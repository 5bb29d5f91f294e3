import { describe, expect, it } from 'vitest';
import { fmt, median, percentile, ratio } from './stats';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose
  it('takes the value at rank ceil(p·n)', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 90)).toBe(90);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
  });
  it('is the maximum for p99 of fewer than 100 values, and the minimum for p0', () => {
    const fifty = Array.from({ length: 50 }, (_, i) => i + 1);
    expect(percentile(fifty, 99)).toBe(50);
    expect(percentile(fifty, 0)).toBe(1);
  });
  it('does not reorder its input and is NaN for no values', () => {
    const xs = [3, 1, 2];
    expect(median(xs)).toBe(2);
    expect(xs).toEqual([3, 1, 2]);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('fmt and ratio', () => {
  it('separates thousands, rounds and marks missing figures', () => {
    expect(fmt(12345.678, 1)).toBe('12,345.7');
    expect(fmt(2, 2)).toBe('2');
    expect(fmt(undefined)).toBe('–');
    expect(fmt(NaN)).toBe('–');
  });
  it('writes a ratio with two decimals, or – without a divisor', () => {
    expect(ratio(673, 1067)).toBe('0.63×');
    expect(ratio(1, 0)).toBe('–');
    expect(ratio(undefined, 2)).toBe('–');
  });
});
