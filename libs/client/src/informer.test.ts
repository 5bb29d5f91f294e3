import { ApiError, type Pod } from '@keel/api';
import { describe, expect, it } from 'vitest';
import { Indexer, metaNamespaceKey, splitMetaNamespaceKey } from './cache';
import { Client } from './client';
import { FakeClock, flushPromises } from './clock';
import { FakeApi } from './fake';
import { Informer } from './informer';
import { InformerFactory } from './informer-factory';

const PODS = { group: '', version: 'v1', resource: 'pods' };

const pod = (name: string, namespace = 'default', nodeName?: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'i' }], ...(nodeName ? { nodeName } : {}) },
});

function setup() {
  const api = new FakeApi();
  const clock = new FakeClock();
  const client = new Client(api);
  const errors: string[] = [];
  const informer = new Informer<Pod>(client.pods(), {
    clock,
    backoff: { minMs: 100, maxMs: 1000 },
    indexers: { node: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) },
    onError: (_err, context) => errors.push(context),
  });
  const seen: string[] = [];
  informer.addEventHandler({
    add: (p) => seen.push(`add ${p.metadata.name}`),
    update: (o, n) => seen.push(`update ${n.metadata.name} ${o.metadata.resourceVersion}->${n.metadata.resourceVersion}`),
    delete: (p) => seen.push(`delete ${p.metadata.name}`),
  });
  return { api, clock, client, informer, seen, errors };
}

describe('Indexer', () => {
  it('keeps objects by namespace/name with namespace and custom indexes up to date', () => {
    const idx = new Indexer<Pod>();
    idx.addIndexers({ node: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) });
    idx.set(pod('a', 'ns1', 'n1'));
    idx.set(pod('b', 'ns1', 'n2'));
    idx.set(pod('c', 'ns2', 'n1'));
    expect(idx.byNamespace('ns1').map((p) => p.metadata.name).sort()).toEqual(['a', 'b']);
    expect(idx.byIndex('node', 'n1').map((p) => p.metadata.name).sort()).toEqual(['a', 'c']);
    idx.set(pod('a', 'ns1', 'n2'));
    expect(idx.byIndex('node', 'n1').map((p) => p.metadata.name)).toEqual(['c']);
    expect(idx.byIndex('node', 'n2').map((p) => p.metadata.name).sort()).toEqual(['a', 'b']);
    expect(idx.delete('ns1/b')?.metadata.name).toBe('b');
    expect(idx.indexValues('node').sort()).toEqual(['n1', 'n2']);
    expect(idx.get('ns2', 'c')?.metadata.name).toBe('c');
    expect(idx.size).toBe(2);
    expect(() => idx.byIndex('nope', 'x')).toThrow(/no indexer/);
  });

  it('makes and splits namespace/name keys', () => {
    expect(metaNamespaceKey(pod('a', 'ns'))).toBe('ns/a');
    expect(metaNamespaceKey({ metadata: { name: 'node-1' } })).toBe('node-1');
    expect(splitMetaNamespaceKey('ns/a')).toEqual({ namespace: 'ns', name: 'a' });
    expect(splitMetaNamespaceKey('node-1')).toEqual({ name: 'node-1' });
  });
});

describe('Informer', () => {
  it('lists, then watches: the cache and the handlers follow adds, updates and deletes', async () => {
    const { api, client, informer, seen } = setup();
    api.seed(PODS, pod('p1'));
    informer.start();
    await informer.waitForSync();
    expect(informer.hasSynced()).toBe(true);
    expect(api.calls[0]).toBe('list pods');
    await client.pods('default').create(pod('p2', 'default', 'n1'));
    await client.pods('default').patch('p1', 'merge', { metadata: { labels: { v: '2' } } });
    await client.pods('default').delete('p2');
    await flushPromises();
    expect(seen).toEqual(['add p1', 'add p2', 'update p1 2->4', 'delete p2']);
    expect(informer.store.list().map((p) => p.metadata.labels)).toEqual([{ app: 'web', v: '2' }]);
    expect(informer.store.byIndex('node', 'n1')).toEqual([]);
    expect(informer.lastSyncResourceVersion).toBe('5');
    informer.stop();
    expect(api.openWatches).toBe(0);
  });

  it('hands the cached objects to a handler added after sync', async () => {
    const { api, informer } = setup();
    api.seed(PODS, pod('p1'));
    informer.start();
    await informer.waitForSync();
    const late: string[] = [];
    informer.addEventHandler({ add: (p) => late.push(p.metadata.name!) });
    expect(late).toEqual(['p1']);
    informer.stop();
  });

  it('re-watches from the last resourceVersion after a broken stream, missing nothing and not relisting', async () => {
    const { api, clock, client, informer, seen, errors } = setup();
    informer.start();
    await informer.waitForSync();
    await client.pods('default').create(pod('a'));
    await flushPromises();
    api.endWatches(new ApiError('ServiceUnavailable', 'connection reset'));
    // Changes while no watch is open...
    await client.pods('default').create(pod('b'));
    await client.pods('default').delete('a');
    await clock.advance(99);
    expect(api.openWatches).toBe(0);
    await clock.advance(1);
    await flushPromises();
    expect(api.openWatches).toBe(1);
    expect(seen).toEqual(['add a', 'add b', 'delete a']);
    expect(informer.stats.lists).toBe(1);
    expect(errors).toEqual(['watch']);
    informer.stop();
  });

  it('re-watches at once when the server ends a watch plainly (its timeout)', async () => {
    const { api, clock, client, informer } = setup();
    informer.start();
    await informer.waitForSync();
    await flushPromises();
    await client.pods('default').create(pod('a'));
    await clock.advance(5000);
    api.endWatches();
    await flushPromises();
    expect(api.openWatches).toBe(1);
    expect(informer.stats.watches).toBe(2);
    informer.stop();
  });

  it('pauses before re-watching when streams end at once, empty', async () => {
    const { api, clock, informer } = setup();
    informer.start();
    await informer.waitForSync();
    await flushPromises();
    api.endWatches();
    await flushPromises();
    expect(api.openWatches).toBe(0);
    await clock.advance(100);
    expect(api.openWatches).toBe(1);
    informer.stop();
  });

  it('relists on 410 Gone and reconciles the cache with what changed meanwhile', async () => {
    const { api, clock, client, informer, seen } = setup();
    api.seed(PODS, pod('keep'));
    api.seed(PODS, pod('vanish'));
    informer.start();
    await informer.waitForSync();
    await flushPromises();
    api.endWatches(new ApiError('ServiceUnavailable', 'stream broke'));
    // While disconnected: one pod goes, one comes, one changes; then the history is compacted.
    await client.pods('default').delete('vanish');
    await client.pods('default').create(pod('new'));
    await client.pods('default').patch('keep', 'merge', { metadata: { labels: { v: '2' } } });
    api.compact();
    await clock.advance(100);
    await flushPromises();
    expect(informer.stats.relistsOnGone).toBe(1);
    expect(informer.stats.lists).toBe(2);
    expect(seen.slice(2).sort()).toEqual(['add new', 'delete vanish', 'update keep 2->6']);
    expect(informer.store.listKeys().sort()).toEqual(['default/keep', 'default/new']);
    expect(api.openWatches).toBe(1);
    informer.stop();
  });

  it('retries a failed list with growing back-off', async () => {
    const { api, clock, informer, errors } = setup();
    api.failNext('list');
    api.failNext('list');
    informer.start();
    await flushPromises();
    expect(informer.hasSynced()).toBe(false);
    await clock.advance(100);
    expect(informer.hasSynced()).toBe(false);
    await clock.advance(199);
    expect(informer.hasSynced()).toBe(false);
    await clock.advance(1);
    expect(informer.hasSynced()).toBe(true);
    expect(errors).toEqual(['list', 'list']);
    informer.stop();
  });

  it('keeps going when a handler throws', async () => {
    const { api, client, informer, errors } = setup();
    informer.addEventHandler({
      add: () => {
        throw new Error('bad handler');
      },
    });
    informer.start();
    await informer.waitForSync();
    await client.pods('default').create(pod('x'));
    await flushPromises();
    expect(informer.store.size).toBe(1);
    expect(errors).toEqual(['add handler']);
    expect(api.openWatches).toBe(1);
    informer.stop();
  });

  it('resyncs: every cached object reaches update handlers again', async () => {
    const api = new FakeApi();
    const clock = new FakeClock();
    api.seed(PODS, pod('r'));
    const informer = new Informer<Pod>(new Client(api).pods(), { clock, resyncMs: 1000 });
    const updates: string[] = [];
    informer.addEventHandler({ update: (o, n) => o === n && updates.push(n.metadata.name!) });
    informer.start();
    await informer.waitForSync();
    await clock.advance(2000);
    expect(updates).toEqual(['r', 'r']);
    informer.stop();
  });
});

describe('InformerFactory', () => {
  it('shares one informer (one list, one watch) per resource, namespace and selectors', async () => {
    const api = new FakeApi();
    api.seed(PODS, pod('p1', 'default', 'n1'));
    const factory = new InformerFactory(new Client(api), { clock: new FakeClock() });
    const a = factory.forResource<Pod>(PODS, { indexers: { node: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) } });
    const b = factory.forResource<Pod>(PODS, { indexers: { node: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) } });
    const other = factory.forResource<Pod>(PODS, { namespace: 'kube-system' });
    expect(a).toBe(b);
    expect(other).not.toBe(a);
    factory.start();
    await factory.waitForSync();
    await flushPromises();
    expect(api.calls.filter((c) => c === 'list pods')).toHaveLength(2);
    expect(api.openWatches).toBe(2);
    expect(a.store.byIndex('node', 'n1')).toHaveLength(1);
    expect(other.store.size).toBe(0);
    // Asked for after start: started at once.
    const late = factory.forResource<Pod>(PODS, { labelSelector: 'app=web' });
    await late.waitForSync();
    expect(late.store.size).toBe(1);
    factory.stop();
    expect(api.openWatches).toBe(0);
  });
});

describe('FakeApi', () => {
  it('answers lists with the resource list kind, and AlreadyExists, Conflict and NotFound as the apiserver does', async () => {
    const client = new Client(new FakeApi());
    const created = await client.pods('default').create(pod('x'));
    const list = await client.pods('default').list();
    expect(list).toMatchObject({ kind: 'PodList', apiVersion: 'v1' });
    expect((await client.deployments('default').list()).apiVersion).toBe('apps/v1');
    await expect(client.pods('default').create(pod('x'))).rejects.toMatchObject({ reason: 'AlreadyExists' });
    await client.pods('default').update({ ...created, metadata: { ...created.metadata, labels: { v: '2' } } });
    await expect(client.pods('default').update(created)).rejects.toMatchObject({ reason: 'Conflict' });
    await expect(client.pods('default').get('nope')).rejects.toMatchObject({ reason: 'NotFound' });
    await expect(client.bind('default', 'x', 'n1')).resolves.toMatchObject({ spec: { nodeName: 'n1' } });
    await expect(client.bind('default', 'x', 'n2')).rejects.toMatchObject({ reason: 'Conflict' });
  });
});
