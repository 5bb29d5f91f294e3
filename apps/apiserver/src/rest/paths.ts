// Parsing Kubernetes REST paths into the resource, namespace, name and subresource a
// request is about. The shapes are:
//   /api/v1/{resource}[/{name}[/{subresource}]]                       (cluster-scoped, or all namespaces)
//   /api/v1/namespaces/{ns}/{resource}[/{name}[/{subresource}]]       (namespaced)
//   /apis/{group}/{version}/...                                       (the same, for named groups)
// `/api/v1/namespaces/{name}[/{subresource}]` is the Namespace itself: the segment after
// the namespace name decides, since no namespaced resource is called `status` or `finalize`.
import { ApiError, type ResourceInfo, type Scheme } from '@keel/api';

export interface ResourcePath {
  info: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export type ApiPath =
  | { kind: 'resource'; path: ResourcePath }
  | { kind: 'discovery-root'; which: 'api' | 'apis' }
  | { kind: 'discovery-group'; group: string }
  | { kind: 'discovery-version'; group: string; version: string };

/** Parses a URL path; undefined when it is not under /api or /apis. */
export function parseApiPath(scheme: Scheme, pathname: string): ApiPath | undefined {
  const parts = pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api') {
    if (parts.length === 1) return { kind: 'discovery-root', which: 'api' };
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    if (parts.length === 1) return { kind: 'discovery-root', which: 'apis' };
    if (parts.length === 2) return { kind: 'discovery-group', group: parts[1]! };
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  if (rest.length === 0) return { kind: 'discovery-version', group, version };
  const find = (resource: string) => {
    const info = scheme.byGVR({ group, version, resource });
    if (!info) throw notFound();
    return info;
  };
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const maybeResource = scheme.byGVR({ group, version, resource: rest[2]! });
    if (maybeResource && maybeResource.namespaced) {
      if (rest.length > 5) throw notFound();
      return {
        kind: 'resource',
        path: { info: maybeResource, namespace: rest[1]!, ...(rest[3] ? { name: rest[3] } : {}), ...(rest[4] ? { subresource: rest[4] } : {}) },
      };
    }
  }
  if (rest.length > 3) throw notFound();
  const info = find(rest[0]!);
  return { kind: 'resource', path: { info, ...(rest[1] ? { name: rest[1] } : {}), ...(rest[2] ? { subresource: rest[2] } : {}) } };
}

/** What Kubernetes answers for a path it does not serve. */
export function notFound(): ApiError {
  return new ApiError('NotFound', 'the server could not find the requested resource');
}
