// Subresources over REST: status (the observed half of an object), scale (autoscaling/v1
// Scale for Deployments and ReplicaSets) and binding (a pod assigned to a node), whose rules
// live in ../registry/subresources.ts for both adapters, finalize
// (a Namespace's spec.finalizers), eviction (a delete that respects DeleteOptions), and the
// node-side streams (log, exec, attach, portforward), which need a node agent.
import { ApiError, ApiErrors, type DeleteOptions, type KubeObject, type ResourceInfo } from '@keel/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiHandler } from '../registry/handler';
import { bindPod, patchScale, readScale, updateScale } from '../registry/subresources';
import { mediaType, parseBody, readBody } from './body';
import type { RestServer } from './server';

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

const nodeStream: SubresourceHandler = async ({ info, namespace, name, handler }) => {
  const pod = (await handler.get(info, namespace, name)) as KubeObject & { spec?: { nodeName?: string } };
  const node = pod.spec?.nodeName;
  if (!node) throw ApiErrors.badRequest(`pod ${name} is not assigned to a node yet`);
  throw new ApiError('ServiceUnavailable', `no node agent is serving node "${node}": streams (logs, exec, attach, port-forward) go through the node's keel-agent`, {}, [], 5);
};

export const subresourceHandlers: Record<string, SubresourceHandler> = {
  status,
  scale,
  binding,
  finalize,
  eviction,
  log: nodeStream,
  exec: nodeStream,
  attach: nodeStream,
  portforward: nodeStream,
};
