// What the leader knows about each member: its Progress (how far its log matches, what to
// send next, and the flow-control state: probe, replicate or snapshot, with the window of
// in-flight appends), and the ProgressTracker that holds the membership (voters and
// learners), counts votes and acknowledgements, and computes the commit index a quorum
// of voters has reached. Learners have progress but never count towards a quorum.

import type { ConfState, NodeId } from './types';

/**
 * The window of MsgApp sent to one follower and not yet acknowledged, by the last index
 * each carried. When it is full, the leader waits for acknowledgements before sending more.
 */
export class Inflights {
  private readonly buffer: number[] = [];
  private start = 0;

  constructor(readonly size: number) {}

  /** Records a MsgApp whose last entry is `index`; indexes must be added in increasing order. */
  add(index: number): void {
    if (this.full()) throw new Error('cannot add into a full inflights window');
    this.buffer.push(index);
  }

  /** Frees every in-flight message whose last index is <= `to` (they were acknowledged). */
  freeLE(to: number): void {
    while (this.start < this.buffer.length && this.buffer[this.start] <= to) this.start++;
    // Compact now and then so the array does not grow without bound.
    if (this.start > 64 && this.start * 2 > this.buffer.length) {
      this.buffer.splice(0, this.start);
      this.start = 0;
    }
  }

  /** Frees the oldest message: a heartbeat response proves the follower is alive, so let one more through. */
  freeFirstOne(): void {
    if (this.count() > 0) this.freeLE(this.buffer[this.start]);
  }

  full(): boolean {
    return this.count() >= this.size;
  }

  count(): number {
    return this.buffer.length - this.start;
  }

  reset(): void {
    this.buffer.length = 0;
    this.start = 0;
  }
}

/**
 * - probe: we do not know where the follower's log matches; send one MsgApp at a time and
 *   wait for its answer (or a heartbeat response) before the next.
 * - replicate: the follower is keeping up; stream MsgApps optimistically, up to the
 *   in-flight window.
 * - snapshot: the follower needs a snapshot; send nothing until it reports back.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** A copy of one member's progress, for status and monitoring. */
export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly pendingSnapshot: number;
  readonly recentActive: boolean;
  readonly isLearner: boolean;
  /** Whether the leader is holding back appends to this member (flow control). */
  readonly paused: boolean;
  /** MsgApps sent and not yet acknowledged. */
  readonly inflight: number;
  readonly inflightFull: boolean;
}

/** `state match=.. next=..` and the flags that are set, one line. */
export function describeProgress(p: ProgressStatus): string {
  let s = `${p.state} match=${p.match} next=${p.next}`;
  if (p.isLearner) s += ' learner';
  if (p.paused) s += ' paused';
  if (p.pendingSnapshot > 0) s += ` pendingSnap=${p.pendingSnapshot}`;
  if (!p.recentActive) s += ' inactive';
  if (p.inflight > 0) s += ` inflight=${p.inflight}${p.inflightFull ? '[full]' : ''}`;
  return s;
}

export class Progress {
  /** The highest index known to match the leader's log. */
  match = 0;
  /** The index of the next entry to send. */
  next: number;
  state: ProgressState = 'probe';
  /** In snapshot state: the index of the snapshot sent; match must reach it. */
  pendingSnapshot = 0;
  /** Whether we heard from this member since the last CheckQuorum round. */
  recentActive = false;
  /** In probe state: a probe is outstanding, so hold further MsgApps. */
  probeSent = false;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(next: number, maxInflight: number, isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, the follower has at least the snapshot's entries.
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** The follower acknowledged up to n. Returns false if that was old news. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /** In replicate state we move next ahead as soon as we send, before any answer. */
  optimisticUpdate(n: number): void {
    this.next = n + 1;
  }

  /**
   * The follower rejected a MsgApp whose preceding index was `rejected`, suggesting we
   * probe from `matchHint` on. Returns false if the rejection is stale (out of order).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      // A rejection below what is already matched is a stale answer.
      if (rejected <= this.match) return false;
      // Otherwise go back to just after the match; the caller switches to probing.
      this.next = this.match + 1;
      return true;
    }
    // In probe state only the answer to the probe in flight (index next-1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  status(): ProgressStatus {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      pendingSnapshot: this.pendingSnapshot,
      recentActive: this.recentActive,
      isLearner: this.isLearner,
      paused: this.isPaused(),
      inflight: this.inflights.count(),
      inflightFull: this.inflights.full(),
    };
  }

  toString(): string {
    return describeProgress(this.status());
  }

}

export type VoteResult = 'won' | 'lost' | 'pending';

export class ProgressTracker {
  readonly progress = new Map<NodeId, Progress>();
  readonly voters = new Set<NodeId>();
  readonly learners = new Set<NodeId>();
  /** Votes received in the current (pre-)election: true granted, false rejected. */
  readonly votes = new Map<NodeId, boolean>();

  constructor(readonly maxInflight: number) {}

  confState(): ConfState {
    const sorted = (s: Set<NodeId>) => [...s].sort((a, b) => a - b);
    return { voters: sorted(this.voters), learners: sorted(this.learners) };
  }

  isSingleton(): boolean {
    return this.voters.size === 1;
  }

  quorum(): number {
    return Math.floor(this.voters.size / 2) + 1;
  }

  /** Adds a member (voter or learner) with fresh progress that will probe from `next`. */
  addMember(id: NodeId, isLearner: boolean, next: number): Progress {
    const pr = new Progress(next, this.maxInflight, isLearner);
    // Count a new member as active so CheckQuorum does not step down before it has had a chance to answer.
    pr.recentActive = true;
    this.progress.set(id, pr);
    (isLearner ? this.learners : this.voters).add(id);
    return pr;
  }

  removeMember(id: NodeId): void {
    this.progress.delete(id);
    this.voters.delete(id);
    this.learners.delete(id);
  }

  promote(id: NodeId): void {
    const pr = this.progress.get(id);
    if (!pr) return;
    pr.isLearner = false;
    this.learners.delete(id);
    this.voters.add(id);
  }

  /** The largest index stored on a quorum of voters. */
  committed(): number {
    if (this.voters.size === 0) return Number.MAX_SAFE_INTEGER; // no voters: nothing constrains commit
    const matched: number[] = [];
    for (const id of this.voters) matched.push(this.progress.get(id)?.match ?? 0);
    matched.sort((a, b) => b - a);
    return matched[this.quorum() - 1];
  }

  /** Whether a quorum of voters was recently active (CheckQuorum). */
  quorumActive(): boolean {
    let active = 0;
    for (const id of this.voters) if (this.progress.get(id)?.recentActive) active++;
    return active >= this.quorum();
  }

  /** Whether a quorum of voters is among `ids` (ReadIndex acknowledgements). */
  hasQuorum(ids: ReadonlySet<NodeId>): boolean {
    let n = 0;
    for (const id of this.voters) if (ids.has(id)) n++;
    return n >= this.quorum();
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    const q = this.quorum();
    const missing = this.voters.size - granted - rejected;
    let result: VoteResult = 'pending';
    if (granted >= q) result = 'won';
    else if (granted + missing < q) result = 'lost';
    return { granted, rejected, result };
  }
}
