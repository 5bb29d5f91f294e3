// RaftNode and the Ready contract: what a Ready holds, that each piece of work is handed
// out once, that advance() is required between readies, the typed errors, and a restart
// from what was persisted.

import { describe, expect, it } from 'vitest';
import { ConfChange, MemoryStorage, Message, ProposalDroppedError, RaftNode, type Ready } from './index';

const enc = new TextEncoder();
const dec = new TextDecoder();

function single(storage = new MemoryStorage({ confState: { voters: [1], learners: [] } })): { node: RaftNode; storage: MemoryStorage } {
  return { node: new RaftNode({ id: 1, storage, electionTick: 10, heartbeatTick: 1 }), storage };
}

/** Handles one Ready by the contract and returns it. */
function handle(node: RaftNode, storage: MemoryStorage): Ready {
  const rd = node.ready();
  if (rd.snapshot) storage.applySnapshot(rd.snapshot);
  storage.append(rd.entries);
  if (rd.hardState) storage.setHardState(rd.hardState);
  for (const e of rd.committedEntries) if (e.type === 'confChange') node.applyConfChange(ConfChange.decode(e.data));
  node.advance();
  return rd;
}

describe('RaftNode and the Ready contract', () => {
  it('a new node has no work; campaigning alone makes it leader, with its empty entry to persist and apply', () => {
    const { node, storage } = single();
    expect(node.hasReady()).toBe(false);
    node.campaign();
    expect(node.hasReady()).toBe(true);
    const rd = handle(node, storage);
    expect(rd.softState).toEqual({ lead: 1, raftState: 'leader' });
    expect(rd.hardState).toEqual({ term: 1, vote: 1, commit: 1 });
    expect(rd.entries.map((e) => `${e.term}/${e.index}`)).toEqual(['1/1']);
    expect(rd.committedEntries.map((e) => `${e.term}/${e.index}`)).toEqual(['1/1']);
    expect(rd.mustSync).toBe(true);
    expect(node.hasReady()).toBe(false);
    expect(storage.lastIndex()).toBe(1);
  });

  it('hands out each entry, message and committed entry once', () => {
    const { node, storage } = single();
    node.campaign();
    handle(node, storage);
    node.propose(enc.encode('a'));
    const rd = handle(node, storage);
    expect(rd.entries.map((e) => dec.decode(e.data))).toEqual(['a']);
    expect(rd.committedEntries.map((e) => dec.decode(e.data))).toEqual(['a']);
    // Only the commit index moved: nothing to fsync.
    expect(rd.hardState).toEqual({ term: 1, vote: 1, commit: 2 });
    expect(node.hasReady()).toBe(false);
  });

  it('ready() again before advance() is an error, and so is advance() without ready()', () => {
    const { node } = single();
    node.campaign();
    node.ready();
    expect(() => node.ready()).toThrow(/before advance/);
    node.advance();
    expect(() => node.advance()).toThrow(/without ready/);
  });

  it('a proposal with no leader known fails with ProposalDroppedError(no-leader)', () => {
    const node = new RaftNode({ id: 1, storage: new MemoryStorage({ confState: { voters: [1, 2, 3], learners: [] } }), electionTick: 10, heartbeatTick: 1 });
    try {
      node.propose(enc.encode('x'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ProposalDroppedError);
      expect((e as ProposalDroppedError).reason).toBe('no-leader');
    }
  });

  it('refuses local message types from the network', () => {
    const { node } = single();
    expect(() => node.step(Message.create({ type: 'MsgHup', from: 2, to: 1 }))).toThrow(/local message/);
  });

  it('a single voter answers ReadIndex once it has committed in its term', () => {
    const { node, storage } = single();
    node.campaign();
    handle(node, storage);
    node.readIndex(enc.encode('r'));
    const rd = handle(node, storage);
    expect(rd.readStates).toEqual([{ index: 1, requestCtx: enc.encode('r') }]);
    expect(() => node.readIndex(new Uint8Array(0))).toThrow(/non-empty/);
  });

  it('membership changes take effect when applied', () => {
    const { node, storage } = single();
    node.campaign();
    handle(node, storage);
    node.proposeConfChange({ type: 'addLearner', nodeId: 2, context: enc.encode('10.0.0.2:2380') });
    expect(node.status().confState.learners).toEqual([]);
    const rd = handle(node, storage);
    const cc = ConfChange.decode(rd.committedEntries[0]!.data);
    expect(cc).toEqual({ type: 'addLearner', nodeId: 2, context: enc.encode('10.0.0.2:2380') });
    expect(node.status().confState).toEqual({ voters: [1], learners: [2] });
    // The leader starts replicating to the new member at once.
    expect(rd.messages).toEqual([]);
    expect(handle(node, storage).messages.map((m) => [m.type, m.to])).toEqual([['MsgApp', 2]]);
  });

  it('restarts from storage: term, vote, log and commit survive; committed entries after `applied` are handed out again', () => {
    const { node, storage } = single();
    node.campaign();
    handle(node, storage);
    node.propose(enc.encode('a'));
    node.propose(enc.encode('b'));
    handle(node, storage);
    const again = new RaftNode({ id: 1, storage, electionTick: 10, heartbeatTick: 1, applied: 2 });
    expect(again.status().hardState).toEqual({ term: 1, vote: 1, commit: 3 });
    expect(again.status().softState.raftState).toBe('follower');
    const rd = again.ready();
    expect(rd.committedEntries.map((e) => dec.decode(e.data))).toEqual(['b']);
    expect(rd.hardState).toBeUndefined();
  });

  it('bootstrap founds a group with conf change entries that a member joining later replays', () => {
    const storage = new MemoryStorage();
    const node = new RaftNode({ id: 1, storage, electionTick: 10, heartbeatTick: 1 });
    node.bootstrap({ voters: [1], learners: [2] });
    const rd = handle(node, storage);
    expect(rd.entries.map((e) => `${e.term}/${e.index} ${e.type}`)).toEqual(['1/1 confChange', '1/2 confChange']);
    expect(rd.committedEntries).toHaveLength(2);
    expect(rd.hardState).toEqual({ term: 1, vote: 0, commit: 2 });
    expect(() => node.bootstrap({ voters: [1] })).toThrow(/no log/);
    node.campaign();
    const pending = [...handle(node, storage).messages];
    expect(node.status().softState.raftState).toBe('leader');

    // Member 2 starts with nothing and learns the membership from the log the leader sends.
    const storage2 = new MemoryStorage();
    const joiner = new RaftNode({ id: 2, storage: storage2, electionTick: 10, heartbeatTick: 1 });
    for (let round = 0; round < 10 && pending.length > 0; round++) {
      for (const m of pending.splice(0)) (m.to === 2 ? joiner : node).step(m);
      for (const [n, st] of [
        [node, storage],
        [joiner, storage2],
      ] as const) {
        if (n.hasReady()) pending.push(...handle(n, st).messages);
      }
    }
    expect(joiner.status().confState).toEqual({ voters: [1], learners: [2] });
    expect(joiner.status().softState.lead).toBe(1);
  });

  it('on restart with `applied` past a conf change, the node takes that change up again by itself', () => {
    const { node, storage } = single();
    node.campaign();
    handle(node, storage);
    node.proposeConfChange({ type: 'addLearner', nodeId: 2 });
    handle(node, storage);
    expect(node.status().confState.learners).toEqual([2]);
    const again = new RaftNode({ id: 1, storage, electionTick: 10, heartbeatTick: 1, applied: storage.lastIndex() });
    expect(again.status().confState).toEqual({ voters: [1], learners: [2] });
    const fresh = new RaftNode({ id: 1, storage, electionTick: 10, heartbeatTick: 1 });
    expect(fresh.status().confState).toEqual({ voters: [1], learners: [] });
    expect(fresh.ready().committedEntries.some((e) => e.type === 'confChange')).toBe(true);
  });

  it('reports status with progress on the leader only', () => {
    const { node, storage } = single();
    expect(node.status().progress).toBeUndefined();
    node.campaign();
    handle(node, storage);
    expect([...(node.status().progress?.keys() ?? [])]).toEqual([1]);
  });

  it('rejects configurations that cannot work', () => {
    const storage = new MemoryStorage();
    expect(() => new RaftNode({ id: 0, storage, electionTick: 10, heartbeatTick: 1 })).toThrow(/0 as id/);
    expect(() => new RaftNode({ id: 1, storage, electionTick: 1, heartbeatTick: 1 })).toThrow(/election tick/);
    expect(() => new RaftNode({ id: 1, storage, electionTick: 10, heartbeatTick: 1, readOnlyOption: 'lease-based' })).toThrow(/checkQuorum/);
  });
});
