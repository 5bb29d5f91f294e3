// The errors the Raft core names: what a Storage may throw (as shared values, compared by
// identity, like etcd's ErrCompacted), and the typed error a proposal gets when the node
// cannot accept it.

export type StorageErrorCode =
  | 'compacted' // the requested index precedes the last snapshot
  | 'unavailable' // the requested index is beyond what storage holds
  | 'snapshot-temporarily-unavailable' // the snapshot is being made; try again later
  | 'snapshot-out-of-date'; // the snapshot given is older than the one stored

/** An error a Storage throws. Compare with the named values below, not by message. */
export class StorageError extends Error {
  constructor(readonly code: StorageErrorCode) {
    super(`raft storage: ${code}`);
    this.name = 'StorageError';
  }
}

/** The index asked for has been compacted away; the caller needs a snapshot instead. */
export const ErrCompacted = new StorageError('compacted');
/** The index asked for is not (yet) in storage. */
export const ErrUnavailable = new StorageError('unavailable');
/** The snapshot cannot be produced right now; the leader will try again later. */
export const ErrSnapshotTemporarilyUnavailable = new StorageError('snapshot-temporarily-unavailable');
/** The snapshot to apply or create is not newer than the stored one. */
export const ErrSnapOutOfDate = new StorageError('snapshot-out-of-date');

/** Why a proposal (or conf change) was not accepted into the log. */
export type ProposalDroppedReason =
  | 'no-leader' // no leader is known to forward to
  | 'transfer-in-progress' // the leader is handing over leadership
  | 'not-a-member' // this node is not (or no longer) in the configuration
  | 'forwarding-disabled' // this follower is configured not to forward proposals
  | 'empty'; // nothing was proposed

/**
 * A proposal was dropped before reaching the log. The caller may retry, typically after
 * a leader is known again. A proposal that *was* accepted may still be lost if leadership
 * changes before it commits; only its application proves it committed.
 */
export class ProposalDroppedError extends Error {
  constructor(readonly reason: ProposalDroppedReason) {
    super(`raft proposal dropped: ${reason}`);
    this.name = 'ProposalDroppedError';
  }
}
