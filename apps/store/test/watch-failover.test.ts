// A watch over three keel-store members keeps every event, once and in order, while the
// member it is connected to is killed: the client's stream moves to another member and
// resumes from the next revision it needs (the same test runs against etcd in
// tools/etcd-conformance).
import { EtcdClient, type WatchEvent } from '@keel/etcd-client';
import { afterAll, describe, expect, it } from 'vitest';
import { startStoreCluster, type StoreCluster } from '@keel/tools-store';

let cluster: StoreCluster | undefined;
const clients: EtcdClient[] = [];
afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
});

async function retry<T>(fn: () => Promise<T>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('watch across a member failure', () => {
  it('delivers every write exactly once, in order', async () => {
    cluster = await startStoreCluster({ members: 3 });
    const watcherClient = new EtcdClient({ endpoints: cluster.endpoints });
    const writer = new EtcdClient({ endpoints: cluster.endpoints.slice(1) });
    clients.push(watcherClient, writer);

    const seen: WatchEvent[] = [];
    const start = (await writer.put('/failover/seed', '0')).revision;
    watcherClient.watch({ key: '/failover/', prefix: true, startRevision: start }, { onEvents: (evs) => seen.push(...evs) });
    const written: number[] = [start];
    for (let i = 1; i <= 20; i++) written.push((await retry(() => writer.put('/failover/k', String(i)))).revision);
    // The watcher's channel prefers the first endpoint: kill that member mid-stream.
    await cluster.kill(0);
    for (let i = 21; i <= 40; i++) written.push((await retry(() => writer.put('/failover/k', String(i)))).revision);

    const deadline = Date.now() + 20_000;
    while (seen.length < written.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(seen.map((e) => e.kv.modRevision)).toEqual(written);
  });
});
