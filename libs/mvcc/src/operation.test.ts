// Operations as log-entry bytes, the early checks the API layer makes, key-range helpers,
// and the error table's etcd wording.
import { describe, expect, it } from 'vitest';
import { MvccError } from './errors';
import { prefixEnd, spansOverlap, toSpan } from './key-range';
import { decodeOperation, encodeOperation, validateOperation } from './operation';
import type { Operation } from './types';

const b = (s: string) => Buffer.from(s);

describe('operation encoding', () => {
  it('round-trips every kind of operation exactly, bytes and bigints included', () => {
    const ops: Operation[] = [
      { type: 'put', request: { key: Buffer.of(0, 255, 10), value: b('v'), lease: 9_223_372_036_854_775_807n, prevKv: true } },
      { type: 'deleteRange', request: { key: b('a'), rangeEnd: Buffer.of(0) } },
      {
        type: 'txn',
        request: {
          compare: [{ key: b('k'), target: 'MOD', result: 'EQUAL', modRevision: 0 }],
          success: [{ requestPut: { key: b('k'), value: b('v') } }, { requestTxn: { failure: [{ requestRange: { key: b('k'), limit: 1 } }] } }],
          failure: [{ requestRange: { key: b('k') } }],
        },
      },
      { type: 'compact', revision: 42 },
      { type: 'leaseGrant', request: { ttl: 30, id: 7n } },
      { type: 'leaseRevoke', id: 7n },
    ];
    for (const op of ops) expect(decodeOperation(encodeOperation(op))).toEqual(op);
  });
});

describe('validateOperation', () => {
  it('refuses what apply would refuse, before it costs a log entry', () => {
    const code = (op: Operation) => {
      try {
        validateOperation(op);
        return 'ok';
      } catch (err) {
        return (err as MvccError).code;
      }
    };
    expect(code({ type: 'put', request: { key: Buffer.alloc(0) } })).toBe('EmptyKey');
    expect(code({ type: 'txn', request: { success: [{ requestPut: { key: b('a') } }, { requestPut: { key: b('a') } }] } })).toBe(
      'DuplicateKey',
    );
    expect(code({ type: 'txn', request: { success: [{ requestRange: { key: Buffer.alloc(0) } }] } })).toBe('EmptyKey');
    expect(code({ type: 'leaseGrant', request: { ttl: 1e10 } })).toBe('LeaseTtlTooLarge');
    expect(code({ type: 'compact', revision: -1 })).toBe('Invalid');
    expect(code({ type: 'put', request: { key: b('a') } })).toBe('ok');
  });
});

describe('key ranges', () => {
  it('computes etcd prefix ends', () => {
    expect(prefixEnd(b('/a/'))).toEqual(b('/a0'));
    expect(prefixEnd(Buffer.of(0x61, 0xff))).toEqual(b('b'));
    expect(prefixEnd(Buffer.of(0xff, 0xff))).toEqual(Buffer.of(0));
  });

  it('tells overlapping spans apart', () => {
    const span = (key: string, end?: string) => toSpan({ key: b(key), rangeEnd: end === undefined ? undefined : b(end) });
    expect(spansOverlap(span('a'), span('a', 'b'))).toBe(true);
    expect(spansOverlap(span('b'), span('a', 'b'))).toBe(false);
    expect(spansOverlap(span('z'), span('c', '\0'))).toBe(true);
    expect(spansOverlap(span('a', 'c'), span('c', 'e'))).toBe(false);
  });
});

describe('MvccError', () => {
  it("carries etcd's messages and gRPC codes", () => {
    const compacted = new MvccError('Compacted');
    expect(compacted.message).toBe('mvcc: required revision has been compacted');
    expect(compacted.grpcCode).toBe(11);
    const lease = new MvccError('LeaseNotFound');
    expect([lease.grpcCode, lease.grpcMessage]).toEqual([5, 'etcdserver: requested lease not found']);
    expect(new MvccError('Invalid', 'bad revision').grpcMessage).toBe('etcdserver: bad revision');
  });
});
