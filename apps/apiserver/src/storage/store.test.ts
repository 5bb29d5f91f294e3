// ObjectStore's expiring writes, against a fake of the two etcd calls they make.
import { EtcdError, type EtcdClient } from '@keel/etcd-client';
import { describe, expect, it } from 'vitest';
import { eventTtl } from './leases';
import { ObjectStore } from './store';

function fakeEtcd() {
  const revoked = new Set<string>();
  const puts: { key: string; lease?: string }[] = [];
  let leases = 0;
  const etcd = {
    leaseGrant: async (ttl: number) => ({ id: String(++leases), ttl }),
    txn: async (req: { success: { put: { key: string; lease?: string } }[] }) => {
      const put = req.success[0]!.put;
      if (put.lease && revoked.has(put.lease)) throw new EtcdError('not-found', 'etcdserver: requested lease not found', 5);
      puts.push({ key: put.key, ...(put.lease ? { lease: put.lease } : {}) });
      return { succeeded: true, revision: puts.length };
    },
  };
  return { etcd: etcd as unknown as EtcdClient, revoked, puts };
}

const event = (name: string) => ({ apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default' } });

describe('ObjectStore with a TTL', () => {
  it('puts Events under a shared lease and other objects under none', async () => {
    const { etcd, puts } = fakeEtcd();
    const store = new ObjectStore(etcd, { ttlSeconds: eventTtl(3600) });
    await store.create({ resource: 'events' }, '/registry/events/default/a', event('a'));
    await store.create({ resource: 'events' }, '/registry/events/default/b', event('b'));
    await store.create({ resource: 'pods' }, '/registry/pods/default/p', { ...event('p'), kind: 'Pod' });
    expect(puts).toEqual([
      { key: '/registry/events/default/a', lease: '1' },
      { key: '/registry/events/default/b', lease: '1' },
      { key: '/registry/pods/default/p' },
    ]);
  });

  it('takes a new lease when the store has lost the shared one', async () => {
    const { etcd, puts, revoked } = fakeEtcd();
    const store = new ObjectStore(etcd, { ttlSeconds: eventTtl(3600) });
    await store.create({ resource: 'events' }, '/registry/events/default/a', event('a'));
    revoked.add('1');
    await store.create({ resource: 'events' }, '/registry/events/default/b', event('b'));
    expect(puts.at(-1)).toEqual({ key: '/registry/events/default/b', lease: '2' });
  });
});
