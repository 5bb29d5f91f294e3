// The Raft state machine of one member: terms and votes, the role it plays (follower,
// pre-candidate, candidate, leader), and what it does with each message. It does no I/O:
// messages it wants sent are appended to `msgs`, entries it wants persisted sit in the
// log's unstable part, and RaftNode (node.ts) packages both into a Ready. Time is the
// number of tick() calls, and randomness comes from the configured `random` function.
//
// Roles are swapped functions, as in etcd-io/raft: becoming leader sets `stepRole` to
// stepLeader and `tickRole` to tickHeartbeat. Timers are messages: an election timeout is
// step(MsgHup), a heartbeat timeout step(MsgBeat), a quorum check step(MsgCheckQuorum).
//
// Section numbers (§) refer to the Raft paper (Ongaro & Ousterhout, 2014); "thesis"
// to Ongaro's dissertation, which describes PreVote, CheckQuorum, leadership transfer and
// ReadIndex.

import { describeConfState, describeEntries } from './describe';
import { ErrCompacted, ErrSnapshotTemporarilyUnavailable, ErrUnavailable, ProposalDroppedError, type ProposalDroppedReason } from './errors';
import { discardLogger, type Logger } from './logger';
import { NO_LIMIT, RaftLog } from './log';
import { ProgressTracker, type Progress, type ProgressStatus } from './progress';
import { seededRandom } from './random';
import { ReadOnly, type ReadOnlyOption } from './read-only';
import type { Storage } from './storage';
import {
  ConfChange,
  HardState,
  Message,
  NONE,
  Snapshot,
  type ConfState,
  type Entry,
  type MessageType,
  type NodeId,
  type ReadState,
  type SoftState,
  type StateType,
} from './types';

/** How a member is configured. Only id, electionTick, heartbeatTick and storage are required. */
export interface Config {
  /** This member's id; never 0. */
  readonly id: NodeId;
  /**
   * Ticks a follower waits without hearing from a leader before it campaigns. The actual
   * timeout is drawn at random from [electionTick, 2*electionTick) each time, so that
   * split votes resolve. Must be greater than heartbeatTick (etcd uses 10x).
   */
  readonly electionTick: number;
  /** Ticks between the leader's heartbeats. */
  readonly heartbeatTick: number;
  /** The stable log. On restart it holds the persisted entries, hard state and snapshot. */
  readonly storage: Storage;
  /**
   * The last index the application has applied (default: the snapshot's). On restart,
   * committed entries after it are handed out again; conf changes up to it are re-applied
   * by the node itself.
   */
  readonly applied?: number;
  /** The most bytes of entries in one MsgApp (at least one entry is always sent). Default 1 MiB. */
  readonly maxSizePerMsg?: number;
  /** The most bytes of committed entries in one Ready. Default no limit. */
  readonly maxCommittedSizePerReady?: number;
  /** The most MsgApp in flight to one follower in replicate state. Default 256. */
  readonly maxInflightMsgs?: number;
  /** Ask "would you vote for me?" before disrupting the cluster with a new term (thesis §9.6). */
  readonly preVote?: boolean;
  /**
   * A leader steps down when it has not heard from a quorum for an election timeout; a
   * follower that has heard from its leader within the election timeout ignores vote
   * requests (the leader lease).
   */
  readonly checkQuorum?: boolean;
  /** How ReadIndex confirms leadership; 'lease-based' requires checkQuorum. Default 'safe'. */
  readonly readOnlyOption?: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. */
  readonly disableProposalForwarding?: boolean;
  /** Randomness for election timeouts, in [0, 1). Default: a PRNG seeded with the id. */
  readonly random?: () => number;
  readonly logger?: Logger;
}

/** How a campaign starts: a pre-vote first, a real election, or a leadership transfer. */
export type CampaignType = 'pre-election' | 'election' | 'transfer';

/** Marks a vote request sent because of a leadership transfer: voters must not ignore it for their lease. */
export const CAMPAIGN_TRANSFER_CONTEXT: Uint8Array = Uint8Array.from(
  Array.from('CampaignTransfer', (c) => c.charCodeAt(0)),
);

function isCampaignTransfer(ctx: Uint8Array | undefined): boolean {
  if (!ctx || ctx.length !== CAMPAIGN_TRANSFER_CONTEXT.length) return false;
  return ctx.every((b, i) => b === CAMPAIGN_TRANSFER_CONTEXT[i]);
}

function voteRespType(t: MessageType): MessageType {
  switch (t) {
    case 'MsgVote':
      return 'MsgVoteResp';
    case 'MsgPreVote':
      return 'MsgPreVoteResp';
    default:
      throw new Error(`not a vote message: ${t}`);
  }
}

/** A snapshot of a member's state for monitoring; `progress` is filled in on the leader only. */
export interface Status {
  readonly id: NodeId;
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly applied: number;
  readonly leadTransferee: NodeId;
  readonly progress?: ReadonlyMap<NodeId, ProgressStatus>;
  readonly confState: ConfState;
}

type MessageInput = Partial<Message> & Pick<Message, 'type' | 'to'>;

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  state: StateType = 'follower';
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  /** Messages to send, drained into each Ready. */
  msgs: Message[] = [];
  /** Answers to ReadIndex requests made on this node, drained into each Ready. */
  readStates: ReadState[] = [];
  /** The member leadership is being handed to, or NONE. */
  leadTransferee: NodeId = NONE;
  /**
   * The log index of the last conf change this leader proposed. Another may be proposed
   * only once it has been applied, so at most one is pending at a time.
   */
  pendingConfIndex = 0;
  private readOnly: ReadOnly;
  /** ReadIndex requests that arrived before this leader committed an entry of its own term. */
  private pendingReadIndexMessages: Message[] = [];

  /** Ticks since the last election timeout (follower, candidate) or since this leader last checked quorum. */
  electionElapsed = 0;
  /** Leader only: ticks since the last heartbeat. */
  private heartbeatElapsed = 0;
  private readonly electionTimeout: number;
  private readonly heartbeatTimeout: number;
  /** Drawn from [electionTimeout, 2*electionTimeout) on every reset. */
  randomizedElectionTimeout = 0;

  private readonly maxMsgSize: number;
  private readonly checkQuorum: boolean;
  private readonly preVote: boolean;
  private readonly disableProposalForwarding: boolean;
  private readonly random: () => number;
  readonly logger: Logger;

  private tickRole: () => void = () => this.tickElection();
  private stepRole: (m: Message) => ProposalDroppedReason | undefined = (m) => this.stepFollower(m);

  constructor(c: Config) {
    if (c.id === NONE) throw new Error('cannot use 0 as id');
    if (c.heartbeatTick <= 0) throw new Error('heartbeat tick must be greater than 0');
    if (c.electionTick <= c.heartbeatTick) throw new Error('election tick must be greater than heartbeat tick');
    const maxInflight = c.maxInflightMsgs ?? 256;
    if (maxInflight <= 0) throw new Error('max inflight messages must be greater than 0');
    const readOnlyOption = c.readOnlyOption ?? 'safe';
    if (readOnlyOption === 'lease-based' && !c.checkQuorum) {
      throw new Error('checkQuorum must be enabled when the read-only option is lease-based');
    }

    this.id = c.id;
    this.logger = c.logger ?? discardLogger;
    this.log = new RaftLog(c.storage, this.logger, c.maxCommittedSizePerReady ?? NO_LIMIT);
    this.tracker = new ProgressTracker(maxInflight);
    this.readOnly = new ReadOnly(readOnlyOption);
    this.electionTimeout = c.electionTick;
    this.heartbeatTimeout = c.heartbeatTick;
    this.maxMsgSize = c.maxSizePerMsg ?? 1024 * 1024;
    this.checkQuorum = c.checkQuorum ?? false;
    this.preVote = c.preVote ?? false;
    this.disableProposalForwarding = c.disableProposalForwarding ?? false;
    this.random = c.random ?? seededRandom(c.id);

    const { hardState, confState } = c.storage.initialState();
    this.restoreMembership(confState);
    if (!HardState.isEmpty(hardState)) this.loadState(hardState);
    if (c.applied !== undefined && c.applied > this.log.applied) {
      // Membership is stored with the snapshot; changes applied after it are in the log
      // and must take effect again, since they will not be handed out again.
      const replay = this.log.slice(this.log.applied + 1, c.applied + 1, NO_LIMIT);
      this.log.appliedTo(c.applied);
      for (const e of replay) if (e.type === 'confChange') this.applyConfChange(ConfChange.decode(e.data));
    }
    this.becomeFollower(this.term, NONE);

    const nodes = [...this.tracker.voters].sort((a, b) => a - b).join(',');
    this.logger.info(
      `newRaft ${this.id} [peers: [${nodes}], term: ${this.term}, commit: ${this.log.committed}, applied: ${this.log.applied}, lastindex: ${this.log.lastIndex()}, lastterm: ${this.log.lastTerm()}]`,
    );
  }

  // ---- persistent and soft state -------------------------------------------------------

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.log.committed || hs.commit > this.log.lastIndex()) {
      throw new Error(`${this.id} state.commit ${hs.commit} is out of range [${this.log.committed}, ${this.log.lastIndex()}]`);
    }
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /** Whether this member may campaign: it is a voter in the configuration it knows. */
  promotable(): boolean {
    return this.tracker.voters.has(this.id);
  }

  status(): Status {
    return {
      id: this.id,
      hardState: this.hardState(),
      softState: this.softState(),
      applied: this.log.applied,
      leadTransferee: this.leadTransferee,
      progress: this.state === 'leader' ? new Map([...this.tracker.progress].map(([id, pr]) => [id, pr.status()])) : undefined,
      confState: this.tracker.confState(),
    };
  }

  // ---- sending ---------------------------------------------------------------------------

  /** Queues a message, stamping it with our id and, where the protocol wants it, our term. */
  private send(fields: MessageInput): void {
    // `from` is ours, except on a forwarded MsgTransferLeader, where it names the transferee.
    let m = Message.create({ from: this.id, ...fields });
    const isVote = m.type === 'MsgVote' || m.type === 'MsgVoteResp' || m.type === 'MsgPreVote' || m.type === 'MsgPreVoteResp';
    if (isVote) {
      // Vote traffic carries the term it is about, which for pre-votes is not our term.
      if (m.term === 0) throw new Error(`term should be set when sending ${m.type}`);
    } else {
      if (m.term !== 0) throw new Error(`term should not be set when sending ${m.type} (was ${m.term})`);
      // Proposals and read requests forwarded to the leader are treated there as local
      // messages, so they carry no term.
      if (m.type !== 'MsgProp' && m.type !== 'MsgReadIndex') m = { ...m, term: this.term };
    }
    this.msgs.push(m);
  }

  /** Sends a MsgApp (or, if the entries are compacted, a MsgSnap) to `to`, even if it carries no entries. */
  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends what `to` needs next, unless its progress is paused (flow control). With
   * sendIfEmpty false, an append with no entries is not worth a message. Returns whether
   * a message was sent.
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.progress.get(to);
    if (!pr || pr.isPaused()) return false;

    let prevTerm: number;
    let entries: Entry[];
    try {
      prevTerm = this.log.term(pr.next - 1);
      entries = this.log.entries(pr.next, this.maxMsgSize);
    } catch (e) {
      if (e === ErrCompacted || e === ErrUnavailable) return this.maybeSendSnapshot(to, pr);
      throw e;
    }
    if (entries.length === 0 && !sendIfEmpty) return false;

    this.send({ to, type: 'MsgApp', index: pr.next - 1, logTerm: prevTerm, entries, commit: this.log.committed });
    if (entries.length > 0 && pr.state === 'replicate') {
      // Pipelining: assume the follower takes these, and send the next batch without waiting.
      const last = entries[entries.length - 1].index;
      pr.optimisticUpdate(last);
      pr.inflights.add(last);
    }
    // A probe waits for its answer before the next one.
    if (pr.state === 'probe') pr.probeSent = true;
    return true;
  }

  /** The entries `to` needs are gone from the log: send the latest snapshot instead. */
  private maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) {
      this.logger.debug(`ignore sending snapshot to ${to} since it is not recently active`);
      return false;
    }
    let snapshot: Snapshot;
    try {
      snapshot = this.log.snapshot();
    } catch (e) {
      if (e === ErrSnapshotTemporarilyUnavailable) {
        this.logger.debug(`${this.id} failed to send snapshot to ${to} because snapshot is temporarily unavailable`);
        return false;
      }
      throw e;
    }
    if (Snapshot.isEmpty(snapshot)) throw new Error('need non-empty snapshot');
    const { index, term } = snapshot.metadata;
    this.logger.debug(
      `${this.id} [firstindex: ${this.log.firstIndex()}, commit: ${this.log.committed}] sent snapshot[index: ${index}, term: ${term}] to ${to} [${pr.toString()}]`,
    );
    pr.becomeSnapshot(index);
    this.send({ to, type: 'MsgSnap', snapshot });
    return true;
  }

  /** A heartbeat tells `to` the commit index, but never beyond what it is known to have. */
  private sendHeartbeat(to: NodeId, context: Uint8Array | undefined): void {
    const pr = this.tracker.progress.get(to);
    const commit = Math.min(pr?.match ?? 0, this.log.committed);
    this.send({ to, type: 'MsgHeartbeat', commit, context });
  }

  private forEachPeer(fn: (id: NodeId, pr: Progress) => void): void {
    for (const [id, pr] of this.tracker.progress) if (id !== this.id) fn(id, pr);
  }

  bcastAppend(): void {
    this.forEachPeer((id) => this.sendAppend(id));
  }

  private bcastHeartbeat(): void {
    const ctx = this.readOnly.lastPendingRequestCtx();
    this.forEachPeer((id) => this.sendHeartbeat(id, ctx));
  }

  // ---- commit and append -----------------------------------------------------------------

  /** Advances commit to what a quorum has stored, if that entry is of our term. */
  private maybeCommit(): boolean {
    return this.log.maybeCommit(this.tracker.committed(), this.term);
  }

  /** The leader appends entries of its term; its own progress advances at once. */
  private appendEntry(entries: readonly Entry[]): void {
    let li = this.log.lastIndex();
    const stamped = entries.map((e) => ({ ...e, term: this.term, index: ++li }));
    li = this.log.append(stamped);
    this.tracker.progress.get(this.id)?.maybeUpdate(li);
    // A single voter commits on its own.
    if (this.maybeCommit()) this.releasePendingReadIndexMessages();
  }

  // ---- roles -----------------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.tracker.resetVotes();
    const last = this.log.lastIndex();
    for (const [id, pr] of this.tracker.progress) {
      pr.becomeProbe();
      pr.match = id === this.id ? last : 0;
      pr.next = last + 1;
      pr.recentActive = id === this.id;
    }
    this.pendingConfIndex = 0;
    this.readOnly = new ReadOnly(this.readOnly.option);
    this.pendingReadIndexMessages = [];
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.stepRole = (m) => this.stepFollower(m);
    this.reset(term);
    this.tickRole = () => this.tickElection();
    this.lead = lead;
    this.state = 'follower';
    this.logger.info(`${this.id} became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    if (this.state === 'leader') throw new Error('invalid transition [leader -> candidate]');
    this.stepRole = (m) => this.stepCandidate(m);
    this.reset(this.term + 1);
    this.tickRole = () => this.tickElection();
    this.vote = this.id;
    this.state = 'candidate';
    this.logger.info(`${this.id} became candidate at term ${this.term}`);
  }

  /** A pre-candidate keeps its term and vote: it only asks whether it could win (thesis §9.6). */
  becomePreCandidate(): void {
    if (this.state === 'leader') throw new Error('invalid transition [leader -> pre-candidate]');
    this.stepRole = (m) => this.stepCandidate(m);
    this.tracker.resetVotes();
    this.tickRole = () => this.tickElection();
    this.lead = NONE;
    this.state = 'pre-candidate';
    this.logger.info(`${this.id} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    if (this.state === 'follower') throw new Error('invalid transition [follower -> leader]');
    this.stepRole = (m) => this.stepLeader(m);
    this.reset(this.term);
    this.tickRole = () => this.tickHeartbeat();
    this.lead = this.id;
    this.state = 'leader';
    // Our own log is trivially up to date with ourselves.
    this.tracker.progress.get(this.id)?.becomeReplicate();
    // Conf changes already in the log may not have been applied yet; forbid a new one until
    // everything up to here is applied, so two changes can never overlap.
    this.pendingConfIndex = this.log.lastIndex();
    // An empty entry of our term: committing it commits everything before it (§5.4.2),
    // and tells us the commit index for ReadIndex (thesis §6.4).
    this.appendEntry([{ term: 0, index: 0, type: 'normal', data: new Uint8Array(0) }]);
    this.logger.info(`${this.id} became leader at term ${this.term}`);
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.random() * this.electionTimeout);
  }

  private pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  // ---- time ------------------------------------------------------------------------------

  tick(): void {
    this.tickRole();
  }

  /** Followers and candidates: campaign when the randomized election timeout passes (§5.2). */
  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(Message.create({ type: 'MsgHup', from: this.id }));
    }
  }

  /** Leaders: heartbeat every heartbeatTimeout; check quorum every electionTimeout. */
  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;

    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(Message.create({ type: 'MsgCheckQuorum', from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned, so proposals flow again.
      if (this.state === 'leader' && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.state !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(Message.create({ type: 'MsgBeat', from: this.id }));
    }
  }

  // ---- elections -------------------------------------------------------------------------

  private hup(t: CampaignType): void {
    if (this.state === 'leader') {
      this.logger.debug(`${this.id} ignoring MsgHup because already leader`);
      return;
    }
    if (!this.promotable()) {
      this.logger.warn(`${this.id} is unpromotable and can not campaign`);
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      // Becoming leader with a conf change still to apply could let two changes overlap.
      this.logger.warn(`${this.id} cannot campaign at term ${this.term} since there are still pending configuration changes to apply`);
      return;
    }
    this.logger.info(`${this.id} is starting a new election at term ${this.term}`);
    this.campaign(t);
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.log.applied >= this.log.committed) return false;
    let entries: Entry[];
    try {
      entries = this.log.slice(Math.max(this.log.applied + 1, this.log.firstIndex()), this.log.committed + 1, NO_LIMIT);
    } catch (e) {
      if (e === ErrCompacted) return false;
      throw e;
    }
    return entries.some((e) => e.type === 'confChange');
  }

  campaign(t: CampaignType): void {
    if (!this.promotable()) {
      this.logger.warn(`${this.id} is unpromotable; campaign() should have been called`);
      return;
    }
    let term: number;
    let voteMsg: MessageType;
    if (t === 'pre-election') {
      this.becomePreCandidate();
      voteMsg = 'MsgPreVote';
      // The term we would campaign in, without moving to it yet.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = 'MsgVote';
      term = this.term;
    }
    // We vote for ourselves; the vote is in the hard state persisted before these messages go out.
    if (this.poll(this.id, voteRespType(voteMsg), true) === 'won') {
      // A single voter wins at once.
      if (t === 'pre-election') {
        this.campaign('election');
      } else {
        this.becomeLeader();
        // Learners (the only other members) need the log too.
        this.bcastAppend();
      }
      return;
    }
    const voters = [...this.tracker.voters].sort((a, b) => a - b);
    for (const id of voters) {
      if (id === this.id) continue;
      this.logger.info(
        `${this.id} [logterm: ${this.log.lastTerm()}, index: ${this.log.lastIndex()}] sent ${voteMsg} request to ${id} at term ${this.term}`,
      );
      this.send({
        to: id,
        type: voteMsg,
        term,
        index: this.log.lastIndex(),
        logTerm: this.log.lastTerm(),
        context: t === 'transfer' ? CAMPAIGN_TRANSFER_CONTEXT : undefined,
      });
    }
  }

  private poll(id: NodeId, t: MessageType, granted: boolean): 'won' | 'lost' | 'pending' {
    if (granted) this.logger.info(`${this.id} received ${t} from ${id} at term ${this.term}`);
    else this.logger.info(`${this.id} received ${t} rejection from ${id} at term ${this.term}`);
    this.tracker.recordVote(id, granted);
    const { granted: g, rejected, result } = this.tracker.tallyVotes();
    if (id !== this.id) this.logger.info(`${this.id} has received ${g} ${t} votes and ${rejected} vote rejections`);
    return result;
  }

  // ---- step: the one entry point for messages --------------------------------------------

  /**
   * Handles one message, local or from a peer. Returns the reason a proposal was dropped,
   * if this was a proposal that could not be accepted.
   */
  step(m: Message): ProposalDroppedReason | undefined {
    // First, the term: every message carries one, and a newer term always wins (§5.1).
    if (m.term === 0) {
      // Local message (or a forwarded proposal or read request).
    } else if (m.term > this.term) {
      if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
        const force = isCampaignTransfer(m.context);
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        if (!force && inLease) {
          // The leader lease: we heard from a live leader within the election timeout, so a
          // vote request now comes from a member that was cut off; ignore it rather than
          // let it disrupt a working leader (thesis §4.2.3).
          this.logger.info(
            `${this.id} [logterm: ${this.log.lastTerm()}, index: ${this.log.lastIndex()}, vote: ${this.vote}] ignored ${m.type} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}: lease is not expired (remaining ticks: ${this.electionTimeout - this.electionElapsed})`,
          );
          return undefined;
        }
      }
      if (m.type === 'MsgPreVote') {
        // A pre-vote is hypothetical: it never changes our term.
      } else if (m.type === 'MsgPreVoteResp' && !m.reject) {
        // A granted pre-vote carries the term we would campaign in; we move there only
        // once a quorum grants it.
      } else {
        this.logger.info(`${this.id} [term: ${this.term}] received a ${m.type} message with higher term from ${m.from} [term: ${m.term}]`);
        const fromLeader = m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap';
        this.becomeFollower(m.term, fromLeader ? m.from : NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'MsgHeartbeat' || m.type === 'MsgApp')) {
        // A leader from an older term, probably cut off and just reconnected. Tell it our
        // term so it steps down: with CheckQuorum or PreVote, the member that moved to our
        // term may otherwise never win an election, since the stale leader's followers
        // ignore it, and the group would be stuck.
        this.send({ to: m.from, type: 'MsgAppResp' });
      } else if (m.type === 'MsgPreVote') {
        // Reject with our term so the pre-candidate learns it is behind.
        this.logger.info(
          `${this.id} [logterm: ${this.log.lastTerm()}, index: ${this.log.lastIndex()}, vote: ${this.vote}] rejected ${m.type} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
        );
        this.send({ to: m.from, term: this.term, type: 'MsgPreVoteResp', reject: true });
      } else {
        this.logger.info(`${this.id} [term: ${this.term}] ignored a ${m.type} message with lower term from ${m.from} [term: ${m.term}]`);
      }
      return undefined;
    }

    switch (m.type) {
      case 'MsgHup':
        this.hup(this.preVote ? 'pre-election' : 'election');
        return undefined;

      case 'MsgVote':
      case 'MsgPreVote': {
        // We can vote for this candidate if we already did in this term (a retransmission),
        // or have not voted and know no leader, or this is a pre-vote for a later term.
        const canVote =
          this.vote === m.from ||
          (this.vote === NONE && this.lead === NONE) ||
          (m.type === 'MsgPreVote' && m.term > this.term);
        // ...and the candidate's log is at least as up to date as ours (§5.4.1).
        if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
          this.logger.info(
            `${this.id} [logterm: ${this.log.lastTerm()}, index: ${this.log.lastIndex()}, vote: ${this.vote}] cast ${m.type} for ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
          );
          // Answer in the term of the request: for a pre-vote that is a future term, which
          // the pre-candidate must see to count the vote.
          this.send({ to: m.from, term: m.term, type: voteRespType(m.type) });
          if (m.type === 'MsgVote') {
            // Only a real vote is binding, and it resets our election timer (§5.2).
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.logger.info(
            `${this.id} [logterm: ${this.log.lastTerm()}, index: ${this.log.lastIndex()}, vote: ${this.vote}] rejected ${m.type} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
          );
          this.send({ to: m.from, term: this.term, type: voteRespType(m.type), reject: true });
        }
        return undefined;
      }

      default:
        return this.stepRole(m);
    }
  }

  // ---- leader ----------------------------------------------------------------------------

  private stepLeader(m: Message): ProposalDroppedReason | undefined {
    // Messages that need no progress of a peer.
    switch (m.type) {
      case 'MsgBeat':
        this.bcastHeartbeat();
        return undefined;

      case 'MsgCheckQuorum':
        // Step down if a quorum has not been heard from within the last election timeout
        // (thesis §6.2): a partitioned leader then stops accepting writes it cannot commit.
        if (!this.tracker.quorumActive()) {
          this.logger.warn(`${this.id} stepped down to follower since quorum is not active`);
          this.becomeFollower(this.term, NONE);
        }
        // Start a fresh round of activity.
        for (const [id, pr] of this.tracker.progress) if (id !== this.id) pr.recentActive = false;
        return undefined;

      case 'MsgProp': {
        if (m.entries.length === 0) return 'empty';
        if (!this.tracker.progress.has(this.id)) {
          // We were removed from the configuration but are still leader until we learn of a successor.
          return 'not-a-member';
        }
        if (this.leadTransferee !== NONE) {
          this.logger.info(`${this.id} [term ${this.term}] transfer leadership to ${this.leadTransferee} is in progress; dropping proposal`);
          return 'transfer-in-progress';
        }
        const entries = m.entries.map((e, i) => {
          if (e.type !== 'confChange') return e;
          if (this.pendingConfIndex > this.log.applied) {
            // One change at a time: a second one proposed before the first is applied is
            // replaced by an empty entry, so it takes its log slot but changes nothing.
            this.logger.info(
              `${this.id} propose conf ${describeEntries([e])} ignored since pending unapplied configuration [index ${this.pendingConfIndex}, applied ${this.log.applied}]`,
            );
            return { ...e, type: 'normal' as const, data: new Uint8Array(0) };
          }
          this.pendingConfIndex = this.log.lastIndex() + i + 1;
          return e;
        });
        this.appendEntry(entries);
        this.bcastAppend();
        return undefined;
      }

      case 'MsgReadIndex': {
        if (this.tracker.isSingleton()) {
          // No one to confirm leadership with: we are the quorum.
          this.respondToReadIndex(m, this.log.committed);
          return undefined;
        }
        if (!this.committedEntryInCurrentTerm()) {
          // Our commit index may lag the true one until an entry of our term commits (thesis §6.4).
          this.pendingReadIndexMessages.push(m);
          return undefined;
        }
        this.sendReadIndexResponse(m);
        return undefined;
      }

      default:
        break;
    }

    // Everything else comes from a peer and concerns its progress.
    const pr = this.tracker.progress.get(m.from);
    if (!pr) {
      this.logger.debug(`${this.id} no progress available for ${m.from}`);
      return undefined;
    }

    switch (m.type) {
      case 'MsgAppResp':
        this.handleAppendResponse(m, pr);
        break;

      case 'MsgHeartbeatResp': {
        pr.recentActive = true;
        pr.probeSent = false;
        // A live follower with a full window: free one slot so replication does not stall
        // if an acknowledgement was lost.
        if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);

        if (this.readOnly.option !== 'safe' || !m.context || m.context.length === 0) break;
        const acks = this.readOnly.recvAck(m.from, m.context);
        if (!this.tracker.hasQuorum(acks)) break;
        for (const rs of this.readOnly.advance(m.context)) this.respondToReadIndex(rs.request, rs.index);
        break;
      }

      case 'MsgSnapStatus':
        if (pr.state !== 'snapshot') break;
        if (!m.reject) {
          this.logger.debug(`${this.id} snapshot succeeded, resumed sending replication messages to ${m.from} [${pr.toString()}]`);
        } else {
          // Sending failed: forget it was sent; probing will decide whether to send another.
          pr.pendingSnapshot = 0;
          this.logger.debug(`${this.id} snapshot failed, resumed sending replication messages to ${m.from} [${pr.toString()}]`);
        }
        pr.becomeProbe();
        // Wait for the follower's answer to the snapshot (or a heartbeat) before probing.
        pr.probeSent = true;
        break;

      case 'MsgUnreachable':
        // The transport dropped a message: stop streaming and probe, in case it was an append.
        if (pr.state === 'replicate') pr.becomeProbe();
        this.logger.debug(`${this.id} failed to send message to ${m.from} because it is unreachable [${pr.toString()}]`);
        break;

      case 'MsgTransferLeader': {
        if (pr.isLearner) {
          this.logger.debug(`${this.id} is learner. Ignored transferring leadership`);
          break;
        }
        const transferee = m.from;
        if (this.leadTransferee !== NONE) {
          if (this.leadTransferee === transferee) {
            this.logger.info(`${this.id} [term ${this.term}] transfer leadership to ${transferee} is in progress, ignores request to same node ${transferee}`);
            break;
          }
          this.abortLeaderTransfer();
          this.logger.info(`${this.id} [term ${this.term}] abort previous transferring leadership to ${this.leadTransferee}`);
        }
        if (transferee === this.id) {
          this.logger.debug(`${this.id} is already leader. Ignored transferring leadership to self`);
          break;
        }
        this.logger.info(`${this.id} [term ${this.term}] starts to transfer leadership to ${transferee}`);
        // The transfer must finish within an election timeout, or it is abandoned.
        this.electionElapsed = 0;
        this.leadTransferee = transferee;
        if (pr.match === this.log.lastIndex()) {
          this.sendTimeoutNow(transferee);
          this.logger.info(`${this.id} sends MsgTimeoutNow to ${transferee} immediately as ${transferee} already has up-to-date log`);
        } else {
          // Catch it up first; the MsgAppResp that shows it is current triggers MsgTimeoutNow.
          this.sendAppend(transferee);
        }
        break;
      }

      default:
        break;
    }
    return undefined;
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;

    if (m.reject) {
      this.logger.debug(`${this.id} received MsgAppResp(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${m.from} for index ${m.index}`);
      // Fast back-tracking: the follower told us the last index (and its term) at or
      // before the rejected one where its log could match. Skip to the last of our entries
      // with a term no greater than that, so each round trip skips a whole term.
      let nextProbeIdx = m.rejectHint;
      if (m.logTerm > 0) nextProbeIdx = this.log.findConflictByTerm(m.rejectHint, m.logTerm)[0];
      if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
        this.logger.debug(`${this.id} decreased progress of ${m.from} to [${pr.toString()}]`);
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }

    const oldPaused = pr.isPaused();
    if (pr.maybeUpdate(m.index)) {
      switch (pr.state) {
        case 'probe':
          // The follower's log matches up to here: start streaming.
          pr.becomeReplicate();
          break;
        case 'snapshot':
          // The snapshot (or entries covering it) arrived; stream from after it.
          if (pr.match + 1 >= this.log.firstIndex()) {
            this.logger.debug(`${this.id} recovered from needing snapshot, resumed sending replication messages to ${m.from} [${pr.toString()}]`);
            pr.becomeReplicate();
          }
          break;
        case 'replicate':
          pr.inflights.freeLE(m.index);
          break;
      }

      if (this.maybeCommit()) {
        this.releasePendingReadIndexMessages();
        // Tell everyone the new commit index.
        this.bcastAppend();
      } else if (oldPaused) {
        // We held back while paused; now there is room again.
        this.sendAppend(m.from);
      }
      // Fill the in-flight window while there is more to send.
      while (this.maybeSendAppend(m.from, false)) {
        // keep sending
      }
      if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
        this.logger.info(`${this.id} sent MsgTimeoutNow to ${m.from} after received MsgAppResp`);
        this.sendTimeoutNow(m.from);
      }
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ to, type: 'MsgTimeoutNow' });
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.termOrZero(this.log.committed) === this.term;
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of pending) this.sendReadIndexResponse(m);
  }

  /** Records the read at the current commit index, then confirms leadership (safe) or trusts the lease. */
  private sendReadIndexResponse(m: Message): void {
    if (this.readOnly.option === 'safe') {
      this.readOnly.addRequest(this.log.committed, m);
      // We count as one acknowledgement ourselves.
      this.readOnly.recvAck(this.id, m.context);
      this.forEachPeer((id) => this.sendHeartbeat(id, m.context));
    } else {
      this.respondToReadIndex(m, this.log.committed);
    }
  }

  private respondToReadIndex(req: Message, index: number): void {
    const requestCtx = req.context ?? new Uint8Array(0);
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, requestCtx });
    } else {
      this.send({ to: req.from, type: 'MsgReadIndexResp', index, context: requestCtx });
    }
  }

  // ---- candidate -------------------------------------------------------------------------

  private stepCandidate(m: Message): ProposalDroppedReason | undefined {
    // A pre-candidate counts only pre-votes, a candidate only votes; stale answers of the
    // other kind from an earlier round are ignored.
    const myVoteResp: MessageType = this.state === 'pre-candidate' ? 'MsgPreVoteResp' : 'MsgVoteResp';
    switch (m.type) {
      case 'MsgProp':
        this.logger.info(`${this.id} no leader at term ${this.term}; dropping proposal`);
        return 'no-leader';
      case 'MsgApp':
        // Someone won this term (§5.2): follow it.
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        break;
      case 'MsgHeartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        break;
      case 'MsgSnap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        break;
      case 'MsgPreVoteResp':
      case 'MsgVoteResp': {
        if (m.type !== myVoteResp) break;
        const result = this.poll(m.from, m.type, !m.reject);
        if (result === 'won') {
          if (this.state === 'pre-candidate') {
            this.campaign('election');
          } else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === 'lost') {
          // A pre-vote lost leaves our term alone; a lost election keeps the new term.
          this.becomeFollower(this.term, NONE);
        }
        break;
      }
      case 'MsgTimeoutNow':
        this.logger.debug(`${this.id} [term ${this.term} state ${this.state}] ignored MsgTimeoutNow from ${m.from}`);
        break;
      default:
        break;
    }
    return undefined;
  }

  // ---- follower --------------------------------------------------------------------------

  private stepFollower(m: Message): ProposalDroppedReason | undefined {
    switch (m.type) {
      case 'MsgProp':
        if (this.lead === NONE) {
          this.logger.info(`${this.id} no leader at term ${this.term}; dropping proposal`);
          return 'no-leader';
        }
        if (this.disableProposalForwarding) {
          this.logger.info(`${this.id} not forwarding to leader ${this.lead} at term ${this.term}; dropping proposal`);
          return 'forwarding-disabled';
        }
        this.send({ ...m, to: this.lead, term: 0 });
        return undefined;
      case 'MsgApp':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return undefined;
      case 'MsgHeartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return undefined;
      case 'MsgSnap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return undefined;
      case 'MsgTransferLeader':
        if (this.lead === NONE) {
          this.logger.info(`${this.id} no leader at term ${this.term}; dropping leader transfer msg`);
          return undefined;
        }
        this.send({ ...m, to: this.lead, term: 0 });
        return undefined;
      case 'MsgTimeoutNow':
        // The leader is handing over: campaign at once, skipping pre-vote and the lease,
        // since the leader itself asked for it (thesis §3.10).
        this.logger.info(`${this.id} [term ${this.term}] received MsgTimeoutNow from ${m.from} and starts an election to get leadership`);
        this.hup('transfer');
        return undefined;
      case 'MsgReadIndex':
        if (this.lead === NONE) {
          this.logger.info(`${this.id} no leader at term ${this.term}; dropping index reading msg`);
          return undefined;
        }
        this.send({ ...m, to: this.lead, term: 0 });
        return undefined;
      case 'MsgReadIndexResp':
        this.readStates.push({ index: m.index, requestCtx: m.context ?? new Uint8Array(0) });
        return undefined;
      default:
        return undefined;
    }
  }

  /** §5.3: accept entries if our log matches the leader's at (index, logTerm); otherwise reject with a hint. */
  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      // Everything up to commit is already settled; tell the leader where we are.
      this.send({ to: m.from, type: 'MsgAppResp', index: this.log.committed });
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send({ to: m.from, type: 'MsgAppResp', index: lastNew });
      return;
    }
    // Our log does not match at m.index. Suggest where it might: the last index at or
    // before it whose term is no greater than the leader's term there. The leader skips
    // back to there in one round trip instead of one entry at a time.
    const [hintIndex, hintTerm] = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.logger.debug(
      `${this.id} [logterm: ${this.log.termOrZero(m.index)}, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, index: ${m.index}] from ${m.from}`,
    );
    this.send({ to: m.from, type: 'MsgAppResp', index: m.index, reject: true, rejectHint: hintIndex, logTerm: hintTerm });
  }

  private handleHeartbeat(m: Message): void {
    // The leader sends at most our match index, so this never commits what we lack.
    this.log.commitTo(m.commit);
    this.send({ to: m.from, type: 'MsgHeartbeatResp', context: m.context });
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot ?? Snapshot.empty;
    const { index, term } = s.metadata;
    if (this.restore(s)) {
      this.logger.info(`${this.id} [commit: ${this.log.committed}] restored snapshot [index: ${index}, term: ${term}]`);
      this.send({ to: m.from, type: 'MsgAppResp', index: this.log.lastIndex() });
    } else {
      this.logger.info(`${this.id} [commit: ${this.log.committed}] ignored snapshot [index: ${index}, term: ${term}]`);
      this.send({ to: m.from, type: 'MsgAppResp', index: this.log.committed });
    }
  }

  /**
   * Replaces the log with a snapshot from the leader. Returns false if the snapshot is not
   * news: it is behind our commit index, or our log already has its last entry (then we
   * only move commit forward).
   */
  private restore(s: Snapshot): boolean {
    const { index, term, confState } = s.metadata;
    if (index <= this.log.committed) return false;
    if (this.state !== 'follower') {
      // Only a leader sends snapshots, and receiving one made us follow it; anything else is a bug.
      this.logger.warn(`${this.id} attempted to restore snapshot as ${this.state}; should never happen`);
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    if (!confState.voters.includes(this.id) && !confState.learners.includes(this.id)) {
      // A member that joined after the snapshot was taken: its own addition comes in the
      // entries after it. Until then it is in no configuration, so it cannot campaign;
      // refusing the snapshot instead would leave it waiting forever for one that has it.
      this.logger.info(`${this.id} restores a snapshot whose configuration ${describeConfState(confState)} does not include it yet`);
    }
    if (this.log.matchTerm(index, term)) {
      this.logger.info(
        `${this.id} [commit: ${this.log.committed}, lastindex: ${this.log.lastIndex()}, lastterm: ${this.log.lastTerm()}] fast-forwarded commit to snapshot [index: ${index}, term: ${term}]`,
      );
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(s);
    this.restoreMembership(confState);
    this.logger.info(`${this.id} switched to configuration ${describeConfState(confState)}`);
    return true;
  }

  // ---- membership --------------------------------------------------------------------------

  private restoreMembership(cs: ConfState): void {
    for (const id of [...this.tracker.progress.keys()]) this.tracker.removeMember(id);
    const next = this.log.lastIndex() + 1;
    for (const id of cs.voters) this.tracker.addMember(id, false, next);
    for (const id of cs.learners) this.tracker.addMember(id, true, next);
    const self = this.tracker.progress.get(this.id);
    if (self) self.match = this.log.lastIndex();
  }

  /**
   * Applies a membership change the application has just applied from the log. Changes
   * take effect on apply, so every member switches at the same log position.
   */
  applyConfChange(cc: ConfChange): ConfState {
    const { type, nodeId } = cc;
    const existing = this.tracker.progress.get(nodeId);
    let added = false;
    switch (type) {
      case 'addNode':
        if (!existing) {
          this.tracker.addMember(nodeId, false, this.log.lastIndex() + 1);
          added = true;
        } else if (existing.isLearner) {
          // Promotion keeps the learner's progress: it has caught up, which is why it was promoted.
          this.tracker.promote(nodeId);
        }
        break;
      case 'addLearner':
        if (!existing) {
          this.tracker.addMember(nodeId, true, this.log.lastIndex() + 1);
          added = true;
        } else if (!existing.isLearner) {
          this.logger.warn(`${this.id} ignored demoting voter ${nodeId} to learner; remove it and add it back as a learner`);
        }
        break;
      case 'removeNode':
        this.tracker.removeMember(nodeId);
        if (nodeId === this.leadTransferee) this.abortLeaderTransfer();
        break;
    }
    const cs = this.tracker.confState();
    this.logger.info(`${this.id} switched to configuration ${describeConfState(cs)}`);

    if (this.state !== 'leader') return cs;
    if (!this.promotable()) {
      // The leader was removed (or is not a voter): the change is committed, so hand over
      // by stepping down; the remaining voters elect a new leader (§6).
      this.logger.info(`${this.id} stepped down: no longer a voter`);
      this.becomeFollower(this.term, NONE);
      return cs;
    }
    // A smaller quorum may already have committed more; and a new member needs the log.
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    } else if (added) {
      this.sendAppend(nodeId);
    }
    return cs;
  }

  // ---- for the application ---------------------------------------------------------------

  /** Throws ProposalDroppedError if a proposal message was refused. */
  stepOrThrow(m: Message): void {
    const dropped = this.step(m);
    if (dropped) throw new ProposalDroppedError(dropped);
  }
}
