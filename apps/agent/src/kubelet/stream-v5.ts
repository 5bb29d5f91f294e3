// WebSocket `v5.channel.k8s.io` for exec and attach, which containerd 1.6's stream server
// refuses (it speaks SPDY and WebSocket up to v4). v5 differs from v4 by one frame — [255,
// channel] closes that channel, which is how a client ends stdin — and v4 over WebSocket
// cannot pass that on, so the agent answers the WebSocket itself and talks SPDY (v4
// semantics, where a stream's FIN is end of input) to containerd, as kube-apiserver
// translates WebSocket to SPDY towards the kubelet. Channels: 0 stdin, 1 stdout, 2 stderr,
// 3 the Status, 4 resize; each becomes a SPDY stream named by its `streamtype` header.
import type { IncomingMessage } from 'node:http';
import type { UpgradeSocket } from '@keel/httpstream';
import { WebSocketServer, type WebSocket } from 'ws';
import { dialSpdy, type SpdyStream } from './spdy';

export const V5_PROTOCOL = 'v5.channel.k8s.io';
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
    const send = (channel: Channel, data: Buffer) => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), data]));
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
