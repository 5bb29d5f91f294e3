// LevelStorage: the Raft log, hard state and snapshot of one member in LevelDB
// (classic-level), with group commit: everything one Ready asks to persist goes into one
// batch, written with sync when the Ready says so. A LevelDB batch is atomic, so a crash
// leaves either all of a Ready's writes or none of them.
//
// The core reads Storage synchronously, so the log since the last compaction is also kept
// in memory (a MemoryStorage), as etcd keeps it beside its WAL; LevelDB is the durable
// copy, read only on open. The memory copy changes only after the batch that makes the
// same change on disk has been written.
//
// Memory holds no more than the log needs. An entry's data is copied to a buffer of its own
// size: data decoded from a peer's message or sliced from Node's buffer pool is a view that
// would otherwise keep the whole message or 8 KiB slab alive for as long as the entry stays
// (up to snapshotEvery + keepEntries entries). A snapshot's data, the whole state machine,
// stays on disk only: the host restores from what open() read and sends peers a snapshot
// it makes fresh, so the memory copy is the snapshot's metadata with empty data (the data
// open() read is kept only until the host calls releaseSnapshotData()).
//
// Layout (keys sort in log order; indexes are fixed-width big-endian):
//   'v'                      format version
//   'e' + uint64 BE index    one entry: type byte, uint64 BE term, data
//   'h'                      hard state: term, vote, commit (uint64 BE each)
//   's'                      snapshot metadata (JSON: index, term, voters, learners)
//   'd'                      snapshot data
//   'c'                      the compaction point: index and term of the last entry dropped
// Entries at or below the compaction point may linger (they are cleared after the point
// moves, not atomically with it); they are ignored on open and cleared by the next compaction.

import { ClassicLevel } from 'classic-level';
import { ConfState, HardState, MemoryStorage, type Entry, type InitialState, type Snapshot } from '@keel/raft';
import { RaftNodeError } from './errors';
import { applyToMemory, type DurableStorage, type StorageUpdate } from './storage';

const FORMAT_VERSION = '1';
const KEY_VERSION = Buffer.from('v');
const KEY_HARD_STATE = Buffer.from('h');
const KEY_SNAP_META = Buffer.from('s');
const KEY_SNAP_DATA = Buffer.from('d');
const KEY_COMPACTED = Buffer.from('c');
const ENTRY_PREFIX = 0x65; // 'e'
/** The data of a snapshot in memory: the real data is on disk (see the header). */
const NO_DATA = new Uint8Array(0);

/** The key of entry `index`: 'e' and the index as a big-endian uint64, so keys sort as indexes do. */
export function entryKey(index: number): Buffer {
  const key = Buffer.allocUnsafe(9);
  key[0] = ENTRY_PREFIX;
  key.writeBigUInt64BE(BigInt(index), 1);
  return key;
}

function encodeEntry(e: Entry): Buffer {
  const out = Buffer.allocUnsafe(9 + e.data.length);
  out[0] = e.type === 'confChange' ? 1 : 0;
  out.writeBigUInt64BE(BigInt(e.term), 1);
  out.set(e.data, 9);
  return out;
}

function decodeEntry(index: number, value: Buffer): Entry {
  if (value.length < 9) throw new Error(`entry ${index}: ${value.length} bytes, want at least 9`);
  const type = value[0] === 1 ? 'confChange' : 'normal';
  // Copy: the value buffer may be a slice of a larger one LevelDB reuses.
  return { index, term: Number(value.readBigUInt64BE(1)), type, data: new Uint8Array(value.subarray(9)) };
}

function encodeU64s(...values: number[]): Buffer {
  const out = Buffer.allocUnsafe(8 * values.length);
  values.forEach((v, i) => out.writeBigUInt64BE(BigInt(v), 8 * i));
  return out;
}

function decodeU64s(value: Buffer, count: number, what: string): number[] {
  if (value.length !== 8 * count) throw new Error(`${what}: ${value.length} bytes, want ${8 * count}`);
  return Array.from({ length: count }, (_, i) => Number(value.readBigUInt64BE(8 * i)));
}

interface SnapMeta {
  index: number;
  term: number;
  voters: number[];
  learners: number[];
}

type Op = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

export class LevelStorage implements DurableStorage {
  readonly stats = { writes: 0, syncedWrites: 0 };
  /** The last entry dropped by compaction (or covered by an installed snapshot). */
  private compacted: { index: number; term: number };
  /** A hard state whose only change was the commit index, not written yet (see save). */
  private pendingHardState: HardState | undefined;

  private constructor(
    readonly db: ClassicLevel<Buffer, Buffer>,
    private readonly mem: MemoryStorage,
    compacted: { index: number; term: number },
    /** The snapshot open() read, with its data, until the host has restored from it. */
    private opened: Snapshot | undefined,
  ) {
    this.compacted = compacted;
  }

  /** Opens (creating if needed) the storage in `dir` and loads the log into memory. */
  static async open(dir: string): Promise<LevelStorage> {
    const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    try {
      await db.open();
      const loaded = await load(db);
      return new LevelStorage(db, loaded.mem, loaded.compacted, loaded.snapshot.data.byteLength > 0 ? loaded.snapshot : undefined);
    } catch (e) {
      await db.close().catch(() => undefined);
      if (e instanceof RaftNodeError) throw e;
      throw new RaftNodeError('storage', `cannot open raft storage in ${dir}: ${(e as Error).message}`, { cause: e });
    }
  }

  // ---- Storage (read by the core; answered from memory) ----------------------------------

  initialState(): InitialState {
    return this.mem.initialState();
  }
  entries(lo: number, hi: number, maxSize: number): Entry[] {
    return this.mem.entries(lo, hi, maxSize);
  }
  term(i: number): number {
    return this.mem.term(i);
  }
  lastIndex(): number {
    return this.mem.lastIndex();
  }
  firstIndex(): number {
    return this.mem.firstIndex();
  }
  snapshot(): Snapshot {
    return this.opened ?? this.mem.snapshot();
  }

  releaseSnapshotData(): void {
    this.opened = undefined;
  }

  // ---- DurableStorage ---------------------------------------------------------------------

  async save(update: StorageUpdate, sync: boolean): Promise<void> {
    const ops: Op[] = [];
    let last = this.mem.lastIndex();
    let compacted = this.compacted;
    const snap = update.snapshot;
    if (snap) {
      // A snapshot from the leader replaces the whole log: entries past it go in this
      // batch; those it covers are below the new compaction point, cleared after.
      ops.push(...snapshotOps(snap));
      for (let i = Math.max(this.mem.firstIndex(), snap.metadata.index + 1); i <= last; i++) ops.push({ type: 'del', key: entryKey(i) });
      compacted = { index: snap.metadata.index, term: snap.metadata.term };
      ops.push({ type: 'put', key: KEY_COMPACTED, value: encodeU64s(compacted.index, compacted.term) });
      last = compacted.index;
    }
    if (update.entries.length > 0) {
      for (const e of update.entries) {
        if (e.index > compacted.index) ops.push({ type: 'put', key: entryKey(e.index), value: encodeEntry(e) });
      }
      // A new leader's entries replace a conflicting tail: entries past the new last go too.
      const newLast = update.entries[update.entries.length - 1].index;
      for (let i = Math.max(newLast + 1, compacted.index + 1); i <= last; i++) ops.push({ type: 'del', key: entryKey(i) });
    }
    if (ops.length === 0 && !sync && update.hardState) {
      // Only the commit index moved (a new term or vote always comes with sync): it can be
      // learned again from the leader, so it rides along with the next write instead of
      // costing one of its own on the commit path.
      this.pendingHardState = update.hardState;
      applyToMemory(this.mem, this.trimmed(update));
      return;
    }
    const hs = update.hardState ?? this.pendingHardState;
    if (hs) ops.push({ type: 'put', key: KEY_HARD_STATE, value: encodeU64s(hs.term, hs.vote, hs.commit) });
    if (ops.length === 0) return;
    await this.write(ops, sync);
    this.pendingHardState = undefined;
    this.compacted = compacted;
    applyToMemory(this.mem, this.trimmed(update));
    if (snap) {
      this.opened = undefined;
      await this.clearThrough(snap.metadata.index);
    }
  }

  /** What the memory copy keeps of an update: entries in buffers of their own, snapshots without data. */
  private trimmed(update: StorageUpdate): StorageUpdate {
    const { snapshot, entries } = update;
    if (!snapshot && entries.every((e) => e.data.byteLength === e.data.buffer.byteLength)) return update;
    return {
      ...update,
      ...(snapshot ? { snapshot: { ...snapshot, data: NO_DATA } } : {}),
      entries: entries.map((e) => (e.data.byteLength === e.data.buffer.byteLength ? e : { ...e, data: new Uint8Array(e.data) })),
    };
  }

  async createSnapshot(i: number, confState: ConfState, data: Uint8Array): Promise<Snapshot> {
    const snap: Snapshot = { data, metadata: { index: i, term: this.mem.term(i), confState } };
    if (i <= this.mem.snapshot().metadata.index || i > this.mem.lastIndex()) {
      throw new RaftNodeError('invalid', `cannot snapshot at ${i}: the snapshot is at ${this.mem.snapshot().metadata.index}, the log ends at ${this.mem.lastIndex()}`);
    }
    // With the latest hard state: on reopen the commit index must not be behind the snapshot.
    await this.write([...snapshotOps(snap), ...this.takePendingHardState()], true);
    this.mem.createSnapshot(i, confState, NO_DATA);
    this.opened = undefined;
    return snap;
  }

  async compact(compactIndex: number): Promise<void> {
    const snapIndex = this.mem.snapshot().metadata.index;
    if (compactIndex > snapIndex) {
      throw new RaftNodeError('invalid', `cannot compact to ${compactIndex}: past the snapshot at ${snapIndex}`);
    }
    if (compactIndex <= this.compacted.index) return;
    const term = this.mem.term(compactIndex);
    // The compaction point first (not synced: if lost, the entries are still there), then
    // the entries at or below it, by range in LevelDB itself rather than key by key. Entries
    // left behind by a crash in between are below the point: ignored, and cleared next time.
    await this.write([{ type: 'put', key: KEY_COMPACTED, value: encodeU64s(compactIndex, term) }], false);
    this.compacted = { index: compactIndex, term };
    this.mem.compact(compactIndex);
    await this.clearThrough(compactIndex);
  }

  /** Deletes every entry key at or below `index`. */
  private async clearThrough(index: number): Promise<void> {
    try {
      await this.db.clear({ gte: entryKey(0), lte: entryKey(index) });
    } catch (e) {
      throw new RaftNodeError('storage', `raft storage compaction failed: ${(e as Error).message}`, { cause: e });
    }
  }

  async close(): Promise<void> {
    const ops = this.takePendingHardState();
    if (ops.length > 0) await this.write(ops, true).catch(() => undefined);
    await this.db.close();
  }

  /** The put of a hard state not written yet (see save), if any, which the caller must write. */
  private takePendingHardState(): Op[] {
    const hs = this.pendingHardState;
    this.pendingHardState = undefined;
    return hs ? [{ type: 'put', key: KEY_HARD_STATE, value: encodeU64s(hs.term, hs.vote, hs.commit) }] : [];
  }

  private async write(ops: Op[], sync: boolean): Promise<void> {
    this.stats.writes++;
    if (sync) this.stats.syncedWrites++;
    try {
      await this.db.batch(ops, { sync });
    } catch (e) {
      throw new RaftNodeError('storage', `raft storage write failed: ${(e as Error).message}`, { cause: e });
    }
  }
}

function snapshotOps(snap: Snapshot): Op[] {
  const meta: SnapMeta = {
    index: snap.metadata.index,
    term: snap.metadata.term,
    voters: [...snap.metadata.confState.voters],
    learners: [...snap.metadata.confState.learners],
  };
  return [
    { type: 'put', key: KEY_SNAP_META, value: Buffer.from(JSON.stringify(meta)) },
    { type: 'put', key: KEY_SNAP_DATA, value: Buffer.from(snap.data.buffer, snap.data.byteOffset, snap.data.byteLength) },
  ];
}

/** Reads the whole state back: snapshot, compaction point, entries after it, hard state. */
async function load(db: ClassicLevel<Buffer, Buffer>): Promise<{ mem: MemoryStorage; compacted: { index: number; term: number }; snapshot: Snapshot }> {
  const version = await db.get(KEY_VERSION);
  if (version === undefined) {
    await db.put(KEY_VERSION, Buffer.from(FORMAT_VERSION), { sync: true });
  } else if (version.toString() !== FORMAT_VERSION) {
    throw new RaftNodeError('storage', `raft storage format ${version.toString()} is not ${FORMAT_VERSION}`);
  }

  const metaRaw = await db.get(KEY_SNAP_META);
  const meta: SnapMeta = metaRaw ? (JSON.parse(metaRaw.toString()) as SnapMeta) : { index: 0, term: 0, voters: [], learners: [] };
  const confState: ConfState = { voters: meta.voters, learners: meta.learners };
  const data = new Uint8Array((await db.get(KEY_SNAP_DATA)) ?? new Uint8Array(0));
  const snapshot: Snapshot = { data, metadata: { index: meta.index, term: meta.term, confState } };
  const compactedRaw = await db.get(KEY_COMPACTED);
  const [cIndex, cTerm] = compactedRaw ? decodeU64s(compactedRaw, 2, 'compaction point') : [meta.index, meta.term];
  if (cIndex > meta.index) throw new RaftNodeError('storage', `raft storage: compacted to ${cIndex}, past the snapshot at ${meta.index}`);

  const mem = new MemoryStorage({ confState });
  if (cIndex === meta.index) {
    if (meta.index > 0) mem.applySnapshot({ ...snapshot, data: NO_DATA });
  } else {
    // Entries between the compaction point and the snapshot were kept for slow followers:
    // start the log at the compaction point, then record the snapshot over it.
    mem.applySnapshot({ data: new Uint8Array(0), metadata: { index: cIndex, term: cTerm, confState } });
  }

  const entries: Entry[] = [];
  let expect = cIndex + 1;
  for await (const [key, value] of db.iterator({ gt: entryKey(cIndex), lt: entryKey(Number.MAX_SAFE_INTEGER) })) {
    const index = Number(key.readBigUInt64BE(1));
    if (index !== expect) throw new RaftNodeError('storage', `raft storage: entry ${expect} is missing (found ${index})`);
    entries.push(decodeEntry(index, value));
    expect++;
  }
  mem.append(entries);
  if (cIndex < meta.index) {
    if (meta.index > mem.lastIndex()) {
      throw new RaftNodeError('storage', `raft storage: snapshot at ${meta.index} but the log ends at ${mem.lastIndex()}`);
    }
    mem.createSnapshot(meta.index, confState, NO_DATA);
  }

  const hsRaw = await db.get(KEY_HARD_STATE);
  if (hsRaw) {
    const [term, vote, commit] = decodeU64s(hsRaw, 3, 'hard state');
    mem.setHardState({ term, vote, commit });
  } else {
    mem.setHardState(HardState.empty);
  }
  return { mem, compacted: { index: cIndex, term: cTerm }, snapshot };
}
