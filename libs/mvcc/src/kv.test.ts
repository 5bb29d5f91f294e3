// Range, Put and DeleteRange against real LevelDB, rule by rule as etcd defines them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MvccError } from './errors';
import { prefixEnd } from './key-range';
import { b, TestStore, text } from './test-helpers';
import type { RangeRequest } from './types';

describe('revisions and Put', () => {
  let t: TestStore;
  beforeEach(async () => (t = await TestStore.create()));
  afterEach(() => t.cleanup());

  it('starts at revision 1 and gives each put the next revision', async () => {
    expect(t.store.revision).toBe(1);
    expect((await t.put('a', '1')).revision).toBe(2);
    expect((await t.put('b', '1')).revision).toBe(3);
    expect(t.store.revision).toBe(3);
    expect(t.store.appliedIndex).toBe(2);
  });

  it('tracks create revision, mod revision and version; a delete starts a new life', async () => {
    await t.put('k', 'v1');
    await t.put('k', 'v2');
    expect(await t.get('k')).toMatchObject({ createRevision: 2, modRevision: 3, version: 2 });
    await t.del('k');
    expect(await t.get('k')).toBeUndefined();
    await t.put('k', 'v3');
    expect(await t.get('k')).toMatchObject({ createRevision: 5, modRevision: 5, version: 1 });
  });

  it('answers prev_kv, and none for a creating put', async () => {
    expect((await t.put('k', 'v1', { prevKv: true })).prevKv).toBeUndefined();
    const second = await t.put('k', 'v2', { prevKv: true });
    expect(text(second.prevKv?.value)).toBe('v1');
    expect(second.prevKv).toMatchObject({ modRevision: 2, version: 1 });
  });

  it('ignore_value keeps the value, ignore_lease keeps the lease, both refuse a missing key', async () => {
    const { id } = await t.apply({ type: 'leaseGrant', request: { ttl: 60, id: 7n } });
    await t.put('k', 'v1', { lease: id });
    await t.put('k', '', { ignoreValue: true, lease: id });
    expect(await t.get('k')).toMatchObject({ value: b('v1'), lease: 7n, version: 2 });
    await t.put('k', 'v2', { ignoreLease: true });
    expect(await t.get('k')).toMatchObject({ value: b('v2'), lease: 7n });
    // A put without ignore_lease and with no lease detaches the key.
    await t.put('k', 'v3');
    expect((await t.get('k'))?.lease).toBe(0n);
    await expect(t.put('missing', 'x', { ignoreValue: true })).rejects.toMatchObject({ code: 'KeyNotFound' });
    await expect(t.put('missing', 'x', { ignoreLease: true })).rejects.toMatchObject({ code: 'KeyNotFound' });
  });

  it('refuses an unknown lease and an empty key, changing nothing but the applied index', async () => {
    await t.put('a', '1');
    const before = t.store.revision;
    const err = await t.put('b', '1', { lease: 99n }).catch((e: unknown) => e);
    expect(MvccError.is(err, 'LeaseNotFound')).toBe(true);
    expect((err as MvccError).grpcMessage).toBe('etcdserver: requested lease not found');
    await expect(t.put('', 'x')).rejects.toMatchObject({ code: 'EmptyKey' });
    expect(t.store.revision).toBe(before);
    expect(t.store.appliedIndex).toBe(3);
  });

  it('refuses a log index that is not above the applied index', async () => {
    await t.store.apply({ type: 'put', request: { key: b('a') } }, 5);
    await expect(t.store.apply({ type: 'put', request: { key: b('a') } }, 5)).rejects.toThrow(/not above/);
    await t.store.markApplied(9);
    expect(t.store.appliedIndex).toBe(9);
  });
});

describe('DeleteRange', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await TestStore.create();
    for (const key of ['a', 'b', 'c', 'd']) await t.put(key, key.toUpperCase());
  });
  afterEach(() => t.cleanup());

  it('deletes a range at one revision, with sub-revisions, and answers prev_kvs', async () => {
    const result = await t.del('b', 'd', true);
    expect(result).toMatchObject({ revision: 6, deleted: 2 });
    expect(result.prevKvs.map((kv) => text(kv.value))).toEqual(['B', 'C']);
    expect((await t.store.range({ key: b('a'), rangeEnd: Buffer.of(0) })).kvs.map((kv) => text(kv.key))).toEqual(['a', 'd']);
  });

  it('does not move the revision when nothing is deleted', async () => {
    const result = await t.del('zz');
    expect(result).toMatchObject({ revision: 5, deleted: 0 });
    expect(t.store.revision).toBe(5);
  });

  it('deletes everything from a key with range_end \\0', async () => {
    expect((await t.del('b', '\0')).deleted).toBe(3);
  });
});

describe('Range', () => {
  let t: TestStore;
  const range = (req: Partial<RangeRequest> & { key: Buffer }) => t.store.range(req);
  const keys = async (req: Partial<RangeRequest> & { key: Buffer }) => (await range(req)).kvs.map((kv) => text(kv.key));

  beforeEach(async () => {
    t = await TestStore.create();
    // rev 2..6: /a/1 /a/2 /a/3 /b/1, then /a/2 updated.
    await t.put('/a/1', 'z');
    await t.put('/a/2', 'y');
    await t.put('/a/3', 'x');
    await t.put('/b/1', 'w');
    await t.put('/a/2', 'v');
  });
  afterEach(() => t.cleanup());

  it('reads one key, a range, a prefix, and every key >= key', async () => {
    expect(await keys({ key: b('/a/2') })).toEqual(['/a/2']);
    expect(await keys({ key: b('/a/1'), rangeEnd: b('/a/3') })).toEqual(['/a/1', '/a/2']);
    expect(await keys({ key: b('/a/'), rangeEnd: prefixEnd(b('/a/')) })).toEqual(['/a/1', '/a/2', '/a/3']);
    expect(await keys({ key: b('/a/3'), rangeEnd: Buffer.of(0) })).toEqual(['/a/3', '/b/1']);
    expect(await keys({ key: Buffer.of(0), rangeEnd: Buffer.of(0) })).toHaveLength(4);
    expect(await keys({ key: b('/z') })).toEqual([]);
    // A range end before the key is empty, as in etcd.
    expect(await keys({ key: b('/b'), rangeEnd: b('/a') })).toEqual([]);
  });

  it('limits, sets more, and counts the whole range', async () => {
    const result = await range({ key: b('/'), rangeEnd: b('0'), limit: 2 });
    expect(result.kvs.map((kv) => text(kv.key))).toEqual(['/a/1', '/a/2']);
    expect(result).toMatchObject({ more: true, count: 4, revision: 6 });
    expect(await range({ key: b('/'), rangeEnd: b('0'), limit: 4 })).toMatchObject({ more: false, count: 4 });
  });

  it('answers count only and keys only', async () => {
    expect(await range({ key: b('/'), rangeEnd: b('0'), countOnly: true })).toMatchObject({ kvs: [], count: 4 });
    const only = await range({ key: b('/a/1'), keysOnly: true });
    expect(only.kvs[0]).toMatchObject({ key: b('/a/1'), value: Buffer.alloc(0), modRevision: 2 });
  });

  it('reads at a past revision, refuses a future one', async () => {
    expect(text((await range({ key: b('/a/2'), revision: 3 })).kvs[0]?.value)).toBe('y');
    expect(await keys({ key: b('/'), rangeEnd: b('0'), revision: 3 })).toEqual(['/a/1', '/a/2']);
    const err = await range({ key: b('/a/2'), revision: 7 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MvccError);
    expect((err as MvccError).message).toBe('mvcc: required revision is a future revision');
  });

  it('sorts by every target, both ways', async () => {
    const all = { key: b('/'), rangeEnd: b('0') };
    expect(await keys({ ...all, sortOrder: 'DESCEND' })).toEqual(['/b/1', '/a/3', '/a/2', '/a/1']);
    expect(await keys({ ...all, sortOrder: 'ASCEND', sortTarget: 'VALUE' })).toEqual(['/a/2', '/b/1', '/a/3', '/a/1']);
    expect(await keys({ ...all, sortOrder: 'DESCEND', sortTarget: 'MOD' })).toEqual(['/a/2', '/b/1', '/a/3', '/a/1']);
    expect(await keys({ ...all, sortOrder: 'DESCEND', sortTarget: 'CREATE' })).toEqual(['/b/1', '/a/3', '/a/2', '/a/1']);
    expect(await keys({ ...all, sortOrder: 'DESCEND', sortTarget: 'VERSION' })).toEqual(['/a/2', '/a/1', '/a/3', '/b/1']);
    // A non-key target with no order sorts ascending, as etcd does.
    expect(await keys({ ...all, sortTarget: 'MOD' })).toEqual(['/a/1', '/a/3', '/b/1', '/a/2']);
    // Sorting happens before the limit.
    const top = await range({ ...all, sortOrder: 'DESCEND', sortTarget: 'MOD', limit: 1 });
    expect(top).toMatchObject({ more: true, count: 4 });
    expect(text(top.kvs[0]?.key)).toBe('/a/2');
  });

  it('filters on mod and create revisions', async () => {
    const all = { key: b('/'), rangeEnd: b('0') };
    expect(await keys({ ...all, minModRevision: 4 })).toEqual(['/a/2', '/a/3', '/b/1']);
    expect(await keys({ ...all, maxModRevision: 4 })).toEqual(['/a/1', '/a/3']);
    expect(await keys({ ...all, minCreateRevision: 3, maxCreateRevision: 4 })).toEqual(['/a/2', '/a/3']);
    // count stays the size of the range, as in etcd.
    expect((await range({ ...all, minModRevision: 6 })).count).toBe(4);
  });

  it('keeps binary keys in byte order', async () => {
    await t.apply({ type: 'put', request: { key: Buffer.of(0xff, 0x01), value: b('hi') } });
    await t.apply({ type: 'put', request: { key: Buffer.of(0x7f), value: b('lo') } });
    const result = await t.store.range({ key: Buffer.of(0x70), rangeEnd: Buffer.of(0) });
    expect(result.kvs.map((kv) => kv.key.toString('hex'))).toEqual(['7f', 'ff01']);
  });
});
