// Compaction: etcd's errors, reads and history below the compact revision refused, the
// newest version of each key kept, physical removal in bounded batches while writers keep
// going, and an interrupted physical compaction finished after a restart.
import { ClassicLevel } from 'classic-level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REV_PREFIX } from './codec';
import { MvccError } from './errors';
import { b, TestStore, text } from './test-helpers';

async function countRecords(dir: string): Promise<number> {
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  let n = 0;
  for await (const _ of db.keys({ gt: Buffer.of(REV_PREFIX), lt: Buffer.of(REV_PREFIX + 1) })) n++;
  await db.close();
  return n;
}

describe('compaction', () => {
  let t: TestStore;
  afterEach(() => t.cleanup());

  describe('rules', () => {
    beforeEach(async () => {
      t = await TestStore.create();
      await t.put('a', '1'); // 2
      await t.put('a', '2'); // 3
      await t.put('b', '1'); // 4
      await t.del('b'); // 5
      await t.put('c', '1'); // 6
    });

    it('refuses a compacted or future revision with etcd messages', async () => {
      await expect(t.apply({ type: 'compact', revision: 7 })).rejects.toThrow('mvcc: required revision is a future revision');
      await (await t.apply({ type: 'compact', revision: 4 })).physical;
      expect(t.store.compactRevision).toBe(4);
      const err = await t.apply({ type: 'compact', revision: 4 }).catch((e: unknown) => e);
      expect(MvccError.is(err, 'Compacted')).toBe(true);
      expect((err as MvccError).message).toBe('mvcc: required revision has been compacted');
      expect((err as MvccError).grpcMessage).toBe('etcdserver: mvcc: required revision has been compacted');
    });

    it('keeps every key as of the compact revision and refuses reads before it', async () => {
      await (await t.apply({ type: 'compact', revision: 5 })).physical;
      await expect(t.get('a', 4)).rejects.toMatchObject({ code: 'Compacted' });
      expect(text((await t.get('a', 5))?.value)).toBe('2');
      expect(await t.get('b', 5)).toBeUndefined();
      expect((await t.store.range({ key: b('a'), rangeEnd: Buffer.of(0) })).kvs.map((kv) => text(kv.key))).toEqual([
        'a',
        'c',
      ]);
      // a@3 and c@6 remain; a@2, b@4 and the tombstone b@5 are gone.
      await t.store.close();
      expect(await countRecords(t.dir)).toBe(2);
      await t.reopen();
      expect(t.store.compactRevision).toBe(5);
      expect(text((await t.get('a'))?.value)).toBe('2');
      // Versions survive compaction: the next put of a is version 3.
      await t.put('a', '3');
      expect((await t.get('a'))?.version).toBe(3);
    });
  });

  it('removes history in bounded batches while writers keep going', async () => {
    t = await TestStore.create({ compaction: { batchSize: 100, pauseMs: 2 } });
    // 2000 records over 20 keys.
    for (let round = 0; round < 100; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, k) => t.put(`key-${k}`, `${round}`)));
    }
    const { physical } = await t.apply({ type: 'compact', revision: t.store.revision });
    let physicalDone = false;
    void physical.then(() => (physicalDone = true));
    const writes: boolean[] = [];
    for (let i = 0; i < 20; i++) {
      await t.put(`live-${i}`, 'x');
      writes.push(physicalDone);
      // Reads at the newest revision never trip over the removal going on underneath.
      const all = await t.store.range({ key: b('key-'), rangeEnd: b('key.') });
      expect(all.kvs.map((kv) => text(kv.value))).toEqual(Array.from({ length: 20 }, () => '99'));
    }
    // Writes went through while the compaction was still running (20+ batches with pauses).
    expect(writes[0]).toBe(false);
    await physical;
    expect(t.store.compactionBatches).toBeGreaterThan(5);
    await t.store.defragment();
    // With `physical`, apply itself answers only after the removal.
    await t.put('key-0', 'again');
    const before = t.store.compactionBatches;
    await t.apply({ type: 'compact', revision: t.store.revision, physical: true });
    expect(t.store.compactionBatches).toBe(before + 1);
    await t.store.close();
    expect(await countRecords(t.dir)).toBe(40);
    await t.reopen();
  });

  it('finishes an interrupted physical compaction after a restart', async () => {
    t = await TestStore.create({ compaction: { batchSize: 10, pauseMs: 20 } });
    for (let i = 0; i < 200; i++) await t.put('k', `${i}`);
    await t.apply({ type: 'compact', revision: t.store.revision });
    // Close at once: the compactor is abandoned after a batch or two.
    await t.store.close();
    expect(await countRecords(t.dir)).toBeGreaterThan(1);
    await t.reopen({ compaction: { batchSize: 1000, pauseMs: 0 } });
    await t.store.whenCompacted();
    await t.store.close();
    expect(await countRecords(t.dir)).toBe(1);
    await t.reopen();
    expect(text((await t.get('k'))?.value)).toBe('199');
  });
});
