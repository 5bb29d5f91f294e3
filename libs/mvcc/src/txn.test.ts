// Txn: compares on every target with every result, range_end in compares, both branches,
// nested txns, one revision for the whole txn, and etcd's duplicate-key rule.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MvccError } from './errors';
import { b, TestStore, text } from './test-helpers';
import type { Compare, RequestOp, TxnRequest } from './types';

const put = (key: string, value: string): RequestOp => ({ requestPut: { key: b(key), value: b(value) } });
const get = (key: string, rangeEnd?: string): RequestOp => ({
  requestRange: { key: b(key), rangeEnd: rangeEnd === undefined ? undefined : b(rangeEnd) },
});
const del = (key: string, rangeEnd?: string): RequestOp => ({
  requestDeleteRange: { key: b(key), rangeEnd: rangeEnd === undefined ? undefined : b(rangeEnd) },
});

describe('Txn', () => {
  let t: TestStore;
  const txn = (request: TxnRequest) => t.apply({ type: 'txn', request });
  const holds = async (compare: Compare) => (await txn({ compare: [compare] })).succeeded;

  beforeEach(async () => {
    t = await TestStore.create();
    await t.apply({ type: 'leaseGrant', request: { ttl: 100, id: 5n } });
    await t.put('a', 'apple', { lease: 5n }); // rev 2
    await t.put('b', 'banana'); // rev 3
    await t.put('b', 'blueberry'); // rev 4
  });
  afterEach(() => t.cleanup());

  it('compares value, version, create, mod and lease with each result', async () => {
    expect(await holds({ key: b('a'), target: 'VALUE', result: 'EQUAL', value: b('apple') })).toBe(true);
    expect(await holds({ key: b('a'), target: 'VALUE', result: 'GREATER', value: b('apple') })).toBe(false);
    expect(await holds({ key: b('a'), target: 'VALUE', result: 'LESS', value: b('b') })).toBe(true);
    expect(await holds({ key: b('a'), target: 'VALUE', result: 'NOT_EQUAL', value: b('x') })).toBe(true);
    expect(await holds({ key: b('b'), target: 'VERSION', result: 'EQUAL', version: 2 })).toBe(true);
    expect(await holds({ key: b('b'), target: 'VERSION', result: 'GREATER', version: 1 })).toBe(true);
    expect(await holds({ key: b('b'), target: 'CREATE', result: 'EQUAL', createRevision: 3 })).toBe(true);
    expect(await holds({ key: b('b'), target: 'MOD', result: 'EQUAL', modRevision: 4 })).toBe(true);
    expect(await holds({ key: b('b'), target: 'MOD', result: 'LESS', modRevision: 4 })).toBe(false);
    expect(await holds({ key: b('a'), target: 'LEASE', result: 'EQUAL', lease: 5n })).toBe(true);
    expect(await holds({ key: b('b'), target: 'LEASE', result: 'NOT_EQUAL', lease: 5n })).toBe(true);
  });

  it('compares a missing key as zeros, except on value, which fails', async () => {
    // The create-if-absent shape every Kubernetes apiserver sends.
    expect(await holds({ key: b('nope'), target: 'MOD', result: 'EQUAL', modRevision: 0 })).toBe(true);
    expect(await holds({ key: b('nope'), target: 'VERSION', result: 'EQUAL', version: 0 })).toBe(true);
    expect(await holds({ key: b('nope'), target: 'VALUE', result: 'NOT_EQUAL', value: b('x') })).toBe(false);
  });

  it('compares every key in range_end', async () => {
    expect(await holds({ key: b('a'), rangeEnd: b('c'), target: 'MOD', result: 'GREATER', modRevision: 1 })).toBe(true);
    expect(await holds({ key: b('a'), rangeEnd: b('c'), target: 'MOD', result: 'GREATER', modRevision: 2 })).toBe(false);
    expect(await holds({ key: b('a'), rangeEnd: Buffer.of(0), target: 'VALUE', result: 'LESS', value: b('c') })).toBe(true);
  });

  it('runs the success branch at one revision with sub-revisions, and reads its own writes', async () => {
    const result = await txn({
      compare: [{ key: b('b'), target: 'MOD', result: 'EQUAL', modRevision: 4 }],
      success: [put('c', '1'), put('d', '2'), get('c', 'e'), del('a')],
      failure: [put('x', 'never')],
    });
    expect(result.succeeded).toBe(true);
    expect(result.revision).toBe(5);
    const read = result.responses[2]!;
    expect('responseRange' in read && read.responseRange.kvs.map((kv) => text(kv.key))).toEqual(['c', 'd']);
    expect(await t.get('c')).toMatchObject({ modRevision: 5, createRevision: 5 });
    expect(await t.get('d')).toMatchObject({ modRevision: 5 });
    expect(await t.get('a')).toBeUndefined();
    expect(await t.get('x')).toBeUndefined();
    expect(t.store.revision).toBe(5);
    // The lease lost its key.
    expect(t.store.leaseTimeToLive(5n, true).keys).toEqual([]);
  });

  it('runs the failure branch when a compare fails', async () => {
    const result = await txn({
      compare: [{ key: b('b'), target: 'MOD', result: 'EQUAL', modRevision: 3 }],
      success: [put('x', 'no')],
      failure: [get('b')],
    });
    expect(result.succeeded).toBe(false);
    const read = result.responses[0]!;
    expect('responseRange' in read && text(read.responseRange.kvs[0]?.value)).toBe('blueberry');
    // A read-only txn does not move the revision.
    expect(result.revision).toBe(4);
    expect(t.store.revision).toBe(4);
  });

  it('runs nested txns, judging all compares against the state at the start', async () => {
    const result = await txn({
      success: [
        put('b', 'changed'),
        {
          requestTxn: {
            // Sees b's version before this txn's put: 2, not 3.
            compare: [{ key: b('b'), target: 'VERSION', result: 'EQUAL', version: 2 }],
            success: [put('n', 'inner-success')],
            failure: [put('n', 'inner-failure')],
          },
        },
      ],
    });
    expect(result.succeeded).toBe(true);
    const inner = result.responses[1]!;
    expect('responseTxn' in inner && inner.responseTxn.succeeded).toBe(true);
    expect(text((await t.get('n'))?.value)).toBe('inner-success');
    expect((await t.get('n'))?.modRevision).toBe((await t.get('b'))?.modRevision);
  });

  it('refuses a txn that writes a key twice, as etcd does, and changes nothing', async () => {
    const refuse = async (request: TxnRequest) => {
      const err = await txn(request).catch((e: unknown) => e);
      expect(MvccError.is(err, 'DuplicateKey')).toBe(true);
    };
    await refuse({ success: [put('z', '1'), put('z', '2')] });
    await refuse({ success: [del('y', 'zz'), put('z', '1')] });
    await refuse({ success: [put('z', '1'), { requestTxn: { success: [put('z', '2')] } }] });
    // The same key in both branches of a nested txn is fine: only one runs.
    await txn({ success: [{ requestTxn: { success: [put('z', '1')], failure: [put('z', '2')] } }] });
    expect(text((await t.get('z'))?.value)).toBe('1');
  });

  it('refuses the whole txn when a put in the taken branch would fail, before any change', async () => {
    const before = t.store.revision;
    await expect(
      txn({ success: [put('p', '1'), { requestPut: { key: b('q'), value: b('2'), lease: 404n } }] }),
    ).rejects.toMatchObject({ code: 'LeaseNotFound' });
    await expect(
      txn({ success: [put('p', '1'), { requestPut: { key: b('missing'), ignoreValue: true } }] }),
    ).rejects.toMatchObject({ code: 'KeyNotFound' });
    expect(t.store.revision).toBe(before);
    expect(await t.get('p')).toBeUndefined();
    // A bad put in the branch not taken does not matter.
    const ok = await txn({
      compare: [{ key: b('a'), target: 'VERSION', result: 'EQUAL', version: 1 }],
      success: [put('p', '1')],
      failure: [{ requestPut: { key: b('q'), lease: 404n } }],
    });
    expect(ok.succeeded).toBe(true);
  });

  it('refuses a range inside a txn at a revision the txn has not reached, before any change', async () => {
    await expect(txn({ success: [{ requestRange: { key: b('a'), revision: 99 } }] })).rejects.toMatchObject({
      code: 'FutureRevision',
    });
    // The txn's own new revision counts as future too, as in etcd: nothing is written.
    await expect(txn({ success: [put('p', '1'), { requestRange: { key: b('p'), revision: 5 } }] })).rejects.toMatchObject({
      code: 'FutureRevision',
    });
    expect(t.store.revision).toBe(4);
    expect(await t.get('p')).toBeUndefined();
    const past = await txn({ success: [put('p', '1'), { requestRange: { key: b('b'), revision: 3 } }] });
    const read = past.responses[1]!;
    expect('responseRange' in read && text(read.responseRange.kvs[0]?.value)).toBe('banana');
  });
});
