// The server half of HTTP upgrades: Node hands an upgrade request (WebSocket, SPDY/3.1) to a
// separate 'upgrade' event with a bare socket, which would bypass the request pipeline
// (authentication, RBAC, routing, error Status bodies). `serveUpgradesAsRequests` turns
// each one into an ordinary 'request' whose response writes on that socket, so every
// refusal is a normal HTTP answer; a handler that accepts the upgrade claims the raw socket
// with `takeUpgrade` and from then on owns it.
import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** A client connection whose HTTP exchange ended with the upgrade request. */
export interface UpgradeSocket {
  socket: Duplex;
  /** Bytes the client sent after the request's headers (already the upgraded protocol's). */
  head: Buffer;
}

interface Pending extends UpgradeSocket {
  res: ServerResponse;
  onFinish: () => void;
}

const pending = new WeakMap<IncomingMessage, Pending>();

/**
 * Routes the server's upgrade requests through its 'request' listeners. The server's
 * closeAllConnections() also ends the upgraded connections (Node stops tracking them as
 * HTTP connections, yet server.close() waits for them).
 */
export function serveUpgradesAsRequests(server: Server | HttpsServer): void {
  const upgraded = new Set<Duplex>();
  const closeAll = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    closeAll();
    for (const socket of upgraded) socket.destroy();
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    socket.on('error', () => socket.destroy());
    const res = new ServerResponse(req);
    // The parser has let go of this socket: one answer, then the connection ends.
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    const onFinish = () => {
      res.detachSocket(socket as Socket);
      socket.end();
    };
    res.once('finish', onFinish);
    pending.set(req, { socket, head, res, onFinish });
    // Node never ends an upgrade request's body; these requests carry none.
    if (!req.readableEnded) req.push(null);
    server.emit('request', req, res);
  });
}

/** Whether the request asks to switch protocols (Connection: Upgrade with an Upgrade header). */
export function isUpgradeRequest(req: IncomingMessage): boolean {
  const connection = String(req.headers.connection ?? '').toLowerCase();
  return req.headers.upgrade !== undefined && connection.split(',').some((t) => t.trim() === 'upgrade');
}

/**
 * Claims the raw socket of an upgrade request that came through serveUpgradesAsRequests
 * (undefined for any other request). The response object is detached: whatever is
 * written on it later goes nowhere, and the caller writes the 101 (or a refusal) itself.
 */
export function takeUpgrade(req: IncomingMessage): UpgradeSocket | undefined {
  const p = pending.get(req);
  if (!p || p.res.headersSent) return undefined;
  pending.delete(req);
  p.res.off('finish', p.onFinish);
  p.res.detachSocket(p.socket as Socket);
  // For the request log: what the client got.
  p.res.statusCode = 101;
  return { socket: p.socket, head: p.head };
}

/** Whether takeUpgrade would hand over a socket for this request. */
export function canTakeUpgrade(req: IncomingMessage): boolean {
  return pending.has(req);
}
