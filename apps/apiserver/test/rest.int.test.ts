// The REST API on each real store (keel-store, and Debian's etcd 3.4): discovery, CRUD with
// Kubernetes' status codes and messages, selectors, paging, Table output, watch streams, the four patch types,
// subresources (status, scale, binding), graceful deletion, finalizers, namespace lifecycle
// and bad input that changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiServer, type TestApiServer, type TestStore } from './fixture';

describe.each(['keel-store', 'etcd'] as TestStore[])('on %s', (store) => {
  let api: TestApiServer;
  beforeAll(async () => {
    api = await startTestApiServer({ bookmarkIntervalMs: 200, store });
  }, 60_000);
  afterAll(async () => api?.stop());

  const pod = (name: string, extra: Record<string, unknown> = {}) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'web' } },
    spec: { containers: [{ name: 'web', image: '127.0.0.1:5000/keel/web:1.0' }] },
    ...extra,
  });
  const deployment = (name: string, replicas = 2) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'keel/web:1.0' }] } },
    },
  });

  describe('discovery', () => {
    it('serves /api, /apis, group versions and /version', async () => {
      expect((await api.request('GET', '/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
      const groups = (await api.request('GET', '/apis')).body;
      expect(groups.kind).toBe('APIGroupList');
      expect(groups.groups.map((g: { name: string }) => g.name)).toEqual(expect.arrayContaining(['apps', 'batch', 'rbac.authorization.k8s.io']));
      const v1 = (await api.request('GET', '/api/v1')).body;
      expect(v1.resources.find((r: { name: string }) => r.name === 'pods')).toMatchObject({ namespaced: true, kind: 'Pod' });
      expect((await api.request('GET', '/version')).body).toMatchObject({ major: '1', minor: '33' });
      expect((await api.request('GET', '/healthz')).body).toBe('ok');
      expect((await api.request('GET', '/apis/nope/v1')).status).toBe(404);
    });
  });

  describe('create, get, update, delete', () => {
    it('creates a pod (201) with server fields, and gets it back', async () => {
      const created = await api.request('POST', '/api/v1/namespaces/default/pods', pod('p1'));
      expect(created.status).toBe(201);
      expect(created.body.metadata).toMatchObject({ name: 'p1', namespace: 'default' });
      expect(created.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(created.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(created.body.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
      const got = await api.request('GET', '/api/v1/namespaces/default/pods/p1');
      expect(got.body.metadata.resourceVersion).toBe(created.body.metadata.resourceVersion);
    });

    it('answers 404 and 409 with Kubernetes Status bodies', async () => {
      const missing = await api.request('GET', '/api/v1/namespaces/default/pods/nope');
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', message: 'pods "nope" not found', code: 404 });
      const dup = await api.request('POST', '/api/v1/namespaces/default/pods', pod('p1'));
      expect(dup.status).toBe(409);
      expect(dup.body).toMatchObject({ reason: 'AlreadyExists', message: 'pods "p1" already exists' });
    });

    it('rejects bad input without storing anything', async () => {
      const before = (await api.request('GET', '/api/v1/namespaces/default/pods')).body.metadata.resourceVersion;
      const malformed = await api.request('POST', '/api/v1/namespaces/default/pods', '{"kind": "Pod",', { 'Content-Type': 'application/json' });
      expect(malformed.status).toBe(400);
      const wrongVersion = await api.request('POST', '/api/v1/namespaces/default/pods', { ...pod('x'), apiVersion: 'apps/v1' });
      expect(wrongVersion.status).toBe(400);
      expect(wrongVersion.body.message).toMatch(/does not match the expected API version/);
      const badName = await api.request('POST', '/api/v1/namespaces/default/pods', pod('Bad_Name'));
      expect(badName.status).toBe(422);
      expect(badName.body.details.causes[0]).toMatchObject({ field: 'metadata.name', reason: 'FieldValueInvalid' });
      const huge = await api.request('POST', '/api/v1/namespaces/default/configmaps', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'huge' },
        data: { x: 'a'.repeat(3 * 1024 * 1024 + 10) },
      });
      expect(huge.status).toBe(413);
      const otherNs = await api.request('POST', '/api/v1/namespaces/default/pods', { ...pod('y'), metadata: { name: 'y', namespace: 'kube-system' } });
      expect(otherNs.status).toBe(400);
      const after = (await api.request('GET', '/api/v1/namespaces/default/pods')).body.metadata.resourceVersion;
      expect(after).toBe(before);
    });

    it('updates with optimistic concurrency: a stale resourceVersion is 409, an unchanged PUT writes nothing', async () => {
      const cur = (await api.request('GET', '/api/v1/namespaces/default/pods/p1')).body;
      const changed = { ...cur, metadata: { ...cur.metadata, labels: { app: 'web', tier: 'front' } } };
      const ok = await api.request('PUT', '/api/v1/namespaces/default/pods/p1', changed);
      expect(ok.status).toBe(200);
      const stale = await api.request('PUT', '/api/v1/namespaces/default/pods/p1', changed);
      expect(stale.status).toBe(409);
      expect(stale.body.reason).toBe('Conflict');
      const same = await api.request('PUT', '/api/v1/namespaces/default/pods/p1', ok.body);
      expect(same.body.metadata.resourceVersion).toBe(ok.body.metadata.resourceVersion);
    });

    it('keeps status out of main-resource writes and spec out of status writes', async () => {
      const cur = (await api.request('GET', '/api/v1/namespaces/default/pods/p1')).body;
      const viaMain = await api.request('PUT', '/api/v1/namespaces/default/pods/p1', { ...cur, status: { phase: 'Running' } });
      expect(viaMain.body.status.phase).toBe('Pending');
      const viaStatus = await api.request('PUT', '/api/v1/namespaces/default/pods/p1/status', {
        ...viaMain.body,
        metadata: { ...viaMain.body.metadata, labels: { hacked: 'yes' } },
        status: { phase: 'Running' },
      });
      expect(viaStatus.status).toBe(200);
      expect(viaStatus.body.status.phase).toBe('Running');
      expect(viaStatus.body.metadata.labels).not.toHaveProperty('hacked');
    });

    it('bumps generation on spec changes only', async () => {
      const created = (await api.request('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('gen'))).body;
      expect(created.metadata.generation).toBe(1);
      const labelled = await api.request('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', { metadata: { labels: { a: 'b' } } }, {
        'Content-Type': 'application/merge-patch+json',
      });
      expect(labelled.body.metadata.generation).toBe(1);
      const scaled = await api.request('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', { spec: { replicas: 5 } }, {
        'Content-Type': 'application/merge-patch+json',
      });
      expect(scaled.body.metadata.generation).toBe(2);
    });
  });

  describe('lists', () => {
    it('filters by label and field selectors, across namespaces', async () => {
      await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
      await api.request('POST', '/api/v1/namespaces/other/pods', pod('o1', { metadata: { name: 'o1', labels: { app: 'db' } } }));
      const web = (await api.request('GET', '/api/v1/pods?labelSelector=app%3Dweb')).body;
      expect(web.kind).toBe('PodList');
      expect(web.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(['p1']);
      const byName = (await api.request('GET', '/api/v1/pods?fieldSelector=metadata.name%3Do1')).body;
      expect(byName.items.map((p: { metadata: { namespace: string } }) => p.metadata.namespace)).toEqual(['other']);
      const bad = await api.request('GET', '/api/v1/pods?fieldSelector=spec.bogus%3Dx');
      expect(bad.status).toBe(400);
    });

    it('pages with limit and continue', async () => {
      for (let i = 0; i < 5; i++) {
        await api.request('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm${i}` } });
      }
      const first = (await api.request('GET', '/api/v1/namespaces/default/configmaps?limit=2')).body;
      expect(first.items).toHaveLength(2);
      expect(first.metadata.remainingItemCount).toBe(3);
      const second = (await api.request('GET', `/api/v1/namespaces/default/configmaps?limit=10&continue=${first.metadata.continue}`)).body;
      expect(second.items.map((c: { metadata: { name: string } }) => c.metadata.name)).toEqual(['cm2', 'cm3', 'cm4']);
      expect(second.metadata.continue).toBeUndefined();
    });

    it('serves Table output when kubectl asks for it', async () => {
      const table = (
        await api.request('GET', '/api/v1/namespaces/default/pods', undefined, {
          Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
        })
      ).body;
      expect(table.kind).toBe('Table');
      expect(table.columnDefinitions[0].name).toBe('Name');
      expect(table.rows[0].cells[0]).toBe('p1');
      expect(table.rows[0].object.kind).toBe('PartialObjectMetadata');
    });
  });

  describe('watch', () => {
    it('streams events from a resourceVersion, then live, with bookmarks', async () => {
      const list = (await api.request('GET', '/api/v1/namespaces/default/configmaps')).body;
      const controller = new AbortController();
      const res = await fetch(`${api.url}/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=${list.metadata.resourceVersion}`, {
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      const events: { type: string; object: { metadata: { name?: string; resourceVersion: string } } }[] = [];
      const reader = res.body!.getReader();
      let buffer = '';
      const pump = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += Buffer.from(value).toString();
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            events.push(JSON.parse(buffer.slice(0, nl)));
            buffer = buffer.slice(nl + 1);
          }
        }
      })().catch(() => undefined);
      await api.request('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w1' } });
      await api.request('DELETE', '/api/v1/namespaces/default/configmaps/w1');
      const deadline = Date.now() + 5000;
      while (!events.some((e) => e.type === 'BOOKMARK') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      controller.abort();
      await pump;
      const changes = events.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type} ${e.object.metadata.name}`);
      expect(changes).toEqual(['ADDED w1', 'DELETED w1']);
      expect(events.some((e) => e.type === 'BOOKMARK')).toBe(true);
    });

    it('answers a watch from a compacted resourceVersion with a 410 ERROR event', async () => {
      const old = (await api.request('GET', '/api/v1/namespaces/default/configmaps')).body.metadata.resourceVersion;
      const res = await api.request('GET', `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=1`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
      expect(Number(old)).toBeGreaterThan(1);
    });
  });

  describe('patch', () => {
    it('applies JSON patch, merge patch and strategic merge patch', async () => {
      await api.request('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('web'));
      const json = await api.request('PATCH', '/apis/apps/v1/namespaces/default/deployments/web', [{ op: 'replace', path: '/spec/replicas', value: 3 }], {
        'Content-Type': 'application/json-patch+json',
      });
      expect(json.body.spec.replicas).toBe(3);
      // Strategic merge: containers merge by name, so adding a sidecar keeps web.
      const smp = await api.request(
        'PATCH',
        '/apis/apps/v1/namespaces/default/deployments/web',
        { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'keel/busybox:1.35' }] } } } },
        { 'Content-Type': 'application/strategic-merge-patch+json' },
      );
      expect(smp.body.spec.template.spec.containers.map((c: { name: string }) => c.name).sort()).toEqual(['sidecar', 'web']);
      // Merge patch replaces lists whole.
      const merge = await api.request(
        'PATCH',
        '/apis/apps/v1/namespaces/default/deployments/web',
        { spec: { template: { spec: { containers: [{ name: 'web', image: 'keel/web:2.0' }] } } } },
        { 'Content-Type': 'application/merge-patch+json' },
      );
      expect(merge.body.spec.template.spec.containers).toHaveLength(1);
      const unsupported = await api.request('PATCH', '/apis/apps/v1/namespaces/default/deployments/web', { a: 1 }, { 'Content-Type': 'text/plain' });
      expect(unsupported.status).toBe(415);
    });

    it('applies server-side, records the field manager, and reports conflicts', async () => {
      const applied = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'ssa' },
        data: { a: '1' },
      };
      const first = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/ssa?fieldManager=alice', applied, {
        'Content-Type': 'application/apply-patch+yaml',
      });
      expect(first.status).toBe(201);
      expect(first.body.metadata.managedFields[0]).toMatchObject({ manager: 'alice', operation: 'Apply' });
      const conflict = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/ssa?fieldManager=bob', { ...applied, data: { a: '2' } }, {
        'Content-Type': 'application/apply-patch+yaml',
      });
      expect(conflict.status).toBe(409);
      expect(conflict.body.message).toMatch(/conflict with "alice"/);
      const forced = await api.request('PATCH', '/api/v1/namespaces/default/configmaps/ssa?fieldManager=bob&force=true', { ...applied, data: { a: '2' } }, {
        'Content-Type': 'application/apply-patch+yaml',
      });
      expect(forced.body.data.a).toBe('2');
    });
  });

  describe('subresources', () => {
    it('reads and writes scale as autoscaling/v1 Scale', async () => {
      await api.request('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('sc', 1));
      const scale = (await api.request('GET', '/apis/apps/v1/namespaces/default/deployments/sc/scale')).body;
      expect(scale).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 1 }, status: { selector: 'app=sc' } });
      const patched = await api.request('PATCH', '/apis/apps/v1/namespaces/default/deployments/sc/scale', { spec: { replicas: 4 } }, {
        'Content-Type': 'application/merge-patch+json',
      });
      expect(patched.body.spec.replicas).toBe(4);
      expect((await api.request('GET', '/apis/apps/v1/namespaces/default/deployments/sc')).body.spec.replicas).toBe(4);
      const negative = await api.request('PATCH', '/apis/apps/v1/namespaces/default/deployments/sc/scale', { spec: { replicas: -1 } }, {
        'Content-Type': 'application/merge-patch+json',
      });
      expect(negative.status).toBe(422);
    });

    it('binds a pod to a node once', async () => {
      await api.request('POST', '/api/v1/namespaces/default/pods', pod('bindme'));
      const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bindme' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' } };
      expect((await api.request('POST', '/api/v1/namespaces/default/pods/bindme/binding', binding)).status).toBe(201);
      expect((await api.request('GET', '/api/v1/namespaces/default/pods/bindme')).body.spec.nodeName).toBe('node-1');
      const again = await api.request('POST', '/api/v1/namespaces/default/pods/bindme/binding', { ...binding, target: { name: 'node-2' } });
      expect(again.status).toBe(409);
    });
  });

  describe('deletion', () => {
    it('deletes an unscheduled pod at once, and a scheduled one gracefully', async () => {
      await api.request('POST', '/api/v1/namespaces/default/pods', pod('gone'));
      expect((await api.request('DELETE', '/api/v1/namespaces/default/pods/gone', { propagationPolicy: 'Background' })).status).toBe(200);
      expect((await api.request('GET', '/api/v1/namespaces/default/pods/gone')).status).toBe(404);

      const marked = (await api.request('DELETE', '/api/v1/namespaces/default/pods/bindme')).body;
      expect(marked.metadata.deletionTimestamp).toBeDefined();
      expect(marked.metadata.deletionGracePeriodSeconds).toBe(30);
      // The node agent finishes it with a zero grace period.
      expect((await api.request('DELETE', '/api/v1/namespaces/default/pods/bindme?gracePeriodSeconds=0')).status).toBe(200);
      expect((await api.request('GET', '/api/v1/namespaces/default/pods/bindme')).status).toBe(404);
    });

    it('holds an object with finalizers until the last one is removed', async () => {
      await api.request('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fin', finalizers: ['keel.dev/hold'] } });
      const marked = (await api.request('DELETE', '/api/v1/namespaces/default/configmaps/fin')).body;
      expect(marked.metadata.deletionTimestamp).toBeDefined();
      expect((await api.request('GET', '/api/v1/namespaces/default/configmaps/fin')).status).toBe(200);
      await api.request('PATCH', '/api/v1/namespaces/default/configmaps/fin', { metadata: { finalizers: null } }, { 'Content-Type': 'application/merge-patch+json' });
      expect((await api.request('GET', '/api/v1/namespaces/default/configmaps/fin')).status).toBe(404);
    });

    it('refuses new content in a terminating namespace, and in one that does not exist', async () => {
      await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
      const ns = (await api.request('DELETE', '/api/v1/namespaces/doomed')).body;
      expect(ns.status.phase).toBe('Terminating');
      const refused = await api.request('POST', '/api/v1/namespaces/doomed/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } });
      expect(refused.status).toBe(403);
      expect(refused.body.message).toMatch(/being terminated/);
      const nowhere = await api.request('POST', '/api/v1/namespaces/nowhere/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } });
      expect(nowhere.status).toBe(404);
      // Finalizing the namespace (what the namespace controller does once it is empty) removes it.
      await api.request('PUT', '/api/v1/namespaces/doomed/finalize', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' }, spec: { finalizers: [] } });
      expect((await api.request('GET', '/api/v1/namespaces/doomed')).status).toBe(404);
    });
  });

  describe('service allocation', () => {
    const svc = (name: string, spec: Record<string, unknown> = {}) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }], ...spec },
    });

    it('gives each Service its own ClusterIP from the range, and takes it back on delete', async () => {
      const created = await Promise.all(Array.from({ length: 8 }, (_, i) => api.request('POST', '/api/v1/namespaces/default/services', svc(`s${i}`))));
      const ips = created.map((r) => r.body.spec.clusterIP as string);
      expect(ips.every((ip) => /^10\.96\.0\.\d+$/.test(ip))).toBe(true);
      expect(new Set(ips).size).toBe(8);
      expect(ips).not.toContain('10.96.0.1');
      // Asking for a taken address is a 422 naming the field.
      const clash = await api.request('POST', '/api/v1/namespaces/default/services', svc('clash', { clusterIP: ips[0] }));
      expect(clash.status).toBe(422);
      expect(clash.body.details.causes[0].field).toBe('spec.clusterIPs');
      await api.request('DELETE', '/api/v1/namespaces/default/services/s0');
      const reuse = await api.request('POST', '/api/v1/namespaces/default/services', svc('reuse', { clusterIP: ips[0] }));
      expect(reuse.status).toBe(201);
      expect(reuse.body.spec.clusterIP).toBe(ips[0]);
    });

    it('allocates NodePorts, refuses ports outside the range, and leaves headless services without an IP', async () => {
      const np = (await api.request('POST', '/api/v1/namespaces/default/services', svc('np', { type: 'NodePort' }))).body;
      expect(np.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
      expect(np.spec.ports[0].nodePort).toBeLessThanOrEqual(30010);
      const outside = await api.request('POST', '/api/v1/namespaces/default/services', svc('outside', { type: 'NodePort', ports: [{ port: 80, nodePort: 31999 }] }));
      expect(outside.status).toBe(422);
      expect(outside.body.details.causes[0].field).toBe('spec.ports[0].nodePort');
      const headless = (await api.request('POST', '/api/v1/namespaces/default/services', svc('headless', { clusterIP: 'None' }))).body;
      expect(headless.spec.clusterIP).toBe('None');
    });
  });

  describe('list then watch', () => {
    it('watches from the resourceVersion of a list of a resource nobody watched before', async () => {
      // kubectl get -w: a list from the store, then a watch from its resourceVersion.
      await api.request('POST', '/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's0' } });
      const list = (await api.request('GET', '/api/v1/namespaces/default/secrets')).body;
      const controller = new AbortController();
      const res = await fetch(`${api.url}/api/v1/namespaces/default/secrets?watch=1&resourceVersion=${list.metadata.resourceVersion}`, { signal: controller.signal });
      const reader = res.body!.getReader();
      await api.request('POST', '/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1' } });
      const { value } = await reader.read();
      controller.abort();
      const event = JSON.parse(Buffer.from(value!).toString().split('\n')[0]!);
      expect(event).toMatchObject({ type: 'ADDED', object: { metadata: { name: 's1' } } });
    });
  });
});

describe('decoding', () => {
  it('refuses a field of the wrong JSON type as Kubernetes does, and drops nulls', async () => {
    const api = await startTestApiServer();
    try {
      const bad = await api.request('POST', '/apis/apps/v1/namespaces/default/deployments', {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'typed' },
        spec: { replicas: 'three' },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32/);
      const cm = await api.request('POST', '/api/v1/namespaces/default/configmaps', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'nulls', creationTimestamp: null, labels: null },
        data: { a: '1' },
      });
      expect(cm.status).toBe(201);
      expect(cm.body.metadata.labels).toBeUndefined();
    } finally {
      await api.stop();
    }
  });
});
