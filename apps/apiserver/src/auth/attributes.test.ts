// Request attributes from REST paths, as kube-apiserver's RequestInfoFactory reads them.
import { describe, expect, it } from 'vitest';
import { isLongRunning, requestAttributes } from './attributes';

const user = { name: 'u', groups: [] };
const attrs = (method: string, url: string) => {
  const u = new URL(url, 'http://x');
  const a = requestAttributes(user, method, u.pathname, u.searchParams);
  return { verb: a.verb, res: a.isResourceRequest, group: a.apiGroup, resource: a.resource, sub: a.subresource, ns: a.namespace, name: a.name };
};

describe('requestAttributes', () => {
  const cases: [string, string, ReturnType<typeof attrs>][] = [
    ['GET', '/api/v1/namespaces/d/pods', { verb: 'list', res: true, group: '', resource: 'pods', sub: '', ns: 'd', name: '' }],
    ['GET', '/api/v1/namespaces/d/pods?watch=true', { verb: 'watch', res: true, group: '', resource: 'pods', sub: '', ns: 'd', name: '' }],
    ['GET', '/api/v1/watch/namespaces/d/pods', { verb: 'watch', res: true, group: '', resource: 'pods', sub: '', ns: 'd', name: '' }],
    ['GET', '/api/v1/namespaces/d/pods/p', { verb: 'get', res: true, group: '', resource: 'pods', sub: '', ns: 'd', name: 'p' }],
    ['GET', '/api/v1/namespaces/d/pods/p/log', { verb: 'get', res: true, group: '', resource: 'pods', sub: 'log', ns: 'd', name: 'p' }],
    // Pod streams are `create` for a WebSocket GET as for a SPDY POST.
    ['GET', '/api/v1/namespaces/d/pods/p/exec?command=sh', { verb: 'create', res: true, group: '', resource: 'pods', sub: 'exec', ns: 'd', name: 'p' }],
    ['GET', '/api/v1/namespaces/d/pods/p/portforward', { verb: 'create', res: true, group: '', resource: 'pods', sub: 'portforward', ns: 'd', name: 'p' }],
    ['POST', '/api/v1/namespaces/d/pods/p/attach', { verb: 'create', res: true, group: '', resource: 'pods', sub: 'attach', ns: 'd', name: 'p' }],
    ['POST', '/api/v1/namespaces/d/pods', { verb: 'create', res: true, group: '', resource: 'pods', sub: '', ns: 'd', name: '' }],
    ['PUT', '/api/v1/namespaces/d/pods/p/status', { verb: 'update', res: true, group: '', resource: 'pods', sub: 'status', ns: 'd', name: 'p' }],
    ['PATCH', '/apis/apps/v1/namespaces/d/deployments/w/scale', { verb: 'patch', res: true, group: 'apps', resource: 'deployments', sub: 'scale', ns: 'd', name: 'w' }],
    ['DELETE', '/api/v1/namespaces/d/configmaps', { verb: 'deletecollection', res: true, group: '', resource: 'configmaps', sub: '', ns: 'd', name: '' }],
    ['DELETE', '/api/v1/namespaces/d/configmaps/c', { verb: 'delete', res: true, group: '', resource: 'configmaps', sub: '', ns: 'd', name: 'c' }],
    ['GET', '/api/v1/pods', { verb: 'list', res: true, group: '', resource: 'pods', sub: '', ns: '', name: '' }],
    ['GET', '/api/v1/nodes/n1', { verb: 'get', res: true, group: '', resource: 'nodes', sub: '', ns: '', name: 'n1' }],
    // A namespace is its own namespace, as in Kubernetes.
    ['GET', '/api/v1/namespaces/d', { verb: 'get', res: true, group: '', resource: 'namespaces', sub: '', ns: 'd', name: 'd' }],
    ['PUT', '/api/v1/namespaces/d/finalize', { verb: 'update', res: true, group: '', resource: 'namespaces', sub: 'finalize', ns: 'd', name: 'd' }],
    ['GET', '/api/v1/namespaces', { verb: 'list', res: true, group: '', resource: 'namespaces', sub: '', ns: '', name: '' }],
    ['POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { verb: 'create', res: true, group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews', sub: '', ns: '', name: '' }],
    ['GET', '/api', { verb: 'get', res: false, group: '', resource: '', sub: '', ns: '', name: '' }],
    ['GET', '/api/v1', { verb: 'get', res: false, group: '', resource: '', sub: '', ns: '', name: '' }],
    ['GET', '/apis/apps/v1', { verb: 'get', res: false, group: '', resource: '', sub: '', ns: '', name: '' }],
    ['GET', '/openapi/v3', { verb: 'get', res: false, group: '', resource: '', sub: '', ns: '', name: '' }],
    ['POST', '/healthz', { verb: 'post', res: false, group: '', resource: '', sub: '', ns: '', name: '' }],
  ];
  for (const [method, url, want] of cases) it(`${method} ${url}`, () => expect(attrs(method, url)).toEqual(want));

  it('marks watches and node streams long-running', () => {
    const of = (method: string, url: string) => {
      const u = new URL(url, 'http://x');
      return isLongRunning(requestAttributes(user, method, u.pathname, u.searchParams));
    };
    expect(of('GET', '/api/v1/pods?watch=1')).toBe(true);
    expect(of('POST', '/api/v1/namespaces/d/pods/p/exec')).toBe(true);
    expect(of('GET', '/api/v1/namespaces/d/pods/p/log')).toBe(true);
    expect(of('GET', '/api/v1/pods')).toBe(false);
  });
});
