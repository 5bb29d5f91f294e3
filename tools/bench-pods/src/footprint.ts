// keel bench-footprint: the memory of every Keel process at steady state, on the same
// one-node cluster as the pod-startup benchmark (cluster.ts), running the sample app
// (examples/web.yaml's shape: a Deployment of 2 keel/web pods and a NodePort Service) plus
// --pods extra pods. Once every pod is Running, it waits --settle seconds, sampling VmRSS of
// each recorded PID every 2 s, then reports the last sample, the largest sample and VmHWM
// (the peak since start, which includes start-up). Compares with k3s' published
// footprint (docs.k3s.io, Resource Profiling: K3s v1.26.5 on an Intel 8375C, 95th
// percentile at steady state, k3s and containerd together): server with a workload
// 1596 M (kine/SQLite) / 1606 M (embedded etcd), agent 275 M.
//   npx tsx tools/bench-pods/src/footprint.ts [--settle 60] [--pods 0] [--out tmp/bench-footprint.json]
import type { Deployment, Pod, Service } from '@keel/api';
import { onCleanup, runTool } from '@keel/process';
import { Command, InvalidArgumentError } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { memoryOf, startBenchCluster, writeResult } from './cluster';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');

/** k3s' published minimum RAM (docs.k3s.io/reference/resource-profiling, Intel 8375C rows). */
export const K3S = {
  source: 'https://docs.k3s.io/reference/resource-profiling (K3s v1.26.5, Intel 8375C, 95th percentile at steady state; k3s and containerd together)',
  serverWithWorkloadSqliteM: 1596,
  serverWithWorkloadEtcdM: 1606,
  agentM: 275,
};

const count = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
};
const round = (n: number) => Math.round(n * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const opts = new Command('bench-footprint')
    .description("RSS of every Keel process at steady state on a one-node cluster running the sample app, against k3s' published footprint")
    .option('--settle <seconds>', 'steady period sampled after every pod is Running', count, 60)
    .option('--pods <n>', 'extra plain pods besides the sample app', count, 0)
    .option('--out <file>', 'JSON results', join(REPO_ROOT, 'tmp', 'bench-footprint.json'))
    .parse()
    .opts<{ settle: number; pods: number; out: string }>();
  const log = (line: string) => process.stderr.write(`bench-footprint: ${line}\n`);
  const work = mkdtempSync(join(tmpdir(), 'keel-bench-footprint-'));
  // Ctrl-C / SIGTERM at any point: the cluster (its own registered teardown, newer, runs
  // first), then this folder.
  const removeWork = onCleanup(`bench folder ${work}`, () => rmSync(work, { recursive: true, force: true }));
  const loadAtStart = loadavg()[0]!;
  const cluster = await startBenchCluster({ dir: join(work, 'keel-cluster'), prePull: ['keel/web'], log });
  try {
    const c = cluster.client;
    // The sample app, as examples/web.yaml has it (image from this cluster's registry).
    await c.namespaces().create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
    const labels = { app: 'web' };
    const deployment: Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'demo', labels },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'web', image: cluster.image('keel/web'), ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { path: '/', port: 8080 } } }] },
        },
      },
    };
    await c.deployments('demo').create(deployment);
    const service: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'demo' }, spec: { type: 'NodePort', selector: labels, ports: [{ port: 80, targetPort: 8080 }] } };
    await c.services('demo').create(service);
    for (let i = 0; i < opts.pods; i++) {
      const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `idle-${i}`, namespace: 'demo' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image: cluster.image('keel/web') }] } };
      await c.pods('demo').create(pod);
    }
    const want = 2 + opts.pods;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const pods = (await c.pods('demo').list()).items;
      const running = pods.filter((p) => p.status?.phase === 'Running').length;
      if (running >= want) break;
      if (Date.now() > deadline) throw new Error(`only ${running}/${want} pods Running after 120 s`);
      await sleep(500);
    }
    log(`${want} pods Running; sampling for ${opts.settle} s`);
    const samples = new Map<number, number[]>();
    const settleEnd = Date.now() + opts.settle * 1000;
    do {
      for (const p of cluster.processes) {
        const m = memoryOf(p.pid);
        if (m) samples.set(p.pid, [...(samples.get(p.pid) ?? []), m.rssMiB]);
      }
      await sleep(Math.min(2000, Math.max(0, settleEnd - Date.now())));
    } while (Date.now() < settleEnd);
    const rows = cluster.processes.map((p) => {
      const s = samples.get(p.pid) ?? [];
      const now = memoryOf(p.pid);
      return {
        part: p.part,
        pid: p.pid,
        rssMiB: round(now?.rssMiB ?? NaN),
        maxSampledRssMiB: round(Math.max(...s)),
        meanRssMiB: round(s.reduce((a, b) => a + b, 0) / (s.length || 1)),
        hwmMiB: round(now?.hwmMiB ?? NaN),
        samples: s.length,
      };
    });
    const sum = (parts: string[], field: 'rssMiB' | 'hwmMiB' | 'maxSampledRssMiB') => round(rows.filter((r) => parts.includes(r.part)).reduce((a, r) => a + r[field], 0));
    const controlPlane = ['keel-store', 'keel-apiserver', 'keel-controller-manager', 'keel-scheduler'];
    const nodeParts = ['keel-agent', 'containerd'];
    const totals = {
      // k3s' server figure covers its whole service (control plane, kubelet and containerd) on a single node.
      serverWithWorkload: { parts: [...controlPlane, ...nodeParts], rssMiB: sum([...controlPlane, ...nodeParts], 'rssMiB'), maxSampledRssMiB: sum([...controlPlane, ...nodeParts], 'maxSampledRssMiB'), hwmMiB: sum([...controlPlane, ...nodeParts], 'hwmMiB'), k3sM: K3S.serverWithWorkloadSqliteM },
      controlPlane: { parts: controlPlane, rssMiB: sum(controlPlane, 'rssMiB'), maxSampledRssMiB: sum(controlPlane, 'maxSampledRssMiB'), hwmMiB: sum(controlPlane, 'hwmMiB') },
      agent: { parts: nodeParts, rssMiB: sum(nodeParts, 'rssMiB'), maxSampledRssMiB: sum(nodeParts, 'maxSampledRssMiB'), hwmMiB: sum(nodeParts, 'hwmMiB'), k3sM: K3S.agentM },
    };
    const result = {
      benchmark: 'footprint',
      conditions: {
        workload: `the sample app (Deployment web, 2 × keel/web, NodePort Service)${opts.pods ? ` + ${opts.pods} plain keel/web pods` : ''}`,
        settleSeconds: opts.settle,
        sampling: 'VmRSS every 2 s during the settle period, from /proc/<pid>/status of each recorded PID; VmHWM is the peak since the process started',
        cluster: 'one node: keel-store (1 member), keel-apiserver (TLS, RBAC), controller-manager, scheduler, keel-agent (proxy off: --disable-proxy), containerd 1.6 (pods’ shims not counted)',
        machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}`,
        node: process.version,
        date: new Date().toISOString(),
        loadAverageAtStart: round(loadAtStart),
        loadAverageAtEnd: round(loadavg()[0]!),
      },
      k3s: K3S,
      rows,
      totals,
    };
    const fmt = (n: number) => n.toFixed(1);
    process.stdout.write(
      [
        `footprint: ${JSON.stringify(result.conditions)}`,
        '',
        '| process | RSS MiB (end) | max sampled MiB | VmHWM MiB |',
        '|---|---:|---:|---:|',
        ...rows.map((r) => `| ${r.part} | ${fmt(r.rssMiB)} | ${fmt(r.maxSampledRssMiB)} | ${fmt(r.hwmMiB)} |`),
        `| control plane (store, apiserver, controller-manager, scheduler) | ${fmt(totals.controlPlane.rssMiB)} | ${fmt(totals.controlPlane.maxSampledRssMiB)} | ${fmt(totals.controlPlane.hwmMiB)} |`,
        `| server with a workload (all of the above) vs k3s ${K3S.serverWithWorkloadSqliteM} M | ${fmt(totals.serverWithWorkload.rssMiB)} | ${fmt(totals.serverWithWorkload.maxSampledRssMiB)} | ${fmt(totals.serverWithWorkload.hwmMiB)} |`,
        `| agent (keel-agent + containerd) vs k3s ${K3S.agentM} M | ${fmt(totals.agent.rssMiB)} | ${fmt(totals.agent.maxSampledRssMiB)} | ${fmt(totals.agent.hwmMiB)} |`,
        '',
        `k3s: ${K3S.source}`,
        '',
      ].join('\n'),
    );
    writeResult(opts.out, result);
  } finally {
    const problems = await cluster.stop();
    await removeWork();
    if (problems.length) log(`teardown problems: ${problems.join('; ')}`);
  }
}

runTool('bench-footprint', main);
