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

  it("issues the apiserver's kubelet client and a serving cert per node with its IPs", async () => {
    const pki = await createClusterPki(join(dir, 'kubelet'), { nodes: ['n1', 'n2'], nodeIps: { n2: ['10.77.0.2'] } });
    const ca = new X509Certificate(readFileSync(pki.ca.certFile));
    const client = new X509Certificate(readFileSync(pki.kubeletClient.certFile));
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(client.subject.split('\n')).toEqual(['O=system:masters', 'CN=kube-apiserver-kubelet-client']);
    expect(client.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    const n2 = new X509Certificate(readFileSync(pki.kubeletServing['n2']!.certFile));
    expect(n2.verify(ca.publicKey)).toBe(true);
    expect(n2.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(n2.checkIP('10.77.0.2')).toBe('10.77.0.2');
    expect(n2.checkIP('127.0.0.1')).toBeUndefined();
    expect(n2.checkHost('n2')).toBe('n2');
    // A node without listed IPs serves on loopback, the agent's default --node-ip.
    expect(new X509Certificate(readFileSync(pki.kubeletServing['n1']!.certFile)).checkIP('127.0.0.1')).toBe('127.0.0.1');
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
