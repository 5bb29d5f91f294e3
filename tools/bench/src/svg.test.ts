import { describe, expect, it } from 'vitest';
import { barChart, escapeXml, lineChart, niceTicks, shorten } from './svg';

describe('niceTicks', () => {
  it('steps by 1, 2 or 5 × 10^k from 0 to at least the maximum', () => {
    expect(niceTicks(1000)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(niceTicks(1731)).toEqual([0, 500, 1000, 1500, 2000]);
    expect(niceTicks(0.9)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });
  it('never has more than 7 ticks', () => {
    for (const max of [1, 3, 7, 13, 99, 101, 4999, 5001, 123456]) {
      const t = niceTicks(max);
      expect(t.length).toBeLessThanOrEqual(7);
      expect(t[t.length - 1]).toBeGreaterThanOrEqual(max);
    }
  });
});

describe('barChart', () => {
  const svg = barChart({
    title: 'store <vs> etcd',
    yLabel: 'req/s',
    categories: ['put ×1', 'put ×16', 'range ×1'],
    series: [
      { name: 'keel-store', values: [61, 270, undefined] },
      { name: 'etcd', values: [533, 700, 498] },
    ],
    reference: { value: 680, label: 'minimum' },
  });
  it('is one SVG document with a bar per defined value', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(5);
  });
  it('escapes text and draws the reference line', () => {
    expect(svg).toContain('store &lt;vs&gt; etcd');
    expect(svg).toContain('stroke-dasharray');
    expect(svg).toContain('>minimum<');
  });
  it('scales the tallest bar to the top tick', () => {
    const heights = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"/g)].map((m) => Number(m[1]));
    // ticks 0..800 over a 240-pixel plot: 700 is 7/8 of it.
    expect(Math.max(...heights)).toBeCloseTo((700 / 800) * 240, 0);
  });
});

describe('lineChart', () => {
  it('draws one path per series from its points', () => {
    const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [[0, 1], [50, 2], [100, 4]] }, { name: 'b', points: [] }] });
    expect(svg.match(/<path /g)).toHaveLength(1);
    expect(svg).toMatch(/d="M[\d.]+,[\d.]+ L[\d.]+,[\d.]+ L[\d.]+,[\d.]+"/);
  });
  it('shortens long axis labels', () => {
    expect(shorten('partial: one endpoint replaced and more')).toBe('partial: one endpoint replace…');
    expect(shorten('put ×16')).toBe('put ×16');
  });
  it('escapes XML in every label', () => {
    expect(escapeXml('a & "b" <c>')).toBe('a &amp; &quot;b&quot; &lt;c&gt;');
  });
});
