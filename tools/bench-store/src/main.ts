// keel bench-store: one load generator over the etcd v3 gRPC API (@keel/etcd-client), run
// in the same invocation against a three-member keel-store and a three-member Debian etcd
// 3.4 on loopback, one system at a time. For each workload (puts; single-key ranges,
// linearizable and serializable) and each number of concurrent clients (1, 16, 256; puts
// also 64) it runs for a fixed time and records every request's latency. Watch throughput:
// W watchers on one prefix (spread over the members) while P clients put under it; the
// rate is events delivered per second summed over the watchers, the latency from each
// put's call to each watcher's receipt of its event. Prints the conditions and a
// table with both systems side by side and the ratios, and writes the same as JSON
// (tmp/bench-store.json). DESIGN.md's bar: keel-store's throughput at least etcd's, p99 at
// most etcd's.
//
// Usage: npx tsx tools/bench-store/src/main.ts [--duration 5] [--clients 1,16,256] [--put-clients 1,16,64,256]
//   [--watchers 16,64] [--watch-putters 16] [--workloads put,range-linearizable,range-serializable,watch] [--only keel|etcd]
import { EtcdClient } from '@keel/etcd-client';
import { onCleanup, removeWorkDir, runTool } from '@keel/process';
import { startEtcdCluster } from '@keel/tools-etcd';
import { Command } from 'commander';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startKeelStore } from './keel-cluster';

type Workload = 'put' | 'range-linearizable' | 'range-serializable' | 'watch';
const WORKLOADS: Workload[] = ['put', 'range-linearizable', 'range-serializable', 'watch'];

/** One cell of the table: a workload at a number of clients (for watch: putters), and for watch the watchers. */
interface Cell {
  workload: Workload;
  clients: number;
  watchers?: number;
}

const cellName = (c: { workload: Workload; watchers?: number }) => (c.workload === 'watch' ? `watch (${c.watchers} watchers)` : c.workload);

interface Result {
  system: 'keel-store' | 'etcd';
  workload: Workload;
  /** For watch: the clients putting. */
  clients: number;
  /** For watch: how many watchers received the events. */
  watchers?: number;
  /** For watch: events delivered (over all watchers); else requests answered. */
  requests: number;
  errors: number;
  seconds: number;
  qps: number;
  p50Ms: number;
  p99Ms: number;
  /** RSS of each member (MiB) after this system's runs. */
  rssMiB?: number[];
}

const repoRoot = resolve(import.meta.dirname, '../../..');
const KEY_SPACE = 10_000;

function key(i: number): string {
  // 8-byte keys, as etcd's published benchmark uses.
  return `k${String(i % KEY_SPACE).padStart(7, '0')}`;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

async function runWorkload(
  system: Result['system'],
  endpoints: string[],
  workload: Workload,
  clients: number,
  seconds: number,
  value: Buffer,
  connections: number,
): Promise<Result> {
  // A few gRPC channels shared by all clients, spread over the members (as etcd's own
  // benchmark spreads its connections over the endpoints it is given).
  const conns = Array.from({ length: Math.min(clients, connections) }, (_, i) => new EtcdClient({ endpoints: [endpoints[i % endpoints.length]!], callTimeoutMs: 10_000 }));
  const latencies: number[] = [];
  let errors = 0;
  let counter = 0;
  const run = async (c: number, until: number, record: boolean) => {
    const client = conns[c % conns.length]!;
    while (performance.now() < until) {
      const k = key(counter++ * 7919);
      const t0 = performance.now();
      try {
        if (workload === 'put') await client.put(k, value);
        else await client.range(k, { serializable: workload === 'range-serializable' });
        if (record) latencies.push(performance.now() - t0);
      } catch {
        if (record) errors++;
      }
    }
  };
  // Warm up briefly (connections, JIT), then measure.
  const warm = performance.now() + 500;
  await Promise.all(Array.from({ length: clients }, (_, c) => run(c, warm, false)));
  const start = performance.now();
  const until = start + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, (_, c) => run(c, until, true)));
  const elapsed = (performance.now() - start) / 1000;
  for (const c of conns) c.close();
  latencies.sort((a, b) => a - b);
  return {
    system,
    workload,
    clients,
    requests: latencies.length,
    errors,
    seconds: Number(elapsed.toFixed(2)),
    qps: Math.round(latencies.length / elapsed),
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
  };
}

/**
 * W watchers on a prefix while P clients put under it: events delivered per second over all
 * watchers, and the latency from each put's call to each watcher's receipt of its event.
 */
async function runWatchWorkload(
  system: Result['system'],
  endpoints: string[],
  putters: number,
  watchers: number,
  seconds: number,
  value: Buffer,
  connections: number,
): Promise<Result> {
  const prefix = `w${Date.now().toString(36)}/`;
  const putConns = Array.from({ length: Math.min(putters, connections) }, (_, i) => new EtcdClient({ endpoints: [endpoints[i % endpoints.length]!], callTimeoutMs: 10_000 }));
  // Each watch client carries several watches over its one Watch stream, as etcd's benchmark does.
  const watchConns = Array.from({ length: Math.min(watchers, connections) }, (_, i) => new EtcdClient({ endpoints: [endpoints[(i + 1) % endpoints.length]!], callTimeoutMs: 10_000 }));
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let measuring = false;
  let delivered = 0;
  let created = 0;
  const handles = Array.from({ length: watchers }, (_, w) =>
    watchConns[w % watchConns.length]!.watch(
      { key: prefix, prefix: true },
      {
        onCreated: () => void created++,
        onEvents: (events) => {
          const t = performance.now();
          for (const e of events) {
            if (!measuring) continue;
            const t0 = sentAt.get(e.kv.key.toString());
            if (t0 === undefined) continue;
            delivered++;
            latencies.push(t - t0);
          }
        },
      },
    ),
  );
  const ready = performance.now() + 10_000;
  while (created < watchers && performance.now() < ready) await new Promise((r) => setTimeout(r, 20));
  let counter = 0;
  let errors = 0;
  const run = async (c: number, until: number) => {
    const client = putConns[c % putConns.length]!;
    while (performance.now() < until) {
      const k = `${prefix}${(counter++).toString(36).padStart(6, '0')}`;
      sentAt.set(k, performance.now());
      try {
        await client.put(k, value);
      } catch {
        errors++;
      }
    }
  };
  const warm = performance.now() + 500;
  await Promise.all(Array.from({ length: putters }, (_, c) => run(c, warm)));
  sentAt.clear();
  measuring = true;
  const start = performance.now();
  const until = start + seconds * 1000;
  await Promise.all(Array.from({ length: putters }, (_, c) => run(c, until)));
  const elapsed = (performance.now() - start) / 1000;
  // Events still in flight when the puts stop are not counted: the rate is over the same window.
  measuring = false;
  for (const h of handles) h.cancel();
  for (const c of [...putConns, ...watchConns]) c.close();
  latencies.sort((a, b) => a - b);
  return {
    system,
    workload: 'watch',
    clients: putters,
    watchers,
    requests: delivered,
    errors,
    seconds: Number(elapsed.toFixed(2)),
    qps: Math.round(delivered / elapsed),
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
  };
}

async function benchSystem(
  system: Result['system'],
  endpoints: string[],
  pids: () => number[],
  opts: { cells: Cell[]; duration: number; value: Buffer; connections: number },
): Promise<Result[]> {
  const out: Result[] = [];
  // Ranges read keys that exist.
  const seed = new EtcdClient({ endpoints });
  for (let i = 0; i < KEY_SPACE; i += 200) {
    await Promise.all(Array.from({ length: 200 }, (_, j) => seed.put(key(i + j), opts.value)));
  }
  seed.close();
  for (const cell of opts.cells) {
    const r =
      cell.workload === 'watch'
        ? await runWatchWorkload(system, endpoints, cell.clients, cell.watchers!, opts.duration, opts.value, opts.connections)
        : await runWorkload(system, endpoints, cell.workload, cell.clients, opts.duration, opts.value, opts.connections);
    process.stderr.write(`${system} ${cellName(cell)} clients=${cell.clients}: ${r.qps} ${cell.workload === 'watch' ? 'events' : 'req'}/s p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms errors ${r.errors}\n`);
    out.push(r);
  }
  const rss = pids().map(rssMiB);
  for (const r of out) r.rssMiB = rss;
  return out;
}

function table(results: Result[], cells: Cell[]): string {
  // For watch rows, "req/s" is events delivered per second over all watchers and "clients" the putters.
  const rows: string[][] = [
    ['workload', 'clients', 'keel-store req/s', 'p50 ms', 'p99 ms', 'etcd req/s', 'p50 ms', 'p99 ms', 'req/s keel/etcd', 'p99 keel/etcd', 'bar met'],
  ];
  for (const cell of cells) {
    const workload = cellName(cell);
    const c = cell.clients;
    const same = (r: Result) => r.workload === cell.workload && r.clients === c && r.watchers === cell.watchers;
    const k = results.find((r) => r.system === 'keel-store' && same(r));
    const e = results.find((r) => r.system === 'etcd' && same(r));
    const ratio = (a?: number, b?: number) => (a !== undefined && b ? (a / b).toFixed(2) : '-');
    const met = k && e ? (k.qps >= e.qps && k.p99Ms <= e.p99Ms ? 'yes' : 'no') : '-';
    rows.push([
      workload,
      String(c),
      String(k?.qps ?? '-'),
      String(k?.p50Ms ?? '-'),
      String(k?.p99Ms ?? '-'),
      String(e?.qps ?? '-'),
      String(e?.p50Ms ?? '-'),
      String(e?.p99Ms ?? '-'),
      ratio(k?.qps, e?.qps),
      ratio(k?.p99Ms, e?.p99Ms),
      met,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

async function main(): Promise<void> {
  const program = new Command('bench-store')
    .description('keel-store vs etcd 3.4: puts and ranges over the etcd v3 gRPC API, 3 members each')
    .option('--duration <seconds>', 'seconds per workload and client count', Number, 5)
    .option('--clients <list>', 'concurrent clients for ranges, comma-separated', (v) => v.split(',').map(Number), [1, 16, 256])
    .option('--put-clients <list>', 'concurrent clients for puts, comma-separated', (v) => v.split(',').map(Number), [1, 16, 64, 256])
    .option('--watchers <list>', 'watchers for the watch workload, comma-separated', (v) => v.split(',').map(Number), [16, 64])
    .option('--watch-putters <n>', 'clients putting during the watch workload', Number, 16)
    .option('--workloads <list>', `which workloads (${WORKLOADS.join(',')})`, (v) => v.split(','), WORKLOADS)
    .option('--connections <n>', 'gRPC channels shared by the clients (at most one per client)', Number, 16)
    .option('--value-size <bytes>', 'value size', Number, 256)
    .option('--members <n>', 'members per cluster (1 or 3)', Number, 3)
    .option('--only <system>', 'keel or etcd')
    .option('--out <file>', 'JSON output', join(repoRoot, 'tmp/bench-store.json'));
  program.parse(process.argv);
  const opts = program.opts<{
    duration: number;
    clients: number[];
    putClients: number[];
    watchers: number[];
    watchPutters: number;
    workloads: string[];
    connections: number;
    valueSize: number;
    members: number;
    only?: string;
    out: string;
  }>();
  if (![1, 3].includes(opts.members)) throw new Error('--members must be 1 or 3');
  for (const w of opts.workloads) if (!WORKLOADS.includes(w as Workload)) throw new Error(`--workloads: unknown ${w}`);
  const cells: Cell[] = WORKLOADS.filter((w) => opts.workloads.includes(w)).flatMap((workload): Cell[] =>
    workload === 'put'
      ? opts.putClients.map((clients) => ({ workload, clients }))
      : workload === 'watch'
        ? opts.watchers.map((watchers) => ({ workload, clients: opts.watchPutters, watchers }))
        : opts.clients.map((clients) => ({ workload, clients })),
  );
  const value = Buffer.alloc(opts.valueSize, 'v');
  const conditions = {
    members: opts.members,
    clients: opts.clients,
    putClients: opts.putClients,
    watchers: opts.watchers,
    watchPutters: opts.watchPutters,
    workloads: opts.workloads,
    connections: opts.connections,
    keyBytes: 8,
    valueBytes: opts.valueSize,
    keySpace: KEY_SPACE,
    durationSeconds: opts.duration,
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    etcd: '3.4 (Debian etcd-server)',
    date: new Date().toISOString(),
    loadAverageAtStart: Number(loadavg()[0]!.toFixed(1)),
    loadAverageAtEnd: 0,
    note: 'one machine: the load generator (one Node process) and all 3 members share the cores; systems run one after the other',
  };
  const work = mkdtempSync(join(tmpdir(), 'keel-bench-store-'));
  // Ctrl-C or SIGTERM at any point (even while a cluster starts) stops the members by the
  // PID files under `work` and removes it; the finally below does the same on the way out.
  const removeWork = onCleanup(`bench folder ${work}`, () => removeWorkDir(work));
  const results: Result[] = [];
  const run = { cells, duration: opts.duration, value, connections: opts.connections };
  try {
    // Each system's members are registered before they start: after a signal that throws,
    // so a run that was still measuring etcd does not go on to start keel-store.
    if (opts.only !== 'keel') {
      const stopEtcd = onCleanup('etcd members', () => removeWorkDir(join(work, 'keel-etcd')));
      try {
        const etcd = await startEtcdCluster({ dir: join(work, 'keel-etcd'), members: opts.members as 1 | 3 });
        const pids = () => etcd.members.map((m) => (JSON.parse(readFileSync(m.pidFile, 'utf8')) as { pid: number }).pid);
        results.push(...(await benchSystem('etcd', etcd.endpoints, pids, run)));
      } finally {
        await stopEtcd();
      }
    }
    if (opts.only !== 'etcd') {
      const stopKeel = onCleanup('keel-store members', () => removeWorkDir(join(work, 'keel-store')));
      try {
        const keel = await startKeelStore(join(work, 'keel-store'), opts.members);
        results.push(...(await benchSystem('keel-store', keel.endpoints, () => keel.pids, run)));
      } finally {
        await stopKeel();
      }
    }
  } finally {
    await removeWork();
  }
  conditions.loadAverageAtEnd = Number(loadavg()[0]!.toFixed(1));
  const rss = (system: string) => results.find((r) => r.system === system)?.rssMiB?.join(' / ') ?? '-';
  const text = [
    `conditions: ${opts.members} members each on loopback; workloads ${opts.workloads.join(', ')}; put clients ${opts.putClients.join(', ')}; range clients ${opts.clients.join(', ')}; watch: ${opts.watchers.join(', ')} watchers while ${opts.watchPutters} clients put (req/s = events delivered per second over all watchers, latency = put call to event receipt); over ${opts.connections} gRPC channels; keys 8 B, values ${opts.valueSize} B, ${KEY_SPACE} keys; ${opts.duration} s per cell; ${conditions.cores} cores (${conditions.cpu}); Node ${process.version}; etcd 3.4; load average ${conditions.loadAverageAtStart} at start, ${conditions.loadAverageAtEnd} at end (a shared machine)`,
    '',
    table(results, cells),
    '',
    `RSS per member after the run (MiB): keel-store ${rss('keel-store')}; etcd ${rss('etcd')}`,
  ].join('\n');
  process.stdout.write(text + '\n');
  mkdirSync(join(repoRoot, 'tmp'), { recursive: true });
  writeFileSync(opts.out, JSON.stringify({ conditions, results, table: text }, null, 2) + '\n');
  process.stdout.write(`wrote ${opts.out}\n`);
}

runTool('bench-store', main);
