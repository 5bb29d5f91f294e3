// Real kubectl (1.33 and 1.20) against the secure apiserver over TLS, with client
// certificate kubeconfigs from the PKI tool: get, `auth can-i` yes and no, the RBAC reason
// of a forbidden call, `--as` impersonation, `auth whoami`, and a token from `create token`.
import { ensureKubectl, type KubectlVersion } from '@keel/tools-kubectl';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secureClient } from './auth-client';
import { clusterPki, userCert, type Files, type TestPki } from './auth-pki';
import { startTestApiServer, type TestApiServer } from './fixture';

const work = mkdtempSync(join(tmpdir(), 'keel-auth-kubectl-test-'));
let api: TestApiServer;
let pki: TestPki;
const kubeconfigs: Record<string, string> = {};
const RBAC = 'rbac.authorization.k8s.io';

function kubeconfig(name: string, user: string, cert?: Files): string {
  const file = join(work, `${name}.kubeconfig`);
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: keel
  cluster:
    server: ${api.url}
    certificate-authority: ${pki.ca.certFile}
users:
- name: ${user}
  user:${cert ? `\n    client-certificate: ${cert.certFile}\n    client-key: ${cert.keyFile}` : ' {}'}
contexts:
- name: keel
  context:
    cluster: keel
    user: ${user}
current-context: keel
`,
  );
  return file;
}

beforeAll(async () => {
  pki = await clusterPki(join(work, 'pki'));
  const alice = await userCert(join(work, 'pki'), 'alice', 'alice', ['dev']);
  api = await startTestApiServer({
    security: {
      flags: {
        tlsCertFile: pki.apiserver.certFile,
        tlsPrivateKeyFile: pki.apiserver.keyFile,
        clientCaFile: pki.ca.certFile,
        serviceAccountSigningKeyFile: pki.serviceAccount.privateKeyFile,
      },
      caFile: pki.ca.certFile,
      admin: pki.clients['admin']!,
    },
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
    // Asynchronous on purpose: the apiserver runs in this process and must keep answering.
    const kubectl = (as: 'admin' | 'alice' | { token: string }, args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
        const who = typeof as === 'string' ? ['--kubeconfig', kubeconfigs[as]!] : ['--kubeconfig', kubeconfigs['token']!, '--token', as.token];
        const child = spawn(kubectlPath, ['--cache-dir', join(work, `cache-${version}`), '--request-timeout=20s', ...who, ...args], { env: { ...process.env, KUBECONFIG: '' } });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, out: out.trim(), err: err.trim() });
        });
        child.stdin.end();
      });

    beforeAll(() => {
      kubectlPath = ensureKubectl(version);
    }, 300_000);

    it('gets pods with the admin certificate', async () => {
      const res = await kubectl('admin', ['-n', 'a', 'get', 'pods']);
      expect(res.err).toBe('');
      expect(res.out).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nweb\s+/);
    });

    it('answers auth can-i with yes and no', async () => {
      expect(await kubectl('alice', ['-n', 'a', 'auth', 'can-i', 'list', 'pods'])).toMatchObject({ code: 0, out: 'yes' });
      expect(await kubectl('alice', ['-n', 'b', 'auth', 'can-i', 'list', 'pods'])).toMatchObject({ code: 1, out: 'no' });
      expect(await kubectl('alice', ['-n', 'a', 'auth', 'can-i', 'delete', 'pods/web'])).toMatchObject({ code: 1, out: 'no' });
      expect(await kubectl('admin', ['auth', 'can-i', '*', '*', '--all-namespaces'])).toMatchObject({ code: 0, out: 'yes' });
      const list = await kubectl('alice', ['-n', 'a', 'auth', 'can-i', '--list']);
      expect(list.code).toBe(0);
      expect(list.out).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    });

    it('prints the RBAC reason of a forbidden call', async () => {
      expect((await kubectl('alice', ['-n', 'a', 'get', 'pods'])).out).toMatch(/^NAME\s+READY/);
      const res = await kubectl('alice', ['-n', 'b', 'get', 'pods']);
      expect(res.code).not.toBe(0);
      expect(res.err).toBe('Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "b"');
      const del = await kubectl('alice', ['-n', 'a', 'delete', 'pod', 'web']);
      expect(del.err).toBe('Error from server (Forbidden): pods "web" is forbidden: User "alice" cannot delete resource "pods" in API group "" in the namespace "a"');
    });

    it('lets the admin act as alice with --as (impersonation)', async () => {
      expect(await kubectl('admin', ['--as', 'alice', '-n', 'a', 'auth', 'can-i', 'list', 'pods'])).toMatchObject({ code: 0, out: 'yes' });
      expect(await kubectl('admin', ['--as', 'alice', '-n', 'b', 'auth', 'can-i', 'list', 'pods'])).toMatchObject({ code: 1, out: 'no' });
      expect((await kubectl('admin', ['--as', 'alice', '-n', 'b', 'get', 'pods'])).err).toBe(
        'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "b"',
      );
      expect((await kubectl('alice', ['--as', 'kubernetes-admin', 'get', 'pods'])).err).toBe(
        'Error from server (Forbidden): users "kubernetes-admin" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope',
      );
    });

    if (version === '1.33') {
      it('says who the user is (auth whoami) and signs ServiceAccount tokens (create token)', async () => {
        const who = await kubectl('alice', ['auth', 'whoami']);
        expect(who.out).toMatch(/Username\s+alice/);
        expect(who.out).toMatch(/Groups\s+\[dev system:authenticated\]/);
        const token = await kubectl('admin', ['-n', 'a', 'create', 'token', 'robot', '--duration', '20m']);
        expect(token.err).toBe('');
        expect(token.out.split('.')).toHaveLength(3);
        const asRobot = await kubectl({ token: token.out }, ['-n', 'a', 'get', 'pods', '-o', 'name']);
        expect(asRobot).toMatchObject({ code: 0, out: 'pod/web' });
        expect((await kubectl({ token: token.out }, ['-n', 'b', 'get', 'pods'])).err).toBe(
          'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:a:robot" cannot list resource "pods" in API group "" in the namespace "b"',
        );
      });
    }
  });
}
