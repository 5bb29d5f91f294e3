// Real kubectl (1.33 and 1.20) against the secure apiserver over TLS, with client
// certificate kubeconfigs from the PKI tool: get, `auth can-i` yes and no, the RBAC reason
// of a forbidden call, `--as` impersonation, `auth whoami`, and a token from `create token`.
import { ensureKubectl, runKubectl, writeKubeconfig, type KubectlVersion } from '@keel/tools-kubectl';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secureClient } from './auth-client';
import { clusterPki, userCert, type Files, type TestPki } from './auth-pki';
import { pkiSecurity, startTestApiServer, type TestApiServer } from './fixture';

const work = mkdtempSync(join(tmpdir(), 'keel-auth-kubectl-test-'));
let api: TestApiServer;
let pki: TestPki;
const kubeconfigs: Record<string, string> = {};
const RBAC = 'rbac.authorization.k8s.io';

function kubeconfig(name: string, user: string, client?: Files): string {
  return writeKubeconfig(join(work, `${name}.kubeconfig`), { server: api.url, caFile: pki.ca.certFile, user, client });
}

beforeAll(async () => {
  pki = await clusterPki(join(work, 'pki'));
  const alice = await userCert(join(work, 'pki'), 'alice', 'alice', ['dev']);
  api = await startTestApiServer({
    security: pkiSecurity(pki, { serviceAccountSigningKeyFile: pki.serviceAccount.privateKeyFile }),
    // The issue asks for kubectl against the apiserver on keel-store.
    store: 'keel-store',
  });
  kubeconfigs['admin'] = kubeconfig('admin', 'kubernetes-admin', pki.clients['admin']!);
  kubeconfigs['alice'] = kubeconfig('alice', 'alice', alice);
  // For bearer tokens: only the CA, so no client certificate outranks the token.
  kubeconfigs['token'] = kubeconfig('token', 'token');
  const ok = (status: number) => expect([200, 201]).toContain(status);
  for (const ns of ['a', 'b']) ok((await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).status);
  ok(
    (
      await api.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/a/roles', {
        apiVersion: `${RBAC}/v1`,
        kind: 'Role',
        metadata: { name: 'pod-reader' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
      })
    ).status,
  );
  ok(
    (
      await api.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/a/rolebindings', {
        apiVersion: `${RBAC}/v1`,
        kind: 'RoleBinding',
        metadata: { name: 'alice-reads-pods' },
        roleRef: { apiGroup: RBAC, kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'User', apiGroup: RBAC, name: 'alice' }],
      })
    ).status,
  );
  ok((await api.request('POST', '/api/v1/namespaces/a/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'web', image: 'keel/web:1.0' }] } })).status);
  ok((await api.request('POST', '/api/v1/namespaces/a/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' } })).status);
  ok(
    (
      await api.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/a/rolebindings', {
        apiVersion: `${RBAC}/v1`,
        kind: 'RoleBinding',
        metadata: { name: 'robot-view' },
        roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'ServiceAccount', name: 'robot', namespace: 'a' }],
      })
    ).status,
  );
  // RBAC reads the watch caches, a moment behind the writes: wait until alice's binding counts.
  const asAlice = secureClient(api.url, pki.ca.certFile)({ cert: alice });
  for (let i = 0; i < 100 && (await asAlice('GET', '/api/v1/namespaces/a/pods')).status !== 200; i++) await new Promise((r) => setTimeout(r, 50));
}, 180_000);
afterAll(async () => {
  await api?.stop();
  rmSync(work, { recursive: true, force: true });
});

for (const version of ['1.33', '1.20'] as KubectlVersion[]) {
  describe(`kubectl ${version} over TLS`, () => {
    let kubectlPath: string;
    const kubectl = (as: 'admin' | 'alice' | { token: string }, args: string[]) =>
      runKubectl(kubectlPath, ['--cache-dir', join(work, `cache-${version}`), '--request-timeout=20s', ...(typeof as === 'string' ? [] : ['--token', as.token]), ...args], {
        kubeconfig: kubeconfigs[typeof as === 'string' ? as : 'token']!,
        trim: true,
      });

    beforeAll(() => {
      kubectlPath = ensureKubectl(version);
    }, 300_000);

    it('gets pods with the admin certificate', async () => {
      const res = await kubectl('admin', ['-n', 'a', 'get', 'pods']);
      expect(res.stderr).toBe('');
      expect(res.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nweb\s+/);
    });

    it('answers auth can-i with yes and no', async () => {
      expect(await kubectl('alice', ['-n', 'a', 'auth', 'can-i', 'list', 'pods'])).toMatchObject({ code: 0, stdout: 'yes' });
      expect(await kubectl('alice', ['-n', 'b', 'auth', 'can-i', 'list', 'pods'])).toMatchObject({ code: 1, stdout: 'no' });
      expect(await kubectl('alice', ['-n', 'a', 'auth', 'can-i', 'delete', 'pods/web'])).toMatchObject({ code: 1, stdout: 'no' });
      expect(await kubectl('admin', ['auth', 'can-i', '*', '*', '--all-namespaces'])).toMatchObject({ code: 0, stdout: 'yes' });
      const list = await kubectl('alice', ['-n', 'a', 'auth', 'can-i', '--list']);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    });

    it('prints the RBAC reason of a forbidden call', async () => {
      expect((await kubectl('alice', ['-n', 'a', 'get', 'pods'])).stdout).toMatch(/^NAME\s+READY/);
      const res = await kubectl('alice', ['-n', 'b', 'get', 'pods']);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toBe('Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "b"');
      const del = await kubectl('alice', ['-n', 'a', 'delete', 'pod', 'web']);
      expect(del.stderr).toBe('Error from server (Forbidden): pods "web" is forbidden: User "alice" cannot delete resource "pods" in API group "" in the namespace "a"');
    });

    it('lets the admin act as alice with --as (impersonation)', async () => {
      expect(await kubectl('admin', ['--as', 'alice', '-n', 'a', 'auth', 'can-i', 'list', 'pods'])).toMatchObject({ code: 0, stdout: 'yes' });
      expect(await kubectl('admin', ['--as', 'alice', '-n', 'b', 'auth', 'can-i', 'list', 'pods'])).toMatchObject({ code: 1, stdout: 'no' });
      expect((await kubectl('admin', ['--as', 'alice', '-n', 'b', 'get', 'pods'])).stderr).toBe(
        'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "b"',
      );
      expect((await kubectl('alice', ['--as', 'kubernetes-admin', 'get', 'pods'])).stderr).toBe(
        'Error from server (Forbidden): users "kubernetes-admin" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope',
      );
    });

    if (version === '1.33') {
      it('says who the user is (auth whoami) and signs ServiceAccount tokens (create token)', async () => {
        const who = await kubectl('alice', ['auth', 'whoami']);
        expect(who.stdout).toMatch(/Username\s+alice/);
        expect(who.stdout).toMatch(/Groups\s+\[dev system:authenticated\]/);
        const token = await kubectl('admin', ['-n', 'a', 'create', 'token', 'robot', '--duration', '20m']);
        expect(token.stderr).toBe('');
        expect(token.stdout.split('.')).toHaveLength(3);
        const asRobot = await kubectl({ token: token.stdout }, ['-n', 'a', 'get', 'pods', '-o', 'name']);
        expect(asRobot).toMatchObject({ code: 0, stdout: 'pod/web' });
        expect((await kubectl({ token: token.stdout }, ['-n', 'b', 'get', 'pods'])).stderr).toBe(
          'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:a:robot" cannot list resource "pods" in API group "" in the namespace "b"',
        );
      });
    }
  });
}
