// pods/exec, pods/attach and pods/portforward: the streams kubectl opens with an HTTP
// upgrade (SPDY/3.1 from kubectl 1.20; WebSocket v5.channel.k8s.io and a SPDY tunnel for
// port-forward from 1.33; channel.k8s.io v1-v5 from client libraries). By the time a
// request gets here the security filter has authenticated it and RBAC has allowed `create` on the subresource
// (for GET too: see auth/attributes.ts). This checks the pod (exists, bound to a node,
// and Running for exec/attach), then forwards the upgrade byte for byte (libs/httpstream)
// to the node's agent, which takes it to containerd's stream server (byte for byte, or
// translating WebSocket v5 and port-forward's WebSocket tunnel to SPDY, which containerd
// 1.6 lacks). A refusal anywhere on the way reaches the client as a meta/v1 Status with
// the HTTP code, which is also what makes a client fall back from WebSocket to SPDY.
import { ApiError, ApiErrors, resolvePodContainer, type Pod, type Status } from '@keel/api';
import { canTakeUpgrade, forwardUpgrade, isUpgradeRequest, takeUpgrade, writeRawResponse } from '@keel/httpstream';
import type { Duplex } from 'node:stream';
import type { ApiHandler } from '../registry/handler';
import { kubeletUpgradeTls, type KubeletClientConfig } from './kubelet-client';
import type { SubresourceRequest } from './subresources';

export type PodStreamKind = 'exec' | 'attach' | 'portforward';

/** The meta/v1 Status of an error, written on a raw connection (after the socket was taken). */
function writeStatus(socket: Duplex, err: ApiError): void {
  writeRawResponse(socket, err.httpStatus, { 'Content-Type': 'application/json' }, JSON.stringify(err.toStatus()));
}

const REASON_OF_CODE: Record<number, ApiError['reason']> = { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 503: 'ServiceUnavailable' };

/** The agent's (or containerd's) refusal as an ApiError: its Status if it sent one, else its text. */
function refusal(statusCode: number, body: string, node: string): ApiError {
  try {
    const status = JSON.parse(body) as Status;
    if (status.kind === 'Status' && status.message) return new ApiError(REASON_OF_CODE[statusCode] ?? 'InternalError', status.message);
  } catch {
    // not JSON: plain text from the agent or the stream server
  }
  const text = body.trim() || `the agent of node "${node}" answered ${statusCode}`;
  return new ApiError(REASON_OF_CODE[statusCode] ?? 'InternalError', text);
}

function flag(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

/** The agent path and query for the stream, from the client's query (checked here, as kube-apiserver does). */
function agentPath(kind: PodStreamKind, pod: Pod, q: URLSearchParams): string {
  const ns = encodeURIComponent(pod.metadata.namespace ?? '');
  const name = encodeURIComponent(pod.metadata.name ?? '');
  if (kind === 'portforward') {
    const forward = new URLSearchParams();
    for (const p of q.getAll('ports').flatMap((v) => v.split(','))) {
      const n = Number(p);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw ApiErrors.badRequest(`invalid port "${p}": ports must be 1-65535`);
      forward.append('port', String(n));
    }
    return `/portForward/${ns}/${name}${forward.size ? `?${forward}` : ''}`;
  }
  const container = resolvePodContainer(pod, q.get('container') ?? undefined);
  const forward = new URLSearchParams();
  if (kind === 'exec') {
    const command = q.getAll('command');
    if (command.length === 0) throw ApiErrors.badRequest('you must specify at least 1 command');
    for (const c of command) forward.append('command', c);
  }
  const streams = { stdin: flag(q, 'stdin'), stdout: flag(q, 'stdout'), stderr: flag(q, 'stderr'), tty: flag(q, 'tty') };
  if (!streams.stdin && !streams.stdout && !streams.stderr) throw ApiErrors.badRequest('you must specify at least 1 of stdin, stdout, stderr');
  for (const [k, v] of Object.entries(streams)) forward.set(k, String(v));
  return `/${kind}/${ns}/${name}/${encodeURIComponent(container)}?${forward}`;
}

/** The handler of one stream subresource; `agentEndpoint` finds the node's agent as pods/log does. */
export function podStream(kind: PodStreamKind, agentEndpoint: (handler: ApiHandler, nodeName: string, kubeletClient: KubeletClientConfig | undefined) => Promise<string>) {
  return async ({ req, method, info, namespace, name, query, handler, rest }: SubresourceRequest): Promise<void> => {
    if (method !== 'GET' && method !== 'POST') throw new ApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    const pod = (await handler.get(info, namespace, name)) as Pod;
    const node = pod.spec?.nodeName;
    if (!node) throw ApiErrors.badRequest(`pod ${name} is not assigned to a node yet`);
    if (kind !== 'portforward') {
      const phase = pod.status?.phase ?? 'Pending';
      if (phase === 'Succeeded' || phase === 'Failed') throw ApiErrors.badRequest(`cannot ${kind} into a container in a completed pod; current phase is ${phase}`);
      if (phase !== 'Running') throw ApiErrors.badRequest(`unable to upgrade connection: pod ${name} is not running; current phase is ${phase}`);
    }
    const path = agentPath(kind, pod, query);
    if (!isUpgradeRequest(req) || !canTakeUpgrade(req)) throw ApiErrors.badRequest('Upgrade request required');
    const base = await agentEndpoint(handler, node, rest.kubeletClient);
    const client = takeUpgrade(req)!;
    try {
      const out = await forwardUpgrade(req, client, { url: `${base}${path}`, ...kubeletUpgradeTls(rest.kubeletClient) });
      if (!out.upgraded) writeStatus(client.socket, refusal(out.statusCode, out.body, node));
    } catch (err) {
      writeStatus(client.socket, new ApiError('ServiceUnavailable', `cannot reach the agent of node "${node}": ${(err as Error).message}`));
    }
  };
}
