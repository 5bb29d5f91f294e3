// keel proxy sync benchmark: how long the proxy takes to make iptables match N Services
// with E ready endpoints each — computing the rules and applying them with
// iptables-restore --noflush on real iptables (nf_tables) inside a scratch network
// namespace (keel-bench-<pid>, deleted at the end), never the host's tables. Measures a
// cold full sync (empty tables), a warm full sync (periodic resync: iptables-save, compare,
// rewrite what differs), one rewriting every chain as kube-proxy's does, and partial syncs (one endpoint changed, one service added, one
// removed), each the median of several runs. Prints the conditions and a table, writes
// JSON to tmp/bench-proxy.json and the "Proxy sync" section of docs/benchmarks.md.
//   npx tsx apps/agent/src/proxy/bench.ts [--services 1000,5000] [--endpoints 3,10] [--repeat 5] [--batch 500] [--no-docs] [--out tmp/bench-proxy.json]
// (--batch: the most chains one iptables-restore run may write; Infinity = one atomic batch)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { EndpointSlice, Service } from '@keel/api';
import { onCleanup } from '@keel/process';
import { service, slice } from './fixtures';
import { conntrackIn, iptablesIn } from './iptables';
import { Proxier, type SyncResult } from './proxier';
import { computeRules, type RuleConfig } from './rules';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] ? args[at + 1]! : fallback;
};
const sizes = flag('services', '1000,5000').split(',').map(Number);
const endpointCounts = flag('endpoints', '3').split(',').map(Number);
const repeat = Number(flag('repeat', '5'));
const batch = Number(flag('batch', '500'));
const writeDocs = !args.includes('--no-docs');
const out = resolve(flag('out', 'tmp/bench-proxy.json'));
if (sizes.some((n) => !(n > 0 && n <= 60_000)) || endpointCounts.some((e) => !(e > 0 && e * Math.max(...sizes) < 1_000_000)) || !(repeat > 0) || !(batch > 0)) {
  process.stderr.write('usage: bench.ts [--services 1000,5000] [--endpoints 3,10] [--repeat 5] [--batch 500] [--no-docs] [--out file]\n');
  process.exit(2);
}

const root = resolve(import.meta.dirname, '../../../..');
const netns = `keel-bench-${process.pid}`;
const ip = (base: number, k: number) => `${base >> 8}.${base & 255}.${(k >> 8) & 255}.${k & 255}`;
// 10.96.0.0/12-style VIPs and 10.128.0.0/9-style endpoint IPs, only ever inside the scratch namespace.
const vip = (i: number) => ip((10 << 8) | 96 | (i >> 16), i & 0xffff);
const podIp = (k: number) => ip((10 << 8) | (128 + (k >> 16)), k & 0xffff);

function objects(n: number, endpointsPer: number): { services: Service[]; slices: EndpointSlice[] } {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  for (let i = 0; i < n; i++) {
    // One in ten is a NodePort, as a cluster's web front ends would be.
    const nodePort = i % 10 === 0 ? 30000 + ((i / 10) % 2768) : undefined;
    services.push(service(`svc-${i}`, vip(i + 1), [{ name: 'http', port: 80, targetPort: 8080, nodePort }], { namespace: 'bench', type: nodePort ? 'NodePort' : 'ClusterIP' }));
    slices.push(slice(`svc-${i}`, Array.from({ length: endpointsPer }, (_, j) => podIp(i * endpointsPer + j + 1)), [{ name: 'http', port: 8080 }], { namespace: 'bench' }));
  }
  return { services, slices };
}

const ruleConfig: RuleConfig = { nodeIps: ['192.168.77.1'], masqueradeOut: ['keel-cni0'], clusterCidr: '10.128.0.0/9' };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number) => Math.round(x * 10) / 10;

interface Row {
  services: number;
  endpointsPerService: number;
  rules: number;
  chains: number;
  sync: string;
  runs: number;
  medianMs: number;
  computeMs: number;
  iptablesMs: number;
  chainsWritten: number;
  batches: number;
  batchLines: number;
}

function row(n: number, endpointsPer: number, rules: number, chains: number, sync: string, results: SyncResult[]): Row {
  const mid = [...results].sort((a, b) => a.durationMs - b.durationMs)[Math.floor(results.length / 2)]!;
  return {
    services: n,
    endpointsPerService: endpointsPer,
    rules,
    chains,
    sync,
    runs: results.length,
    medianMs: round(median(results.map((r) => r.durationMs))),
    computeMs: round(mid.computeMs),
    iptablesMs: round(mid.applyMs),
    chainsWritten: mid.chainsWritten + mid.chainsDeleted,
    batches: mid.batches,
    batchLines: mid.scriptLines,
  };
}

async function benchSize(n: number, endpointsPer: number): Promise<Row[]> {
  // Registered before it exists, so Ctrl-C (or SIGTERM) at any point removes it and exits.
  const removeNetns = onCleanup(`network namespace ${netns}`, () => {
    if (execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').some((l) => l.split(' ')[0] === netns)) {
      execFileSync('ip', ['netns', 'del', netns]);
    }
  });
  execFileSync('ip', ['netns', 'add', netns]);
  try {
    const { services, slices } = objects(n, endpointsPer);
    const target = { netns };
    const proxier = new Proxier({
      iptables: iptablesIn(target),
      conntrack: conntrackIn(target),
      rules: ruleConfig,
      maxChainsPerBatch: batch,
    });
    for (const s of services) proxier.upsertService(s);
    for (const s of slices) proxier.upsertEndpointSlice(s);

    const t0 = performance.now();
    const ruleSet = computeRules(services, slices, ruleConfig);
    const computeOnly = performance.now() - t0;
    const { rules, chains } = ruleSet.counts;
    const rows: Row[] = [];
    rows.push(row(n, endpointsPer, rules, chains, 'full, cold (empty tables)', [await proxier.sync({ full: true })]));
    const warm: SyncResult[] = [];
    for (let i = 0; i < repeat; i++) warm.push(await proxier.sync({ full: true }));
    rows.push(row(n, endpointsPer, rules, chains, 'full, warm (periodic resync: compare with iptables-save)', warm));
    const rewriter = new Proxier({
      iptables: iptablesIn(target),
      rules: ruleConfig,
      maxChainsPerBatch: batch,
      rewriteAllOnFullSync: true,
    });
    for (const s of services) rewriter.upsertService(s);
    for (const s of slices) rewriter.upsertEndpointSlice(s);
    rows.push(row(n, endpointsPer, rules, chains, 'full, warm, every chain rewritten (kube-proxy style)', [await rewriter.sync({ full: true })]));

    const changed: SyncResult[] = [];
    for (let i = 0; i < repeat; i++) {
      // Replace the last endpoint of one service: its service chain, one endpoint chain added, one deleted.
      const k = (i * 7919) % n;
      const ips = Array.from({ length: endpointsPer }, (_, j) => podIp(k * endpointsPer + j + 1));
      ips[ips.length - 1] = podIp(n * endpointsPer + 1000 + i);
      proxier.upsertEndpointSlice(slice(`svc-${k}`, ips, [{ name: 'http', port: 8080 }], { namespace: 'bench' }));
      changed.push(await proxier.sync());
    }
    rows.push(row(n, endpointsPer, rules, chains, 'partial: one endpoint replaced', changed));

    const added: SyncResult[] = [];
    const removed: SyncResult[] = [];
    for (let i = 0; i < repeat; i++) {
      const name = `extra-${i}`;
      const svc = service(name, vip(n + 100 + i), [{ name: 'http', port: 80, targetPort: 8080 }], { namespace: 'bench' });
      const sl = slice(name, Array.from({ length: endpointsPer }, (_, j) => podIp(n * endpointsPer + 2000 + i * endpointsPer + j)), [{ name: 'http', port: 8080 }], { namespace: 'bench' });
      proxier.upsertService(svc);
      proxier.upsertEndpointSlice(sl);
      added.push(await proxier.sync());
      proxier.deleteService(svc);
      proxier.deleteEndpointSlice(sl);
      removed.push(await proxier.sync());
    }
    rows.push(row(n, endpointsPer, rules, chains, 'partial: one service added', added));
    rows.push(row(n, endpointsPer, rules, chains, 'partial: one service removed', removed));
    rows.push({ ...row(n, endpointsPer, rules, chains, 'rules computed from scratch (no cache, no iptables)', [{ ...changed[0]!, durationMs: computeOnly, computeMs: computeOnly, applyMs: 0 }]), chainsWritten: 0, batches: 0, batchLines: 0 });
    proxier.stop();
    return rows;
  } finally {
    await removeNetns();
  }
}

const iptablesVersion = execFileSync('iptables', ['--version'], { encoding: 'utf8' }).trim();
const conditions = {
  date: new Date().toISOString(),
  cpus: `${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'}`,
  node: process.version,
  kernel: release(),
  iptables: iptablesVersion,
  loadAverage: loadavg().map((x) => round(x)),
  services: sizes,
  endpointsPerService: endpointCounts,
  repeat,
  maxChainsPerBatch: batch,
  where: `scratch network namespace ${netns}, nothing else in its tables`,
  shape: 'one TCP port per Service, one in ten a NodePort; each sync = compute all rules + diff + iptables-restore --noflush (a full sync also runs iptables-save)',
};
process.stdout.write(`proxy sync benchmark\n${Object.entries(conditions).map(([k, v]) => `  ${k}: ${Array.isArray(v) ? v.join(', ') : v}`).join('\n')}\n\n`);

const rows: Row[] = [];
for (const e of endpointCounts) for (const n of sizes) rows.push(...(await benchSize(n, e)));

const header = '| services | endpoints/svc | rules | chains | sync | runs | median ms | compute ms | iptables ms | chains written+deleted | restore runs | restore lines |';
const table = [
  header,
  '|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.services} | ${r.endpointsPerService} | ${r.rules} | ${r.chains} | ${r.sync} | ${r.runs} | ${r.medianMs} | ${r.computeMs} | ${r.iptablesMs} | ${r.chainsWritten} | ${r.batches} | ${r.batchLines} |`),
].join('\n');
process.stdout.write(`${table}\n`);

mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ conditions, rows }, null, 2)}\n`);
process.stdout.write(`\nwrote ${out}\n`);

if (writeDocs) {
  const docs = join(root, 'docs/benchmarks.md');
  const section = [
    '## Proxy sync',
    '',
    `Command: \`npx tsx apps/agent/src/proxy/bench.ts --services ${sizes.join(',')} --endpoints ${endpointCounts.join(',')} --repeat ${repeat} --batch ${batch}\` (JSON in \`tmp/bench-proxy.json\`).`,
    '',
    `Conditions: ${conditions.cpus}, Node ${conditions.node}, kernel ${conditions.kernel}, ${conditions.iptables}; load average ${conditions.loadAverage.join(' ')} at the start.`,
    `Real iptables in a scratch network namespace with nothing else in its tables; ${conditions.shape}. Median of ${repeat} runs (one for the cold sync and the rewrite-all sync).`,
    '',
    table,
    '',
  ].join('\n');
  let text = existsSync(docs) ? readFileSync(docs, 'utf8') : '# Benchmarks\n\nLatest figures, with their conditions. Each section names the command that produced it.\n';
  const start = text.indexOf('\n## Proxy sync');
  if (start >= 0) {
    const next = text.indexOf('\n## ', start + 1);
    text = `${text.slice(0, start + 1)}${section}${next >= 0 ? text.slice(next) : ''}`;
  } else {
    text = `${text.trimEnd()}\n\n${section}`;
  }
  writeFileSync(docs, text);
  process.stdout.write('updated docs/benchmarks.md (Proxy sync)\n');
}
