// The attributes an authorization decision is about, read from the REST path and method the
// way kube-apiserver's RequestInfoFactory reads them (no scheme needed):
//   /api/v1/namespaces/{ns}/{resource}/{name}/{subresource}, /apis/{group}/{version}/...
// The verb comes from the method and the path's shape: GET of a collection is list (watch
// with ?watch=true), GET of one object is get, POST create, PUT update, PATCH patch, DELETE
// delete (deletecollection on a collection). Anything else is a non-resource request,
// authorized by path (nonResourceURLs) with the lower-cased method as verb. Opening a pod
// stream (exec, attach, portforward) is `create` whatever the method: a WebSocket upgrade
// is a GET, and `get` must not be enough to run commands (as Kubernetes ≥ 1.35 requires).
import type { UserInfo } from './user';

export interface RequestAttributes {
  user: UserInfo;
  verb: string;
  isResourceRequest: boolean;
  /** The URL path, for non-resource requests and messages. */
  path: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

// Namespace subresources: /api/v1/namespaces/{name}/status is the namespace's own status.
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
const POD_STREAMS = new Set(['exec', 'attach', 'portforward']);
const VERB_OF_METHOD: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete', GET: 'get', HEAD: 'get' };

/** The request's attributes; `query` holds ?watch for the list/watch distinction. */
export function requestAttributes(user: UserInfo, method: string, path: string, query: URLSearchParams): RequestAttributes {
  const base: RequestAttributes = {
    user,
    verb: method.toLowerCase(),
    isResourceRequest: false,
    path,
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
  };
  const parts = path.split('/').filter((p) => p !== '');
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    base.apiVersion = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    base.apiGroup = parts[1]!;
    base.apiVersion = parts[2]!;
    rest = parts.slice(3);
  } else {
    return base;
  }
  // Discovery of a group version (/api/v1, /apis/apps/v1) is a non-resource request.
  if (rest.length === 0) return { ...base, apiGroup: '', apiVersion: '' };
  const verb = VERB_OF_METHOD[method.toUpperCase()];
  if (!verb) return base;
  const attrs: RequestAttributes = { ...base, isResourceRequest: true, verb };
  // The legacy /watch/ prefix: GET /api/v1/watch/namespaces/x/pods.
  if (rest[0] === 'watch') {
    rest = rest.slice(1);
    attrs.verb = 'watch';
  }
  if (rest[0] === 'namespaces' && rest.length > 1) {
    attrs.namespace = decodeURIComponent(rest[1]!);
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) rest = rest.slice(2);
  }
  attrs.resource = rest[0] ?? '';
  if (rest.length >= 2) attrs.name = decodeURIComponent(rest[1]!);
  if (rest.length >= 3) attrs.subresource = rest[2]!;
  const collection = rest.length < 2;
  if (collection && attrs.verb === 'get') attrs.verb = 'list';
  if (collection && attrs.verb === 'delete') attrs.verb = 'deletecollection';
  if (attrs.resource === 'pods' && POD_STREAMS.has(attrs.subresource) && attrs.apiGroup === '') attrs.verb = 'create';
  const watch = query.get('watch');
  if ((attrs.verb === 'list' || attrs.verb === 'get') && (watch === 'true' || watch === '1')) attrs.verb = 'watch';
  return attrs;
}

/** Verbs that change nothing: they count against the read-only in-flight limit. */
export function isReadOnly(verb: string): boolean {
  return verb === 'get' || verb === 'list' || verb === 'watch';
}

/**
 * Requests that stay open (watches, log follows, exec and port-forward streams) are not
 * counted in flight: a limit on them would be a limit on watchers, not on load.
 */
export function isLongRunning(attrs: RequestAttributes): boolean {
  if (attrs.verb === 'watch') return true;
  return attrs.resource === 'pods' && ['log', 'exec', 'attach', 'portforward', 'proxy'].includes(attrs.subresource);
}
