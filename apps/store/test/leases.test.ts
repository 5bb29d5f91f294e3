// Leases across members: a kept-alive lease survives a kill -9 of the leader (the new
// leader gives every lease a full TTL), and once keep-alives stop it expires by a revoke
// the leader proposes, so every member deletes its keys at the same revision.
import { EtcdClient, type WatchEvent } from '@keel/etcd-client';
import { afterAll, describe, expect, it } from 'vitest';
import { startStoreCluster, type StoreCluster } from '@keel/tools-store';

let cluster: StoreCluster | undefined;
const clients: EtcdClient[] = [];
afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
});

// Long enough to outlast a failover on a busy machine (the client gives up on a lease it
// could not renew for a whole TTL).
const TTL = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let last: string;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
      last = 'not yet';
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out; last: ${last}`);
    await sleep(100);
  }
}

describe('leases on three members', () => {
  it("survive a leader change, then expire by the leader's revoke at one revision everywhere", async () => {
    cluster = await startStoreCluster({ members: 3 });
    const perMember = cluster.endpoints.map((ep) => new EtcdClient({ endpoints: [ep], callTimeoutMs: 3000 }));
    clients.push(...perMember);
    const statuses = await Promise.all(perMember.map((c) => c.status()));
    const leader = statuses.findIndex((s) => s.memberId === s.leader);
    const survivors = [0, 1, 2].filter((i) => i !== leader);
    const client = perMember[survivors[0]!]!;

    const lease = await client.leaseGrant(TTL);
    const put = await client.put('/lease/k', 'v', { lease: lease.id });
    const events = new Map<number, WatchEvent[]>(survivors.map((i) => [i, []]));
    for (const i of survivors) {
      perMember[i]!.watch({ key: '/lease/k', startRevision: put.revision }, { onEvents: (evs) => events.get(i)!.push(...evs) });
    }
    let lost = '';
    const keeper = client.keepAlive(lease.id, TTL, (err) => (lost = err.message));
    await sleep(500);
    await cluster.kill(leader);
    // Past the lease's TTL from its grant, with a new leader (which gave it a full TTL when it
    // took over): the lease lives on, kept alive through a follower.
    await sleep(TTL * 1000 + 500);
    const ttl = await until(async () => {
      const t = await perMember[survivors[1]!]!.leaseTimeToLive(lease.id);
      if (t.ttl <= 0) throw new Error(`TimeToLive answered ${t.ttl}`);
      return t.ttl;
    }, TTL * 1000).catch((err: unknown) => {
      throw new Error(`the lease did not survive the failover (keep-alive: ${lost || 'still renewing'}): ${(err as Error).message}`);
    });
    expect(ttl).toBeGreaterThan(0);
    expect(lost).toBe('');
    expect((await client.get('/lease/k')).kv?.value.toString()).toBe('v');

    keeper.stop();
    const stopped = Date.now();
    await until(async () => ((await client.get('/lease/k')).kv ? undefined : true), 3 * TTL * 1000);
    console.log(`lease of TTL ${TTL} s expired ${Date.now() - stopped} ms after the last keep-alive stopped`);
    const deletes = await until(async () => {
      const seen = survivors.map((i) => events.get(i)!.find((e) => e.type === 'DELETE'));
      return seen.every(Boolean) ? seen.map((e) => e!.kv.modRevision) : undefined;
    }, 5000);
    expect(new Set(deletes).size).toBe(1);
    expect((await perMember[survivors[1]!]!.leaseTimeToLive(lease.id)).ttl).toBe(-1);
  });
});
