// Membership and catching up: a member added with etcdctl (as a learner) and started with
// --initial-cluster-state existing receives the MVCC state as a Raft snapshot (the log
// before it was compacted away), serves every key, and is promoted to voter.
import { EtcdClient } from '@keel/etcd-client';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startStoreCluster, type StoreCluster } from '@keel/tools-store';

let cluster: StoreCluster | undefined;
const clients: EtcdClient[] = [];
afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
});

function etcdctl(endpoints: string[], args: string[]): string {
  return execFileSync('etcdctl', [`--endpoints=${endpoints.join(',')}`, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8' });
}

describe('a member added to a running cluster', () => {
  it('catches up from a snapshot of the MVCC state and is promoted', async () => {
    cluster = await startStoreCluster({ members: 3, snapshotCount: 100 });
    const client = new EtcdClient({ endpoints: cluster.endpoints });
    clients.push(client);
    for (let i = 0; i < 300; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => client.put(`/join/${String(i + j).padStart(4, '0')}`, `v${i + j}`)));
    }
    await client.delete('/join/0000');
    const { revision } = await client.get('/join/none');

    const extra = await cluster.prepareMember('m3');
    const added = etcdctl(cluster.endpoints.slice(0, 3), ['member', 'add', 'm3', '--learner', `--peer-urls=http://127.0.0.1:${extra.peerPort}`]);
    expect(added).toContain('ETCD_INITIAL_CLUSTER_STATE="existing"');
    await cluster.start(3);

    const joined = new EtcdClient({ endpoints: [extra.endpoint] });
    clients.push(joined);
    const deadline = Date.now() + 20_000;
    let seen = { revision: 0, count: 0 };
    while (Date.now() < deadline) {
      try {
        const r = await joined.range('/join/', { prefix: true, serializable: true });
        seen = { revision: r.revision, count: r.count };
        if (r.revision >= revision) break;
      } catch {
        // not serving yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen).toEqual({ revision, count: 299 });
    expect((await joined.get('/join/0299', { serializable: true })).kv?.value.toString()).toBe('v299');
    // It got there through a snapshot: the log it would have replayed is compacted.
    expect(readFileSync(extra.logFile, 'utf8')).toContain('"msg":"restored from snapshot"');

    const id = BigInt(etcdctl([extra.endpoint], ['endpoint', 'status', '-w', 'json']).match(/"member_id":(\d+)/)![1]!).toString(16);
    expect(etcdctl(cluster.endpoints.slice(0, 3), ['member', 'promote', id])).toContain('promoted');
    const list = etcdctl([extra.endpoint], ['member', 'list']);
    expect(list).toContain(`${id}, started, m3, http://127.0.0.1:${extra.peerPort}, http://${extra.endpoint}, false`);
    // The new voter takes writes and answers linearizable reads.
    await joined.put('/join/after', 'x');
    expect((await client.get('/join/after')).kv?.value.toString()).toBe('x');
  });
});
