// RBAC's guard against privilege escalation, as in Kubernetes: a user may write a Role or
// ClusterRole only with rules they already hold (or with the `escalate` verb on it), and may
// bind a role only if they hold all its rules (or have the `bind` verb on it). Without this,
// anyone allowed to write RBAC objects — a namespace admin, the controller-manager — could
// grant themselves anything. It runs inside the write (a strategy wrapper), on the object as
// it will be stored, so POST, PUT and every kind of PATCH are checked alike. The user comes
// and the check come from the request's async context (set by the security filter); writes
// with none (bootstrap, the insecure port) pass.
import { ApiError, type ClusterRole, type KubeObject, type PolicyRule, type RoleBinding } from '@keel/api';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestAttributes } from './attributes';
import { RbacAuthorizer, ruleAllows, type RbacSource } from './rbac';
import { Groups, type UserInfo } from './user';

const RBAC = 'rbac.authorization.k8s.io';

/** The user of the request being served and the check to run, for deep inside a write. */
export const requestContext = new AsyncLocalStorage<{ user: UserInfo; escalation: EscalationCheck }>();

/** Each rule broken into single (verb, group, resource, name) or (verb, url) rules. */
function breakdown(rule: PolicyRule): Omit<RequestAttributes, 'user'>[] {
  const out: Omit<RequestAttributes, 'user'>[] = [];
  const empty = { path: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
  for (const verb of rule.verbs) {
    for (const path of rule.nonResourceURLs ?? []) out.push({ ...empty, verb, isResourceRequest: false, path });
    for (const apiGroup of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        // `pods/log` stays whole: a rule naming it is covered by `pods/log`, `*/log` or `*`.
        const names = rule.resourceNames?.length ? rule.resourceNames : [''];
        for (const name of names) out.push({ ...empty, verb, isResourceRequest: true, apiGroup, resource, name });
      }
    }
  }
  return out;
}

/** Whether the owner's rules cover every permission of the servant's (Kubernetes' Covers). */
export function covers(owner: PolicyRule[], servant: PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const rule of servant) {
    for (const one of breakdown(rule)) {
      // A '*' in the servant is literal: only a '*' in the owner covers it.
      const ok = owner.some((o) => {
        if (!one.isResourceRequest) return ruleAllows(o, one as RequestAttributes);
        if (!(o.verbs ?? []).some((v) => v === '*' || v === one.verb)) return false;
        if (!(o.apiGroups ?? []).some((g) => g === '*' || g === one.apiGroup)) return false;
        const sub = one.resource.split('/')[1] ?? '';
        if (!(o.resources ?? []).some((r) => r === '*' || r === one.resource || (sub !== '' && r === `*/${sub}`))) return false;
        const names = o.resourceNames ?? [];
        return names.length === 0 || (one.name !== '' && names.includes(one.name));
      });
      if (!ok) {
        missing.push(
          one.isResourceRequest
            ? { verbs: [one.verb], apiGroups: [one.apiGroup], resources: [one.resource], ...(one.name ? { resourceNames: [one.name] } : {}) }
            : { verbs: [one.verb], nonResourceURLs: [one.path] },
        );
      }
    }
  }
  return { covered: missing.length === 0, missing };
}

function describeRule(r: PolicyRule): string {
  if (r.nonResourceURLs?.length) return `{NonResourceURLs:${JSON.stringify(r.nonResourceURLs)}, Verbs:${JSON.stringify(r.verbs)}}`;
  return `{APIGroups:${JSON.stringify(r.apiGroups)}, Resources:${JSON.stringify(r.resources)}${r.resourceNames ? `, ResourceNames:${JSON.stringify(r.resourceNames)}` : ''}, Verbs:${JSON.stringify(r.verbs)}}`;
}

export class EscalationCheck {
  private readonly authorizer: RbacAuthorizer;

  constructor(private readonly source: RbacSource) {
    this.authorizer = new RbacAuthorizer(source);
  }

  private allowedVerb(user: UserInfo, verb: 'escalate' | 'bind', resource: string, namespace: string, name: string): boolean {
    return this.authorizer.authorize({ user, verb, isResourceRequest: true, path: '', apiGroup: RBAC, apiVersion: 'v1', resource, subresource: '', namespace, name }).allowed;
  }

  /** Throws 403 unless the user may store this role. */
  checkRole(user: UserInfo, resource: 'roles' | 'clusterroles', role: KubeObject & { rules?: PolicyRule[] }): void {
    if (user.groups.includes(Groups.masters)) return;
    const namespace = resource === 'roles' ? (role.metadata.namespace ?? '') : '';
    const name = role.metadata.name ?? '';
    if (this.allowedVerb(user, 'escalate', resource, namespace, name)) return;
    const { covered, missing } = covers(this.authorizer.rules(user, namespace), role.rules ?? []);
    if (covered) return;
    const kind = resource === 'roles' ? 'Role' : 'ClusterRole';
    throw new ApiError(
      'Forbidden',
      `${resource}.${RBAC} "${name}" is forbidden: user "${user.name}" (groups=${JSON.stringify(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${missing.map(describeRule).join('\n')}`,
      { name, group: RBAC, kind: resource },
      [{ reason: 'FieldValueForbidden', field: 'rules', message: `the ${kind} grants permissions its author does not hold` }],
    );
  }

  /** Throws 403 unless the user may store this binding. */
  checkBinding(user: UserInfo, resource: 'rolebindings' | 'clusterrolebindings', binding: RoleBinding): void {
    if (user.groups.includes(Groups.masters)) return;
    const namespace = resource === 'rolebindings' ? (binding.metadata.namespace ?? '') : '';
    const ref = binding.roleRef ?? { kind: '', name: '', apiGroup: '' };
    const roleResource = ref.kind === 'ClusterRole' ? 'clusterroles' : 'roles';
    // `bind` on a ClusterRole may be granted in the namespace (RoleBinding) or cluster-wide.
    if (this.allowedVerb(user, 'bind', roleResource, namespace, ref.name)) return;
    const role: ClusterRole | undefined = ref.kind === 'ClusterRole' ? this.source.clusterRole(ref.name) : ref.kind === 'Role' ? this.source.role(namespace, ref.name) : undefined;
    const name = binding.metadata.name ?? '';
    if (role && covers(this.authorizer.rules(user, namespace), role.rules ?? []).covered) return;
    throw new ApiError(
      'Forbidden',
      `${resource}.${RBAC} "${name}" is forbidden: user "${user.name}" (groups=${JSON.stringify(user.groups)}) is attempting to grant RBAC permissions not currently held` +
        (role ? '' : `: ${ref.kind} "${ref.name}" not found`),
      { name, group: RBAC, kind: resource },
    );
  }
}

/** Checks a Role, ClusterRole or binding about to be stored against the request's user. */
export function guardRbacWrite(resource: string, obj: KubeObject): void {
  const ctx = requestContext.getStore();
  if (!ctx) return;
  if (resource === 'roles' || resource === 'clusterroles') ctx.escalation.checkRole(ctx.user, resource, obj);
  else if (resource === 'rolebindings' || resource === 'clusterrolebindings') ctx.escalation.checkBinding(ctx.user, resource, obj as RoleBinding);
}
