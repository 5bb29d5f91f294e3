// Impersonation: each Impersonate-* header authorized on its own; the result is the user.
import type { ClusterRole, ClusterRoleBinding } from '@keel/api';
import { describe, expect, it } from 'vitest';
import { impersonate } from './impersonation';
import { RbacAuthorizer } from './rbac';

const RBAC = 'rbac.authorization.k8s.io';
const role: ClusterRole = {
  metadata: { name: 'impersonator' },
  rules: [
    { verbs: ['impersonate'], apiGroups: [''], resources: ['users'], resourceNames: ['alice'] },
    { verbs: ['impersonate'], apiGroups: [''], resources: ['groups'], resourceNames: ['dev'] },
    { verbs: ['impersonate'], apiGroups: [''], resources: ['serviceaccounts'] },
  ],
};
const binding: ClusterRoleBinding = { metadata: { name: 'b' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'impersonator' }, subjects: [{ kind: 'User', name: 'carol' }] };
const authz = new RbacAuthorizer({ clusterRoleBindings: () => [binding], roleBindings: () => [], clusterRole: () => role, role: () => undefined });
const carol = { name: 'carol', groups: ['system:authenticated'] };

describe('impersonate', () => {
  it('is the requester without headers', () => {
    expect(impersonate(carol, {}, authz)).toBe(carol);
  });

  it('becomes the user and groups it may impersonate', () => {
    expect(impersonate(carol, { 'impersonate-user': 'alice', 'impersonate-group': 'dev' }, authz)).toEqual({ name: 'alice', groups: ['dev', 'system:authenticated'] });
    expect(impersonate(carol, { 'impersonate-user': 'system:serviceaccount:a:robot' }, authz)).toEqual({
      name: 'system:serviceaccount:a:robot',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:a', 'system:authenticated'],
    });
  });

  it('refuses what it may not impersonate, with the RBAC wording', () => {
    expect(() => impersonate(carol, { 'impersonate-user': 'bob' }, authz)).toThrow('users "bob" is forbidden: User "carol" cannot impersonate resource "users" in API group "" at the cluster scope');
    expect(() => impersonate(carol, { 'impersonate-user': 'alice', 'impersonate-group': 'system:masters' }, authz)).toThrow(
      'groups "system:masters" is forbidden: User "carol" cannot impersonate resource "groups" in API group "" at the cluster scope',
    );
    expect(() => impersonate({ name: 'dave', groups: [] }, { 'impersonate-user': 'alice' }, authz)).toThrow(/cannot impersonate/);
    expect(() => impersonate(carol, { 'impersonate-group': 'dev' }, authz)).toThrow('without impersonating a user');
  });
});
