// runKubectl against a stand-in kubectl (a shell script that reports its arguments,
// KUBECONFIG and stdin), and writeKubeconfig's text for a certificate user and a token user.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runKubectl, writeKubeconfig } from './run';

const work = mkdtempSync(join(tmpdir(), 'keel-run-kubectl-test-'));
const fake = join(work, 'kubectl');
writeFileSync(
  fake,
  `#!/bin/sh
case "$1" in sleep) exec sleep 30 ;; esac
echo "args: $*"
echo "KUBECONFIG=[$KUBECONFIG] EXTRA=[$EXTRA]"
echo "stdin: $(cat)"
echo "  to stderr  " >&2
exit 3
`,
);
chmodSync(fake, 0o755);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('runKubectl', () => {
  it('collects the exit code, stdout and stderr, with the input on stdin', async () => {
    const res = await runKubectl(fake, ['get', 'pods'], { input: 'hello', env: { EXTRA: 'x', KUBECONFIG: '/k' } });
    expect(res).toEqual({ code: 3, stdout: 'args: get pods\nKUBECONFIG=[/k] EXTRA=[x]\nstdin: hello\n', stderr: '  to stderr  \n' });
  });

  it('passes a kubeconfig as --kubeconfig and empties KUBECONFIG', async () => {
    const res = await runKubectl(fake, ['get', 'pods'], { kubeconfig: '/tmp/keel-kc', trim: true });
    expect(res).toEqual({ code: 3, stdout: 'args: --kubeconfig /tmp/keel-kc get pods\nKUBECONFIG=[] EXTRA=[]\nstdin:', stderr: 'to stderr' });
  });

  it('kills kubectl after timeoutMs', async () => {
    const started = Date.now();
    expect(await runKubectl(fake, ['sleep'], { timeoutMs: 200 })).toEqual({ code: null, stdout: '', stderr: '' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('rejects when the binary cannot start', async () => {
    await expect(runKubectl(join(work, 'missing'), [])).rejects.toThrow(/ENOENT/);
  });
});

describe('writeKubeconfig', () => {
  it('names the CA and the client certificate', () => {
    const file = writeKubeconfig(join(work, 'admin.kubeconfig'), { server: 'https://127.0.0.1:1', caFile: '/ca.crt', client: { certFile: '/a.crt', keyFile: '/a.key' } });
    expect(readFileSync(file, 'utf8')).toBe(`apiVersion: v1
kind: Config
clusters:
- name: keel
  cluster:
    server: https://127.0.0.1:1
    certificate-authority: /ca.crt
users:
- name: admin
  user:
    client-certificate: /a.crt
    client-key: /a.key
contexts:
- name: keel
  context:
    cluster: keel
    user: admin
current-context: keel
`);
  });

  it('leaves the user empty without a certificate (for --token)', () => {
    const text = readFileSync(writeKubeconfig(join(work, 'token.kubeconfig'), { server: 'https://127.0.0.1:1', caFile: '/ca.crt', user: 'token' }), 'utf8');
    expect(text).toContain('users:\n- name: token\n  user: {}\ncontexts:');
    expect(text).toContain('    user: token\n');
  });
});
