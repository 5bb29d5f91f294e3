// The benchmarks the suite runs: for each, the command (with its sizes for --quick and for
// a full run) and how its JSON becomes a section of the report — conditions, a Markdown
// table, the comparison figure (etcd measured in the same run, Kubernetes' SLOs and
// scheduler_perf figure, k3s' published footprint) and charts. Rendering is pure: the JSON
// in, text and SVG out, so it is unit-tested with recorded results.
import { fmt, ratio } from './stats';
import { mdTable } from './markdown';
import { barChart, lineChart } from './svg';

export interface Chart {
  /** File name under charts/, e.g. `store-throughput.svg`. */
  file: string;
  title: string;
  svg: string;
}

export interface Section {
  conditions: string[];
  table: string;
  /** One or two sentences: the figure against the peer or the bar. */
  comparison: string;
  /** Whether the bar of DESIGN.md is met, when one figure decides it. */
  barMet?: boolean;
  charts: Chart[];
}

export interface Suite {
  id: string;
  title: string;
  /** Script path from the repo root, run with tsx. */
  script: string;
  args(quick: boolean): string[];
  /** Give up after this long. */
  timeoutSeconds(quick: boolean): number;
  render(json: unknown): Section;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- each benchmark's JSON is read defensively, field by field */
type Json = any;

const list = (v: unknown): Json[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const conditionLines = (c: Json): string[] =>
  Object.entries((c ?? {}) as Record<string, unknown>).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`);

// ---- keel-store vs etcd -------------------------------------------------------------

function renderStore(j: Json): Section {
  const results = list(j?.results);
  const cells: { workload: string; clients: number; watchers?: number }[] = [];
  for (const r of results) if (!cells.some((c) => c.workload === r.workload && c.clients === r.clients && c.watchers === r.watchers)) cells.push({ workload: r.workload, clients: r.clients, watchers: r.watchers });
  const name = (c: { workload: string; watchers?: number }) => (c.workload === 'watch' ? `watch (${c.watchers} watchers)` : c.workload);
  const find = (system: string, c: (typeof cells)[number]) => results.find((r) => r.system === system && r.workload === c.workload && r.clients === c.clients && r.watchers === c.watchers);
  let met = 0;
  let both = 0;
  const rows = cells.map((c) => {
    const k = find('keel-store', c);
    const e = find('etcd', c);
    const ok = k && e ? k.qps >= e.qps && k.p99Ms <= e.p99Ms : undefined;
    if (ok !== undefined) {
      both++;
      if (ok) met++;
    }
    return [name(c), String(c.clients), fmt(k?.qps, 0), fmt(k?.p50Ms, 2), fmt(k?.p99Ms, 2), fmt(e?.qps, 0), fmt(e?.p50Ms, 2), fmt(e?.p99Ms, 2), ratio(k?.qps, e?.qps), ratio(k?.p99Ms, e?.p99Ms), ok === undefined ? '–' : ok ? 'yes' : 'no'];
  });
  const table = mdTable(
    ['workload', 'clients', 'keel-store req/s', 'p50 ms', 'p99 ms', 'etcd req/s', 'p50 ms', 'p99 ms', 'req/s keel/etcd', 'p99 keel/etcd', 'bar met'],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
  );
  const rss = (system: string) => (results.find((r) => r.system === system)?.rssMiB as number[] | undefined)?.join(' / ') ?? '–';
  const categories = cells.map((c) => `${name(c)} ×${c.clients}`);
  const series = (field: string) => ['keel-store', 'etcd'].map((system) => ({ name: system, values: cells.map((c) => num(find(system, c)?.[field])) }));
  return {
    conditions: [...conditionLines(j?.conditions), `RSS per member after the run (MiB): keel-store ${rss('keel-store')}; etcd ${rss('etcd')}`],
    table,
    comparison: `etcd 3.4 measured in the same run. Bar (throughput ≥ etcd's and p99 ≤ etcd's) met in ${met} of ${both} cells.`,
    barMet: both > 0 ? met === both : undefined,
    charts: [
      { file: 'store-throughput.svg', title: 'keel-store vs etcd: throughput', svg: barChart({ title: 'keel-store vs etcd 3.4: requests (or events) per second', yLabel: 'req/s', categories, series: series('qps') }) },
      { file: 'store-p99.svg', title: 'keel-store vs etcd: p99 latency', svg: barChart({ title: 'keel-store vs etcd 3.4: p99 latency', yLabel: 'p99 ms', categories, series: series('p99Ms') }) },
    ],
  };
}

// ---- Raft -------------------------------------------------------------------------------

function renderRaft(j: Json): Section {
  const results = list(j?.results);
  const table = mdTable(
    ['members', 'proposers', 'proposals/s', 'p50 ms', 'p99 ms', 'max ms', 'entries per fsync'],
    results.map((r) => [String(r.members), String(r.proposers), fmt(r.proposalsPerSecond, 0), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), fmt(r.maxMs, 1), fmt(r.entriesPerFsync, 1)]),
    ['right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
  return {
    conditions: conditionLines(j?.conditions),
    table,
    comparison: 'No peer figure: the consensus library alone (keel-store vs etcd above compares the whole store).',
    charts: [],
  };
}

// ---- apiserver ------------------------------------------------------------------------------

const SLO_MUTATING_P99_MS = 1000;

function renderApiserver(j: Json): Section {
  const rows = list(j?.rows);
  const table = mdTable(
    ['verb', 'clients', 'objects', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'errors'],
    rows.map((r) => [String(r.verb), String(r.clients), r.objects === undefined ? '' : String(r.objects), fmt(r.requests, 0), r.perSecond ? fmt(r.perSecond, 0) : '', fmt(r.p50ms, 2), fmt(r.p99ms, 2), String(r.errors)]),
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
  const mutating = rows.filter((r) => r.verb === 'create' || String(r.verb).startsWith('update'));
  const worst = Math.max(...mutating.map((r) => Number(r.p99ms)));
  const point = rows.filter((r) => !r.objects && !String(r.verb).startsWith('watch'));
  return {
    conditions: conditionLines(j?.conditions),
    table,
    comparison: mutating.length
      ? `Kubernetes' SLO: p99 of mutating API calls ≤ 1 s. Worst mutating p99 here: ${fmt(worst, 1)} ms — ${worst <= SLO_MUTATING_P99_MS ? 'met' : 'not met'}.`
      : 'No mutating calls measured.',
    barMet: mutating.length ? worst <= SLO_MUTATING_P99_MS : undefined,
    charts: point.length
      ? [
          {
            file: 'apiserver-latency.svg',
            title: 'keel-apiserver: latency per verb',
            svg: barChart({
              title: 'keel-apiserver (REST): latency per verb and clients',
              yLabel: 'ms',
              categories: point.map((r) => `${r.verb} ×${r.clients}`),
              series: [
                { name: 'p50', values: point.map((r) => num(r.p50ms)) },
                { name: 'p99', values: point.map((r) => num(r.p99ms)) },
              ],
            }),
          },
        ]
      : [],
  };
}

// ---- scheduler ------------------------------------------------------------------------------

function renderScheduler(j: Json): Section {
  const rows = list(j?.rows);
  const min = num(j?.kubeMinimumPodsPerSecond) ?? 680;
  const vs = (r: Json) =>
    r.workload !== 'basic' ? 'n/a (680 is the basic workload)' : r.nodes >= 5000 ? `${r.podsPerSecond >= min ? 'above' : 'below'} (${(r.podsPerSecond / min).toFixed(1)}×)` : 'n/a (fewer than 5,000 nodes)';
  const table = mdTable(
    ['path', 'workload', 'nodes', 'pods', 'scheduled', 'pods/s (wall)', 'steady pods/s', 'pods/CPU-s', 'p50 ms', 'p99 ms', `vs ${min} pods/s`],
    rows.map((r) => [String(r.path), String(r.workload), fmt(r.nodes, 0), fmt(r.pods, 0), fmt(r.scheduled, 0), fmt(r.podsPerSecond, 0), fmt(r.steadyPodsPerSecond, 0), fmt(r.podsPerCpuSecond, 0), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), vs(r)]),
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
  );
  const decisive = rows.filter((r) => r.path === 'in-memory' && r.workload === 'basic' && r.nodes >= 5000);
  return {
    conditions: conditionLines(j?.conditions),
    table,
    comparison: `kube-scheduler's published minimum (scheduler_perf SchedulingBasic, 5,000 nodes): ${min} pods/s.${
      decisive.length
        ? ` Keel in memory, basic, ${fmt(decisive[0]!.nodes, 0)} nodes: ${fmt(decisive[0]!.podsPerSecond, 0)} pods/s (${(decisive[0]!.podsPerSecond / min).toFixed(1)}×).`
        : ' Not comparable in this run: fewer than 5,000 nodes (quick sizes).'
    }`,
    ...(decisive.length ? { barMet: decisive.every((r) => r.podsPerSecond >= min) } : {}),
    charts: rows.length
      ? [
          {
            file: 'scheduler-throughput.svg',
            title: 'keel-scheduler: pods per second',
            svg: barChart({
              title: 'keel-scheduler: pods scheduled per second',
              yLabel: 'pods/s',
              categories: rows.map((r) => `${r.path} ${r.workload} (${r.nodes} nodes)`),
              series: [{ name: 'pods/s (wall)', values: rows.map((r) => num(r.podsPerSecond)) }],
              reference: { value: min, label: `kube-scheduler minimum at 5,000 nodes: ${min}` },
            }),
          },
        ]
      : [],
  };
}

// ---- pod startup ------------------------------------------------------------------------------

function renderPods(j: Json): Section {
  const s = j?.startup ?? {};
  const row = (what: string, x: Json) => [what, fmt(x?.p50Ms, 0), fmt(x?.p90Ms, 0), fmt(x?.p99Ms, 0), fmt(x?.maxMs, 0)];
  const table = mdTable(
    ['interval', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
    [row('create → Running (watch)', s), row('create → bound', j?.createToBound), row('bound → Running', j?.boundToRunning)],
    ['left', 'right', 'right', 'right', 'right'],
  );
  const lat = list(j?.latenciesMs).map(Number);
  const sorted = [...lat].sort((a, b) => a - b);
  const slo = num(j?.sloP99Ms) ?? 5000;
  return {
    conditions: [...conditionLines(j?.conditions), `pods Running: ${j?.running}/${j?.conditions?.pods} in ${j?.totalSeconds} s`],
    table,
    comparison: `Kubernetes' SLO: pod startup p99 ≤ ${fmt(slo, 0)} ms (image present, observed by watch). Here p99 ${fmt(s.p99Ms, 0)} ms — ${j?.sloMet ? 'met' : 'not met'}.`,
    barMet: Boolean(j?.sloMet),
    charts: sorted.length
      ? [
          {
            file: 'pod-startup.svg',
            title: 'pod startup latency by percentile',
            svg: lineChart({
              title: 'Pod startup latency (create → Running), by percentile',
              xLabel: 'percentile of pods',
              yLabel: 'ms',
              series: [{ name: `keel (${sorted.length} pods)`, points: sorted.map((v, i) => [((i + 1) / sorted.length) * 100, v]) }],
              reference: { value: slo, label: `Kubernetes SLO: p99 ≤ ${slo} ms` },
            }),
          },
        ]
      : [],
  };
}

// ---- proxy ------------------------------------------------------------------------------------

function renderProxy(j: Json): Section {
  const rows = list(j?.rows);
  const table = mdTable(
    ['services', 'endpoints/svc', 'rules', 'sync', 'runs', 'median ms', 'compute ms', 'iptables ms', 'chains written'],
    rows.map((r) => [fmt(r.services, 0), String(r.endpointsPerService), fmt(r.rules, 0), String(r.sync), String(r.runs), fmt(r.medianMs, 1), fmt(r.computeMs, 1), fmt(r.iptablesMs, 1), fmt(r.chainsWritten, 0)]),
    ['right', 'right', 'right', 'left', 'right', 'right', 'right', 'right', 'right'],
  );
  const partial = rows.filter((r) => String(r.sync).startsWith('partial'));
  const worstPartial = Math.max(...partial.map((r) => Number(r.medianMs)));
  const sizes = [...new Set(rows.map((r) => `${r.services}×${r.endpointsPerService}`))];
  const kinds = [...new Set(rows.map((r) => String(r.sync)))].filter((k) => !k.startsWith('rules computed'));
  return {
    conditions: conditionLines(j?.conditions),
    table,
    comparison: partial.length
      ? `Bar (DESIGN.md): syncs in milliseconds, not seconds. Slowest partial sync median: ${fmt(worstPartial, 0)} ms; slowest full sync: ${fmt(Math.max(...rows.filter((r) => String(r.sync).startsWith('full')).map((r) => Number(r.medianMs))), 0)} ms.`
      : 'No syncs measured.',
    // Milliseconds, not seconds: every kind of sync, full ones too, under a second.
    ...(rows.length ? { barMet: rows.every((r) => Number(r.medianMs) < 1000) } : {}),
    charts: rows.length
      ? [
          {
            file: 'proxy-sync.svg',
            title: 'proxy sync time',
            svg: barChart({
              title: 'Proxy sync: median ms per kind of sync (services × endpoints)',
              yLabel: 'ms',
              categories: kinds.map((k) => k.replace(/ \(.*\)$/, '')),
              series: sizes.map((size) => ({ name: size, values: kinds.map((k) => num(rows.find((r) => `${r.services}×${r.endpointsPerService}` === size && r.sync === k)?.medianMs)) })),
            }),
          },
        ]
      : [],
  };
}

// ---- failover ---------------------------------------------------------------------------------

function renderFailover(j: Json): Section {
  const results = list(j?.results);
  const bar = num(j?.barMs) ?? 2000;
  const table = mdTable(
    ['system', 'rounds', 'new leader median ms', 'max ms', 'first write median ms', 'max ms', 'write gap median ms', 'max ms', `writes resume ≤ ${bar} ms`],
    results.map((r) => [
      String(r.system),
      String(list(r.rounds).length),
      fmt(r.newLeader?.medianMs, 0),
      fmt(r.newLeader?.maxMs, 0),
      fmt(r.firstWrite?.medianMs, 0),
      fmt(r.firstWrite?.maxMs, 0),
      fmt(r.writeGap?.medianMs, 0),
      fmt(r.writeGap?.maxMs, 0),
      r.error ? `failed: ${r.error}` : r.firstWrite?.maxMs <= bar ? 'yes' : 'no',
    ]),
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
  );
  const keel = results.find((r) => r.system === 'keel-store');
  const etcd = results.find((r) => r.system === 'etcd');
  return {
    conditions: conditionLines(j?.conditions),
    table,
    comparison: `Bar: writes resume within about two election timeouts (${bar} ms). keel-store: first write after ${fmt(keel?.firstWrite?.medianMs, 0)} ms median, ${fmt(keel?.firstWrite?.maxMs, 0)} ms worst${etcd ? `; etcd in the same run: ${fmt(etcd.firstWrite?.medianMs, 0)} ms median, ${fmt(etcd.firstWrite?.maxMs, 0)} ms worst` : ''}.`,
    ...(keel && !keel.error ? { barMet: keel.firstWrite?.maxMs <= bar } : {}),
    charts: results.length
      ? [
          {
            file: 'failover.svg',
            title: 'leader failover',
            svg: barChart({
              title: 'Leader killed: time until writes resume (3 members)',
              yLabel: 'ms after the kill',
              categories: results.map((r) => String(r.system)),
              series: [
                { name: 'new leader (median)', values: results.map((r) => num(r.newLeader?.medianMs)) },
                { name: 'first write (median)', values: results.map((r) => num(r.firstWrite?.medianMs)) },
                { name: 'first write (worst)', values: results.map((r) => num(r.firstWrite?.maxMs)) },
              ],
              reference: { value: bar, label: `two election timeouts: ${bar} ms` },
            }),
          },
        ]
      : [],
  };
}

// ---- footprint --------------------------------------------------------------------------------

function renderFootprint(j: Json): Section {
  const rows = list(j?.rows);
  const t = j?.totals ?? {};
  const k3s = j?.k3s ?? {};
  const table = mdTable(
    ['process', 'RSS MiB (end)', 'max sampled RSS MiB', 'VmHWM MiB', 'k3s published'],
    [
      ...rows.map((r) => [String(r.part), fmt(r.rssMiB), fmt(r.maxSampledRssMiB), fmt(r.hwmMiB), '']),
      ['control plane (store, apiserver, controller-manager, scheduler)', fmt(t.controlPlane?.rssMiB), fmt(t.controlPlane?.maxSampledRssMiB), fmt(t.controlPlane?.hwmMiB), ''],
      ['server with a workload (every process above)', fmt(t.serverWithWorkload?.rssMiB), fmt(t.serverWithWorkload?.maxSampledRssMiB), fmt(t.serverWithWorkload?.hwmMiB), `${fmt(k3s.serverWithWorkloadSqliteM, 0)} M (SQLite) / ${fmt(k3s.serverWithWorkloadEtcdM, 0)} M (etcd)`],
      ['agent (keel-agent + containerd)', fmt(t.agent?.rssMiB), fmt(t.agent?.maxSampledRssMiB), fmt(t.agent?.hwmMiB), `${fmt(k3s.agentM, 0)} M`],
    ],
    ['left', 'right', 'right', 'right', 'right'],
  );
  const server = num(t.serverWithWorkload?.maxSampledRssMiB);
  const agent = num(t.agent?.maxSampledRssMiB);
  const met = server !== undefined && agent !== undefined && k3s.serverWithWorkloadSqliteM && k3s.agentM ? server < k3s.serverWithWorkloadSqliteM / 2 && agent < k3s.agentM / 2 : undefined;
  return {
    conditions: [...conditionLines(j?.conditions), `k3s figure: ${k3s.source ?? '–'}`],
    table,
    comparison: `k3s' published footprint (server with a workload ${fmt(k3s.serverWithWorkloadSqliteM, 0)} M, agent ${fmt(k3s.agentM, 0)} M). Keel at steady state (largest sample): server ${fmt(server, 0)} MiB (${ratio(server, k3s.serverWithWorkloadSqliteM)} of k3s), agent ${fmt(agent, 0)} MiB (${ratio(agent, k3s.agentM)}). "Well below" is read here as under half.`,
    ...(met === undefined ? {} : { barMet: met }),
    charts:
      server !== undefined && agent !== undefined
        ? [
            {
              file: 'footprint.svg',
              title: 'memory footprint vs k3s',
              svg: barChart({
                title: "Memory at steady state: Keel vs k3s' published figures",
                yLabel: 'MiB (k3s: M as published)',
                categories: ['server with a workload', 'agent'],
                series: [
                  { name: 'Keel (largest RSS sample)', values: [server, agent] },
                  { name: 'k3s (docs.k3s.io)', values: [num(k3s.serverWithWorkloadSqliteM), num(k3s.agentM)] },
                ],
              }),
            },
          ]
        : [],
  };
}

/** Every benchmark, in the order the suite runs them. */
export const SUITES: Suite[] = [
  {
    id: 'store',
    title: 'keel-store vs etcd',
    script: 'tools/bench-store/src/main.ts',
    args: (q) => (q ? ['--duration', '2', '--clients', '1,16', '--put-clients', '1,16', '--watchers', '16', '--workloads', 'put,range-linearizable,range-serializable,watch'] : []),
    timeoutSeconds: (q) => (q ? 300 : 1800),
    render: renderStore,
  },
  {
    id: 'raft',
    title: 'Raft (libs/raft-node)',
    script: 'tools/bench-raft/src/main.ts',
    args: (q) => (q ? ['--members', '1,3', '--proposers', '1,16', '--duration', '1', '--warmup', '0.5'] : []),
    timeoutSeconds: (q) => (q ? 180 : 900),
    render: renderRaft,
  },
  {
    id: 'apiserver',
    title: 'keel-apiserver (REST)',
    script: 'tools/bench-apiserver/src/main.ts',
    args: (q) => (q ? ['--seconds', '1', '--clients', '1,8', '--watchers', '100', '--list-objects', '1000'] : []),
    timeoutSeconds: (q) => (q ? 300 : 1800),
    render: renderApiserver,
  },
  {
    id: 'scheduler',
    title: 'keel-scheduler',
    script: 'tools/bench-scheduler/src/main.ts',
    args: (q) => (q ? ['--nodes', '1000', '--pods', '2000', '--heavy-pods', '0', '--api-nodes', '100', '--api-pods', '200'] : []),
    timeoutSeconds: (q) => (q ? 300 : 1800),
    render: renderScheduler,
  },
  {
    id: 'pods',
    title: 'Pod startup',
    script: 'tools/bench-pods/src/main.ts',
    args: () => ['--pods', '50', '--batch', '10'],
    timeoutSeconds: (q) => (q ? 300 : 900),
    render: renderPods,
  },
  {
    id: 'proxy',
    title: 'Proxy sync',
    script: 'apps/agent/src/proxy/bench.ts',
    args: (q) => (q ? ['--services', '1000', '--endpoints', '3', '--repeat', '3', '--no-docs'] : ['--services', '1000,5000', '--endpoints', '3,10', '--repeat', '5', '--no-docs']),
    timeoutSeconds: (q) => (q ? 300 : 3600),
    render: renderProxy,
  },
  {
    id: 'failover',
    title: 'Failover (store leader killed)',
    script: 'tools/bench-failover/src/main.ts',
    args: (q) => ['--rounds', q ? '2' : '5'],
    timeoutSeconds: (q) => (q ? 300 : 1200),
    render: renderFailover,
  },
  {
    id: 'footprint',
    title: 'Memory footprint',
    script: 'tools/bench-pods/src/footprint.ts',
    args: (q) => ['--settle', q ? '20' : '120'],
    timeoutSeconds: (q) => (q ? 300 : 900),
    render: renderFootprint,
  },
];
