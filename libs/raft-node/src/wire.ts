// Converts between libs/raft's plain objects and the keel.raft.v1 protobuf messages. The
// loader gives uint64 fields as strings (longs as String) and enums as their names; ids,
// terms and indexes stay below 2^53, so Number() is exact.

import type { Entry, Message, MessageType, Snapshot } from '@keel/raft';
import type { Entry as PbEntry, Entry__Output as PbEntryOut } from '@keel/protos/keel/raft/v1/Entry';
import type { Message as PbMessage, Message__Output as PbMessageOut } from '@keel/protos/keel/raft/v1/Message';
import type { Snapshot as PbSnapshot, Snapshot__Output as PbSnapshotOut } from '@keel/protos/keel/raft/v1/Snapshot';
import type { MessageType__Output as PbMessageType } from '@keel/protos/keel/raft/v1/MessageType';

const toWireType: Partial<Record<MessageType, PbMessageType>> = {
  MsgProp: 'MSG_PROP',
  MsgApp: 'MSG_APP',
  MsgAppResp: 'MSG_APP_RESP',
  MsgVote: 'MSG_VOTE',
  MsgVoteResp: 'MSG_VOTE_RESP',
  MsgPreVote: 'MSG_PRE_VOTE',
  MsgPreVoteResp: 'MSG_PRE_VOTE_RESP',
  MsgSnap: 'MSG_SNAP',
  MsgHeartbeat: 'MSG_HEARTBEAT',
  MsgHeartbeatResp: 'MSG_HEARTBEAT_RESP',
  MsgTransferLeader: 'MSG_TRANSFER_LEADER',
  MsgTimeoutNow: 'MSG_TIMEOUT_NOW',
  MsgReadIndex: 'MSG_READ_INDEX',
  MsgReadIndexResp: 'MSG_READ_INDEX_RESP',
};

const fromWireType = new Map<string, MessageType>(Object.entries(toWireType).map(([k, v]) => [v as string, k as MessageType]));

const EMPTY = new Uint8Array(0);

function entryToWire(e: Entry): PbEntry {
  return { term: e.term, index: e.index, type: e.type === 'confChange' ? 'ENTRY_CONF_CHANGE' : 'ENTRY_NORMAL', data: e.data };
}

function entryFromWire(e: PbEntryOut): Entry {
  return {
    term: Number(e.term),
    index: Number(e.index),
    type: e.type === 'ENTRY_CONF_CHANGE' ? 'confChange' : 'normal',
    data: e.data.length > 0 ? new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength) : EMPTY,
  };
}

export function snapshotToWire(s: Snapshot, withData = true): PbSnapshot {
  const { index, term, confState } = s.metadata;
  return {
    data: withData ? s.data : EMPTY,
    metadata: { index, term, conf_state: { voters: [...confState.voters], learners: [...confState.learners] } },
  };
}

export function snapshotFromWire(s: PbSnapshotOut, data?: Uint8Array): Snapshot {
  const md = s.metadata;
  return {
    data: data ?? new Uint8Array(s.data),
    metadata: {
      index: Number(md?.index ?? 0),
      term: Number(md?.term ?? 0),
      confState: {
        voters: (md?.conf_state?.voters ?? []).map(Number),
        learners: (md?.conf_state?.learners ?? []).map(Number),
      },
    },
  };
}

/** The wire form of a message; a snapshot's data is left out when `withSnapshotData` is false (it goes in chunks). */
export function messageToWire(m: Message, withSnapshotData = true): PbMessage {
  const type = toWireType[m.type];
  if (!type) throw new Error(`raft message ${m.type} is local and never sent`);
  return {
    type,
    to: m.to,
    from: m.from,
    term: m.term,
    log_term: m.logTerm,
    index: m.index,
    entries: m.entries.map(entryToWire),
    commit: m.commit,
    reject: m.reject,
    reject_hint: m.rejectHint,
    snapshot: m.snapshot ? snapshotToWire(m.snapshot, withSnapshotData) : null,
    context: m.context ?? EMPTY,
    has_context: m.context !== undefined,
  };
}

/** The message a peer sent; `snapshotData` replaces the (empty) data of a chunked snapshot. */
export function messageFromWire(m: PbMessageOut, snapshotData?: Uint8Array): Message {
  const type = fromWireType.get(m.type);
  if (!type) throw new Error(`unknown raft message type ${m.type}`);
  const msg: Message = {
    type,
    to: Number(m.to),
    from: Number(m.from),
    term: Number(m.term),
    logTerm: Number(m.log_term),
    index: Number(m.index),
    entries: m.entries.map(entryFromWire),
    commit: Number(m.commit),
    reject: m.reject,
    rejectHint: Number(m.reject_hint),
    ...(m.snapshot ? { snapshot: snapshotFromWire(m.snapshot, snapshotData) } : {}),
    ...(m.has_context ? { context: new Uint8Array(m.context) } : {}),
  };
  return msg;
}
