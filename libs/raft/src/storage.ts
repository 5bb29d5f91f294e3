// The Storage interface the core reads its stable log through, and MemoryStorage, the
// reference implementation kept in memory. The core never writes to Storage: the
// application persists what Ready hands it (entries, hard state, snapshot) and then makes
// it visible here. MemoryStorage keeps a dummy entry at position 0 that stands for the
// last entry covered by the snapshot, so the term of the snapshot's index is always known.

import { ErrCompacted, ErrSnapOutOfDate, ErrUnavailable } from './errors';
import { ConfState, HardState, Snapshot, type Entry } from './types';

/** The state the core starts from after a (re)start. */
export interface InitialState {
  readonly hardState: HardState;
  readonly confState: ConfState;
}

/**
 * The core's read access to the stable log. Methods throw the named StorageErrors
 * (ErrCompacted, ErrUnavailable, ErrSnapshotTemporarilyUnavailable); any other throw is
 * treated as fatal.
 */
export interface Storage {
  /** The persisted hard state and membership. */
  initialState(): InitialState;
  /**
   * Entries in [lo, hi). At least one entry is returned if any is in range; further
   * entries only while their total size stays within maxSize.
   */
  entries(lo: number, hi: number, maxSize: number): Entry[];
  /** The term of entry i, for i in [firstIndex()-1, lastIndex()]. */
  term(i: number): number;
  lastIndex(): number;
  /** The first index still available as an entry (the snapshot covers everything before). */
  firstIndex(): number;
  /** The most recent snapshot; may throw ErrSnapshotTemporarilyUnavailable. */
  snapshot(): Snapshot;
}

/** The size an entry counts for in maxSizePerMsg: its data plus a fixed overhead. */
export function entrySize(e: Entry): number {
  return e.data.length + 16;
}

/** The longest prefix of `entries` (at least one) whose total size is within maxSize. */
export function limitSize(entries: Entry[], maxSize: number): Entry[] {
  if (entries.length === 0) return entries;
  let size = entrySize(entries[0]);
  let n = 1;
  for (; n < entries.length; n++) {
    size += entrySize(entries[n]);
    if (size > maxSize) break;
  }
  return n === entries.length ? entries : entries.slice(0, n);
}

export class MemoryStorage implements Storage {
  private hardState: HardState = HardState.empty;
  private snap: Snapshot;
  // ents[0] is the dummy entry for the snapshot's (index, term); real entries follow.
  private ents: Entry[];

  /**
   * An empty storage. Give `confState` to bootstrap a new group: every founding member
   * starts with the same membership at index 0.
   */
  constructor(init: { confState?: ConfState } = {}) {
    this.snap = { data: new Uint8Array(0), metadata: { confState: init.confState ?? ConfState.empty, index: 0, term: 0 } };
    this.ents = [{ term: 0, index: 0, type: 'normal', data: new Uint8Array(0) }];
  }

  initialState(): InitialState {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    const offset = this.ents[0].index;
    if (lo <= offset) throw ErrCompacted;
    if (hi > this.lastIndex() + 1) {
      throw new Error(`entries' hi(${hi}) is out of bound lastIndex(${this.lastIndex()})`);
    }
    if (this.ents.length === 1) throw ErrUnavailable;
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSize);
  }

  term(i: number): number {
    const offset = this.ents[0].index;
    if (i < offset) throw ErrCompacted;
    if (i - offset >= this.ents.length) throw ErrUnavailable;
    return this.ents[i - offset].term;
  }

  lastIndex(): number {
    return this.ents[0].index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0].index + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole contents with a snapshot (one received from the leader). */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw ErrSnapOutOfDate;
    this.snap = snap;
    this.ents = [{ term: snap.metadata.term, index: snap.metadata.index, type: 'normal', data: new Uint8Array(0) }];
  }

  /**
   * Records a snapshot of the application's state as of index i (which must be applied),
   * so that compact() may then drop the entries it covers.
   */
  createSnapshot(i: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw ErrSnapOutOfDate;
    if (i > this.lastIndex()) throw new Error(`snapshot ${i} is out of bound lastIndex(${this.lastIndex()})`);
    const offset = this.ents[0].index;
    this.snap = { data, metadata: { index: i, term: this.ents[i - offset].term, confState } };
    return this.snap;
  }

  /** Drops the entries before compactIndex; the entry at compactIndex becomes the dummy. */
  compact(compactIndex: number): void {
    const offset = this.ents[0].index;
    if (compactIndex <= offset) throw ErrCompacted;
    if (compactIndex > this.lastIndex()) {
      throw new Error(`compact ${compactIndex} is out of bound lastIndex(${this.lastIndex()})`);
    }
    const dummy = this.ents[compactIndex - offset];
    this.ents = [{ term: dummy.term, index: dummy.index, type: 'normal', data: new Uint8Array(0) }, ...this.ents.slice(compactIndex - offset + 1)];
  }

  /**
   * Appends entries that must be contiguous; entries overlapping the stored log replace
   * the stored ones from the first overlap on (a follower's log being corrected), and
   * entries already compacted away are skipped.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[entries.length - 1].index;
    if (last < first) return;
    // Skip what is already covered by the snapshot.
    const toAppend = first > entries[0].index ? entries.slice(first - entries[0].index) : entries;
    const offset = toAppend[0].index - this.ents[0].index;
    if (offset > this.ents.length) {
      throw new Error(`missing log entry [last: ${this.lastIndex()}, append at: ${toAppend[0].index}]`);
    }
    // Truncate in place and push: appends are the hot path and must not copy the log.
    this.ents.length = offset;
    for (const e of toAppend) this.ents.push(e);
  }
}
