// keel bench-failover: how long writes stop when the leader of a 3-member store dies.
// A 3-member keel-store (@keel/tools-store, members as separate processes) and, in the
// same run, a 3-member Debian etcd 3.4 (@keel/tools-etcd), same heartbeat and election
// timeout. Each round: clients put continuously through every member; the leader is killed
// with SIGKILL by its recorded PID; we time (a) until a surviving member reports a new
// leader (Status, polled every 20 ms) and (b) until the first put issued after the kill
// succeeds, and (c) the write gap, from the last put answered before the kill to the first
// answered after it. The killed member is restarted and the cluster settles before the next
// round. DESIGN.md's bar: writes resume within about two election timeouts.
//   npx tsx tools/bench-failover/src/main.ts [--rounds 5] [--systems keel-store,etcd] [--election-ms 1000] [--heartbeat-ms 100]
import { EtcdClient } from '@keel/etcd-client';
import { onCleanup, removeWorkDir, runTool } from '@keel/process';
import { startEtcdCluster } from '@keel/tools-etcd';
import { startStoreCluster } from '@keel/tools-store';
import { Command, InvalidArgumentError } from 'commander';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
type System = 'keel-store' | 'etcd';
const PUT_EVERY_MS = 10;
const PUT_DEADLINE_MS = 5_000;
const MAX_OUTSTANDING = 1_000;

/** What a round needs of a cluster, whichever store it is. */
interface Members {
  endpoints: string[];
  kill(i: number): Promise<void>;
  restart(i: number): Promise<void>;
  stop(): Promise<void>;
}

interface Round {
  round: number;
  killed: string;
  /** Kill → a surviving member reports a new leader. */
  newLeaderMs: number;
  /** Kill → the first put issued after the kill is answered. */
  firstWriteMs: number;
  /** Last put answered before the kill → first answered after it. */
  writeGapMs: number;
  failedPuts: number;
}

const count = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round1 = (n: number) => Math.round(n * 10) / 10;

async function statusOf(endpoint: string): Promise<{ memberId: string; leader: string } | undefined> {
  const c = new EtcdClient({ endpoints: [endpoint], callTimeoutMs: 500 });
  try {
    const s = await c.status();
    return { memberId: s.memberId, leader: s.leader };
  } catch {
    return undefined;
  } finally {
    c.close();
  }
}

/** Waits until every listed member agrees on one leader among them; returns its index. */
async function settledLeader(endpoints: string[], ids: string[], timeoutMs = 30_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const seen = await Promise.all(endpoints.map(statusOf));
    const leaders = new Set(seen.map((s) => s?.leader));
    const only = [...leaders][0];
    if (leaders.size === 1 && only && only !== '0' && ids.includes(only)) return ids.indexOf(only);
    if (performance.now() > deadline) throw new Error(`no agreed leader after ${timeoutMs} ms: ${JSON.stringify(seen)}`);
    await sleep(50);
  }
}

async function failoverRound(system: System, m: Members, ids: string[], n: number): Promise<Round> {
  const leader = await settledLeader(m.endpoints, ids);
  const oldId = ids[leader]!;
  // Open-loop writers: a put through every member every 10 ms, without waiting for the
  // previous one. A put stuck on a dropped proposal (etcd waits for its request timeout)
  // then hides nothing: later puts show when the cluster takes writes again.
  const clients = m.endpoints.map((e) => new EtcdClient({ endpoints: [e], callTimeoutMs: PUT_DEADLINE_MS }));
  let stop = false;
  let killAt = Infinity;
  let lastBefore = 0;
  let firstAfter = Infinity;
  let failed = 0;
  let seq = 0;
  const inflight = new Set<Promise<void>>();
  const put = async (c: EtcdClient) => {
    const issued = performance.now();
    try {
      await c.put(`failover/${n}/${seq++}`, 'x');
      const answered = performance.now();
      if (issued < killAt && answered < killAt) lastBefore = Math.max(lastBefore, answered);
      if (issued >= killAt) firstAfter = Math.min(firstAfter, answered);
    } catch {
      failed++;
    }
  };
  const writer = async (c: EtcdClient) => {
    let mine = 0;
    while (!stop) {
      // The cap (10 s of puts) stays above what a 5 s deadline can pile up: with a lower
      // one, puts stuck on dropped proposals would stop new puts and hide the recovery.
      if (mine < MAX_OUTSTANDING) {
        mine++;
        const p = put(c).finally(() => {
          mine--;
          inflight.delete(p);
        });
        inflight.add(p);
      }
      await sleep(PUT_EVERY_MS);
    }
  };
  const writers = clients.map((c) => writer(c));
  await sleep(1000);
  killAt = performance.now();
  await m.kill(leader);
  const survivors = m.endpoints.filter((_, i) => i !== leader);
  let newLeaderAt = Infinity;
  const deadline = killAt + 30_000;
  while (newLeaderAt === Infinity && performance.now() < deadline) {
    const seen = await Promise.all(survivors.map(statusOf));
    if (seen.some((s) => s && s.leader !== '0' && s.leader !== oldId && ids.includes(s.leader))) newLeaderAt = performance.now();
    else await sleep(20);
  }
  while (firstAfter === Infinity && performance.now() < deadline) await sleep(20);
  stop = true;
  await Promise.all(writers);
  await Promise.all([...inflight]);
  for (const c of clients) c.close();
  if (newLeaderAt === Infinity || firstAfter === Infinity) throw new Error(`${system} round ${n}: no new leader or no write within 30 s of the kill`);
  await m.restart(leader);
  await settledLeader(m.endpoints, ids);
  await sleep(500);
  return {
    round: n,
    killed: `member ${leader}`,
    newLeaderMs: round1(newLeaderAt - killAt),
    firstWriteMs: round1(firstAfter - killAt),
    writeGapMs: round1(firstAfter - lastBefore),
    failedPuts: failed,
  };
}

async function startSystem(system: System, work: string, heartbeatMs: number, electionMs: number): Promise<Members> {
  if (system === 'keel-store') {
    const c = await startStoreCluster({ dir: join(work, 'keel-store'), members: 3, heartbeatMs, electionMs });
    return { endpoints: c.endpoints, kill: (i) => c.kill(i), restart: (i) => c.start(i), stop: () => c.stop() };
  }
  const c = await startEtcdCluster({ dir: join(work, 'keel-etcd'), members: 3, extraArgs: [`--heartbeat-interval=${heartbeatMs}`, `--election-timeout=${electionMs}`] });
  return { endpoints: c.endpoints, kill: (i) => c.killMember(i), restart: (i) => c.startMember(i), stop: () => c.stop({ removeData: true }) };
}

function stats(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  return { medianMs: round1(s[Math.floor((s.length - 1) / 2)] ?? NaN), maxMs: round1(s.at(-1) ?? NaN), minMs: round1(s[0] ?? NaN) };
}

async function main(): Promise<void> {
  const opts = new Command('bench-failover')
    .description('leader kill in a 3-member keel-store and a 3-member etcd: time to a new leader and to the first write')
    .option('--rounds <n>', 'leader kills per system', count, 5)
    .option('--systems <list>', 'keel-store,etcd', (v) => v.split(','), ['keel-store', 'etcd'])
    .option('--heartbeat-ms <ms>', 'heartbeat interval of both systems', count, 100)
    .option('--election-ms <ms>', 'election timeout of both systems', count, 1000)
    .option('--out <file>', 'JSON results', join(REPO_ROOT, 'tmp', 'bench-failover.json'))
    .parse()
    .opts<{ rounds: number; systems: string[]; heartbeatMs: number; electionMs: number; out: string }>();
  for (const s of opts.systems) if (s !== 'keel-store' && s !== 'etcd') throw new Error(`--systems: unknown ${s}`);
  const loadAtStart = loadavg()[0]!;
  const work = mkdtempSync(join(tmpdir(), 'keel-bench-failover-'));
  // On Ctrl-C or the suite's timeout (even while etcd starts), its members are stopped by
  // the PID files under `work`, which is then removed; the finally below does it on the way out.
  const removeWork = onCleanup(`bench folder ${work}`, () => removeWorkDir(work));
  const results: { system: System; rounds: Round[]; newLeader: ReturnType<typeof stats>; firstWrite: ReturnType<typeof stats>; writeGap: ReturnType<typeof stats>; error?: string }[] = [];
  try {
    for (const system of opts.systems as System[]) {
      const rounds: Round[] = [];
      let error: string | undefined;
      // Registered before the start: after Ctrl-C that throws, so no next system starts.
      let members: Members | undefined = undefined;
      const stopMembers = onCleanup(`${system} members`, () => members?.stop());
      const m = await startSystem(system, work, opts.heartbeatMs, opts.electionMs).catch(async (err: unknown) => {
        await stopMembers();
        throw err;
      });
      members = m;
      try {
        const ids = await Promise.all(m.endpoints.map(async (e) => (await statusOf(e))?.memberId ?? '?'));
        for (let n = 1; n <= opts.rounds; n++) {
          const r = await failoverRound(system, m, ids, n);
          process.stderr.write(`${system} round ${n}: new leader ${r.newLeaderMs} ms, first write ${r.firstWriteMs} ms, write gap ${r.writeGapMs} ms\n`);
          rounds.push(r);
        }
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      } finally {
        await stopMembers();
      }
      results.push({
        system,
        rounds,
        newLeader: stats(rounds.map((r) => r.newLeaderMs)),
        firstWrite: stats(rounds.map((r) => r.firstWriteMs)),
        writeGap: stats(rounds.map((r) => r.writeGapMs)),
        ...(error ? { error } : {}),
      });
    }
  } finally {
    await removeWork();
  }
  const barMs = 2 * opts.electionMs;
  const conditions = {
    members: 3,
    heartbeatMs: opts.heartbeatMs,
    electionMs: opts.electionMs,
    rounds: opts.rounds,
    writers: `open loop: a put (1-byte value) through each member every ${PUT_EVERY_MS} ms, up to ${MAX_OUTSTANDING} outstanding per member, ${PUT_DEADLINE_MS / 1000} s deadline; each round kills the current leader with SIGKILL (recorded PID), then restarts it`,
    measured: 'new leader: kill → a survivor’s Status names a new leader (polled every 20 ms); first write: kill → first put issued after the kill answered',
    machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}`,
    node: process.version,
    etcd: '3.4 (Debian etcd-server)',
    date: new Date().toISOString(),
    loadAverageAtStart: round1(loadAtStart),
    loadAverageAtEnd: round1(loadavg()[0]!),
  };
  const lines = [
    `failover: ${JSON.stringify(conditions)}`,
    '',
    '| system | rounds | new leader median ms | max ms | first write median ms | max ms | write gap median ms | max ms | bar (≤ 2 election timeouts) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...results.map(
      (r) =>
        `| ${r.system} | ${r.rounds.length} | ${r.newLeader.medianMs} | ${r.newLeader.maxMs} | ${r.firstWrite.medianMs} | ${r.firstWrite.maxMs} | ${r.writeGap.medianMs} | ${r.writeGap.maxMs} | ${r.error ? `failed: ${r.error}` : r.firstWrite.maxMs <= barMs ? `met (${barMs} ms)` : `not met (${barMs} ms)`} |`,
    ),
    '',
  ];
  process.stdout.write(lines.join('\n'));
  const out = resolve(REPO_ROOT, opts.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ benchmark: 'failover', conditions, barMs, results }, null, 2) + '\n');
  process.stdout.write(`wrote ${out}\n`);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

runTool('bench-failover', main);
