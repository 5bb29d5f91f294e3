// The data that crosses the boundary of the Raft core: log entries, messages between peers,
// the hard state that must survive a crash, snapshots, membership (conf state and conf
// changes) and the read states returned by ReadIndex. These are plain objects so that a
// transport or a storage layer can encode them however it likes; terms and indexes are
// `number`s, exact up to 2^53, which no log reaches.

/** A peer's id. 0 means "nobody" (no leader, no vote). */
export type NodeId = number;

/** The id that means "no node": no leader known, no vote cast. */
export const NONE: NodeId = 0;

/** What an entry's data means to the application. */
export type EntryType = 'normal' | 'confChange';

/** One slot of the replicated log. */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** Opaque to Raft for normal entries; an encoded ConfChange for confChange entries. */
  readonly data: Uint8Array;
}

/** The state that must be on stable storage before any message that depends on it is sent. */
export interface HardState {
  readonly term: number;
  /** Whom this node voted for in `term`, or NONE. */
  readonly vote: NodeId;
  /** The highest log index known to be committed. */
  readonly commit: number;
}

export const HardState = {
  empty: { term: 0, vote: NONE, commit: 0 } as HardState,
  isEmpty(hs: HardState): boolean {
    return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
  },
  equal(a: HardState, b: HardState): boolean {
    return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
  },
};

/** The role a node plays in its current term. */
export type StateType = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Volatile state, useful for logging and for routing; never persisted. */
export interface SoftState {
  readonly lead: NodeId;
  readonly raftState: StateType;
}

/** The membership of the group: who votes and who only listens. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export const ConfState = {
  empty: { voters: [], learners: [] } as ConfState,
  equal(a: ConfState, b: ConfState): boolean {
    const sorted = (x: readonly number[]) => [...x].sort((p, q) => p - q).join(',');
    return sorted(a.voters) === sorted(b.voters) && sorted(a.learners) === sorted(b.learners);
  },
};

export interface SnapshotMetadata {
  /** The membership as of `index`. */
  readonly confState: ConfState;
  /** The last log index the snapshot covers. */
  readonly index: number;
  /** The term of the entry at `index`. */
  readonly term: number;
}

/** The application's state machine as of some log index; `data` is opaque to Raft. */
export interface Snapshot {
  readonly data: Uint8Array;
  readonly metadata: SnapshotMetadata;
}

export const Snapshot = {
  empty: { data: new Uint8Array(0), metadata: { confState: ConfState.empty, index: 0, term: 0 } } as Snapshot,
  isEmpty(s: Snapshot | undefined): boolean {
    return s === undefined || s.metadata.index === 0;
  },
};

/**
 * A membership change of one node. Changes are proposed as log entries and take effect
 * when the application applies them (RaftNode.applyConfChange), one at a time.
 * - addNode: add a voter, or promote a learner to voter.
 * - addLearner: add a non-voting member that receives the log.
 * - removeNode: remove a voter or a learner.
 */
export type ConfChangeType = 'addNode' | 'addLearner' | 'removeNode';

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
  /** Opaque to Raft; typically the new member's address. */
  readonly context?: Uint8Array;
}

const confChangeCodes: readonly ConfChangeType[] = ['addNode', 'addLearner', 'removeNode'];

export const ConfChange = {
  /** Encodes a change as entry data: one type byte, the node id as a float64, then the context. */
  encode(cc: ConfChange): Uint8Array {
    const context = cc.context ?? new Uint8Array(0);
    const out = new Uint8Array(9 + context.length);
    out[0] = confChangeCodes.indexOf(cc.type);
    new DataView(out.buffer).setFloat64(1, cc.nodeId);
    out.set(context, 9);
    return out;
  },

  decode(data: Uint8Array): ConfChange {
    if (data.length < 9) throw new Error(`conf change: ${data.length} bytes, want at least 9`);
    const type = confChangeCodes[data[0]];
    if (type === undefined) throw new Error(`conf change: unknown type code ${data[0]}`);
    const nodeId = new DataView(data.buffer, data.byteOffset, data.byteLength).getFloat64(1);
    const context = data.slice(9);
    return context.length > 0 ? { type, nodeId, context } : { type, nodeId };
  },
};

/**
 * Every kind of message the core takes in `step` or emits in `Ready.messages`. The local
 * ones (never sent over the wire) are MsgHup, MsgBeat, MsgUnreachable, MsgSnapStatus and
 * MsgCheckQuorum; MsgProp, MsgReadIndex and MsgTransferLeader are local when the
 * application calls the node, and travel only when a follower forwards them to its leader.
 */
export type MessageType =
  | 'MsgHup' // local: start an election (the election timer fired)
  | 'MsgBeat' // local: the leader's heartbeat timer fired
  | 'MsgProp' // propose entries; forwarded by followers to the leader
  | 'MsgApp' // leader -> follower: append entries after (index, logTerm)
  | 'MsgAppResp' // follower -> leader: accepted up to index, or rejected with a hint
  | 'MsgVote' // candidate -> voter: vote for me in term
  | 'MsgVoteResp'
  | 'MsgPreVote' // pre-candidate -> voter: would you vote for me in term+1?
  | 'MsgPreVoteResp'
  | 'MsgSnap' // leader -> follower: install this snapshot
  | 'MsgHeartbeat' // leader -> follower: I am alive, commit is at least ...
  | 'MsgHeartbeatResp'
  | 'MsgUnreachable' // local: the transport could not reach a peer
  | 'MsgSnapStatus' // local: the transport finished (or failed) sending a snapshot
  | 'MsgCheckQuorum' // local: the leader checks it heard from a quorum
  | 'MsgTransferLeader' // ask the leader to hand leadership to `from`
  | 'MsgTimeoutNow' // leader -> transferee: campaign now, skipping the election timeout
  | 'MsgReadIndex' // ask the leader for a linearizable read index; forwarded by followers
  | 'MsgReadIndexResp';

/**
 * One message. Fields a kind of message does not use are zero, empty or absent. The
 * encoding on the wire belongs to the transport.
 */
export interface Message {
  readonly type: MessageType;
  readonly to: NodeId;
  readonly from: NodeId;
  /** The sender's term; 0 for local messages and for forwarded proposals and reads. */
  readonly term: number;
  /** MsgApp: term of the entry at `index`. Vote requests: the candidate's last term. Rejections: hint term. */
  readonly logTerm: number;
  /** MsgApp: index preceding `entries`. Responses: the index acknowledged or rejected. Votes: last index. */
  readonly index: number;
  readonly entries: readonly Entry[];
  /** The sender's commit index (MsgApp, MsgHeartbeat). */
  readonly commit: number;
  readonly reject: boolean;
  /** On a rejected MsgAppResp: the index the follower suggests probing next. */
  readonly rejectHint: number;
  /** MsgSnap only. */
  readonly snapshot?: Snapshot;
  /** ReadIndex request context, carried through heartbeats; or the campaign-transfer marker on votes. */
  readonly context?: Uint8Array;
}

export const Message = {
  /** Builds a message, filling every field not given with its zero value. */
  create(fields: Partial<Message> & Pick<Message, 'type'>): Message {
    return {
      to: NONE,
      from: NONE,
      term: 0,
      logTerm: 0,
      index: 0,
      entries: [],
      commit: 0,
      reject: false,
      rejectHint: 0,
      ...fields,
    };
  },

  /** Messages the core generates for itself and never puts on the wire. */
  isLocal(type: MessageType): boolean {
    return (
      type === 'MsgHup' ||
      type === 'MsgBeat' ||
      type === 'MsgUnreachable' ||
      type === 'MsgSnapStatus' ||
      type === 'MsgCheckQuorum'
    );
  },

  isResponse(type: MessageType): boolean {
    return (
      type === 'MsgAppResp' ||
      type === 'MsgVoteResp' ||
      type === 'MsgHeartbeatResp' ||
      type === 'MsgUnreachable' ||
      type === 'MsgPreVoteResp'
    );
  },
};

/**
 * The answer to a ReadIndex request: once the application has applied up to `index`, a
 * read of its state machine is linearizable. `requestCtx` is the caller's request context.
 */
export interface ReadState {
  readonly index: number;
  readonly requestCtx: Uint8Array;
}
