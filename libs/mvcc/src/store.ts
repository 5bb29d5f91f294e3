// MvccStore: the revisioned key-value store that keel-store feeds from committed log
// entries. It owns the LevelDB database and everything kept in memory beside it (the key
// index, leases, watchers), and the one rule that makes members agree: state changes only
// through `apply(operation, index)`, in log order, and the applied index is written in the
// same LevelDB batch as the changes it caused, so after a crash the store knows exactly
// which entry to resume from. Consecutive applies are grouped into one batch (group
// commit); readers and watchers see a revision only once its batch is on disk.
// The store knows nothing of Raft: an index is just a number that must grow.
import { ClassicLevel } from 'classic-level';
import { mkdir } from 'node:fs/promises';
import {
  decodeLease,
  decodeNumber,
  encodeLease,
  encodeNumber,
  LEASE_PREFIX,
  leaseKey,
  metaKey,
  parseLeaseKey,
  recordToKeyValue,
} from './codec';
import { Compactor, readCompactDone, type CompactorOptions } from './compactor';
import { MvccError } from './errors';
import { KeyIndex } from './key-index';
import { Lessor } from './lessor';
import { rangeAt } from './range';
import { Records, type BatchOp } from './records';
import { decodeSnapshot, encodeSnapshot } from './snapshot';
import type {
  CompactResult,
  LeaseTimeToLive,
  Operation,
  OperationResult,
  RangeRequest,
  RangeResult,
  Revision,
} from './types';
import { WatchHub, type WatchLimits, type Watcher, type WatchOptions } from './watch';
import { RevisionWriter, type ChangeEvent, type WriterContext } from './writer';

export interface MvccOptions {
  /** The LevelDB directory; created if missing. */
  dir: string;
  /** Milliseconds, for lease expiry only. Defaults to Date.now. */
  clock?: () => number;
  /** Seconds; shorter grants are raised to it (etcd raises to its minimum lease TTL). Default 1. */
  minLeaseTtl?: number;
  /** Operations per LevelDB batch when applies queue up. Default 256. */
  maxApplyBatch?: number;
  compaction?: Partial<CompactorOptions>;
  watch?: Partial<WatchLimits>;
  /**
   * fsync each batch. Off by default: a batch is atomic either way, and after a machine
   * crash the applied index on disk is exactly as old as the data, so the store app
   * replays the log from there (it must keep log entries until they are durable here).
   */
  sync?: boolean;
}

export interface HashKVResult {
  hash: number;
  /** The store's revision when the hash was taken. */
  revision: number;
  compactRevision: number;
}

export interface MvccSnapshot {
  /** The last applied log index the snapshot contains. */
  appliedIndex: number;
  revision: number;
  /** The snapshot bytes; read them once. */
  chunks: AsyncIterable<Buffer>;
}

type Queued =
  | {
      kind: 'apply';
      op: Operation | undefined;
      index: number;
      resolve: (value: unknown) => void;
      reject: (err: unknown) => void;
    }
  | { kind: 'exclusive'; run: () => Promise<void> };

/** `after`: answer only once this settles (a physical compaction). */
type Outcome = { ok: true; value: unknown; after?: Promise<void> } | { ok: false; error: unknown };

const APPLIED_KEY = metaKey('applied');
const REVISION_KEY = metaKey('revision');
const COMPACT_KEY = metaKey('compact');
const RESTORING_KEY = metaKey('restoring');

/** etcd's first revision: a fresh store answers reads at revision 1; the first write makes 2. */
const FIRST_REVISION = 1;

export class MvccStore {
  private readonly index = new KeyIndex();
  private readonly lessor: Lessor;
  private readonly hub: WatchHub;
  private readonly compactor: Compactor;
  private readonly maxApplyBatch: number;
  private readonly sync: boolean;
  private readonly writerContext: WriterContext;

  private readonly records: Records;
  private readonly isLive = (key: string, rev: Revision) => this.index.has(key, rev);
  /** The LevelDB batch being built for the current group of applies. */
  private batch: BatchOp[] = [];
  // Two of each: what applies see (including the group not yet on disk) and what readers
  // and watchers see (only what is on disk). They are equal between groups.
  private currentRev = FIRST_REVISION;
  private committedRev = FIRST_REVISION;
  private compactRev = 0;
  private visibleCompactRev = 0;
  private applied = 0;
  /** The applied index whose batch is on disk and visible to reads. */
  private visibleApplied = 0;
  private appliedWaiters: { index: number; resolve: () => void; reject: (err: Error) => void }[] = [];

  private queue: Queued[] = [];
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  /** Set when a write failed: in-memory state may be ahead of disk, so nothing more is served. */
  private failure: Error | undefined;
  private closed = false;

  private constructor(
    private readonly db: ClassicLevel<Buffer, Buffer>,
    opts: MvccOptions,
  ) {
    const clock = opts.clock ?? Date.now;
    this.records = new Records(db);
    this.lessor = new Lessor(clock, opts.minLeaseTtl ?? 1);
    this.maxApplyBatch = opts.maxApplyBatch ?? 256;
    this.sync = opts.sync ?? false;
    this.writerContext = {
      index: this.index,
      lessor: this.lessor,
      fetch: (revs) => this.records.fetch(revs, true),
      stage: (record) => this.batch.push(this.records.stage(record)),
      compactRevision: () => this.compactRev,
    };
    this.compactor = new Compactor(db, this.isLive, {
      batchSize: opts.compaction?.batchSize ?? 1000,
      pauseMs: opts.compaction?.pauseMs ?? 0,
    });
    this.hub = new WatchHub(
      {
        revision: () => this.committedRev,
        compactRevision: () => this.visibleCompactRev,
        history: (from, to, max) => this.records.history(from, to, max, this.visibleCompactRev, this.isLive),
        prevKvs: async (revs) => (await this.records.fetch(revs, false)).map((r) => (r ? recordToKeyValue(r) : undefined)),
      },
      {
        bufferEvents: opts.watch?.bufferEvents ?? 1024,
        catchUpRecords: opts.watch?.catchUpRecords ?? 1000,
        eventsPerMessage: opts.watch?.eventsPerMessage ?? 1000,
      },
    );
  }

  static async open(opts: MvccOptions): Promise<MvccStore> {
    await mkdir(opts.dir, { recursive: true });
    const db = new ClassicLevel<Buffer, Buffer>(opts.dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    const store = new MvccStore(db, opts);
    try {
      await store.load();
    } catch (err) {
      await db.close();
      throw err;
    }
    return store;
  }

  /** The newest committed revision (what reads see). */
  get revision(): number {
    return this.committedRev;
  }

  /** Revisions below this one are gone; 0 before the first compaction. */
  get compactRevision(): number {
    return this.visibleCompactRev;
  }

  /** The last log index applied (including ones still being written). */
  get appliedIndex(): number {
    return this.applied;
  }

  /** Approximate bytes LevelDB uses on disk (etcd's dbSize in Status). */
  dbSize(): Promise<number> {
    this.usable();
    return this.db.approximateSize(Buffer.alloc(0), Buffer.alloc(1, 0xff));
  }

  /** Has LevelDB rewrite its files to give back the space compaction freed (etcd's Defragment). */
  async defragment(): Promise<void> {
    this.usable();
    await this.db.compactRange(Buffer.alloc(0), Buffer.alloc(1, 0xff));
  }

  /** Keys in the index, live or awaiting compaction (for metrics). */
  get keyCount(): number {
    return this.index.size;
  }

  /**
   * Settles once entry `index` (or a later one) is applied and visible to reads: for a
   * linearizable read, wait for the ReadIndex here, then read.
   */
  whenApplied(index: number): Promise<void> {
    if (this.visibleApplied >= index) return Promise.resolve();
    if (this.closed) return Promise.reject(new MvccError('Closed'));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.appliedWaiters.push({ index, resolve, reject }));
  }

  /** Watchers currently open (for metrics). */
  get watcherCount(): number {
    return this.hub.size;
  }

  // --- the apply interface ---

  /**
   * Applies one committed log entry. `index` must be above every index applied before (gaps
   * are fine: entries that are not MVCC operations need not come here, see markApplied).
   * Resolves once the change and the index are on disk. Rejects with an MvccError when the
   * operation is refused (the same way on every member); the index is recorded all the same.
   */
  apply<O extends Operation>(op: O, index: number): Promise<OperationResult<O>> {
    return this.enqueue(op, index) as Promise<OperationResult<O>>;
  }

  /** Records that log entry `index` (not an MVCC operation: a no-op, a config change) was applied. */
  async markApplied(index: number): Promise<void> {
    await this.enqueue(undefined, index);
  }

  // --- reads ---

  /** A read at the committed revision, or at a past one still held. */
  async range(req: RangeRequest): Promise<RangeResult> {
    this.usable();
    if (req.key.length === 0) throw new MvccError('EmptyKey');
    const current = this.committedRev;
    const atRev = req.revision && req.revision > 0 ? req.revision : current;
    if (atRev > current) throw new MvccError('FutureRevision');
    if (atRev < this.visibleCompactRev) throw new MvccError('Compacted');
    return rangeAt(this.index, (revs) => this.records.fetch(revs, true), req, atRev, current);
  }

  /** Starts a watch; read its messages with `next()` or `for await`. */
  watch(opts: WatchOptions): Watcher {
    this.usable();
    // etcd accepts an empty key here: with a range end it means "from the first key".
    return this.hub.watch(opts);
  }

  /** A CRC-32 of every record up to `revision` (0: the newest) that compaction left: equal on members that agree. */
  async hashKV(revision = 0): Promise<HashKVResult> {
    this.usable();
    const current = this.committedRev;
    const compact = this.visibleCompactRev;
    const atRev = revision > 0 ? revision : current;
    if (atRev > current) throw new MvccError('FutureRevision');
    if (atRev < compact) throw new MvccError('Compacted');
    const hash = await this.records.hash(atRev, compact, this.isLive);
    return { hash, revision: current, compactRevision: compact };
  }

  // --- leases: what the leader and the Lease API need beyond apply ---

  leaseTimeToLive(id: bigint, keys = false, now?: number): LeaseTimeToLive {
    this.usable();
    return this.lessor.timeToLive(id, keys, now);
  }

  leases(): bigint[] {
    this.usable();
    return this.lessor.list();
  }

  /** A keep-alive on the leader: answers the TTL, or throws LeaseNotFound. Not replicated. */
  renewLease(id: bigint, now?: number): number {
    this.usable();
    return this.lessor.renew(id, now);
  }

  /** Leases the leader should propose to revoke. */
  expiredLeases(now?: number): bigint[] {
    this.usable();
    return this.lessor.expired(now);
  }

  /** On becoming leader: every lease gets a full TTL from now (the old leader's keep-alives are unknown here). */
  resetLeaseExpiries(now?: number): void {
    this.usable();
    this.lessor.resetExpiries(now);
  }

  // --- snapshots ---

  /** The whole state at the applied index, taken between two batches. */
  snapshot(): Promise<MvccSnapshot> {
    return this.exclusive(async () => {
      this.usable();
      // Creating the iterator pins LevelDB's view now, with no batch in flight.
      const iterator = this.db.iterator();
      return { appliedIndex: this.applied, revision: this.committedRev, chunks: encodeSnapshot(iterator) };
    });
  }

  /**
   * Replaces the whole state with a snapshot's (a new or lagging member catching up). If the
   * snapshot is corrupt the store is left refusing service until a good one is restored.
   */
  restore(chunks: AsyncIterable<Uint8Array>): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) throw new MvccError('Closed');
      await this.compactor.abandon();
      await this.db.clear();
      await this.db.put(RESTORING_KEY, Buffer.of(1));
      this.failure = new MvccError('Corrupt', 'mvcc: snapshot restore in progress or failed');
      let batch: { type: 'put'; key: Buffer; value: Buffer }[] = [];
      for await (const [key, value] of decodeSnapshot(chunks)) {
        batch.push({ type: 'put', key, value });
        if (batch.length >= 1000) {
          await this.db.batch(batch);
          batch = [];
        }
      }
      await this.db.batch(batch);
      await this.db.del(RESTORING_KEY);
      const handedOut = this.hub.lastNotified;
      await this.load();
      this.failure = undefined;
      this.hub.resync(handedOut);
      this.wakeAppliedWaiters();
    });
  }

  /** Waits for queued applies, stops watchers and compaction, closes LevelDB. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.idle();
    for (const waiter of this.appliedWaiters.splice(0)) waiter.reject(new MvccError('Closed'));
    this.hub.closeAll();
    await this.compactor.abandon();
    await this.db.close();
  }

  /** Settles when every physical compaction started so far (including one resumed on open) is done. */
  whenCompacted(): Promise<void> {
    return this.compactor.idle();
  }

  /** For tests and metrics: physical compaction batches written so far. */
  get compactionBatches(): number {
    return this.compactor.batches;
  }

  // --- internals: the apply pipeline ---

  private enqueue(op: Operation | undefined, index: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new MvccError('Closed'));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'apply', op, index, resolve, reject });
      this.kick();
    });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ kind: 'exclusive', run: () => fn().then(resolve, reject) });
      this.kick();
    });
  }

  private kick(): void {
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0]!;
        if (head.kind === 'exclusive') {
          this.queue.shift();
          await head.run();
          continue;
        }
        const group: Extract<Queued, { kind: 'apply' }>[] = [];
        while (group.length < this.maxApplyBatch && this.queue[0]?.kind === 'apply') {
          group.push(this.queue.shift() as Extract<Queued, { kind: 'apply' }>);
        }
        if (this.failure) {
          for (const item of group) item.reject(this.failure);
          continue;
        }
        await this.applyGroup(group);
      }
    } finally {
      this.draining = false;
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private idle(): Promise<void> {
    if (!this.draining && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async applyGroup(group: Extract<Queued, { kind: 'apply' }>[]): Promise<void> {
    this.batch = [];
    const revisions: { revision: number; events: ChangeEvent[] }[] = [];
    const compactions: { revision: number; done: (physical: Promise<void>) => void }[] = [];
    const outcomes: Outcome[] = [];
    try {
      for (const item of group) {
        if (!(item.index > this.applied)) {
          const error = new Error(`mvcc: log index ${item.index} is not above the applied index ${this.applied}`);
          outcomes.push({ ok: false, error });
          continue;
        }
        try {
          const value = item.op ? await this.execute(item.op, item.index, revisions, compactions) : undefined;
          const after = item.op?.type === 'compact' && item.op.physical ? (value as CompactResult).physical : undefined;
          outcomes.push({ ok: true, value, after });
        } catch (err) {
          if (!(err instanceof MvccError)) throw err;
          outcomes.push({ ok: false, error: err });
        }
        this.applied = item.index;
      }
      this.batch.push({ type: 'put', key: APPLIED_KEY, value: encodeNumber(this.applied) });
      this.batch.push({ type: 'put', key: REVISION_KEY, value: encodeNumber(this.currentRev) });
      await this.db.batch(this.batch, { sync: this.sync });
    } catch (err) {
      // Memory is now ahead of disk: refuse everything; the process should restart and replay.
      this.failure = err instanceof Error ? err : new Error(String(err));
      for (const item of group) item.reject(this.failure);
      for (const waiter of this.appliedWaiters.splice(0)) waiter.reject(this.failure);
      for (const item of this.queue.splice(0)) {
        if (item.kind === 'apply') item.reject(this.failure);
        else void item.run();
      }
      return;
    } finally {
      this.batch = [];
    }

    // Committed: from here to the end nothing awaits, so readers see the whole batch at once.
    this.records.committed();
    this.committedRev = this.currentRev;
    for (const compaction of compactions) {
      this.index.compact(compaction.revision);
      this.visibleCompactRev = compaction.revision;
      compaction.done(this.compactor.schedule(compaction.revision));
    }
    for (const { revision, events } of revisions) this.hub.notify(revision, events);
    this.visibleApplied = this.applied;
    this.wakeAppliedWaiters();
    group.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (!outcome.ok) item.reject(outcome.error);
      else if (outcome.after) outcome.after.then(() => item.resolve(outcome.value), item.reject);
      else item.resolve(outcome.value);
    });
  }

  private async execute(
    op: Operation,
    index: number,
    revisions: { revision: number; events: ChangeEvent[] }[],
    compactions: { revision: number; done: (physical: Promise<void>) => void }[],
  ): Promise<unknown> {
    const write = async <T>(fn: (writer: RevisionWriter) => Promise<T> | T): Promise<T> => {
      const writer = new RevisionWriter(this.writerContext, this.currentRev + 1);
      let result: T;
      try {
        result = await fn(writer);
      } catch (err) {
        // Refusals are all decided before the first change; one after it would leave a
        // half-applied operation in memory, so it is a bug and must stop the store.
        if (writer.changed) {
          throw new Error(`mvcc: operation failed after changing state: ${(err as Error).message}`, { cause: err });
        }
        throw err;
      }
      if (writer.changed) {
        this.currentRev = writer.main;
        revisions.push({ revision: writer.main, events: writer.events });
      }
      return result;
    };
    switch (op.type) {
      case 'put':
        return write((w) => w.put(op.request));
      case 'deleteRange':
        return write((w) => w.deleteRange(op.request));
      case 'txn':
        return write((w) => w.txn(op.request));
      case 'compact': {
        if (op.revision <= this.compactRev) throw new MvccError('Compacted');
        if (op.revision > this.currentRev) throw new MvccError('FutureRevision');
        this.compactRev = op.revision;
        this.batch.push({ type: 'put', key: COMPACT_KEY, value: encodeNumber(op.revision) });
        let done!: (physical: Promise<void>) => void;
        const physical = new Promise<void>((resolve, reject) => {
          done = (p) => p.then(resolve, reject);
        });
        // Nobody may be awaiting it yet; a failure is reported through `physical` only.
        physical.catch(() => undefined);
        compactions.push({ revision: op.revision, done });
        return { revision: this.currentRev, physical };
      }
      case 'leaseGrant': {
        const ttl = this.lessor.effectiveTtl(op.request.ttl);
        const id = op.request.id && op.request.id !== 0n ? op.request.id : this.lessor.chooseId(index);
        this.lessor.grant(id, ttl);
        this.batch.push({ type: 'put', key: leaseKey(id), value: encodeLease(ttl) });
        return { revision: this.currentRev, id, ttl };
      }
      case 'leaseRevoke': {
        const lease = this.lessor.get(op.id);
        if (!lease) throw new MvccError('LeaseNotFound');
        const result = await write((w) => {
          w.revokeKeys([...lease.keys]);
          return { revision: w.revision };
        });
        this.lessor.remove(op.id);
        this.batch.push({ type: 'del', key: leaseKey(op.id) });
        return result;
      }
    }
  }

  // --- internals: loading ---

  private async load(): Promise<void> {
    if (await this.db.get(RESTORING_KEY)) {
      throw new MvccError('Corrupt', 'mvcc: an interrupted snapshot restore left this store incomplete; restore again');
    }
    const meta = async (key: Buffer, fallback: number) => {
      const value = await this.db.get(key);
      return value ? decodeNumber(value) : fallback;
    };
    this.applied = this.visibleApplied = await meta(APPLIED_KEY, 0);
    this.committedRev = this.currentRev = await meta(REVISION_KEY, FIRST_REVISION);
    this.compactRev = this.visibleCompactRev = await meta(COMPACT_KEY, 0);
    this.records.committed();

    this.index.clear();
    for await (const record of this.records.scan()) {
      const name = record.key.toString('latin1');
      if (record.tombstone) this.index.tombstone(name, record.rev);
      else {
        this.index.put(name, {
          rev: record.rev,
          createRevision: record.createRevision,
          version: record.version,
          lease: record.lease,
        });
      }
    }
    // Physical compaction may not have finished before the restart.
    if (this.compactRev > 0) this.index.compact(this.compactRev);

    this.lessor.clear();
    for await (const [key, value] of this.db.iterator({ gt: Buffer.of(LEASE_PREFIX), lt: Buffer.of(LEASE_PREFIX + 1) })) {
      this.lessor.load(parseLeaseKey(key), decodeLease(value));
    }
    for (const history of this.index.liveKeys()) {
      if (history.live!.lease !== 0n) this.lessor.attach(history.live!.lease, history.key);
    }
    this.hub.lastNotified = this.committedRev;

    if ((await readCompactDone(this.db)) < this.compactRev) void this.compactor.schedule(this.compactRev);
  }

  private wakeAppliedWaiters(): void {
    if (this.appliedWaiters.length === 0) return;
    const still: typeof this.appliedWaiters = [];
    for (const waiter of this.appliedWaiters) {
      if (waiter.index <= this.visibleApplied) waiter.resolve();
      else still.push(waiter);
    }
    this.appliedWaiters = still;
  }

  private usable(): void {
    if (this.closed) throw new MvccError('Closed');
    if (this.failure) throw this.failure;
  }
}
