import { describe, expect, it } from 'vitest';
import { SUITES } from './suites';

const suite = (id: string) => SUITES.find((s) => s.id === id)!;

describe('the suite list', () => {
  it('has every benchmark the issue names, each writing its JSON where the runner says', () => {
    expect(SUITES.map((s) => s.id)).toEqual(['store', 'raft', 'apiserver', 'scheduler', 'pods', 'proxy', 'failover', 'footprint']);
    for (const s of SUITES) {
      expect(s.args(true)).not.toContain('--out');
      expect(s.timeoutSeconds(true)).toBeLessThanOrEqual(s.timeoutSeconds(false));
    }
  });
  it('keeps the proxy benchmark from rewriting docs/benchmarks.md', () => {
    expect(suite('proxy').args(true)).toContain('--no-docs');
    expect(suite('proxy').args(false)).toContain('--no-docs');
  });
});

describe('store vs etcd', () => {
  const json = {
    conditions: { members: 3, durationSeconds: 2 },
    results: [
      { system: 'etcd', workload: 'put', clients: 16, qps: 1000, p50Ms: 5, p99Ms: 20, rssMiB: [90, 91, 92] },
      { system: 'etcd', workload: 'range-serializable', clients: 16, qps: 1000, p50Ms: 3, p99Ms: 10, rssMiB: [90, 91, 92] },
      { system: 'keel-store', workload: 'put', clients: 16, qps: 500, p50Ms: 10, p99Ms: 40, rssMiB: [200, 201, 202] },
      { system: 'keel-store', workload: 'range-serializable', clients: 16, qps: 1200, p50Ms: 2, p99Ms: 9, rssMiB: [200, 201, 202] },
    ],
  };
  const s = suite('store').render(json);
  it('puts both systems side by side with the ratios and whether the bar is met', () => {
    const lines = s.table.split('\n');
    expect(lines[2]).toBe('| put | 16 | 500 | 10 | 40 | 1,000 | 5 | 20 | 0.50× | 2.00× | no |');
    expect(lines[3]).toBe('| range-serializable | 16 | 1,200 | 2 | 9 | 1,000 | 3 | 10 | 1.20× | 0.90× | yes |');
    expect(s.comparison).toContain('met in 1 of 2 cells');
    expect(s.barMet).toBe(false);
  });
  it('draws throughput and p99 charts and lists the members’ memory', () => {
    expect(s.charts.map((c) => c.file)).toEqual(['store-throughput.svg', 'store-p99.svg']);
    expect(s.conditions.at(-1)).toBe('RSS per member after the run (MiB): keel-store 200 / 201 / 202; etcd 90 / 91 / 92');
  });
});

describe('pod startup', () => {
  it('compares p99 with the 5 s SLO and charts the latencies by percentile', () => {
    const s = suite('pods').render({
      conditions: { pods: 4, batch: 2 },
      running: 4,
      totalSeconds: 3,
      startup: { p50Ms: 1200, p90Ms: 1500, p99Ms: 1600, maxMs: 1600 },
      createToBound: { p50Ms: 100, p90Ms: 150, p99Ms: 160, maxMs: 160 },
      boundToRunning: { p50Ms: 1100, p90Ms: 1350, p99Ms: 1440, maxMs: 1440 },
      sloP99Ms: 5000,
      sloMet: true,
      latenciesMs: [1600, 1100, 1200, 1500],
    });
    expect(s.table.split('\n')[2]).toBe('| create → Running (watch) | 1,200 | 1,500 | 1,600 | 1,600 |');
    expect(s.comparison).toBe("Kubernetes' SLO: pod startup p99 ≤ 5,000 ms (image present, observed by watch). Here p99 1,600 ms — met.");
    expect(s.barMet).toBe(true);
    expect(s.charts[0]!.svg).toContain('Kubernetes SLO: p99 ≤ 5000 ms');
  });
});

describe('failover', () => {
  it('judges keel-store by its worst first write against two election timeouts, etcd alongside', () => {
    const r = (system: string, first: number) => ({ system, rounds: [{}, {}], newLeader: { medianMs: 1000, maxMs: 1200 }, firstWrite: { medianMs: first, maxMs: first + 100 }, writeGap: { medianMs: first, maxMs: first + 150 } });
    const s = suite('failover').render({ barMs: 2000, conditions: {}, results: [r('keel-store', 1950), r('etcd', 1000)] });
    expect(s.barMet).toBe(false);
    expect(s.table.split('\n')[2]).toBe('| keel-store | 2 | 1,000 | 1,200 | 1,950 | 2,050 | 1,950 | 2,100 | no |');
    expect(s.comparison).toContain('etcd in the same run: 1,000 ms median');
  });
});

describe('footprint', () => {
  it("compares the server and agent totals with k3s' published figures", () => {
    const s = suite('footprint').render({
      conditions: {},
      k3s: { source: 'docs.k3s.io', serverWithWorkloadSqliteM: 1596, serverWithWorkloadEtcdM: 1606, agentM: 275 },
      rows: [{ part: 'keel-store', rssMiB: 60, maxSampledRssMiB: 70, hwmMiB: 75 }],
      totals: { controlPlane: { rssMiB: 280, maxSampledRssMiB: 300, hwmMiB: 301 }, serverWithWorkload: { rssMiB: 390, maxSampledRssMiB: 420, hwmMiB: 430 }, agent: { rssMiB: 110, maxSampledRssMiB: 126, hwmMiB: 128 } },
    });
    expect(s.comparison).toContain('server 420 MiB (0.26× of k3s), agent 126 MiB (0.46×)');
    expect(s.barMet).toBe(true);
    expect(s.table).toContain('| agent (keel-agent + containerd) | 110 | 126 | 128 | 275 M |');
  });
});

describe('scheduler', () => {
  it('gives the in-memory basic figure at 5,000 nodes against 680 pods/s', () => {
    const s = suite('scheduler').render({ kubeMinimumPodsPerSecond: 680, conditions: {}, rows: [{ path: 'in-memory', workload: 'basic', nodes: 5000, pods: 10000, scheduled: 10000, podsPerSecond: 6122 }] });
    expect(s.barMet).toBe(true);
    expect(s.comparison).toContain('Keel in memory, basic, 5,000 nodes: 6,122 pods/s (9.0×).');
  });
  it('does not compare with 680 pods/s below 5,000 nodes', () => {
    const s = suite('scheduler').render({ kubeMinimumPodsPerSecond: 680, conditions: {}, rows: [{ path: 'in-memory', workload: 'basic', nodes: 1000, pods: 2000, scheduled: 2000, podsPerSecond: 3000 }] });
    expect(s.barMet).toBeUndefined();
    expect(s.table).toContain('n/a (fewer than 5,000 nodes)');
  });
});
