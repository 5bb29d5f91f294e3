// kubectl 1.33's typed generators (`create namespace|deployment|configmap|secret ...|service
// ...|serviceaccount|job|role|clusterrole|rolebinding|clusterrolebinding|priorityclass`) send
// protobuf bodies; each is created against the apiserver on keel-store, and the stored object
// is read back to check that what kubectl encoded arrived whole (and then went through the
// usual defaults, admission and allocation: a ClusterIP, a NodePort, default tolerations).
import { ensureKubectl, runKubectl, writeKubeconfig } from '@keel/tools-kubectl';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterPki, type TestPki } from './auth-pki';
import { pkiSecurity, startTestApiServer, type TestApiServer } from './fixture';

const work = mkdtempSync(join(tmpdir(), 'keel-kubectl-protobuf-test-'));
const kubeconfig = join(work, 'kubeconfig');
const ns = 'keel-pb';
let api: TestApiServer;
let pki: TestPki;
let kubectlPath: string;

beforeAll(async () => {
  kubectlPath = ensureKubectl('1.33');
  pki = await clusterPki(join(work, 'pki'));
  api = await startTestApiServer({
    security: pkiSecurity(pki),
    store: 'keel-store',
    // Short, so the expiry test below sees Events go.
    eventTtlSeconds: 3,
  });
  writeKubeconfig(kubeconfig, { server: api.url, caFile: pki.ca.certFile, client: pki.clients['admin']! });
}, 180_000);

afterAll(async () => {
  await api?.stop();
  rmSync(work, { recursive: true, force: true });
});

const kubectl = (args: string[]) => runKubectl(kubectlPath, ['--cache-dir', join(work, 'cache'), '--request-timeout=20s', ...args], { kubeconfig, trim: true });

/** Runs kubectl, which must succeed and print `expected`. */
async function ok(args: string[], expected: string): Promise<void> {
  const res = await kubectl(args);
  expect(res.stderr).toBe('');
  expect(res.stdout).toBe(expected);
}

async function stored(path: string): Promise<any> {
  const res = await api.request('GET', path);
  expect(res.status).toBe(200);
  return res.body;
}

describe('kubectl 1.33 create generators (protobuf bodies)', () => {
  it('creates a namespace', async () => {
    await ok(['create', 'namespace', ns], `namespace/${ns} created`);
    const obj = await stored(`/api/v1/namespaces/${ns}`);
    expect(obj.status.phase).toBe('Active');
    expect(obj.metadata.name).toBe(ns);
  });

  it('creates a deployment with replicas and a port', async () => {
    await ok(['-n', ns, 'create', 'deployment', 'web', '--image=keel/web:1.0', '--replicas=2', '--port=8080'], 'deployment.apps/web created');
    const obj = await stored(`/apis/apps/v1/namespaces/${ns}/deployments/web`);
    expect(obj.spec.replicas).toBe(2);
    expect(obj.spec.selector).toEqual({ matchLabels: { app: 'web' } });
    expect(obj.spec.template.metadata.labels).toEqual({ app: 'web' });
    const [container] = obj.spec.template.spec.containers;
    expect(container).toMatchObject({ name: 'web', image: 'keel/web:1.0', ports: [{ containerPort: 8080, protocol: 'TCP' }] });
    // Defaults ran on the decoded object as on a JSON one.
    expect(obj.spec.strategy.type).toBe('RollingUpdate');
  });

  it('keeps replicas: 0 (a pointer whose zero means something)', async () => {
    await ok(['-n', ns, 'create', 'deployment', 'idle', '--image=keel/web:1.0', '--replicas=0'], 'deployment.apps/idle created');
    expect((await stored(`/apis/apps/v1/namespaces/${ns}/deployments/idle`)).spec.replicas).toBe(0);
  });

  it('creates a configmap and secrets (generic, tls, docker-registry)', async () => {
    await ok(['-n', ns, 'create', 'configmap', 'c', '--from-literal=a=b', '--from-literal=empty='], 'configmap/c created');
    expect((await stored(`/api/v1/namespaces/${ns}/configmaps/c`)).data).toEqual({ a: 'b', empty: '' });

    await ok(['-n', ns, 'create', 'secret', 'generic', 's', '--from-literal=a=b'], 'secret/s created');
    const generic = await stored(`/api/v1/namespaces/${ns}/secrets/s`);
    expect(generic.data).toEqual({ a: Buffer.from('b').toString('base64') });
    expect(generic.type).toBe('Opaque');

    await ok(['-n', ns, 'create', 'secret', 'tls', 't', `--cert=${pki.apiserver.certFile}`, `--key=${pki.apiserver.keyFile}`], 'secret/t created');
    const tls = await stored(`/api/v1/namespaces/${ns}/secrets/t`);
    expect(tls.type).toBe('kubernetes.io/tls');
    expect(Buffer.from(tls.data['tls.crt'], 'base64').toString()).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(Object.keys(tls.data).sort()).toEqual(['tls.crt', 'tls.key']);

    await ok(
      ['-n', ns, 'create', 'secret', 'docker-registry', 'd', '--docker-username=u', '--docker-password=p', '--docker-server=registry.keel.test'],
      'secret/d created',
    );
    const docker = await stored(`/api/v1/namespaces/${ns}/secrets/d`);
    expect(docker.type).toBe('kubernetes.io/dockerconfigjson');
    const config = JSON.parse(Buffer.from(docker.data['.dockerconfigjson'], 'base64').toString());
    expect(config.auths['registry.keel.test']).toMatchObject({ username: 'u', password: 'p' });
  });

  it('creates ClusterIP and NodePort services, which get their IP and node port', async () => {
    await ok(['-n', ns, 'create', 'service', 'clusterip', 'front', '--tcp=80:8080'], 'service/front created');
    const front = await stored(`/api/v1/namespaces/${ns}/services/front`);
    expect(front.spec.type).toBe('ClusterIP');
    expect(front.spec.clusterIP).toMatch(/^10\.96\.0\.\d+$/);
    expect(front.spec.ports).toEqual([expect.objectContaining({ name: '80-8080', port: 80, targetPort: 8080, protocol: 'TCP' })]);
    expect(front.spec.selector).toEqual({ app: 'front' });

    await ok(['-n', ns, 'create', 'service', 'nodeport', 'edge', '--tcp=80:http'], 'service/edge created');
    const edge = await stored(`/api/v1/namespaces/${ns}/services/edge`);
    expect(edge.spec.type).toBe('NodePort');
    expect(edge.spec.ports[0].targetPort).toBe('http');
    expect(edge.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(edge.spec.ports[0].nodePort).toBeLessThanOrEqual(30010);
  });

  it('creates a serviceaccount and a job', async () => {
    await ok(['-n', ns, 'create', 'serviceaccount', 'robot'], 'serviceaccount/robot created');
    expect((await stored(`/api/v1/namespaces/${ns}/serviceaccounts/robot`)).metadata.name).toBe('robot');

    await ok(['-n', ns, 'create', 'job', 'once', '--image=keel/busybox:1', '--', 'echo', 'hi there'], 'job.batch/once created');
    const job = await stored(`/apis/batch/v1/namespaces/${ns}/jobs/once`);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.template.spec.containers[0]).toMatchObject({ name: 'once', image: 'keel/busybox:1', command: ['echo', 'hi there'] });
  });

  it('creates roles, bindings and a priority class', async () => {
    await ok(['-n', ns, 'create', 'role', 'reader', '--verb=get,list', '--resource=pods,deployments.apps'], 'role.rbac.authorization.k8s.io/reader created');
    const role = await stored(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles/reader`);
    // `apiGroups: [""]`: an empty string inside a list is a value, not an absence.
    expect(role.rules).toEqual([
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] },
      { verbs: ['get', 'list'], apiGroups: ['apps'], resources: ['deployments'] },
    ]);

    await ok(['create', 'clusterrole', 'keel-pb-nodes', '--verb=get', '--resource=nodes', '--resource-name=n1'], 'clusterrole.rbac.authorization.k8s.io/keel-pb-nodes created');
    expect((await stored('/apis/rbac.authorization.k8s.io/v1/clusterroles/keel-pb-nodes')).rules).toEqual([
      { verbs: ['get'], apiGroups: [''], resources: ['nodes'], resourceNames: ['n1'] },
    ]);

    await ok(['-n', ns, 'create', 'rolebinding', 'readers', '--role=reader', '--user=alice', '--group=devs'], 'rolebinding.rbac.authorization.k8s.io/readers created');
    const binding = await stored(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings/readers`);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' });
    expect(binding.subjects).toEqual([
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' },
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs' },
    ]);

    await ok(['create', 'clusterrolebinding', 'keel-pb-robot', '--clusterrole=keel-pb-nodes', `--serviceaccount=${ns}:robot`], 'clusterrolebinding.rbac.authorization.k8s.io/keel-pb-robot created');
    expect((await stored('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/keel-pb-robot')).subjects).toEqual([
      { kind: 'ServiceAccount', apiGroup: '', name: 'robot', namespace: ns },
    ]);

    await ok(['create', 'priorityclass', 'keel-pb-high', '--value=1000', '--description=important', '--preemption-policy=Never'], 'priorityclass.scheduling.k8s.io/keel-pb-high created');
    expect(await stored('/apis/scheduling.k8s.io/v1/priorityclasses/keel-pb-high')).toMatchObject({ value: 1000, description: 'important', preemptionPolicy: 'Never' });
    await ok(['create', 'priorityclass', 'keel-pb-zero', '--value=0'], 'priorityclass.scheduling.k8s.io/keel-pb-zero created');
    expect((await stored('/apis/scheduling.k8s.io/v1/priorityclasses/keel-pb-zero')).value).toBe(0);
  });

  it('runs a pod and exposes a deployment', async () => {
    await ok(['-n', ns, 'run', 'solo', '--image=keel/busybox:1', '--labels=app=solo', '--', 'sleep', '3600'], 'pod/solo created');
    const pod = await stored(`/api/v1/namespaces/${ns}/pods/solo`);
    expect(pod.spec.containers[0]).toMatchObject({ name: 'solo', image: 'keel/busybox:1', args: ['sleep', '3600'] });
    // DefaultTolerationSeconds admission: 300 s on an unreachable or not-ready node, not 0.
    expect(pod.spec.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    await ok(['-n', ns, 'run', 'patient', '--image=keel/busybox:1', '--overrides={"spec":{"tolerations":[{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute"}]}}'], 'pod/patient created');
    expect((await stored(`/api/v1/namespaces/${ns}/pods/patient`)).spec.tolerations).toEqual([
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    await ok(['-n', ns, 'expose', 'deployment', 'web', '--port=80', '--target-port=8080', '--name=web-svc'], 'service/web-svc exposed');
    const svc = await stored(`/api/v1/namespaces/${ns}/services/web-svc`);
    expect(svc.spec.selector).toEqual({ app: 'web' });
    expect(svc.spec.ports[0]).toMatchObject({ port: 80, targetPort: 8080 });
  });
});

describe('kubectl 1.33 apply --server-side', () => {
  it('creates with a managedFields entry, so the same apply again writes nothing', async () => {
    const files = {
      // Only a name: the applier owns no field, and must still be recorded.
      namespace: ['keel-pb-applied', '/api/v1/namespaces/keel-pb-applied', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: keel-pb-applied\n'],
      configmap: ['configmap/applied', `/api/v1/namespaces/${ns}/configmaps/applied`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: ${ns}\ndata:\n  a: b\n`],
    } as const;
    for (const [kind, [name, path, yaml]] of Object.entries(files)) {
      const file = join(work, `${kind}.yaml`);
      writeFileSync(file, yaml);
      const shown = kind === 'namespace' ? `namespace/${name}` : name;
      await ok(['apply', '--server-side', '-f', file], `${shown} serverside-applied`);
      const first = await stored(path);
      expect(first.metadata.managedFields.map((m: { manager: string; operation: string }) => `${m.manager}/${m.operation}`)).toEqual(['kubectl/Apply']);
      await ok(['apply', '--server-side', '-f', file], `${shown} serverside-applied`);
      const second = await stored(path);
      expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
      expect(second.metadata.managedFields).toEqual(first.metadata.managedFields);
    }
  });
});

describe('kubectl 1.33 aggregated discovery', () => {
  it('learns the API from /api and /apis alone, then lists resources and gets with it', async () => {
    const cache = join(work, 'cache-aggregated');
    const res = await kubectl(['--cache-dir', cache, 'api-resources', '-v=6']);
    expect(res.code).toBe(0);
    const gets = [...res.stderr.matchAll(/"GET" url="https:\/\/[^/]+([^"?]*)/g)].map((m) => m[1]);
    expect(gets).toEqual(expect.arrayContaining(['/api', '/apis']));
    // No per-group-version requests: the aggregated answer was understood.
    expect(gets.filter((p) => /^\/apis?\/.+/.test(p!))).toEqual([]);
    expect(res.stdout).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
    expect(res.stdout).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(res.stdout).toMatch(/^selfsubjectaccessreviews\s+authorization.k8s.io\/v1\s+false\s+SelfSubjectAccessReview$/m);
    const got = await kubectl(['--cache-dir', cache, '-n', ns, 'get', 'deploy', 'web', '-o', 'name']);
    expect(got.stdout).toBe('deployment.apps/web');
  });
});

describe('Events expire (--event-ttl)', () => {
  it('writes an Event under an etcd lease, and the store removes it when the lease runs out', async () => {
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'keel-pb-event', namespace: ns },
      involvedObject: { kind: 'Pod', namespace: ns, name: 'solo' },
      reason: 'Testing',
      message: 'short-lived',
      type: 'Normal',
    };
    const created = await api.request('POST', `/api/v1/namespaces/${ns}/events`, event);
    expect(created.status).toBe(201);
    const { kv } = await api.etcd.get(`/registry/events/${ns}/keel-pb-event`);
    expect(kv && kv.lease !== '0').toBe(true);
    const ttl = await api.etcd.leaseTimeToLive(kv!.lease);
    // 3 s asked; the shared lease may add its reuse window (5%, rounded down: none here).
    expect(ttl.grantedTtl).toBe(3);
    const listed = await kubectl(['-n', ns, 'get', 'events', '-o', 'name']);
    expect(listed.stdout.split('\n')).toContain('event/keel-pb-event');
    // Gone by the store's own doing: nobody deletes it.
    const deadline = Date.now() + 30_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      status = (await api.request('GET', `/api/v1/namespaces/${ns}/events/keel-pb-event`)).status;
    }
    expect(status).toBe(404);
    // A pod (no TTL for its resource) is written without a lease.
    expect((await api.etcd.get(`/registry/pods/${ns}/solo`)).kv?.lease).toBe('0');
  });
});
