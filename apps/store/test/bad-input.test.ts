// Bad input against one keel-store member: each gets etcd's gRPC code and message, and
// nothing is stored. Bad flags make the command exit 2 with one line saying why.
import { EtcdClient, type EtcdError } from '@keel/etcd-client';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStoreCluster, type StoreCluster } from '@keel/tools-store';

let cluster: StoreCluster | undefined;
let client: EtcdClient;
beforeAll(async () => {
  cluster = await startStoreCluster({ members: 1 });
  client = new EtcdClient({ endpoints: cluster.endpoints });
}, 60_000);
afterAll(async () => {
  client?.close();
  await cluster?.stop();
});

const failure = (p: Promise<unknown>) => p.then(() => undefined, (err: EtcdError) => ({ kind: err.kind, code: err.grpcCode, message: err.message.replace(/^[^:]+: /, '') }));

describe('bad requests', () => {
  it("are refused with etcd's codes and messages, and store nothing", async () => {
    const before = (await client.get('/bad/none')).revision;
    expect(await failure(client.put('/bad/k', 'v', { lease: '12345' }))).toEqual({ kind: 'not-found', code: 5, message: 'etcdserver: requested lease not found' });
    expect(await failure(client.put('', 'v'))).toEqual({ kind: 'invalid', code: 3, message: 'etcdserver: key is not provided' });
    expect(await failure(client.get('/bad/k', { revision: before + 100 }))).toEqual({
      kind: 'future-revision',
      code: 11,
      message: 'etcdserver: mvcc: required revision is a future revision',
    });
    expect(await failure(client.put('/bad/big', Buffer.alloc(1_600_000)))).toMatchObject({ kind: 'invalid', message: 'etcdserver: request is too large' });
    expect((await failure(client.put('/bad/huge', Buffer.alloc(3_000_000))))?.code).toBe(8); // RESOURCE_EXHAUSTED from gRPC itself
    expect(
      await failure(
        client.txn({
          compare: [],
          success: [{ put: { key: '/bad/dup', value: '1' } }, { put: { key: '/bad/dup', value: '2' } }],
        }),
      ),
    ).toEqual({ kind: 'invalid', code: 3, message: 'etcdserver: duplicate key given in txn request' });
    expect(await failure(client.leaseRevoke('999'))).toMatchObject({ kind: 'not-found' });
    expect((await client.range('/bad/', { prefix: true })).count).toBe(0);
    expect((await client.get('/bad/none')).revision).toBe(before);
  });
});

describe('the keel-store command', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cluster!.bundle, ...args], { encoding: 'utf8' });

  it('serves /health, /version and /metrics', async () => {
    const base = `http://127.0.0.1:${cluster!.members[0]!.metricsPort}`;
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ health: 'true', reason: '' });
    expect(await (await fetch(`${base}/version`)).json()).toMatchObject({ etcdserver: '3.4.0' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const name of [
      'etcd_disk_wal_fsync_duration_seconds_bucket',
      'etcd_disk_backend_commit_duration_seconds_count',
      'etcd_server_leader_changes_seen_total',
      'etcd_server_proposals_committed_total',
      'etcd_server_proposals_applied_total',
      'etcd_server_proposals_pending',
      'etcd_server_proposals_failed_total',
      'etcd_server_has_leader 1',
    ]) {
      expect(metrics).toContain(name);
    }
  });

  it('prints help and exits 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--initial-cluster-state');
  });

  it('exits 2 with a one-line reason on bad flags', () => {
    for (const [args, reason] of [
      [['--heartbeat-interval=abc'], /heartbeat-interval.*positive integer/],
      [['--initial-cluster-state=maybe'], /--initial-cluster-state must be new or existing/],
      [['--heartbeat-interval=500', '--election-timeout=1000'], /must be at least 5 times/],
      [['--name=x', '--initial-cluster=y=http://127.0.0.1:1'], /--initial-cluster has no x=/],
      [['--listen-client-urls=nope'], /expected http:\/\/host:port/],
      [['--no-such-flag'], /unknown option/],
    ] as const) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(reason);
    }
  });
});
