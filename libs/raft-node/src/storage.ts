// DurableStorage: the write side that libs/raft's read-only Storage leaves to the
// application. The host hands it what one Ready asks to persist and awaits one write;
// implementations make that write atomic (all of it or none of it survives a crash) and,
// when `sync` is set, durable before the promise resolves. After the write the new state
// is visible through the Storage methods the core reads.
//
// MemoryDurableStorage is the in-memory reference, for deterministic host tests: it
// counts writes so a test can check group commit without a disk.

import { MemoryStorage, type ConfState, type Entry, type HardState, type InitialState, type Snapshot, type Storage } from '@keel/raft';

/** What one Ready asks to persist, written as one atomic unit. */
export interface StorageUpdate {
  readonly hardState?: HardState;
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot;
}

export interface DurableStorage extends Storage {
  /**
   * Persists a snapshot (replacing the whole log), then entries (replacing stored entries
   * from the first one's index on), then the hard state, all in one atomic write; synced
   * to disk before resolving when `sync` is set.
   */
  save(update: StorageUpdate, sync: boolean): Promise<void>;
  /** Records the application's snapshot as of applied index i, so the log before it can be compacted. */
  createSnapshot(i: number, confState: ConfState, data: Uint8Array): Promise<Snapshot>;
  /** Drops the entries before compactIndex (which must not pass the latest snapshot). */
  compact(compactIndex: number): Promise<void>;
  /**
   * Forgets the memory copy of the snapshot's data once the host has restored from it at
   * start (storages that keep it on disk; the host sends peers fresh snapshots).
   */
  releaseSnapshotData?(): void;
  /** How many writes (save, createSnapshot, compact) went to the medium, and how many were synced. */
  readonly stats: { writes: number; syncedWrites: number };
  close(): Promise<void>;
}

/** Applies a StorageUpdate to a MemoryStorage, in the order of the Ready contract. */
export function applyToMemory(mem: MemoryStorage, update: StorageUpdate): void {
  if (update.snapshot) mem.applySnapshot(update.snapshot);
  if (update.entries.length > 0) mem.append(update.entries);
  if (update.hardState) mem.setHardState(update.hardState);
}

/** A DurableStorage kept in memory: for tests of the host, where "durable" means "in this object". */
export class MemoryDurableStorage implements DurableStorage {
  readonly mem: MemoryStorage;
  readonly stats = { writes: 0, syncedWrites: 0 };

  constructor(init: { confState?: ConfState } = {}) {
    this.mem = new MemoryStorage(init);
  }

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
    return this.mem.snapshot();
  }

  async save(update: StorageUpdate, sync: boolean): Promise<void> {
    this.count(sync);
    applyToMemory(this.mem, update);
  }

  async createSnapshot(i: number, confState: ConfState, data: Uint8Array): Promise<Snapshot> {
    this.count(true);
    return this.mem.createSnapshot(i, confState, data);
  }

  async compact(compactIndex: number): Promise<void> {
    this.count(false);
    this.mem.compact(compactIndex);
  }

  async close(): Promise<void> {
    // Nothing to release: the contents live as long as this object.
  }

  private count(sync: boolean): void {
    this.stats.writes++;
    if (sync) this.stats.syncedWrites++;
  }
}
