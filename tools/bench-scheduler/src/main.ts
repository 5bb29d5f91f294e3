// keel bench-scheduler: pods scheduled per second on hollow nodes — nodes that exist only as
// API objects (or, in memory, only as Node objects in the scheduler's cache); nothing runs
// on them. Two conditions:
//  1. in memory: the full scheduler core (queue, filters, scores, assume, bind bookkeeping)
//     over 5,000 nodes and 10,000 pending pods, with no apiserver — the algorithm alone, as
//     kube-scheduler's scheduler_perf measures it in process. Run by the scheduler's own
//     bench entry (apps/scheduler/src/bench-main.ts) in a child process, since tools do not
//     import apps.
//  2. through the apiserver: keel-apiserver (built bundle) on etcd, the built keel-scheduler
//     process, hollow nodes and pending pods created over gRPC; timed from the scheduler's
//     start to the last binding seen on a watch. Smaller, since every binding is a write.
//     Latencies come from the scheduler's own histograms on /metrics, as scheduler_perf reads
//     them: one attempt (pop to assume) and end to end (first queued to bound).
// Compares with kube-scheduler's published minimum of 680 pods/s at 5,000 nodes; prints the
// conditions and a table; writes JSON to tmp/bench-scheduler.json.

import type { Node, Pod } from '@keel/api';
import { Client, GrpcTransport } from '@keel/client';
import { freeLoopbackPorts, httpAnswers, onCleanup, runTool, startDaemon, stopDaemonsUnder, type RunningDaemon } from '@keel/process';
import { startEtcdCluster, type EtcdCluster } from '@keel/tools-etcd';
import { Command, InvalidArgumentError } from 'commander';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const KUBE_MIN_PODS_PER_SECOND = 680;

interface Row {
  path: 'in-memory' | 'apiserver';
  workload: string;
  nodes: number;
  pods: number;
  scheduled: number;
  seconds: number;
  podsPerSecond: number;
  /** Through the apiserver: pods/s from the first binding to the last (without process start and cache sync). */
  steadyPodsPerSecond?: number;
  /** Pods per second of CPU time (in memory only): what a quiet machine would show. */
  podsPerCpuSecond?: number;
  /** One scheduling attempt (pop to assume); through the apiserver, from the scheduler's histogram. */
  p50Ms?: number;
  p99Ms?: number;
  /** Through the apiserver: first queued to bound (scheduler_pod_scheduling_sli_duration_seconds). */
  e2eP50Ms?: number;
  e2eP99Ms?: number;
}

/** Cumulative buckets (le → count) of one histogram series in Prometheus text. */
function histogramBuckets(text: string, name: string, labels = ''): [number, number][] {
  const out: [number, number][] = [];
  const prefix = `${name}_bucket{${labels ? `${labels},` : ''}le="`;
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const le = line.slice(prefix.length, line.indexOf('"', prefix.length));
    out.push([le === '+Inf' ? Infinity : Number(le), Number(line.slice(line.lastIndexOf(' ') + 1))]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** The q-quantile of cumulative buckets, interpolated within a bucket as histogram_quantile does. */
function histogramQuantile(q: number, buckets: [number, number][]): number | undefined {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      // The +Inf bucket has no upper bound: answer the highest finite one.
      if (le === Infinity) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1, count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

const program = new Command('bench-scheduler')
  .description('pods scheduled per second on hollow nodes, in memory and through the apiserver')
  .option('--nodes <n>', 'hollow nodes, in memory', count, 5000)
  .option('--pods <n>', 'pending pods, in memory (basic workload; 0 skips it)', count, 10000)
  .option('--heavy-pods <n>', 'pending pods for the spread and affinity workloads, in memory (0 skips them)', count, 10000)
  .option('--api-nodes <n>', 'hollow nodes through the apiserver (0 skips that condition)', count, 500)
  .option('--api-pods <n>', 'pending pods through the apiserver', count, 1000)
  .option('--out <file>', 'JSON results', 'tmp/bench-scheduler.json')
  .option('--profile-dir <dir>', 'through the apiserver: write a V8 CPU profile of the keel-scheduler process here');

function inMemory(nodes: number, pods: number, workload: string): Row {
  const out = execFileSync('npx', ['tsx', 'apps/scheduler/src/bench-main.ts', '--nodes', String(nodes), '--pods', String(pods), '--workload', workload], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as Omit<Row, 'path'>;
  return { path: 'in-memory', ...r };
}

function hollowNode(i: number): Node {
  const allocatable = { cpu: '4', memory: '32Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: `hollow-${i}`, labels: { 'kubernetes.io/hostname': `hollow-${i}`, 'topology.kubernetes.io/zone': `zone-${i % 10}` } },
    spec: {},
    status: { capacity: allocatable, allocatable, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function pendingPod(i: number): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `pod-${i}`, namespace: 'default', labels: { app: `app-${i % 50}` } },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: `${100 + (i % 4) * 100}m`, memory: '256Mi' } } }] },
  };
}

async function inBatches(total: number, width: number, make: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < total; i += width) await Promise.all(Array.from({ length: Math.min(width, total - i) }, (_, j) => make(i + j)));
}

async function throughApiserver(nodes: number, pods: number, profileDir?: string): Promise<Row> {
  for (const app of ['apps/apiserver', 'apps/scheduler']) execFileSync('node', ['tools/scripts/bundle.mjs', app], { cwd: REPO_ROOT, stdio: 'ignore' });
  const work = mkdtempSync(join(tmpdir(), 'keel-bench-scheduler-'));
  let etcd: EtcdCluster | undefined;
  const daemons: RunningDaemon[] = [];
  let client: Client | undefined;
  // The same teardown on the way out and on Ctrl-C / SIGTERM (even mid-start): the daemons
  // in order, then any other daemon recorded under `work` (one still starting), by PID file.
  const teardown = onCleanup(`scheduler bench ${work}`, async () => {
    client?.close();
    // A profiled scheduler writes its profile on exit: give it time.
    for (const d of daemons.reverse()) await d.stop(profileDir ? 60_000 : undefined);
    await etcd?.stop({ removeData: true });
    await stopDaemonsUnder(work);
    // KEEL_KEEP_WORK=1 keeps the processes' logs for a look afterwards.
    if (process.env['KEEL_KEEP_WORK']) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  });
  try {
    etcd = await startEtcdCluster({ dir: join(work, 'keel-etcd'), members: 1 });
    const [http, grpc, metrics] = (await freeLoopbackPorts(3)) as [number, number, number];
    daemons.push(
      await startDaemon({
        argv: ['node', join(REPO_ROOT, 'dist/apps/apiserver/main.js'), '--etcd-servers', etcd.endpoints.join(','), '--insecure-port', String(http), '--grpc-port', String(grpc)],
        pidFile: join(work, 'apiserver.pid'),
        logFile: join(work, 'apiserver.log'),
        ready: () => httpAnswers(`http://127.0.0.1:${http}/healthz`),
      }),
    );
    client = new Client(new GrpcTransport({ address: `127.0.0.1:${grpc}`, callTimeoutMs: 30_000 }));
    const c = client;
    await inBatches(nodes, 32, async (i) => {
      const n = hollowNode(i);
      const created = await c.nodes().create(n);
      if (!created.status?.allocatable) await c.nodes().updateStatus({ ...created, status: n.status! });
    });
    await inBatches(pods, 32, (i) => c.pods('default').create(pendingPod(i)));
    // Count bindings on a watch from now on.
    const rv = (await c.pods('default').list({ limit: 1 })).metadata.resourceVersion;
    const bound = new Set<string>();
    let lastBound = 0;
    let firstBound = 0;
    let allBound: () => void = () => undefined;
    const done = new Promise<void>((r) => (allBound = r));
    const watch = c.pods('default').watch(
      { ...(rv ? { resourceVersion: rv } : {}) },
      {
        event: (e) => {
          if (e.object.spec?.nodeName && !bound.has(e.object.metadata.name!)) {
            bound.add(e.object.metadata.name!);
            lastBound = performance.now();
            if (bound.size === 1) firstBound = lastBound;
            if (bound.size === pods) allBound();
          }
        },
        end: () => undefined,
      },
    );
    await watch.established;
    const started = performance.now();
    daemons.push(
      await startDaemon({
        argv: [
          'node',
          ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : []),
          join(REPO_ROOT, 'dist/apps/scheduler/main.js'),
          '--grpc-server',
          `127.0.0.1:${grpc}`,
          '--secure-port',
          String(metrics),
        ],
        pidFile: join(work, 'scheduler.pid'),
        logFile: join(work, 'scheduler.log'),
        ready: () => httpAnswers(`http://127.0.0.1:${metrics}/healthz`),
      }),
    );
    // A cap on the run, cleared once every pod is bound so the process can exit at once.
    let cap: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((r) => (cap = setTimeout(r, 300_000)))]);
    clearTimeout(cap);
    watch.stop();
    const metricsText = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    const ms = (v: number | undefined) => (v === undefined ? undefined : v * 1000);
    const attempt = histogramBuckets(metricsText, 'scheduler_scheduling_attempt_duration_seconds', 'result="scheduled"');
    const e2e = histogramBuckets(metricsText, 'scheduler_pod_scheduling_sli_duration_seconds');
    const latency = {
      p50Ms: ms(histogramQuantile(0.5, attempt)),
      p99Ms: ms(histogramQuantile(0.99, attempt)),
      e2eP50Ms: ms(histogramQuantile(0.5, e2e)),
      e2eP99Ms: ms(histogramQuantile(0.99, e2e)),
    };
    const seconds = ((bound.size === pods ? lastBound : performance.now()) - started) / 1000;
    const steady = bound.size > 1 ? (bound.size - 1) / ((lastBound - firstBound) / 1000) : 0;
    return {
      path: 'apiserver',
      workload: 'basic',
      nodes,
      pods,
      scheduled: bound.size,
      seconds,
      podsPerSecond: bound.size / seconds,
      steadyPodsPerSecond: steady,
      ...Object.fromEntries(Object.entries(latency).filter(([, v]) => v !== undefined)),
    };
  } finally {
    await teardown();
  }
}

function table(rows: Row[]): string {
  const head = '| path | workload | nodes | pods | scheduled | seconds | pods/s | steady pods/s | pods/CPU-s | attempt p50 ms | attempt p99 ms | e2e p50 ms | e2e p99 ms | vs 680 pods/s |';
  const sep = '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|';
  const fmt = (n: number | undefined, d = 0) => (n === undefined ? '' : n.toFixed(d));
  const lines = rows.map(
    (r) =>
      `| ${r.path} | ${r.workload} | ${r.nodes} | ${r.pods} | ${r.scheduled} | ${fmt(r.seconds, 2)} | ${fmt(r.podsPerSecond)} | ${fmt(r.steadyPodsPerSecond)} | ${fmt(r.podsPerCpuSecond)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.e2eP50Ms, 0)} | ${fmt(r.e2eP99Ms, 0)} | ${
        r.workload !== 'basic'
          ? 'n/a (680 is the basic workload)'
          : r.nodes >= 5000
            ? `${r.podsPerSecond >= KUBE_MIN_PODS_PER_SECOND ? 'above' : 'below'} (${(r.podsPerSecond / KUBE_MIN_PODS_PER_SECOND).toFixed(1)}×)`
            : 'n/a (fewer nodes)'
      } |`,
  );
  return [head, sep, ...lines].join('\n');
}

async function main(): Promise<void> {
  const opts = program.parse().opts<{ nodes: number; pods: number; heavyPods: number; apiNodes: number; apiPods: number; out: string; profileDir?: string }>();
  const conditions = {
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
    node: process.version,
    loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
    nodes: 'hollow: Node objects only (4 cpu, 32Gi, 110 pods, 10 zones); nothing runs on them',
    plugins: 'default profile: 8 filters, 7 scores at Kubernetes weights; percentageOfNodesToScore adaptive (10% at 5,000 nodes)',
  };
  console.log('bench-scheduler —', JSON.stringify(conditions));
  const rows: Row[] = [];
  if (opts.pods > 0) {
    rows.push(inMemory(opts.nodes, opts.pods, 'basic'));
    console.log(table(rows.slice(-1)));
  }
  if (opts.heavyPods > 0) {
    for (const w of ['spread', 'affinity']) {
      rows.push(inMemory(opts.nodes, opts.heavyPods, w));
      console.log(table(rows.slice(-1)).split('\n')[2]);
    }
  }
  if (opts.apiNodes > 0) {
    rows.push(await throughApiserver(opts.apiNodes, opts.apiPods, opts.profileDir));
    console.log(table(rows.slice(-1)).split('\n')[2]);
  }
  console.log('\n' + table(rows));
  console.log(`\nkube-scheduler's published minimum: ${KUBE_MIN_PODS_PER_SECOND} pods/s at 5,000 nodes (scheduler_perf SchedulingBasic).`);
  const out = resolve(REPO_ROOT, opts.out);
  mkdirSync(resolve(out, '..'), { recursive: true });
  writeFileSync(out, JSON.stringify({ conditions, kubeMinimumPodsPerSecond: KUBE_MIN_PODS_PER_SECOND, rows }, null, 2) + '\n');
  console.log(`wrote ${opts.out}`);
}

runTool('bench-scheduler', main);
