// Flow control and quorum arithmetic: the in-flight window, a follower's progress through
// probe, replicate and snapshot, and the tracker's commit index and vote tally, in which
// learners never count.

import { describe, expect, it } from 'vitest';
import { Inflights, Progress, ProgressTracker } from './index';

describe('Inflights', () => {
  it('fills up to its size, frees acknowledged messages, and frees one on a heartbeat response', () => {
    const inf = new Inflights(3);
    inf.add(5);
    inf.add(7);
    inf.add(9);
    expect(inf.full()).toBe(true);
    expect(() => inf.add(10)).toThrow();
    inf.freeLE(7);
    expect(inf.count()).toBe(1);
    inf.add(10);
    inf.freeFirstOne();
    expect(inf.count()).toBe(1);
    inf.freeLE(100);
    expect(inf.count()).toBe(0);
  });

  it('keeps working across many add/free cycles', () => {
    const inf = new Inflights(4);
    for (let i = 1; i <= 1000; i++) {
      inf.add(i);
      if (inf.full()) inf.freeLE(i - 1);
    }
    expect(inf.count()).toBeLessThanOrEqual(4);
  });
});

describe('Progress', () => {
  it('in probe state one append is outstanding at a time', () => {
    const pr = new Progress(5, 10, false);
    expect(pr.isPaused()).toBe(false);
    pr.probeSent = true;
    expect(pr.isPaused()).toBe(true);
    // A rejection of that probe moves next back (using the follower's hint) and allows the next probe.
    expect(pr.maybeDecrTo(4, 2)).toBe(true);
    expect(pr.next).toBe(3);
    expect(pr.isPaused()).toBe(false);
    // A rejection of anything but the outstanding probe is stale.
    expect(pr.maybeDecrTo(4, 1)).toBe(false);
  });

  it('in replicate state a rejection above match goes back to match+1; one below it is stale', () => {
    const pr = new Progress(5, 10, false);
    pr.maybeUpdate(4);
    pr.becomeReplicate();
    pr.optimisticUpdate(9);
    expect(pr.next).toBe(10);
    expect(pr.maybeDecrTo(3, 0)).toBe(false);
    expect(pr.maybeDecrTo(7, 0)).toBe(true);
    expect(pr.next).toBe(5);
  });

  it('leaving snapshot state resumes after the snapshot', () => {
    const pr = new Progress(2, 10, false);
    pr.maybeUpdate(1);
    pr.becomeSnapshot(20);
    expect(pr.isPaused()).toBe(true);
    pr.becomeProbe();
    expect(pr.next).toBe(21);
    expect(pr.state).toBe('probe');
  });

  it('maybeUpdate moves match only forward', () => {
    const pr = new Progress(1, 10, false);
    expect(pr.maybeUpdate(3)).toBe(true);
    expect(pr.maybeUpdate(2)).toBe(false);
    expect(pr.match).toBe(3);
    expect(pr.next).toBe(4);
  });
});

describe('ProgressTracker', () => {
  function tracker(voters: number[], learners: number[] = []): ProgressTracker {
    const t = new ProgressTracker(10);
    for (const id of voters) t.addMember(id, false, 1);
    for (const id of learners) t.addMember(id, true, 1);
    return t;
  }

  it.each<[number[], number]>([
    [[5], 5],
    [[5, 3], 3],
    [[5, 3, 1], 3],
    [[5, 4, 3, 2, 1], 3],
    [[9, 9, 1, 1, 1], 1],
  ])('with voters matched at %j the commit index is %i (the quorum-th highest)', (matches, want) => {
    const t = tracker(matches.map((_, i) => i + 1));
    matches.forEach((m, i) => t.progress.get(i + 1)!.maybeUpdate(m));
    expect(t.committed()).toBe(want);
  });

  it('learners do not count for commit, votes or activity', () => {
    const t = tracker([1, 2, 3], [4, 5]);
    t.progress.get(1)!.maybeUpdate(7);
    t.progress.get(4)!.maybeUpdate(7);
    t.progress.get(5)!.maybeUpdate(7);
    expect(t.committed()).toBe(0);
    t.recordVote(1, true);
    t.recordVote(4, true);
    t.recordVote(5, true);
    expect(t.tallyVotes().result).toBe('pending');
    for (const pr of t.progress.values()) pr.recentActive = false;
    t.progress.get(1)!.recentActive = true;
    t.progress.get(4)!.recentActive = true;
    t.progress.get(5)!.recentActive = true;
    expect(t.quorumActive()).toBe(false);
  });

  it('tallies votes: won with a quorum, lost once a quorum is out of reach', () => {
    const t = tracker([1, 2, 3, 4, 5]);
    t.recordVote(1, true);
    t.recordVote(2, false);
    t.recordVote(3, false);
    expect(t.tallyVotes()).toEqual({ granted: 1, rejected: 2, result: 'pending' });
    t.recordVote(4, false);
    expect(t.tallyVotes().result).toBe('lost');
    // The first answer of a voter counts; a later one does not change it.
    t.recordVote(2, true);
    expect(t.tallyVotes().granted).toBe(1);
  });

  it('promotes a learner to voter, keeping its progress', () => {
    const t = tracker([1, 2, 3], [4]);
    t.progress.get(4)!.maybeUpdate(6);
    t.promote(4);
    expect(t.confState()).toEqual({ voters: [1, 2, 3, 4], learners: [] });
    expect(t.progress.get(4)!.match).toBe(6);
    expect(t.quorum()).toBe(3);
  });
});
