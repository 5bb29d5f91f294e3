// ServiceAccount tokens: JWTs the apiserver signs (--service-account-signing-key-file) and
// verifies (--service-account-key-file, several keys for rotation), bound to an issuer
// (--service-account-issuer) and audiences (--api-audiences), in the claim layout of
// Kubernetes' bound tokens (`kubernetes.io`: namespace, serviceaccount name and uid, pod).
// A token only authenticates while its ServiceAccount exists with the same uid, so deleting
// a ServiceAccount revokes its tokens at once; a token bound to a pod, likewise only while
// that pod exists with the same uid.
import { createHash, createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, decodeProtectedHeader, type JWTPayload } from 'jose';
import { serviceAccountGroups, serviceAccountUserName, SERVICE_ACCOUNT_PREFIX, type UserInfo } from './user';

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc';

interface KubernetesClaims {
  namespace: string;
  serviceaccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
}

export interface ServiceAccountRef {
  namespace: string;
  name: string;
  uid: string;
}

/** The algorithm a key signs with: RS256 for RSA, ES256/ES384 for EC P-256/P-384. */
function algorithmOf(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ES256';
    if (curve === 'secp384r1') return 'ES384';
  }
  throw new Error(`unsupported ServiceAccount key type ${key.asymmetricKeyType ?? 'unknown'}`);
}

/** Kubernetes' key id: the base64url SHA-256 of the public key's DER SPKI. */
function keyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

/** Every PEM block in a file's text (a key file may hold several public keys). */
function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----/g) ?? [];
}

/** Public keys from PEM text: public keys, certificates, or private keys (whose public half is used). */
export function publicKeysFromPem(text: string): KeyObject[] {
  const keys = pemBlocks(text).map((block) => createPublicKey(block));
  if (keys.length === 0) throw new Error('no PEM-encoded key found');
  return keys;
}

export function privateKeyFromPem(text: string): KeyObject {
  return createPrivateKey(text);
}

export class TokenIssuer {
  private readonly alg: string;
  private readonly kid: string;

  constructor(
    private readonly key: KeyObject,
    readonly issuer = DEFAULT_ISSUER,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.alg = algorithmOf(key);
    this.kid = keyId(createPublicKey(key));
  }

  /** A signed token for the ServiceAccount, valid for `expirationSeconds`. */
  async issue(sa: ServiceAccountRef, opts: { audiences: string[]; expirationSeconds: number; pod?: { name: string; uid: string } }): Promise<{ token: string; expiration: Date }> {
    const iat = Math.floor(this.now().getTime() / 1000);
    const exp = iat + opts.expirationSeconds;
    const claims: KubernetesClaims = { namespace: sa.namespace, serviceaccount: { name: sa.name, uid: sa.uid }, ...(opts.pod ? { pod: opts.pod } : {}) };
    const token = await new SignJWT({ 'kubernetes.io': claims as unknown as JWTPayload[string] })
      .setProtectedHeader({ alg: this.alg, kid: this.kid })
      .setIssuer(this.issuer)
      .setSubject(serviceAccountUserName(sa.namespace, sa.name))
      .setAudience(opts.audiences)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.key);
    return { token, expiration: new Date(exp * 1000) };
  }
}

/** Whether a bearer token looks like a JWT at all (three parts, a JSON header with alg). */
export function looksLikeJwt(token: string): boolean {
  if (token.split('.').length !== 3) return false;
  try {
    return typeof decodeProtectedHeader(token).alg === 'string';
  } catch {
    return false;
  }
}

export type TokenVerdict = { user: UserInfo } | { error: string };

export class TokenVerifier {
  constructor(
    private readonly keys: KeyObject[],
    private readonly opts: {
      issuers: string[];
      audiences: string[];
      /** The live ServiceAccount's uid, or undefined when it does not exist. */
      lookup?: (namespace: string, name: string) => string | undefined;
      /** The live pod's uid, or undefined when it does not exist (for tokens bound to a pod). */
      podLookup?: (namespace: string, name: string) => string | undefined;
      now?: () => Date;
    },
  ) {}

  async verify(token: string): Promise<TokenVerdict> {
    let payload: JWTPayload | undefined;
    let failure = 'invalid bearer token';
    for (const key of this.keys) {
      try {
        ({ payload } = await jwtVerify(token, key, {
          issuer: this.opts.issuers,
          audience: this.opts.audiences,
          ...(this.opts.now ? { currentDate: this.opts.now() } : {}),
        }));
        break;
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) return { error: 'token has expired' };
        if (err instanceof joseErrors.JWTClaimValidationFailed) return { error: `token ${err.claim === 'aud' ? 'audiences' : err.claim} is invalid: ${err.message}` };
        if (err instanceof joseErrors.JWSSignatureVerificationFailed) failure = 'token signature is invalid';
        else if (err instanceof joseErrors.JOSEError) failure = `invalid bearer token: ${err.message}`;
        else throw err;
      }
    }
    if (!payload) return { error: failure };
    const claims = payload['kubernetes.io'] as Partial<KubernetesClaims> | undefined;
    const namespace = claims?.namespace;
    const sa = claims?.serviceaccount;
    if (!namespace || !sa?.name || !sa.uid) return { error: 'token lacks the kubernetes.io ServiceAccount claims' };
    if (payload.sub !== serviceAccountUserName(namespace, sa.name)) return { error: 'token subject does not match its ServiceAccount claims' };
    if (this.opts.lookup) {
      const uid = this.opts.lookup(namespace, sa.name);
      if (uid === undefined) return { error: `serviceaccounts "${sa.name}" not found` };
      if (uid !== sa.uid) return { error: `the ServiceAccount ${namespace}/${sa.name} (uid ${uid}) is not the one this token was issued for (uid ${sa.uid})` };
    }
    if (claims.pod && this.opts.podLookup) {
      const uid = this.opts.podLookup(namespace, claims.pod.name);
      if (uid === undefined) return { error: `pods "${claims.pod.name}" not found` };
      if (uid !== claims.pod.uid) return { error: `the pod ${namespace}/${claims.pod.name} (uid ${uid}) is not the one this token was bound to (uid ${claims.pod.uid})` };
    }
    const extra: Record<string, string[]> = {};
    if (claims.pod) {
      extra['authentication.kubernetes.io/pod-name'] = [claims.pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [claims.pod.uid];
    }
    if (payload.jti) extra['authentication.kubernetes.io/credential-id'] = [`JTI=${payload.jti}`];
    return { user: { name: payload.sub, uid: sa.uid, groups: serviceAccountGroups(namespace), extra } };
  }
}

/** `system:serviceaccount:<ns>:<name>` → its parts. */
export function parseServiceAccountUser(name: string): { namespace: string; name: string } | undefined {
  if (!name.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  const [namespace, sa, ...rest] = name.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
  if (!namespace || !sa || rest.length > 0) return undefined;
  return { namespace, name: sa };
}
