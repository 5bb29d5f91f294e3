// @keel/client's machinery against the real apiserver over keel.v1 (and a real etcd): an
// informer that follows creates, updates and deletes and relists after 410, a controller
// loop (informer → work queue → reconcile), two leader electors racing for one Lease, and
// the event recorder's aggregation.
import type { ConfigMap, Event, Lease } from '@keel/api';
import { EventRecorder, Informer, LeaderElector, LeaseLock, ReconcileRunner, WorkQueue, metaNamespaceKey, splitMetaNamespaceKey, type Client } from '@keel/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGrpcApiServer, type TestGrpcApiServer } from './grpc-fixture';

let t: TestGrpcApiServer;
beforeAll(async () => {
  t = await startTestGrpcApiServer({ bookmarkIntervalMs: 100 });
}, 60_000);
afterAll(async () => t?.stop());

const configMap = (name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data,
});

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('informer', () => {
  it('lists, then sees creates, updates and deletes, with a selector', async () => {
    const cms = t.client.configMaps('default');
    await cms.create(configMap('inf-0', {}, { inf: 'yes' }));
    await cms.create(configMap('inf-other', {}, { inf: 'no' }));
    const informer = new Informer<ConfigMap>(t.client.configMaps('default'), { labelSelector: 'inf=yes' });
    const seen: string[] = [];
    informer.addEventHandler({
      add: (o) => seen.push(`add ${o.metadata.name}`),
      update: (_old, o) => seen.push(`update ${o.metadata.name} ${JSON.stringify(o.data)}`),
      delete: (o) => seen.push(`delete ${o.metadata.name}`),
    });
    informer.start();
    await informer.waitForSync();
    expect(informer.store.listKeys()).toEqual(['default/inf-0']);
    await cms.create(configMap('inf-1', {}, { inf: 'yes' }));
    await cms.patch('inf-1', 'merge', { data: { k: 'v' } });
    await cms.delete('inf-0');
    await until('three events', () => seen.length >= 4);
    expect(seen).toEqual(['add inf-0', 'add inf-1', 'update inf-1 {"k":"v"}', 'delete inf-0']);
    expect(informer.store.listKeys()).toEqual(['default/inf-1']);
    expect(informer.store.byNamespace('default')).toHaveLength(1);
    informer.stop();
  });

  it('relists after the server answers 410 for its version, and catches up', async () => {
    const cms = t.client.configMaps('default');
    let watches = 0;
    const informer: Informer<ConfigMap> = new Informer<ConfigMap>(
      {
        // Its first watch asks for a version long gone, as after a long disconnection.
        list: (opts) => cms.list(opts),
        watch: (opts, handlers) => cms.watch(++watches === 1 ? { ...opts, resourceVersion: '1' } : opts, handlers),
      },
      { labelSelector: 'gone=test' },
    );
    const adds: string[] = [];
    informer.addEventHandler({ add: (o) => adds.push(o.metadata.name!) });
    informer.start();
    await informer.waitForSync();
    await until('a relist', () => informer.stats.relistsOnGone === 1 && informer.stats.watches === 2);
    await cms.create(configMap('after-gone', {}, { gone: 'test' }));
    await until('the new object', () => adds.includes('after-gone'));
    expect(informer.stats.lists).toBe(2);
    informer.stop();
  });
});

describe('a controller loop', () => {
  it('reconciles each changed object through the work queue', async () => {
    const cms = t.client.configMaps('default');
    const informer = new Informer<ConfigMap>(cms, { labelSelector: 'ctl=yes' });
    const queue = new WorkQueue<string>();
    const enqueue = (o: ConfigMap) => queue.add(metaNamespaceKey(o));
    informer.addEventHandler({ add: enqueue, update: (_o, n) => enqueue(n) });
    let failOnce = true;
    const runner = new ReconcileRunner({
      queue,
      workers: 2,
      // Level-triggered: read the cache, write the wanted state (a copy, never the cached object).
      reconcile: async (key) => {
        const { namespace, name } = splitMetaNamespaceKey(key);
        const cached = informer.store.get(namespace, name);
        if (!cached || cached.data?.['reconciled'] === 'true') return;
        if (failOnce) {
          failOnce = false;
          throw new Error('transient');
        }
        await t.client.configMaps(namespace).update({ ...cached, data: { ...cached.data, reconciled: 'true' } });
      },
    });
    informer.start();
    void runner.run();
    await informer.waitForSync();
    await cms.create(configMap('ctl-a', {}, { ctl: 'yes' }));
    await cms.create(configMap('ctl-b', {}, { ctl: 'yes' }));
    await until('both reconciled', async () => (await cms.list({ labelSelector: 'ctl=yes' })).items.every((o) => o.data?.['reconciled'] === 'true'));
    await runner.stop();
    informer.stop();
  });
});

describe('leader election', () => {
  it('lets exactly one of two replicas lead one Lease; the other takes over when it stops', async () => {
    const replica = (client: Client, identity: string) => {
      const state = { leading: false, started: 0 };
      const elector = new LeaderElector({
        lock: new LeaseLock(client.leases(), 'default', 'keel-test-controller'),
        identity,
        leaseDurationMs: 3000,
        renewDeadlineMs: 2000,
        retryPeriodMs: 100,
        onStartedLeading: () => {
          state.leading = true;
          state.started++;
        },
        onStoppedLeading: () => (state.leading = false),
      });
      return { elector, state, done: elector.run() };
    };
    const a = replica(t.connect(), 'replica-a');
    const b = replica(t.connect(), 'replica-b');
    await until('a leader', () => a.state.leading || b.state.leading);
    // Several renewal periods: still exactly one.
    await new Promise((r) => setTimeout(r, 500));
    expect([a.state.leading, b.state.leading].filter(Boolean)).toHaveLength(1);
    const [leader, follower] = a.state.leading ? [a, b] : [b, a];
    expect(follower.state.started).toBe(0);
    const lease = (await t.client.leases('default').get('keel-test-controller')) as Lease;
    expect(lease.spec?.holderIdentity).toBe(leader === a ? 'replica-a' : 'replica-b');
    await leader.elector.stop();
    await leader.done;
    // Released, so the follower need not wait out the lease.
    await until('the follower to lead', () => follower.state.leading, 2000);
    const after = (await t.client.leases('default').get('keel-test-controller')) as Lease;
    expect(after.spec).toMatchObject({ holderIdentity: follower === a ? 'replica-a' : 'replica-b', leaseTransitions: 1 });
    await follower.elector.stop();
  });
});

describe('event recorder', () => {
  it('writes Events the apiserver accepts, aggregating repeats', async () => {
    const cm = await t.client.configMaps('default').create(configMap('evt'));
    const recorder = new EventRecorder({ client: t.client, component: 'keel-test', host: 'here' });
    recorder.event(cm, 'Warning', 'Broken', 'it broke');
    recorder.event(cm, 'Warning', 'Broken', 'it broke');
    recorder.event(cm, 'Normal', 'Fixed', 'it works');
    await recorder.flush();
    const events = (await t.client.events('default').list({ fieldSelector: 'involvedObject.name=evt' })).items as Event[];
    expect(events.map((e) => `${e.reason} ${e.count}`).sort()).toEqual(['Broken 2', 'Fixed 1']);
  });
});
