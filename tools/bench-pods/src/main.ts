// keel bench-pods: pod startup latency on a real one-node Keel cluster (cluster.ts: the
// store, apiserver, controller-manager, scheduler, containerd and keel-agent as separate
// processes), with the image already present on the node. Pods are created through the
// apiserver without a node (so the scheduler binds them), in waves of --batch pods at once,
// each wave waiting for the previous one to be Running; pods stay until the end, as in
// Kubernetes' density test. A pod's latency runs from just before its create call to the
// watch event that shows it Running (the SLO's "observed by watch"), and is split into
// create → bound (nodeName seen) and bound → Running. Prints p50/p90/p99/max against
// Kubernetes' SLO (p99 ≤ 5 s) and writes JSON.
//   npx tsx tools/bench-pods/src/main.ts [--pods 50] [--batch 10] [--out tmp/bench-pods.json]
import type { Pod } from '@keel/api';
import { onCleanup, runTool } from '@keel/process';
import { Command, InvalidArgumentError } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startBenchCluster, writeResult } from './cluster';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const SLO_P99_MS = 5000;

const count = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

/** Nearest-rank percentile of ascending values. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const round = (n: number) => Math.round(n * 10) / 10;

function summary(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  return { p50Ms: round(percentile(s, 50)), p90Ms: round(percentile(s, 90)), p99Ms: round(percentile(s, 99)), maxMs: round(s.at(-1) ?? NaN) };
}

async function main(): Promise<void> {
  const opts = new Command('bench-pods')
    .description('pod startup latency (create → Running observed by watch) on a real one-node Keel cluster, image already present')
    .option('--pods <n>', 'pods to start', count, 50)
    .option('--batch <n>', 'pods created at once per wave (= --pods: all at once)', count, 10)
    .option('--timeout <seconds>', 'give up on a wave after this long', count, 120)
    .option('--out <file>', 'JSON results', join(REPO_ROOT, 'tmp', 'bench-pods.json'))
    .parse()
    .opts<{ pods: number; batch: number; timeout: number; out: string }>();

  const log = (line: string) => process.stderr.write(`bench-pods: ${line}\n`);
  const work = mkdtempSync(join(tmpdir(), 'keel-bench-pods-'));
  // Ctrl-C / SIGTERM at any point: the cluster (its own registered teardown, newer, runs
  // first), then this folder.
  const removeWork = onCleanup(`bench folder ${work}`, () => rmSync(work, { recursive: true, force: true }));
  const loadAtStart = loadavg()[0]!;
  const cluster = await startBenchCluster({ dir: join(work, 'keel-cluster'), prePull: ['keel/web'], log });
  const created = new Map<string, number>();
  const bound = new Map<string, number>();
  const running = new Map<string, number>();
  let failure: string | undefined;
  try {
    const pods = cluster.client.pods('default');
    const run = Date.now().toString(36);
    const rv = (await pods.list({ limit: 1 })).metadata.resourceVersion;
    let wake: () => void = () => undefined;
    const watch = pods.watch(
      { labelSelector: `keel-bench=${run}`, ...(rv ? { resourceVersion: rv } : {}) },
      {
        event: (e) => {
          const t = performance.now();
          const name = e.object.metadata.name!;
          if (e.object.spec?.nodeName && !bound.has(name)) bound.set(name, t);
          if (e.object.status?.phase === 'Running' && !running.has(name)) {
            running.set(name, t);
            wake();
          }
        },
        end: (err) => {
          if (err) failure = `watch ended: ${err.message}`;
          wake();
        },
      },
    );
    await watch.established;
    log(`cluster up; starting ${opts.pods} pods in waves of ${opts.batch}`);
    const started = performance.now();
    for (let i = 0; i < opts.pods && !failure; i += opts.batch) {
      const names = Array.from({ length: Math.min(opts.batch, opts.pods - i) }, (_, j) => `bench-${run}-${i + j}`);
      await Promise.all(
        names.map(async (name) => {
          const pod: Pod = {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name, namespace: 'default', labels: { 'keel-bench': run } },
            spec: {
              terminationGracePeriodSeconds: 1,
              containers: [{ name: 'web', image: cluster.image('keel/web'), resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
            },
          };
          created.set(name, performance.now());
          await pods.create(pod);
        }),
      );
      const deadline = performance.now() + opts.timeout * 1000;
      while (!failure && names.some((n) => !running.has(n))) {
        if (performance.now() > deadline) failure = `wave ${i / opts.batch + 1}: ${names.filter((n) => !running.has(n)).length} pods not Running after ${opts.timeout} s`;
        else await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 250);
        });
      }
      log(`${running.size}/${opts.pods} Running`);
    }
    const totalSeconds = (performance.now() - started) / 1000;
    watch.stop();
    // Leave the node as found: delete the pods and wait until the agent has removed them.
    log('deleting the pods');
    await Promise.all([...created.keys()].map((n) => pods.delete(n, { gracePeriodSeconds: 0 }).catch(() => undefined)));
    const goneBy = Date.now() + 60_000;
    while ((await pods.list({ labelSelector: `keel-bench=${run}` })).items.length > 0 && Date.now() < goneBy) await new Promise((r) => setTimeout(r, 500));

    const names = [...created.keys()].filter((n) => running.has(n));
    const total = names.map((n) => running.get(n)! - created.get(n)!);
    const toBound = names.filter((n) => bound.has(n)).map((n) => bound.get(n)! - created.get(n)!);
    const boundToRunning = names.filter((n) => bound.has(n)).map((n) => running.get(n)! - bound.get(n)!);
    const startup = summary(total);
    const result = {
      benchmark: 'pod-startup',
      conditions: {
        pods: opts.pods,
        batch: opts.batch,
        mode: opts.batch >= opts.pods ? 'all at once' : `waves of ${opts.batch} created at once, each after the previous wave is Running; pods stay until the end`,
        image: 'keel/web (busybox httpd), already pulled on the node; no readiness probe',
        cluster:
          'one node on this machine: keel-store (1 member), keel-apiserver (TLS, RBAC), controller-manager, scheduler, containerd 1.6 + runc, keel-agent (proxy off), each its own process from dist/',
        measured: 'client time before the create call → the watch event with phase Running',
        machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}`,
        node: process.version,
        date: new Date().toISOString(),
        loadAverageAtStart: round(loadAtStart),
        loadAverageAtEnd: round(loadavg()[0]!),
      },
      running: names.length,
      totalSeconds: round(totalSeconds),
      startup,
      createToBound: summary(toBound),
      boundToRunning: summary(boundToRunning),
      sloP99Ms: SLO_P99_MS,
      sloMet: names.length === opts.pods && startup.p99Ms <= SLO_P99_MS,
      latenciesMs: total.map(round),
      ...(failure ? { error: failure } : {}),
    };
    const row = (what: string, s: ReturnType<typeof summary>) => `| ${what} | ${s.p50Ms} | ${s.p90Ms} | ${s.p99Ms} | ${s.maxMs} |`;
    process.stdout.write(
      [
        `pod startup: ${JSON.stringify(result.conditions)}`,
        '',
        '| interval | p50 ms | p90 ms | p99 ms | max ms |',
        '|---|---:|---:|---:|---:|',
        row('create → Running (watch)', startup),
        row('create → bound', result.createToBound),
        row('bound → Running', result.boundToRunning),
        '',
        `${names.length}/${opts.pods} pods Running in ${result.totalSeconds} s; Kubernetes' SLO p99 ≤ ${SLO_P99_MS} ms: ${result.sloMet ? 'met' : 'NOT met'}`,
        '',
      ].join('\n'),
    );
    writeResult(opts.out, result);
  } finally {
    const problems = await cluster.stop();
    await removeWork();
    if (problems.length) log(`teardown problems: ${problems.join('; ')}`);
  }
  if (failure) throw new Error(failure);
}

runTool('bench-pods', main);
