// MemoryStorage, the reference Storage: the range each method accepts, the named errors
// outside it, and how snapshots and compaction move the first index.

import { describe, expect, it } from 'vitest';
import { ErrCompacted, ErrSnapOutOfDate, ErrUnavailable, MemoryStorage, entrySize, limitSize, type Entry } from './index';

function ents(...pairs: [term: number, index: number][]): Entry[] {
  return pairs.map(([term, index]) => ({ term, index, type: 'normal', data: new Uint8Array(0) }));
}

/** A storage whose log is compacted to (3, 3) and holds entries 4 and 5. */
function storage345(): MemoryStorage {
  const s = new MemoryStorage();
  s.append(ents([1, 1], [2, 2], [3, 3], [4, 4], [5, 5]));
  s.createSnapshot(3, { voters: [1], learners: [] }, new Uint8Array([9]));
  s.compact(3);
  return s;
}

describe('MemoryStorage', () => {
  it('term(i) answers from the snapshot index on, and names what it cannot answer', () => {
    const s = storage345();
    expect(() => s.term(2)).toThrow(ErrCompacted);
    expect(s.term(3)).toBe(3);
    expect(s.term(5)).toBe(5);
    expect(() => s.term(6)).toThrow(ErrUnavailable);
  });

  it('entries(lo, hi) returns [lo, hi) after the snapshot, limited by size but never empty', () => {
    const s = storage345();
    expect(() => s.entries(3, 5, Infinity)).toThrow(ErrCompacted);
    expect(s.entries(4, 6, Infinity).map((e) => e.index)).toEqual([4, 5]);
    expect(s.entries(4, 6, 0).map((e) => e.index)).toEqual([4]);
    expect(s.entries(4, 6, 2 * entrySize(ents([4, 4])[0]!)).map((e) => e.index)).toEqual([4, 5]);
    expect(() => s.entries(4, 7, Infinity)).toThrow(/out of bound/);
  });

  it('first and last index follow the snapshot and the entries', () => {
    const s = storage345();
    expect(s.firstIndex()).toBe(4);
    expect(s.lastIndex()).toBe(5);
    expect(s.snapshot().metadata).toEqual({ index: 3, term: 3, confState: { voters: [1], learners: [] } });
  });

  it('compact drops entries up to the index; compacting the past is an error', () => {
    const s = storage345();
    expect(() => s.compact(3)).toThrow(ErrCompacted);
    s.compact(4);
    expect(s.firstIndex()).toBe(5);
    expect(s.term(4)).toBe(4);
    expect(() => s.compact(9)).toThrow(/out of bound/);
  });

  it('append replaces a conflicting suffix, extends a matching log, and skips compacted entries', () => {
    const s = storage345();
    s.append(ents([6, 5], [6, 6]));
    expect(s.entries(4, 7, Infinity).map((e) => `${e.term}/${e.index}`)).toEqual(['4/4', '6/5', '6/6']);
    s.append(ents([1, 1], [2, 2], [3, 3], [4, 4]));
    // Only what is after the snapshot counts; entry 4 is rewritten and the rest truncated.
    expect(s.lastIndex()).toBe(4);
    expect(() => s.append(ents([7, 9]))).toThrow(/missing log entry/);
  });

  it('applySnapshot replaces everything; an older snapshot is refused', () => {
    const s = storage345();
    s.applySnapshot({ data: new Uint8Array(0), metadata: { index: 10, term: 7, confState: { voters: [1, 2], learners: [] } } });
    expect(s.firstIndex()).toBe(11);
    expect(s.lastIndex()).toBe(10);
    expect(s.term(10)).toBe(7);
    expect(s.initialState().confState.voters).toEqual([1, 2]);
    expect(() => s.applySnapshot({ data: new Uint8Array(0), metadata: { index: 9, term: 7, confState: { voters: [], learners: [] } } })).toThrow(
      ErrSnapOutOfDate,
    );
  });

  it('createSnapshot records the term of its index and refuses to go backwards', () => {
    const s = storage345();
    expect(() => s.createSnapshot(3, { voters: [1], learners: [] }, new Uint8Array(0))).toThrow(ErrSnapOutOfDate);
    const snap = s.createSnapshot(5, { voters: [1], learners: [] }, new Uint8Array([1]));
    expect(snap.metadata).toMatchObject({ index: 5, term: 5 });
  });

  it('keeps the hard state it is given', () => {
    const s = new MemoryStorage({ confState: { voters: [1, 2, 3], learners: [] } });
    expect(s.initialState().hardState).toEqual({ term: 0, vote: 0, commit: 0 });
    s.setHardState({ term: 3, vote: 2, commit: 0 });
    expect(s.initialState()).toEqual({ hardState: { term: 3, vote: 2, commit: 0 }, confState: { voters: [1, 2, 3], learners: [] } });
  });
});

describe('limitSize', () => {
  it('keeps at least one entry and stops before the limit is exceeded', () => {
    const es = ents([1, 1], [1, 2], [1, 3]);
    const one = entrySize(es[0]!);
    expect(limitSize(es, 0)).toHaveLength(1);
    expect(limitSize(es, one)).toHaveLength(1);
    expect(limitSize(es, 2 * one)).toHaveLength(2);
    expect(limitSize(es, Infinity)).toHaveLength(3);
  });
});
