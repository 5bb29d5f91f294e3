// The agent's Prometheus text, built by hand (a few series do not need a client library):
// a Histogram with cumulative buckets as Prometheus defines them, and the HTTP endpoint
// kube-proxy serves on its metrics address: GET /metrics (text format 0.0.4) and /healthz.
// What goes into /metrics is the caller's: here the proxy's sync series and the kubelet's
// pod worker counts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** kube-proxy's buckets for sync durations: 1 ms doubling to about 16 s. */
export const SyncDurationBuckets = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);
/** Prometheus' default buckets. */
export const DefaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** `{a="1",b="2"}` (empty for no labels), extra pairs last. */
export function labelText(labels: Record<string, string>, extra: Record<string, string> = {}): string {
  const all = { ...labels, ...extra };
  const keys = Object.keys(all);
  return keys.length ? `{${keys.map((k) => `${k}="${escape(all[k]!)}"`).join(',')}}` : '';
}

const num = (n: number) => (n === Infinity ? '+Inf' : String(n));

/** One histogram family; a series per distinct label set. */
export class Histogram {
  private readonly series = new Map<string, { labels: Record<string, string>; counts: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[] = DefaultBuckets,
  ) {}

  observe(value: number, labels: Record<string, string> = {}): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (const [i, le] of this.buckets.entries()) if (value <= le) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** Lines of the exposition format: cumulative buckets, +Inf, sum and count per series. */
  text(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      for (const [i, le] of this.buckets.entries()) lines.push(`${this.name}_bucket${labelText(s.labels, { le: num(le) })} ${s.counts[i]}`);
      lines.push(`${this.name}_bucket${labelText(s.labels, { le: '+Inf' })} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines;
  }
}

/** A gauge or counter family from values by label set. */
export function family(name: string, help: string, type: 'gauge' | 'counter', values: { labels?: Record<string, string>; value: number }[]): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...values.map((v) => `${name}${labelText(v.labels ?? {})} ${v.value}`)];
}

export interface MetricsServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Serves GET /metrics (the text `render` answers) and /healthz on host:port (0 picks a port). */
export async function serveMetrics(host: string, port: number, render: () => string): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      let body: string;
      try {
        body = render();
      } catch (err) {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${(err as Error).message}\n`);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
      return;
    }
    if (req.method === 'GET' && (path === '/healthz' || path === '/livez')) {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, ok);
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
