// The store's one error boundary toward clients: every failure an RPC can meet (an MVCC
// refusal, a Raft proposal or read that could not finish, a bad request) becomes a gRPC
// status with etcd's code and etcd's message, because etcd clients match on those texts
// (`etcdserver: no leader`, `etcdserver: requested lease not found`, ...).
import * as grpc from '@grpc/grpc-js';
import { MvccError } from '@keel/mvcc';
import { RaftNodeError } from '@keel/raft-node';

export type StoreErrorCode =
  | 'NoLeader'
  | 'Timeout'
  | 'LeaderFailed'
  | 'Stopped'
  | 'Invalid'
  | 'NotFound'
  | 'Unimplemented'
  | 'TooLarge'
  | 'MemberExists'
  | 'MemberNotFound'
  | 'NotLearner'
  | 'Internal';

const table: Record<StoreErrorCode, { grpc: grpc.status; message: string }> = {
  NoLeader: { grpc: grpc.status.UNAVAILABLE, message: 'etcdserver: no leader' },
  Timeout: { grpc: grpc.status.UNAVAILABLE, message: 'etcdserver: request timed out' },
  LeaderFailed: { grpc: grpc.status.UNAVAILABLE, message: 'etcdserver: request timed out, possibly due to previous leader failure' },
  Stopped: { grpc: grpc.status.UNAVAILABLE, message: 'etcdserver: server stopped' },
  Invalid: { grpc: grpc.status.INVALID_ARGUMENT, message: 'etcdserver: invalid request' },
  NotFound: { grpc: grpc.status.NOT_FOUND, message: 'etcdserver: not found' },
  Unimplemented: { grpc: grpc.status.UNIMPLEMENTED, message: 'etcdserver: not implemented by keel-store' },
  TooLarge: { grpc: grpc.status.INVALID_ARGUMENT, message: 'etcdserver: request is too large' },
  MemberExists: { grpc: grpc.status.FAILED_PRECONDITION, message: 'etcdserver: member ID already exist' },
  MemberNotFound: { grpc: grpc.status.NOT_FOUND, message: 'etcdserver: member not found' },
  NotLearner: { grpc: grpc.status.FAILED_PRECONDITION, message: 'etcdserver: can only promote a learner member' },
  Internal: { grpc: grpc.status.INTERNAL, message: 'etcdserver: internal error' },
};

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    detail?: string,
  ) {
    super(detail ?? table[code].message);
  }

  get grpcCode(): grpc.status {
    return table[this.code].grpc;
  }
}

/** The RaftNodeError codes as etcd would report them. */
export function fromRaft(err: RaftNodeError): StoreError {
  switch (err.code) {
    case 'dropped':
      return new StoreError('NoLeader');
    case 'proposal-lost':
      return new StoreError('LeaderFailed');
    case 'timeout':
    case 'outcome-unknown':
      return new StoreError('Timeout');
    case 'stopped':
      return new StoreError('Stopped');
    case 'invalid':
      return new StoreError('Invalid', `etcdserver: ${err.message}`);
    default:
      return new StoreError('Internal', `etcdserver: ${err.message}`);
  }
}

/** Any error an RPC handler caught, as the status to send. */
export function toStatus(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof MvccError) return { code: err.grpcCode as number, details: err.grpcMessage };
  if (err instanceof StoreError) return { code: err.grpcCode, details: err.message };
  if (err instanceof RaftNodeError) return toStatus(fromRaft(err));
  return { code: grpc.status.INTERNAL, details: `etcdserver: ${err instanceof Error ? err.message : String(err)}` };
}
