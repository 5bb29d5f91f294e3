// RBAC: the request is allowed when some rule of some role bound to the user allows it.
// ClusterRoleBindings grant their ClusterRole everywhere; a RoleBinding grants its Role (or a
// ClusterRole) only in its own namespace. Subjects are users, groups, and ServiceAccounts
// (`system:serviceaccount:<ns>:<name>`). Members of system:masters are allowed everything
// before RBAC is asked, as in kube-apiserver. Nothing here does I/O: the roles and bindings
// come from an RbacSource (the watch caches, in the server), so a decision costs no store trip.
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from '@keel/api';
import type { RequestAttributes } from './attributes';
import { Groups, serviceAccountUserName, type UserInfo } from './user';

export interface RbacSource {
  clusterRoleBindings(): Iterable<ClusterRoleBinding>;
  roleBindings(namespace: string): Iterable<RoleBinding>;
  clusterRole(name: string): ClusterRole | undefined;
  role(namespace: string, name: string): Role | undefined;
}

export interface Decision {
  allowed: boolean;
  /** Why, when allowed: which binding and role. Empty when denied (RBAC has no opinion). */
  reason: string;
}

function subjectMatches(subject: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name === user.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount':
      // A ServiceAccount subject without a namespace means the binding's own.
      return user.name === serviceAccountUserName(subject.namespace || bindingNamespace, subject.name);
    default:
      return false;
  }
}

function appliesTo(subjects: Subject[] | undefined, user: UserInfo, bindingNamespace: string): boolean {
  return (subjects ?? []).some((s) => subjectMatches(s, user, bindingNamespace));
}

const has = (list: string[] | undefined, value: string) => (list ?? []).some((v) => v === '*' || v === value);

function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (rule.resources ?? []).some((r) => r === '*' || r === combined || (subresource !== '' && r === `*/${subresource}`));
}

function nonResourceUrlMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))));
}

/** Whether one rule allows the request (kube-apiserver's RuleAllows). */
export function ruleAllows(rule: PolicyRule, attrs: Omit<RequestAttributes, 'user'>): boolean {
  if (!has(rule.verbs, attrs.verb)) return false;
  if (!attrs.isResourceRequest) return nonResourceUrlMatches(rule, attrs.path);
  if (!has(rule.apiGroups, attrs.apiGroup)) return false;
  if (!resourceMatches(rule, attrs.resource, attrs.subresource)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(attrs.name);
}

/** The rules that apply to a user in a namespace ('' = cluster scope), with where each comes from. */
export function* applicableRules(source: RbacSource, user: UserInfo, namespace: string): Generator<{ rule: PolicyRule; from: string }> {
  for (const binding of source.clusterRoleBindings()) {
    if (!appliesTo(binding.subjects, user, '') || binding.roleRef.kind !== 'ClusterRole') continue;
    const role = source.clusterRole(binding.roleRef.name);
    const from = `ClusterRoleBinding "${binding.metadata.name}" of ClusterRole "${binding.roleRef.name}"`;
    for (const rule of role?.rules ?? []) yield { rule, from };
  }
  if (!namespace) return;
  for (const binding of source.roleBindings(namespace)) {
    if (!appliesTo(binding.subjects, user, namespace)) continue;
    const ref = binding.roleRef;
    const role = ref.kind === 'ClusterRole' ? source.clusterRole(ref.name) : ref.kind === 'Role' ? source.role(namespace, ref.name) : undefined;
    const from = `RoleBinding "${binding.metadata.name}/${namespace}" of ${ref.kind} "${ref.name}"`;
    for (const rule of role?.rules ?? []) yield { rule, from };
  }
}

export class RbacAuthorizer {
  constructor(private readonly source: RbacSource) {}

  authorize(attrs: RequestAttributes): Decision {
    if (attrs.user.groups.includes(Groups.masters)) return { allowed: true, reason: `member of ${Groups.masters}` };
    for (const { rule, from } of applicableRules(this.source, attrs.user, attrs.isResourceRequest ? attrs.namespace : '')) {
      if (ruleAllows(rule, attrs)) return { allowed: true, reason: `RBAC: allowed by ${from}` };
    }
    return { allowed: false, reason: '' };
  }

  /** Every rule that applies to the user in the namespace (SelfSubjectRulesReview). */
  rules(user: UserInfo, namespace: string): PolicyRule[] {
    if (user.groups.includes(Groups.masters)) return [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }];
    return [...applicableRules(this.source, user, namespace)].map((r) => r.rule);
  }
}

/** kube-apiserver's wording for a denial: `User "alice" cannot list resource "pods" in API group "" in the namespace "default"`. */
export function forbiddenReason(attrs: RequestAttributes): string {
  const user = attrs.user.name;
  if (!attrs.isResourceRequest) return `User "${user}" cannot ${attrs.verb} path "${attrs.path}"`;
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  if (attrs.namespace) return `User "${user}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" in the namespace "${attrs.namespace}"`;
  return `User "${user}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" at the cluster scope`;
}

/** The whole Status message: `pods is forbidden: ...` or `pods "p" is forbidden: ...`. */
export function forbiddenMessage(attrs: RequestAttributes): string {
  const reason = forbiddenReason(attrs);
  if (!attrs.isResourceRequest) return `forbidden: ${reason}`;
  const qualified = attrs.apiGroup ? `${attrs.resource}.${attrs.apiGroup}` : attrs.resource;
  return attrs.name ? `${qualified} "${attrs.name}" is forbidden: ${reason}` : `${qualified} is forbidden: ${reason}`;
}
