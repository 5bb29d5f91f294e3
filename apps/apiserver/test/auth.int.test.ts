// The secure apiserver end to end, against a real etcd: HTTPS with the cluster CA, anonymous
// requests only to health, client certificates, static tokens and ServiceAccount tokens
// (TokenRequest), RBAC with Kubernetes' exact 403 wording, the self-reviews, the bootstrap
// roles, the escalation guard, default ServiceAccount admission, and 429 beyond the in-flight limits.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secureClient, type Answer, type Identity } from './auth-client';
import { clusterPki, foreignCert, userCert, type Files, type TestPki } from './auth-pki';
import { pkiSecurity, startTestApiServer, type TestApiServer } from './fixture';

const work = mkdtempSync(join(tmpdir(), 'keel-auth-test-'));
let api: TestApiServer;
let pki: TestPki;
let alice: Files;
let foreign: Files;
let as: (id: Identity) => (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Answer>;

beforeAll(async () => {
  pki = await clusterPki(join(work, 'pki'));
  alice = await userCert(join(work, 'pki'), 'alice', 'alice', ['dev']);
  foreign = await foreignCert(join(work, 'foreign'), 'mallory', ['system:masters']);
  const tokenFile = join(work, 'tokens.csv');
  writeFileSync(tokenFile, 'bob-token-1234,bob,uid-bob,"ops,dev"\nidle-token,idle,uid-idle\n');
  api = await startTestApiServer({
    security: pkiSecurity(pki, {
      tokenAuthFile: tokenFile,
      serviceAccountSigningKeyFile: pki.serviceAccount.privateKeyFile,
      serviceAccountKeyFiles: [pki.serviceAccount.publicKeyFile],
      maxRequestsInflight: 2,
      maxMutatingRequestsInflight: 1,
    }),
  });
  as = secureClient(api.url, pki.ca.certFile);
  for (const ns of ['a', 'b']) {
    expect((await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).status).toBe(201);
  }
}, 120_000);
afterAll(async () => {
  await api?.stop();
  rmSync(work, { recursive: true, force: true });
});

const RBAC = 'rbac.authorization.k8s.io';
const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'keel/web:1.0' }] } });

/** RBAC reads the watch caches, which trail a write by a moment: poll until the answer is `status`. */
async function eventually(call: () => Promise<Answer>, status: number): Promise<Answer> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const res = await call();
    if (res.status === status || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('authentication', () => {
  it('lets anonymous requests reach only health and version', async () => {
    const anon = as({});
    for (const path of ['/healthz', '/livez', '/readyz']) expect((await anon('GET', path)).status).toBe(200);
    expect((await anon('GET', '/version')).body).toMatchObject({ major: '1' });
    for (const path of ['/api', '/apis', '/api/v1/namespaces/default/pods', '/openapi/v3']) {
      const res = await anon('GET', path);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', message: 'Unauthorized', code: 401 });
    }
    expect((await anon('POST', '/api/v1/namespaces/default/pods', pod('x'))).status).toBe(401);
  });

  it('refuses credentials that do not check out, even for health', async () => {
    expect((await as({ token: 'nope' })('GET', '/api')).status).toBe(401);
    expect((await as({ token: 'nope' })('GET', '/healthz')).status).toBe(401);
    // A certificate from another CA claims system:masters in vain.
    expect((await as({ cert: foreign })('GET', '/api/v1/namespaces/default/pods')).status).toBe(401);
  });

  it('maps a client certificate to a user: CN the name, O the groups', async () => {
    const res = await as({ cert: alice })('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    expect(res.status).toBe(201);
    expect(res.body.status.userInfo).toEqual({ username: 'alice', groups: ['dev', 'system:authenticated'] });
  });

  it('gives the admin certificate (system:masters) everything', async () => {
    const admin = as({ cert: pki.clients['admin']! });
    expect((await admin('GET', '/api/v1/nodes')).status).toBe(200);
    expect((await admin('POST', '/api/v1/namespaces/b/pods', pod('admin-pod'))).status).toBe(201);
    expect((await admin('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-admin')).status).toBe(200);
  });
});

describe('RBAC', () => {
  beforeAll(async () => {
    const role = { apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }] };
    expect((await api.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/a/roles', role)).status).toBe(201);
    const binding = {
      apiVersion: `${RBAC}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'alice-reads-pods' },
      roleRef: { apiGroup: RBAC, kind: 'Role', name: 'pod-reader' },
      subjects: [{ kind: 'User', apiGroup: RBAC, name: 'alice' }],
    };
    expect((await api.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/a/rolebindings', binding)).status).toBe(201);
  });

  it('allows what a Role grants in its namespace only, with the exact 403 elsewhere', async () => {
    const user = as({ cert: alice });
    expect((await eventually(() => user('GET', '/api/v1/namespaces/a/pods'), 200)).status).toBe(200);
    const elsewhere = await user('GET', '/api/v1/namespaces/b/pods');
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      code: 403,
      message: 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "b"',
      details: { kind: 'pods', group: '' },
    });
    expect((await user('GET', '/api/v1/namespaces/b/pods/admin-pod')).body.message).toBe(
      'pods "admin-pod" is forbidden: User "alice" cannot get resource "pods" in API group "" in the namespace "b"',
    );
    expect((await user('POST', '/api/v1/namespaces/a/pods', pod('p'))).body.message).toBe(
      'pods is forbidden: User "alice" cannot create resource "pods" in API group "" in the namespace "a"',
    );
    expect((await user('GET', '/api/v1/namespaces/a/pods?watch=true&timeoutSeconds=1')).status).toBe(200);
    expect((await user('GET', '/api/v1/namespaces/a/pods/x/log')).body.message).toBe(
      'pods "x" is forbidden: User "alice" cannot get resource "pods/log" in API group "" in the namespace "a"',
    );
    expect((await user('GET', '/apis/apps/v1/namespaces/a/deployments')).body.message).toBe(
      'deployments.apps is forbidden: User "alice" cannot list resource "deployments" in API group "apps" in the namespace "a"',
    );
    expect((await user('GET', '/api/v1/nodes')).body.message).toBe('nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope');
    // Discovery is everyone's (system:discovery), non-resource paths otherwise are not.
    expect((await user('GET', '/api/v1')).status).toBe(200);
    expect((await user('GET', '/metrics')).body.message).toBe('forbidden: User "alice" cannot get path "/metrics"');
  });

  it('answers SelfSubjectAccessReviews (kubectl auth can-i)', async () => {
    const user = as({ cert: alice });
    const review = (namespace: string, verb: string) =>
      user('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { namespace, verb, resource: 'pods' } },
      });
    const yes = await review('a', 'list');
    expect(yes.status).toBe(201);
    expect(yes.body.status.allowed).toBe(true);
    expect((await review('b', 'list')).body.status.allowed).toBe(false);
    expect((await review('a', 'delete')).body.status.allowed).toBe(false);
    const discovery = await user('GET', '/apis/authorization.k8s.io/v1');
    expect(discovery.body.resources.map((r: { name: string }) => r.name)).toContain('selfsubjectaccessreviews');
    expect((await user('GET', '/apis')).body.groups.map((g: { name: string }) => g.name)).toContain('authorization.k8s.io');
  });

  it('authenticates static tokens, and binds groups through ClusterRoleBindings', async () => {
    const bob = as({ token: 'bob-token-1234' });
    expect((await bob('GET', '/api/v1/namespaces/b/pods')).status).toBe(403);
    const binding = {
      apiVersion: `${RBAC}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: { name: 'ops-view' },
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'Group', apiGroup: RBAC, name: 'ops' }],
    };
    expect((await api.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', binding)).status).toBe(201);
    expect((await eventually(() => bob('GET', '/api/v1/namespaces/b/pods'), 200)).body.items.map((p: any) => p.metadata.name)).toEqual(['admin-pod']);
    expect((await bob('DELETE', '/api/v1/namespaces/b/pods/admin-pod')).status).toBe(403);
    // view excludes Secrets.
    expect((await bob('GET', '/api/v1/namespaces/b/secrets')).status).toBe(403);
  });

  it('aggregates ClusterRoles by label selector', async () => {
    const idle = as({ token: 'idle-token' });
    const post = (resource: string, obj: unknown) => api.request('POST', `/apis/rbac.authorization.k8s.io/v1/${resource}`, obj);
    expect(
      (
        await post('clusterroles', {
          apiVersion: `${RBAC}/v1`,
          kind: 'ClusterRole',
          metadata: { name: 'aggregate' },
          aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'keel.dev/aggregate-to-aggregate': 'true' } }] },
        })
      ).status,
    ).toBe(201);
    const binding = { apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'idle-aggregate' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'aggregate' }, subjects: [{ kind: 'User', apiGroup: RBAC, name: 'idle' }] };
    expect((await post('clusterrolebindings', binding)).status).toBe(201);
    expect((await idle('GET', '/api/v1/namespaces/b/configmaps')).status).toBe(403);
    const part = {
      apiVersion: `${RBAC}/v1`,
      kind: 'ClusterRole',
      metadata: { name: 'configmap-lister', labels: { 'keel.dev/aggregate-to-aggregate': 'true' } },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }],
    };
    expect((await post('clusterroles', part)).status).toBe(201);
    expect((await eventually(() => idle('GET', '/api/v1/namespaces/b/configmaps'), 200)).status).toBe(200);
    expect((await idle('GET', '/api/v1/namespaces/b/secrets')).status).toBe(403);
  });

  it('gives each component its bootstrap role', async () => {
    const scheduler = as({ cert: pki.clients['kube-scheduler']! });
    expect((await scheduler('GET', '/api/v1/nodes')).status).toBe(200);
    expect((await scheduler('GET', '/api/v1/pods')).status).toBe(200);
    expect((await scheduler('POST', '/api/v1/namespaces/b/pods/admin-pod/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'admin-pod' }, target: { kind: 'Node', name: 'n1' } })).status).toBe(201);
    expect((await scheduler('DELETE', '/api/v1/namespaces/b/configmaps/x')).status).toBe(403);
    const node = as({ cert: pki.clients['node-n1']! });
    expect((await node('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } })).status).toBe(201);
    expect((await node('GET', '/api/v1/namespaces/b/pods/admin-pod')).status).toBe(200);
    expect((await node('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {})).status).toBe(403);
    const kcm = as({ cert: pki.clients['kube-controller-manager']! });
    expect((await kcm('GET', '/apis/apps/v1/deployments')).status).toBe(200);
    expect((await kcm('POST', '/apis/apps/v1/namespaces/b/replicasets', {})).status).not.toBe(403);
    expect((await kcm('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {})).status).toBe(403);
  });
});

describe('privilege escalation', () => {
  it('lets a namespace admin grant only what they hold', async () => {
    expect((await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'c' } })).status).toBe(201);
    const adminOfC = {
      apiVersion: `${RBAC}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'bob-admin' },
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'admin' },
      subjects: [{ kind: 'User', apiGroup: RBAC, name: 'bob' }],
    };
    expect((await api.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/c/rolebindings', adminOfC)).status).toBe(201);
    const bob = as({ token: 'bob-token-1234' });
    const role = (name: string, rules: unknown[]) => ({ apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name }, rules });
    const ok = await eventually(() => bob('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/c/roles', role('secret-reader', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }])), 201);
    expect(ok.status).toBe(201);
    const tooMuch = await bob('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/c/roles', role('node-lister', [{ apiGroups: [''], resources: ['nodes'], verbs: ['list'] }]));
    expect(tooMuch.status).toBe(403);
    expect(tooMuch.body.message).toMatch(/^roles.rbac.authorization.k8s.io "node-lister" is forbidden: user "bob" .*is attempting to grant RBAC permissions not currently held:/);
    // A PATCH is checked on the object it produces.
    const patched = await bob('PATCH', '/apis/rbac.authorization.k8s.io/v1/namespaces/c/roles/secret-reader', { rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] }, {
      'Content-Type': 'application/merge-patch+json',
    });
    expect(patched.status).toBe(403);
    const bind = (name: string, roleName: string) => ({
      apiVersion: `${RBAC}/v1`,
      kind: 'RoleBinding',
      metadata: { name },
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: roleName },
      subjects: [{ kind: 'User', apiGroup: RBAC, name: 'eve' }],
    });
    expect((await bob('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/c/rolebindings', bind('eve-edit', 'edit'))).status).toBe(201);
    expect((await bob('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/c/rolebindings', bind('eve-root', 'cluster-admin'))).status).toBe(403);
  });

  it('keeps the controller-manager, which may update any object, from taking cluster-admin', async () => {
    const kcm = as({ cert: pki.clients['kube-controller-manager']! });
    const res = await kcm(
      'PATCH',
      '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/cluster-admin',
      { subjects: [{ kind: 'User', apiGroup: RBAC, name: 'system:kube-controller-manager' }] },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/is attempting to grant RBAC permissions not currently held/);
  });
});

describe('ServiceAccounts', () => {
  it('defaults a pod to the default ServiceAccount', async () => {
    const created = await api.request('POST', '/api/v1/namespaces/a/pods', pod('sa-default'));
    expect(created.body.spec.serviceAccountName).toBe('default');
  });

  it('issues tokens through TokenRequest that authenticate as the ServiceAccount until it is deleted', async () => {
    expect((await api.request('POST', '/api/v1/namespaces/a/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' } })).status).toBe(201);
    const binding = {
      apiVersion: `${RBAC}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'robot-edit' },
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'edit' },
      subjects: [{ kind: 'ServiceAccount', name: 'robot', namespace: 'a' }],
    };
    expect((await api.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/a/rolebindings', binding)).status).toBe(201);
    const tr = await api.request('POST', '/api/v1/namespaces/a/serviceaccounts/robot/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} });
    expect(tr.status).toBe(201);
    expect(tr.body).toMatchObject({ kind: 'TokenRequest', spec: { audiences: ['https://kubernetes.default.svc'], expirationSeconds: 3600 } });
    expect(Date.parse(tr.body.status.expirationTimestamp) - Date.now()).toBeGreaterThan(3500_000);
    const robot = as({ token: tr.body.status.token });
    expect((await eventually(() => robot('GET', '/api/v1/namespaces/a/pods'), 200)).status).toBe(200);
    expect((await robot('POST', '/api/v1/namespaces/a/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'made-by-robot' } })).status).toBe(201);
    expect((await robot('GET', '/api/v1/namespaces/b/pods')).body.message).toBe(
      'pods is forbidden: User "system:serviceaccount:a:robot" cannot list resource "pods" in API group "" in the namespace "b"',
    );
    const who = await robot('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(who.body.status.userInfo).toMatchObject({
      username: 'system:serviceaccount:a:robot',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:a', 'system:authenticated'],
    });
    // A token for another audience is no good here.
    const other = await api.request('POST', '/api/v1/namespaces/a/serviceaccounts/robot/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: ['vault'] },
    });
    expect((await as({ token: other.body.status.token })('GET', '/api/v1/namespaces/a/pods')).status).toBe(401);
    // Deleting the ServiceAccount revokes its tokens.
    expect((await api.request('DELETE', '/api/v1/namespaces/a/serviceaccounts/robot')).status).toBe(200);
    expect((await eventually(() => robot('GET', '/api/v1/namespaces/a/pods'), 401)).status).toBe(401);
  });

  it('refuses bad TokenRequests', async () => {
    const missing = await api.request('POST', '/api/v1/namespaces/a/serviceaccounts/default/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest' });
    // No default ServiceAccount yet: making it is the ServiceAccount controller's job.
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('serviceaccounts "default" not found');
    expect((await api.request('POST', '/api/v1/namespaces/a/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'short' } })).status).toBe(201);
    const invalid = await api.request('POST', '/api/v1/namespaces/a/serviceaccounts/short/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 60 },
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body.message).toMatch(/spec.expirationSeconds: Invalid value: may not specify a duration less than 10 minutes/);
    expect((await as({ cert: alice })('POST', '/api/v1/namespaces/a/serviceaccounts/short/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest' })).body.message).toBe(
      'serviceaccounts "short" is forbidden: User "alice" cannot create resource "serviceaccounts/token" in API group "" in the namespace "a"',
    );
  });
});

describe('max requests in flight', () => {
  it('answers 429 with Retry-After beyond the read-only limit; system:masters is exempt', async () => {
    const bob = as({ token: 'bob-token-1234' });
    // Two reads that wait for a revision the store has not reached hold both read slots.
    const held = [1, 2].map(() => bob('GET', '/api/v1/namespaces/b/pods?resourceVersion=999999999'));
    await new Promise((r) => setTimeout(r, 300));
    const burst = await Promise.all(Array.from({ length: 10 }, () => bob('GET', '/api/v1/namespaces/b/pods')));
    for (const res of burst) {
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.body).toMatchObject({ reason: 'TooManyRequests', message: 'Too many requests, please try again later.', details: { retryAfterSeconds: 1 } });
    }
    expect((await api.request('GET', '/api/v1/namespaces/b/pods')).status).toBe(200);
    // Mutating requests have their own budget, so reads being full does not stop writes.
    expect((await bob('POST', '/api/v1/namespaces/b/pods', pod('z'))).status).toBe(403);
    for (const res of await Promise.all(held)) expect(res.body.message).toMatch(/Too large resource version/);
    expect((await bob('GET', '/api/v1/namespaces/b/pods')).status).toBe(200);
  });

  it('counts mutating requests apart, holding the slot until the body is read', async () => {
    // An allowed POST whose body is still coming holds the only mutating slot.
    const kcm = pki.clients['kube-controller-manager']!;
    const slow = httpsRequest(api.url + '/api/v1/namespaces/b/configmaps', {
      method: 'POST',
      ca: readFileSync(pki.ca.certFile),
      cert: readFileSync(kcm.certFile),
      key: readFileSync(kcm.keyFile),
      agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': '200' },
    });
    slow.on('error', () => undefined);
    const slowDone = new Promise<number>((resolve) => slow.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0))));
    slow.write('{"apiVersion":"v1",');
    await new Promise((r) => setTimeout(r, 300));
    const second = await as({ token: 'bob-token-1234' })('DELETE', '/api/v1/namespaces/b/configmaps/x');
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('1');
    slow.destroy();
    await Promise.race([slowDone, new Promise((r) => setTimeout(r, 500))]);
    expect((await eventually(() => as({ token: 'bob-token-1234' })('DELETE', '/api/v1/namespaces/b/configmaps/x'), 403)).status).toBe(403);
  });
});
