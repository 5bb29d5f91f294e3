// The client half: forwards an upgrade request to a target (http, or https with a client
// certificate) and, once the target answers 101 Switching Protocols, passes that answer
// back and pipes bytes both ways until either side goes, closing both together. Nothing
// here knows SPDY or WebSocket: kubectl's SPDY/3.1, the channel.k8s.io WebSocket
// subprotocols and port-forward all pass as bytes. A target that answers anything but 101
// is reported to the caller, which decides how to tell its client (e.g. as a Status).
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import type { UpgradeSocket } from './server';

export interface UpgradeTarget {
  /** http(s)://host:port/path?query of the target's upgrade endpoint. */
  url: string | URL;
  /** Method towards the target (default: the client's). */
  method?: string;
  /** For https: CA to trust, and the client certificate and key to present (PEM). */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Deadline for the target's answer to the upgrade request (default 15 s). */
  timeoutMs?: number;
}

export type UpgradeOutcome =
  | { upgraded: true; statusCode: 101; headers: IncomingHttpHeaders; done: Promise<void> }
  | { upgraded: false; statusCode: number; headers: IncomingHttpHeaders; body: string };

/** Request headers that carry the upgrade negotiation, forwarded as they came (all values). */
const NEGOTIATION = /^(upgrade|connection|sec-websocket-[a-z-]+|x-stream-protocol-version|origin|user-agent)$/i;

/** The client's negotiation headers, each with every value it sent (order kept). */
export function negotiationHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const headers: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (NEGOTIATION.test(name)) (headers[name.toLowerCase()] ??= []).push(req.rawHeaders[i + 1]!);
  }
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.length === 1 ? v[0]! : v]));
}

/** The 101 answer as raw bytes, from the target's raw header list. */
function switchingProtocols(res: IncomingMessage): string {
  let text = `HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}\r\n`;
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) text += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
  return `${text}\r\n`;
}

/**
 * Pipes two connections into each other. An end (FIN) on one side ends the other's writing
 * half; when either side closes or fails, the other is ended and then destroyed, so the
 * pair always goes together. Resolves once both are closed.
 */
export function joinStreams(a: Duplex, b: Duplex): Promise<void> {
  const closed = (s: Duplex) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));
  const finish = (s: Duplex) => {
    if (s.destroyed) return;
    s.end();
    // Give what is still buffered a moment to leave, then let go regardless.
    const timer = setTimeout(() => s.destroy(), 2_000);
    timer.unref();
    s.once('finish', () => s.destroy());
  };
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    from.on('error', () => from.destroy());
    from.once('close', () => finish(to));
    from.pipe(to);
  }
  return Promise.all([closed(a), closed(b)]).then(() => undefined);
}

/**
 * Forwards the upgrade request `req` (whose connection is `client`) to `target`. On 101 the
 * client gets the target's 101 with its headers (the chosen subprotocol, the WebSocket
 * accept key, the stream protocol version) and the two connections are joined; otherwise
 * the target's status, headers and body come back and the client connection is untouched.
 * A target that cannot be reached rejects.
 */
export function forwardUpgrade(req: IncomingMessage, client: UpgradeSocket, target: UpgradeTarget): Promise<UpgradeOutcome> {
  const url = typeof target.url === 'string' ? new URL(target.url) : target.url;
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') return Promise.reject(new Error(`upgrade target ${url.href}: only http and https`));
  const options = {
    method: target.method ?? req.method ?? 'GET',
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port || (secure ? 443 : 80),
    path: `${url.pathname}${url.search}`,
    headers: { ...negotiationHeaders(req), host: url.host, 'content-length': '0' },
    agent: false as const,
    ...(secure ? { ...(target.ca ? { ca: target.ca } : {}), ...(target.cert ? { cert: target.cert } : {}), ...(target.key ? { key: target.key } : {}) } : {}),
  };
  return new Promise<UpgradeOutcome>((resolve, reject) => {
    const upstream = (secure ? httpsRequest : httpRequest)(options);
    let settled = false;
    const settle = () => {
      settled = true;
      clearTimeout(timer);
      client.socket.off('close', onClientGone);
    };
    const timer = setTimeout(() => upstream.destroy(new Error(`no answer from ${url.host} within ${target.timeoutMs ?? 15_000} ms`)), target.timeoutMs ?? 15_000);
    // The client gave up while we were still asking: stop asking.
    const onClientGone = () => upstream.destroy(new Error('the client closed the connection'));
    client.socket.once('close', onClientGone);
    upstream.once('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
      settle();
      client.socket.write(switchingProtocols(res));
      if (head.length) client.socket.write(head);
      if (client.head.length) socket.write(client.head);
      resolve({ upgraded: true, statusCode: 101, headers: res.headers, done: joinStreams(client.socket, socket) });
    });
    upstream.once('response', (res: IncomingMessage) => {
      settle();
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', () => undefined);
      res.on('close', () => resolve({ upgraded: false, statusCode: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    upstream.once('error', (err) => {
      if (settled) return;
      settle();
      reject(err);
    });
    upstream.end();
  });
}

/** Writes a complete HTTP answer on a raw connection and ends it (for refusals after takeUpgrade). */
export function writeRawResponse(socket: Duplex, statusCode: number, headers: Record<string, string>, body: string): void {
  const payload = Buffer.from(body, 'utf8');
  const lines = [`HTTP/1.1 ${statusCode} ${STATUS_TEXT[statusCode] ?? 'Error'}`, ...Object.entries({ ...headers, 'Content-Length': String(payload.length), Connection: 'close' }).map(([k, v]) => `${k}: ${v}`)];
  socket.end(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), payload]));
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};
