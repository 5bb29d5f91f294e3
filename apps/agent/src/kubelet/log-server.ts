// The agent's HTTP endpoint, what kubelet's port 10250 serves for `kubectl logs`:
//   GET /containerLogs/<namespace>/<pod>/<container>?follow=true&tailLines=N&timestamps=true
//       &previous=true&sinceSeconds=S&sinceTime=RFC3339
// answers the container's log as plain text (chunked while following), read from the CRI
// log file with libs/cri's reader; /healthz answers ok. The container is found through CRI
// labels (namespace, pod name, container name), newest attempt, or the one before it with
// `previous`. Streams for pods/exec, pods/attach and pods/portforward, as upgrade requests
// (WebSocket or SPDY/3.1, GET or POST):
//   /exec/<ns>/<pod>/<container>?command=…&command=…&stdin=true&stdout=true&stderr=true&tty=false
//   /attach/<ns>/<pod>/<container>?stdin=…&stdout=…&stderr=…&tty=…
//   /portForward/<ns>/<pod>[?port=8080]
// are proxied byte for byte (libs/httpstream) to the single-use URL containerd's stream
// server hands out, so the protocol is whatever the client and containerd agree on (SPDY,
// or WebSocket v4.channel.k8s.io and below) — except WebSocket v5.channel.k8s.io, which
// containerd 1.6 lacks: the agent answers that itself and speaks SPDY to containerd
// (./stream-v5.ts). The apiserver proxies pods/log and these streams to it.
// With `tls` it serves HTTPS (kubelet's --tls-cert-file) and, given a client CA, refuses
// every request but GET /healthz before routing: 401 without a certificate that CA signed,
// 403 for one whose user and groups are not authorized (./node-auth.ts). Without `tls` it
// is plain HTTP with no authentication (tests, hollow nodes): anyone who reaches it can exec.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { formatRfc3339Nano, readLogs } from '@keel/cri';
import { forwardUpgrade, isUpgradeRequest, serveUpgradesAsRequests, takeUpgrade, writeRawResponse } from '@keel/httpstream';
import type { Runtime } from './runtime';
import { Labels, podLogDir } from './cri-config';
import { authorizeNodeRequest, type NodeAuthPolicy } from './node-auth';
import { bridgePortForwardTunnel, bridgeV5, offersTunnel, offersV5, type StreamFlags } from './stream-v5';

export interface LogServerTls {
  /** Serving certificate (PEM, with its chain) and key. */
  cert: string | Buffer;
  key: string | Buffer;
  /** CA of the client certificates to require; without it, anyone may call (HTTPS only). */
  clientCa?: string | Buffer;
  /** Who, among verified callers, may use the endpoint. */
  authorized: NodeAuthPolicy;
}

export interface LogServerOptions {
  cri: Runtime;
  rootDir: string;
  tls?: LogServerTls;
  /** Told of each refused request (at debug level: a scanner must not flood the log). */
  onRefused?: (entry: { code: number; path: string; remote?: string; message: string }) => void;
}

function fail(res: ServerResponse, code: number, message: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${message}\n`);
}

async function serveLogs(opts: LogServerOptions, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const parts = url.pathname.split('/').slice(2).map(decodeURIComponent);
  if (parts.length !== 3 || parts.some((p) => !p)) return fail(res, 400, 'expected /containerLogs/<namespace>/<pod>/<container>');
  const [namespace, podName, container] = parts as [string, string, string];
  const q = url.searchParams;
  const containers = await opts.cri.listContainers({
    label_selector: { [Labels.podNamespace]: namespace, [Labels.podName]: podName, [Labels.containerName]: container },
  });
  containers.sort((a, b) => (b.metadata?.attempt ?? 0) - (a.metadata?.attempt ?? 0));
  const previous = q.get('previous') === 'true';
  const target = containers[previous ? 1 : 0];
  if (!target) return fail(res, 404, previous ? `previous terminated container "${container}" in pod "${podName}" not found` : `container "${container}" in pod "${podName}" not found`);
  const uid = target.labels[Labels.podUid]!;
  const path = join(podLogDir(opts.rootDir, { metadata: { namespace, name: podName, uid } }), container, `${target.metadata?.attempt ?? 0}.log`);

  const tail = q.has('tailLines') ? Number(q.get('tailLines')) : undefined;
  const since = q.has('sinceSeconds') ? new Date(Date.now() - Number(q.get('sinceSeconds')) * 1000) : q.has('sinceTime') ? new Date(q.get('sinceTime')!) : undefined;
  const timestamps = q.get('timestamps') === 'true';
  const follow = q.get('follow') === 'true' && !previous;
  const abort = new AbortController();
  req.on('close', () => abort.abort());
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', ...(follow ? { 'Transfer-Encoding': 'chunked' } : {}) });
  try {
    for await (const line of readLogs(path, { tail: tail !== undefined && tail >= 0 ? tail : undefined, since, follow, signal: abort.signal })) {
      res.write(`${timestamps ? `${formatRfc3339Nano(line.time)} ` : ''}${line.text}\n`);
      // While following, stop as soon as the container is gone.
    }
  } catch (err) {
    if (!abort.signal.aborted) res.write(`error reading logs: ${(err as Error).message}\n`);
  }
  res.end();
}

/** The newest container of a pod by name (and the pod's sandbox). */
async function findContainer(opts: LogServerOptions, namespace: string, podName: string, container: string) {
  const list = await opts.cri.listContainers({
    state: { state: 'CONTAINER_RUNNING' },
    label_selector: { [Labels.podNamespace]: namespace, [Labels.podName]: podName, [Labels.containerName]: container },
  });
  return list.sort((a, b) => (b.metadata?.attempt ?? 0) - (a.metadata?.attempt ?? 0))[0];
}

async function serveStream(opts: LogServerOptions, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const [kind, ...parts] = url.pathname.split('/').slice(1).map(decodeURIComponent);
  const q = url.searchParams;
  const flag = (name: string) => q.get(name) === 'true' || q.get(name) === '1';
  if (!isUpgradeRequest(req)) return fail(res, 400, `${kind} needs a connection upgrade (WebSocket or SPDY/3.1)`);
  let location: string;
  let v5: StreamFlags | undefined;
  if (kind === 'portForward') {
    const [namespace, podName] = parts;
    if (parts.length !== 2 || !namespace || !podName) return fail(res, 400, 'expected /portForward/<namespace>/<pod>');
    const ports = [...q.getAll('port'), ...q.getAll('ports')].flatMap((p) => p.split(',')).filter(Boolean).map(Number);
    if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) return fail(res, 400, `invalid port in ${q.toString()}`);
    const sandbox = (await opts.cri.listPodSandbox({ state: { state: 'SANDBOX_READY' }, label_selector: { [Labels.podNamespace]: namespace, [Labels.podName]: podName } }))[0];
    if (!sandbox) return fail(res, 404, `pod "${podName}" has no running sandbox on this node`);
    location = await opts.cri.portForward(sandbox.id, ports);
  } else {
    const [namespace, podName, container] = parts;
    if (parts.length !== 3 || !namespace || !podName || !container) return fail(res, 400, `expected /${kind}/<namespace>/<pod>/<container>`);
    const target = await findContainer(opts, namespace, podName, container);
    if (!target) return fail(res, 404, `container "${container}" in pod "${podName}" is not running`);
    const tty = flag('tty');
    // A terminal merges stderr into stdout; CRI refuses both at once.
    const streams = { tty, stdin: flag('stdin'), stdout: q.has('stdout') ? flag('stdout') : true, stderr: !tty && (q.has('stderr') ? flag('stderr') : true) };
    if (offersV5(req)) v5 = streams;
    if (kind === 'exec') {
      const cmd = q.getAll('command');
      if (!cmd.length) return fail(res, 400, 'exec needs at least one command parameter');
      location = await opts.cri.exec({ container_id: target.id, cmd, ...streams });
    } else {
      location = await opts.cri.attach({ container_id: target.id, ...streams });
    }
  }
  const client = takeUpgrade(req);
  if (!client) return fail(res, 400, `${kind}: the upgrade must come on a fresh connection`);
  // Proxy the single-use URL rather than redirect to it (kubelet's default): the stream
  // server listens on the node IP only, and clients need not follow redirects.
  try {
    if (v5) return await bridgeV5(req, client, location, v5);
    if (kind === 'portForward' && offersTunnel(req)) return await bridgePortForwardTunnel(req, client, location);
    const out = await forwardUpgrade(req, client, { url: location });
    if (!out.upgraded) {
      // containerd answers a subprotocol it does not speak (v5.channel.k8s.io, kubectl's
      // WebSocket port-forward tunnel) with a bare 403; say what was refused, so the
      // client's fallback to SPDY logs something useful.
      const offered = req.headers['sec-websocket-protocol'];
      const text = out.body.trim() || `the runtime's stream server refused the ${kind} upgrade (HTTP ${out.statusCode})${offered ? `; subprotocols offered: ${offered}` : ''}`;
      writeRawResponse(client.socket, out.statusCode, { 'Content-Type': out.headers['content-type'] ?? 'text/plain; charset=utf-8' }, `${text}\n`);
    }
  } catch (err) {
    writeRawResponse(client.socket, 502, { 'Content-Type': 'text/plain; charset=utf-8' }, `cannot reach the runtime's stream server: ${(err as Error).message}\n`);
  }
}

export function createLogServer(opts: LogServerOptions): Server | HttpsServer {
  const requireClientCert = opts.tls?.clientCa !== undefined;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    if (requireClientCert) {
      // Checked here rather than by the TLS handshake (rejectUnauthorized), so that a caller
      // without a certificate gets a 401 it can read and /healthz stays open.
      const socket = req.socket as TLSSocket;
      const decision = authorizeNodeRequest(req.method, url.pathname, {
        authorized: socket.authorized,
        authorizationError: socket.authorizationError,
        certificate: socket.getPeerCertificate(),
      }, opts.tls!.authorized);
      if (!decision.allowed) {
        opts.onRefused?.({ code: decision.code, path: url.pathname, remote: socket.remoteAddress, message: decision.message });
        return fail(res, decision.code, decision.message);
      }
    }
    if (/^\/(exec|attach|portForward)\//.test(url.pathname) && (req.method === 'GET' || req.method === 'POST')) {
      serveStream(opts, req, res, url).catch((err) => (res.headersSent ? res.end() : fail(res, 500, (err as Error).message)));
      return;
    }
    if (req.method !== 'GET') return fail(res, 405, 'only GET');
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return void res.end('ok');
    }
    if (url.pathname.startsWith('/containerLogs/')) {
      serveLogs(opts, req, res, url).catch((err) => {
        if (!res.headersSent) fail(res, 500, (err as Error).message);
        else res.end();
      });
      return;
    }
    fail(res, 404, 'not found');
  };
  const server = opts.tls
    ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key, ...(opts.tls.clientCa ? { ca: opts.tls.clientCa, requestCert: true, rejectUnauthorized: false } : {}) }, handle)
    : createServer(handle);
  serveUpgradesAsRequests(server);
  return server;
}
