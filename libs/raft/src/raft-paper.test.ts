// Tests that check the rules of the Raft paper (Ongaro & Ousterhout, "In Search of an
// Understandable Consensus Algorithm", 2014) one by one, each under the section that
// states the rule; rules from Ongaro's dissertation ("thesis") are cited likewise. They
// drive Raft state machines directly over the in-memory network of test/network.ts.

import { describe, expect, it } from 'vitest';
import { ErrSnapshotTemporarilyUnavailable, MemoryStorage, Message, NONE, type Entry, type NodeId, type Raft, type StateType } from './index';
import { Network, bytes, newTestRaft, readMessages, text, type TestRaftOptions } from '../test/network';

/** A storage holding entries with the given terms at indexes 1..n, and the matching hard state. */
function storageWithLog(terms: readonly number[], voters: readonly NodeId[]): MemoryStorage {
  const storage = new MemoryStorage({ confState: { voters, learners: [] } });
  storage.append(terms.map((term, i) => ({ term, index: i + 1, type: 'normal', data: bytes(`${term}.${i + 1}`) })));
  storage.setHardState({ term: terms.length > 0 ? terms[terms.length - 1]! : 0, vote: NONE, commit: 0 });
  return storage;
}

function raftWithLog(id: NodeId, terms: readonly number[], voters: readonly NodeId[], opts: TestRaftOptions = {}): Raft {
  return newTestRaft(id, voters, { ...opts, storage: storageWithLog(terms, voters) });
}

function msg(fields: Partial<Message> & Pick<Message, 'type' | 'from' | 'to'>): Message {
  return Message.create(fields);
}

function entry(term: number, index: number, data = ''): Entry {
  return { term, index, type: 'normal', data: bytes(data) };
}

function logTerms(r: Raft): number[] {
  return r.log.allEntries().map((e) => e.term);
}

function elect(r: Raft): void {
  r.becomeCandidate();
  r.becomeLeader();
  readMessages(r);
}

function tickN(r: Raft, n: number): void {
  for (let i = 0; i < n; i++) r.tick();
}

describe('§5.1 terms', () => {
  it.each<[string, (r: Raft) => void]>([
    ['follower', (r) => r.becomeFollower(1, 2)],
    ['candidate', (r) => r.becomeCandidate()],
    ['leader', (r) => elect(r)],
  ])('a %s seeing a larger term adopts it and becomes a follower', (_, setup) => {
    const r = newTestRaft(1, [1, 2, 3]);
    setup(r);
    r.step(msg({ type: 'MsgApp', from: 2, to: 1, term: 5 }));
    expect(r.term).toBe(5);
    expect(r.state).toBe('follower');
    expect(r.lead).toBe(2);
  });

  it('a request with a stale term is ignored', () => {
    const r = newTestRaft(1, [1, 2, 3]);
    r.becomeFollower(3, 2);
    r.step(msg({ type: 'MsgApp', from: 3, to: 1, term: 2, entries: [entry(2, 1)] }));
    expect(r.log.lastIndex()).toBe(0);
    expect(r.lead).toBe(2);
    expect(readMessages(r)).toEqual([]);
  });
});

describe('§5.2 leader election', () => {
  it('a follower whose election timeout passes becomes candidate: term+1, votes for itself, asks every voter', () => {
    const r = newTestRaft(1, [1, 2, 3]);
    tickN(r, 10);
    expect(r.state).toBe('candidate');
    expect(r.term).toBe(1);
    expect(r.vote).toBe(1);
    const sent = readMessages(r).map((m) => [m.type, m.to, m.term]);
    expect(sent).toEqual([
      ['MsgVote', 2, 1],
      ['MsgVote', 3, 1],
    ]);
  });

  it('a follower that hears from its leader does not campaign', () => {
    const r = newTestRaft(1, [1, 2, 3]);
    r.becomeFollower(1, 2);
    for (let i = 0; i < 30; i++) {
      r.tick();
      r.step(msg({ type: 'MsgHeartbeat', from: 2, to: 1, term: 1 }));
    }
    expect(r.state).toBe('follower');
    expect(r.term).toBe(1);
  });

  it.each<[number, Record<number, boolean>, StateType]>([
    [1, {}, 'leader'],
    [3, { 2: true, 3: true }, 'leader'],
    [3, { 2: true }, 'leader'],
    [5, { 2: true, 3: true, 4: true, 5: true }, 'leader'],
    [5, { 2: true, 3: true }, 'leader'],
    [3, { 2: false, 3: false }, 'follower'],
    [5, { 2: false, 3: false, 4: true }, 'candidate'],
    [5, { 2: false, 3: false, 4: false }, 'follower'],
    [5, {}, 'candidate'],
  ])('a candidate in a group of %i with votes %j ends up %s: a majority of grants wins, a majority of rejections loses', (size, votes, want) => {
    const ids = Array.from({ length: size }, (_, i) => i + 1);
    const r = newTestRaft(1, ids);
    r.step(msg({ type: 'MsgHup', from: 1, to: 1 }));
    for (const [id, granted] of Object.entries(votes)) {
      r.step(msg({ type: 'MsgVoteResp', from: Number(id), to: 1, term: r.term, reject: !granted }));
    }
    expect(r.state).toBe(want);
    // A lost election keeps the new term.
    expect(r.term).toBe(1);
  });

  it('a voter grants at most one vote per term, first come first served', () => {
    const r = newTestRaft(1, [1, 2, 3]);
    r.step(msg({ type: 'MsgVote', from: 2, to: 1, term: 1 }));
    r.step(msg({ type: 'MsgVote', from: 3, to: 1, term: 1 }));
    // The same candidate asking again (a retransmission) gets the vote again.
    r.step(msg({ type: 'MsgVote', from: 2, to: 1, term: 1 }));
    expect(readMessages(r).map((m) => [m.to, m.reject])).toEqual([
      [2, false],
      [3, true],
      [2, false],
    ]);
    expect(r.vote).toBe(2);
  });

  it('a candidate that hears from a leader of its term becomes its follower', () => {
    const r = newTestRaft(1, [1, 2, 3]);
    r.becomeCandidate();
    r.step(msg({ type: 'MsgApp', from: 2, to: 1, term: 1 }));
    expect(r.state).toBe('follower');
    expect(r.lead).toBe(2);
    expect(r.term).toBe(1);
  });

  it('a candidate whose election times out without a winner starts a new election in the next term', () => {
    const r = newTestRaft(1, [1, 2, 3]);
    tickN(r, 10);
    expect(r.term).toBe(1);
    readMessages(r);
    tickN(r, 10);
    expect(r.state).toBe('candidate');
    expect(r.term).toBe(2);
    expect(readMessages(r).filter((m) => m.type === 'MsgVote')).toHaveLength(2);
  });

  it('election timeouts are randomized in [electionTick, 2*electionTick) so split votes resolve', () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed - 1) / 2147483646;
    };
    const r = newTestRaft(1, [1, 2, 3], { random });
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      r.becomeFollower(r.term + 1, NONE);
      seen.add(r.randomizedElectionTimeout);
    }
    for (const t of seen) {
      expect(t).toBeGreaterThanOrEqual(10);
      expect(t).toBeLessThan(20);
    }
    expect(seen.size).toBeGreaterThan(5);
  });

  it('a group elects exactly one leader, which the others follow', () => {
    const nt = Network.ofSize(5);
    nt.campaign(3);
    const states = [...nt.peers.values()].map((r) => r.state);
    expect(states.filter((s) => s === 'leader')).toHaveLength(1);
    expect(nt.raft(3).state).toBe('leader');
    for (const r of nt.peers.values()) expect(r.lead).toBe(3);
  });
});

describe('§5.3 log replication', () => {
  it('the leader appends a proposal to its log and sends it to every follower', () => {
    const r = newTestRaft(1, [1, 2, 3]);
    elect(r);
    r.step(msg({ type: 'MsgProp', from: 1, to: 1, entries: [entry(0, 0, 'x')] }));
    expect(r.log.lastIndex()).toBe(2);
    const sent = readMessages(r).map((m) => [m.type, m.to, m.index, m.logTerm, m.entries.map((e) => text(e.data))]);
    // The followers' progress is still a probe from the start of the log, so the leader's
    // empty entry travels with the proposal.
    expect(sent).toEqual([
      ['MsgApp', 2, 0, 0, ['', 'x']],
      ['MsgApp', 3, 0, 0, ['', 'x']],
    ]);
  });

  it('an entry is committed once a majority stores it, and followers learn the commit index', () => {
    const nt = Network.ofSize(5);
    nt.campaign(1);
    nt.cut(1, 4);
    nt.cut(1, 5);
    nt.propose(1, 'x');
    // 3 of 5 store it: committed.
    expect(nt.raft(1).log.committed).toBe(2);
    expect(nt.raft(2).log.committed).toBe(2);
    expect(nt.raft(4).log.committed).toBe(1);
    nt.recover();
    nt.stepLocal(1, { type: 'MsgBeat' });
    for (const r of nt.peers.values()) expect(r.log.committed).toBe(2);
  });

  it('an entry stored on a minority is not committed', () => {
    const nt = Network.ofSize(5);
    nt.campaign(1);
    nt.cut(1, 3);
    nt.cut(1, 4);
    nt.cut(1, 5);
    nt.propose(1, 'x');
    expect(nt.raft(1).log.lastIndex()).toBe(2);
    expect(nt.raft(1).log.committed).toBe(1);
  });

  it('committing an entry commits all entries before it, and they are applied in log order', () => {
    const nt = Network.ofSize(3);
    nt.campaign(1);
    nt.isolate(1);
    nt.propose(1, 'a');
    nt.propose(1, 'b');
    nt.recover();
    nt.propose(1, 'c');
    const r2 = nt.raft(2);
    expect(r2.log.committed).toBe(4);
    expect(r2.log.nextCommittedEntries().map((e) => text(e.data))).toEqual(['', 'a', 'b', 'c']);
  });

  it('a follower rejects an append whose preceding entry it does not have (the consistency check)', () => {
    const r = raftWithLog(1, [1, 2], [1, 2, 3]);
    r.becomeFollower(2, 2);
    r.step(msg({ type: 'MsgApp', from: 2, to: 1, term: 2, index: 2, logTerm: 3, entries: [entry(3, 3)] }));
    r.step(msg({ type: 'MsgApp', from: 2, to: 1, term: 2, index: 5, logTerm: 2, entries: [entry(2, 6)] }));
    const replies = readMessages(r).map((m) => [m.type, m.reject, m.index, m.rejectHint]);
    expect(replies).toEqual([
      ['MsgAppResp', true, 2, 2],
      ['MsgAppResp', true, 5, 2],
    ]);
    expect(logTerms(r)).toEqual([1, 2]);
  });

  it('a follower deletes a conflicting entry and all that follow it, then appends the new ones', () => {
    const r = raftWithLog(1, [1, 1, 2, 2], [1, 2, 3]);
    r.becomeFollower(3, 2);
    r.step(msg({ type: 'MsgApp', from: 2, to: 1, term: 3, index: 2, logTerm: 1, entries: [entry(3, 3), entry(3, 4)] }));
    expect(logTerms(r)).toEqual([1, 1, 3, 3]);
    // Entries it already has are kept as they are (a duplicated append is harmless).
    r.step(msg({ type: 'MsgApp', from: 2, to: 1, term: 3, index: 1, logTerm: 1, entries: [entry(1, 2)] }));
    expect(logTerms(r)).toEqual([1, 1, 3, 3]);
  });

  // Figure 7: a leader of term 8 and followers whose logs differ from it in every way the
  // paper lists; after the leader's appends and the followers' rejections, every follower's
  // log equals the leader's.
  it.each<[string, number[]]>([
    ['a: missing entries', [1, 1, 1, 4, 4, 5, 5, 6, 6]],
    ['b: missing many', [1, 1, 1, 4]],
    ['c: extra uncommitted entry', [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]],
    ['d: extra entries of a later term', [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7]],
    ['e: missing and extra', [1, 1, 1, 4, 4, 4, 4]],
    ['f: different terms', [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]],
  ])('Figure 7 (%s): the leader brings the follower’s log in line with its own', (_, followerTerms) => {
    const leaderTerms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const leader = raftWithLog(1, leaderTerms, [1, 2, 3]);
    leader.term = 7;
    const follower = raftWithLog(2, followerTerms, [1, 2, 3]);
    follower.term = 7;
    // A third voter that votes for the leader but otherwise stays out of the way.
    const voter = raftWithLog(3, [], [1, 2, 3]);
    const nt = new Network([leader, follower, voter]);
    nt.campaign(1);
    // 2 may reject (longer or newer log); 3's vote wins the election.
    expect(leader.state).toBe('leader');
    nt.stepLocal(1, { type: 'MsgBeat' });
    expect(logTerms(follower)).toEqual(logTerms(leader));
  });
});

describe('§5.4.1 election restriction', () => {
  // A voter denies its vote to a candidate whose log is less up to date than its own:
  // compare last terms, then (on equal last terms) lengths.
  it.each<[number[], number, number, boolean]>([
    [[1, 2], 2, 2, true], // same last term, same length
    [[1, 2], 2, 3, true], // same last term, longer
    [[1, 2], 2, 1, false], // same last term, shorter
    [[1, 2], 3, 1, true], // later last term, even if shorter
    [[1, 2], 1, 5, false], // earlier last term, even if longer
  ])('voter with log terms %j and a candidate at (lastTerm %i, lastIndex %i): granted %s', (voterLog, lastTerm, lastIndex, granted) => {
    const r = raftWithLog(1, voterLog, [1, 2, 3]);
    r.step(msg({ type: 'MsgVote', from: 2, to: 1, term: 9, logTerm: lastTerm, index: lastIndex }));
    const [resp] = readMessages(r);
    expect(resp?.type).toBe('MsgVoteResp');
    expect(resp?.reject).toBe(!granted);
  });

  it('a candidate missing a committed entry cannot win', () => {
    const nt = Network.ofSize(3);
    nt.campaign(1);
    nt.cut(1, 3);
    nt.propose(1, 'committed on 1 and 2');
    expect(nt.raft(1).log.committed).toBe(2);
    nt.recover();
    nt.isolate(1);
    nt.campaign(3);
    expect(nt.raft(3).state).not.toBe('leader');
    nt.campaign(2);
    expect(nt.raft(2).state).toBe('leader');
  });
});

describe('§5.4.2 committing entries from previous terms', () => {
  it('a leader does not commit an entry of an earlier term by counting replicas', () => {
    // The leader of term 3 finds an entry of term 2 stored on a majority: not committed yet.
    const leader = raftWithLog(1, [1, 2], [1, 2, 3]);
    leader.term = 2;
    leader.becomeCandidate();
    leader.becomeLeader();
    readMessages(leader);
    const empty = leader.log.lastIndex();
    expect(leader.log.term(empty)).toBe(3);
    leader.step(msg({ type: 'MsgAppResp', from: 2, to: 1, term: 3, index: 2 }));
    expect(leader.log.committed).toBe(0);
    // Once an entry of its own term is stored on a majority, it and everything before it commit.
    leader.step(msg({ type: 'MsgAppResp', from: 2, to: 1, term: 3, index: empty }));
    expect(leader.log.committed).toBe(empty);
  });

  it('Figure 8: an entry of an old term stored on a majority can still be overwritten, so counting it as committed would be wrong', () => {
    // (c) S1 leads term 4; its entry (term 2, index 2) is stored on S1, S2, S3, a majority
    // of five. S5 holds a conflicting entry of term 3 at index 2.
    const voters = [1, 2, 3, 4, 5];
    const s1 = raftWithLog(1, [1, 2], voters);
    const s2 = raftWithLog(2, [1, 2], voters);
    const s3 = raftWithLog(3, [1, 2], voters);
    const s4 = raftWithLog(4, [1], voters);
    const s5 = raftWithLog(5, [1, 3], voters);
    s1.term = 3;
    s5.term = 3;
    const nt = new Network([s1, s2, s3, s4, s5]);
    nt.isolate(5);
    // S1's appends of its new entry get nowhere.
    nt.ignore('MsgApp');
    nt.campaign(1);
    expect(s1.state).toBe('leader');
    expect(s1.term).toBe(4);
    s1.step(msg({ type: 'MsgAppResp', from: 2, to: 1, term: 4, index: 2 }));
    s1.step(msg({ type: 'MsgAppResp', from: 3, to: 1, term: 4, index: 2 }));
    // The rule: not committed, though on a majority, since it is not of the leader's term.
    expect(s1.log.committed).toBe(0);
    // (d) S1 crashes; S5, whose last term 3 beats their 2, wins and overwrites index 2.
    nt.recover();
    nt.isolate(1);
    for (let i = 0; i < 3 && s5.state !== 'leader'; i++) nt.campaign(5);
    expect(s5.state).toBe('leader');
    nt.stepLocal(5, { type: 'MsgBeat' });
    for (const r of [s2, s3, s4]) expect(r.log.term(2)).toBe(3);
  });
});

describe('§5.5 follower and candidate crashes', () => {
  it('Raft RPCs are idempotent: a repeated append changes nothing and is acknowledged again', () => {
    const r = newTestRaft(1, [1, 2, 3]);
    r.becomeFollower(1, 2);
    const app = msg({ type: 'MsgApp', from: 2, to: 1, term: 1, index: 0, logTerm: 0, entries: [entry(1, 1, 'x')], commit: 1 });
    r.step(app);
    r.step(app);
    expect(logTerms(r)).toEqual([1]);
    expect(readMessages(r).map((m) => [m.type, m.index, m.reject])).toEqual([
      ['MsgAppResp', 1, false],
      ['MsgAppResp', 1, false],
    ]);
  });

  it('the leader keeps retrying a follower that does not answer (heartbeats), and catches it up when it returns', () => {
    const nt = Network.ofSize(3);
    nt.campaign(1);
    nt.isolate(3);
    nt.propose(1, 'a');
    nt.propose(1, 'b');
    nt.recover();
    nt.stepLocal(1, { type: 'MsgBeat' });
    expect(logTerms(nt.raft(3))).toEqual(logTerms(nt.raft(1)));
    expect(nt.raft(3).log.committed).toBe(3);
  });
});

describe('§7 log compaction', () => {
  it('a follower missing compacted entries gets the snapshot and continues after it', () => {
    const nt = Network.ofSize(3);
    nt.campaign(1);
    nt.isolate(3);
    nt.propose(1, 'a');
    nt.propose(1, 'b');
    const leader = nt.raft(1);
    const storage = leader.log.storage as MemoryStorage;
    // Persist what the leader has, then snapshot and compact (as the application would).
    storage.append(leader.log.unstableEntries());
    leader.log.stableTo(3, 1);
    storage.createSnapshot(3, { voters: [1, 2, 3], learners: [] }, bytes('state@3'));
    storage.compact(3);
    nt.recover();
    nt.stepLocal(1, { type: 'MsgBeat' });
    const f = nt.raft(3);
    expect(f.log.committed).toBe(3);
    expect(f.log.unstable.snapshot?.metadata.index).toBe(3);
    expect(text(f.log.unstable.snapshot?.data ?? new Uint8Array())).toBe('state@3');
    expect(leader.tracker.progress.get(3)?.state).toBe('replicate');
    nt.propose(1, 'c');
    expect(f.log.lastIndex()).toBe(4);
  });
});

describe('§7 log compaction: a snapshot that is not ready yet', () => {
  it('while storage answers ErrSnapshotTemporarilyUnavailable the leader waits, and sends it once available', () => {
    const nt = Network.ofSize(3);
    nt.campaign(1);
    nt.isolate(3);
    nt.propose(1, 'a');
    const leader = nt.raft(1);
    const storage = leader.log.storage as MemoryStorage;
    storage.append(leader.log.unstableEntries());
    leader.log.stableTo(2, 1);
    storage.createSnapshot(2, { voters: [1, 2, 3], learners: [] }, bytes('state@2'));
    storage.compact(2);
    const real = storage.snapshot.bind(storage);
    let ready = false;
    storage.snapshot = () => {
      if (!ready) throw ErrSnapshotTemporarilyUnavailable;
      return real();
    };
    nt.recover();
    nt.stepLocal(1, { type: 'MsgBeat' });
    expect(nt.raft(3).log.committed).toBe(1);
    expect(leader.tracker.progress.get(3)?.state).toBe('probe');
    ready = true;
    nt.stepLocal(1, { type: 'MsgBeat' });
    expect(nt.raft(3).log.committed).toBe(2);
    expect(leader.tracker.progress.get(3)?.state).toBe('replicate');
  });
});

describe('thesis §4.2.1 learners', () => {
  it('learners receive the log but are not counted for commit and do not campaign', () => {
    const rafts = [1, 2, 3].map((id) => newTestRaft(id, [1, 2], { learners: [3] }));
    const nt = new Network(rafts);
    nt.campaign(1);
    expect(nt.raft(1).state).toBe('leader');
    nt.cut(1, 2);
    nt.propose(1, 'x');
    expect(nt.raft(3).log.lastIndex()).toBe(2);
    expect(nt.raft(1).log.committed).toBe(1);
    tickN(nt.raft(3), 50);
    expect(nt.raft(3).state).toBe('follower');
    expect(readMessages(nt.raft(3))).toEqual([]);
  });
});

describe('thesis §9.6 pre-vote', () => {
  it('a partitioned node does not raise its term, so it does not disrupt the leader when it returns', () => {
    const nt = Network.ofSize(3, { preVote: true });
    nt.campaign(1);
    nt.isolate(3);
    for (let i = 0; i < 5; i++) nt.campaign(3);
    expect(nt.raft(3).term).toBe(1);
    expect(nt.raft(3).state).toBe('pre-candidate');
    nt.recover();
    nt.stepLocal(1, { type: 'MsgBeat' });
    expect(nt.raft(1).state).toBe('leader');
    expect(nt.raft(3).state).toBe('follower');
    expect(nt.raft(3).lead).toBe(1);
  });
});

describe('thesis §6.2 check quorum and the leader lease', () => {
  it('a leader that hears from no quorum within an election timeout steps down', () => {
    const nt = Network.ofSize(3, { checkQuorum: true });
    nt.campaign(1);
    nt.isolate(1);
    const leader = nt.raft(1);
    tickN(leader, 10);
    expect(leader.state).toBe('leader');
    tickN(leader, 10);
    expect(leader.state).toBe('follower');
  });

  it('a follower in its lease ignores vote requests, unless they come from a leadership transfer', () => {
    const nt = Network.ofSize(3, { checkQuorum: true });
    nt.campaign(1);
    const f = nt.raft(2);
    f.step(msg({ type: 'MsgVote', from: 3, to: 2, term: 5, logTerm: 1, index: 1 }));
    expect(f.term).toBe(1);
    expect(readMessages(f)).toEqual([]);
    nt.stepLocal(1, { type: 'MsgTransferLeader', from: 3 });
    expect(nt.raft(3).state).toBe('leader');
  });
});

describe('thesis §3.10 leadership transfer', () => {
  it('the leader catches the transferee up, then sends MsgTimeoutNow; proposals are refused meanwhile', () => {
    const nt = Network.ofSize(3);
    nt.campaign(1);
    nt.isolate(3);
    nt.propose(1, 'a');
    nt.recover();
    nt.drop(1, 3);
    nt.stepLocal(1, { type: 'MsgTransferLeader', from: 3 });
    expect(nt.raft(1).leadTransferee).toBe(3);
    const dropped = nt.raft(1).step(msg({ type: 'MsgProp', from: 1, to: 1, entries: [entry(0, 0, 'x')] }));
    expect(dropped).toBe('transfer-in-progress');
    nt.recover();
    nt.stepLocal(1, { type: 'MsgBeat' });
    expect(nt.raft(3).state).toBe('leader');
    expect(nt.raft(1).state).toBe('follower');
    expect(logTerms(nt.raft(3)).slice(0, 2)).toEqual([1, 1]);
  });

  it('a transfer that does not finish within an election timeout is abandoned', () => {
    const nt = Network.ofSize(3);
    nt.campaign(1);
    nt.isolate(3);
    nt.stepLocal(1, { type: 'MsgTransferLeader', from: 3 });
    tickN(nt.raft(1), 10);
    expect(nt.raft(1).leadTransferee).toBe(NONE);
    expect(nt.raft(1).state).toBe('leader');
  });
});

describe('thesis §6.4 linearizable reads with ReadIndex', () => {
  it('the leader answers with its commit index after a quorum acknowledges a heartbeat carrying the request', () => {
    const nt = Network.ofSize(3);
    nt.campaign(1);
    nt.propose(1, 'a');
    nt.stepLocal(1, { type: 'MsgReadIndex', context: bytes('q') });
    expect(nt.raft(1).readStates).toEqual([{ index: 2, requestCtx: bytes('q') }]);
  });

  it('without a quorum the read is not answered', () => {
    const nt = Network.ofSize(3);
    nt.campaign(1);
    nt.isolate(1);
    nt.stepLocal(1, { type: 'MsgReadIndex', context: bytes('q') });
    expect(nt.raft(1).readStates).toEqual([]);
  });

  it('a follower forwards the read to the leader and gets the index back', () => {
    const nt = Network.ofSize(3);
    nt.campaign(1);
    nt.stepLocal(2, { type: 'MsgReadIndex', context: bytes('q') });
    expect(nt.raft(2).readStates).toEqual([{ index: 1, requestCtx: bytes('q') }]);
  });

  it('with lease-based reads (which need CheckQuorum) the leader answers at once, trusting its lease', () => {
    const nt = Network.ofSize(3, { checkQuorum: true, readOnlyOption: 'lease-based' });
    nt.campaign(1);
    nt.isolate(1);
    nt.stepLocal(1, { type: 'MsgReadIndex', context: bytes('q') });
    expect(nt.raft(1).readStates).toEqual([{ index: 1, requestCtx: bytes('q') }]);
    expect(nt.lost.filter((m) => m.context !== undefined && text(m.context) === 'q')).toEqual([]);
  });

  it('a new leader serves reads only after committing an entry of its term', () => {
    const r = newTestRaft(1, [1, 2, 3]);
    r.becomeCandidate();
    r.becomeLeader();
    readMessages(r);
    r.step(msg({ type: 'MsgReadIndex', from: 1, to: 1, context: bytes('q') }));
    expect(readMessages(r)).toEqual([]);
    r.step(msg({ type: 'MsgAppResp', from: 2, to: 1, term: 1, index: 1 }));
    const heartbeats = readMessages(r).filter((m) => m.type === 'MsgHeartbeat');
    expect(heartbeats.map((m) => text(m.context ?? new Uint8Array()))).toEqual(['q', 'q']);
    r.step(msg({ type: 'MsgHeartbeatResp', from: 2, to: 1, term: 1, context: bytes('q') }));
    expect(r.readStates).toEqual([{ index: 1, requestCtx: bytes('q') }]);
  });
});
