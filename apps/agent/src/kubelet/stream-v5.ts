// WebSocket `v5.channel.k8s.io` for exec and attach, which containerd 1.6's stream server
// refuses (it speaks SPDY and WebSocket up to v4). v5 differs from v4 by one frame — [255,
// channel] closes that channel, which is how a client ends stdin — and v4 over WebSocket
// cannot pass that on, so the agent answers the WebSocket itself and talks SPDY (v4
// semantics, where a stream's FIN is end of input) to containerd, as kube-apiserver
// translates WebSocket to SPDY towards the kubelet. Channels: 0 stdin, 1 stdout, 2 stderr,
// 3 the Status, 4 resize; each becomes a SPDY stream named by its `streamtype` header.
// Also port-forward's WebSocket tunnel (subprotocol `SPDY/3.1+portforward.k8s.io`, kubectl
// ≥ 1.30): SPDY carried in binary messages, relayed to a SPDY connection to containerd.
import type { IncomingMessage } from 'node:http';
import type { UpgradeSocket } from '@keel/httpstream';
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws';
import { joinStreams } from '@keel/httpstream';
import { dialSpdy, upgradeToSpdy, type SpdyStream } from './spdy';

export const V5_PROTOCOL = 'v5.channel.k8s.io';
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;
const SPDY_PROTOCOL = 'v4.channel.k8s.io';

const enum Channel {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  Error = 3,
  Resize = 4,
  Close = 255,
}

export interface StreamFlags {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** Whether a WebSocket upgrade request offers v5.channel.k8s.io. */
export function offersV5(req: IncomingMessage): boolean {
  const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',');
  return String(req.headers.upgrade ?? '').toLowerCase() === 'websocket' && offered.some((p) => p.trim() === V5_PROTOCOL);
}

const server = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has(V5_PROTOCOL) ? V5_PROTOCOL : false) });

/**
 * Serves one exec or attach session: SPDY to the stream server's URL first (so its refusal
 * can still be an HTTP answer: this rejects before the client's upgrade is answered), then
 * the client's WebSocket, bridged until either side ends. The stream set must be exactly
 * what the URL was issued for, since the server waits for each of them.
 */
export async function bridgeV5(req: IncomingMessage, client: UpgradeSocket, location: string, flags: StreamFlags): Promise<void> {
  const { session, protocol } = await dialSpdy(location, [SPDY_PROTOCOL]);
  if (protocol !== SPDY_PROTOCOL) {
    session.close();
    throw new Error(`the stream server chose protocol "${protocol}", want ${SPDY_PROTOCOL}`);
  }
  const open = (type: string) => session.openStream({ streamtype: type });
  const error = await open('error');
  const stdin = flags.stdin ? await open('stdin') : undefined;
  const stdout = flags.stdout ? await open('stdout') : undefined;
  const stderr = flags.stderr ? await open('stderr') : undefined;
  const resize = flags.tty ? await open('resize') : undefined;

  server.handleUpgrade(req, client.socket, client.head, (ws: WebSocket) => {
    // Backpressure both ways: stop reading the stream server while the client is more than
    // a few MB behind, and stop reading the client while the stream server is.
    let unsent = 0;
    let waitingForDrain = false;
    const send = (channel: Channel, data: Buffer) => {
      if (ws.readyState !== ws.OPEN) return;
      unsent += data.length;
      if (unsent > HIGH_WATER) session.pause();
      ws.send(Buffer.concat([Buffer.from([channel]), data]), () => {
        unsent -= data.length;
        if (unsent <= LOW_WATER) session.resume();
      });
    };
    const forward = (stream: SpdyStream | undefined, channel: Channel) => stream?.onData((chunk) => send(channel, chunk));
    forward(stdout, Channel.Stdout);
    forward(stderr, Channel.Stderr);
    const status: Buffer[] = [];
    error.onData((chunk) => status.push(Buffer.from(chunk)));
    ws.on('message', (data: Buffer) => {
      const payload = data.subarray(1);
      switch (data[0]) {
        case Channel.Stdin:
          stdin?.write(payload);
          if (session.congested && !waitingForDrain) {
            waitingForDrain = true;
            ws.pause();
            session.onDrain(() => {
              waitingForDrain = false;
              ws.resume();
            });
          }
          break;
        case Channel.Resize:
          resize?.write(payload);
          break;
        case Channel.Close:
          if (payload[0] === Channel.Stdin) stdin?.end();
          break;
        default:
          break;
      }
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => session.close());
    // The stream server closes the connection once the process is gone and the Status
    // written: pass the Status on and close with 1000, as a v5 server does.
    session.onClose(() => {
      if (status.length) send(Channel.Error, Buffer.concat(status));
      if (ws.readyState === ws.OPEN) ws.close(1000);
    });
  });
}

export const TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

/** Whether a WebSocket upgrade request asks for port-forward's SPDY tunnel. */
export function offersTunnel(req: IncomingMessage): boolean {
  const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',');
  return String(req.headers.upgrade ?? '').toLowerCase() === 'websocket' && offered.some((p) => p.trim() === TUNNEL_PROTOCOL);
}

// `ws` refuses a subprotocol with a "/" (not an RFC 7230 token) while parsing the request:
// the request names a stand-in, and the answer is rewritten to the name the client offered.
const TUNNEL_STAND_IN = 'keel-spdy-portforward-tunnel';
const tunnelServer = new WebSocketServer({ noServer: true, handleProtocols: () => TUNNEL_STAND_IN });
tunnelServer.on('headers', (headers: string[]) => {
  const i = headers.indexOf(`Sec-WebSocket-Protocol: ${TUNNEL_STAND_IN}`);
  if (i >= 0) headers[i] = `Sec-WebSocket-Protocol: ${TUNNEL_PROTOCOL}`;
});

/**
 * Port-forward through the WebSocket tunnel: SPDY to the stream server's URL first (a
 * refusal is still an HTTP answer), then the client's WebSocket, whose binary messages are
 * the SPDY bytes in either direction, until either side closes.
 */
export async function bridgePortForwardTunnel(req: IncomingMessage, client: UpgradeSocket, location: string): Promise<void> {
  const upstream = await upgradeToSpdy(location, ['portforward.k8s.io']);
  if (upstream.protocol !== 'portforward.k8s.io') {
    upstream.socket.destroy();
    throw new Error(`the stream server chose protocol "${upstream.protocol}", want portforward.k8s.io`);
  }
  req.headers['sec-websocket-protocol'] = TUNNEL_STAND_IN;
  tunnelServer.handleUpgrade(req, client.socket, client.head, (ws: WebSocket) => {
    const stream = createWebSocketStream(ws);
    if (upstream.head.length) stream.write(upstream.head);
    void joinStreams(stream, upstream.socket);
  });
}
