// Subresources over REST: status (the observed half of an object), scale (autoscaling/v1
// Scale for Deployments and ReplicaSets) and binding (a pod assigned to a node), whose rules
// live in ../registry/subresources.ts for both adapters, finalize
// (a Namespace's spec.finalizers), eviction (a delete that respects DeleteOptions), and the
// node-side streams (log here; exec, attach, portforward in ./stream.ts), which need a node agent.
import {
  ApiError,
  ApiErrors,
  parsePodLogOptions,
  resolvePodContainer,
  scheme,
  toInvalidError,
  validatePodLogOptions,
  type DeleteOptions,
  type KubeObject,
  type Pod,
  type ResourceInfo,
} from '@keel/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { kubeletGet, kubeletScheme, type KubeletClientConfig } from './kubelet-client';
import type { ApiHandler } from '../registry/handler';
import { bindPod, patchScale, readScale, updateScale } from '../registry/subresources';
import { mediaType, parseBody, readBody } from './body';
import type { RestServer } from './server';
import { podStream } from './stream';

export interface SubresourceRequest {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  info: ResourceInfo;
  namespace: string | undefined;
  name: string;
  query: URLSearchParams;
  handler: ApiHandler;
  rest: RestServer;
}

type SubresourceHandler = (r: SubresourceRequest) => Promise<void>;

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function notAllowed(): never {
  throw new ApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

const status: SubresourceHandler = async ({ req, res, method, info, namespace, name, query, handler, rest }) => {
  if (method === 'GET') return send(res, 200, await handler.get(info, namespace, name));
  if (method === 'PUT') {
    const body = parseBody(await readBody(req), req.headers['content-type']);
    return send(res, 200, await handler.update(info, namespace, name, () => body, { ...rest.writeOptions(query, req), part: 'status' }));
  }
  if (method === 'PATCH') return send(res, 200, (await rest.patch(req, info, namespace, name, query, 'status')).object);
  notAllowed();
};

const scale: SubresourceHandler = async ({ req, res, method, info, namespace, name, handler }) => {
  if (method === 'GET') return send(res, 200, await readScale(handler, info, namespace, name));
  if (method !== 'PUT' && method !== 'PATCH') notAllowed();
  const type = mediaType(req.headers['content-type']);
  const body = parseBody(await readBody(req), method === 'PATCH' && type.endsWith('yaml') ? 'application/yaml' : 'application/json');
  const patchType = type === 'application/json-patch+json' ? 'json' : 'merge';
  const updated = await updateScale(handler, info, namespace, name, method === 'PUT' ? () => body : patchScale(patchType, body));
  return send(res, 200, updated);
};

const binding: SubresourceHandler = async ({ req, res, method, info, namespace, name, handler }) => {
  if (method !== 'POST') notAllowed();
  const body = parseBody(await readBody(req), req.headers['content-type']) as { metadata?: { uid?: string }; target?: { name?: string; kind?: string } };
  await bindPod(handler, info, namespace, name, body?.target?.name ?? '', body?.metadata?.uid ? { uid: body.metadata.uid } : {});
  return send(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
};

const finalize: SubresourceHandler = async ({ req, res, method, info, name, handler }) => {
  if (method !== 'PUT') notAllowed();
  const body = parseBody(await readBody(req), req.headers['content-type']) as { spec?: { finalizers?: string[] } };
  // Only spec.finalizers changes; once empty, a terminating namespace is removed.
  const updated = await handler.update(info, undefined, name, (current) => ({ ...current, spec: { ...(current as { spec?: object }).spec, finalizers: body?.spec?.finalizers ?? [] } }), {
    part: 'finalize',
  });
  return send(res, 200, updated);
};

const eviction: SubresourceHandler = async ({ req, res, method, info, namespace, name, handler }) => {
  if (method !== 'POST') notAllowed();
  const body = parseBody(await readBody(req), req.headers['content-type']) as { deleteOptions?: DeleteOptions };
  await handler.delete(info, namespace, name, body?.deleteOptions ?? {});
  return send(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
};

/**
 * Where a node's agent serves logs and streams: its InternalIP and kubelet endpoint port,
 * over https when the apiserver has a kubelet client config.
 */
async function agentEndpoint(handler: ApiHandler, nodeName: string, kubeletClient: KubeletClientConfig | undefined): Promise<string> {
  const nodes = scheme.lookup('nodes');
  if (!nodes) throw ApiErrors.internal('the scheme has no nodes resource');
  const node = (await handler.get(nodes, undefined, nodeName)) as KubeObject & {
    status?: { addresses?: { type: string; address: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
  };
  const address = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  if (!address || !port) {
    throw new ApiError('ServiceUnavailable', `node "${nodeName}" does not publish its agent's address and port (status.addresses, status.daemonEndpoints)`, {}, [], 5);
  }
  return `${kubeletScheme(kubeletClient)}://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * pods/log: the container's log, streamed from its node's agent (`/containerLogs/...`) as
 * kube-apiserver proxies it to the kubelet. Options are checked here first, so a bad request
 * never reaches the node.
 */
const log: SubresourceHandler = async ({ req, res, method, info, namespace, name, query, handler, rest }) => {
  if (method !== 'GET') notAllowed();
  const options = parsePodLogOptions(query);
  const invalid = toInvalidError({ kind: 'PodLogOptions' }, name, validatePodLogOptions(options));
  if (invalid) throw invalid;
  const pod = (await handler.get(info, namespace, name)) as Pod;
  const container = resolvePodContainer(pod, options.container);
  if (!pod.spec?.nodeName) throw ApiErrors.badRequest(`pod ${name} is not assigned to a node yet`);
  const base = await agentEndpoint(handler, pod.spec.nodeName, rest.kubeletClient);
  const forward = new URLSearchParams();
  for (const key of ['follow', 'previous', 'timestamps', 'tailLines', 'sinceSeconds', 'sinceTime', 'limitBytes']) {
    const value = query.get(key);
    if (value !== null) forward.set(key, value);
  }
  const url = `${base}/containerLogs/${encodeURIComponent(namespace ?? '')}/${encodeURIComponent(name)}/${encodeURIComponent(container)}?${forward}`;
  const aborter = new AbortController();
  req.on('close', () => aborter.abort());
  res.on('close', () => aborter.abort());
  let upstream: IncomingMessage;
  try {
    upstream = await kubeletGet(url, rest.kubeletClient, aborter.signal);
  } catch (err) {
    throw new ApiError('ServiceUnavailable', `cannot reach the agent of node "${pod.spec.nodeName}": ${(err as Error).message}`, {}, [], 5);
  }
  const code = upstream.statusCode ?? 500;
  if (code !== 200) {
    let text = '';
    try {
      for await (const chunk of upstream) text += String(chunk);
    } catch {
      // what came is enough for the message
    }
    throw new ApiError(code === 404 ? 'NotFound' : 'InternalError', text.trim() || `the agent answered ${code}`);
  }
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache' });
  res.on('close', () => upstream.destroy());
  try {
    for await (const chunk of upstream as AsyncIterable<Uint8Array>) {
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    }
  } catch {
    // The client or the agent went away; end what we have.
  }
  res.end();
};

export const subresourceHandlers: Record<string, SubresourceHandler> = {
  status,
  scale,
  binding,
  finalize,
  eviction,
  log,
  exec: podStream('exec', agentEndpoint),
  attach: podStream('attach', agentEndpoint),
  portforward: podStream('portforward', agentEndpoint),
};
