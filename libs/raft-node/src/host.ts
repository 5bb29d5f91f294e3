// RaftHost: runs one member of a Raft group for real. It owns a RaftNode (libs/raft) and
// does the work the core leaves outside:
//  - time: a clock calls tick() every tickMs;
//  - the Ready loop, in the order of the core's Ready contract: persist everything the
//    Ready carries in one write (synced when the Ready says so: group commit), then send
//    its messages (a leader sends its appends while it writes: see handleReady), then
//    apply its snapshot and committed entries through the application's StateMachine,
//    then advance();
//  - proposals: propose() resolves once its entry is committed and applied here, and
//    rejects with 'proposal-lost' once its log slot is known to hold another entry;
//  - linearizable reads (readIndex), membership changes, leadership transfer;
//  - snapshots: every snapshotEvery applied entries it asks the application for a
//    snapshot, stores it and compacts the log; a follower too far behind gets a fresh
//    snapshot of the current state (as etcd does), so it always includes the follower.
// Member addresses travel in the log (conf change contexts) and in snapshots, and are
// handed to the transport as members come and go.

import { randomBytes } from 'node:crypto';
import {
  ConfChange,
  Message,
  NONE,
  ProposalDroppedError,
  RaftNode,
  type ConfState,
  type Entry,
  type Logger,
  type NodeId,
  type Ready,
  type Snapshot,
  type StateType,
  type Status,
} from '@keel/raft';
import { systemClock, type Cancel, type Clock } from './clock';
import {
  decodeConfContext,
  decodeProposal,
  decodeSnapshot,
  encodeConfContext,
  encodeProposal,
  encodeSnapshot,
  type ConfChangeContext,
} from './envelope';
import { RaftNodeError } from './errors';
import type { DurableStorage } from './storage';
import type { Transport, TransportHandler } from './transport';

/** The application's replicated state machine. */
export interface StateMachine {
  /**
   * Applies one committed entry, in log order. After a restart the host restores the
   * latest snapshot and applies the entries after it again.
   */
  apply(entry: AppliedEntry): void | Promise<void>;
  /** The state as of the last applied entry, as bytes. */
  snapshot(): Uint8Array | Promise<Uint8Array>;
  /** Replaces the state with a snapshot's (taken as of `index`). */
  restore(data: Uint8Array, index: number): void | Promise<void>;
}

export interface AppliedEntry {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

export interface RaftHostOptions {
  readonly id: NodeId;
  /** The member's stable log; the host closes it on stop(). */
  readonly storage: DurableStorage;
  /** The host starts and stops it. */
  readonly transport: Transport;
  readonly stateMachine: StateMachine;
  /**
   * For a new group: every founding member's address (the same on each founding member).
   * Ignored when the storage already holds state; a member joining an existing group
   * starts with neither, and is added by the group (addLearner, addVoter).
   */
  readonly bootstrap?: ReadonlyMap<NodeId, string> | Record<number, string>;
  readonly clock?: Clock;
  /** Milliseconds per tick. Default 100 (etcd's heartbeat interval). */
  readonly tickMs?: number;
  /** Default 10 ticks (etcd's 1000 ms election timeout at 100 ms per tick). */
  readonly electionTick?: number;
  /** Default 1 tick. */
  readonly heartbeatTick?: number;
  /** Applied entries between snapshots. Default 10,000 (etcd's snapshot count). */
  readonly snapshotEvery?: number;
  /** Entries kept behind a snapshot for followers that lag a little. Default 5,000 (etcd's). */
  readonly keepEntries?: number;
  /** How long propose() and membership changes wait for their entry to apply. Default 10 s. */
  readonly proposalTimeoutMs?: number;
  /** How long readIndex() waits. Default 5 s. */
  readonly readTimeoutMs?: number;
  /**
   * How long a read request waits for the leader's answer before it is asked again. Default
   * 500 ms (etcd's read-index retry). A request sent to a leader that then died, or sent while
   * a member knew no leader, is never answered; asked again, it reaches the new leader.
   */
  readonly readRetryMs?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly maxSizePerMsg?: number;
  readonly maxInflightMsgs?: number;
  readonly random?: () => number;
  readonly logger?: Logger;
  /** Called when this member learns of a new leader (or of none: NONE). */
  readonly onLeaderChange?: (leader: NodeId, term: number) => void;
  /** Called once if the host stops because its storage or state machine failed. */
  readonly onFatal?: (error: RaftNodeError) => void;
}

export interface HostStatus {
  readonly id: NodeId;
  readonly leader: NodeId;
  readonly state: StateType;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly firstIndex: number;
  readonly snapshotIndex: number;
  readonly confState: ConfState;
  readonly members: ReadonlyMap<NodeId, string>;
  /** The core's own status (progress of followers on the leader). */
  readonly raft: Status;
}

interface ProposalWaiter {
  readonly seq: number;
  /** Where the entry went, when this host was leader as it proposed. */
  index?: number;
  term?: number;
  /** Membership changes: the change is rejected as dropped when its slot holds an empty entry. */
  readonly conf: boolean;
  resolve(r: { index: number; term: number }): void;
  reject(e: RaftNodeError): void;
  cancelTimer: Cancel;
}

interface ReadWaiter {
  index?: number;
  /** The request's context, sent again when the leader's answer is late (readRetryMs). */
  readonly ctx: Buffer;
  /** When it was last sent (clock ms). */
  sentAt: number;
  resolve(index: number): void;
  reject(e: RaftNodeError): void;
  cancelTimer: Cancel;
}

export class RaftHost {
  readonly id: NodeId;
  private readonly opts: RaftHostOptions;
  private readonly clock: Clock;
  private readonly storage: DurableStorage;
  private readonly transport: Transport;
  private readonly sm: StateMachine;
  private node!: RaftNode;
  private readonly nonce = randomBytes(8);
  private seq = 0;
  private readonly proposals = new Map<number, ProposalWaiter>();
  /** Proposals made since the last flush (see flushProposals). */
  private proposalBatch: { seq: number; data: Uint8Array; resolve: ProposalWaiter['resolve']; reject: ProposalWaiter['reject'] }[] = [];
  private readonly proposalsByIndex = new Map<number, ProposalWaiter>();
  private readonly reads = new Map<number, ReadWaiter>();
  private readonly leaderWaiters = new Set<() => void>();
  /** Resolved once `index` has been applied (or the host stops). */
  private appliedWaiters: { index: number; resolve: () => void }[] = [];
  private applied = 0;
  private confState: ConfState = { voters: [], learners: [] };
  private readonly members = new Map<NodeId, string>();
  private leader: NodeId = NONE;
  /** Term and vote as last written to storage. */
  private durable: { term: number; vote: NodeId } = { term: 0, vote: NONE };
  private cancelTicker: Cancel | undefined;
  private loop: Promise<void> | undefined;
  private kickQueued = false;
  private started = false;
  private stopped = false;
  private failure: RaftNodeError | undefined;

  constructor(opts: RaftHostOptions) {
    this.opts = opts;
    this.id = opts.id;
    this.clock = opts.clock ?? systemClock;
    this.storage = opts.storage;
    this.transport = opts.transport;
    this.sm = opts.stateMachine;
  }

  // ---- lifecycle ------------------------------------------------------------------------

  /**
   * Bootstraps (if asked and the storage is empty), restores the snapshot, starts the
   * transport and the clock, and resolves once the committed log is replayed. On failure
   * it stops what it started (and closes the storage) before rejecting.
   */
  async start(): Promise<void> {
    if (this.started) throw new RaftNodeError('invalid', 'raft host already started');
    this.started = true;
    try {
      await this.startUp();
    } catch (e) {
      await this.stop();
      throw e instanceof RaftNodeError ? e : new RaftNodeError('storage', `raft member ${this.id} failed to start: ${(e as Error).message}`, { cause: e });
    }
  }

  private async startUp(): Promise<void> {
    const st = this.storage;
    const empty = st.lastIndex() === 0 && st.initialState().hardState.term === 0 && st.snapshot().metadata.index === 0;
    if (empty && this.opts.bootstrap) await this.bootstrap(this.opts.bootstrap);

    const snap = st.snapshot();
    if (snap.metadata.index > 0) await this.restoreSnapshot(snap);
    st.releaseSnapshotData?.();
    const { term, vote } = st.initialState().hardState;
    this.durable = { term, vote };
    this.node = new RaftNode({
      id: this.id,
      storage: st,
      applied: this.applied,
      electionTick: this.opts.electionTick ?? 10,
      heartbeatTick: this.opts.heartbeatTick ?? 1,
      preVote: this.opts.preVote ?? true,
      checkQuorum: this.opts.checkQuorum ?? true,
      maxSizePerMsg: this.opts.maxSizePerMsg,
      maxInflightMsgs: this.opts.maxInflightMsgs,
      random: this.opts.random,
      logger: this.opts.logger,
    });
    await this.transport.start(this.handler);
    if (this.stopped) throw new RaftNodeError('stopped', `raft member ${this.id} was stopped while starting`);
    this.cancelTicker = this.clock.setInterval(() => {
      if (this.stopped) return;
      this.node.tick();
      this.resendReads(this.opts.readRetryMs ?? 500);
      this.kick();
    }, this.opts.tickMs ?? 100);
    // Replay the committed log before answering, so that the state machine and the
    // membership (a founding member's first entries) are current when start() resolves.
    const commit = st.initialState().hardState.commit;
    const replayed = new Promise<void>((resolve) => this.appliedWaiters.push({ index: commit, resolve }));
    this.releaseApplied();
    this.kick();
    await replayed;
    const err = this.unavailable();
    if (err) throw err;
  }

  /**
   * Stops ticking, lets the Ready being handled finish, rejects everything still waiting,
   * and stops the transport and closes the storage.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.cancelTicker?.();
    await this.loop?.catch(() => undefined);
    this.rejectAll(this.failure ?? new RaftNodeError('stopped', `raft member ${this.id} stopped`));
    this.releaseApplied(true);
    await this.transport.stop().catch(() => undefined);
    await this.storage.close().catch(() => undefined);
  }

  // ---- requests ---------------------------------------------------------------------------

  /**
   * Proposes data and resolves with its log position once it is committed and applied on
   * this member. Rejects with 'dropped' when it cannot be proposed now, 'proposal-lost'
   * when its log slot was taken by another entry (it will never apply), and
   * 'outcome-unknown' when no answer came in time: it may still apply.
   */
  propose(data: Uint8Array): Promise<{ index: number; term: number }> {
    const err = this.unavailable();
    if (err) return Promise.reject(err);
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.proposalBatch.push({ seq, data: encodeProposal({ nonce: this.nonce, seq }, data), resolve, reject });
      if (this.proposalBatch.length === 1) queueMicrotask(() => this.flushProposals());
    });
  }

  /**
   * Steps the proposals made since the last flush as one MsgProp. The core sends one
   * MsgApp per follower per MsgProp, so proposals made together travel together (one
   * message per follower instead of one per proposal), as they are persisted together.
   * RaftNode.propose takes one entry at a time; the core's step takes many.
   */
  private flushProposals(): void {
    const batch = this.proposalBatch;
    this.proposalBatch = [];
    if (batch.length === 0) return;
    const err = this.unavailable();
    if (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    const leading = this.node.raft.state === 'leader';
    try {
      this.node.raft.stepOrThrow(
        Message.create({ type: 'MsgProp', from: this.id, entries: batch.map((p) => ({ term: 0, index: 0, type: 'normal' as const, data: p.data })) }),
      );
    } catch (e) {
      const rejection =
        e instanceof ProposalDroppedError
          ? new RaftNodeError('dropped', `proposal dropped by member ${this.id}: ${e.reason}`, { cause: e })
          : new RaftNodeError('storage', `proposal failed on member ${this.id}: ${(e as Error).message}`, { cause: e });
      for (const p of batch) p.reject(rejection);
      return;
    }
    // A leader appends at once: the batch is the last entries of its log.
    const first = this.node.raft.log.lastIndex() - batch.length + 1;
    const term = this.node.raft.term;
    batch.forEach((p, i) => this.track(p.seq, false, p.resolve, p.reject, leading ? { index: first + i, term } : undefined));
    this.kick();
  }

  /**
   * A linearizable read: resolves with an index such that reading the state machine
   * once it has applied that index (it has, when this resolves) sees every write
   * acknowledged before the call.
   */
  readIndex(): Promise<number> {
    const err = this.unavailable();
    if (err) return Promise.reject(err);
    if (this.leader === NONE) return Promise.reject(new RaftNodeError('dropped', `member ${this.id} knows no leader`));
    const seq = ++this.seq;
    const ctx = Buffer.allocUnsafe(16);
    this.nonce.copy(ctx, 0);
    ctx.writeDoubleBE(seq, 8);
    return new Promise<number>((resolve, reject) => {
      const w: ReadWaiter = {
        ctx,
        sentAt: this.clock.now(),
        resolve,
        reject,
        cancelTimer: this.clock.setTimeout(() => {
          this.reads.delete(seq);
          reject(new RaftNodeError('timeout', `read index on member ${this.id} timed out`));
        }, this.opts.readTimeoutMs ?? 5000),
      };
      this.reads.set(seq, w);
      this.node.readIndex(ctx);
      this.kick();
    });
  }

  /** Adds a voting member (or promotes a learner). */
  addVoter(id: NodeId, address: string): Promise<{ index: number; term: number }> {
    return this.changeMembership({ type: 'addNode', nodeId: id }, address);
  }

  /** Adds a non-voting member, which receives the log until it is promoted. */
  addLearner(id: NodeId, address: string): Promise<{ index: number; term: number }> {
    if (this.isMember(id)) return Promise.reject(new RaftNodeError('invalid', `member ${id} is already in the group`));
    return this.changeMembership({ type: 'addLearner', nodeId: id }, address);
  }

  /** Promotes a learner to voter. */
  promote(id: NodeId): Promise<{ index: number; term: number }> {
    if (!this.confState.learners.includes(id)) return Promise.reject(new RaftNodeError('invalid', `member ${id} is not a learner`));
    return this.changeMembership({ type: 'addNode', nodeId: id }, this.members.get(id));
  }

  /** Removes a voter or a learner. */
  removeMember(id: NodeId): Promise<{ index: number; term: number }> {
    if (!this.isMember(id)) return Promise.reject(new RaftNodeError('invalid', `member ${id} is not in the group`));
    return this.changeMembership({ type: 'removeNode', nodeId: id }, undefined);
  }

  /** Hands leadership to `to`; resolves once this member sees `to` lead. */
  transferLeadership(to: NodeId): Promise<void> {
    const err = this.unavailable();
    if (err) return Promise.reject(err);
    if (!this.confState.voters.includes(to)) return Promise.reject(new RaftNodeError('invalid', `member ${to} is not a voter`));
    this.node.transferLeadership(to);
    this.kick();
    const electionMs = (this.opts.electionTick ?? 10) * (this.opts.tickMs ?? 100);
    return this.waitFor(() => this.leader === to, 3 * electionMs, `leadership transfer to ${to}`);
  }

  /** Starts an election now (tests and tools; a member campaigns by itself after an election timeout). */
  campaign(): void {
    if (this.unavailable()) return;
    this.node.campaign();
    this.kick();
  }

  /** Resolves with the leader once one is known. */
  async waitForLeader(timeoutMs = 10_000): Promise<NodeId> {
    await this.waitFor(() => this.leader !== NONE, timeoutMs, 'a leader');
    return this.leader;
  }

  status(): HostStatus {
    if (!this.node) throw new RaftNodeError('stopped', `raft member ${this.id} has not started`);
    const raft = this.node.status();
    return {
      id: this.id,
      leader: this.leader,
      state: raft.softState.raftState,
      term: raft.hardState.term,
      commit: raft.hardState.commit,
      applied: this.applied,
      lastIndex: this.node.raft.log.lastIndex(),
      firstIndex: this.storage.firstIndex(),
      snapshotIndex: this.storage.snapshot().metadata.index,
      confState: this.confState,
      members: new Map(this.members),
      raft,
    };
  }

  /** The error that stopped the host, if any. */
  get fatalError(): RaftNodeError | undefined {
    return this.failure;
  }

  // ---- the Ready loop -----------------------------------------------------------------------

  private readonly handler: TransportHandler = {
    receive: (m: Message) => {
      if (this.stopped) return;
      this.node.step(m);
      this.kick();
    },
    reportUnreachable: (id: NodeId) => {
      if (this.stopped) return;
      this.node.reportUnreachable(id);
      this.kick();
    },
    reportSnapshot: (id, status) => {
      if (this.stopped) return;
      this.node.reportSnapshot(id, status);
      this.kick();
    },
  };

  /**
   * Makes sure the loop runs; it drains every Ready, including those made while it
   * awaited. The start waits for a microtask so that proposals made in one burst of
   * synchronous code share the first Ready (and its fsync) too.
   */
  private kick(): void {
    if (this.loop || this.kickQueued || this.stopped) return;
    this.kickQueued = true;
    queueMicrotask(() => {
      this.kickQueued = false;
      if (this.loop || this.stopped || !this.node.hasReady()) return;
      this.loop = this.runLoop().finally(() => {
        this.loop = undefined;
        // Work stepped in while the last Ready was being advanced.
        if (!this.stopped && this.node.hasReady()) this.kick();
      });
    });
  }

  private async runLoop(): Promise<void> {
    try {
      while (!this.stopped && this.node.hasReady()) {
        const rd = this.node.ready();
        await this.handleReady(rd);
        this.node.advance();
        this.releaseApplied();
        await this.maybeSnapshot();
      }
    } catch (e) {
      this.fail(e);
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState) this.setLeader(rd.softState.lead);
    // 1. A leader's appends and heartbeats go out before its own write, so followers write
    // in parallel with it (Raft thesis §10.2.1) and a commit costs one disk write of latency,
    // not two in a row. Safe here although the core counts the leader's entries toward commit
    // as soon as they are appended: this loop runs one Ready at a time, so the commit index in
    // these messages was computed before this Ready and covers only entries an earlier,
    // finished write made durable; a commit that leans on this Ready's entries is told to no
    // one (no message, no apply, no answer) until the write below is done. Only when term and
    // vote are already durable: a vote must be on disk before anyone hears of its term.
    const leaderFirst = this.node.raft.state === 'leader' && (!rd.hardState || (rd.hardState.term === this.durable.term && rd.hardState.vote === this.durable.vote));
    const early = leaderFirst ? rd.messages.filter((m) => m.type === 'MsgApp' || m.type === 'MsgHeartbeat') : [];
    if (early.length > 0) this.transport.send(early);
    // 2. Persist: one write for the whole Ready (group commit), before anything else is sent.
    if (rd.snapshot || rd.entries.length > 0 || rd.hardState) {
      await this.storage.save({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot }, rd.mustSync);
      if (rd.hardState) this.durable = { term: rd.hardState.term, vote: rd.hardState.vote };
    }
    // 3. Send the rest.
    await this.send(early.length > 0 ? rd.messages.filter((m) => !early.includes(m)) : rd.messages);
    // 4. Apply.
    if (rd.snapshot) await this.restoreSnapshot(rd.snapshot);
    for (const e of rd.committedEntries) {
      if (e.index <= this.applied) continue;
      // Awaited only when the state machine is asynchronous: a synchronous apply keeps the
      // whole batch in one turn, so the callers it answers propose again together.
      const pending = this.applyEntry(e);
      if (pending) await pending;
    }
    for (const rs of rd.readStates) {
      const seq = readSeq(rs.requestCtx, this.nonce);
      const w = seq === undefined ? undefined : this.reads.get(seq);
      // A request sent twice may be answered twice; the first answer is as good as any.
      if (w && w.index === undefined) w.index = rs.index;
    }
    this.releaseReads();
  }

  private async send(messages: readonly Message[]): Promise<void> {
    if (messages.length === 0) return;
    this.transport.send(messages.some((m) => m.type === 'MsgSnap') ? await this.withFreshSnapshots(messages) : messages);
  }

  /** Applies one entry; returns a promise only if the state machine's apply did. */
  private applyEntry(e: Entry): Promise<void> | undefined {
    if (e.type === 'confChange') {
      const cc = ConfChange.decode(e.data);
      const ctx = decodeConfContext(cc.context);
      this.confState = this.node.applyConfChange(cc);
      this.updateMembers(cc, ctx);
      this.applied = e.index;
      const w = ctx.nonce === this.nonce.toString('hex') && ctx.seq !== undefined ? this.proposals.get(ctx.seq) : undefined;
      this.settleAt(e, w);
      return undefined;
    }
    const p = decodeProposal(e.data);
    const done = () => {
      this.applied = e.index;
      const w = p && p.nonce.equals(this.nonce) ? this.proposals.get(p.seq) : undefined;
      this.settleAt(e, w);
    };
    const applying = p ? this.sm.apply({ index: e.index, term: e.term, data: p.data }) : undefined;
    if (applying) return applying.then(done);
    done();
    return undefined;
  }

  /** Resolves the proposal that entry e carries, and rejects the one that expected e's slot, if they differ. */
  private settleAt(e: Entry, mine: ProposalWaiter | undefined): void {
    if (mine) this.finishProposal(mine).resolve({ index: e.index, term: e.term });
    const expected = this.proposalsByIndex.get(e.index);
    if (expected && expected !== mine) {
      const emptied = expected.conf && expected.term === e.term && e.type === 'normal' && e.data.length === 0;
      this.finishProposal(expected).reject(
        emptied
          ? new RaftNodeError('dropped', `membership change at ${e.index} dropped: another change was pending`)
          : new RaftNodeError('proposal-lost', `proposal at index ${e.index} term ${expected.term} was replaced by a new leader's entry (term ${e.term})`),
      );
    }
  }

  private finishProposal(w: ProposalWaiter): ProposalWaiter {
    w.cancelTimer();
    this.proposals.delete(w.seq);
    if (w.index !== undefined && this.proposalsByIndex.get(w.index) === w) this.proposalsByIndex.delete(w.index);
    return w;
  }

  private updateMembers(cc: ConfChange, ctx: ConfChangeContext): void {
    if (cc.type === 'removeNode') {
      this.members.delete(cc.nodeId);
      if (cc.nodeId !== this.id) this.transport.removePeer(cc.nodeId);
      return;
    }
    if (ctx.address) {
      this.members.set(cc.nodeId, ctx.address);
      if (cc.nodeId !== this.id) this.transport.setPeer(cc.nodeId, ctx.address);
    }
  }

  /** Loads a snapshot (ours at start, or the leader's) into the state machine and the member list. */
  private async restoreSnapshot(snap: Snapshot): Promise<void> {
    const env = decodeSnapshot(snap.data);
    await this.sm.restore(env.data, snap.metadata.index);
    this.applied = snap.metadata.index;
    this.confState = snap.metadata.confState;
    for (const id of this.members.keys()) {
      if (!env.members.has(id) && id !== this.id) this.transport.removePeer(id);
    }
    this.members.clear();
    for (const [id, address] of env.members) {
      this.members.set(id, address);
      if (id !== this.id) this.transport.setPeer(id, address);
    }
    // Proposals whose slots the snapshot covers may or may not be in it.
    for (const [index, w] of this.proposalsByIndex) {
      if (index <= snap.metadata.index) {
        this.finishProposal(w).reject(new RaftNodeError('outcome-unknown', `proposal at ${index} was overtaken by a snapshot`));
      }
    }
  }

  /**
   * Replaces the stored snapshot in outgoing MsgSnaps with one of the current state, as
   * etcd does: the stored one may predate the follower's own addition to the group, and
   * the follower would refuse it.
   */
  private async withFreshSnapshots(msgs: readonly Message[]): Promise<Message[]> {
    let fresh: Snapshot | undefined;
    const out: Message[] = [];
    for (const m of msgs) {
      if (m.type !== 'MsgSnap') {
        out.push(m);
        continue;
      }
      fresh ??= {
        data: encodeSnapshot({ members: this.members, data: await this.sm.snapshot() }),
        metadata: { index: this.applied, term: this.storage.term(this.applied), confState: this.confState },
      };
      out.push({ ...m, snapshot: fresh });
    }
    return out;
  }

  private async maybeSnapshot(): Promise<void> {
    const every = this.opts.snapshotEvery ?? 10_000;
    const snapIndex = this.storage.snapshot().metadata.index;
    if (this.applied - snapIndex < every || this.stopped) return;
    const data = encodeSnapshot({ members: this.members, data: await this.sm.snapshot() });
    await this.storage.createSnapshot(this.applied, this.confState, data);
    const compactTo = this.applied - (this.opts.keepEntries ?? 5000);
    if (compactTo >= this.storage.firstIndex()) await this.storage.compact(compactTo);
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private async bootstrap(peers: ReadonlyMap<NodeId, string> | Record<number, string>): Promise<void> {
    const list = peers instanceof Map ? [...peers] : Object.entries(peers).map(([k, v]) => [Number(k), v] as [number, string]);
    if (!list.some(([id]) => id === this.id)) throw new RaftNodeError('invalid', `bootstrap members do not include this member (${this.id})`);
    list.sort((a, b) => a[0] - b[0]);
    // As etcd does: the founding membership is the first entries of the log, committed in
    // term 1 on every founding member alike, so members added later learn it from the log.
    const entries: Entry[] = list.map(([nodeId, address], i) => ({
      term: 1,
      index: i + 1,
      type: 'confChange',
      data: ConfChange.encode({ type: 'addNode', nodeId, context: encodeConfContext({ address }) }),
    }));
    await this.storage.save({ entries, hardState: { term: 1, vote: NONE, commit: entries.length } }, true);
  }

  /** Proposes a membership change (one entry, on its own). */
  private submitConfChange(seq: number, cc: ConfChange): Promise<{ index: number; term: number }> {
    const err = this.unavailable();
    if (err) return Promise.reject(err);
    const leading = this.node.raft.state === 'leader';
    try {
      this.node.proposeConfChange(cc);
    } catch (e) {
      if (e instanceof ProposalDroppedError) {
        return Promise.reject(new RaftNodeError('dropped', `membership change dropped by member ${this.id}: ${e.reason}`, { cause: e }));
      }
      throw e;
    }
    return new Promise((resolve, reject) => {
      this.track(seq, true, resolve, reject, leading ? { index: this.node.raft.log.lastIndex(), term: this.node.raft.term } : undefined);
      this.kick();
    });
  }

  /**
   * Waits for proposal `seq` to apply. `slot` is where a leader put it: then the proposal
   * is known lost as soon as another entry is applied in that slot.
   */
  private track(
    seq: number,
    conf: boolean,
    resolve: ProposalWaiter['resolve'],
    reject: ProposalWaiter['reject'],
    slot: { index: number; term: number } | undefined,
  ): void {
    const timeoutMs = this.opts.proposalTimeoutMs ?? 10_000;
    const w: ProposalWaiter = {
      seq,
      conf,
      resolve,
      reject,
      cancelTimer: this.clock.setTimeout(() => {
        this.finishProposal(w).reject(
          new RaftNodeError('outcome-unknown', `proposal on member ${this.id} not applied within ${timeoutMs} ms; it may still be`),
        );
      }, timeoutMs),
    };
    if (slot) {
      w.index = slot.index;
      w.term = slot.term;
      this.proposalsByIndex.set(slot.index, w);
    }
    this.proposals.set(seq, w);
  }

  private changeMembership(cc: ConfChange, address: string | undefined): Promise<{ index: number; term: number }> {
    if (address !== undefined && !/^[^:\s]+:\d+$/.test(address)) {
      return Promise.reject(new RaftNodeError('invalid', `address ${JSON.stringify(address)}: want host:port`));
    }
    const seq = ++this.seq;
    const context = encodeConfContext({ address, nonce: this.nonce.toString('hex'), seq });
    return this.submitConfChange(seq, { ...cc, context });
  }

  private isMember(id: NodeId): boolean {
    return this.confState.voters.includes(id) || this.confState.learners.includes(id);
  }

  private releaseApplied(all = false): void {
    if (this.appliedWaiters.length === 0) return;
    const due = this.appliedWaiters.filter((w) => all || w.index <= this.applied);
    this.appliedWaiters = this.appliedWaiters.filter((w) => !due.includes(w));
    for (const w of due) w.resolve();
  }

  private releaseReads(): void {
    for (const [seq, w] of this.reads) {
      if (w.index !== undefined && w.index <= this.applied) {
        w.cancelTimer();
        this.reads.delete(seq);
        w.resolve(w.index);
      }
    }
  }

  /**
   * Asks again for the read index of reads still unanswered after `afterMs` (0: all of them).
   * Any leader's answer is a valid read index for a read that began before it was asked, so
   * the same context can go to a new leader; the answers match on it.
   */
  private resendReads(afterMs: number): void {
    if (this.leader === NONE) return;
    const now = this.clock.now();
    for (const w of this.reads.values()) {
      if (w.index !== undefined || now - w.sentAt < afterMs) continue;
      w.sentAt = now;
      this.node.readIndex(w.ctx);
    }
  }

  private setLeader(lead: NodeId): void {
    if (lead === this.leader) return;
    const previous = this.leader;
    this.leader = lead;
    // Reads asked of the old leader (or of no one) go to the new one at once.
    if (lead !== NONE) this.resendReads(0);
    if (previous !== NONE) {
      // Proposals forwarded to the old leader: their fate is unknowable from here (it may
      // have replicated them), so answer now rather than make callers wait out the timeout.
      for (const w of [...this.proposals.values()]) {
        if (w.index === undefined) {
          this.finishProposal(w).reject(
            new RaftNodeError('outcome-unknown', `leader ${previous} lost leadership before proposal on member ${this.id} applied; it may still apply`),
          );
        }
      }
    }
    this.opts.onLeaderChange?.(lead, this.node.raft.term);
    for (const check of [...this.leaderWaiters]) check();
  }

  private waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        cancel();
        this.leaderWaiters.delete(check);
        resolve();
      };
      const cancel = this.clock.setTimeout(() => {
        this.leaderWaiters.delete(check);
        reject(new RaftNodeError('timeout', `member ${this.id}: waited ${timeoutMs} ms for ${what}`));
      }, timeoutMs);
      this.leaderWaiters.add(check);
    });
  }

  private unavailable(): RaftNodeError | undefined {
    if (this.failure) return this.failure;
    if (!this.started || this.stopped) return new RaftNodeError('stopped', `raft member ${this.id} is not running`);
    return undefined;
  }

  private rejectAll(err: RaftNodeError): void {
    for (const w of [...this.proposals.values()]) {
      this.finishProposal(w).reject(
        err.code === 'stopped' ? new RaftNodeError('stopped', `${err.message}; the proposal may still apply`) : err,
      );
    }
    for (const w of this.reads.values()) {
      w.cancelTimer();
      w.reject(err);
    }
    this.reads.clear();
  }

  private fail(e: unknown): void {
    if (this.failure) return;
    const err =
      e instanceof RaftNodeError ? e : new RaftNodeError('storage', `raft member ${this.id} failed: ${(e as Error).message}`, { cause: e });
    this.failure = err;
    this.opts.logger?.error(`raft member ${this.id} stopping: ${err.message}`);
    this.opts.onFatal?.(err);
    void this.stop();
  }
}

function readSeq(ctx: Uint8Array, nonce: Buffer): number | undefined {
  if (ctx.length !== 16) return undefined;
  const buf = Buffer.from(ctx.buffer, ctx.byteOffset, ctx.byteLength);
  if (!buf.subarray(0, 8).equals(nonce)) return undefined;
  return buf.readDoubleBE(8);
}
