// The official JavaScript client, @kubernetes/client-node 1.4, against the apiserver on
// keel-store: typed list, create, strategic-merge patch, delete, a raw watch and an informer.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer } from './fixture';

let api: TestApiServer;
let kc: k8s.KubeConfig;
beforeAll(async () => {
  api = await startTestApiServer({ store: 'keel-store' });
  kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'keel', server: api.url, skipTLSVerify: true }],
    users: [{ name: 'admin' }],
    contexts: [{ name: 'keel', cluster: 'keel', user: 'admin' }],
    currentContext: 'keel',
  });
}, 60_000);
afterAll(async () => api?.stop());

const deployment = (name: string): k8s.V1Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels: { app: name } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'keel/web:1.0' }] } },
  },
});

describe('@kubernetes/client-node 1.4', () => {
  it('creates, lists, strategic-merge patches and deletes', async () => {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const created = await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('cn') });
    expect(created.metadata?.uid).toBeDefined();
    const list = await apps.listNamespacedDeployment({ namespace: 'default', labelSelector: 'app=cn' });
    expect(list.items.map((d) => d.metadata?.name)).toEqual(['cn']);
    const patched = await apps.patchNamespacedDeployment(
      { name: 'cn', namespace: 'default', body: { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'keel/busybox:1.35' }] } } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    expect(patched.spec?.template.spec?.containers.map((c) => c.name).sort()).toEqual(['sidecar', 'web']);
    // client-node's default patch type is JSON Patch.
    const jsonPatched = await apps.patchNamespacedDeployment({ name: 'cn', namespace: 'default', body: [{ op: 'replace', path: '/spec/replicas', value: 4 }] });
    expect(jsonPatched.spec?.replicas).toBe(4);
    await apps.deleteNamespacedDeployment({ name: 'cn', namespace: 'default' });
    await expect(apps.readNamespacedDeployment({ name: 'cn', namespace: 'default' })).rejects.toMatchObject({ code: 404 });
  });

  it('watches and keeps an informer in step', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
    const seen: string[] = [];
    informer.on(k8s.ADD, (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on(k8s.UPDATE, (o) => seen.push(`update ${o.metadata?.name}`));
    informer.on(k8s.DELETE, (o) => seen.push(`delete ${o.metadata?.name}`));
    await informer.start();

    const watched: string[] = [];
    const watch = new k8s.Watch(kc);
    const req = await watch.watch('/api/v1/namespaces/default/configmaps', { allowWatchBookmarks: true }, (type, obj) => {
      if (type !== 'BOOKMARK') watched.push(`${type} ${obj.metadata?.name}`);
    }, () => undefined);

    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'inf' }, data: { a: '1' } } });
    await core.patchNamespacedConfigMap(
      { name: 'inf', namespace: 'default', body: { data: { a: '2' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedConfigMap({ name: 'inf', namespace: 'default' });
    const deadline = Date.now() + 10_000;
    while ((seen.length < 3 || watched.length < 3) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    req.abort();
    await informer.stop();
    expect(seen).toEqual(['add inf', 'update inf', 'delete inf']);
    expect(watched).toEqual(['ADDED inf', 'MODIFIED inf', 'DELETED inf']);
  });
});
