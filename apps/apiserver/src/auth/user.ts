// Who a request comes from, as Kubernetes' authenticators describe it: a name, a uid, groups
// and extra attributes. Every authenticator produces one; the authorizer reads one.

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** The groups Kubernetes gives meaning to. */
export const Groups = {
  /** Allowed everything, before RBAC is asked (kube-apiserver's privileged group). */
  masters: 'system:masters',
  authenticated: 'system:authenticated',
  unauthenticated: 'system:unauthenticated',
  serviceAccounts: 'system:serviceaccounts',
  nodes: 'system:nodes',
} as const;

export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: [Groups.unauthenticated] };

/** Everyone authenticated is in system:authenticated, exactly once. */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.groups.includes(Groups.authenticated)) return user;
  return { ...user, groups: [...user.groups, Groups.authenticated] };
}

export const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

/** `system:serviceaccount:<ns>:<name>`. */
export function serviceAccountUserName(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_PREFIX}${namespace}:${name}`;
}

/** The groups of a ServiceAccount's user. */
export function serviceAccountGroups(namespace: string): string[] {
  return [Groups.serviceAccounts, `${Groups.serviceAccounts}:${namespace}`, Groups.authenticated];
}
