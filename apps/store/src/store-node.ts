// StoreNode: one keel-store member, joining the Raft host (libs/raft-node) and the MVCC
// store (libs/mvcc). It owns:
//  - the state machine: committed entries go to MVCC in log order without waiting, so
//    consecutive applies share one LevelDB batch; MVCC writes are not fsynced, the Raft log
//    is the durable record, and after a restart the host replays the log, where entries at
//    or below MVCC's applied index are skipped (they are already in its state);
//  - proposals: a request is proposed as an entry naming this member and a sequence
//    number, and answered with the result of applying that very entry here (on a follower
//    the core forwards the proposal to the leader; the answer still comes from our apply);
//  - linearizable reads: ReadIndex, batched so that concurrent reads share one round;
//  - leases: the leader proposes a revoke for each expired lease, and resets expiries when
//    it takes over; a follower's keep-alive travels through the log to reach the leader;
//  - member attributes (name, client URLs), published through the log as etcd does, and
//    carried with the MVCC state in Raft snapshots.
import type { ResponseHeader } from '@keel/protos/etcdserverpb/ResponseHeader';
import { MvccError, MvccStore, validateOperation, type Operation, type OperationResult } from '@keel/mvcc';
import {
  GrpcTransport,
  LevelStorage,
  RaftHost,
  RaftNodeError,
  type AppliedEntry,
  type DurableStorage,
  type HostStatus,
  type StateMachine,
} from '@keel/raft-node';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError, fromRaft } from './errors';
import { decodeEntry, encodeEntry, type EntryBody, type MemberAttributes } from './entry';
import { Metrics } from './metrics';

export interface StoreNodeConfig {
  name: string;
  dataDir: string;
  id: number;
  /** For a new cluster: 0 for a member joining an existing one (it learns it from the log). */
  clusterId: number;
  /** host:port the Raft transport listens on. */
  listenPeer: string;
  /** Founding members (id → host:port) when the cluster is new; undefined when joining. */
  bootstrap?: Map<number, string>;
  /** Peers known at start (id → host:port), so a joining member can answer the leader. */
  peers: Map<number, string>;
  clientUrls: string[];
  heartbeatMs: number;
  electionMs: number;
  snapshotCount: number;
  /** Bytes; etcd's --max-request-bytes (1.5 MiB). */
  maxRequestBytes: number;
  log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** Called once when the member cannot go on (storage failure): exit and restart. */
  onFatal: (err: Error) => void;
}

interface Pending {
  result?: Promise<unknown>;
}

export class StoreNode {
  readonly attributes = new Map<number, MemberAttributes>();
  clusterId: number;
  private term = 0;
  private leader = 0;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  /** The last log index handed to MVCC (apply or markApplied). */
  private lastMvccIndex: number;
  private readWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private reading = false;
  private readonly revoking = new Set<bigint>();
  private leaseTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private host!: RaftHost;

  private constructor(
    readonly config: StoreNodeConfig,
    readonly mvcc: MvccStore,
    readonly metrics: Metrics,
  ) {
    this.clusterId = config.clusterId;
    this.lastMvccIndex = mvcc.appliedIndex;
  }

  get id(): number {
    return this.config.id;
  }

  static async start(config: StoreNodeConfig): Promise<StoreNode> {
    await mkdir(config.dataDir, { recursive: true });
    const mvcc = await MvccStore.open({
      dir: join(config.dataDir, 'mvcc'),
      // etcd's minimum lease TTL: 1.5 election timeouts, so a lease outlives a leader change.
      minLeaseTtl: Math.ceil((1.5 * config.electionMs) / 1000),
    });
    const storage = await LevelStorage.open(join(config.dataDir, 'raft'));
    const transport = new GrpcTransport({
      id: config.id,
      listen: config.listenPeer,
      peers: config.peers,
      log: (msg) => config.log('debug', msg),
    });
    const metrics = new Metrics();
    const node = new StoreNode(config, mvcc, metrics);
    const stateMachine: StateMachine = {
      apply: (entry) => node.apply(entry),
      snapshot: () => node.snapshot(),
      restore: (data, index) => node.restore(data, index),
    };
    const host = new RaftHost({
      id: config.id,
      storage: timedStorage(storage, metrics),
      transport,
      stateMachine,
      bootstrap: config.bootstrap,
      tickMs: config.heartbeatMs,
      heartbeatTick: 1,
      electionTick: Math.max(2, Math.round(config.electionMs / config.heartbeatMs)),
      snapshotEvery: config.snapshotCount,
      keepEntries: Math.min(5000, config.snapshotCount),
      // etcd's request timeout: 5 s plus two election timeouts.
      proposalTimeoutMs: 5000 + 2 * config.electionMs,
      readTimeoutMs: 5000 + 2 * config.electionMs,
      logger: {
        debug: () => undefined,
        info: (m) => config.log('info', m),
        warn: (m) => config.log('warn', m),
        error: (m) => config.log('error', m),
      },
      onLeaderChange: (leader, term) => node.leaderChanged(leader, term),
      onFatal: (err) => config.onFatal(err),
    });
    node.host = host;
    try {
      await host.start();
    } catch (err) {
      await host.stop().catch(() => undefined);
      await mvcc.close().catch(() => undefined);
      throw err;
    }
    // A lone voter need not wait out an election timeout to lead (etcd fast-forwards too).
    const { voters } = host.status().confState;
    if (voters.length === 1 && voters[0] === config.id) host.campaign();
    node.leaseTimer = setInterval(() => node.revokeExpired(), 250);
    void node.publishAttributes();
    return node;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.leaseTimer);
    for (const w of this.readWaiters.splice(0)) w.reject(new StoreError('Stopped'));
    await this.host.stop();
    await this.mvcc.close();
  }

  // ---- what the RPCs use -------------------------------------------------------------------

  /** The header every answer carries. */
  header(revision: number = this.mvcc.revision): ResponseHeader {
    return { cluster_id: String(this.clusterId), member_id: String(this.id), revision, raft_term: this.term };
  }

  get leaderId(): number {
    return this.leader;
  }

  get raftTerm(): number {
    return this.term;
  }

  status(): HostStatus {
    return this.host.status();
  }

  raft(): RaftHost {
    return this.host;
  }

  /** Proposes an MVCC operation and answers the result of applying it here. */
  async propose<O extends Operation>(op: O): Promise<OperationResult<O>> {
    validateOperation(op);
    return (await this.proposeBody({ kind: 'op', op })) as OperationResult<O>;
  }

  /** A keep-alive: renewed here on the leader, through the log from a follower. Answers the TTL. */
  async keepAlive(lease: bigint): Promise<number> {
    if (this.leader === this.id) return this.mvcc.renewLease(lease);
    return (await this.proposeBody({ kind: 'keepAlive', lease })) as number;
  }

  /** Settles once this member's MVCC state includes every write acknowledged before the call. */
  linearize(): Promise<void> {
    if (this.stopped) return Promise.reject(new StoreError('Stopped'));
    return new Promise((resolve, reject) => {
      this.readWaiters.push({ resolve, reject });
      if (!this.reading) void this.readLoop();
    });
  }

  // ---- proposals -----------------------------------------------------------------------------

  private async proposeBody(body: EntryBody): Promise<unknown> {
    if (this.stopped) throw new StoreError('Stopped');
    const seq = ++this.seq;
    const data = encodeEntry({ origin: this.id, seq, body });
    if (data.length > this.config.maxRequestBytes) throw new StoreError('TooLarge');
    const slot: Pending = {};
    this.pending.set(seq, slot);
    this.metrics.proposalsPending++;
    try {
      await this.host.propose(data);
    } catch (err) {
      this.metrics.proposalsFailed++;
      throw err instanceof RaftNodeError ? fromRaft(err) : err;
    } finally {
      this.pending.delete(seq);
      this.metrics.proposalsPending--;
    }
    if (!slot.result) throw new StoreError('Internal', 'etcdserver: entry applied without a result');
    return slot.result;
  }

  /** Concurrent reads share one ReadIndex round; reads that arrive during a round wait for the next. */
  private async readLoop(): Promise<void> {
    this.reading = true;
    try {
      while (this.readWaiters.length > 0 && !this.stopped) {
        const batch = this.readWaiters.splice(0);
        try {
          const index = await this.host.readIndex();
          // Entries that never reach MVCC (config changes, the leader's empty entry) have no
          // applied mark there: wait only for the last one that did.
          await this.mvcc.whenApplied(Math.min(index, this.lastMvccIndex));
          for (const w of batch) w.resolve();
        } catch (err) {
          const mapped = err instanceof RaftNodeError ? fromRaft(err) : err;
          for (const w of batch) w.reject(mapped);
        }
      }
    } finally {
      this.reading = false;
    }
  }

  // ---- the state machine -----------------------------------------------------------------------

  private apply(entry: AppliedEntry): void {
    const { origin, seq, body } = decodeEntry(entry.data);
    const mine = origin === this.id ? this.pending.get(seq) : undefined;
    if (body.kind === 'attributes') {
      this.attributes.set(body.attributes.id, body.attributes);
      if (this.clusterId === 0 && body.attributes.clusterId !== 0) this.clusterId = body.attributes.clusterId;
    }
    // Already in MVCC's state: a replay after a restart.
    if (entry.index <= this.mvcc.appliedIndex) {
      if (mine) mine.result = Promise.reject(new StoreError('Timeout'));
      return;
    }
    this.lastMvccIndex = entry.index;
    this.metrics.proposalsApplied++;
    let result: Promise<unknown>;
    switch (body.kind) {
      case 'op':
        result = this.mvcc.apply(body.op, entry.index);
        break;
      case 'keepAlive':
        // After the entries before it are executed, so a grant just before it is known.
        result = this.mvcc.markApplied(entry.index).then(() => this.mvcc.renewLease(body.lease));
        break;
      case 'attributes':
        result = this.mvcc.markApplied(entry.index);
        break;
    }
    result.catch((err: unknown) => {
      // A refusal is part of the state machine; anything else means the store failed.
      if (!(err instanceof MvccError) || err.code === 'Closed' || err.code === 'Corrupt') {
        if (!this.stopped) this.config.onFatal(err instanceof Error ? err : new Error(String(err)));
      }
    });
    const started = process.hrtime.bigint();
    void result.then(
      () => this.metrics.backendCommit.observe(Number(process.hrtime.bigint() - started) / 1e9),
      () => undefined,
    );
    if (mine) mine.result = result;
  }

  /** The Raft snapshot: member attributes, then MVCC's own snapshot bytes. */
  private async snapshot(): Promise<Uint8Array> {
    const snap = await this.mvcc.snapshot();
    const parts: Buffer[] = [];
    for await (const chunk of snap.chunks) parts.push(chunk);
    const head = Buffer.from(JSON.stringify({ clusterId: this.clusterId, attributes: [...this.attributes.values()] }), 'utf8');
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(head.length, 0);
    return Buffer.concat([len, head, ...parts]);
  }

  private async restore(data: Uint8Array, index: number): Promise<void> {
    if (data.length === 0) return;
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const headLen = buf.readUInt32BE(0);
    const head = JSON.parse(buf.subarray(4, 4 + headLen).toString('utf8')) as { clusterId: number; attributes: MemberAttributes[] };
    if (this.clusterId === 0) this.clusterId = head.clusterId;
    for (const a of head.attributes) this.attributes.set(a.id, a);
    // At a restart the stored snapshot is usually older than MVCC's own state: keep that.
    if (index <= this.mvcc.appliedIndex) return;
    const body = buf.subarray(4 + headLen);
    await this.mvcc.restore(
      (async function* () {
        yield body;
      })(),
    );
    this.lastMvccIndex = this.mvcc.appliedIndex;
    this.config.log('info', 'restored from snapshot', { index, revision: this.mvcc.revision });
  }

  // ---- leadership and leases ---------------------------------------------------------------------

  private leaderChanged(leader: number, term: number): void {
    if (leader !== this.leader) this.metrics.leaderChanges++;
    this.leader = leader;
    this.term = term;
    this.config.log('info', 'leader changed', { leader: leader.toString(16), term });
    // The old leader's keep-alives are unknown here: every lease gets a full TTL from now.
    if (leader === this.id) this.mvcc.resetLeaseExpiries();
  }

  private revokeExpired(): void {
    if (this.stopped || this.leader !== this.id) return;
    let expired: bigint[];
    try {
      expired = this.mvcc.expiredLeases();
    } catch {
      return;
    }
    for (const lease of expired) {
      if (this.revoking.has(lease)) continue;
      this.revoking.add(lease);
      this.propose({ type: 'leaseRevoke', id: lease })
        .catch(() => undefined)
        .finally(() => this.revoking.delete(lease));
    }
  }

  /** Publishes name and client URLs through the log (again at every start, as etcd does). */
  private async publishAttributes(): Promise<void> {
    const attributes: MemberAttributes = {
      id: this.id,
      name: this.config.name,
      clientUrls: this.config.clientUrls,
      clusterId: this.clusterId,
    };
    while (!this.stopped) {
      try {
        await this.host.waitForLeader(5000);
        await this.proposeBody({ kind: 'attributes', attributes });
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

/**
 * The Raft storage with each write timed, for etcd's WAL fsync metric. The core reads the
 * storage many times per message, so each method is bound once, not at every access.
 */
function timedStorage(storage: DurableStorage, metrics: Metrics): DurableStorage {
  const save = async (update: Parameters<DurableStorage['save']>[0], sync: boolean) => {
    const start = process.hrtime.bigint();
    await storage.save(update, sync);
    if (sync) metrics.walFsync.observe(Number(process.hrtime.bigint() - start) / 1e9);
    metrics.proposalsCommitted = Math.max(metrics.proposalsCommitted, update.hardState?.commit ?? 0);
  };
  const bound = new Map<PropertyKey, unknown>([['save', save]]);
  return new Proxy(storage, {
    get(target, prop, receiver) {
      const cached = bound.get(prop);
      if (cached !== undefined) return cached;
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const fn = (value as (...a: unknown[]) => unknown).bind(target);
      bound.set(prop, fn);
      return fn;
    },
  });
}
