import { describe, expect, it } from 'vitest';
import { clientConfig, kubeconfigFiles, loadKubeconfig, mergeKubeconfigs, parseKubeconfig, viewKubeconfig } from './kubeconfig';

const a = `
apiVersion: v1
kind: Config
clusters:
- name: keel
  cluster: {server: "https://127.0.0.1:6443/", certificate-authority-data: ${Buffer.from('CA-A').toString('base64')}}
- name: shared
  cluster: {server: "https://a.example:6443"}
users:
- name: admin
  user: {client-certificate-data: ${Buffer.from('CERT').toString('base64')}, client-key: keys/admin.key}
contexts:
- name: admin@keel
  context: {cluster: keel, user: admin, namespace: demo}
current-context: admin@keel
`;
const b = `
clusters:
- name: shared
  cluster: {server: "https://b.example:6443", certificate-authority: ca.crt}
- name: other
  cluster: {server: "https://other:6443"}
users:
- name: dev
  user: {token: s3cret}
contexts:
- name: dev@other
  context: {cluster: other, user: dev}
current-context: dev@other
`;

const files: Record<string, string> = { '/k/a': a, '/k/b': b };
const read = (f: string) => files[f];
const readFile = (f: string) => {
  if (f === '/k/keys/admin.key') return Buffer.from('KEY');
  if (f === '/k/ca.crt') return Buffer.from('CA-B');
  throw Object.assign(new Error('missing'), { code: 'ENOENT' });
};

describe('kubeconfig files', () => {
  it('uses --kubeconfig, else every KUBECONFIG entry, else ~/.kube/config', () => {
    expect(kubeconfigFiles({ KUBECONFIG: '/k/a:/k/b' }, '/x/c')).toEqual(['/x/c']);
    expect(kubeconfigFiles({ KUBECONFIG: '/k/a::/k/b:/k/a' })).toEqual(['/k/a', '/k/b']);
    expect(kubeconfigFiles({}, undefined, '/nonexistent-home')).toEqual(['/nonexistent-home/.kube/config']);
  });

  it('merges with the first file winning names and the current context', () => {
    const m = loadKubeconfig(['/k/a', '/k/b'], read);
    expect(m.currentContext).toBe('admin@keel');
    expect(m.currentContextFile).toBe('/k/a');
    expect(m.clusters.get('shared')!.cluster.server).toBe('https://a.example:6443');
    expect([...m.contexts.keys()]).toEqual(['admin@keel', 'dev@other']);
    const reversed = loadKubeconfig(['/k/b', '/k/a'], read);
    expect(reversed.currentContext).toBe('dev@other');
    expect(reversed.clusters.get('shared')!.cluster.server).toBe('https://b.example:6443');
  });

  it("resolves the current context: server, inline CA, cert data, key file beside the kubeconfig, context namespace", () => {
    const c = clientConfig(loadKubeconfig(['/k/a', '/k/b'], read), {}, readFile);
    expect(c.server).toBe('https://127.0.0.1:6443');
    expect(c.ca!.toString()).toBe('CA-A');
    expect(c.cert!.toString()).toBe('CERT');
    expect(c.key!.toString()).toBe('KEY');
    expect(c.namespace).toBe('demo');
    expect(c.contextName).toBe('admin@keel');
  });

  it('--context, -n, --server and --token override', () => {
    const m = loadKubeconfig(['/k/a', '/k/b'], read);
    const dev = clientConfig(m, { context: 'dev@other' }, readFile);
    expect(dev.server).toBe('https://other:6443');
    expect(dev.token).toBe('s3cret');
    expect(dev.namespace).toBe('default');
    const o = clientConfig(m, { namespace: 'x', server: 'http://127.0.0.1:1', token: 't' }, readFile);
    expect(o).toMatchObject({ server: 'http://127.0.0.1:1', token: 't', namespace: 'x' });
    expect(() => clientConfig(m, { context: 'nope' }, readFile)).toThrow(/context "nope" does not exist/);
  });

  it('says what to do when there is no kubeconfig at all', () => {
    expect(() => clientConfig(mergeKubeconfigs([]), {})).toThrow(/no kubeconfig found.*keel up/);
  });

  it('reports a certificate file it cannot read, naming it', () => {
    const m = loadKubeconfig(['/k/a'], read);
    expect(() => clientConfig(m, {}, () => Buffer.from('x'))).not.toThrow();
    expect(() => clientConfig(m, {}, (f) => (f.endsWith('.key') ? readFile('/none') : Buffer.from('')))).toThrow(/client-key \/k\/keys\/admin.key: ENOENT/);
  });

  it('rejects malformed files with the file named', () => {
    expect(() => parseKubeconfig('clusters: {a: 1}', '/k/bad')).toThrow(/\/k\/bad: clusters must be a list/);
    expect(() => parseKubeconfig('contexts:\n- context: {}', '/k/bad')).toThrow(/contexts\[0\].name is missing/);
  });

  it('view redacts secrets unless raw, and minify keeps only what the context uses', () => {
    const m = loadKubeconfig(['/k/a', '/k/b'], read);
    const v = viewKubeconfig(m, { minify: true });
    expect(v.clusters!.map((c) => c.name)).toEqual(['keel']);
    expect(v.clusters![0]!.cluster['certificate-authority-data']).toBe('DATA+OMITTED');
    expect(v.users!.map((u) => u.name)).toEqual(['admin']);
    const raw = viewKubeconfig(m, { raw: true, context: 'dev@other', minify: true });
    expect(raw.users![0]!.user.token).toBe('s3cret');
    expect(viewKubeconfig(m, {}).users!.find((u) => u.name === 'dev')!.user.token).toBe('REDACTED');
  });
});
