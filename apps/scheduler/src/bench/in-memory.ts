// The scheduling algorithm's throughput with no apiserver: hollow nodes (Node objects only,
// nothing runs on them) fed straight into the cache, pending pods into the queue, and a
// binder that answers at once. Measures pop → filter → score → assume → bind bookkeeping,
// as kube-scheduler's scheduler_perf does in process. Used by tools/bench-scheduler.

import type { Pod } from '@keel/api';
import { makeNode, makePod } from '../testing/builders';
import { Scheduler, type SchedulerApi } from '../scheduler';

export type Workload = 'basic' | 'spread' | 'affinity';

export interface InMemoryBenchOptions {
  nodes: number;
  pods: number;
  workload: Workload;
  zones?: number;
}

export interface InMemoryBenchResult extends InMemoryBenchOptions {
  scheduled: number;
  unschedulable: number;
  seconds: number;
  /** CPU time the process spent (user + system), which a busy shared machine does not inflate. */
  cpuSeconds: number;
  podsPerSecond: number;
  podsPerCpuSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** A deterministic pseudo-random source (mulberry32), so runs compare. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function workloadPod(i: number, workload: Workload, random: () => number): Pod {
  const cpu = `${100 + Math.floor(random() * 4) * 100}m`;
  const memory = `${128 * (1 + Math.floor(random() * 4))}Mi`;
  const app = `app-${i % 50}`;
  switch (workload) {
    case 'basic':
      return makePod(`pod-${i}`, { cpu, memory, labels: { app } });
    case 'spread':
      return makePod(`pod-${i}`, {
        cpu,
        memory,
        labels: { app },
        spread: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app } } }],
      });
    case 'affinity':
      return makePod(`pod-${i}`, {
        cpu,
        memory,
        labels: { app },
        affinity: {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 10, podAffinityTerm: { labelSelector: { matchLabels: { app } }, topologyKey: 'kubernetes.io/hostname' } },
            ],
          },
        },
      });
  }
}

export async function runInMemoryBench(opts: InMemoryBenchOptions): Promise<InMemoryBenchResult> {
  const random = seeded(42);
  const api: SchedulerApi = {
    bind: async () => undefined,
    deletePod: async () => undefined,
    updatePodStatus: async () => undefined,
    recordEvent: async () => undefined,
  };
  const s = new Scheduler({ api, now: () => performance.now(), random, scheduledEvents: false });
  const zones = opts.zones ?? 10;
  for (let i = 0; i < opts.nodes; i++) {
    s.onNodeEvent('ADDED', makeNode(`hollow-${i}`, { cpu: '4', memory: '32Gi', pods: '110', labels: { 'topology.kubernetes.io/zone': `zone-${i % zones}` } }));
  }
  for (let i = 0; i < opts.pods; i++) s.onPodEvent('ADDED', workloadPod(i, opts.workload, random));
  const latencies: number[] = [];
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  for (;;) {
    const t = performance.now();
    if (!s.scheduleOne()) break;
    latencies.push(performance.now() - t);
  }
  await s.settle();
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return {
    ...opts,
    scheduled: s.metrics.scheduled,
    unschedulable: s.metrics.unschedulable,
    seconds,
    cpuSeconds,
    podsPerSecond: s.metrics.scheduled / seconds,
    podsPerCpuSecond: s.metrics.scheduled / cpuSeconds,
    p50Ms: pct(50),
    p99Ms: pct(99),
  };
}
