// kill -9 the leader of three under a stream of puts: writes resume on the other two within
// about two election timeouts (measured and printed), and after the killed member restarts
// from its data dir every acknowledged put is there, on every member.
import { EtcdClient } from '@keel/etcd-client';
import { afterAll, describe, expect, it } from 'vitest';
import { startStoreCluster, type StoreCluster } from '@keel/tools-store';

const ELECTION_MS = 1000;
let cluster: StoreCluster | undefined;
const clients: EtcdClient[] = [];

afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('failover', () => {
  it('loses no acknowledged put when the leader is killed, and resumes writes within about two election timeouts', async () => {
    cluster = await startStoreCluster({ members: 3, electionMs: ELECTION_MS });
    const perMember = cluster.endpoints.map((ep) => new EtcdClient({ endpoints: [ep], callTimeoutMs: 3000 }));
    clients.push(...perMember);

    const statuses = await Promise.all(perMember.map((c) => c.status()));
    const leaderIndex = statuses.findIndex((s) => s.memberId === s.leader);
    expect(leaderIndex).toBeGreaterThanOrEqual(0);

    const acked = new Map<string, string>();
    let running = true;
    let killedAt = 0;
    let resumedAt = 0;
    const writer = async (w: number) => {
      for (let n = 0; running; n++) {
        // Each writer goes round the members, so some puts arrive at followers and are forwarded.
        const client = perMember[(w + n) % perMember.length]!;
        const key = `/failover/${w}/${n}`;
        const issued = Date.now();
        try {
          await client.put(key, String(n));
          acked.set(key, String(n));
          if (killedAt && issued >= killedAt && !resumedAt) resumedAt = Date.now();
        } catch {
          await sleep(20);
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    await sleep(700);
    const before = acked.size;
    killedAt = Date.now();
    await cluster.kill(leaderIndex);
    const deadline = Date.now() + 10 * ELECTION_MS;
    while (!resumedAt && Date.now() < deadline) await sleep(20);
    await sleep(500);
    running = false;
    await Promise.all(writers);

    const resumeMs = resumedAt - killedAt;
    console.log(`failover: ${before} puts acknowledged before kill -9 of the leader, ${acked.size} in all; writes resumed after ${resumeMs} ms (election timeout ${ELECTION_MS} ms)`);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumeMs).toBeLessThan(4 * ELECTION_MS);

    await cluster.start(leaderIndex);
    const latest = (await perMember[(leaderIndex + 1) % 3]!.get('/failover/none')).revision;
    for (const [i, client] of perMember.entries()) {
      // Wait for the member to catch up, then read everything it holds.
      let tries = 0;
      for (;;) {
        try {
          const r = await client.range('/failover/', { prefix: true });
          if (r.revision >= latest) {
            const held = new Map(r.kvs.map((kv) => [kv.key.toString(), kv.value.toString()]));
            const missing = [...acked].filter(([k, v]) => held.get(k) !== v);
            expect(missing, `member ${i}`).toEqual([]);
            break;
          }
        } catch (err) {
          if (++tries > 100) throw err;
        }
        await sleep(100);
      }
    }
  });
});
