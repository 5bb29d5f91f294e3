// `keel exec` and `keel port-forward` over WebSocket, as kubectl 1.30+ and client-node do.
//
// exec: subprotocols v5.channel.k8s.io then v4.channel.k8s.io; every binary frame starts
// with its channel (0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 terminal size).
// With -t on a terminal, stdin goes raw (keys reach the remote shell as typed) and every
// SIGWINCH sends the new size on channel 4. The remote command's exit code, carried in the
// Status (reason NonZeroExitCode, cause ExitCode), becomes keel's exit code. v5 can also
// say "no more stdin" ([255, 0]), so `echo x | keel exec -i pod -- cat` ends.
//
// port-forward: a local listener on 127.0.0.1; each accepted connection opens its own
// WebSocket to pods/{name}/portforward?ports=P. Channel 0 carries data and channel 1 errors;
// the server starts each channel with the port number (2 bytes, little-endian), skipped here.
import { createServer, type Socket } from 'node:net';
import { Command } from 'commander';
import WebSocket from 'ws';
import { ApiStatusError, type Status } from '../kube/rest';
import type { KubeObj } from '../print/objects';
import { action, ExitCode, out, UsageError, withKubeFlags, type Kube } from './context';
import { podFor } from './logs';

interface ExecFlags {
  container?: string;
  stdin?: boolean;
  tty?: boolean;
  quiet?: boolean;
}

/** The exit code a final exec Status stands for (0 success; the remote code; 1 for other failures). */
export function exitCodeOf(status: Status): { code: number; message?: string } {
  if (status.status === 'Success') return { code: 0 };
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => (c as { reason?: string }).reason === 'ExitCode');
    const code = Number(cause?.message);
    if (Number.isInteger(code) && code > 0) return { code };
  }
  return { code: 1, message: status.message ?? 'the command failed' };
}

/**
 * Opens the WebSocket with its message handler already attached: frames that arrive with the
 * upgrade answer are delivered at once, before a promise continuation could attach one.
 */
function openSocket(kube: Kube, path: string, query: [string, string][], protocols: string[], onMessage: (ws: WebSocket, data: Buffer) => void): Promise<WebSocket> {
  const q = new URLSearchParams(query);
  const url = new URL(`${path}?${q.toString()}`, kube.config.server + '/');
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url, protocols, { headers: kube.client.authHeaders(), ...kube.client.tlsOptions() });
  ws.on('message', (data: Buffer) => onMessage(ws, data));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let status: Status = { message: text.trim() || `the server answered ${res.statusCode}` };
        try {
          const parsed = JSON.parse(text) as Status;
          if (parsed.kind === 'Status') status = parsed;
        } catch {
          // not a Status
        }
        const code = res.statusCode ?? 500;
        reject(new ApiStatusError(code, status));
      });
    });
    ws.once('error', (err) => reject(kube.client.connectionError(err as Error & { code?: string })));
  });
}

async function runExec(kube: Kube, args: string[], flags: ExecFlags, command: string[]): Promise<void> {
  if (command.length === 0) throw new UsageError('you must give a command after --, e.g. "keel exec web-1 -- ls /"');
  const pod = await podFor(kube, args);
  const pods = await kube.discovery.resolve('pods');
  const obj = await kube.client.get<KubeObj & { status?: { phase?: string } }>(kube.path(pods, pod));
  const phase = obj.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') throw new UsageError(`cannot exec into a container in a completed pod; current phase is ${phase}`);
  const tty = flags.tty === true;
  const stdin = flags.stdin === true;
  const rawTerminal = tty && stdin && process.stdin.isTTY === true;
  if (tty && !process.stdin.isTTY && !flags.quiet) process.stderr.write('Unable to use a TTY - input is not a terminal or the right kind of file\n');
  const query: [string, string][] = command.map((c) => ['command', c]);
  if (flags.container) query.push(['container', flags.container]);
  query.push(['stdout', 'true']);
  if (!tty) query.push(['stderr', 'true']);
  if (stdin) query.push(['stdin', 'true']);
  if (tty && rawTerminal) query.push(['tty', 'true']);
  let result: { code: number; message?: string } | undefined;
  const onMessage = (_ws: WebSocket, data: Buffer) => {
    if (data.length === 0) return;
    const channel = data[0];
    const body = data.subarray(1);
    if (channel === 1) process.stdout.write(body);
    else if (channel === 2) process.stderr.write(body);
    else if (channel === 3 && body.length > 0) {
      try {
        result = exitCodeOf(JSON.parse(body.toString('utf8')) as Status);
      } catch {
        result = { code: 1, message: body.toString('utf8') };
      }
    }
  };
  const ws = await openSocket(kube, kube.path(pods, pod, undefined, 'exec'), query, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], onMessage);
  const v5 = ws.protocol === 'v5.channel.k8s.io';
  const send = (channel: number, data: Buffer | string) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)]));
  };
  const resize = () => send(4, JSON.stringify({ Width: process.stdout.columns ?? 80, Height: process.stdout.rows ?? 24 }));
  const cleanups: (() => void)[] = [];
  if (rawTerminal) {
    process.stdin.setRawMode(true);
    cleanups.push(() => process.stdin.setRawMode(false));
    resize();
    process.on('SIGWINCH', resize);
    cleanups.push(() => process.off('SIGWINCH', resize));
  }
  if (stdin) {
    const onData = (c: Buffer) => send(0, c);
    const onEnd = () => {
      if (v5) ws.send(Buffer.from([255, 0]));
    };
    process.stdin.on('data', onData);
    process.stdin.once('end', onEnd);
    process.stdin.resume();
    cleanups.push(() => {
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
      process.stdin.pause();
    });
  }
  try {
    await new Promise<void>((resolve, reject) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      ws.on('close', () => resolve());
      ws.on('error', (err) => reject(err));
    });
  } finally {
    for (const c of cleanups.reverse()) c();
  }
  // v4 and later always send a Status at the end; a stream closed without one ended normally.
  const final = result ?? { code: 0 };
  if (final.code !== 0) {
    // kubectl's words for a remote exit code; other failures carry the server's message.
    throw new ExitCode(final.code, final.message ? `error: ${final.message}` : `command terminated with exit code ${final.code}`);
  }
}

/** `LOCAL:REMOTE`, `:REMOTE` (a free local port) or `PORT` (the same both sides). */
export function parsePortPair(spec: string): { local: number; remote: number } {
  const m = /^(\d*):(\d+)$/.exec(spec) ?? /^()(\d+)$/.exec(spec);
  const check = (n: number) => Number.isInteger(n) && n >= 0 && n <= 65535;
  if (!m) throw new UsageError(`invalid port "${spec}": expected LOCAL:REMOTE, :REMOTE or PORT`);
  const remote = Number(m[2]);
  const local = m[1] === '' ? (spec.startsWith(':') ? 0 : remote) : Number(m[1]);
  if (!check(local) || !check(remote) || remote === 0) throw new UsageError(`invalid port "${spec}": ports are 1-65535`);
  return { local, remote };
}

function forwardConnection(kube: Kube, path: string, remote: number, sock: Socket): void {
  const seen = new Set<number>();
  const onMessage = (_ws: WebSocket, data: Buffer) => {
    const channel = data[0]!;
    let body = data.subarray(1);
    // Each channel's first frame begins with the port it is for.
    if (!seen.has(channel)) {
      seen.add(channel);
      body = body.subarray(2);
    }
    if (channel === 0) sock.write(body);
    else if (channel === 1 && body.length) process.stderr.write(`error forwarding port ${remote}: ${body.toString('utf8')}\n`);
  };
  openSocket(kube, path, [['ports', String(remote)]], ['v4.channel.k8s.io'], onMessage)
    .then((ws) => {
      sock.on('data', (c: Buffer) => ws.readyState === WebSocket.OPEN && ws.send(Buffer.concat([Buffer.from([0]), c])));
      sock.on('close', () => ws.close(1000));
      ws.on('close', () => sock.end());
      ws.on('error', () => sock.destroy());
    })
    .catch((err: Error) => {
      process.stderr.write(`error forwarding port ${remote}: ${err.message}\n`);
      sock.destroy();
    });
}

async function runPortForward(kube: Kube, args: string[], flags: { address: string }): Promise<void> {
  const [target, ...ports] = args;
  if (!target || ports.length === 0) throw new UsageError('expected POD|TYPE/NAME and at least one port, e.g. "keel port-forward pod/web 8080:80"');
  if (flags.address !== '127.0.0.1' && flags.address !== 'localhost' && flags.address !== '::1') {
    throw new UsageError('--address must be a loopback address (127.0.0.1, localhost or ::1)');
  }
  const pairs = ports.map(parsePortPair);
  const pod = await podFor(kube, [target]);
  const pods = await kube.discovery.resolve('pods');
  await kube.client.get(kube.path(pods, pod));
  const path = kube.path(pods, pod, undefined, 'portforward');
  const servers = await Promise.all(
    pairs.map(
      ({ local, remote }) =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer((sock) => {
            out(`Handling connection for ${local || (server.address() as { port: number }).port}`);
            forwardConnection(kube, path, remote, sock);
          });
          server.once('error', (err) => reject(new UsageError(`unable to listen on port ${local}: ${err.message}`)));
          server.listen(local, flags.address === 'localhost' ? '127.0.0.1' : flags.address, () => {
            out(`Forwarding from ${flags.address}:${(server.address() as { port: number }).port} -> ${remote}`);
            resolve(server);
          });
        }),
    ),
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      for (const s of servers) s.close();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export function registerExec(program: Command): void {
  withKubeFlags(
    program
      .command('exec')
      .description('run a command in a container: keel exec [-it] POD|TYPE/NAME [-c CONTAINER] -- COMMAND [ARGS…]')
      .argument('<target>', 'POD or TYPE/NAME')
      .argument('[command...]', 'the command and its arguments, after --')
      .option('-c, --container <name>', 'the container (default: the only or the default one)')
      .option('-i, --stdin', 'pass stdin to the command')
      .option('-t, --tty', 'allocate a terminal (with -i on a terminal: raw mode and resize)')
      .option('-q, --quiet', 'print only what the command prints'),
  ).action(action((kube, target: string, command: string[], flags: ExecFlags) => runExec(kube, [target], flags, command)));
  withKubeFlags(
    program
      .command('port-forward')
      .description('forward local ports to a pod: keel port-forward POD|TYPE/NAME [LOCAL:]REMOTE…')
      .argument('<args...>')
      .option('--address <ip>', 'the loopback address to listen on', '127.0.0.1'),
  ).action(action((kube, args: string[], flags: { address: string }) => runPortForward(kube, args, flags)));
}
