// The PKI against Node's own X.509 parser: a CA that signs, client certificates whose CN and O
// carry the user and groups, a serving certificate with loopback SANs, and a kubeconfig.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClusterPki, issueCert, kubeconfig } from '../src/index';

const dir = mkdtempSync(join(tmpdir(), 'keel-pki-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cluster PKI', () => {
  it('makes a CA, a serving cert and one client cert per component', async () => {
    const pki = await createClusterPki(dir, { nodes: ['n1'] });
    const ca = new X509Certificate(readFileSync(pki.ca.certFile));
    expect(ca.ca).toBe(true);
    const serving = new X509Certificate(readFileSync(pki.apiserver.certFile));
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(serving.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(serving.subjectAltName).toContain('DNS:localhost');
    expect(serving.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(Object.keys(pki.clients).sort()).toEqual(['admin', 'kube-controller-manager', 'kube-scheduler', 'node-n1']);
    const node = new X509Certificate(readFileSync(pki.clients['node-n1']!.certFile));
    expect(node.verify(ca.publicKey)).toBe(true);
    expect(node.subject.split('\n')).toEqual(['O=system:nodes', 'CN=system:node:n1']);
    expect(node.keyUsage).toContain('1.3.6.1.5.5.7.3.2');
    const admin = new X509Certificate(readFileSync(pki.clients['admin']!.certFile));
    expect(admin.subject).toContain('O=system:masters');
  });

  it('puts several groups in several O entries and escapes odd characters', async () => {
    const ca = { certFile: join(dir, 'ca.crt'), keyFile: join(dir, 'ca.key') };
    const files = await issueCert(ca, dir, 'alice', { cn: 'alice/x', groups: ['dev', 'a+b=c'], usage: 'client' });
    const cert = new X509Certificate(readFileSync(files.certFile));
    // Node prints a '+' in a value escaped, as RFC 4514 wants; the stored value is a+b=c.
    expect(cert.subject.split('\n')).toEqual(['O=dev', 'O=a\\+b=c', 'CN=alice/x']);
  });

  it('writes a standalone kubeconfig', () => {
    const text = kubeconfig({
      server: 'https://127.0.0.1:6443',
      caFile: join(dir, 'ca.crt'),
      client: { certFile: join(dir, 'admin.crt'), keyFile: join(dir, 'admin.key') },
      user: 'kubernetes-admin',
    });
    expect(text).toMatch(/certificate-authority-data: [A-Za-z0-9+/=]{100,}/);
    expect(text).toMatch(/current-context: kubernetes-admin@keel/);
  });
});
