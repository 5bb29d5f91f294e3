// A randomized, deterministic simulation of a Raft group under faults. Everything random
// comes from one seeded PRNG, so a seed replays the same run exactly. Each step ticks the
// live nodes, delivers the messages that are due, injects faults (drop, duplicate, delay
// and so reorder messages; partition and heal; crash a node, losing whatever it had not
// persisted, and restart it from its MemoryStorage), proposes, reads, compacts, changes
// membership, transfers leadership, and handles every Ready by the contract. After every step it checks the safety properties of the Raft
// paper (Figure 3):
//   - Election Safety: at most one leader per term;
//   - Log Matching: an entry's (index, term) determines its data and its predecessor's term;
//   - Leader Completeness: a new leader's log holds every entry committed before;
//   - State Machine Safety: no two nodes apply different entries at one index.
// It also checks that every ReadIndex answer is at least the commit index known when the
// read was issued (linearizable reads). At the end it heals everything and checks liveness:
// a leader is elected within a bounded number of ticks, and every acknowledged proposal is
// applied on every node, in the same order.

import {
  MemoryStorage,
  ProposalDroppedError,
  RaftNode,
  describeEntry,
  describeMessage,
  describeProgress,
  randomInt,
  seededRandom,
  type Config,
  ConfChange,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type Snapshot,
} from '../src/index';

export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly steps: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /**
   * Change membership while running: add learners, promote them, remove voters. The group
   * is then founded with RaftNode.bootstrap (conf change entries at the start of the log)
   * and new members start empty; otherwise every member starts with the membership in its
   * storage's initial snapshot.
   */
  readonly membership?: boolean;
  /** Keep a trace of events, printed when a check fails. */
  readonly trace?: boolean;
}

export interface SimResult {
  readonly proposed: number;
  readonly acknowledged: number;
  readonly leaders: number;
  readonly snapshotsSent: number;
  readonly crashes: number;
  readonly ticksToLeader: number;
  readonly confChanges: number;
  readonly transfers: number;
}

/** One applied entry as the toy state machine remembers it. */
interface Applied {
  readonly index: number;
  readonly term: number;
  readonly proposal: number;
}

interface SimNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  /** One of the members the group was founded with. */
  readonly founder: boolean;
  /** Removed from the group and shut down for good (as an operator does once the removal commits). */
  retired: boolean;
  node: RaftNode | undefined;
  /** The state machine: the proposals applied, in order. Lost on crash, rebuilt from the snapshot. */
  applied: Applied[];
  appliedIndex: number;
  confState: ConfState;
}

interface InFlight {
  readonly msg: Message;
  readonly deliverAt: number;
  /** Sent while faults were on: may carry anything from the storm (a stale vote, a proposal). */
  readonly fromStorm: boolean;
}

const ELECTION_TICK = 10;
const HEARTBEAT_TICK = 2;

export class SafetyViolation extends Error {}

function encodeProposal(id: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, id);
  return out;
}

function decodeProposal(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getFloat64(0);
}

function encodeState(applied: readonly Applied[]): Uint8Array {
  const out = new Uint8Array(applied.length * 24);
  const view = new DataView(out.buffer);
  applied.forEach((a, i) => {
    view.setFloat64(i * 24, a.index);
    view.setFloat64(i * 24 + 8, a.term);
    view.setFloat64(i * 24 + 16, a.proposal);
  });
  return out;
}

function decodeState(data: Uint8Array): Applied[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Applied[] = [];
  for (let at = 0; at + 24 <= data.length; at += 24) {
    out.push({ index: view.getFloat64(at), term: view.getFloat64(at + 8), proposal: view.getFloat64(at + 16) });
  }
  return out;
}

function dataKey(e: Entry): string {
  if (e.type === 'confChange') return `cc:${describeEntry(e)}`;
  return e.data.length === 0 ? '' : String(decodeProposal(e.data));
}

export class Simulation {
  private readonly rng: () => number;
  private readonly nodes = new Map<NodeId, SimNode>();
  private network: InFlight[] = [];
  private groups: Map<NodeId, number> | undefined = undefined;
  private now = 0;
  private dropRate = 0.1;
  private dupRate = 0.05;
  private maxDelay = 3;
  /** Off while settling: the network then delivers everything, promptly. */
  private faultsOn = true;

  private nextProposal = 1;
  private nextRead = 1;
  /** Proposal ids seen applied on some node: acknowledged to their client. */
  private readonly acknowledged = new Set<number>();

  // What the checks have learnt so far.
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** (index/term) -> predecessor term and data, for Log Matching. */
  private readonly entryAt = new Map<string, { prevTerm: number; data: string }>();
  /** index -> the entry applied there, for State Machine Safety and Leader Completeness. */
  private readonly committedAt = new Map<number, { term: number; data: string }>();
  private highestCommitted = 0;
  /** read id -> the commit index known when the read was issued. */
  private readonly pendingReads = new Map<string, number>();

  private readonly stats = { proposed: 0, snapshotsSent: 0, crashes: 0, confChanges: 0, transfers: 0 };
  private readonly founders: NodeId[];
  private readonly traceLines: string[] = [];

  constructor(private readonly opts: SimOptions) {
    this.rng = seededRandom(opts.seed);
    const voters = Array.from({ length: opts.nodes }, (_, i) => i + 1);
    this.founders = voters;
    for (const id of voters) {
      const confState: ConfState = { voters, learners: [] };
      const storage = opts.membership ? new MemoryStorage() : new MemoryStorage({ confState });
      const n: SimNode = { id, storage, founder: true, retired: false, node: undefined, applied: [], appliedIndex: 0, confState };
      this.nodes.set(id, n);
      this.start(n);
    }
  }

  /** Records an event when tracing; the line is only built then. */
  private trace(line: () => string): void {
    if (this.opts.trace) this.traceLines.push(`[${this.now}] ${line()}`);
  }

  private fail(what: string): never {
    const tail = this.traceLines.slice(-60).join('\n');
    throw new SafetyViolation(`seed ${this.opts.seed}: ${what}${tail ? `\n--- last events ---\n${tail}` : ''}`);
  }

  private config(n: SimNode): Config {
    return {
      id: n.id,
      storage: n.storage,
      electionTick: ELECTION_TICK,
      heartbeatTick: HEARTBEAT_TICK,
      preVote: this.opts.preVote,
      checkQuorum: this.opts.checkQuorum,
      maxSizePerMsg: 64,
      maxInflightMsgs: 4,
      applied: n.appliedIndex,
      // Each node draws its timeouts from its own stream derived from the run's seed.
      random: seededRandom(Math.floor(this.rng() * 2 ** 32)),
    };
  }

  /** (Re)starts a node from what its storage holds, as a process would after a crash. */
  private start(n: SimNode): void {
    if (n.retired) return;
    const snap = n.storage.snapshot();
    n.applied = decodeState(snap.data);
    n.appliedIndex = snap.metadata.index;
    n.confState = snap.metadata.confState;
    n.node = new RaftNode(this.config(n));
    // A founder that crashed before persisting its bootstrap simply bootstraps again.
    if (this.opts.membership && n.founder && n.storage.lastIndex() === 0 && n.storage.initialState().hardState.term === 0) {
      n.node.bootstrap({ voters: this.founders });
    }
  }

  private live(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.node !== undefined);
  }

  private connected(a: NodeId, b: NodeId): boolean {
    return !this.groups || this.groups.get(a) === this.groups.get(b);
  }

  // ---- the run -------------------------------------------------------------------------

  run(): SimResult {
    for (let i = 0; i < this.opts.steps; i++) this.step(true);
    return this.settle();
  }

  private chance(p: number): boolean {
    return this.rng() < p;
  }

  private step(faults: boolean): void {
    this.now++;
    if (faults) this.injectFaults();

    for (const n of this.live()) {
      n.node?.tick();
      this.observe(n);
    }

    // While settling nothing new is proposed, so that all nodes end on the same entry.
    if (faults && this.chance(0.3)) this.propose();
    if (faults && this.chance(0.05)) this.readIndex();
    if (faults && this.chance(0.03)) this.compact();
    if (faults && this.opts.membership && this.chance(0.02)) this.changeMembership();
    if (faults && this.chance(0.01)) this.transferLeadership();

    this.deliver();

    // A crash between receiving messages and persisting loses what was not yet persisted.
    if (faults && this.chance(0.01)) this.crash();

    for (const n of this.live()) this.handleReady(n);
  }

  private injectFaults(): void {
    if (this.chance(0.02)) {
      if (this.groups) {
        this.groups = undefined;
        this.trace(() => 'heal');
      } else {
        const groups = new Map<NodeId, number>();
        for (const id of this.nodes.keys()) groups.set(id, randomInt(this.rng, 2));
        this.groups = groups;
        this.trace(() => `partition ${[...groups].map(([id, g]) => `${id}:${g}`).join(' ')}`);
      }
    }
    if (this.chance(0.01)) this.crash();
    const down = [...this.nodes.values()].filter((n) => n.node === undefined && !n.retired);
    if (down.length > 0 && this.chance(0.05)) {
      const n = down[randomInt(this.rng, down.length)]!;
      this.start(n);
      this.trace(() => `restart ${n.id}`);
    }
  }

  private crash(): void {
    const live = this.live();
    if (live.length === 0) return;
    const n = live[randomInt(this.rng, live.length)]!;
    n.node = undefined;
    this.stats.crashes++;
    this.trace(() => `crash ${n.id}`);
  }

  /** A removed member is shut down for good once its removal is committed. */
  private retire(id: NodeId): void {
    const n = this.nodes.get(id);
    if (!n || n.retired) return;
    n.retired = true;
    n.node = undefined;
    this.trace(() => `retire ${id}`);
  }

  private propose(): void {
    const live = this.live();
    if (live.length === 0) return;
    const n = live[randomInt(this.rng, live.length)]!;
    const id = this.nextProposal++;
    try {
      n.node?.propose(encodeProposal(id));
      this.stats.proposed++;
      this.trace(() => `propose ${id} at ${n.id}`);
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
    this.observe(n);
  }

  private readIndex(): void {
    const live = this.live();
    if (live.length === 0) return;
    const n = live[randomInt(this.rng, live.length)]!;
    const ctx = `read-${this.nextRead++}`;
    this.pendingReads.set(ctx, this.highestCommitted);
    n.node?.readIndex(Uint8Array.from(ctx, (c) => c.charCodeAt(0)));
  }

  private compact(): void {
    const live = this.live();
    if (live.length === 0) return;
    const n = live[randomInt(this.rng, live.length)]!;
    const snapIndex = n.storage.snapshot().metadata.index;
    if (n.appliedIndex <= snapIndex) return;
    // The snapshot is of the state as applied, membership included; the log is compacted a
    // little less, so that lagging followers sometimes catch up from the log.
    n.storage.createSnapshot(n.appliedIndex, n.confState, encodeState(n.applied));
    const to = n.appliedIndex - randomInt(this.rng, 3);
    if (to >= n.storage.firstIndex()) n.storage.compact(to);
    this.trace(() => `compact ${n.id}: snapshot at ${n.appliedIndex}, log from ${n.storage.firstIndex()}`);
  }

  /** At the leader: add a learner (a new, empty member), promote a learner, or remove a voter. */
  private changeMembership(): void {
    const leader = this.currentLeader();
    const node = leader?.node;
    if (!leader || !node) return;
    const cs = node.raft.tracker.confState();
    const roll = this.rng();
    let cc: ConfChange | undefined;
    if (roll < 0.4 && this.nodes.size < this.opts.nodes + 3) {
      const id = this.nodes.size + 1;
      const n: SimNode = {
        id,
        storage: new MemoryStorage(),
        founder: false,
        retired: false,
        node: undefined,
        applied: [],
        appliedIndex: 0,
        confState: { voters: [], learners: [] },
      };
      this.nodes.set(id, n);
      this.start(n);
      cc = { type: 'addLearner', nodeId: id };
    } else if (roll < 0.7 && cs.learners.length > 0) {
      cc = { type: 'addNode', nodeId: cs.learners[randomInt(this.rng, cs.learners.length)]! };
    } else if (cs.voters.length > 2) {
      cc = { type: 'removeNode', nodeId: cs.voters[randomInt(this.rng, cs.voters.length)]! };
    }
    if (!cc) return;
    try {
      node.proposeConfChange(cc);
      this.stats.confChanges++;
      this.trace(() => `propose ${cc.type} ${cc.nodeId} at ${leader.id}`);
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
    this.observe(leader);
  }

  /** Asks the leader to hand over to a random voter (MsgTimeoutNow skips leases and pre-votes). */
  private transferLeadership(): void {
    const leader = this.currentLeader();
    const node = leader?.node;
    if (!leader || !node) return;
    const voters = node.raft.tracker.confState().voters;
    const to = voters[randomInt(this.rng, voters.length)]!;
    node.transferLeadership(to);
    this.stats.transfers++;
    this.trace(() => `transfer leadership ${leader.id} -> ${to}`);
    this.observe(leader);
  }

  /** The live leader with the highest term, if any. */
  private currentLeader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.live()) {
      const r = n.node?.raft;
      if (r?.state === 'leader' && (!best || r.term > (best.node?.raft.term ?? 0))) best = n;
    }
    return best;
  }

  /** Delivers the messages that are due, in random order; the network loses, duplicates and delays. */
  private deliver(): void {
    const due = this.network.filter((f) => f.deliverAt <= this.now);
    this.network = this.network.filter((f) => f.deliverAt > this.now);
    // Shuffle: delivery order is not send order.
    for (let i = due.length - 1; i > 0; i--) {
      const j = randomInt(this.rng, i + 1);
      [due[i], due[j]] = [due[j]!, due[i]!];
    }
    for (const { msg } of due) {
      const to = this.nodes.get(msg.to);
      const from = this.nodes.get(msg.from);
      const lost = !to?.node || !this.connected(msg.from, msg.to);
      if (msg.type === 'MsgSnap' && from?.node) {
        // The transport tells the leader how the snapshot send ended.
        from.node.reportSnapshot(msg.to, lost ? 'failure' : 'finish');
        this.observe(from);
      }
      if (lost) {
        if (from?.node && this.chance(0.2)) from.node.reportUnreachable(msg.to);
        continue;
      }
      this.trace(() => `deliver ${describeMessage(msg)}`);
      to.node?.step(msg);
      this.observe(to);
    }
  }

  private send(msg: Message, faults: boolean): void {
    if (msg.type === 'MsgSnap') this.stats.snapshotsSent++;
    // A snapshot goes over its own stream, and the transport reports how it ended (see
    // deliver); the core waits for that report, so it is never lost silently.
    if (faults && msg.type !== 'MsgSnap' && this.chance(this.dropRate)) return;
    const copies = faults && this.chance(this.dupRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = faults ? randomInt(this.rng, this.maxDelay + 1) : 0;
      this.network.push({ msg, deliverAt: this.now + 1 + delay, fromStorm: faults });
    }
  }

  /** The Ready contract: persist, send, apply, advance; checking as we go. */
  private handleReady(n: SimNode): void {
    const node = n.node;
    if (!node || !node.hasReady()) return;
    const rd = node.ready();

    // Log Matching: record each new entry with its predecessor's term.
    const log = node.raft.log;
    rd.entries.forEach((e, i) => this.checkEntry(e, i === 0 ? log.termOrZero(e.index - 1) : rd.entries[i - 1]!.term));

    // 1. persist
    if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    // 2. send
    for (const m of rd.messages) this.send(m, this.faultsOn);
    // 3. apply
    if (rd.snapshot) this.applySnapshot(n, rd.snapshot);
    const removed: NodeId[] = [];
    for (const e of rd.committedEntries) {
      this.apply(n, e);
      if (e.type !== 'confChange') continue;
      const cc = ConfChange.decode(e.data);
      n.confState = node.applyConfChange(cc);
      if (cc.type === 'removeNode') removed.push(cc.nodeId);
    }
    for (const rs of rd.readStates) this.checkRead(n, rs.index, rs.requestCtx);
    // 4. advance
    node.advance();
    this.observe(n);
    for (const id of removed) this.retire(id);
  }

  private applySnapshot(n: SimNode, snap: Snapshot): void {
    const index = snap.metadata.index;
    if (index <= n.appliedIndex) this.fail(`node ${n.id} got snapshot ${index} at or below applied ${n.appliedIndex}`);
    n.applied = decodeState(snap.data);
    n.appliedIndex = index;
    n.confState = snap.metadata.confState;
    // The snapshot's state must agree with what was committed.
    for (const a of n.applied) this.checkApplied(n, a.index, a.term, String(a.proposal));
  }

  private apply(n: SimNode, e: Entry): void {
    if (e.index !== n.appliedIndex + 1) {
      this.fail(`node ${n.id} applies ${e.index} after ${n.appliedIndex}: committed entries must come in order`);
    }
    n.appliedIndex = e.index;
    this.checkApplied(n, e.index, e.term, dataKey(e));
    if (e.type === 'normal' && e.data.length > 0) {
      const proposal = decodeProposal(e.data);
      n.applied.push({ index: e.index, term: e.term, proposal });
      this.acknowledged.add(proposal);
    }
  }

  // ---- the checks ----------------------------------------------------------------------

  /** Election Safety and Leader Completeness, from a node's in-memory state after each input. */
  private observe(n: SimNode): void {
    const r = n.node?.raft;
    if (!r || r.state !== 'leader') return;
    const known = this.leaderOfTerm.get(r.term);
    if (known === undefined) {
      this.leaderOfTerm.set(r.term, n.id);
      this.trace(() => `${n.id} leads term ${r.term}`);
      this.checkLeaderCompleteness(n);
    } else if (known !== n.id) {
      this.fail(`Election Safety: ${known} and ${n.id} are both leaders of term ${r.term}`);
    }
  }

  private checkLeaderCompleteness(n: SimNode): void {
    const log = n.node?.raft.log;
    if (!log) return;
    const first = log.firstIndex();
    for (const [index, c] of this.committedAt) {
      if (index < first) continue; // covered by the leader's snapshot, itself of committed entries
      if (index > log.lastIndex() || log.termOrZero(index) !== c.term) {
        this.fail(`Leader Completeness: leader ${n.id} of term ${n.node?.raft.term} lacks committed entry ${c.term}/${index}`);
      }
    }
  }

  /** `prev` is the term of the entry before `e` in the log being written (0 if compacted). */
  private checkEntry(e: Entry, prev: number): void {
    const key = `${e.index}/${e.term}`;
    const data = dataKey(e);
    const seen = this.entryAt.get(key);
    if (!seen) {
      this.entryAt.set(key, { prevTerm: prev, data });
      return;
    }
    if (seen.data !== data) this.fail(`Log Matching: two entries at ${key} with different data (${seen.data} vs ${data})`);
    if (prev !== 0 && seen.prevTerm !== 0 && seen.prevTerm !== prev) {
      this.fail(`Log Matching: entry ${key} follows term ${seen.prevTerm} in one log and ${prev} in another`);
    }
  }

  private checkApplied(n: SimNode, index: number, term: number, data: string): void {
    const c = this.committedAt.get(index);
    if (!c) {
      this.committedAt.set(index, { term, data });
      if (index > this.highestCommitted) this.highestCommitted = index;
      return;
    }
    if (c.term !== term || c.data !== data) {
      this.fail(`State Machine Safety: node ${n.id} applied ${term}/${index} (${data}) where another applied ${c.term}/${index} (${c.data})`);
    }
  }

  private checkRead(n: SimNode, index: number, ctx: Uint8Array): void {
    const key = String.fromCharCode(...ctx);
    const floor = this.pendingReads.get(key);
    if (floor === undefined) return;
    this.pendingReads.delete(key);
    if (index < floor) this.fail(`ReadIndex: node ${n.id} answered ${key} with ${index}, below ${floor} committed before it was issued`);
  }

  // ---- after the storm -----------------------------------------------------------------

  /** Heals everything, then checks that the group elects a leader and converges. */
  private settle(): SimResult {
    this.groups = undefined;
    this.faultsOn = false;
    for (const n of this.nodes.values()) if (!n.node) this.start(n);
    // Messages already in flight may still be lost: they were sent into a faulty network.

    // A leader within a bounded number of ticks. Elections are won only with luck on the
    // timeouts: when a single member can win (the others' logs are behind) it must time out
    // first, and without PreVote the members that cannot win keep starting new terms, so a
    // round succeeds with a probability near 1/3 in the worst case. 50 election timeouts
    // make a failure about a one-in-a-million event.
    const bound = 50 * ELECTION_TICK;
    let ticks = 0;
    let leader: SimNode | undefined;
    for (; ticks < bound; ticks++) {
      this.step(false);
      leader = this.stableLeader();
      if (leader) break;
    }
    if (!leader) this.fail(`no leader within ${bound} ticks after healing: ${this.describeNodes()}`);

    // Every node must catch up on a final proposal at the leader. Leadership may still move
    // (a vote request delayed from the storm can arrive late), and a proposal can be lost
    // with its leader, so it is proposed again at the current leader every so often.
    let barrier = 0;
    let done = false;
    for (let i = 0; i < 30 * ELECTION_TICK && !done; i++) {
      if (i % (3 * ELECTION_TICK) === 0) {
        const current = this.stableLeader();
        if (current) {
          barrier = this.nextProposal++;
          try {
            current.node?.propose(encodeProposal(barrier));
          } catch (e) {
            // A transfer begun in the storm may still be running; the next round retries.
            if (!(e instanceof ProposalDroppedError)) throw e;
          }
        }
      }
      this.step(false);
      // Done when everything in flight has landed (proposals forwarded during the storm may
      // still arrive) and every node has applied the leader's whole log, barrier included.
      const current = this.stableLeader();
      const last = current?.node?.raft.log.lastIndex();
      done =
        current !== undefined &&
        !this.network.some((f) => f.fromStorm) &&
        this.members(current).every((n) => n.appliedIndex === last && n.applied.some((a) => a.proposal === barrier));
    }
    const nodes = this.members(this.stableLeader() ?? leader);
    if (!done) {
      const now = this.stableLeader() ?? leader;
      const st = now.node?.status();
      const progress = [...(st?.progress ?? [])].map(([id, pr]) => `${id}: ${describeProgress(pr)}`).join('; ');
      const applied = nodes.map((n) => `${n.id}@${n.appliedIndex}`).join(' ');
      this.fail(`the group did not converge after healing: applied ${applied}; leader ${now.id}: ${now.node?.raft.log.toString()}; ${progress}`);
    }
    // Same proposals, same order, everywhere; nothing acknowledged is missing.
    const reference = nodes[0]!.applied.map((a) => a.proposal);
    for (const n of nodes.slice(1)) {
      const mine = n.applied.map((a) => a.proposal);
      if (mine.length !== reference.length || mine.some((p, i) => p !== reference[i])) {
        const at = mine.findIndex((p, i) => p !== reference[i]);
        const show = (xs: readonly Applied[]) => xs.slice(Math.max(0, at - 2), at + 3).map((a) => `${a.term}/${a.index}:${a.proposal}`).join(' ');
        this.fail(
          `node ${n.id} applied ${mine.length} proposals, node ${nodes[0]!.id} ${reference.length}; first difference at #${at}: [${show(n.applied)}] vs [${show(nodes[0]!.applied)}]`,
        );
      }
    }
    const applied = new Set(reference);
    for (const p of this.acknowledged) if (!applied.has(p)) this.fail(`acknowledged proposal ${p} is not applied everywhere`);
    return {
      proposed: this.stats.proposed,
      acknowledged: this.acknowledged.size,
      leaders: this.leaderOfTerm.size,
      snapshotsSent: this.stats.snapshotsSent,
      crashes: this.stats.crashes,
      ticksToLeader: ticks,
      confChanges: this.stats.confChanges,
      transfers: this.stats.transfers,
    };
  }

  private describeNodes(): string {
    return [...this.nodes.values()]
      .map((n) => {
        const r = n.node?.raft;
        if (!r) return `${n.id}:${n.retired ? 'retired' : 'down'}`;
        const cs = r.tracker.confState();
        return `${n.id}:${r.state} t${r.term} lead${r.lead} commit${r.log.committed} applied${r.log.applied} last${r.log.lastIndex()}/${r.log.lastTerm()} v(${cs.voters.join(',')}) l(${cs.learners.join(',')})`;
      })
      .join('; ');
  }

  /** The members of the group as the leader knows it (nodes added but never admitted, or removed, are not). */
  private members(leader: SimNode): SimNode[] {
    const cs = leader.node?.raft.tracker.confState();
    const ids = new Set([...(cs?.voters ?? []), ...(cs?.learners ?? [])]);
    return [...this.nodes.values()].filter((n) => ids.has(n.id));
  }

  /** A leader whose term every member has reached and whose leadership they all know. */
  private stableLeader(): SimNode | undefined {
    const leader = this.currentLeader();
    if (!leader) return undefined;
    const term = leader.node?.raft.term;
    return this.members(leader).every((n) => n.node?.raft.term === term && n.node?.raft.lead === leader.id) ? leader : undefined;
  }
}
