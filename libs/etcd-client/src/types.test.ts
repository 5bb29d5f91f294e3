import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { EtcdError } from './errors';
import { prefixEnd } from './types';

describe('prefixEnd', () => {
  it('increments the last byte that can be incremented', () => {
    expect(prefixEnd('/registry/pods/').toString()).toBe('/registry/pods0');
    expect([...prefixEnd(Buffer.from([0x61, 0xff]))]).toEqual([0x62]);
  });
  it('selects every key when no byte can be incremented', () => {
    expect([...prefixEnd(Buffer.from([0xff, 0xff]))]).toEqual([0]);
  });
});

describe('EtcdError.fromGrpc', () => {
  it("reads etcd's messages before its codes", () => {
    const e = EtcdError.fromGrpc({ code: status.OUT_OF_RANGE, details: 'etcdserver: mvcc: required revision has been compacted' }, 'range');
    expect(e).toMatchObject({ kind: 'compacted', grpcCode: status.OUT_OF_RANGE });
    expect(e.message).toBe('range: etcdserver: mvcc: required revision has been compacted');
    expect(EtcdError.fromGrpc({ code: status.NOT_FOUND, details: 'etcdserver: requested lease not found' }, 'x').kind).toBe('not-found');
    expect(EtcdError.fromGrpc({ code: status.UNAVAILABLE, details: 'etcdserver: leader changed' }, 'x').kind).toBe('unavailable');
    expect(EtcdError.fromGrpc({ code: status.DEADLINE_EXCEEDED, details: 'late' }, 'x').kind).toBe('timeout');
  });
});
