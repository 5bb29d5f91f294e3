// Subresources over REST: status (the observed half of an object), scale (autoscaling/v1
// Scale for Deployments and ReplicaSets), binding (a pod assigned to a node), finalize
// (a Namespace's spec.finalizers), eviction (a delete that respects DeleteOptions), and the
// node-side streams (log, exec, attach, portforward), which need a node agent.
import { ApiError, ApiErrors, applyJsonPatch, applyMergePatch, deepCopy, type DeleteOptions, type KubeObject, type PatchJsonValue, type ResourceInfo } from '@keel/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiHandler } from '../registry/handler';
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

interface Scalable extends KubeObject {
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } };
  status?: { replicas?: number };
}

/** The autoscaling/v1 Scale view of a Deployment or ReplicaSet. */
function toScale(obj: Scalable) {
  const labels = obj.spec?.selector?.matchLabels ?? {};
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: obj.spec?.replicas ?? 0 },
    status: {
      replicas: obj.status?.replicas ?? 0,
      selector: Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    },
  };
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
  if (method === 'GET') return send(res, 200, toScale((await handler.get(info, namespace, name)) as Scalable));
  if (method !== 'PUT' && method !== 'PATCH') notAllowed();
  const type = mediaType(req.headers['content-type']);
  const body = parseBody(await readBody(req), method === 'PATCH' && type.endsWith('yaml') ? 'application/yaml' : 'application/json');
  const updated = await handler.update(info, namespace, name, (current) => {
    const cur = current as Scalable;
    let desired: ReturnType<typeof toScale>;
    if (method === 'PUT') {
      desired = body as ReturnType<typeof toScale>;
      if (desired?.metadata?.resourceVersion && desired.metadata.resourceVersion !== cur.metadata.resourceVersion) {
        throw ApiErrors.conflict({ group: info.group, resource: info.resource }, name, 'the object has been modified; please apply your changes to the latest version and try again');
      }
    } else if (type === 'application/json-patch+json') {
      desired = applyJsonPatch(toScale(cur) as unknown as PatchJsonValue, body) as unknown as ReturnType<typeof toScale>;
    } else {
      // merge and strategic merge patches mean the same for Scale, which has no lists.
      desired = applyMergePatch(toScale(cur) as unknown as PatchJsonValue, body as PatchJsonValue) as unknown as ReturnType<typeof toScale>;
    }
    const replicas = desired?.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw ApiErrors.invalid({ group: 'autoscaling', kind: 'Scale' }, name, [
        { reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0`, field: 'spec.replicas' },
      ]);
    }
    const next = deepCopy(cur);
    next.spec = { ...next.spec, replicas };
    delete next.metadata.resourceVersion;
    return next;
  });
  return send(res, 200, toScale(updated as Scalable));
};

const binding: SubresourceHandler = async ({ req, res, method, info, namespace, name, handler }) => {
  if (method !== 'POST') notAllowed();
  const body = parseBody(await readBody(req), req.headers['content-type']) as { target?: { name?: string; kind?: string } };
  const node = body?.target?.name;
  if (!node) {
    throw ApiErrors.invalid({ kind: 'Binding' }, name, [{ reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' }]);
  }
  await bindPod(handler, info, namespace, name, node);
  return send(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
};

/** Assigns a pod to a node once: a pod already bound elsewhere is a 409. */
export async function bindPod(handler: ApiHandler, info: ResourceInfo, namespace: string | undefined, name: string, node: string): Promise<KubeObject> {
  return handler.update(info, namespace, name, (current) => {
    const pod = current as KubeObject & { spec?: { nodeName?: string } };
    if (pod.metadata.deletionTimestamp) {
      throw ApiErrors.conflict({ resource: 'pods' }, name, 'pod is being deleted, cannot be assigned to a host');
    }
    if (pod.spec?.nodeName) {
      throw ApiErrors.conflict({ resource: 'pods' }, name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
    }
    return { ...pod, spec: { ...pod.spec, nodeName: node } };
  }, { serverSide: true });
}

const finalize: SubresourceHandler = async ({ req, res, method, info, name, handler }) => {
  if (method !== 'PUT') notAllowed();
  const body = parseBody(await readBody(req), req.headers['content-type']) as { spec?: { finalizers?: string[] } };
  const updated = await handler.update(info, undefined, name, (current) => {
    const ns = current as KubeObject & { spec?: { finalizers?: string[] } };
    return { ...ns, spec: { ...ns.spec, finalizers: body?.spec?.finalizers ?? [] } };
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
