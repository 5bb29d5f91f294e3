import * as grpc from '@grpc/grpc-js';
import { MvccError } from '@keel/mvcc';
import { RaftNodeError } from '@keel/raft-node';
import { describe, expect, it } from 'vitest';
import { StoreError, toStatus } from './errors';

describe('errors toward clients', () => {
  it("carry etcd's gRPC codes and messages", () => {
    expect(toStatus(new MvccError('Compacted'))).toEqual({
      code: grpc.status.OUT_OF_RANGE,
      details: 'etcdserver: mvcc: required revision has been compacted',
    });
    expect(toStatus(new MvccError('LeaseNotFound'))).toEqual({ code: grpc.status.NOT_FOUND, details: 'etcdserver: requested lease not found' });
    expect(toStatus(new RaftNodeError('dropped', 'no leader'))).toEqual({ code: grpc.status.UNAVAILABLE, details: 'etcdserver: no leader' });
    expect(toStatus(new RaftNodeError('outcome-unknown', 'late'))).toEqual({ code: grpc.status.UNAVAILABLE, details: 'etcdserver: request timed out' });
    expect(toStatus(new RaftNodeError('proposal-lost', 'lost')).details).toBe('etcdserver: request timed out, possibly due to previous leader failure');
    expect(toStatus(new StoreError('TooLarge'))).toEqual({ code: grpc.status.INVALID_ARGUMENT, details: 'etcdserver: request is too large' });
    expect(toStatus(new Error('boom')).code).toBe(grpc.status.INTERNAL);
  });
});
