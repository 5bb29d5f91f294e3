// The keel.v1 gRPC API against a real etcd, through @keel/client: CRUD with the same
// errors REST answers (the same Status, rebuilt as the same ApiError), selectors and paging,
// the four patch types, status and scale subresources, binding, deletion, and watches
// (from a resourceVersion, resumed, bookmarks, and 410 Expired for a version that is gone).
import { ApiError, type ConfigMap, type Deployment, type KubeObject, type Pod } from '@keel/api';
import type { WatchEvent } from '@keel/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, startTestGrpcApiServer, type TestGrpcApiServer } from './grpc-fixture';

let t: TestGrpcApiServer;
beforeAll(async () => {
  t = await startTestGrpcApiServer({ bookmarkIntervalMs: 100 });
}, 60_000);
afterAll(async () => t?.stop());

const pod = (name: string, labels: Record<string, string> = { app: 'web' }): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { containers: [{ name: 'web', image: '127.0.0.1:5000/keel/web:1.0' }] },
});
const configMap = (name: string, data: Record<string, string> = {}): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
const deployment = (name: string, replicas = 1): Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'keel/web:1.0' }] } },
  },
});

/** Collects watch events until `until` says enough (or the stream ends). */
function collect<T extends KubeObject>(start: (h: { event(e: WatchEvent<T>): void; end(err?: ApiError): void }) => { stop(): void }, until: (events: WatchEvent<T>[]) => boolean) {
  const events: WatchEvent<T>[] = [];
  let handle: { stop(): void } | undefined;
  const done = new Promise<{ events: WatchEvent<T>[]; err?: ApiError; ended: boolean }>((resolve) => {
    handle = start({
      event: (e) => {
        events.push(e);
        if (until(events)) {
          handle?.stop();
          resolve({ events, ended: false });
        }
      },
      end: (err) => resolve({ events, ...(err ? { err } : {}), ended: true }),
    });
  });
  return { done, stop: () => handle?.stop() };
}

describe('create, get, update, delete', () => {
  it('creates and gets a pod with server-set fields', async () => {
    const created = await t.client.pods('default').create(pod('g1'));
    expect(created.metadata).toMatchObject({ name: 'g1', namespace: 'default' });
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.status).toMatchObject({ phase: 'Pending' });
    const got = await t.client.pods('default').get('g1');
    expect(got.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(got.kind).toBe('Pod');
  });

  it('answers NotFound, AlreadyExists and Invalid with the Status REST sends', async () => {
    const missing = await failure(t.client.pods('default').get('nope'));
    expect(missing).toMatchObject({ reason: 'NotFound', message: 'pods "nope" not found', httpStatus: 404 });
    const rest = await t.api.request('GET', '/api/v1/namespaces/default/pods/nope');
    expect(missing.toStatus()).toEqual(rest.body);

    const dup = await failure(t.client.pods('default').create(pod('g1')));
    expect(dup).toMatchObject({ reason: 'AlreadyExists', message: 'pods "g1" already exists', httpStatus: 409 });

    const invalid = await failure(t.client.pods('default').create(pod('Bad_Name')));
    expect(invalid.reason).toBe('Invalid');
    expect(invalid.httpStatus).toBe(422);
    expect(invalid.causes[0]).toMatchObject({ field: 'metadata.name', reason: 'FieldValueInvalid' });
    const restInvalid = await t.api.request('POST', '/api/v1/namespaces/default/pods', pod('Bad_Name'));
    expect(invalid.toStatus()).toEqual(restInvalid.body);

    const wrongKind = await failure(t.client.pods('default').create({ ...pod('x'), apiVersion: 'apps/v1' }));
    expect(wrongKind.reason).toBe('BadRequest');
    const unknown = await failure(t.client.resource({ group: 'nope', version: 'v1', resource: 'things' }).list());
    expect(unknown.reason).toBe('NotFound');
    const noNamespace = await failure(t.client.pods('missing-ns').create(pod('x')));
    expect(noNamespace).toMatchObject({ reason: 'NotFound', message: 'namespaces "missing-ns" not found' });
  });

  it('updates with optimistic concurrency: a stale resourceVersion is a Conflict', async () => {
    const pods = t.client.pods('default');
    const cur = await pods.get('g1');
    const changed = { ...cur, metadata: { ...cur.metadata, labels: { app: 'web', tier: 'front' } } };
    const ok = await pods.update(changed);
    expect(ok.metadata.labels).toEqual({ app: 'web', tier: 'front' });
    const stale = await failure(pods.update(changed));
    expect(stale).toMatchObject({ reason: 'Conflict', httpStatus: 409 });
    expect(stale.message).toMatch(/the object has been modified/);
    // An unchanged write writes nothing.
    expect((await pods.update(ok)).metadata.resourceVersion).toBe(ok.metadata.resourceVersion);
  });

  it('writes status only through updateStatus, and spec never through it', async () => {
    const pods = t.client.pods('default');
    const cur = await pods.get('g1');
    const viaMain = await pods.update({ ...cur, status: { phase: 'Running' } });
    expect(viaMain.status?.phase).toBe('Pending');
    const viaStatus = await pods.updateStatus({ ...viaMain, metadata: { ...viaMain.metadata, labels: { hacked: 'yes' } }, status: { phase: 'Running' } });
    expect(viaStatus.status?.phase).toBe('Running');
    expect(viaStatus.metadata.labels).not.toHaveProperty('hacked');
  });

  it('dry-runs a create without storing it', async () => {
    const dry = await t.client.configMaps('default').create(configMap('dry'), { dryRun: true });
    expect(dry.metadata.name).toBe('dry');
    expect((await failure(t.client.configMaps('default').get('dry'))).reason).toBe('NotFound');
  });

  it('deletes at once, then answers NotFound', async () => {
    await t.client.configMaps('default').create(configMap('gone'));
    const { object, removed } = await t.client.configMaps('default').delete('gone');
    expect(removed).toBe(true);
    expect(object.metadata.name).toBe('gone');
    expect((await failure(t.client.configMaps('default').delete('gone'))).reason).toBe('NotFound');
  });

  it('holds an object with a finalizer and honours preconditions', async () => {
    const cms = t.client.configMaps('default');
    const held = await cms.create({ ...configMap('held'), metadata: { name: 'held', finalizers: ['keel.dev/test'] } });
    const wrongUid = await failure(cms.delete('held', { preconditions: { uid: 'not-the-uid' } }));
    expect(wrongUid.reason).toBe('Conflict');
    const marked = await cms.delete('held', { preconditions: { uid: held.metadata.uid! } });
    expect(marked.removed).toBe(false);
    expect(marked.object.metadata.deletionTimestamp).toBeDefined();
    const released = await cms.patch('held', 'merge', { metadata: { finalizers: null } });
    expect(released.metadata.name).toBe('held');
    expect((await failure(cms.get('held'))).reason).toBe('NotFound');
  });
});

describe('list', () => {
  it('filters by label and field selectors and pages with limit and continue', async () => {
    const pods = t.client.pods('default');
    for (const name of ['l1', 'l2', 'l3']) await pods.create(pod(name, { app: 'list', n: name }));
    const selected = await pods.list({ labelSelector: 'app=list,n!=l2' });
    expect(selected.kind).toBe('PodList');
    expect(selected.items.map((p) => p.metadata.name)).toEqual(['l1', 'l3']);
    const byField = await t.client.pods().list({ fieldSelector: 'metadata.name=l2' });
    expect(byField.items.map((p) => p.metadata.name)).toEqual(['l2']);
    const first = await pods.list({ labelSelector: 'app=list', limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.metadata.continue).toBeTruthy();
    const rest = await pods.list({ labelSelector: 'app=list', limit: 2, continue: first.metadata.continue! });
    expect(rest.items.map((p) => p.metadata.name)).toEqual(['l3']);
    expect((await failure(pods.list({ labelSelector: 'app in (' }))).reason).toBe('BadRequest');
  });

  it('deletes a collection by selector', async () => {
    const deleted = await t.client.pods('default').deleteCollection({ labelSelector: 'app=list' });
    expect(deleted.items).toHaveLength(3);
    expect((await t.client.pods('default').list({ labelSelector: 'app=list' })).items.every((p) => p.metadata.deletionTimestamp)).toBe(true);
  });
});

describe('patch', () => {
  it('applies JSON patch, merge patch and strategic merge patch', async () => {
    const deps = t.client.deployments('default');
    await deps.create(deployment('pt'));
    const merged = await deps.patch('pt', 'merge', { metadata: { labels: { a: 'b' } } });
    expect(merged.metadata.labels).toEqual({ a: 'b' });
    const json = await deps.patch('pt', 'json', [{ op: 'replace', path: '/spec/replicas', value: 3 }]);
    expect(json.spec?.replicas).toBe(3);
    const strategic = await deps.patch('pt', 'strategic', { spec: { template: { spec: { containers: [{ name: 'side', image: 'keel/side:1' }] } } } });
    expect(strategic.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['side', 'web']);
    const bad = await failure(deps.patch('pt', 'json', [{ op: 'test', path: '/spec/replicas', value: 99 }]));
    expect(['Invalid', 'BadRequest']).toContain(bad.reason);
  });

  it('applies server-side with a field manager and reports conflicts', async () => {
    const cms = t.client.configMaps('default');
    const applied = await cms.apply(configMap('ssa', { a: '1' }), { fieldManager: 'alice' });
    expect(applied.data).toEqual({ a: '1' });
    expect(applied.metadata.managedFields?.[0]).toMatchObject({ manager: 'alice', operation: 'Apply' });
    const conflict = await failure(cms.apply(configMap('ssa', { a: '2' }), { fieldManager: 'bob' }));
    expect(conflict.reason).toBe('Conflict');
    expect(conflict.causes[0]?.field).toMatch(/data\.a/);
    const forced = await cms.apply(configMap('ssa', { a: '2' }), { fieldManager: 'bob', force: true });
    expect(forced.data).toEqual({ a: '2' });
    expect((await failure(t.client.transport.patch({ group: '', version: 'v1', resource: 'configmaps' }, 'default', 'ssa', 'apply', configMap('ssa')))).reason).toBe('BadRequest');
  });

  it('records the field manager of an update', async () => {
    const created = await t.client.configMaps('default').create(configMap('fm', { x: '1' }), { fieldManager: 'keel-test' });
    expect(created.metadata.managedFields?.[0]).toMatchObject({ manager: 'keel-test', operation: 'Update' });
  });
});

describe('subresources', () => {
  it('reads and writes scale', async () => {
    const deps = t.client.deployments('default');
    await deps.create(deployment('sc', 1));
    expect(await deps.getScale('sc')).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 1 }, status: { selector: 'app=sc' } });
    expect((await deps.updateScale('sc', 4)).spec?.replicas).toBe(4);
    expect((await deps.get('sc')).spec?.replicas).toBe(4);
    const patched = await t.client.transport.patch({ group: 'apps', version: 'v1', resource: 'deployments' }, 'default', 'sc', 'merge', { spec: { replicas: 2 } }, { subresource: 'scale' });
    expect((patched as Deployment).spec?.replicas).toBe(2);
    expect((await failure(deps.updateScale('sc', -1))).reason).toBe('Invalid');
  });

  it('binds a pod to a node once', async () => {
    const created = await t.client.pods('default').create(pod('bindme'));
    const wrongUid = await failure(t.client.bind('default', 'bindme', 'node-1', { uid: 'not-the-uid' }));
    expect(wrongUid.reason).toBe('Conflict');
    const bound = await t.client.bind('default', 'bindme', 'node-1', { uid: created.metadata.uid! });
    expect(bound.spec?.nodeName).toBe('node-1');
    const again = await failure(t.client.bind('default', 'bindme', 'node-2'));
    expect(again).toMatchObject({ reason: 'Conflict' });
    expect(again.message).toMatch(/already assigned to node "node-1"/);
    expect((await failure(t.client.bind('default', 'nobody', 'node-1'))).reason).toBe('NotFound');
    expect((await failure(t.client.bind('default', 'bindme', ''))).reason).toBe('Invalid');
  });
});

describe('watch', () => {
  it('streams every change after a resourceVersion, then live changes', async () => {
    const cms = t.client.configMaps('default');
    // resourceVersion '0' lists from the watch cache, so the cache holds every change after it
    // (a store list taken before the cache started could be older than its history: 410).
    const list = await cms.list({ resourceVersion: '0' });
    await cms.create(configMap('w1'));
    const w = collect<ConfigMap>((h) => cms.watch({ resourceVersion: list.metadata.resourceVersion! }, h), (ev) => ev.length >= 3);
    await cms.patch('w1', 'merge', { data: { k: 'v' } });
    await cms.delete('w1');
    const { events } = await w.done;
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
    expect(events[1]!.object.data).toEqual({ k: 'v' });
  });

  it('starts with the current objects when no resourceVersion is given, with selectors', async () => {
    const cms = t.client.configMaps('default');
    await cms.create({ ...configMap('sel-a'), metadata: { name: 'sel-a', labels: { w: 'yes' } } });
    await cms.create({ ...configMap('sel-b'), metadata: { name: 'sel-b', labels: { w: 'no' } } });
    const w = collect<ConfigMap>((h) => cms.watch({ labelSelector: 'w=yes' }, h), (ev) => ev.length >= 2);
    // Stops matching: arrives as DELETED.
    await cms.patch('sel-a', 'merge', { metadata: { labels: { w: 'no' } } });
    const { events } = await w.done;
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED sel-a', 'DELETED sel-a']);
  });

  it('resumes from the last resourceVersion it saw, missing nothing', async () => {
    const cms = t.client.configMaps('default');
    const start = (await cms.list()).metadata.resourceVersion!;
    const first = collect<ConfigMap>((h) => cms.watch({ resourceVersion: start }, h), (ev) => ev.length >= 1);
    await cms.create(configMap('r1'));
    const { events } = await first.done;
    const last = events[events.length - 1]!.object.metadata.resourceVersion!;
    // Changes made while nobody watches...
    await cms.create(configMap('r2'));
    await cms.create(configMap('r3'));
    const second = collect<ConfigMap>((h) => cms.watch({ resourceVersion: last }, h), (ev) => ev.length >= 2);
    const resumed = await second.done;
    expect(resumed.events.map((e) => e.object.metadata.name)).toEqual(['r2', 'r3']);
  });

  it('sends bookmarks while idle', async () => {
    const cms = t.client.configMaps('default');
    const rv = (await cms.list()).metadata.resourceVersion!;
    const w = collect<ConfigMap>((h) => cms.watch({ resourceVersion: rv, allowBookmarks: true }, h), (ev) => ev.some((e) => e.type === 'BOOKMARK'));
    await cms.create(configMap('bm'));
    const { events } = await w.done;
    const bookmark = events.find((e) => e.type === 'BOOKMARK')!;
    expect(bookmark.object).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1' });
    expect(Number(bookmark.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(rv));
  });

  it('ends a watch from a version that is gone with 410 Expired', async () => {
    const w = collect<ConfigMap>((h) => t.client.configMaps('default').watch({ resourceVersion: '1' }, h), () => false);
    const { err, ended, events } = await w.done;
    expect(ended).toBe(true);
    expect(events).toEqual([]);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ reason: 'Expired', httpStatus: 410 });
  });

  it('reports a bad selector as a failed watch', async () => {
    const w = collect<ConfigMap>((h) => t.client.configMaps('default').watch({ labelSelector: 'a in (' }, h), () => false);
    const { err } = await w.done;
    expect(err?.reason).toBe('BadRequest');
  });

  it('ends with the timeout the client asked for', async () => {
    const w = collect<ConfigMap>((h) => t.client.configMaps('default').watch({ timeoutSeconds: 1, resourceVersion: '0' }, h), () => false);
    const { err, ended } = await w.done;
    expect(ended).toBe(true);
    expect(err).toBeUndefined();
  });
});
