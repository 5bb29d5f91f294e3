// RaftNodeError: the one error type that leaves @keel/raft-node. Callers of propose,
// readIndex and the membership calls switch on `code`; `retryable` says whether the same
// request may simply be sent again (to this member or to the leader).

export type RaftNodeErrorCode =
  | 'dropped' // the core refused the proposal (no leader, transfer in progress, not a member)
  | 'proposal-lost' // the entry's log slot was committed with another entry: it will never apply
  | 'outcome-unknown' // no answer in time, or the member stopped: the entry may or may not apply
  | 'timeout' // a read or a leadership transfer did not finish in time
  | 'stopped' // the host is stopped
  | 'invalid' // bad arguments (unknown member, bad address, ...)
  | 'storage' // the stable log could not be read or written; the host stops
  | 'transport'; // a peer could not be reached

export class RaftNodeError extends Error {
  constructor(
    readonly code: RaftNodeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RaftNodeError';
  }

  /** Whether the same request may be retried as is. A lost or dropped proposal is safe to retry. */
  get retryable(): boolean {
    return this.code === 'dropped' || this.code === 'proposal-lost' || this.code === 'timeout';
  }
}
