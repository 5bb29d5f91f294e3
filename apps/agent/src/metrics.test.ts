import { get } from 'node:http';
import { describe, expect, it } from 'vitest';
import { family, Histogram, serveMetrics } from './metrics';

function fetchText(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((ok, fail) => {
    get(url, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => ok({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    }).on('error', fail);
  });
}

describe('metrics', () => {
  it('renders a histogram with cumulative buckets, +Inf, sum and count per label set', () => {
    const h = new Histogram('x_seconds', 'X.', [0.1, 1]);
    h.observe(0.05, { kind: 'full' });
    h.observe(0.5, { kind: 'full' });
    h.observe(5, { kind: 'full' });
    h.observe(0.2, { kind: 'partial' });
    expect(h.text()).toEqual([
      '# HELP x_seconds X.',
      '# TYPE x_seconds histogram',
      'x_seconds_bucket{kind="full",le="0.1"} 1',
      'x_seconds_bucket{kind="full",le="1"} 2',
      'x_seconds_bucket{kind="full",le="+Inf"} 3',
      'x_seconds_sum{kind="full"} 5.55',
      'x_seconds_count{kind="full"} 3',
      'x_seconds_bucket{kind="partial",le="0.1"} 0',
      'x_seconds_bucket{kind="partial",le="1"} 1',
      'x_seconds_bucket{kind="partial",le="+Inf"} 1',
      'x_seconds_sum{kind="partial"} 0.2',
      'x_seconds_count{kind="partial"} 1',
    ]);
    expect(family('y', 'Y "q".', 'gauge', [{ labels: { table: 'n"at' }, value: 2 }])).toEqual(['# HELP y Y "q".', '# TYPE y gauge', 'y{table="n\\"at"} 2']);
  });

  it('serves /metrics as Prometheus text, /healthz, and 404 for the rest', async () => {
    let n = 0;
    const server = await serveMetrics('127.0.0.1', 0, () => `hits ${++n}\n`);
    try {
      const base = `http://127.0.0.1:${server.port}`;
      expect(await fetchText(`${base}/metrics`)).toEqual({ status: 200, type: 'text/plain; version=0.0.4; charset=utf-8', body: 'hits 1\n' });
      expect((await fetchText(`${base}/metrics`)).body).toBe('hits 2\n');
      expect((await fetchText(`${base}/healthz`)).body).toBe('ok');
      expect((await fetchText(`${base}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
