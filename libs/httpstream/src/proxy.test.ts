// The proxy between a real `ws` client and a real `ws` server on loopback: the subprotocol
// and frames pass, a refusal comes back as the target's answer, an unreachable target
// rejects, and closing either end closes the other.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { createCa, issueCert } from '@keel/pki';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { forwardUpgrade, writeRawResponse } from './proxy';
import { isUpgradeRequest, serveUpgradesAsRequests, takeUpgrade } from './server';

const servers: (Server | ReturnType<typeof createHttpsServer>)[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function listen(server: Server | ReturnType<typeof createHttpsServer>): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** A WebSocket echo server speaking only `v4.channel.k8s.io`; other paths answer 404. */
async function target(): Promise<{ port: number; sockets: WebSocket[] }> {
  const sockets: WebSocket[] = [];
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false) });
  const server = createServer((_req, res) => res.writeHead(404).end('no such stream'));
  server.on('upgrade', (req, socket, head) => {
    if (!req.url?.startsWith('/exec/')) return writeRawResponse(socket, 404, { 'Content-Type': 'text/plain' }, 'no such stream');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      ws.on('message', (data: Buffer) => ws.send(Buffer.concat([Buffer.from([1]), data])));
    });
  });
  return { port: await listen(server), sockets };
}

/** The front: every request is routed as an ordinary request; upgrades are forwarded. */
async function front(targetPort: number, seen: string[] = []): Promise<number> {
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} upgrade=${isUpgradeRequest(req)}`);
    if (req.url === '/refuse') {
      res.writeHead(403, { 'Content-Type': 'application/json' });
      return void res.end('{"kind":"Status","code":403}');
    }
    const client = takeUpgrade(req);
    if (!client) return void res.writeHead(400).end('upgrade required');
    forwardUpgrade(req, client, { url: `http://127.0.0.1:${targetPort}${req.url}` }).then(
      (out) => {
        if (!out.upgraded) writeRawResponse(client.socket, out.statusCode, { 'Content-Type': 'text/plain' }, `target said: ${out.body}`);
      },
      (err: Error) => writeRawResponse(client.socket, 502, { 'Content-Type': 'text/plain' }, err.message),
    );
  });
  serveUpgradesAsRequests(server);
  return listen(server);
}

function open(url: string, protocols: string[]): Promise<{ ws: WebSocket; messages: Buffer[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    const messages: Buffer[] = [];
    ws.on('message', (d: Buffer) => messages.push(d));
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => reject(new Error(`${res.statusCode}: ${body}`)));
    });
    ws.once('error', reject);
  });
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  return check();
};

describe('forwardUpgrade', () => {
  it('passes the subprotocol and frames both ways, and a close reaches the target', async () => {
    const t = await target();
    const seen: string[] = [];
    const port = await front(t.port, seen);
    const { ws, messages } = await open(`ws://127.0.0.1:${port}/exec/abc?x=1`, ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
    expect(ws.protocol).toBe('v4.channel.k8s.io');
    expect(seen).toEqual(['GET /exec/abc?x=1 upgrade=true']);
    ws.send(Buffer.from([0, 104, 105]));
    expect(await until(() => messages.length === 1)).toBe(true);
    expect([...messages[0]!]).toEqual([1, 0, 104, 105]);
    ws.close(1000);
    expect(await until(() => t.sockets[0]!.readyState === WebSocket.CLOSED)).toBe(true);
  });

  it('closes the client when the target goes away', async () => {
    const t = await target();
    const { ws } = await open(`ws://127.0.0.1:${await front(t.port)}/exec/abc`, ['v4.channel.k8s.io']);
    let closed = false;
    ws.on('close', () => (closed = true));
    t.sockets[0]!.terminate();
    expect(await until(() => closed)).toBe(true);
  });

  it("hands back the target's refusal, and the front's own answers are plain HTTP", async () => {
    const t = await target();
    const port = await front(t.port);
    await expect(open(`ws://127.0.0.1:${port}/other`, ['v4.channel.k8s.io'])).rejects.toThrow('404: target said: no such stream');
    await expect(open(`ws://127.0.0.1:${port}/refuse`, ['v4.channel.k8s.io'])).rejects.toThrow('403: {"kind":"Status","code":403}');
  });

  it('rejects when the target cannot be reached', async () => {
    const gone = createServer();
    const deadPort = await listen(gone);
    servers.pop();
    await new Promise((r) => gone.close(r));
    const port = await front(deadPort);
    await expect(open(`ws://127.0.0.1:${port}/exec/x`, ['v4.channel.k8s.io'])).rejects.toThrow(/^502: connect ECONNREFUSED/);
  });

  it('reaches an https target with a client certificate, which the target verified', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-httpstream-test-'));
    try {
      const ca = await createCa(dir);
      const serving = await issueCert(ca, dir, 'target', { cn: 'target', usage: 'server', hosts: ['127.0.0.1'] });
      const clientCert = await issueCert(ca, dir, 'front', { cn: 'keel-front', usage: 'client' });
      const peers: string[] = [];
      const secure = createHttpsServer({ ca: readFileSync(ca.certFile), cert: readFileSync(serving.certFile), key: readFileSync(serving.keyFile), requestCert: true, rejectUnauthorized: true });
      const wss = new WebSocketServer({ noServer: true, handleProtocols: () => 'v4.channel.k8s.io' });
      secure.on('upgrade', (req, socket, head) => {
        peers.push(String((socket as TLSSocket).getPeerCertificate().subject?.CN));
        wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data: Buffer) => ws.send(data)));
      });
      const securePort = await listen(secure);
      const front = createServer((req, res) => {
        const client = takeUpgrade(req);
        if (!client) return void res.writeHead(400).end();
        const tls = { ca: readFileSync(ca.certFile), cert: readFileSync(clientCert.certFile), key: readFileSync(clientCert.keyFile) };
        void forwardUpgrade(req, client, { url: `https://127.0.0.1:${securePort}/exec/x`, ...tls }).catch((err: Error) => writeRawResponse(client.socket, 502, {}, err.message));
      });
      serveUpgradesAsRequests(front);
      const { ws, messages } = await open(`ws://127.0.0.1:${await listen(front)}/`, ['v4.channel.k8s.io']);
      ws.send(Buffer.from([1, 2, 3]));
      expect(await until(() => messages.length === 1)).toBe(true);
      expect([...messages[0]!]).toEqual([1, 2, 3]);
      expect(peers).toEqual(['keel-front']);
      ws.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
