// The RBAC authorizer as a table: rules × requests, then bindings (users, groups,
// ServiceAccounts; ClusterRoleBindings and namespaced RoleBindings), then the 403 wording.
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding } from '@keel/api';
import { describe, expect, it } from 'vitest';
import type { RequestAttributes } from './attributes';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap';
import { forbiddenMessage, RbacAuthorizer, ruleAllows, type RbacSource } from './rbac';
import type { UserInfo } from './user';

const alice: UserInfo = { name: 'alice', groups: ['dev', 'system:authenticated'] };

function req(over: Partial<RequestAttributes>): RequestAttributes {
  return {
    user: alice,
    verb: 'get',
    isResourceRequest: true,
    path: '',
    apiGroup: '',
    apiVersion: 'v1',
    resource: 'pods',
    subresource: '',
    namespace: 'default',
    name: '',
    ...over,
  };
}

describe('ruleAllows', () => {
  const cases: [string, PolicyRule, Partial<RequestAttributes>, boolean][] = [
    ['exact verb, group, resource', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, {}, true],
    ['other verb', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, { verb: 'list' }, false],
    ['verb *', { verbs: ['*'], apiGroups: [''], resources: ['pods'] }, { verb: 'deletecollection' }, true],
    ['watch needs watch', { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }, { verb: 'watch' }, false],
    ['other group', { verbs: ['get'], apiGroups: ['apps'], resources: ['pods'] }, {}, false],
    ['group *', { verbs: ['get'], apiGroups: ['*'], resources: ['deployments'] }, { apiGroup: 'apps', resource: 'deployments' }, true],
    ['no apiGroups matches nothing', { verbs: ['get'], resources: ['pods'] }, {}, false],
    ['resource *', { verbs: ['get'], apiGroups: [''], resources: ['*'] }, { resource: 'secrets' }, true],
    ['resource * covers subresources', { verbs: ['get'], apiGroups: [''], resources: ['*'] }, { subresource: 'log' }, true],
    ['pods does not cover pods/log', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, { subresource: 'log' }, false],
    ['pods/log', { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, { subresource: 'log', name: 'p' }, true],
    ['pods/log does not cover pods', { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, {}, false],
    ['*/status', { verbs: ['update'], apiGroups: ['*'], resources: ['*/status'] }, { verb: 'update', apiGroup: 'apps', resource: 'deployments', subresource: 'status' }, true],
    ['*/status not */scale', { verbs: ['update'], apiGroups: ['*'], resources: ['*/status'] }, { verb: 'update', resource: 'deployments', subresource: 'scale' }, false],
    ['resourceNames match', { verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['a', 'b'] }, { name: 'b' }, true],
    ['resourceNames other name', { verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] }, { name: 'c' }, false],
    ['resourceNames never allow a list', { verbs: ['list'], apiGroups: [''], resources: ['pods'], resourceNames: ['a'] }, { verb: 'list' }, false],
    ['nonResourceURL exact', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, { isResourceRequest: false, path: '/healthz' }, true],
    ['nonResourceURL prefix *', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, { isResourceRequest: false, path: '/apis/apps/v1' }, true],
    ['nonResourceURL other', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, { isResourceRequest: false, path: '/metrics' }, false],
    ['nonResourceURL rules do not allow resources', { verbs: ['*'], nonResourceURLs: ['*'] }, {}, false],
    ['resource rules do not allow paths', { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { isResourceRequest: false, path: '/metrics' }, false],
  ];
  for (const [name, rule, over, want] of cases) {
    it(`${name}: ${want ? 'allowed' : 'denied'}`, () => expect(ruleAllows(rule, req(over))).toBe(want));
  }
});

const RBAC = 'rbac.authorization.k8s.io';
function source(objs: { roles?: Role[]; clusterRoles?: ClusterRole[]; roleBindings?: RoleBinding[]; clusterRoleBindings?: ClusterRoleBinding[] }): RbacSource {
  return {
    clusterRoleBindings: () => objs.clusterRoleBindings ?? [],
    roleBindings: (ns) => (objs.roleBindings ?? []).filter((b) => b.metadata.namespace === ns),
    clusterRole: (name) => (objs.clusterRoles ?? []).find((r) => r.metadata.name === name),
    role: (ns, name) => (objs.roles ?? []).find((r) => r.metadata.namespace === ns && r.metadata.name === name),
  };
}

describe('RbacAuthorizer', () => {
  const podReader: Role = { metadata: { name: 'pod-reader', namespace: 'a' }, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }] };
  const viewer: ClusterRole = { metadata: { name: 'viewer' }, rules: [{ verbs: ['get', 'list'], apiGroups: ['*'], resources: ['*'] }] };
  const rb = (name: string, ns: string, kind: 'Role' | 'ClusterRole', role: string, subjects: RoleBinding['subjects']): RoleBinding => ({
    metadata: { name, namespace: ns },
    roleRef: { apiGroup: RBAC, kind, name: role },
    ...(subjects ? { subjects } : {}),
  });

  it('grants a Role only in the RoleBinding\'s namespace', () => {
    const authz = new RbacAuthorizer(source({ roles: [podReader], roleBindings: [rb('b', 'a', 'Role', 'pod-reader', [{ kind: 'User', name: 'alice' }])] }));
    expect(authz.authorize(req({ namespace: 'a', verb: 'list' })).allowed).toBe(true);
    expect(authz.authorize(req({ namespace: 'b', verb: 'list' })).allowed).toBe(false);
    expect(authz.authorize(req({ namespace: '', verb: 'list' })).allowed).toBe(false);
    expect(authz.authorize(req({ namespace: 'a', verb: 'delete' })).allowed).toBe(false);
    expect(authz.authorize(req({ namespace: 'a', verb: 'list', user: { name: 'bob', groups: [] } })).allowed).toBe(false);
  });

  it('grants a ClusterRole through a RoleBinding in that namespace, and everywhere through a ClusterRoleBinding', () => {
    const inA = new RbacAuthorizer(source({ clusterRoles: [viewer], roleBindings: [rb('b', 'a', 'ClusterRole', 'viewer', [{ kind: 'Group', name: 'dev' }])] }));
    expect(inA.authorize(req({ namespace: 'a', resource: 'secrets' })).allowed).toBe(true);
    expect(inA.authorize(req({ namespace: 'b' })).allowed).toBe(false);
    const everywhere = new RbacAuthorizer(
      source({ clusterRoles: [viewer], clusterRoleBindings: [{ metadata: { name: 'c' }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'viewer' }, subjects: [{ kind: 'Group', name: 'dev' }] }] }),
    );
    expect(everywhere.authorize(req({ namespace: 'b' })).allowed).toBe(true);
    expect(everywhere.authorize(req({ namespace: '', resource: 'nodes' })).allowed).toBe(true);
    expect(everywhere.authorize(req({ namespace: 'b', verb: 'create' })).allowed).toBe(false);
  });

  it('matches ServiceAccount subjects, defaulting their namespace to the binding\'s', () => {
    const robot: UserInfo = { name: 'system:serviceaccount:a:robot', groups: ['system:serviceaccounts', 'system:serviceaccounts:a'] };
    const authz = new RbacAuthorizer(
      source({
        roles: [podReader],
        roleBindings: [rb('b', 'a', 'Role', 'pod-reader', [{ kind: 'ServiceAccount', name: 'robot' }])],
      }),
    );
    expect(authz.authorize(req({ namespace: 'a', user: robot })).allowed).toBe(true);
    const other = new RbacAuthorizer(source({ roles: [podReader], roleBindings: [rb('b', 'a', 'Role', 'pod-reader', [{ kind: 'ServiceAccount', name: 'robot', namespace: 'z' }])] }));
    expect(other.authorize(req({ namespace: 'a', user: robot })).allowed).toBe(false);
    const group = new RbacAuthorizer(source({ roles: [podReader], roleBindings: [rb('b', 'a', 'Role', 'pod-reader', [{ kind: 'Group', name: 'system:serviceaccounts:a' }])] }));
    expect(group.authorize(req({ namespace: 'a', user: robot })).allowed).toBe(true);
  });

  it('ignores bindings to roles that do not exist, and lets system:masters do anything', () => {
    const authz = new RbacAuthorizer(source({ roleBindings: [rb('b', 'a', 'Role', 'missing', [{ kind: 'User', name: 'alice' }])] }));
    expect(authz.authorize(req({ namespace: 'a' })).allowed).toBe(false);
    expect(authz.authorize(req({ user: { name: 'root', groups: ['system:masters'] }, verb: 'delete', resource: 'nodes', namespace: '' })).allowed).toBe(true);
  });

  it('gives the bootstrap identities what they need and no more', () => {
    const authz = new RbacAuthorizer(source({ clusterRoles: bootstrapClusterRoles, clusterRoleBindings: bootstrapClusterRoleBindings }));
    const as = (name: string, groups: string[] = []) => ({ name, groups: [...groups, 'system:authenticated'] });
    const scheduler = as('system:kube-scheduler');
    expect(authz.authorize(req({ user: scheduler, verb: 'create', resource: 'pods', subresource: 'binding', name: 'p' })).allowed).toBe(true);
    expect(authz.authorize(req({ user: scheduler, verb: 'watch', resource: 'nodes', namespace: '' })).allowed).toBe(true);
    expect(authz.authorize(req({ user: scheduler, verb: 'update', apiGroup: 'coordination.k8s.io', resource: 'leases', name: 'kube-scheduler', namespace: 'kube-system' })).allowed).toBe(true);
    expect(authz.authorize(req({ user: scheduler, verb: 'update', apiGroup: 'coordination.k8s.io', resource: 'leases', name: 'other', namespace: 'kube-system' })).allowed).toBe(false);
    expect(authz.authorize(req({ user: scheduler, verb: 'get', resource: 'secrets' })).allowed).toBe(false);
    const kcm = as('system:kube-controller-manager');
    expect(authz.authorize(req({ user: kcm, verb: 'create', apiGroup: 'apps', resource: 'replicasets' })).allowed).toBe(true);
    expect(authz.authorize(req({ user: kcm, verb: 'deletecollection', apiGroup: 'batch', resource: 'jobs' })).allowed).toBe(true);
    expect(authz.authorize(req({ user: kcm, verb: 'create', apiGroup: RBAC, resource: 'clusterrolebindings', namespace: '' })).allowed).toBe(false);
    expect(authz.authorize(req({ user: kcm, verb: 'create', resource: 'pods', subresource: 'exec', name: 'p' })).allowed).toBe(false);
    const node = as('system:node:n1', ['system:nodes']);
    expect(authz.authorize(req({ user: node, verb: 'patch', resource: 'nodes', subresource: 'status', name: 'n1', namespace: '' })).allowed).toBe(true);
    expect(authz.authorize(req({ user: node, verb: 'update', resource: 'pods', subresource: 'status', name: 'p' })).allowed).toBe(true);
    expect(authz.authorize(req({ user: node, verb: 'delete', apiGroup: 'apps', resource: 'deployments', name: 'd' })).allowed).toBe(false);
    const anyone = as('carol');
    expect(authz.authorize(req({ user: anyone, isResourceRequest: false, path: '/apis/apps/v1' })).allowed).toBe(true);
    expect(authz.authorize(req({ user: anyone, verb: 'create', apiGroup: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews', namespace: '' })).allowed).toBe(true);
    expect(authz.authorize(req({ user: anyone, verb: 'list' })).allowed).toBe(false);
  });
});

describe('forbidden messages', () => {
  it('reads as kube-apiserver\'s', () => {
    expect(forbiddenMessage(req({ verb: 'list' }))).toBe('pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"');
    expect(forbiddenMessage(req({ name: 'p', subresource: 'log' }))).toBe(
      'pods "p" is forbidden: User "alice" cannot get resource "pods/log" in API group "" in the namespace "default"',
    );
    expect(forbiddenMessage(req({ verb: 'list', apiGroup: 'apps', resource: 'deployments', namespace: '' }))).toBe(
      'deployments.apps is forbidden: User "alice" cannot list resource "deployments" in API group "apps" at the cluster scope',
    );
    expect(forbiddenMessage(req({ isResourceRequest: false, path: '/metrics' }))).toBe('forbidden: User "alice" cannot get path "/metrics"');
  });
});
