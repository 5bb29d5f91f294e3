// The node endpoint's authentication and authorization decision, without sockets.
import { describe, expect, it } from 'vitest';
import { authorizeNodeRequest, certIdentity, DEFAULT_NODE_AUTH, type TlsPeer } from './node-auth';

const peer = (subject: Record<string, string | string[]>, authorized = true): TlsPeer => ({
  authorized,
  authorizationError: authorized ? null : 'UNABLE_TO_GET_ISSUER_CERT',
  certificate: { subject: subject as never },
});

describe('node endpoint authorization', () => {
  it('lets the apiserver kubelet client and system:masters through', () => {
    expect(authorizeNodeRequest('GET', '/containerLogs/default/p/c', peer({ CN: 'kube-apiserver-kubelet-client', O: 'system:masters' }), DEFAULT_NODE_AUTH)).toEqual({
      allowed: true,
      identity: { user: 'kube-apiserver-kubelet-client', groups: ['system:masters'] },
    });
    expect(authorizeNodeRequest('POST', '/exec/default/p/c', peer({ CN: 'kubernetes-admin', O: ['dev', 'system:masters'] }), DEFAULT_NODE_AUTH).allowed).toBe(true);
    // The user alone is enough, without the group.
    expect(authorizeNodeRequest('GET', '/exec/default/p/c', peer({ CN: 'kube-apiserver-kubelet-client' }), DEFAULT_NODE_AUTH).allowed).toBe(true);
  });

  it('answers 401 without a certificate or with one the CA did not sign', () => {
    expect(authorizeNodeRequest('GET', '/exec/default/p/c', { authorized: false, certificate: {} }, DEFAULT_NODE_AUTH)).toEqual({
      allowed: false,
      code: 401,
      message: 'Unauthorized: no client certificate',
    });
    const other = authorizeNodeRequest('GET', '/containerLogs/a/b/c', peer({ CN: 'kube-apiserver-kubelet-client', O: 'system:masters' }, false), DEFAULT_NODE_AUTH);
    expect(other).toMatchObject({ allowed: false, code: 401 });
    expect(other.allowed || other.message).toContain('UNABLE_TO_GET_ISSUER_CERT');
  });

  it('answers 403 to a verified certificate whose user and groups are not listed', () => {
    const node = authorizeNodeRequest('GET', '/portForward/default/p', peer({ CN: 'system:node:n1', O: 'system:nodes' }), DEFAULT_NODE_AUTH);
    expect(node).toEqual({ allowed: false, code: 403, message: 'Forbidden: user "system:node:n1" (groups system:nodes) may not use the node endpoint (portForward)' });
    expect(authorizeNodeRequest('GET', '/exec/a/b/c', peer({ CN: 'bob' }), { users: ['alice'], groups: [] })).toMatchObject({ code: 403 });
    expect(authorizeNodeRequest('GET', '/exec/a/b/c', peer({ CN: 'bob', O: 'ops' }), { users: [], groups: ['ops'] }).allowed).toBe(true);
  });

  it('leaves only GET /healthz open', () => {
    const anonymous: TlsPeer = { authorized: false, certificate: {} };
    expect(authorizeNodeRequest('GET', '/healthz', anonymous, DEFAULT_NODE_AUTH).allowed).toBe(true);
    expect(authorizeNodeRequest('POST', '/healthz', anonymous, DEFAULT_NODE_AUTH)).toMatchObject({ code: 401 });
    expect(authorizeNodeRequest('GET', '/healthz/../exec', anonymous, DEFAULT_NODE_AUTH)).toMatchObject({ code: 401 });
  });

  it('reads CN and every O entry, and nothing from a certificate without a CN', () => {
    expect(certIdentity({ subject: { CN: 'u', O: ['a', 'b'] } as never })).toEqual({ user: 'u', groups: ['a', 'b'] });
    expect(certIdentity({ subject: { O: 'a' } as never })).toBeUndefined();
    expect(certIdentity(undefined)).toBeUndefined();
    expect(authorizeNodeRequest('GET', '/exec/a/b/c', peer({ O: 'system:masters' }), DEFAULT_NODE_AUTH)).toMatchObject({ code: 401 });
  });
});
