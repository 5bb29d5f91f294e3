// The apiserver's kubelet client: which flag combinations are accepted (errors name the
// flag), and GETs on an agent over plain HTTP and over HTTPS with a client certificate,
// refusing an agent whose certificate names another address or chains to another CA.
import { createCa, issueCert } from '@keel/pki';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { kubeletClientFromFlags, kubeletGet, kubeletScheme, kubeletUpgradeTls } from './kubelet-client';

const read = (flag: string, file: string) => {
  if (file === 'missing') throw new Error(`${flag} ${file}: ENOENT`);
  return Buffer.from(`${flag}:${file}`);
};

describe('kubelet client flags', () => {
  it('stays plain HTTP without flags', () => {
    const config = kubeletClientFromFlags({}, read);
    expect(config).toBeUndefined();
    expect(kubeletScheme(config)).toBe('http');
    expect(kubeletUpgradeTls(config)).toEqual({});
  });

  it('calls agents over HTTPS with the client certificate, verified against the CA', () => {
    const config = kubeletClientFromFlags({ cert: 'c.crt', key: 'c.key', ca: 'ca.crt' }, read);
    expect(kubeletScheme(config)).toBe('https');
    expect(kubeletUpgradeTls(config)).toEqual({
      ca: Buffer.from('--kubelet-certificate-authority:ca.crt'),
      cert: Buffer.from('--kubelet-client-certificate:c.crt'),
      key: Buffer.from('--kubelet-client-key:c.key'),
    });
    // A CA alone: HTTPS, verified, anonymous.
    expect(kubeletUpgradeTls(kubeletClientFromFlags({ ca: 'ca.crt' }, read))).toEqual({ ca: Buffer.from('--kubelet-certificate-authority:ca.crt') });
  });

  it('refuses half a pair, a certificate without a CA, and names the flag of an unreadable file', () => {
    expect(() => kubeletClientFromFlags({ cert: 'c.crt', ca: 'ca.crt' }, read)).toThrow('--kubelet-client-certificate and --kubelet-client-key go together');
    expect(() => kubeletClientFromFlags({ cert: 'c.crt', key: 'c.key' }, read)).toThrow(/needs --kubelet-certificate-authority/);
    expect(() => kubeletClientFromFlags({ cert: 'c.crt', key: 'missing', ca: 'ca.crt' }, read)).toThrow('--kubelet-client-key missing: ENOENT');
  });
});

describe('kubeletGet', () => {
  const servers: { close(): void }[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'keel-kubelet-client-test-'));
  afterAll(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const listen = (server: HttpServer | HttpsServer) =>
    new Promise<number>((ok) => {
      servers.push(server);
      server.listen(0, '127.0.0.1', () => ok((server.address() as AddressInfo).port));
    });
  const body = async (res: IncomingMessage) => {
    let text = '';
    for await (const chunk of res) text += String(chunk);
    return text;
  };

  it('reads a plain HTTP agent without TLS options', async () => {
    const port = await listen(createHttpServer((_req, res) => res.end('plain')));
    const res = await kubeletGet(`http://127.0.0.1:${port}/containerLogs/a/b/c`, undefined, new AbortController().signal);
    expect([res.statusCode, await body(res)]).toEqual([200, 'plain']);
  });

  it("presents the client certificate and checks the agent's certificate against the CA and the IP", async () => {
    const ca = await createCa(dir);
    const serving = await issueCert(ca, dir, 'agent', { cn: 'system:node:n1', usage: 'server', hosts: ['127.0.0.1'] });
    const otherHost = await issueCert(ca, dir, 'elsewhere', { cn: 'system:node:n2', usage: 'server', hosts: ['10.77.0.9'] });
    const client = await issueCert(ca, dir, 'kubelet-client', { cn: 'kube-apiserver-kubelet-client', groups: ['system:masters'], usage: 'client' });
    const serve = (cert: { certFile: string; keyFile: string }) =>
      listen(
        createHttpsServer({ cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile), ca: readFileSync(ca.certFile), requestCert: true, rejectUnauthorized: true }, (req, res) =>
          res.end(`hello ${(req.socket as TLSSocket).getPeerCertificate().subject.CN}`),
        ),
      );
    const config = kubeletClientFromFlags({ cert: client.certFile, key: client.keyFile, ca: ca.certFile }, (_flag, file) => readFileSync(file));
    const good = await serve(serving);
    const res = await kubeletGet(`https://127.0.0.1:${good}/containerLogs/a/b/c`, config, new AbortController().signal);
    expect([res.statusCode, await body(res)]).toEqual([200, 'hello kube-apiserver-kubelet-client']);
    // A certificate for another address: refused, even though the CA signed it.
    const wrongIp = await serve(otherHost);
    await expect(kubeletGet(`https://127.0.0.1:${wrongIp}/x`, config, new AbortController().signal)).rejects.toThrow(/IP: 127.0.0.1 is not in the cert's list/);
    // An agent whose certificate another CA signed: refused.
    const otherCa = await createCa(join(dir, 'other'));
    const impostor = await issueCert(otherCa, join(dir, 'other'), 'agent', { cn: 'system:node:n1', usage: 'server', hosts: ['127.0.0.1'] });
    const impostorPort = await serve(impostor);
    await expect(kubeletGet(`https://127.0.0.1:${impostorPort}/x`, config, new AbortController().signal)).rejects.toThrow(/self-signed|unable to verify|local issuer/i);
  });
});
