// Benchmark of keel-apiserver over REST (what kubectl and client libraries use): creates,
// gets and lists of ConfigMaps at increasing client counts, lists of 1,000 and 10,000
// objects, and watch fan-out (one write seen by many watchers). The apiserver runs as its
// own process (the built bundle) on an etcd 3.4 on loopback, so the load generator and the
// server do not share an event loop. Prints a table with the conditions and writes JSON.
//   npx tsx tools/bench-apiserver/src/main.ts [--seconds 5] [--clients 1,8,32] [--watchers 1000] [--list-objects 1000,10000] [--out tmp/bench-apiserver.json]
import { startDaemon, freeLoopbackPort, httpAnswers, onCleanup, removeWorkDir, runTool } from '@keel/process';
import { startEtcdCluster } from '@keel/tools-etcd';
import { REPO_ROOT } from '@keel/tools-images';
import { Command } from 'commander';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

interface Row {
  verb: string;
  clients: number;
  objects?: number;
  requests: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  errors: number;
}

const program = new Command('bench-apiserver')
  .option('--seconds <n>', 'seconds per measurement', (v) => Number(v), 5)
  .option('--clients <list>', 'concurrent clients per step', (v) => v.split(',').map(Number), [1, 8, 32])
  .option('--watchers <n>', 'watchers for the fan-out measurement', (v) => Number(v), 1000)
  .option('--list-objects <list>', 'objects per list measurement, comma-separated', (v) => v.split(',').map(Number), [1000, 10000])
  .option('--out <file>', 'JSON results', join(REPO_ROOT, 'tmp', 'bench-apiserver.json'));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(verb: string, clients: number, seconds: number, op: (client: number, i: number) => Promise<boolean>, objects?: number): Promise<Row> {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const t = performance.now();
        const ok = await op(c, i).catch(() => false);
        latencies.push(performance.now() - t);
        if (!ok) errors++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return {
    verb,
    clients,
    ...(objects !== undefined ? { objects } : {}),
    requests: latencies.length,
    perSecond: Math.round(latencies.length / seconds),
    p50ms: Number(percentile(latencies, 50).toFixed(2)),
    p99ms: Number(percentile(latencies, 99).toFixed(2)),
    errors,
  };
}

async function main(): Promise<void> {
  const opts = program.parse().opts<{ seconds: number; clients: number[]; watchers: number; listObjects: number[]; out: string }>();
  const work = mkdtempSync(join(tmpdir(), 'keel-bench-apiserver-'));
  // Ctrl-C, SIGTERM or a failed start: etcd and the apiserver are stopped by the PID files
  // under `work`, which is then removed; the finally below does it on the normal way out.
  const removeWork = onCleanup(`bench folder ${work}`, () => removeWorkDir(work));
  execFileSync('node', ['tools/scripts/bundle.mjs', 'apps/apiserver'], { cwd: REPO_ROOT, stdio: 'ignore' });
  const etcd = await startEtcdCluster({ dir: join(work, 'keel-etcd'), members: 1 });
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startDaemon({
    argv: ['node', join(REPO_ROOT, 'dist/apps/apiserver/main.js'), '--etcd-servers', etcd.endpoints.join(','), '--port', String(port)],
    pidFile: join(work, 'apiserver.pid'),
    logFile: join(work, 'apiserver.log'),
    ready: () => httpAnswers(`${url}/healthz`),
  });
  const rows: Row[] = [];
  const send = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      ...(body ? { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } } : {}),
    });
    await res.arrayBuffer();
    return res.ok;
  };
  const cm = (ns: string, name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { key: 'x'.repeat(256) } });
  try {
    await send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    for (const clients of opts.clients) {
      rows.push(await measure('create', clients, opts.seconds, (c, i) => send('POST', '/api/v1/namespaces/bench/configmaps', cm('bench', `c${clients}-${c}-${i}`))));
      rows.push(await measure('get', clients, opts.seconds, (c) => send('GET', `/api/v1/namespaces/bench/configmaps/c${clients}-${c}-0`)));
      rows.push(await measure('update (merge patch)', clients, opts.seconds, async (c, i) => {
        const res = await fetch(`${url}/api/v1/namespaces/bench/configmaps/c${clients}-${c}-0`, {
          method: 'PATCH',
          body: JSON.stringify({ data: { n: String(i) } }),
          headers: { 'Content-Type': 'application/merge-patch+json' },
        });
        await res.arrayBuffer();
        return res.ok;
      }));
    }
    for (const objects of opts.listObjects) {
      const ns = `list-${objects}`;
      await send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      for (let i = 0; i < objects; i += 50) {
        await Promise.all(Array.from({ length: Math.min(50, objects - i) }, (_, j) => send('POST', `/api/v1/namespaces/${ns}/configmaps`, cm(ns, `o${i + j}`))));
      }
      for (const clients of [1, 8]) {
        rows.push(await measure('list (from store)', clients, opts.seconds, () => send('GET', `/api/v1/namespaces/${ns}/configmaps`), objects));
        rows.push(await measure('list (rv=0, watch cache)', clients, opts.seconds, () => send('GET', `/api/v1/namespaces/${ns}/configmaps?resourceVersion=0`), objects));
      }
    }
    // Watch fan-out: N watchers on one namespace; each write must reach all of them.
    const fanNs = 'fanout';
    await send('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: fanNs } });
    const controllers: AbortController[] = [];
    const seenAt = new Map<string, number[]>();
    await Promise.all(
      Array.from({ length: opts.watchers }, async () => {
        const ctl = new AbortController();
        controllers.push(ctl);
        const res = await fetch(`${url}/api/v1/namespaces/${fanNs}/configmaps?watch=1`, { signal: ctl.signal });
        void (async () => {
          let buf = '';
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            buf += Buffer.from(chunk).toString();
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const ev = JSON.parse(buf.slice(0, nl)) as { object: { metadata: { name: string } } };
              buf = buf.slice(nl + 1);
              const list = seenAt.get(ev.object.metadata.name) ?? [];
              list.push(performance.now());
              seenAt.set(ev.object.metadata.name, list);
            }
          }
        })().catch(() => undefined);
      }),
    );
    const fanLatencies: number[] = [];
    const writes = 20;
    for (let i = 0; i < writes; i++) {
      const name = `f${i}`;
      const t = performance.now();
      await send('POST', `/api/v1/namespaces/${fanNs}/configmaps`, cm(fanNs, name));
      const deadline = performance.now() + 30_000;
      while ((seenAt.get(name)?.length ?? 0) < opts.watchers && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      for (const at of seenAt.get(name) ?? []) fanLatencies.push(at - t);
    }
    for (const c of controllers) c.abort();
    fanLatencies.sort((a, b) => a - b);
    rows.push({
      verb: `watch fan-out (${writes} writes)`,
      clients: opts.watchers,
      requests: fanLatencies.length,
      perSecond: 0,
      p50ms: Number(percentile(fanLatencies, 50).toFixed(2)),
      p99ms: Number(percentile(fanLatencies, 99).toFixed(2)),
      errors: writes * opts.watchers - fanLatencies.length,
    });
  } finally {
    await server.stop();
    await etcd.stop({ removeData: true });
    await removeWork();
  }

  const conditions = {
    date: new Date().toISOString(),
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    store: 'etcd 3.4 (Debian), 1 member, loopback',
    transport: 'HTTP/1.1 keep-alive, JSON, no TLS, no auth',
    object: 'ConfigMap with a 256-byte value',
    secondsPerStep: opts.seconds,
  };
  console.log('keel-apiserver benchmark');
  for (const [k, v] of Object.entries(conditions)) console.log(`  ${k}: ${v}`);
  console.log('');
  console.log('| verb | clients | objects | requests | req/s | p50 ms | p99 ms | errors |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.verb} | ${r.clients} | ${r.objects ?? ''} | ${r.requests} | ${r.perSecond || ''} | ${r.p50ms} | ${r.p99ms} | ${r.errors} |`);
  }
  const mutating = rows.filter((r) => r.verb === 'create' || r.verb.startsWith('update'));
  const worst = Math.max(...mutating.map((r) => r.p99ms));
  console.log(`\nKubernetes SLO: p99 of mutating calls ≤ 1000 ms. Worst mutating p99 here: ${worst} ms (${worst <= 1000 ? 'met' : 'NOT met'}).`);
  const out = resolve(opts.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ conditions, rows }, null, 2) + '\n');
  console.log(`JSON: ${out}`);
}

runTool('bench-apiserver', main);
