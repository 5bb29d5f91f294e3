// The security filter in front of the REST adapter, in kube-apiserver's order:
// authenticate → (anonymous only to health and version) → impersonation → max in flight → authorize (RBAC)
// → the review endpoints and TokenRequest it serves itself, or on to the router.
// Also: the RBAC source over the handler's watch caches (no store trip per decision) and the
// bootstrap policy written at startup.
import { ApiError, labelSelectorAsQuery, storeKey, type ClusterRole, type ClusterRoleBinding, type KubeObject, type ResourceInfo, type Role, type RoleBinding, type Scheme } from '@keel/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ApiHandler } from '../registry/handler';
import { impersonate } from './impersonation';
import { isLongRunning, isReadOnly, requestAttributes } from './attributes';
import type { Authenticator, Credentials } from './authenticator';
import type { ClientCertificate } from './x509';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap';
import { EscalationCheck, requestContext } from './escalation';
import type { InflightLimiter } from './inflight';
import { forbiddenMessage, RbacAuthorizer, type RbacSource } from './rbac';
import { issueTokenRequest, reviewDiscovery, selfSubjectAccessReview, selfSubjectReview, selfSubjectRulesReview, tokenRequest, type ReviewDeps } from './reviews';
import { Groups, type UserInfo } from './user';

/** What anonymous requests may reach; everything else answers 401. */
const PUBLIC_PATHS = /^\/(healthz|livez|readyz|version)(\/.*)?$/;

export interface SecurityOptions {
  scheme: Scheme;
  handler: ApiHandler;
  authenticator: Authenticator;
  authorizer: RbacAuthorizer;
  /** Guards RBAC writes against privilege escalation (runs inside the write). */
  escalation?: EscalationCheck;
  inflight?: InflightLimiter;
  tokens?: ReviewDeps['tokens'];
  now?: () => Date;
  log?: (entry: Record<string, unknown>) => void;
}

const users = new WeakMap<IncomingMessage, UserInfo>();

/** The authenticated user of a request that passed the filter. */
export function requestUser(req: IncomingMessage): UserInfo | undefined {
  return users.get(req);
}

/** What a TLS connection (or a plain one) says about the client. */
export function credentialsOf(req: IncomingMessage): Credentials {
  const creds: Credentials = {};
  const socket = req.socket as Partial<TLSSocket>;
  if (socket.encrypted && typeof socket.getPeerCertificate === 'function') {
    const cert = socket.getPeerCertificate();
    if (cert && Object.keys(cert).length > 0) creds.certificate = { cert, verified: socket.authorized === true };
  }
  if (req.headers.authorization !== undefined) creds.authorization = req.headers.authorization;
  return creds;
}

export class Security {
  private readonly deps: ReviewDeps;

  constructor(private readonly opts: SecurityOptions) {
    this.deps = {
      authorizer: opts.authorizer,
      handler: opts.handler,
      scheme: opts.scheme,
      now: opts.now ?? (() => new Date()),
      ...(opts.tokens ? { tokens: opts.tokens } : {}),
    };
  }

  // ---- for other adapters (the gRPC API): the same decisions, without HTTP ----

  /**
   * The user a call's credentials name: a client certificate its transport verified (grpc-js
   * reports one in getAuthContext().sslPeerCertificate only when it verified it), or a bearer
   * token. Calls without credentials are 401: only HTTP health paths are public.
   */
  async authenticateCall(creds: { authorization?: string; verifiedPeerCertificate?: ClientCertificate }): Promise<UserInfo> {
    const { user, anonymous } = await this.opts.authenticator.authenticate({
      ...(creds.authorization !== undefined ? { authorization: creds.authorization } : {}),
      ...(creds.verifiedPeerCertificate ? { certificate: { cert: creds.verifiedPeerCertificate, verified: true } } : {}),
    });
    if (anonymous) throw new ApiError('Unauthorized', 'Unauthorized');
    return user;
  }

  /** Throws a 403 with Kubernetes' wording unless RBAC allows the user this resource request. */
  authorizeResource(
    user: UserInfo,
    a: { verb: string; group: string; version?: string; resource: string; subresource?: string; namespace?: string; name?: string },
  ): void {
    const attrs = {
      user,
      verb: a.verb,
      isResourceRequest: true,
      path: '',
      apiGroup: a.group,
      apiVersion: a.version ?? '',
      resource: a.resource,
      subresource: a.subresource ?? '',
      namespace: a.namespace ?? '',
      name: a.name ?? '',
    };
    if (!this.opts.authorizer.authorize(attrs).allowed) {
      throw new ApiError('Forbidden', forbiddenMessage(attrs), { kind: a.resource, group: a.group, ...(a.name ? { name: a.name } : {}) });
    }
  }

  /**
   * Runs an authorized call's work as the user: counted in flight (unless long-running, or
   * the user is in system:masters) and under RBAC's escalation guard.
   */
  async runAs<T>(user: UserInfo, work: () => Promise<T>, opts: { readOnly: boolean; longRunning?: boolean }): Promise<T> {
    const exempt = opts.longRunning === true || user.groups.includes(Groups.masters) || !this.opts.inflight;
    const release = exempt ? undefined : this.opts.inflight!.acquire(opts.readOnly);
    try {
      return this.opts.escalation ? await requestContext.run({ user, escalation: this.opts.escalation }, work) : await work();
    } finally {
      release?.();
    }
  }

  /** TokenRequest for an already authorized call (keel.v1's Create on serviceaccounts/token). */
  tokenRequest(namespace: string, name: string, body: unknown): Promise<Record<string, unknown>> {
    return issueTokenRequest(namespace, name, body, this.deps);
  }

  /** Groups this filter serves, for the REST server's discovery. */
  readonly discovery = reviewDiscovery;

  /** The RestServer filter. */
  readonly filter = async (req: IncomingMessage, res: ServerResponse, next: () => Promise<void>): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = (req.method ?? 'GET').toUpperCase();
    let authn;
    try {
      authn = await this.opts.authenticator.authenticate(credentialsOf(req));
    } catch (err) {
      this.opts.log?.({ msg: 'unauthorized', uri: req.url, why: (err as { why?: string }).why });
      throw err;
    }
    const { anonymous } = authn;
    // `kubectl --as`: the rest of the request runs as the impersonated user.
    const user = anonymous ? authn.user : impersonate(authn.user, req.headers, this.opts.authorizer);
    users.set(req, user);
    if (anonymous) {
      if (method === 'GET' && PUBLIC_PATHS.test(path)) return next();
      throw new ApiError('Unauthorized', 'Unauthorized');
    }
    const attrs = requestAttributes(user, method, path, url.searchParams);
    const exempt = isLongRunning(attrs) || user.groups.includes(Groups.masters);
    const release = exempt || !this.opts.inflight ? undefined : this.opts.inflight.acquire(isReadOnly(attrs.verb));
    try {
      const decision = this.opts.authorizer.authorize(attrs);
      if (!decision.allowed) {
        const qualified = attrs.isResourceRequest ? { kind: attrs.resource, group: attrs.apiGroup, ...(attrs.name ? { name: attrs.name } : {}) } : {};
        throw new ApiError('Forbidden', forbiddenMessage(attrs), qualified);
      }
      if (method === 'POST' && attrs.isResourceRequest) {
        if (attrs.apiGroup === 'authorization.k8s.io' && attrs.resource === 'selfsubjectaccessreviews' && !attrs.name) {
          return await selfSubjectAccessReview(req, res, user, this.deps);
        }
        if (attrs.apiGroup === 'authorization.k8s.io' && attrs.resource === 'selfsubjectrulesreviews' && !attrs.name) {
          return await selfSubjectRulesReview(req, res, user, this.deps);
        }
        if (attrs.apiGroup === 'authentication.k8s.io' && attrs.resource === 'selfsubjectreviews' && !attrs.name) {
          return await selfSubjectReview(req, res, user);
        }
        if (attrs.apiGroup === '' && attrs.resource === 'serviceaccounts' && attrs.subresource === 'token' && attrs.namespace && attrs.name) {
          return await tokenRequest(req, res, attrs.namespace, attrs.name, this.deps);
        }
      }
      if (this.opts.escalation) await requestContext.run({ user, escalation: this.opts.escalation }, next);
      else await next();
    } finally {
      release?.();
    }
  };
}

/** Roles and bindings as the watch caches hold them: always current, never a store round trip. */
export async function watchCacheRbacSource(handler: ApiHandler, scheme: Scheme): Promise<RbacSource> {
  const info = (name: string) => {
    const found = scheme.lookup(`${name}.rbac.authorization.k8s.io`);
    if (!found) throw new Error(`scheme has no ${name}.rbac.authorization.k8s.io`);
    return found;
  };
  const [roles, clusterRoles, roleBindings, clusterRoleBindings] = ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'].map(info) as [
    ResourceInfo,
    ResourceInfo,
    ResourceInfo,
    ResourceInfo,
  ];
  const caches = [roles, clusterRoles, roleBindings, clusterRoleBindings].map((i) => handler.cache(i));
  await Promise.all(caches.map((c) => c.start()));
  const [roleCache, clusterRoleCache, roleBindingCache, clusterRoleBindingCache] = caches as [
    (typeof caches)[0],
    (typeof caches)[0],
    (typeof caches)[0],
    (typeof caches)[0],
  ];
  // RoleBindings by namespace, rebuilt only when the cache has moved on (every change
  // advances its revision), so a decision looks at one namespace's bindings, not all.
  let indexedAt = -1;
  let index = new Map<string, RoleBinding[]>();
  const bindingsByNamespace = () => {
    if (roleBindingCache.revision !== indexedAt) {
      index = new Map();
      for (const o of roleBindingCache.objects.values()) {
        const ns = o.metadata.namespace ?? '';
        index.set(ns, [...(index.get(ns) ?? []), o as RoleBinding]);
      }
      indexedAt = roleBindingCache.revision;
    }
    return index;
  };
  return {
    clusterRoleBindings: () => clusterRoleBindingCache.objects.values() as Iterable<ClusterRoleBinding>,
    roleBindings: (namespace: string) => bindingsByNamespace().get(namespace) ?? [],
    clusterRole: (name) => {
      const role = clusterRoleCache.objects.get(storeKey(clusterRoles, undefined, name)) as ClusterRole | undefined;
      const selectors = role?.aggregationRule?.clusterRoleSelectors;
      if (!role || !selectors?.length) return role;
      // An aggregated ClusterRole has the rules of every ClusterRole its selectors pick, read
      // here rather than written back by a controller, so it is never stale.
      const queries = selectors.map((sel) => labelSelectorAsQuery(sel));
      const rules = [...clusterRoleCache.objects.values()]
        .filter((o) => o !== role && queries.some((q) => q.matches(o.metadata.labels ?? {})))
        .flatMap((o) => (o as ClusterRole).rules ?? []);
      return { ...role, rules };
    },
    role: (namespace, name) => roleCache.objects.get(storeKey(roles, namespace, name)) as Role | undefined,
  };
}

/** Creates each bootstrap ClusterRole and ClusterRoleBinding that does not exist yet. */
export async function ensureBootstrapPolicy(handler: ApiHandler, scheme: Scheme): Promise<string[]> {
  const created: string[] = [];
  // The newest revision written per resource: the authorizer reads the watch caches, so the
  // server is not ready to authorize until they hold what was just written (a request right
  // after startup would otherwise be refused for want of system:basic-user).
  const written = new Map<string, number>();
  const put = async (resource: string, obj: KubeObject) => {
    const info = scheme.lookup(`${resource}.rbac.authorization.k8s.io`)!;
    try {
      const stored = await handler.create(info, undefined, obj);
      created.push(`${resource}/${obj.metadata.name}`);
      written.set(resource, Math.max(written.get(resource) ?? 0, Number(stored.metadata.resourceVersion)));
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
    }
  };
  await Promise.all(bootstrapClusterRoles.map((r) => put('clusterroles', r)));
  await Promise.all(bootstrapClusterRoleBindings.map((b) => put('clusterrolebindings', b)));
  for (const [resource, revision] of written) {
    await handler.cache(scheme.lookup(`${resource}.rbac.authorization.k8s.io`)!).waitFor(revision, { timeoutMs: 30_000 });
  }
  return created;
}
