// `keel exec` against a small stand-in apiserver on loopback that speaks the channel
// protocol (v5.channel.k8s.io / v4.channel.k8s.io) over WebSocket, so each promise is
// checked exactly: stdout and stderr apart and the remote exit code as keel's own; piped
// stdin and its end (v5); and with -it in a real pseudo-terminal (node-pty) that keys arrive
// one by one (raw mode) and that a resize of the terminal reaches the server on channel 4.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import * as pty from 'node-pty';
import { WebSocketServer, type WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const cli = join(root, 'dist/apps/cli/main.js');
let server: Server;
let url = '';
const seen: { query: URLSearchParams; protocol: string }[] = [];

const json = (body: unknown) => JSON.stringify(body);
const success = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' };
const exitWith = (code: number) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: `command terminated with non-zero exit code: ${code}`,
  reason: 'NonZeroExitCode',
  details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
});

function frame(channel: number, data: string): Buffer {
  return Buffer.concat([Buffer.from([channel]), Buffer.from(data)]);
}

/** What the stand-in does for each command: enough behaviour to tell right handling from wrong. */
function session(ws: WebSocket, query: URLSearchParams, protocol: string): void {
  const command = query.getAll('command');
  const end = (status: object) => {
    ws.send(frame(3, json(status)));
    ws.close(1000);
  };
  if (command[0] === 'fail') {
    ws.send(frame(1, 'to stdout\n'));
    ws.send(frame(2, 'to stderr\n'));
    end(exitWith(Number(command[1])));
    return;
  }
  if (command[0] === 'cat') {
    ws.on('message', (data: Buffer) => {
      if (data[0] === 0) ws.send(frame(1, data.subarray(1).toString()));
      // v5's "stdin is closed".
      if (protocol === 'v5.channel.k8s.io' && data[0] === 255 && data[1] === 0) end(success);
    });
    return;
  }
  if (command[0] === 'shell') {
    ws.on('message', (data: Buffer) => {
      const body = data.subarray(1).toString();
      if (data[0] === 4) {
        const size = JSON.parse(body) as { Width: number; Height: number };
        ws.send(frame(1, `size ${size.Width}x${size.Height}\r\n`));
      } else if (data[0] === 0) {
        // One frame per key proves the terminal is raw (a cooked one would wait for Enter).
        for (const ch of body) {
          if (ch === 'q') return end(exitWith(7));
          ws.send(frame(1, `key ${ch.charCodeAt(0)}\r\n`));
        }
      }
    });
    return;
  }
  end({ kind: 'Status', status: 'Failure', message: `unknown command ${command.join(' ')}`, reason: 'InternalError' });
}

beforeAll(async () => {
  execFileSync('node', ['tools/scripts/bundle.mjs', 'apps/cli'], { cwd: root, stdio: 'ignore' });
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => (offered.has('v5.channel.k8s.io') ? 'v5.channel.k8s.io' : offered.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false),
  });
  server = createServer((req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    const answers: Record<string, unknown> = {
      '/api': { kind: 'APIVersions', versions: ['v1'] },
      '/apis': { kind: 'APIGroupList', groups: [] },
      '/api/v1': { kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get'], shortNames: ['po'] }] },
      '/api/v1/namespaces/default/pods/web': { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'web', namespace: 'default' }, status: { phase: 'Running' } },
      '/api/v1/namespaces/default/pods/done': { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'done', namespace: 'default' }, status: { phase: 'Succeeded' } },
    };
    const body = answers[path];
    res.writeHead(body ? 200 : 404, { 'Content-Type': 'application/json' });
    res.end(json(body ?? { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: `pods "${path.split('/').pop()}" not found` }));
  });
  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    const u = new URL(req.url!, 'http://x');
    if (u.pathname === '/api/v1/namespaces/default/pods/web/portforward') {
      wss.handleUpgrade(req, socket, head, (ws) => {
        seen.push({ query: u.searchParams, protocol: ws.protocol });
        // Each channel opens with its port (little-endian), then data: an echo, upper-cased.
        const port = Buffer.alloc(2);
        port.writeUInt16LE(Number(u.searchParams.get('ports')));
        ws.send(Buffer.concat([Buffer.from([0]), port]));
        ws.send(Buffer.concat([Buffer.from([1]), port]));
        ws.on('message', (data: Buffer) => {
          if (data[0] === 0) ws.send(frame(0, data.subarray(1).toString().toUpperCase()));
        });
      });
      return;
    }
    if (u.pathname !== '/api/v1/namespaces/default/pods/web/exec') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      seen.push({ query: u.searchParams, protocol: ws.protocol });
      session(ws, u.searchParams, ws.protocol);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}, 60_000);

afterAll(() => {
  server?.close();
  server?.closeAllConnections();
});

const env = () => ({ ...process.env, KUBECONFIG: '/nonexistent/keel-no-kubeconfig', NO_COLOR: '1' });

function keel(args: string[], input?: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [cli, args[0]!, '--server', url, ...args.slice(1)], { env: env(), timeout: 30_000 }, (err, out, errOut) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out, err: errOut }),
    );
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
  });
}

describe('keel exec', () => {
  it("keeps stdout and stderr apart and exits with the remote command's code", async () => {
    const r = await keel(['exec', 'web', '--', 'fail', '3']);
    expect(r.out).toBe('to stdout\n');
    expect(r.err).toBe('to stderr\ncommand terminated with exit code 3\n');
    expect(r.code).toBe(3);
    const q = seen[seen.length - 1]!.query;
    expect(q.getAll('command')).toEqual(['fail', '3']);
    expect(q.get('stdout')).toBe('true');
    expect(q.get('stderr')).toBe('true');
    expect(q.get('stdin')).toBeNull();
  }, 60_000);

  it('passes piped stdin and then its end (v5), so the command finishes', async () => {
    const r = await keel(['exec', '-i', 'po/web', '--', 'cat'], 'hello through the pipe\n');
    expect(r.code).toBe(0);
    expect(r.out).toBe('hello through the pipe\n');
    expect(seen[seen.length - 1]!.protocol).toBe('v5.channel.k8s.io');
  }, 60_000);

  it('refuses a completed pod and a missing one with kubectl’s messages', async () => {
    const done = await keel(['exec', 'done', '--', 'true']);
    expect(done.code).toBe(1);
    expect(done.err.trim()).toBe('error: cannot exec into a container in a completed pod; current phase is Succeeded');
    const missing = await keel(['exec', 'nope', '--', 'true']);
    expect(missing.err.trim()).toBe('Error from server (NotFound): pods "nope" not found');
  }, 60_000);

  it('-it in a pseudo-terminal: raw keys one by one, resizes on channel 4, the exit code at the end', async () => {
    const term = pty.spawn(process.execPath, [cli, 'exec', '-it', 'web', '--server', url, '--', 'shell'], { cols: 100, rows: 30, env: env() as Record<string, string> });
    let output = '';
    term.onData((d) => (output += d));
    const exited = new Promise<number>((r) => term.onExit(({ exitCode }) => r(exitCode)));
    const until = async (what: RegExp) => {
      const deadline = Date.now() + 20_000;
      while (!what.test(output)) {
        if (Date.now() > deadline) throw new Error(`no ${what} in ${JSON.stringify(output)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until(/size 100x30/);
    const q = seen[seen.length - 1]!.query;
    expect(q.get('tty')).toBe('true');
    expect(q.get('stdin')).toBe('true');
    // A terminal's stderr is merged into stdout, so only stdout is asked for.
    expect(q.get('stderr')).toBeNull();
    term.resize(120, 40);
    await until(/size 120x40/);
    // Ctrl-C must reach the remote side as a byte (3), not stop keel: the terminal is raw.
    term.write('a');
    await until(/key 97/);
    term.write('\x03');
    await until(/key 3\r/);
    term.write('q');
    expect(await exited).toBe(7);
  }, 60_000);

  it('port-forward: a local connection reaches the pod port through its own WebSocket', async () => {
    const child = spawn(process.execPath, [cli, 'port-forward', '--server', url, 'pod/web', ':8080'], { env: env() });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const deadline = Date.now() + 20_000;
      let port: string | undefined;
      while (!(port = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out)?.[1])) {
        if (Date.now() > deadline) throw new Error(`port-forward did not listen: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const word of ['first', 'second']) {
        const answer = await new Promise<string>((done, fail) => {
          const sock = connect(Number(port), '127.0.0.1', () => sock.write(word));
          sock.on('data', (d) => {
            done(d.toString());
            sock.end();
          });
          sock.on('error', fail);
        });
        expect(answer).toBe(word.toUpperCase());
      }
      expect(seen[seen.length - 1]!.query.get('ports')).toBe('8080');
      expect(out).toContain('Handling connection for');
    } finally {
      child.kill('SIGTERM');
    }
  }, 60_000);
});
