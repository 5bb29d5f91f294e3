// A local TCP port that forwards to a port of a pod sandbox, the way `kubectl
// port-forward` does: every accepted connection asks the runtime for a fresh PortForward
// URL (each is single use) and becomes one WebSocket session. Listens on loopback only.
import { createServer, type Socket } from 'node:net';
import { CriError } from './errors';
import { PortForwardSession } from './stream';

export interface LocalForward {
  host: string;
  port: number;
  /** Stops listening and ends every forwarded connection. */
  close(): Promise<void>;
}

export interface LocalForwardOptions {
  /** Loopback address to listen on (127.0.0.1). */
  host?: string;
  /** Local port (0: any free one). */
  localPort?: number;
  connectTimeoutMs?: number;
  /** Told about a connection that could not be forwarded (the socket is closed). */
  onError?: (err: CriError) => void;
}

export async function forwardLocalPort(
  openUrl: () => Promise<string>,
  podPort: number,
  opts: LocalForwardOptions = {},
): Promise<LocalForward> {
  const host = opts.host ?? '127.0.0.1';
  if (!/^127\./.test(host) && host !== '::1') throw new CriError('InvalidArgument', `refusing to listen on ${host}: loopback only`, 'port-forward');
  const sockets = new Set<Socket>();
  const sessions = new Set<PortForwardSession>();

  const handle = async (socket: Socket) => {
    sockets.add(socket);
    socket.pause();
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let session: PortForwardSession;
    try {
      session = await PortForwardSession.open(await openUrl(), podPort, { connectTimeoutMs: opts.connectTimeoutMs });
    } catch (err) {
      opts.onError?.(CriError.is(err) ? err : new CriError('StreamFailed', String(err), 'port-forward'));
      socket.destroy();
      return;
    }
    sessions.add(session);
    session.onData((chunk) => socket.write(chunk));
    socket.on('data', (chunk: Buffer) => session.write(chunk));
    socket.on('end', () => session.close());
    socket.on('close', () => session.close());
    session.done.then(
      () => socket.end(),
      (err: unknown) => {
        opts.onError?.(err as CriError);
        socket.destroy();
      },
    ).finally(() => sessions.delete(session));
    socket.resume();
  };

  const server = createServer((socket) => void handle(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.localPort ?? 0, host, resolve);
  });
  const { port } = server.address() as { port: number };
  return {
    host,
    port,
    close: async () => {
      for (const s of sessions) s.close();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
