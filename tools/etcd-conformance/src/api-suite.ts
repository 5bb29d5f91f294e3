// The etcd v3 behaviour Keel relies on, as one reusable Vitest suite: run against Debian's
// etcd (libs/etcd-client's tests) and against keel-store (the store's tests), so both are
// held to the same rules through the same client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdClient, EtcdError, type WatchEvent } from '@keel/etcd-client';

export interface EtcdServerUnderTest {
  endpoints: string[];
  stop(): Promise<void>;
}

const waitFor = async (cond: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

export function etcdApiSuite(name: string, start: () => Promise<EtcdServerUnderTest>): void {
  describe(`etcd v3 API: ${name}`, () => {
    let server: EtcdServerUnderTest;
    let client: EtcdClient;
    // Every test works under its own prefix so they never see each other's keys.
    let n = 0;
    const ns = () => `/suite/${Date.now()}-${n++}/`;

    beforeAll(async () => {
      server = await start();
      client = new EtcdClient({ endpoints: server.endpoints });
    }, 60_000);
    afterAll(async () => {
      client?.close();
      await server?.stop();
    });

    it('puts and gets with revisions, versions and prev_kv', async () => {
      const p = ns();
      const first = await client.put(`${p}a`, 'one');
      const second = await client.put(`${p}a`, 'two', { prevKv: true });
      expect(second.revision).toBe(first.revision + 1);
      expect(second.prevKv?.value.toString()).toBe('one');
      const { kv, revision } = await client.get(`${p}a`);
      expect(kv?.value.toString()).toBe('two');
      expect(kv).toMatchObject({ createRevision: first.revision, modRevision: second.revision, version: 2, lease: '0' });
      expect(revision).toBeGreaterThanOrEqual(second.revision);
      expect((await client.get(`${p}missing`)).kv).toBeUndefined();
      // A missing key sorting before existing ones is still missing (not "the next key").
      expect((await client.get(`${p}0`)).kv).toBeUndefined();
      expect((await client.range(`${p}0`)).count).toBe(0);
    });

    it('ranges by prefix with limit, count, keys only, sort and a past revision', async () => {
      const p = ns();
      const revs: number[] = [];
      for (const k of ['c', 'a', 'b', 'd']) revs.push((await client.put(`${p}${k}`, `v-${k}`)).revision);
      const page = await client.range(p, { prefix: true, limit: 2 });
      expect(page.kvs.map((kv) => kv.key.toString())).toEqual([`${p}a`, `${p}b`]);
      expect(page).toMatchObject({ count: 4, more: true });
      const keysOnly = await client.range(p, { prefix: true, keysOnly: true });
      expect(keysOnly.kvs.every((kv) => kv.value.length === 0)).toBe(true);
      const countOnly = await client.range(p, { prefix: true, countOnly: true });
      expect(countOnly).toMatchObject({ count: 4, kvs: [] });
      const desc = await client.range(p, { prefix: true, sort: { order: 'DESCEND', target: 'KEY' } });
      expect(desc.kvs.map((kv) => kv.key.toString().slice(-1))).toEqual(['d', 'c', 'b', 'a']);
      const past = await client.range(p, { prefix: true, revision: revs[1]! });
      expect(past.kvs.map((kv) => kv.key.toString().slice(-1))).toEqual(['a', 'c']);
    });

    it('deletes a prefix and returns what it deleted', async () => {
      const p = ns();
      await client.put(`${p}x`, '1');
      await client.put(`${p}y`, '2');
      const del = await client.delete(p, { prefix: true, prevKv: true });
      expect(del.deleted).toBe(2);
      expect(del.prevKvs.map((kv) => kv.value.toString()).sort()).toEqual(['1', '2']);
      expect((await client.range(p, { prefix: true })).count).toBe(0);
    });

    it('runs the transactions the apiserver sends: create if absent, update if unchanged', async () => {
      const key = `${ns()}obj`;
      const create = () =>
        client.txn({
          compare: [{ key, target: 'MOD', result: 'EQUAL', modRevision: 0 }],
          success: [{ put: { key, value: 'v1' } }],
          failure: [{ range: { key } }],
        });
      const created = await create();
      expect(created.succeeded).toBe(true);
      const again = await create();
      expect(again.succeeded).toBe(false);
      const current = (again.results[0] as { range: { kvs: { modRevision: number; value: Buffer }[] } }).range.kvs[0]!;
      expect(current.value.toString()).toBe('v1');

      const update = (mod: number, value: string) =>
        client.txn({
          compare: [{ key, target: 'MOD', result: 'EQUAL', modRevision: mod }],
          success: [{ put: { key, value } }],
          failure: [{ range: { key } }],
        });
      const updated = await update(current.modRevision, 'v2');
      expect(updated.succeeded).toBe(true);
      // A writer holding the old revision loses the race.
      expect((await update(current.modRevision, 'v3')).succeeded).toBe(false);
      expect((await client.get(key)).kv?.value.toString()).toBe('v2');
    });

    it('watches from a revision: ordered, with prev_kv, filtered, and cancellable', async () => {
      const p = ns();
      const start = (await client.put(`${p}a`, '1')).revision;
      await client.put(`${p}b`, '2');
      await client.put(`${p}a`, '3');
      await client.delete(`${p}b`);
      const seen: WatchEvent[] = [];
      const w = client.watch({ key: p, prefix: true, startRevision: start, prevKv: true }, { onEvents: (evs) => seen.push(...evs) });
      await waitFor(() => seen.length >= 4);
      expect(seen.map((e) => `${e.type} ${e.kv.key.toString().slice(-1)} ${e.kv.modRevision - start}`)).toEqual([
        'PUT a 0',
        'PUT b 1',
        'PUT a 2',
        'DELETE b 3',
      ]);
      expect(seen[2]!.prevKv?.value.toString()).toBe('1');
      // Live events follow without gaps.
      await client.put(`${p}c`, '4');
      await waitFor(() => seen.length >= 5);
      expect(seen[4]!.kv.modRevision).toBe(start + 4);
      w.cancel();
      await client.put(`${p}d`, '5');
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toHaveLength(5);

      const puts: WatchEvent[] = [];
      const filtered = client.watch({ key: p, prefix: true, startRevision: start, noDelete: true }, { onEvents: (evs) => puts.push(...evs) });
      await waitFor(() => puts.length >= 5);
      expect(puts.every((e) => e.type === 'PUT')).toBe(true);
      filtered.cancel();
    });

    it('cancels a watch from a compacted revision with the compact revision', async () => {
      const p = ns();
      const old = (await client.put(`${p}k`, '1')).revision;
      const latest = (await client.put(`${p}k`, '2')).revision;
      await client.compact(latest, true);
      await expect(client.range(`${p}k`, { revision: old })).rejects.toMatchObject({ kind: 'compacted' });
      const err = await new Promise<EtcdError>((resolve) =>
        client.watch({ key: p, prefix: true, startRevision: old }, { onEvents: () => undefined, onError: resolve }),
      );
      expect(err.kind).toBe('compacted');
      expect(err.compactRevision).toBe(latest);
    });

    it('grants leases, attaches keys, keeps them alive, and deletes keys on revoke', async () => {
      const p = ns();
      const lease = await client.leaseGrant(10);
      expect(lease.ttl).toBe(10);
      await client.put(`${p}held`, 'x', { lease: lease.id });
      const ttl = await client.leaseTimeToLive(lease.id, true);
      expect(ttl.grantedTtl).toBe(10);
      expect(ttl.keys.map((k) => k.toString())).toEqual([`${p}held`]);
      expect(await client.leaseList()).toContain(lease.id);
      const keeper = client.keepAlive(lease.id, 10);
      await new Promise((r) => setTimeout(r, 300));
      expect((await client.leaseTimeToLive(lease.id)).ttl).toBeGreaterThanOrEqual(9);
      keeper.stop();
      await client.leaseRevoke(lease.id);
      expect((await client.get(`${p}held`)).kv).toBeUndefined();
      await expect(client.leaseRevoke(lease.id)).rejects.toMatchObject({ kind: 'not-found' });
    });

    it('reports status and members', async () => {
      const status = await client.status();
      expect(status.leader).not.toBe('0');
      expect(status.raftTerm).toBeGreaterThan(0);
      const members = await client.memberList();
      expect(members.length).toBe(server.endpoints.length);
    });
  });
}
