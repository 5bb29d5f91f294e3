// The transport-neutral side of Security, as the gRPC adapter uses it: authenticate a call's
// credentials, authorize resource attributes, and run the work counted and guarded.
import { ApiError, scheme } from '@keel/api';
import { describe, expect, it } from 'vitest';
import type { ApiHandler } from '../registry/handler';
import { Authenticator } from './authenticator';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap';
import { EscalationCheck, requestContext } from './escalation';
import { InflightLimiter } from './inflight';
import { RbacAuthorizer, type RbacSource } from './rbac';
import { Security } from './security';

const source: RbacSource = {
  clusterRoleBindings: () => bootstrapClusterRoleBindings,
  roleBindings: () => [],
  clusterRole: (name) => bootstrapClusterRoles.find((r) => r.metadata.name === name),
  role: () => undefined,
};
const inflight = new InflightLimiter({ readOnly: 1, mutating: 1 });
const security = new Security({
  scheme,
  handler: {} as ApiHandler,
  authenticator: new Authenticator({ tokens: new Map([['t', { name: 'bob', groups: [] }]]) }),
  authorizer: new RbacAuthorizer(source),
  escalation: new EscalationCheck(source),
  inflight,
});

describe('Security for other adapters', () => {
  it('authenticates a verified peer certificate or a token, and refuses anonymous calls', async () => {
    expect(await security.authenticateCall({ verifiedPeerCertificate: { subject: { CN: 'system:node:n1', O: 'system:nodes' } } })).toEqual({
      name: 'system:node:n1',
      groups: ['system:nodes', 'system:authenticated'],
    });
    expect((await security.authenticateCall({ authorization: 'Bearer t' })).name).toBe('bob');
    await expect(security.authenticateCall({})).rejects.toMatchObject({ reason: 'Unauthorized' });
    await expect(security.authenticateCall({ authorization: 'Bearer nope' })).rejects.toMatchObject({ reason: 'Unauthorized' });
  });

  it('authorizes resource attributes with the REST wording', () => {
    const node = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
    expect(() => security.authorizeResource(node, { verb: 'watch', group: '', resource: 'pods' })).not.toThrow();
    let err: unknown;
    try {
      security.authorizeResource(node, { verb: 'delete', group: 'apps', resource: 'deployments', namespace: 'a', name: 'web' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe('deployments.apps "web" is forbidden: User "system:node:n1" cannot delete resource "deployments" in API group "apps" in the namespace "a"');
  });

  it('runs work counted in flight and inside the escalation context', async () => {
    const bob = { name: 'bob', groups: ['system:authenticated'] };
    let release!: () => void;
    const held = security.runAs(bob, () => new Promise<void>((r) => (release = r)), { readOnly: true });
    await expect(security.runAs(bob, async () => 1, { readOnly: true })).rejects.toMatchObject({ reason: 'TooManyRequests' });
    expect(await security.runAs(bob, async () => requestContext.getStore()?.user.name, { readOnly: false })).toBe('bob');
    expect(await security.runAs(bob, async () => 2, { readOnly: true, longRunning: true })).toBe(2);
    release();
    await held;
    expect(inflight.inFlight).toEqual({ readOnly: 0, mutating: 0 });
  });
});
