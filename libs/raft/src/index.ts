// @keel/raft: the Raft consensus core. A pure state machine in the style of etcd-io/raft:
// the application feeds it messages (step) and time (tick), and gets back a Ready of work
// to do (persist, send, apply), then calls advance(). Storage, network, clock and
// randomness all live outside. Start with RaftNode (node.ts), whose header states the
// Ready contract, and MemoryStorage (storage.ts).

export { RaftNode, type Ready, type SnapshotStatus } from './node';
export { Raft, CAMPAIGN_TRANSFER_CONTEXT, type CampaignType, type Config, type Status } from './raft';
export { MemoryStorage, entrySize, limitSize, type InitialState, type Storage } from './storage';
export {
  ErrCompacted,
  ErrSnapOutOfDate,
  ErrSnapshotTemporarilyUnavailable,
  ErrUnavailable,
  ProposalDroppedError,
  StorageError,
  type ProposalDroppedReason,
  type StorageErrorCode,
} from './errors';
export {
  ConfChange,
  ConfState,
  HardState,
  Message,
  NONE,
  Snapshot,
  type ConfChangeType,
  type Entry,
  type EntryType,
  type MessageType,
  type NodeId,
  type ReadState,
  type SnapshotMetadata,
  type SoftState,
  type StateType,
} from './types';
export { Progress, ProgressTracker, Inflights, describeProgress, type ProgressState, type ProgressStatus } from './progress';
export { RaftLog, Unstable, NO_LIMIT } from './log';
export { type ReadOnlyOption } from './read-only';
export { discardLogger, type Logger } from './logger';
export { seededRandom, randomInt } from './random';
export {
  describeBytes,
  describeConfChange,
  describeConfState,
  describeEntries,
  describeEntry,
  describeHardState,
  describeMessage,
  describeReady,
  describeSnapshot,
  describeState,
} from './describe';
