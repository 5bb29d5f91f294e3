// Security from kube-apiserver's flags: reads the files the flags name (serving certificate,
// client CA, token file, ServiceAccount keys), starts the RBAC caches, writes the bootstrap
// policy, and hands back the HTTPS options and the request filter. main.ts and the test
// fixture both build security here, so tests run exactly what the binary runs.
import type { Scheme } from '@keel/api';
import { readFileSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import type { ApiHandler } from '../registry/handler';
import { Authenticator } from './authenticator';
import { EscalationCheck } from './escalation';
import { InflightLimiter } from './inflight';
import { RbacAuthorizer } from './rbac';
import { ensureBootstrapPolicy, Security, watchCacheRbacSource } from './security';
import { DEFAULT_ISSUER, privateKeyFromPem, publicKeysFromPem, TokenIssuer, TokenVerifier } from './serviceaccount-token';
import { parseTokenFile } from './token-file';
import { storeKey } from '@keel/api';

export interface SecurityFlags {
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  /** Client certificates signed by this CA authenticate; without it none do. */
  clientCaFile?: string;
  tokenAuthFile?: string;
  /** Public (or private) keys that verify ServiceAccount tokens; the signing key's own is added. */
  serviceAccountKeyFiles?: string[];
  serviceAccountSigningKeyFile?: string;
  serviceAccountIssuer?: string;
  apiAudiences?: string[];
  serviceAccountMaxTokenExpirationSeconds?: number;
  maxRequestsInflight?: number;
  maxMutatingRequestsInflight?: number;
}

export interface LoadedSecurity {
  tls: ServerOptions;
  security: Security;
}

export async function loadSecurity(
  flags: SecurityFlags,
  deps: { scheme: Scheme; handler: ApiHandler; log?: (entry: Record<string, unknown>) => void },
): Promise<LoadedSecurity> {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read ${what} ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  const tls: ServerOptions = {
    cert: read(flags.tlsCertFile, '--tls-cert-file'),
    key: read(flags.tlsPrivateKeyFile, '--tls-private-key-file'),
    // The certificate is asked for but not required: token and anonymous requests carry none.
    // Whether it verified (socket.authorized) is the authenticator's business.
    requestCert: flags.clientCaFile !== undefined,
    rejectUnauthorized: false,
    ...(flags.clientCaFile ? { ca: read(flags.clientCaFile, '--client-ca-file') } : {}),
    minVersion: 'TLSv1.2',
  };

  let tokens;
  if (flags.tokenAuthFile) {
    const parsed = parseTokenFile(read(flags.tokenAuthFile, '--token-auth-file'), flags.tokenAuthFile);
    for (const warning of parsed.warnings) deps.log?.({ msg: 'token file', warning });
    tokens = parsed.tokens;
  }

  const issuer = flags.serviceAccountIssuer ?? DEFAULT_ISSUER;
  const audiences = flags.apiAudiences?.length ? flags.apiAudiences : [issuer];
  const signingKey = flags.serviceAccountSigningKeyFile ? privateKeyFromPem(read(flags.serviceAccountSigningKeyFile, '--service-account-signing-key-file')) : undefined;
  const verifyKeys = (flags.serviceAccountKeyFiles ?? []).flatMap((f) => publicKeysFromPem(read(f, '--service-account-key-file')));
  if (signingKey && verifyKeys.length === 0) verifyKeys.push(...publicKeysFromPem(read(flags.serviceAccountSigningKeyFile!, '--service-account-signing-key-file')));

  const saInfo = deps.scheme.lookup('serviceaccounts')!;
  const saCache = deps.handler.cache(saInfo);
  const podInfo = deps.scheme.lookup('pods')!;
  const podCache = deps.handler.cache(podInfo);
  if (verifyKeys.length > 0) await Promise.all([saCache.start(), podCache.start()]);
  const serviceAccounts =
    verifyKeys.length > 0
      ? new TokenVerifier(verifyKeys, {
          issuers: [issuer],
          audiences,
          // Revocation by deletion: the token's ServiceAccount must still exist, with its uid.
          lookup: (namespace, name) => saCache.objects.get(storeKey(saInfo, namespace, name))?.metadata.uid,
          // Tokens bound to a pod die with it.
          podLookup: (namespace, name) => podCache.objects.get(storeKey(podInfo, namespace, name))?.metadata.uid,
        })
      : undefined;

  await ensureBootstrapPolicy(deps.handler, deps.scheme);
  const source = await watchCacheRbacSource(deps.handler, deps.scheme);
  const authorizer = new RbacAuthorizer(source);
  const security = new Security({
    scheme: deps.scheme,
    handler: deps.handler,
    authenticator: new Authenticator({ ...(tokens ? { tokens } : {}), ...(serviceAccounts ? { serviceAccounts } : {}) }),
    authorizer,
    escalation: new EscalationCheck(source),
    inflight: new InflightLimiter({ readOnly: flags.maxRequestsInflight ?? 400, mutating: flags.maxMutatingRequestsInflight ?? 200 }),
    ...(signingKey
      ? { tokens: { issuer: new TokenIssuer(signingKey, issuer), audiences, maxExpirationSeconds: flags.serviceAccountMaxTokenExpirationSeconds ?? 48 * 3600 } }
      : {}),
    ...(deps.log ? { log: deps.log } : {}),
  });
  return { tls, security };
}
