import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Quantity, QuantityError, canonicalQuantity, compareQuantities } from './quantity';

describe('Quantity', () => {
  it.each([
    ['100m', '100m', 100, 1],
    ['1Gi', '1Gi', 1024 ** 3 * 1000, 1024 ** 3],
    ['2', '2', 2000, 2],
    ['1e3', '1e3', 1_000_000, 1000],
    ['500Mi', '500Mi', 500 * 1024 ** 2 * 1000, 500 * 1024 ** 2],
    ['1024Mi', '1Gi', 1024 ** 3 * 1000, 1024 ** 3],
    ['1000m', '1', 1000, 1],
    ['0.5', '500m', 500, 1],
    ['1.5Gi', '1536Mi', 1.5 * 1024 ** 3 * 1000, 1.5 * 1024 ** 3],
    ['1.5Ki', '1536', 1536000, 1536],
    ['512', '512', 512000, 512],
    ['1000', '1k', 1_000_000, 1000],
    ['1500', '1500', 1_500_000, 1500],
    ['12e2', '1200', 1_200_000, 1200],
    ['0', '0', 0, 0],
    ['-1', '-1', -1000, -1],
    ['+3k', '3k', 3_000_000, 3000],
    ['0.1n', '1n', 1, 1],
    ['1u', '1u', 1, 1],
    ['0.5Ki', '512', 512_000, 512],
    ['.5', '500m', 500, 1],
    ['5.', '5', 5000, 5],
  ])('parses %s → canonical %s, milli %d, value %d', (text, canonical, milli, value) => {
    const q = Quantity.parse(text);
    expect(q.toString()).toBe(canonical);
    expect(q.milliValue()).toBe(milli);
    expect(q.value()).toBe(value);
    expect(JSON.stringify({ q })).toBe(JSON.stringify({ q: canonical }));
  });

  it.each([
    ['', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['abc', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    [' 1', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['1.2.3', "unable to parse quantity's numeric part"],
    ['1Gb', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['1KiB', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['1mk', "unable to parse quantity's suffix"],
    ['1e99999', "unable to parse quantity's suffix"],
  ])('refuses %j: %s', (text, message) => {
    expect(() => Quantity.parse(text)).toThrow(new QuantityError(message));
    expect(Quantity.tryParse(text)).toBeUndefined();
  });

  it('compares across formats and sums exactly', () => {
    expect(compareQuantities('1Gi', '1073741824')).toBe(0);
    expect(compareQuantities('100m', '0.1')).toBe(0);
    expect(compareQuantities('1k', '1Ki')).toBe(-1);
    expect(compareQuantities('2', '1500m')).toBe(1);
    const sum = ['100m', '250m', '0.65'].map((t) => Quantity.parse(t)).reduce((a, b) => a.add(b));
    expect(sum.toString()).toBe('1');
    expect(Quantity.parse('1Gi').sub(Quantity.parse('512Mi')).toString()).toBe('512Mi');
    expect(Quantity.fromMilli(1500).toString()).toBe('1500m');
    expect(Quantity.fromValue(2048, 'BinarySI').toString()).toBe('2Ki');
    expect(canonicalQuantity('2048Ki')).toBe('2Mi');
  });

  it('canonical strings parse back to the same amount (property)', () => {
    const suffixes = ['', 'm', 'k', 'M', 'G', 'Ki', 'Mi', 'Gi', 'e3', 'e-3', 'n', 'u'];
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.nat(3), fc.constantFrom(...suffixes), (n, decimals, suffix) => {
        const text = `${(n / 10 ** decimals).toFixed(decimals)}${suffix}`;
        const q = Quantity.parse(text);
        const back = Quantity.parse(q.toString());
        expect(back.nanos).toBe(q.nanos);
        expect(back.toString()).toBe(q.toString());
      }),
    );
  });
});
