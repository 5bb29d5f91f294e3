// RaftLog and Unstable: conflict detection, the follower's append, fast back-tracking's
// findConflictByTerm, the up-to-date comparison, and the stable/unstable hand-over.

import { describe, expect, it } from 'vitest';
import { ErrCompacted, MemoryStorage, NO_LIMIT, RaftLog, Unstable, discardLogger, type Entry } from './index';

function ents(...pairs: [term: number, index: number][]): Entry[] {
  return pairs.map(([term, index]) => ({ term, index, type: 'normal', data: new Uint8Array(0) }));
}

function logWith(...pairs: [number, number][]): RaftLog {
  const log = new RaftLog(new MemoryStorage(), discardLogger);
  log.append(ents(...pairs));
  return log;
}

const terms = (log: RaftLog) => log.allEntries().map((e) => e.term);

describe('RaftLog', () => {
  it.each<[string, [number, number][], number]>([
    ['nothing new', [], 0],
    ['all present', [[1, 1], [2, 2], [3, 3]], 0],
    ['suffix present', [[2, 2], [3, 3]], 0],
    ['new after the end', [[1, 1], [2, 2], [3, 3], [4, 4], [4, 5]], 4],
    ['new from the end', [[4, 4], [4, 5]], 4],
    ['conflict at the start', [[4, 1], [4, 2]], 1],
    ['conflict in the middle', [[1, 2], [4, 3], [4, 4]], 2],
  ])('findConflict: %s', (_, given, want) => {
    const log = logWith([1, 1], [2, 2], [3, 3]);
    expect(log.findConflict(ents(...given))).toBe(want);
  });

  it('maybeAppend refuses when the preceding entry does not match, and never commits past the new entries', () => {
    const log = logWith([1, 1], [2, 2], [3, 3]);
    expect(log.maybeAppend(3, 2, 3, ents([4, 4]))).toBeUndefined();
    expect(log.maybeAppend(4, 3, 3, ents([4, 5]))).toBeUndefined();
    expect(log.maybeAppend(3, 3, 10, ents([4, 4]))).toBe(4);
    expect(log.committed).toBe(4);
    // An old append that matches: accepted, and commit never goes back.
    expect(log.maybeAppend(1, 1, 4, ents([2, 2]))).toBe(2);
    expect(log.committed).toBe(4);
    expect(log.lastIndex()).toBe(4);
  });

  it('a conflicting append below the commit index is a fatal inconsistency', () => {
    const log = logWith([1, 1], [2, 2], [3, 3]);
    log.commitTo(2);
    expect(() => log.maybeAppend(1, 1, 3, ents([4, 2]))).toThrow(/conflicts with committed/);
  });

  it.each<[number, number, [number, number]]>([
    // log terms: 1 1 2 2 2 5 5 (indexes 1..7)
    [7, 5, [7, 5]],
    [7, 4, [5, 2]],
    [7, 2, [5, 2]],
    [7, 1, [2, 1]],
    [4, 1, [2, 1]],
    [7, 0, [0, 0]],
  ])('findConflictByTerm(%i, %i) = %j: the last index at or before it with a term no greater', (index, term, want) => {
    const log = logWith([1, 1], [1, 2], [2, 3], [2, 4], [2, 5], [5, 6], [5, 7]);
    expect(log.findConflictByTerm(index, term)).toEqual(want);
  });

  it('isUpToDate compares the last term, then the last index (§5.4.1)', () => {
    const log = logWith([1, 1], [2, 2], [3, 3]);
    expect(log.isUpToDate(3, 3)).toBe(true);
    expect(log.isUpToDate(2, 3)).toBe(false);
    expect(log.isUpToDate(4, 3)).toBe(true);
    expect(log.isUpToDate(1, 4)).toBe(true);
    expect(log.isUpToDate(10, 2)).toBe(false);
  });

  it('maybeCommit commits only an entry of the given term', () => {
    const log = logWith([1, 1], [2, 2], [3, 3]);
    expect(log.maybeCommit(2, 3)).toBe(false);
    expect(log.committed).toBe(0);
    expect(log.maybeCommit(3, 3)).toBe(true);
    expect(log.committed).toBe(3);
  });

  it('hands out committed entries once applied moves, and reads through storage and the unstable part alike', () => {
    const storage = new MemoryStorage();
    storage.append(ents([1, 1], [1, 2]));
    const log = new RaftLog(storage, discardLogger);
    log.append(ents([2, 3], [2, 4]));
    expect(log.slice(1, 5, NO_LIMIT).map((e) => e.index)).toEqual([1, 2, 3, 4]);
    log.commitTo(3);
    expect(log.nextCommittedEntries().map((e) => e.index)).toEqual([1, 2, 3]);
    log.appliedTo(2);
    expect(log.nextCommittedEntries().map((e) => e.index)).toEqual([3]);
    expect(() => log.appliedTo(4)).toThrow(/out of range/);
  });

  it('term() of a compacted index is ErrCompacted; termOrZero turns it into 0', () => {
    const storage = new MemoryStorage();
    storage.append(ents([1, 1], [1, 2], [2, 3]));
    storage.createSnapshot(2, { voters: [1], learners: [] }, new Uint8Array(0));
    storage.compact(2);
    const log = new RaftLog(storage, discardLogger);
    expect(() => log.term(1)).toThrow(ErrCompacted);
    expect(log.termOrZero(1)).toBe(0);
    expect(log.term(2)).toBe(1);
    expect(log.term(3)).toBe(2);
    expect(log.term(4)).toBe(0);
    expect(terms(log)).toEqual([2]);
  });

  it('restore() moves commit to the snapshot and empties the unstable entries', () => {
    const log = logWith([1, 1], [1, 2]);
    log.restore({ data: new Uint8Array(0), metadata: { index: 10, term: 3, confState: { voters: [1], learners: [] } } });
    expect(log.committed).toBe(10);
    expect(log.firstIndex()).toBe(11);
    expect(log.lastIndex()).toBe(10);
    expect(log.term(10)).toBe(3);
    expect(log.nextCommittedEntries()).toEqual([]);
  });
});

describe('Unstable', () => {
  it('stableTo forgets entries only if the term still matches (they may have been replaced since)', () => {
    const u = new Unstable(5);
    u.truncateAndAppend(ents([1, 5], [1, 6], [1, 7]));
    u.stableTo(6, 2);
    expect(u.offset).toBe(5);
    u.stableTo(6, 1);
    expect(u.offset).toBe(7);
    expect(u.entries.map((e) => e.index)).toEqual([7]);
  });

  it('truncateAndAppend appends, replaces a suffix, or replaces everything', () => {
    const u = new Unstable(5);
    u.truncateAndAppend(ents([1, 5], [1, 6]));
    u.truncateAndAppend(ents([1, 7]));
    expect(u.entries.map((e) => `${e.term}/${e.index}`)).toEqual(['1/5', '1/6', '1/7']);
    u.truncateAndAppend(ents([2, 6]));
    expect(u.entries.map((e) => `${e.term}/${e.index}`)).toEqual(['1/5', '2/6']);
    u.truncateAndAppend(ents([3, 4]));
    expect(u.offset).toBe(4);
    expect(u.entries.map((e) => `${e.term}/${e.index}`)).toEqual(['3/4']);
  });

  it('a pending snapshot answers for its own index and sets the first index', () => {
    const u = new Unstable(1);
    u.restore({ data: new Uint8Array(0), metadata: { index: 9, term: 4, confState: { voters: [], learners: [] } } });
    expect(u.maybeFirstIndex()).toBe(10);
    expect(u.maybeLastIndex()).toBe(9);
    expect(u.maybeTerm(9)).toBe(4);
    expect(u.maybeTerm(8)).toBeUndefined();
    u.stableSnapTo(9);
    expect(u.snapshot).toBeUndefined();
  });
});
