// One robustness run, in the manner of etcd's robustness suite: a 3-member keel-store on
// loopback with a fault-injecting proxy on every peer link; C clients doing linearizable
// gets, puts, compare-and-swap transactions and deletes on a few keys, and watchers on the
// whole key range that are now and then cancelled and resumed from where they stopped;
// faults from a schedule drawn from the seed (kill -9 and restart, the leader half the time;
// SIGSTOP/SIGCONT; a member cut off from the others; slow peer links; leadership transfer). Every operation's
// call and return are recorded on the monotonic clock; after the faults stop and the
// cluster heals, the store's own history is read by a watch from revision 1 and the whole
// run is checked by @keel/testing. A run with anomalies is saved as JSON for replay.
import { EtcdClient, prefixEnd, type Compare, type Watcher } from '@keel/etcd-client';
import {
  checkRun,
  seededRandom,
  stringifyRun,
  type HistoryEvent,
  type KvInput,
  type KvOperation,
  type KvOutput,
  type Random,
  type RecordedRun,
  type RunVerdict,
  type WatchRecord,
} from '@keel/testing';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ProxiedCluster } from './cluster';

export interface RobustnessOptions {
  seed: number;
  /** How long clients run while faults are injected. */
  seconds: number;
  clients: number;
  keys?: number;
  watchers?: number;
  /** Where a failing run's history goes (tmp/robustness-failure-<seed>.json). */
  failureFile: string;
  /** Also inject network faults through the peer proxies. Default true. */
  network?: boolean;
  /** Also replace members (MemberRemove, wipe, MemberAdd, start existing). Default false. */
  replace?: boolean;
  log?: (line: string) => void;
}

export interface RobustnessResult {
  seed: number;
  verdict: RunVerdict;
  faults: string[];
  watchEvents: number;
  savedTo?: string;
  /** The recorded run, as checked. */
  run: RecordedRun;
}

const PREFIX = '/rb/';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

interface Recorder {
  ops: KvOperation[];
  nextId: number;
}

/** Runs one operation and records it; a failed write stays open (it may have taken effect). */
async function record(rec: Recorder, client: number, input: KvInput, run: () => Promise<KvOutput>): Promise<KvOutput | undefined> {
  const call = now();
  try {
    const output = await run();
    rec.ops.push({ id: rec.nextId++, client, input, output, call, ret: now() });
    return output;
  } catch {
    // A failed read had no effect and tells nothing: it is not recorded.
    if (input.type !== 'get') rec.ops.push({ id: rec.nextId++, client, input, output: undefined, call, ret: Infinity });
    // A member that is down fails calls at once: back off rather than spin.
    await sleep(100);
    return undefined;
  }
}

async function clientLoop(c: number, etcd: EtcdClient, rnd: Random, keys: string[], rec: Recorder, until: number): Promise<void> {
  let n = 0;
  // What this client last saw of each key, for its compare-and-swaps.
  const seen = new Map<string, { value: string | null; modRevision: number }>();
  while (now() < until) {
    const key = rnd.pick(keys);
    const value = `c${c}-${n++}`;
    const dice = rnd.next();
    if (dice < 0.35) {
      const out = await record(rec, c, { type: 'get', key }, async () => {
        const r = await etcd.get(key);
        return { type: 'get', value: r.kv ? r.kv.value.toString() : null, modRevision: r.kv?.modRevision ?? 0, revision: r.revision };
      });
      if (out?.type === 'get') seen.set(key, { value: out.value, modRevision: out.modRevision });
    } else if (dice < 0.65) {
      await record(rec, c, { type: 'put', key, value }, async () => ({ type: 'put', revision: (await etcd.put(key, value)).revision }));
    } else if (dice < 0.88) {
      const last = seen.get(key) ?? { value: null, modRevision: 0 };
      // Half on mod_revision (as the apiserver does), half on the value.
      const onMod = rnd.next() < 0.5;
      const expect = onMod ? { modRevision: last.modRevision } : { value: last.value };
      const compare: Compare = onMod
        ? { key, target: 'MOD', result: 'EQUAL', modRevision: last.modRevision }
        : last.value === null
            ? { key, target: 'VERSION' as const, result: 'EQUAL' as const, version: 0 }
            : { key, target: 'VALUE' as const, result: 'EQUAL' as const, value: last.value };
      const out = await record(rec, c, { type: 'cas', key, expect, value }, async () => {
        const r = await etcd.txn({ compare: [compare], success: [{ put: { key, value } }], failure: [{ range: { key } }] });
        if (r.succeeded) return { type: 'cas', succeeded: true, revision: r.revision };
        const first = r.results[0];
        const kv = first && 'range' in first ? first.range.kvs[0] : undefined;
        return {
          type: 'cas',
          succeeded: false,
          revision: r.revision,
          current: { value: kv ? kv.value.toString() : null, modRevision: kv?.modRevision ?? 0 },
        };
      });
      if (out?.type === 'cas') {
        if (out.succeeded) seen.set(key, { value, modRevision: out.revision });
        else if (out.current) seen.set(key, out.current);
      }
    } else {
      await record(rec, c, { type: 'delete', key }, async () => {
        const r = await etcd.delete(key);
        return { type: 'delete', deleted: r.deleted, revision: r.revision };
      });
    }
  }
}

const toEvent = (e: { type: 'PUT' | 'DELETE'; kv: { key: Buffer; value: Buffer; modRevision: number } }): HistoryEvent =>
  e.type === 'PUT'
    ? { type: 'PUT', key: e.kv.key.toString(), value: e.kv.value.toString(), modRevision: e.kv.modRevision }
    : { type: 'DELETE', key: e.kv.key.toString(), modRevision: e.kv.modRevision };

/** Watchers over the whole prefix; each can be cancelled and resumed from its next revision. */
class Watchers {
  readonly records: WatchRecord[] = [];
  private readonly live: { record: WatchRecord; watcher: Watcher; client: EtcdClient }[] = [];
  private count = 0;
  readonly errors: string[] = [];

  constructor(private readonly clients: EtcdClient[]) {}

  open(client: EtcdClient, startRevision: number, resumedFrom?: string): void {
    const record: WatchRecord = { id: `w${this.count++}`, range: { key: PREFIX, end: prefixEnd(PREFIX).toString() }, startRevision, events: [], resumedFrom };
    this.records.push(record);
    const watcher = client.watch(
      { key: PREFIX, prefix: true, startRevision },
      {
        onEvents: (events) => record.events.push(...events.map(toEvent)),
        onError: (err) => this.errors.push(`${record.id}: ${err.message}`),
      },
    );
    this.live.push({ record, watcher, client });
  }

  /** Cancels one watch and opens another, on another member, from exactly where it stopped. */
  resumeOne(rnd: Random): string | undefined {
    if (this.live.length === 0) return undefined;
    const i = rnd.int(this.live.length);
    const { record, watcher } = this.live[i]!;
    const next = watcher.nextRevision;
    if (next <= 1 && record.events.length === 0) return undefined;
    watcher.cancel();
    record.progressRevision = next - 1;
    this.live.splice(i, 1);
    this.open(rnd.pick(this.clients), next, record.id);
    return `${record.id} resumed from ${next}`;
  }

  /** Waits until every live watch has delivered through `revision`, then cancels it. */
  async finish(revision: number, timeoutMs: number): Promise<void> {
    const deadline = now() + timeoutMs;
    while (this.live.some((w) => w.watcher.nextRevision <= revision) && now() < deadline) await sleep(50);
    for (const w of this.live) {
      w.record.progressRevision = w.watcher.nextRevision - 1;
      w.watcher.cancel();
    }
    this.live.length = 0;
  }
}

type Fault = { name: string; heal: () => Promise<void> | void };

/** Each member's ID (decimal, as the API gives it); IDs come from peer URLs, so they survive restarts. */
async function memberIds(clients: EtcdClient[]): Promise<string[]> {
  return Promise.all(clients.map(async (c) => (await c.status()).memberId));
}

async function leaderIndex(cluster: ProxiedCluster, clients: EtcdClient[], ids: string[]): Promise<number | undefined> {
  for (let i = 0; i < clients.length; i++) {
    if (cluster.down.has(i) || cluster.paused.has(i)) continue;
    try {
      const j = ids.indexOf((await clients[i]!.status()).leader);
      return j >= 0 ? j : undefined;
    } catch {
      // try the next member
    }
  }
  return undefined;
}

/** Leadership transfer through Debian's etcdctl (MoveLeader), asked of the leader itself. */
function moveLeader(endpoint: string, targetId: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      'etcdctl',
      [`--endpoints=${endpoint}`, '--command-timeout=5s', 'move-leader', BigInt(targetId).toString(16)],
      { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 8000 },
      (err, _stdout, stderr) => resolve(err ? `failed: ${(stderr || err.message).trim().split('\n')[0]}` : 'done'),
    );
  });
}

let generation = 0;

/** A (new) member's ID, once it answers. */
async function memberIdOf(client: EtcdClient): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return (await client.status()).memberId;
    } catch (err) {
      if (i > 100) throw err;
      await sleep(100);
    }
  }
}

async function injectFault(cluster: ProxiedCluster, statusClients: EtcdClient[], ids: string[], rnd: Random, network: boolean, replace: boolean): Promise<Fault> {
  const size = cluster.members.length;
  const leader = await leaderIndex(cluster, statusClients, ids);
  const target = leader !== undefined && rnd.next() < 0.5 ? leader : rnd.int(size);
  const role = target === leader ? 'leader' : 'member';
  const kinds = [...(network ? ['kill', 'pause', 'partition', 'delay', 'transfer'] : ['kill', 'pause', 'transfer']), ...(replace ? ['replace'] : [])];
  const kind = rnd.pick(kinds);
  if (kind === 'replace') {
    // A follower: replacing the leader works too, but this keeps quorum while the new member catches up.
    const victim = leader === undefined ? target : (leader + 1 + rnd.int(size - 1)) % size;
    try {
      await cluster.replace(victim, BigInt(ids[victim]!).toString(16), ++generation);
      ids[victim] = await memberIdOf(statusClients[victim]!);
      return { name: `replace member m${victim} by ${cluster.members[victim]!.name}`, heal: () => undefined };
    } catch (err) {
      if (cluster.down.has(victim)) await cluster.startMember(victim).catch(() => undefined);
      return { name: `replace member m${victim} failed: ${(err as Error).message.split('\n')[0]}`, heal: () => undefined };
    }
  }
  if (kind === 'transfer' && leader !== undefined) {
    const to = (leader + 1 + rnd.int(size - 1)) % size;
    const outcome = await moveLeader(cluster.members[leader]!.endpoint, ids[to]!);
    return { name: `move leader m${leader} → m${to} (${outcome})`, heal: () => undefined };
  }
  switch (kind) {
    case 'kill':
      await cluster.kill(target);
      return { name: `kill -9 ${role} m${target}, restart`, heal: () => cluster.startMember(target) };
    case 'pause':
    case 'transfer': // no leader to move: pause instead
      cluster.pause(target);
      return { name: `SIGSTOP ${role} m${target}, SIGCONT`, heal: () => cluster.resume(target) };
    case 'partition': {
      const others = [...Array(size).keys()].filter((j) => j !== target);
      cluster.proxies.cutBetween(target, others);
      return { name: `isolate ${role} m${target}`, heal: () => cluster.proxies.heal() };
    }
    default: {
      const ms = 50 + rnd.int(250);
      for (let a = 0; a < size; a++) for (let b = 0; b < size; b++) if (a !== b && (a === target || b === target)) cluster.proxies.rules.delayMs.set(`${a}>${b}`, ms);
      return { name: `delay links of ${role} m${target} by ${ms} ms`, heal: () => cluster.proxies.heal() };
    }
  }
}

/** The cluster of the run in progress, for `abortRobustness`. */
let current: ProxiedCluster | undefined;

/** Stops the cluster of the run in progress (SIGCONT first), e.g. on SIGTERM. */
export async function abortRobustness(): Promise<void> {
  const cluster = current;
  current = undefined;
  await cluster?.cleanup();
}

export async function runRobustness(opts: RobustnessOptions): Promise<RobustnessResult> {
  const rnd = seededRandom(opts.seed);
  const log = opts.log ?? (() => undefined);
  const keys = [...Array(opts.keys ?? 4).keys()].map((i) => `${PREFIX}k${i}`);
  const cluster = await ProxiedCluster.start(3);
  current = cluster;
  const endpoints = cluster.endpoints;
  const clients = [...Array(opts.clients).keys()].map((c) => new EtcdClient({ endpoints: [endpoints[c % endpoints.length]!], callTimeoutMs: 2000 }));
  const statusClients = endpoints.map((e) => new EtcdClient({ endpoints: [e], callTimeoutMs: 500 }));
  const watchClients = endpoints.map((e) => new EtcdClient({ endpoints: [e], callTimeoutMs: 2000 }));
  const watchers = new Watchers(watchClients);
  const rec: Recorder = { ops: [], nextId: 0 };
  const faults: string[] = [];
  try {
    const ids = await memberIds(statusClients);
    for (let w = 0; w < (opts.watchers ?? 3); w++) watchers.open(watchClients[w % watchClients.length]!, 1);
    const until = now() + opts.seconds * 1000;
    const loops = clients.map((etcd, c) => clientLoop(c, etcd, seededRandom(opts.seed * 1000 + c), keys, rec, until));
    // The fault schedule: a quiet start, then a fault every 1.5–4 s held for 1–3 s.
    const schedule = (async () => {
      await sleep(1000);
      while (now() < until - 3000) {
        const fault = await injectFault(cluster, statusClients, ids, rnd, opts.network ?? true, opts.replace ?? false);
        faults.push(fault.name);
        log(`  fault: ${fault.name}`);
        await sleep(1000 + rnd.int(2000));
        await fault.heal();
        if (rnd.next() < 0.5) {
          const r = watchers.resumeOne(rnd);
          if (r) faults.push(`watch ${r}`);
        }
        await sleep(500 + rnd.int(1500));
      }
    })();
    await Promise.all([...loops, schedule]);
    await cluster.waitHealthy(30_000);
    // The end of the history: one more write everyone must see.
    const final = await clients[0]!.put(`${PREFIX}end`, `end-${opts.seed}`);
    await watchers.finish(final.revision, 15_000);
    const history = await readHistory(watchClients[0]!, final.revision);
    const run: RecordedRun = { seed: opts.seed, operations: rec.ops, history, watches: watchers.records, faults };
    const verdict = checkRun(run);
    verdict.anomalies.push(...watchers.errors.map((e) => `watch error: ${e}`));
    let savedTo: string | undefined;
    if (verdict.anomalies.length > 0 || verdict.linearizable !== 'ok') {
      mkdirSync(dirname(opts.failureFile), { recursive: true });
      writeFileSync(opts.failureFile, stringifyRun(run));
      savedTo = opts.failureFile;
    }
    log(`  peer connections: ${cluster.proxies.stats.identified} with a known sender, ${cluster.proxies.stats.unidentified} without, ${cluster.proxies.stats.refused} refused by a cut`);
    return { seed: opts.seed, verdict, faults, watchEvents: watchers.records.reduce((n, w) => n + w.events.length, 0), savedTo, run };
  } finally {
    for (const c of [...clients, ...statusClients, ...watchClients]) c.close();
    if (current === cluster) {
      current = undefined;
      await cluster.cleanup();
    }
  }
}

/** The store's history of writes under the prefix, through `revision`, from a watch at revision 1. */
async function readHistory(client: EtcdClient, revision: number): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let failed: Error | undefined;
  const watcher = client.watch(
    { key: PREFIX, prefix: true, startRevision: 1 },
    { onEvents: (es) => events.push(...es.map(toEvent)), onError: (err) => (failed = err) },
  );
  const deadline = now() + 15_000;
  while (watcher.nextRevision <= revision && !failed && now() < deadline) await sleep(20);
  watcher.cancel();
  if (failed) throw failed;
  if (watcher.nextRevision <= revision) throw new Error(`the history watch reached only revision ${watcher.nextRevision - 1} of ${revision}`);
  return events.filter((e) => e.modRevision <= revision);
}
