// The apiserver's storage and watch cache against a real etcd 3.4: compare-and-swap
// creates and updates, consistent paged lists, 410 for compacted revisions, and watches
// that resume from a resourceVersion and see selector transitions.
import type { KubeObject } from '@keel/api';
import { EtcdClient } from '@keel/etcd-client';
import { startEtcdCluster, type EtcdCluster } from '@keel/tools-etcd';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectStore, UNCHANGED } from '../src/storage/store';
import { WatchCache, type CacheEventType } from '../src/storage/watch-cache';

const work = mkdtempSync(join(tmpdir(), 'keel-apiserver-storage-'));
let cluster: EtcdCluster;
let etcd: EtcdClient;
let store: ObjectStore;
const pods = { resource: 'pods' };

interface Pod extends KubeObject {
  spec?: { nodeName?: string };
}
const pod = (name: string, labels: Record<string, string> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, labels },
  spec: {},
});
const key = (name: string, ns = 'default') => `/registry/pods/${ns}/${name}`;
const waitFor = async (cond: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

beforeAll(async () => {
  cluster = await startEtcdCluster({ dir: join(work, 'keel-etcd'), members: 1 });
  etcd = new EtcdClient({ endpoints: cluster.endpoints });
  store = new ObjectStore(etcd);
}, 60_000);
afterAll(async () => {
  etcd?.close();
  await cluster?.stop({ removeData: true });
  rmSync(work, { recursive: true, force: true });
});

describe('ObjectStore', () => {
  it('creates once; a second create is AlreadyExists; resourceVersion is the revision', async () => {
    const created = await store.create(pods, key('a'), pod('a'));
    expect(Number(created.metadata.resourceVersion)).toBeGreaterThan(0);
    await expect(store.create(pods, key('a'), pod('a'))).rejects.toMatchObject({ reason: 'AlreadyExists', httpStatus: 409 });
    const got = await store.get<Pod>(pods, key('a'), 'a');
    expect(got.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    // The resourceVersion is not stored in the value.
    const raw = await etcd.get(key('a'));
    expect(JSON.parse(raw.kv!.value.toString()).metadata.resourceVersion).toBeUndefined();
    await expect(store.get(pods, key('nope'), 'nope')).rejects.toMatchObject({ reason: 'NotFound', message: 'pods "nope" not found' });
  });

  it('updates with compare-and-swap; a stale resourceVersion is a 409 Conflict', async () => {
    const created = await store.create(pods, key('b'), pod('b'));
    const updated = await store.guaranteedUpdate<Pod>(pods, key('b'), 'b', (cur) => ({ ...cur, spec: { nodeName: 'n1' } }));
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    await expect(
      store.guaranteedUpdate<Pod>(pods, key('b'), 'b', (cur) => cur, { preconditions: { resourceVersion: created.metadata.resourceVersion! } }),
    ).rejects.toMatchObject({ reason: 'Conflict', httpStatus: 409 });
    const same = await store.guaranteedUpdate<Pod>(pods, key('b'), 'b', () => UNCHANGED);
    expect(same.metadata.resourceVersion).toBe(updated.metadata.resourceVersion);
  });

  it('retries an update that lost a race, so concurrent increments all land', async () => {
    await store.create(pods, key('counter'), { ...pod('counter'), metadata: { ...pod('counter').metadata, annotations: { n: '0' } } });
    await Promise.all(
      Array.from({ length: 10 }, () =>
        store.guaranteedUpdate<Pod>(pods, key('counter'), 'counter', (cur) => ({
          ...cur,
          metadata: { ...cur.metadata, annotations: { n: String(Number(cur.metadata.annotations!['n']) + 1) } },
        })),
      ),
    );
    expect((await store.get<Pod>(pods, key('counter'), 'counter')).metadata.annotations!['n']).toBe('10');
  });

  it('pages a list at one revision, even while objects change', async () => {
    for (let i = 0; i < 7; i++) await store.create(pods, key(`p${i}`, 'paging'), pod(`p${i}`));
    const first = await store.list<Pod>(pods, '/registry/pods/paging/', { limit: 3 });
    expect(first.items.map((p) => p.metadata.name)).toEqual(['p0', 'p1', 'p2']);
    expect(first.remainingItemCount).toBe(4);
    await store.create(pods, key('p99', 'paging'), pod('p99'));
    await store.delete(pods, key('p5', 'paging'), 'p5');
    const second = await store.list<Pod>(pods, '/registry/pods/paging/', { limit: 3, continue: first.continue! });
    const third = await store.list<Pod>(pods, '/registry/pods/paging/', { limit: 3, continue: second.continue! });
    expect([...second.items, ...third.items].map((p) => p.metadata.name)).toEqual(['p3', 'p4', 'p5', 'p6']);
    expect(third.continue).toBeUndefined();
    expect(second.resourceVersion).toBe(first.resourceVersion);
    const filtered = await store.list<Pod>(pods, '/registry/pods/paging/', { predicate: (p) => p.metadata.name!.endsWith('9') });
    expect(filtered.items.map((p) => p.metadata.name)).toEqual(['p99']);
  });

  it('answers 410 for a continue token whose revision was compacted', async () => {
    const first = await store.list<Pod>(pods, '/registry/pods/paging/', { limit: 2 });
    await store.create(pods, key('late', 'paging'), pod('late'));
    await etcd.compact(await store.currentRevision(), true);
    await expect(store.list(pods, '/registry/pods/paging/', { limit: 2, continue: first.continue! })).rejects.toMatchObject({
      reason: 'Expired',
      httpStatus: 410,
    });
    await expect(store.list(pods, '/registry/pods/paging/', { continue: 'garbage!' })).rejects.toMatchObject({ httpStatus: 400 });
  });

  it('deletes with uid preconditions', async () => {
    await store.create(pods, key('d'), pod('d'));
    await expect(store.delete(pods, key('d'), 'd', { preconditions: { uid: 'other' } })).rejects.toMatchObject({ reason: 'Conflict' });
    const deleted = await store.delete<Pod>(pods, key('d'), 'd', { preconditions: { uid: 'uid-d' } });
    expect(deleted.metadata.name).toBe('d');
    await expect(store.get(pods, key('d'), 'd')).rejects.toMatchObject({ reason: 'NotFound' });
  });
});

describe('WatchCache', () => {
  const events = (log: [CacheEventType, KubeObject][]) => log.map(([t, o]) => `${t} ${o.metadata.name}`);

  it('serves the current state, then live changes, through one store watch', async () => {
    const cache = new WatchCache<Pod>(etcd, store, '/registry/pods/wc1/');
    await store.create(pods, key('x', 'wc1'), pod('x'));
    const log: [CacheEventType, KubeObject][] = [];
    const sub = await cache.watch(undefined, () => true, { send: (t, o) => (log.push([t, o]), true), end: () => undefined });
    expect(events(log)).toEqual(['ADDED x']);
    await store.create(pods, key('y', 'wc1'), pod('y'));
    await store.guaranteedUpdate<Pod>(pods, key('x', 'wc1'), 'x', (c) => ({ ...c, spec: { nodeName: 'n' } }));
    await store.delete(pods, key('y', 'wc1'), 'y');
    await waitFor(() => log.length >= 4);
    expect(events(log)).toEqual(['ADDED x', 'ADDED y', 'MODIFIED x', 'DELETED y']);
    // The DELETED object carries the deletion's revision.
    expect(Number(log[3]![1].metadata.resourceVersion)).toBe(cache.revision);
    sub.close();
    cache.stop();
  });

  it('resumes from a resourceVersion, and answers 410 for one older than its history', async () => {
    const cache = new WatchCache<Pod>(etcd, store, '/registry/pods/wc2/', { historySize: 3 });
    await cache.start();
    const revs: string[] = [];
    for (let i = 0; i < 5; i++) revs.push((await store.create(pods, key(`r${i}`, 'wc2'), pod(`r${i}`))).metadata.resourceVersion!);
    await waitFor(() => cache.revision >= Number(revs[4]));
    const log: [CacheEventType, KubeObject][] = [];
    await cache.watch(Number(revs[2]), () => true, { send: (t, o) => (log.push([t, o]), true), end: () => undefined });
    expect(events(log)).toEqual(['ADDED r3', 'ADDED r4']);
    await expect(cache.watch(Number(revs[0]), () => true, { send: () => true, end: () => undefined })).rejects.toMatchObject({
      reason: 'Expired',
      httpStatus: 410,
    });
    cache.stop();
  });

  it('turns selector transitions into ADDED and DELETED for each client', async () => {
    const cache = new WatchCache<Pod>(etcd, store, '/registry/pods/wc3/');
    await store.create(pods, key('s', 'wc3'), pod('s', { app: 'web' }));
    const log: [CacheEventType, KubeObject][] = [];
    await cache.watch(undefined, (o) => o.metadata.labels?.['app'] === 'web', { send: (t, o) => (log.push([t, o]), true), end: () => undefined });
    const relabel = (app: string) =>
      store.guaranteedUpdate<Pod>(pods, key('s', 'wc3'), 's', (c) => ({ ...c, metadata: { ...c.metadata, labels: { app } } }));
    await relabel('db');
    await relabel('web');
    await waitFor(() => log.length >= 3);
    expect(events(log)).toEqual(['ADDED s', 'DELETED s', 'ADDED s']);
    cache.stop();
  });

  it('cuts off a client that cannot keep up', async () => {
    const cache = new WatchCache<Pod>(etcd, store, '/registry/pods/wc4/');
    await cache.start();
    let ended = '';
    await cache.watch(undefined, () => true, { send: () => false, end: (r) => (ended = r) });
    await store.create(pods, key('z', 'wc4'), pod('z'));
    await waitFor(() => ended !== '');
    expect(ended).toMatch(/keep up/);
    expect(cache.watcherCount).toBe(0);
    cache.stop();
  });
});
