// Authentication: who a request comes from. A verified client certificate wins; otherwise a
// bearer token, tried against the static token file and then as a ServiceAccount JWT; with
// neither, the request is anonymous. Credentials that were presented and fail are a 401 —
// never a fall back to anonymous. Transport-neutral: the REST and gRPC adapters both hand in
// what their connection carries.
import { ApiError } from '@keel/api';
import { userFromCertificate, type ClientCertificate } from './x509';
import { looksLikeJwt, type TokenVerifier } from './serviceaccount-token';
import { ANONYMOUS, withAuthenticatedGroup, type UserInfo } from './user';

export interface Credentials {
  /** The peer certificate, when the client sent one, and whether TLS verified it against the client CA. */
  certificate?: { cert: ClientCertificate; verified: boolean };
  /** The Authorization header as sent. */
  authorization?: string;
}

export interface AuthenticatorOptions {
  /** Static tokens (--token-auth-file). */
  tokens?: Map<string, UserInfo>;
  /** ServiceAccount JWTs (--service-account-key-file). */
  serviceAccounts?: TokenVerifier;
}

export function unauthorized(): ApiError {
  return new ApiError('Unauthorized', 'Unauthorized');
}

export class Authenticator {
  constructor(private readonly opts: AuthenticatorOptions = {}) {}

  /**
   * The request's user: anonymous (`anonymous: true`) when no credentials were presented.
   * Throws a 401 ApiError for credentials that do not authenticate; `why` says why, for logs.
   */
  async authenticate(creds: Credentials): Promise<{ user: UserInfo; anonymous: boolean }> {
    const cert = creds.certificate;
    let why: string | undefined;
    if (cert?.verified) {
      const res = userFromCertificate(cert.cert);
      if ('user' in res) return { user: withAuthenticatedGroup(res.user), anonymous: false };
      why = res.error;
    } else if (cert) {
      why = 'x509: certificate signed by unknown authority';
    }
    const token = bearerToken(creds.authorization);
    if (token !== undefined) {
      const fromFile = this.opts.tokens?.get(token);
      if (fromFile) return { user: withAuthenticatedGroup(fromFile), anonymous: false };
      if (this.opts.serviceAccounts && looksLikeJwt(token)) {
        const res = await this.opts.serviceAccounts.verify(token);
        if ('user' in res) return { user: withAuthenticatedGroup(res.user), anonymous: false };
        why = res.error;
      } else {
        why = 'invalid bearer token';
      }
    } else if (creds.authorization !== undefined) {
      why = 'unsupported Authorization scheme';
    }
    if (why !== undefined) throw Object.assign(unauthorized(), { why });
    return { user: ANONYMOUS, anonymous: true };
  }
}

/** The token of `Authorization: Bearer <token>`; undefined for no header or another scheme. */
function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}
