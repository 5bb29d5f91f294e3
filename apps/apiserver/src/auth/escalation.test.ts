// The escalation guard: Covers as Kubernetes defines it, and the role and binding checks
// (own rules, or the escalate/bind verbs).
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding } from '@keel/api';
import { describe, expect, it } from 'vitest';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap';
import { covers, EscalationCheck } from './escalation';
import type { RbacSource } from './rbac';

describe('covers', () => {
  const cases: [string, PolicyRule[], PolicyRule[], boolean][] = [
    ['equal rules', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], true],
    ['a subset of verbs', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }], [{ verbs: ['list'], apiGroups: [''], resources: ['pods'] }], true],
    ['a missing verb', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods'] }], false],
    ['* covers anything', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], [{ verbs: ['*'], apiGroups: ['apps'], resources: ['deployments/scale'] }], true],
    ['a literal * needs a *', [{ verbs: ['get', 'list', 'create'], apiGroups: [''], resources: ['pods'] }], [{ verbs: ['*'], apiGroups: [''], resources: ['pods'] }], false],
    ['resource * needs *', [{ verbs: ['get'], apiGroups: [''], resources: ['pods', 'secrets'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['*'] }], false],
    ['*/status covers pods/status', [{ verbs: ['update'], apiGroups: [''], resources: ['*/status'] }], [{ verbs: ['update'], apiGroups: [''], resources: ['pods/status'] }], true],
    ['named rules are covered by unnamed', [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['x'] }], true],
    ['unnamed rules are not covered by named', [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['x'] }], [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }], false],
    ['URLs by prefix', [{ verbs: ['get'], nonResourceURLs: ['/apis/*'] }], [{ verbs: ['get'], nonResourceURLs: ['/apis/apps'] }], true],
    ['URLs missing', [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }], [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }], false],
  ];
  for (const [name, owner, servant, want] of cases) it(name, () => expect(covers(owner, servant).covered).toBe(want));

  it('says what is missing', () => {
    expect(covers([{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods'] }]).missing).toEqual([
      { verbs: ['delete'], apiGroups: [''], resources: ['pods'] },
    ]);
  });
});

describe('EscalationCheck', () => {
  const RBAC = 'rbac.authorization.k8s.io';
  const roleBindings: RoleBinding[] = [
    { metadata: { name: 'alice-admin', namespace: 'a' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'admin' }, subjects: [{ kind: 'User', name: 'alice' }] },
  ];
  const binder: ClusterRole = { metadata: { name: 'binder' }, rules: [{ verbs: ['bind'], apiGroups: [RBAC], resources: ['clusterroles'], resourceNames: ['view'] }] };
  const crbs: ClusterRoleBinding[] = [
    ...bootstrapClusterRoleBindings,
    { metadata: { name: 'carol-binder' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'binder' }, subjects: [{ kind: 'User', name: 'carol' }] },
  ];
  const source: RbacSource = {
    clusterRoleBindings: () => crbs,
    roleBindings: (ns) => roleBindings.filter((b) => b.metadata.namespace === ns),
    clusterRole: (name) => [...bootstrapClusterRoles, binder].find((r) => r.metadata.name === name),
    role: () => undefined,
  };
  const check = new EscalationCheck(source);
  const alice = { name: 'alice', groups: ['system:authenticated'] };
  const role = (rules: PolicyRule[]): Role => ({ metadata: { name: 'r', namespace: 'a' }, rules });
  const binding = (ns: string, roleName: string): RoleBinding => ({ metadata: { name: 'b', namespace: ns }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: roleName }, subjects: [{ kind: 'User', name: 'x' }] });

  it('lets a namespace admin write roles and bindings within their own permissions', () => {
    expect(() => check.checkRole(alice, 'roles', role([{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]))).not.toThrow();
    expect(() => check.checkBinding(alice, 'rolebindings', binding('a', 'edit'))).not.toThrow();
  });

  it('refuses grants beyond them', () => {
    expect(() => check.checkRole(alice, 'roles', role([{ verbs: ['list'], apiGroups: [''], resources: ['nodes'] }]))).toThrow(
      /roles.rbac.authorization.k8s.io "r" is forbidden: user "alice" .* is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["nodes"\], Verbs:\["list"\]\}/,
    );
    expect(() => check.checkBinding(alice, 'rolebindings', binding('a', 'cluster-admin'))).toThrow(/is attempting to grant RBAC permissions not currently held/);
    expect(() => check.checkBinding(alice, 'rolebindings', binding('b', 'view'))).toThrow(/not currently held/);
    expect(() => check.checkBinding(alice, 'rolebindings', binding('a', 'no-such-role'))).toThrow(/ClusterRole "no-such-role" not found/);
    const kcm = { name: 'system:kube-controller-manager', groups: ['system:authenticated'] };
    expect(() => check.checkBinding(kcm, 'clusterrolebindings', { ...binding('', 'cluster-admin'), metadata: { name: 'cluster-admin' } })).toThrow(/not currently held/);
  });

  it('lets the bind verb stand in for holding the permissions, and system:masters do anything', () => {
    const carol = { name: 'carol', groups: ['system:authenticated'] };
    expect(() => check.checkBinding(carol, 'rolebindings', binding('z', 'view'))).not.toThrow();
    expect(() => check.checkBinding(carol, 'rolebindings', binding('z', 'edit'))).toThrow(/not currently held/);
    expect(() => check.checkBinding({ name: 'root', groups: ['system:masters'] }, 'clusterrolebindings', binding('', 'cluster-admin'))).not.toThrow();
  });
});
