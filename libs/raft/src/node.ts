// RaftNode: the interface an application drives. It wraps the Raft state machine and
// hands out its work as a Ready, synchronously: nothing happens between calls.
//
// The Ready contract. After any call that may produce work (tick, step, propose, ...),
// while hasReady() is true, the application:
//   1. calls ready() once, and gets a Ready;
//   2. persists, atomically and durably when mustSync is set: the snapshot (if any), then
//      the entries (replacing any stored entries from the first one's index on), then the
//      hard state (if any). For MemoryStorage: applySnapshot, append, setHardState;
//   3. only then sends the messages: a vote or an acknowledgement must never be sent for
//      something that could still be lost in a crash. (The leader counts its own new
//      entries towards commit as soon as it appends them, which is sound only because no
//      answer to them can arrive before they are durable; so this core does not support
//      the leader writing its log in parallel with sending, thesis §10.2.1.);
//   4. applies the snapshot (if any) and then the committed entries, in order, to its
//      state machine, calling applyConfChange for each conf change entry; and hands the
//      read states to waiting readers once their index has been applied;
//   5. calls advance(), which tells the node steps 2-4 are done.
// Between ready() and advance() the node may still be stepped and ticked; ready() must
// not be called again until advance().

import { Raft, type Config, type Status } from './raft';
import {
  ConfChange,
  HardState,
  Message,
  NONE,
  type ConfState,
  type Entry,
  type NodeId,
  type ReadState,
  type Snapshot,
  type SoftState,
} from './types';

/** The work the application must do, in the order of the Ready contract (see the file header). */
export interface Ready {
  /** Set when the leader or the role changed; not persisted. */
  readonly softState?: SoftState;
  /** Set when term, vote or commit changed; persist before sending messages. */
  readonly hardState?: HardState;
  /** Answers to readIndex() calls; serve each read once `index` has been applied. */
  readonly readStates: readonly ReadState[];
  /** Entries to persist before sending messages. */
  readonly entries: readonly Entry[];
  /** A snapshot from the leader to persist, then to load into the state machine. */
  readonly snapshot?: Snapshot;
  /** Entries known committed, to apply to the state machine in order. */
  readonly committedEntries: readonly Entry[];
  /** Messages to send once entries and hard state are durable. */
  readonly messages: readonly Message[];
  /** Whether the writes of this Ready must be synced to disk (fsync) before sending. */
  readonly mustSync: boolean;
}

/** How the transport fared sending a snapshot, for reportSnapshot. */
export type SnapshotStatus = 'finish' | 'failure';

export class RaftNode {
  /** The state machine itself, for tests and tooling. Drive it through RaftNode's methods. */
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private pending: Ready | undefined = undefined;

  constructor(config: Config) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  get id(): NodeId {
    return this.raft.id;
  }

  /**
   * Founds a new group, on a member that has never run (empty storage, term 0): appends
   * one conf change entry per founding member at term 1, indexes 1..n, identically on
   * every founder, and marks them committed. The next Ready hands them out to persist and
   * to apply (applyConfChange accepts them again harmlessly). A member that joins later
   * starts empty, without bootstrap, and learns the membership from these entries or from
   * a snapshot. (Alternatively, give every founder the membership in its storage's initial
   * snapshot, as MemoryStorage's constructor allows.)
   */
  bootstrap(members: { readonly voters: readonly NodeId[]; readonly learners?: readonly NodeId[] }): void {
    const r = this.raft;
    if (r.log.lastIndex() !== 0 || r.term !== 0 || r.tracker.progress.size > 0) {
      throw new Error('raft: bootstrap needs a member with no log, no term and no membership');
    }
    if (members.voters.length === 0) throw new Error('raft: bootstrap needs at least one voter');
    const changes: ConfChange[] = [
      ...members.voters.map((nodeId): ConfChange => ({ type: 'addNode', nodeId })),
      ...(members.learners ?? []).map((nodeId): ConfChange => ({ type: 'addLearner', nodeId })),
    ];
    r.becomeFollower(1, NONE);
    r.log.append(changes.map((cc, i) => ({ term: 1, index: i + 1, type: 'confChange' as const, data: ConfChange.encode(cc) })));
    r.log.commitTo(changes.length);
    for (const cc of changes) r.applyConfChange(cc);
  }

  /** Advances logical time by one tick; elections and heartbeats are counted in ticks. */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (with a pre-vote first, if configured), as if the election timer fired. */
  campaign(): void {
    this.raft.step(Message.create({ type: 'MsgHup', from: this.id }));
  }

  /**
   * Proposes data to be appended to the log. On a follower it is forwarded to the leader.
   * Throws ProposalDroppedError when it cannot be accepted (no leader known, leadership
   * transfer in progress, ...). Acceptance is not commitment: the entry is committed only
   * when it comes back in Ready.committedEntries.
   */
  propose(data: Uint8Array): void {
    this.raft.stepOrThrow(
      Message.create({ type: 'MsgProp', from: this.id, entries: [{ term: 0, index: 0, type: 'normal', data }] }),
    );
  }

  /**
   * Proposes a membership change. It takes effect when the application applies the entry
   * and calls applyConfChange. While a change is pending (proposed by this leader but not
   * applied yet), another is replaced by an empty entry.
   */
  proposeConfChange(cc: ConfChange): void {
    this.raft.stepOrThrow(
      Message.create({
        type: 'MsgProp',
        from: this.id,
        entries: [{ term: 0, index: 0, type: 'confChange', data: ConfChange.encode(cc) }],
      }),
    );
  }

  /** Makes an applied conf change take effect; returns the new membership, for the next snapshot. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /**
   * Hands a message from a peer to the node. Local message types are refused (they are
   * generated by the node itself), and answers from members no longer known are ignored.
   */
  step(m: Message): void {
    if (Message.isLocal(m.type)) throw new Error(`raft: cannot step raft local message ${m.type}`);
    if (Message.isResponse(m.type) && !this.raft.tracker.progress.has(m.from) && m.from !== NONE) {
      // An answer from a peer that has left the configuration: nothing to do with it.
      return;
    }
    // A proposal that the leader drops here was forwarded by a follower; that follower's
    // caller finds out by never seeing it committed.
    this.raft.step(m);
  }

  /**
   * Asks the leader to hand leadership to `transferee` (on the leader: directly; on a
   * follower, the request is forwarded). The leader first brings the transferee's log up
   * to date, then sends it MsgTimeoutNow; proposals are dropped meanwhile.
   */
  transferLeadership(transferee: NodeId): void {
    this.raft.step(Message.create({ type: 'MsgTransferLeader', from: transferee }));
  }

  /**
   * Requests a linearizable read. `ctx` identifies the request: it must be non-empty (it
   * rides on heartbeats, where empty means "no read") and unique among pending reads. The
   * answer comes as a ReadState in a later Ready; it never comes if leadership changes
   * meanwhile, so callers time out and retry.
   */
  readIndex(ctx: Uint8Array): void {
    if (ctx.length === 0) throw new Error('raft: readIndex needs a non-empty request context');
    this.raft.step(Message.create({ type: 'MsgReadIndex', from: this.id, context: ctx }));
  }

  /** Tells the leader the transport failed to deliver a message to `id`. */
  reportUnreachable(id: NodeId): void {
    this.raft.step(Message.create({ type: 'MsgUnreachable', from: id }));
  }

  /** Tells the leader how sending a snapshot to `id` ended. */
  reportSnapshot(id: NodeId, status: SnapshotStatus): void {
    this.raft.step(Message.create({ type: 'MsgSnapStatus', from: id, reject: status === 'failure' }));
  }

  status(): Status {
    return this.raft.status();
  }

  /** Whether ready() would return any work. */
  hasReady(): boolean {
    if (this.pending) return false;
    const r = this.raft;
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.raftState !== this.prevSoftState.raftState) return true;
    const hs = r.hardState();
    if (!HardState.isEmpty(hs) && !HardState.equal(hs, this.prevHardState)) return true;
    if (r.log.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.log.unstable.entries.length > 0 || r.log.hasNextCommittedEntries()) return true;
    return r.readStates.length > 0;
  }

  /** Collects the work to do (see the Ready contract in the file header). */
  ready(): Ready {
    if (this.pending) throw new Error('raft: ready() called again before advance()');
    const r = this.raft;
    const ss = r.softState();
    const hs = r.hardState();
    const softChanged = ss.lead !== this.prevSoftState.lead || ss.raftState !== this.prevSoftState.raftState;
    const hardChanged = !HardState.isEmpty(hs) && !HardState.equal(hs, this.prevHardState);
    const entries = r.log.unstableEntries();
    const rd: Ready = {
      softState: softChanged ? ss : undefined,
      hardState: hardChanged ? hs : undefined,
      readStates: r.readStates,
      entries,
      snapshot: r.log.unstable.snapshot,
      committedEntries: r.log.nextCommittedEntries(),
      messages: r.msgs,
      // Only what changes the persistent state needs an fsync: new entries or snapshot, or a
      // new term or vote. A commit index alone can be recovered from the peers.
      mustSync:
        entries.length > 0 ||
        r.log.unstable.snapshot !== undefined ||
        hs.term !== this.prevHardState.term ||
        hs.vote !== this.prevHardState.vote,
    };
    // Messages and read states are handed over now: they must not be handed out twice.
    r.msgs = [];
    r.readStates = [];
    if (softChanged) this.prevSoftState = ss;
    this.pending = rd;
    return rd;
  }

  /** Marks the last Ready as done: its entries are stable and its committed entries applied. */
  advance(): void {
    const rd = this.pending;
    if (!rd) throw new Error('raft: advance() without ready()');
    this.pending = undefined;
    const log = this.raft.log;
    if (rd.hardState) this.prevHardState = rd.hardState;
    if (rd.snapshot) {
      log.stableSnapTo(rd.snapshot.metadata.index);
      // The state machine now holds the snapshot's state.
      if (rd.snapshot.metadata.index > log.applied) log.applied = rd.snapshot.metadata.index;
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      log.stableTo(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) {
      const last = rd.committedEntries[rd.committedEntries.length - 1].index;
      // A snapshot restored since ready() may already have moved applied past these.
      if (last > log.applied) log.appliedTo(last);
    }
  }
}
