// Integration: a three-member Debian etcd on loopback starts, serves etcdctl, survives
// the loss of one member, takes it back, and leaves nothing running.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEtcdCluster, type EtcdCluster } from '../src/etcd';

const work = mkdtempSync(join(tmpdir(), 'keel-etcd-test-'));
let cluster: EtcdCluster | undefined;
afterAll(async () => {
  await cluster?.stop({ removeData: true });
  rmSync(work, { recursive: true, force: true });
});

const etcdctl = (endpoints: string[], ...args: string[]) =>
  execFileSync('etcdctl', [`--endpoints=${endpoints.join(',')}`, '--command-timeout=5s', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ETCDCTL_API: '3' },
  }).trim();

/** Runs `fn` until it stops throwing: a write right after losing the leader may time out once. */
async function eventually<T>(fn: () => T, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe('etcd cluster on loopback', () => {
  it('starts three members that agree on writes', async () => {
    cluster = await startEtcdCluster({ dir: join(work, 'keel-etcd'), members: 3 });
    expect(cluster.endpoints).toHaveLength(3);
    expect(etcdctl(cluster.endpoints, 'put', '/keel/a', '1')).toBe('OK');
    for (const endpoint of cluster.endpoints) {
      expect(etcdctl([endpoint], 'get', '/keel/a', '--print-value-only')).toBe('1');
    }
  });

  it('keeps serving with one member killed, and takes it back', async () => {
    await cluster!.killMember(0);
    const rest = cluster!.endpoints.slice(1);
    expect(await eventually(() => etcdctl(rest, 'put', '/keel/b', '2'))).toBe('OK');
    await cluster!.startMember(0);
    // The restarted member catches up from its peers.
    for (let i = 0; i < 50; i++) {
      if (etcdctl([cluster!.endpoints[0]!], 'get', '/keel/b', '--print-value-only', '--consistency=s') === '2') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(etcdctl([cluster!.endpoints[0]!], 'get', '/keel/b', '--print-value-only', '--consistency=s')).toBe('2');
  });

  it('stops every member by PID and removes its data', async () => {
    const { members } = cluster!;
    await cluster!.stop({ removeData: true });
    cluster = undefined;
    for (const m of members) expect(existsSync(m.dataDir)).toBe(false);
  });
});
