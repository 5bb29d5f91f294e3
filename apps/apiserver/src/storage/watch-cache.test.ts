// The watch cache's start against a fake etcd: a list the store refuses (a restarted member
// with no leader yet) is tried again on the next start, not remembered as failed.
import { EtcdError, type EtcdClient } from '@keel/etcd-client';
import { describe, expect, it } from 'vitest';
import { ObjectStore } from './store';
import { WatchCache } from './watch-cache';

describe('WatchCache.start', () => {
  it('lists again after a refused list, then follows from the listed revision', async () => {
    let ranges = 0;
    const watches: { startRevision?: number }[] = [];
    const etcd = {
      range: async () => {
        if (++ranges === 1) throw new EtcdError('unavailable', 'etcdserver: no leader', 14);
        return { kvs: [], revision: 7, more: false, count: 0 };
      },
      watch: (req: { startRevision?: number }) => {
        watches.push(req);
        return { cancel: () => undefined };
      },
    } as unknown as EtcdClient;
    const cache = new WatchCache(etcd, new ObjectStore(etcd), '/registry/pods/');
    await expect(cache.start()).rejects.toThrow('etcdserver: no leader');
    await cache.start();
    expect(ranges).toBe(2);
    expect(watches.map((w) => w.startRevision)).toEqual([8]);
    // Started once: later calls share the loaded state.
    await cache.start();
    expect(ranges).toBe(2);
    cache.stop();
  });
});
