// Impersonation (`kubectl --as alice --as-group dev`): an authenticated user with the
// `impersonate` verb on users, groups, serviceaccounts (and uids, userextras in
// authentication.k8s.io) may act as someone else through the Impersonate-* headers. Each
// header is authorized on its own, as kube-apiserver does; the request then runs as the
// impersonated user, who must in turn be allowed what the request does.
import { ApiError, ApiErrors } from '@keel/api';
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestAttributes } from './attributes';
import { forbiddenMessage, type RbacAuthorizer } from './rbac';
import { parseServiceAccountUser } from './serviceaccount-token';
import { Groups, serviceAccountGroups, type UserInfo } from './user';

const EXTRA_PREFIX = 'impersonate-extra-';

function headerValues(headers: IncomingHttpHeaders, name: string): string[] {
  const v = headers[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

/** The user a request impersonates, or the requester itself when it impersonates nobody. */
export function impersonate(requester: UserInfo, headers: IncomingHttpHeaders, authorizer: RbacAuthorizer): UserInfo {
  const userHeader = headers['impersonate-user'];
  const groups = headerValues(headers, 'impersonate-group');
  const uid = headers['impersonate-uid'];
  const extraKeys = Object.keys(headers).filter((h) => h.startsWith(EXTRA_PREFIX));
  if (userHeader === undefined) {
    if (groups.length > 0 || uid !== undefined || extraKeys.length > 0) {
      throw ApiErrors.badRequest('requested impersonation of groups, uid or extra without impersonating a user');
    }
    return requester;
  }
  const name = Array.isArray(userHeader) ? userHeader[0]! : userHeader;
  const check = (resource: string, apiGroup: string, resourceName: string, namespace = '') => {
    const attrs: RequestAttributes = {
      user: requester,
      verb: 'impersonate',
      isResourceRequest: true,
      path: '',
      apiGroup,
      apiVersion: '',
      resource,
      subresource: '',
      namespace,
      name: resourceName,
    };
    if (!authorizer.authorize(attrs).allowed) throw new ApiError('Forbidden', forbiddenMessage(attrs), { kind: resource, group: apiGroup, name: resourceName });
  };
  const sa = parseServiceAccountUser(name);
  if (sa) check('serviceaccounts', '', sa.name, sa.namespace);
  else check('users', '', name);
  for (const g of groups) check('groups', '', g);
  const uidValue = Array.isArray(uid) ? uid[0] : uid;
  if (uidValue !== undefined) check('uids', 'authentication.k8s.io', uidValue);
  const extra: Record<string, string[]> = {};
  for (const h of extraKeys) {
    const key = decodeURIComponent(h.slice(EXTRA_PREFIX.length));
    extra[key] = headerValues(headers, h);
    for (const value of extra[key]) check(`userextras/${key}`, 'authentication.k8s.io', value);
  }
  // A ServiceAccount brings its own groups; anyone impersonated is authenticated.
  const all = [...(sa ? serviceAccountGroups(sa.namespace) : []), ...groups];
  if (!all.includes(Groups.authenticated) && name !== 'system:anonymous') all.push(Groups.authenticated);
  return { name, groups: [...new Set(all)], ...(uidValue !== undefined ? { uid: uidValue } : {}), ...(extraKeys.length ? { extra } : {}) };
}
