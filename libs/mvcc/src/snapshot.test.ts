// Restart recovery, snapshots and HashKV: the applied index travels with the data, a
// snapshot restored into another store yields the same state (same hash, same answers,
// same future), and a corrupt snapshot is refused rather than half-trusted.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MvccStore } from './store';
import { b, collect, summary, TestStore, text } from './test-helpers';

async function drain(chunks: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

async function* from(chunks: Buffer[]): AsyncGenerator<Buffer> {
  yield* chunks;
}

async function build(t: TestStore): Promise<void> {
  await t.apply({ type: 'leaseGrant', request: { ttl: 60, id: 11n } });
  for (let i = 0; i < 50; i++) await t.put(`key/${i % 10}`, `value-${i}`, i % 5 === 0 ? { lease: 11n } : {});
  await t.del('key/3');
  await (await t.apply({ type: 'compact', revision: 30 })).physical;
  await t.put('after', 'compaction');
}

describe('recovery and snapshots', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await TestStore.create();
    await build(t);
  });
  afterEach(() => t.cleanup());

  it('recovers revision, applied index, compaction, data and leases after a restart', async () => {
    const before = { hash: await t.store.hashKV(), applied: t.store.appliedIndex, rev: t.store.revision };
    await t.reopen();
    expect(t.store.appliedIndex).toBe(before.applied);
    expect(t.store.revision).toBe(before.rev);
    expect(t.store.compactRevision).toBe(30);
    expect(await t.store.hashKV()).toEqual(before.hash);
    expect(t.store.leaseTimeToLive(11n, true).keys).toEqual([b('key/0'), b('key/5')]);
    expect(t.store.keyCount).toBe(11);
    expect(typeof (await t.store.dbSize())).toBe('number');
    await expect(t.store.apply({ type: 'put', request: { key: b('x') } }, before.applied)).rejects.toThrow(/not above/);
  });

  it('persists every apply of a group commit before answering', async () => {
    await t.reopen({ sync: true });
    const start = t.store.appliedIndex;
    const all = Array.from({ length: 200 }, (_, i) =>
      t.store.apply({ type: 'put', request: { key: b(`g${i}`), value: b(`${i}`) } }, start + 1 + i),
    );
    // A reader waiting for an index (ReadIndex) sees every write up to it once it resolves.
    const read = t.store.whenApplied(start + 150).then(() => t.store.range({ key: b('g149') }));
    const results = await Promise.all(all);
    expect((await read).kvs).toHaveLength(1);
    await t.store.whenApplied(start + 1);
    const never = expect(t.store.whenApplied(start + 1000)).rejects.toMatchObject({ code: 'Closed' });
    await t.store.close();
    await never;
    t.store = await MvccStore.open({ dir: t.dir });
    expect(results.map((r) => r.revision)).toEqual(results.map((_, i) => results[0]!.revision + i));
    await t.reopen();
    expect(t.store.appliedIndex).toBe(start + 200);
    expect((await t.store.range({ key: b('g'), rangeEnd: b('h'), countOnly: true })).count).toBe(200);
  });

  it('restores a snapshot into an empty store: same hash, same answers, same future', async () => {
    const snapshot = await t.store.snapshot();
    const chunks = await drain(snapshot.chunks);
    const other = await TestStore.create();
    try {
      await other.store.restore(from(chunks));
      expect(other.store.appliedIndex).toBe(snapshot.appliedIndex);
      expect(other.store.revision).toBe(snapshot.revision);
      expect(other.store.compactRevision).toBe(30);
      expect(await other.store.hashKV()).toEqual(await t.store.hashKV());
      const all = { key: Buffer.of(0), rangeEnd: Buffer.of(0) };
      expect(await other.store.range(all)).toEqual(await t.store.range(all));
      expect(other.store.leases()).toEqual([11n]);
      // Applying the same entries from here keeps them equal.
      for (const store of [t.store, other.store]) {
        await store.apply({ type: 'leaseRevoke', id: 11n }, snapshot.appliedIndex + 1);
        await store.apply({ type: 'put', request: { key: b('next'), value: b('1') } }, snapshot.appliedIndex + 2);
      }
      expect(await other.store.hashKV()).toEqual(await t.store.hashKV());
      await other.reopen();
      expect(await other.store.hashKV()).toEqual(await t.store.hashKV());
    } finally {
      await other.cleanup();
    }
  });

  it('takes a consistent snapshot while applies are in flight', async () => {
    const start = t.store.appliedIndex;
    const writes = Array.from({ length: 100 }, (_, i) =>
      t.store.apply({ type: 'put', request: { key: b(`w${i}`) } }, start + 1 + i),
    );
    const snapshotting = t.store.snapshot();
    await Promise.all(writes);
    const snapshot = await snapshotting;
    const other = await TestStore.create();
    try {
      await other.store.restore(from(await drain(snapshot.chunks)));
      expect(other.store.revision).toBe(snapshot.revision);
      const count = (await other.store.range({ key: b('w'), rangeEnd: b('x'), countOnly: true })).count;
      expect(count).toBe(snapshot.appliedIndex - start);
    } finally {
      await other.cleanup();
    }
  });

  it('replaces existing state on restore and re-syncs watchers', async () => {
    const snapshot = await t.store.snapshot();
    const chunks = await drain(snapshot.chunks);
    const other = await TestStore.create();
    try {
      await other.put('key/1', 'mine');
      const w = other.store.watch({ key: b('after') });
      await other.store.restore(from(chunks));
      expect(text((await other.get('key/1'))?.value)).toBe('value-41');
      await other.store.apply({ type: 'put', request: { key: b('after'), value: b('2') } }, snapshot.appliedIndex + 1);
      // The watcher had seen revision 2 only; history between is compacted away, so it is cancelled.
      const messages = await collect(w, (m) => m.at(-1)?.type === 'canceled' || m.length >= 1);
      expect(summary(messages)).toEqual(['canceled compact=30']);
    } finally {
      await other.cleanup();
    }
  });

  it('refuses a corrupt snapshot, and stays refusing until a good one is restored', async () => {
    const snapshot = await t.store.snapshot();
    const chunks = await drain(snapshot.chunks);
    const bad = chunks.map((c) => Buffer.from(c));
    bad[0]![100] = bad[0]![100]! ^ 0xff;
    const other = await TestStore.create();
    try {
      await expect(other.store.restore(from(bad))).rejects.toMatchObject({ code: 'Corrupt' });
      await expect(other.store.range({ key: b('a') })).rejects.toMatchObject({ code: 'Corrupt' });
      await expect(other.store.restore(from([chunks[0]!.subarray(0, 50)]))).rejects.toThrow(/ends early/);
      await other.store.restore(from(chunks));
      expect(text((await other.get('after'))?.value)).toBe('compaction');
      // A restore cut short by a crash is noticed on open.
      await expect(other.store.restore(from(bad))).rejects.toMatchObject({ code: 'Corrupt' });
      await other.store.close();
      await expect(other.reopen()).rejects.toMatchObject({ code: 'Corrupt' });
    } finally {
      await other.cleanup().catch(() => undefined);
    }
  });
});

describe('hashKV', () => {
  let one: TestStore;
  let two: TestStore;
  beforeEach(async () => {
    one = await TestStore.create();
    two = await TestStore.create();
  });
  afterEach(async () => {
    await one.cleanup();
    await two.cleanup();
  });

  it('agrees on members that applied the same entries, and not otherwise', async () => {
    await build(one);
    await build(two);
    expect(await one.store.hashKV()).toEqual(await two.store.hashKV());
    expect((await one.store.hashKV(35)).hash).toBe((await two.store.hashKV(35)).hash);
    expect((await one.store.hashKV(35)).hash).not.toBe((await one.store.hashKV()).hash);
    await one.put('x', '1');
    await two.put('x', '2');
    expect((await one.store.hashKV()).hash).not.toBe((await two.store.hashKV()).hash);
    await expect(one.store.hashKV(10)).rejects.toMatchObject({ code: 'Compacted' });
  });
});
