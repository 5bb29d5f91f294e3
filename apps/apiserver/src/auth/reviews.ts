// The endpoints security serves itself, outside the scheme's resources:
//  - authorization.k8s.io/v1 SelfSubjectAccessReview ("may I?", `kubectl auth can-i`) and
//    SelfSubjectRulesReview (`kubectl auth can-i --list`);
//  - authentication.k8s.io/v1 SelfSubjectReview ("who am I?", `kubectl auth whoami`);
//  - the TokenRequest subresource, POST .../serviceaccounts/{name}/token, which signs a
//    ServiceAccount token bound to audiences, a lifetime and optionally a pod;
// and the discovery documents of the two groups.
import { ApiError, ApiErrors, type APIGroup, type APIResourceList, type KubeObject, type ResourceInfo, type Scheme } from '@keel/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiHandler } from '../registry/handler';
import { formatTimestamp } from '../registry/handler';
import { parseBody, readBody } from '../rest/body';
import type { RequestAttributes } from './attributes';
import type { RbacAuthorizer } from './rbac';
import type { TokenIssuer } from './serviceaccount-token';
import type { UserInfo } from './user';

export interface DiscoveryGroup {
  group: APIGroup;
  resources: APIResourceList[];
}

function discoveryGroup(name: string, resources: { name: string; kind: string }[]): DiscoveryGroup {
  const version = { groupVersion: `${name}/v1`, version: 'v1' };
  return {
    group: { kind: 'APIGroup', apiVersion: 'v1', name, versions: [version], preferredVersion: version },
    resources: [
      {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: `${name}/v1`,
        resources: resources.map((r) => ({ name: r.name, singularName: r.kind.toLowerCase(), namespaced: false, kind: r.kind, verbs: ['create'] })),
      },
    ],
  };
}

export const reviewDiscovery: DiscoveryGroup[] = [
  discoveryGroup('authentication.k8s.io', [{ name: 'selfsubjectreviews', kind: 'SelfSubjectReview' }]),
  discoveryGroup('authorization.k8s.io', [
    { name: 'selfsubjectaccessreviews', kind: 'SelfSubjectAccessReview' },
    { name: 'selfsubjectrulesreviews', kind: 'SelfSubjectRulesReview' },
  ]),
];

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

type Body = { apiVersion?: string; kind?: string; metadata?: Record<string, unknown>; spec?: Record<string, unknown> };

async function readReview(req: IncomingMessage, apiVersion: string, kind: string): Promise<Body> {
  const raw = await readBody(req);
  // kubectl 1.33's typed clients send these bodies as protobuf, which parseBody reads too.
  const body = parseBody(raw, req.headers['content-type']) as Body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw ApiErrors.badRequest('the body of the request must be a JSON or YAML object');
  if (body.kind !== kind || body.apiVersion !== apiVersion) {
    throw ApiErrors.badRequest(`expected ${apiVersion} ${kind}, got ${body.apiVersion ?? '<no apiVersion>'} ${body.kind ?? '<no kind>'}`);
  }
  return body;
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

export interface ReviewDeps {
  authorizer: RbacAuthorizer;
  handler: ApiHandler;
  scheme: Scheme;
  tokens?: { issuer: TokenIssuer; audiences: string[]; maxExpirationSeconds: number };
  now: () => Date;
}

/** POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews. */
export async function selfSubjectAccessReview(req: IncomingMessage, res: ServerResponse, user: UserInfo, deps: ReviewDeps): Promise<void> {
  const apiVersion = 'authorization.k8s.io/v1';
  const body = await readReview(req, apiVersion, 'SelfSubjectAccessReview');
  const spec = body.spec ?? {};
  const ra = spec['resourceAttributes'] as Record<string, unknown> | undefined;
  const na = spec['nonResourceAttributes'] as Record<string, unknown> | undefined;
  if ((ra === undefined) === (na === undefined)) {
    throw ApiErrors.invalid({ group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview' }, '', [
      { reason: 'FieldValueRequired', field: 'spec.resourceAttributes', message: 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified' },
    ]);
  }
  const attrs: RequestAttributes = ra
    ? {
        user,
        verb: str(ra['verb']),
        isResourceRequest: true,
        path: '',
        apiGroup: str(ra['group']),
        apiVersion: str(ra['version']),
        resource: str(ra['resource']),
        subresource: str(ra['subresource']),
        namespace: str(ra['namespace']),
        name: str(ra['name']),
      }
    : { user, verb: str(na!['verb']), isResourceRequest: false, path: str(na!['path']), apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
  const decision = deps.authorizer.authorize(attrs);
  send(res, 201, {
    apiVersion,
    kind: 'SelfSubjectAccessReview',
    metadata: { creationTimestamp: null },
    spec,
    status: { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) },
  });
}

/** POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews. */
export async function selfSubjectRulesReview(req: IncomingMessage, res: ServerResponse, user: UserInfo, deps: ReviewDeps): Promise<void> {
  const apiVersion = 'authorization.k8s.io/v1';
  const body = await readReview(req, apiVersion, 'SelfSubjectRulesReview');
  const namespace = str(body.spec?.['namespace']);
  const rules = deps.authorizer.rules(user, namespace);
  send(res, 201, {
    apiVersion,
    kind: 'SelfSubjectRulesReview',
    metadata: { creationTimestamp: null },
    spec: body.spec ?? {},
    status: {
      resourceRules: rules
        .filter((r) => !r.nonResourceURLs?.length)
        .map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) })),
      nonResourceRules: rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
      incomplete: false,
    },
  });
}

/** POST /apis/authentication.k8s.io/v1/selfsubjectreviews. */
export async function selfSubjectReview(req: IncomingMessage, res: ServerResponse, user: UserInfo): Promise<void> {
  const apiVersion = 'authentication.k8s.io/v1';
  await readReview(req, apiVersion, 'SelfSubjectReview');
  send(res, 201, {
    apiVersion,
    kind: 'SelfSubjectReview',
    metadata: { creationTimestamp: null },
    status: {
      userInfo: { username: user.name, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra && Object.keys(user.extra).length ? { extra: user.extra } : {}) },
    },
  });
}

/** POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token (authentication.k8s.io/v1 TokenRequest). */
export async function tokenRequest(req: IncomingMessage, res: ServerResponse, namespace: string, name: string, deps: ReviewDeps): Promise<void> {
  if (!deps.tokens) throw noSigningKey();
  const body = await readReview(req, 'authentication.k8s.io/v1', 'TokenRequest');
  send(res, 201, await issueTokenRequest(namespace, name, body, deps));
}

function noSigningKey(): ApiError {
  return new ApiError('NotFound', 'the server could not find the requested resource: no --service-account-signing-key-file is configured');
}

/**
 * The TokenRequest itself, for any adapter (REST above, keel.v1's Create with subresource
 * "token"): checks the body, signs a token for the ServiceAccount and answers the TokenRequest
 * with its status.
 */
export async function issueTokenRequest(namespace: string, name: string, body: unknown, deps: ReviewDeps): Promise<Record<string, unknown>> {
  if (!deps.tokens) throw noSigningKey();
  const apiVersion = 'authentication.k8s.io/v1';
  const b = body as Body;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw ApiErrors.badRequest('the body of the request must be a JSON or YAML object');
  if (b.kind !== 'TokenRequest' || b.apiVersion !== apiVersion) {
    throw ApiErrors.badRequest(`expected ${apiVersion} TokenRequest, got ${b.apiVersion ?? '<no apiVersion>'} ${b.kind ?? '<no kind>'}`);
  }
  const spec = b.spec ?? {};
  const audiences = Array.isArray(spec['audiences']) && spec['audiences'].length > 0 ? (spec['audiences'] as unknown[]).map(String) : deps.tokens.audiences;
  const asked = spec['expirationSeconds'] === undefined ? 3600 : Number(spec['expirationSeconds']);
  const invalid = (field: string, message: string) =>
    ApiErrors.invalid({ group: 'authentication.k8s.io', kind: 'TokenRequest' }, name, [{ reason: 'FieldValueInvalid', field, message }]);
  if (!Number.isInteger(asked) || asked < 600) throw invalid('spec.expirationSeconds', 'Invalid value: may not specify a duration less than 10 minutes');
  if (asked > 2 ** 32) throw invalid('spec.expirationSeconds', 'Invalid value: may not specify a duration larger than 2^32 seconds');
  const expirationSeconds = Math.min(asked, deps.tokens.maxExpirationSeconds);
  const saInfo = deps.scheme.lookup('serviceaccounts') as ResourceInfo;
  const sa = await deps.handler.get(saInfo, namespace, name);
  let pod: { name: string; uid: string } | undefined;
  const bound = spec['boundObjectRef'] as { kind?: string; name?: string; uid?: string } | undefined;
  if (bound) {
    if (bound.kind !== 'Pod') throw invalid('spec.boundObjectRef.kind', `Unsupported value: "${bound.kind ?? ''}": supported values: "Pod"`);
    const found: KubeObject = await deps.handler.get(deps.scheme.lookup('pods') as ResourceInfo, namespace, bound.name ?? '');
    if (bound.uid && bound.uid !== found.metadata.uid) {
      throw ApiErrors.conflict({ resource: 'pods' }, bound.name ?? '', `the UID in the bound object reference (${bound.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
    pod = { name: found.metadata.name!, uid: found.metadata.uid! };
  }
  const { token, expiration } = await deps.tokens.issuer.issue(
    { namespace, name, uid: sa.metadata.uid! },
    { audiences, expirationSeconds, ...(pod ? { pod } : {}) },
  );
  return {
    apiVersion,
    kind: 'TokenRequest',
    metadata: { name, namespace, creationTimestamp: formatTimestamp(deps.now()) },
    spec: { ...spec, audiences, expirationSeconds },
    status: { token, expirationTimestamp: formatTimestamp(expiration) },
  };
}
