// A watch over three members keeps every event, once and in order, while the member it is
// connected to is killed: the client's stream moves to another member and resumes from the
// next revision it needs. One Vitest suite, run against Debian's etcd (this project's tests)
// and against keel-store (the store's tests), each with its own cluster.
import { EtcdClient, type WatchEvent } from '@keel/etcd-client';
import { eventually } from '@keel/process';
import { afterAll, describe, expect, it } from 'vitest';

export interface FailoverCluster {
  /** Three members' endpoints, the first the one the watcher's channel prefers. */
  endpoints: string[];
  /** Kills a member (by its index in endpoints). */
  kill(member: number): Promise<void>;
  stop(): Promise<void>;
}

export function watchFailoverSuite(startCluster: () => Promise<FailoverCluster>): void {
  let cluster: FailoverCluster | undefined;
  const clients: EtcdClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.close();
    await cluster?.stop();
  });

  describe('watch across a member failure', () => {
    it('delivers every write exactly once, in order', async () => {
      cluster = await startCluster();
      const watcherClient = new EtcdClient({ endpoints: cluster.endpoints });
      const writer = new EtcdClient({ endpoints: cluster.endpoints.slice(1) });
      clients.push(watcherClient, writer);
      const put = (i: number) => eventually(`the put of ${i}`, async () => (await writer.put('/failover/k', String(i))).revision, { timeoutMs: 15_000 });

      const seen: WatchEvent[] = [];
      const start = (await writer.put('/failover/seed', '0')).revision;
      watcherClient.watch({ key: '/failover/', prefix: true, startRevision: start }, { onEvents: (evs) => seen.push(...evs) });
      const written: number[] = [start];
      for (let i = 1; i <= 20; i++) written.push(await put(i));
      // The watcher's channel prefers the first endpoint: kill that member mid-stream.
      await cluster.kill(0);
      for (let i = 21; i <= 40; i++) written.push(await put(i));

      const deadline = Date.now() + 20_000;
      while (seen.length < written.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(seen.map((e) => e.kv.modRevision)).toEqual(written);
    });
  });
}
