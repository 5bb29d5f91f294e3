// Watches: live and replayed events, ranges and prefixes, filters, prev_kv, progress,
// resuming from the last seen revision (also across a restart), cancellation when the
// start revision is compacted, and slow consumers that never hold writers back.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prefixEnd } from './key-range';
import { b, collect, summary, TestStore, text } from './test-helpers';
import type { WatchMessage } from './watch';

const eventCount = (messages: WatchMessage[]) =>
  messages.reduce((n, m) => n + (m.type === 'events' ? m.events.length : 0), 0);

describe('watch', () => {
  let t: TestStore;
  beforeEach(async () => (t = await TestStore.create()));
  afterEach(() => t.cleanup());

  it('delivers live events for one key, in order', async () => {
    const w = t.store.watch({ key: b('k') });
    await t.put('k', '1');
    await t.put('other', '1');
    await t.put('k', '2');
    await t.del('k');
    const messages = await collect(w, (m) => eventCount(m) >= 3);
    expect(summary(messages)).toEqual(['PUT k@2', 'PUT k@4', 'DELETE k@5']);
    const last = messages.flatMap((m) => (m.type === 'events' ? m.events : [])).at(-1)!;
    expect(last.kv).toMatchObject({ version: 0, createRevision: 0, value: Buffer.alloc(0) });
    w.cancel();
    expect(await w.next()).toBeUndefined();
  });

  it('watches a prefix and a range to the end, with filters and prev_kv', async () => {
    await t.put('/p/a', 'old');
    const prefix = t.store.watch({ key: b('/p/'), rangeEnd: prefixEnd(b('/p/')), prevKv: true });
    const fromKey = t.store.watch({ key: b('/p/b'), rangeEnd: Buffer.of(0), filters: ['NOPUT'] });
    const noDelete = t.store.watch({ key: b('/p/'), rangeEnd: prefixEnd(b('/p/')), filters: ['NODELETE'] });
    await t.put('/p/a', 'new');
    await t.put('/q', 'x');
    await t.put('/p/b', '1');
    await t.del('/p/', prefixEnd(b('/p/')).toString('latin1'));
    const messages = await collect(prefix, (m) => eventCount(m) >= 4);
    expect(summary(messages)).toEqual(['PUT /p/a@3', 'PUT /p/b@5', 'DELETE /p/a@6', 'DELETE /p/b@6']);
    const events = messages.flatMap((m) => (m.type === 'events' ? m.events : []));
    expect(text(events[0]!.prevKv?.value)).toBe('old');
    expect(events[1]!.prevKv).toBeUndefined();
    expect(text(events[2]!.prevKv?.value)).toBe('new');
    expect(summary(await collect(fromKey, (m) => eventCount(m) >= 1))).toEqual(['DELETE /p/b@6']);
    expect(summary(await collect(noDelete, (m) => eventCount(m) >= 2))).toEqual(['PUT /p/a@3', 'PUT /p/b@5']);
  });

  it('replays from a past revision, then continues live without gap or duplicate', async () => {
    for (let i = 0; i < 10; i++) await t.put(`k${i % 3}`, `${i}`);
    const w = t.store.watch({ key: b('k'), rangeEnd: b('l'), startRevision: 4, prevKv: true });
    const writes = (async () => {
      for (let i = 10; i < 20; i++) await t.put(`k${i % 3}`, `${i}`);
    })();
    // 20 puts are revisions 2..21: from 4 that is 18 events, however they are batched.
    const messages = await collect(w, (m) => eventCount(m) >= 18);
    await writes;
    const revs = messages.flatMap((m) => (m.type === 'events' ? m.events.map((e) => e.kv.modRevision) : []));
    expect(revs).toEqual(Array.from({ length: 18 }, (_, i) => i + 4));
    const events = messages.flatMap((m) => (m.type === 'events' ? m.events : []));
    // Revision 4 created k2, so no prev_kv; revision 5 (i=3) overwrote k0's value "0".
    expect(events[0]!.prevKv).toBeUndefined();
    expect(text(events[1]!.prevKv?.value)).toBe('0');
  });

  it('resumes from the last seen revision, also across a restart', async () => {
    const w = t.store.watch({ key: b('a'), rangeEnd: b('b'), startRevision: 1 });
    for (let i = 0; i < 5; i++) await t.put(`a${i}`, 'x');
    const seen = await collect(w, (m) => eventCount(m) >= 3);
    const lastSeen = seen.flatMap((m) => (m.type === 'events' ? m.events : [])).at(-1)!.kv.modRevision;
    w.cancel();
    for (let i = 5; i < 8; i++) await t.put(`a${i}`, 'x');
    await t.reopen();
    const resumed = t.store.watch({ key: b('a'), rangeEnd: b('b'), startRevision: lastSeen + 1 });
    await t.put('a8', 'x');
    // a<i> was written at revision i + 2; everything after lastSeen, exactly once.
    const expected: string[] = [];
    for (let rev = lastSeen + 1; rev <= 10; rev++) expected.push(`PUT a${rev - 2}@${rev}`);
    const rest = await collect(resumed, (m) => eventCount(m) >= expected.length);
    expect(summary(rest)).toEqual(expected);
  });

  it('gives all events of one txn at one revision, and lease revocations as deletes', async () => {
    await t.apply({ type: 'leaseGrant', request: { ttl: 60, id: 3n } });
    const w = t.store.watch({ key: b('t'), rangeEnd: b('u') });
    await t.apply({
      type: 'txn',
      request: {
        success: [
          { requestPut: { key: b('t1'), value: b('x'), lease: 3n } },
          { requestPut: { key: b('t2'), value: b('y'), lease: 3n } },
        ],
      },
    });
    await t.apply({ type: 'leaseRevoke', id: 3n });
    const messages = await collect(w, (m) => eventCount(m) >= 4);
    expect(summary(messages)).toEqual(['PUT t1@2', 'PUT t2@2', 'DELETE t1@3', 'DELETE t2@3']);
  });

  it('cancels a watch whose start revision was compacted, with the compact revision', async () => {
    for (let i = 0; i < 5; i++) await t.put('k', `${i}`);
    await (await t.apply({ type: 'compact', revision: 4 })).physical;
    const w = t.store.watch({ key: b('k'), startRevision: 3 });
    const [message] = await collect(w, (m) => m.length >= 1);
    expect(message).toEqual({ type: 'canceled', compactRevision: 4, reason: 'mvcc: required revision has been compacted' });
    expect(await w.next()).toBeUndefined();
    // From the compact revision itself is still fine.
    const ok = t.store.watch({ key: b('k'), startRevision: 4 });
    expect(summary(await collect(ok, (m) => eventCount(m) >= 3))).toEqual(['PUT k@4', 'PUT k@5', 'PUT k@6']);
  });

  it('watches every key from an empty key with range end \\0, as etcdctl watch --prefix "" does', async () => {
    const w = t.store.watch({ key: Buffer.alloc(0), rangeEnd: Buffer.of(0) });
    await t.put('a', '1');
    await t.put('z', '1');
    expect(summary(await collect(w, (m) => eventCount(m) >= 2))).toEqual(['PUT a@2', 'PUT z@3']);
  });

  it('starts at a future revision when asked', async () => {
    const w = t.store.watch({ key: b('k'), startRevision: 4 });
    for (let i = 0; i < 4; i++) await t.put('k', `${i}`);
    expect(summary(await collect(w, (m) => eventCount(m) >= 2))).toEqual(['PUT k@4', 'PUT k@5']);
  });

  it('reports progress once every event up to the revision was delivered', async () => {
    const w = t.store.watch({ key: b('k') });
    await t.put('k', '1');
    await t.put('x', '1');
    w.requestProgress();
    expect(summary(await collect(w, (m) => m.length >= 2))).toEqual(['PUT k@2', 'progress@3']);
    // An unsynced watcher answers after catching up.
    const behind = t.store.watch({ key: b('k'), startRevision: 2 });
    behind.requestProgress();
    expect(summary(await collect(behind, (m) => m.length >= 2))).toEqual(['PUT k@2', 'progress@3']);
  });

  it('never blocks writers on a slow watcher, and the watcher later catches up from the store', async () => {
    await t.reopen({ watch: { bufferEvents: 8, catchUpRecords: 16, eventsPerMessage: 5 } });
    const slow = t.store.watch({ key: b('s'), rangeEnd: b('t'), prevKv: true });
    // Nobody reads while 300 writes go through.
    for (let i = 0; i < 300; i++) await t.put(`s${i % 7}`, `${i}`);
    expect(t.store.revision).toBe(301);
    const messages = await collect(slow, (m) => eventCount(m) >= 300);
    const events = messages.flatMap((m) => (m.type === 'events' ? m.events : []));
    expect(events.map((e) => e.kv.modRevision)).toEqual(Array.from({ length: 300 }, (_, i) => i + 2));
    expect(events.map((e) => text(e.kv.value))).toEqual(Array.from({ length: 300 }, (_, i) => `${i}`));
    // prev_kv is right on replayed events too.
    expect(text(events[299]!.prevKv?.value)).toBe('292');
    expect(Math.max(...messages.map((m) => (m.type === 'events' ? m.events.length : 0)))).toBeLessThanOrEqual(5);
    // And it is live again.
    await t.put('s0', 'live');
    expect(summary(await collect(slow, (m) => m.length >= 1))).toEqual(['PUT s0@302']);
  });

  it('cancels a slow watcher that compaction overtook', async () => {
    await t.reopen({ watch: { bufferEvents: 4, catchUpRecords: 4, eventsPerMessage: 4 } });
    const slow = t.store.watch({ key: b('k') });
    for (let i = 0; i < 20; i++) await t.put('k', `${i}`);
    await (await t.apply({ type: 'compact', revision: 15 })).physical;
    const messages = await collect(slow, (m) => m.at(-1)?.type === 'canceled');
    expect(messages.at(-1)).toMatchObject({ type: 'canceled', compactRevision: 15 });
    const revs = messages.flatMap((m) => (m.type === 'events' ? m.events.map((e) => e.kv.modRevision) : []));
    expect(revs).toEqual(Array.from({ length: revs.length }, (_, i) => i + 2));
  });
});
