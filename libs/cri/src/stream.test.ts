// The channel protocol against a small in-process stream server that behaves like
// containerd's (it writes at once on open, sends the status on channel 3, then closes).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { CriError } from './errors';
import { forwardLocalPort } from './portforward';
import { ExecSession, PortForwardSession, exitCodeFromStatus, runExec } from './stream';
import { connect } from 'node:net';

type Handler = (ws: WebSocket, url: string) => void;

let server: Server | undefined;
let wss: WebSocketServer | undefined;

async function serve(handler: Handler, opts: { protocol?: string | false; status?: number } = {}): Promise<string> {
  server = createServer((_req, res) => {
    res.writeHead(opts.status ?? 404).end('token not found');
  });
  wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (opts.protocol === false ? false : (opts.protocol ?? (protocols.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false))),
  });
  server.on('upgrade', (req, socket, head) => {
    if (opts.status) {
      socket.end(`HTTP/1.1 ${opts.status} Nope\r\nContent-Length: 13\r\n\r\ntoken expired`);
      return;
    }
    wss!.handleUpgrade(req, socket, head, (ws) => handler(ws, req.url ?? ''));
  });
  await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/exec/token`;
}

const frame = (channel: number, data: string | Buffer) => Buffer.concat([Buffer.from([channel]), Buffer.from(data)]);
const status = (s: object) => frame(3, JSON.stringify(s));

afterEach(async () => {
  wss?.close();
  await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
  server = undefined;
});

describe('exitCodeFromStatus', () => {
  it('reads Success as 0 and NonZeroExitCode from its ExitCode cause', () => {
    expect(exitCodeFromStatus({ status: 'Success' })).toBe(0);
    expect(
      exitCodeFromStatus({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '42' }] } }),
    ).toBe(42);
  });

  it('turns other failures into errors', () => {
    const err = exitCodeFromStatus({ status: 'Failure', message: 'container not running' });
    expect(err).toBeInstanceOf(CriError);
    expect((err as CriError).code).toBe('StreamFailed');
    expect((err as CriError).message).toContain('container not running');
  });
});

describe('ExecSession', () => {
  it('sends stdin on channel 0, collects stdout and stderr apart, and takes the exit code from channel 3', async () => {
    const url = await serve((ws) => {
      ws.send(frame(1, '')); // an empty frame per channel on open, as the real server does
      ws.on('message', (data: Buffer) => {
        expect(data[0]).toBe(0);
        const text = data.subarray(1).toString();
        ws.send(frame(1, `out:${text}`));
        ws.send(frame(2, `err:${text}`));
        ws.send(status({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } }));
        ws.close();
      });
    });
    const res = await runExec(url, { stdin: 'hi' });
    expect(res).toEqual({ exitCode: 3, stdout: Buffer.from('out:hi'), stderr: Buffer.from('err:hi') });
  });

  it('keeps output the server wrote before the session was set up, and a close that came early', async () => {
    const url = await serve((ws) => {
      ws.send(frame(1, 'early'));
      ws.send(status({ status: 'Success' }));
      ws.close();
    });
    const session = await ExecSession.open(url);
    await new Promise((r) => setTimeout(r, 50));
    await expect(session.done).resolves.toMatchObject({ exitCode: 0, stdout: Buffer.from('early') });
  });

  it('sends resize on channel 4 as {"Width","Height"}', async () => {
    const url = await serve((ws) => {
      ws.on('message', (data: Buffer) => {
        ws.send(frame(1, `${data[0]}:${data.subarray(1).toString()}`));
        ws.send(status({ status: 'Success' }));
        ws.close();
      });
    });
    const session = await ExecSession.open(url);
    session.resize(80, 24);
    const res = await session.done;
    expect(res.stdout.toString()).toBe('4:{"Width":80,"Height":24}');
  });

  it('waits for output, and fails if the session ends first', async () => {
    const url = await serve((ws) => {
      setTimeout(() => ws.send(frame(1, 'ready\n')), 20);
      setTimeout(() => ws.close(), 60);
    });
    const session = await ExecSession.open(url);
    await expect(session.waitForOutput('ready', 1_000)).resolves.toContain('ready');
    await expect(session.waitForOutput('never', 1_000)).rejects.toMatchObject({ code: 'StreamFailed' });
    await expect(session.done).rejects.toThrow(/without an exit status/);
  });

  it('ends a session at its deadline with Timeout', async () => {
    const url = await serve(() => undefined);
    const session = await ExecSession.open(url, { timeoutMs: 50 });
    await expect(session.done).rejects.toMatchObject({ code: 'Timeout' });
  });

  it('resolves a session the client closed (attach) without a status', async () => {
    const url = await serve((ws) => ws.send(frame(1, 'x')));
    const session = await ExecSession.open(url, { what: 'attach' });
    await session.waitForOutput('x', 1_000);
    session.close();
    await expect(session.done).resolves.toMatchObject({ exitCode: -1 });
  });

  it('fails clearly when the server refuses the upgrade or the subprotocol', async () => {
    const refused = await serve(() => undefined, { status: 404 });
    await expect(ExecSession.open(refused)).rejects.toMatchObject({ code: 'StreamFailed', message: expect.stringContaining('404') });
    wss?.close();
    await new Promise((ok) => server!.close(ok));
    const noProtocol = await serve(() => undefined, { protocol: false });
    await expect(ExecSession.open(noProtocol)).rejects.toBeInstanceOf(CriError);
  });
});

describe('PortForwardSession', () => {
  it('strips the port prefix from each channel and carries data both ways', async () => {
    let query = '';
    const url = await serve((ws, path) => {
      query = path;
      const port = Buffer.alloc(2);
      port.writeUInt16LE(8080);
      ws.send(frame(0, port));
      ws.send(frame(1, port));
      ws.on('message', (data: Buffer) => {
        expect(data[0]).toBe(0);
        ws.send(frame(0, `echo ${data.subarray(1).toString()}`));
      });
    });
    const pf = await PortForwardSession.open(url, 8080);
    pf.write('ping');
    await expect(pf.waitForData('echo ping', 1_000)).resolves.toBe('echo ping');
    expect(query).toContain('port=8080');
    pf.close();
    await pf.done;
  });

  it('reports what the error channel said', async () => {
    const url = await serve((ws) => {
      const port = Buffer.from([0x90, 0x1f]);
      ws.send(frame(0, port));
      ws.send(frame(1, Buffer.concat([port, Buffer.from('connection refused')])));
      ws.close();
    });
    const pf = await PortForwardSession.open(url, 8080);
    await expect(pf.waitForData('x', 1_000)).rejects.toThrow(/connection refused/);
    await expect(pf.done).rejects.toMatchObject({ code: 'StreamFailed' });
  });
});

describe('forwardLocalPort', () => {
  it('serves a loopback port, one fresh URL and session per connection', async () => {
    const url = await serve((ws) => {
      const port = Buffer.from([0x90, 0x1f]);
      ws.send(frame(0, port));
      ws.send(frame(1, port));
      ws.on('message', (data: Buffer) => ws.send(frame(0, `pod says ${data.subarray(1).toString()}`)));
    });
    let urls = 0;
    const fwd = await forwardLocalPort(async () => (urls++, url), 8080);
    const roundTrip = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(fwd.port, '127.0.0.1', () => socket.write(text));
        socket.on('data', (d) => {
          resolve(d.toString());
          socket.end();
        });
        socket.on('error', reject);
      });
    expect(await roundTrip('one')).toBe('pod says one');
    expect(await roundTrip('two')).toBe('pod says two');
    expect(urls).toBe(2);
    await fwd.close();
  });

  it('listens on loopback only', async () => {
    await expect(forwardLocalPort(async () => 'http://x', 80, { host: '0.0.0.0' })).rejects.toThrow(/loopback only/);
  });
});
