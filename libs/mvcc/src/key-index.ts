// The in-memory index, like etcd's treeIndex: for every key, the revisions at which it
// changed (tombstones marked), so a read at any revision finds each key's record without
// scanning history, and compaction knows which records still matter. It also holds each
// key's newest state (create revision, version, lease), so a put needs no disk read.
// It is rebuilt from the records on open; LevelDB holds the truth.
import { inSpan, type Span } from './key-range';
import type { Revision } from './types';

export interface IndexRev extends Revision {
  tombstone: boolean;
}

export interface LiveState {
  rev: Revision;
  createRevision: number;
  version: number;
  lease: bigint;
}

export interface KeyHistory {
  key: string;
  /** Ascending; at most one entry per main revision. */
  revs: IndexRev[];
  /** The newest state, or undefined once deleted. */
  live: LiveState | undefined;
}

export class KeyIndex {
  /** Sorted ascending; keys leave only when compaction empties their history. */
  private keys: string[] = [];
  private histories = new Map<string, KeyHistory>();

  get size(): number {
    return this.keys.length;
  }

  get(key: string): KeyHistory | undefined {
    return this.histories.get(key);
  }

  /** Records a put of `key` at `rev`, with its new state. */
  put(key: string, live: LiveState): void {
    const history = this.history(key);
    history.revs.push({ main: live.rev.main, sub: live.rev.sub, tombstone: false });
    history.live = live;
  }

  /** Records a delete of a live key at `rev`. */
  tombstone(key: string, rev: Revision): void {
    const history = this.history(key);
    history.revs.push({ main: rev.main, sub: rev.sub, tombstone: true });
    history.live = undefined;
  }

  /** The key's revision visible at main revision `atRev`, unless absent or deleted then. */
  visibleAt(history: KeyHistory, atRev: number): IndexRev | undefined {
    const i = lastAtOrBefore(history.revs, atRev);
    if (i < 0) return undefined;
    const rev = history.revs[i]!;
    return rev.tombstone ? undefined : rev;
  }

  /** Whether the record at `rev` is still part of the history (not compacted away). */
  has(key: string, rev: Revision): boolean {
    const history = this.histories.get(key);
    if (!history) return false;
    // A nested txn may put and then delete one key within one main revision: look at every
    // entry of that main revision, not only the last.
    for (let i = lastAtOrBefore(history.revs, rev.main); i >= 0 && history.revs[i]!.main === rev.main; i--) {
      if (history.revs[i]!.sub === rev.sub) return true;
    }
    return false;
  }

  /** Calls `fn` for each key in the span, in key order, until it returns false. */
  visit(span: Span, fn: (history: KeyHistory) => boolean | void): void {
    if (span.single) {
      const history = this.histories.get(span.start);
      if (history) fn(history);
      return;
    }
    for (let i = lowerBound(this.keys, span.start); i < this.keys.length; i++) {
      const key = this.keys[i]!;
      if (!inSpan(span, key)) break;
      if (fn(this.histories.get(key)!) === false) break;
    }
  }

  /** Keys with a live state now (for rebuilding lease attachments). */
  *liveKeys(): Iterable<KeyHistory> {
    for (const key of this.keys) {
      const history = this.histories.get(key)!;
      if (history.live) yield history;
    }
  }

  /**
   * Drops every revision superseded at `atRev`: per key, all revisions before the last one
   * at or before `atRev`, and that one too if it is a tombstone (etcd keeps no tombstone at
   * the compact revision). Keys with nothing left leave the index.
   */
  compact(atRev: number): void {
    let emptied = false;
    for (const history of this.histories.values()) {
      const i = lastAtOrBefore(history.revs, atRev);
      if (i < 0) continue;
      const drop = history.revs[i]!.tombstone ? i + 1 : i;
      if (drop > 0) history.revs.splice(0, drop);
      if (history.revs.length === 0) {
        this.histories.delete(history.key);
        emptied = true;
      }
    }
    if (emptied) this.keys = this.keys.filter((key) => this.histories.has(key));
  }

  clear(): void {
    this.keys = [];
    this.histories.clear();
  }

  private history(key: string): KeyHistory {
    let history = this.histories.get(key);
    if (!history) {
      history = { key, revs: [], live: undefined };
      this.histories.set(key, history);
      const at = lowerBound(this.keys, key);
      this.keys.splice(at, 0, key);
    }
    return history;
  }
}

/** Index of the first element >= key. */
function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the last revision with main <= atRev, or -1. */
function lastAtOrBefore(revs: IndexRev[], atRev: number): number {
  let lo = 0;
  let hi = revs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (revs[mid]!.main <= atRev) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
