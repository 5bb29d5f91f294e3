// Certificate → user mapping and the order of authenticators: a verified certificate, then
// bearer tokens, else anonymous; presented credentials that fail are a 401.
import { ApiError } from '@keel/api';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Authenticator } from './authenticator';
import { TokenIssuer, TokenVerifier } from './serviceaccount-token';
import { userFromCertificate } from './x509';

describe('userFromCertificate', () => {
  it('takes CN as the user and every O as a group', () => {
    expect(userFromCertificate({ subject: { CN: 'system:node:n1', O: 'system:nodes' } })).toEqual({ user: { name: 'system:node:n1', groups: ['system:nodes'] } });
    expect(userFromCertificate({ subject: { CN: 'alice', O: ['dev', 'ops'] }, ext_key_usage: ['1.3.6.1.5.5.7.3.2'] })).toEqual({ user: { name: 'alice', groups: ['dev', 'ops'] } });
    expect(userFromCertificate({ subject: { CN: 'alice' } })).toEqual({ user: { name: 'alice', groups: [] } });
  });

  it('refuses certificates without a CN or without client usage', () => {
    expect(userFromCertificate({ subject: { O: 'dev' } })).toEqual({ error: 'x509: certificate has no common name' });
    expect(userFromCertificate({ subject: { CN: 'kube-apiserver' }, ext_key_usage: ['1.3.6.1.5.5.7.3.1'] })).toEqual({ error: 'x509: certificate specifies an incompatible key usage' });
  });
});

describe('Authenticator', () => {
  const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const issuer = new TokenIssuer(keys.privateKey);
  const authn = new Authenticator({
    tokens: new Map([['static', { name: 'bob', uid: '1', groups: ['ops'] }]]),
    serviceAccounts: new TokenVerifier([keys.publicKey], { issuers: [issuer.issuer], audiences: [issuer.issuer], lookup: () => 'uid' }),
  });
  const cert = { cert: { subject: { CN: 'alice', O: 'dev' } }, verified: true };

  it('prefers a verified certificate, and adds system:authenticated', async () => {
    expect(await authn.authenticate({ certificate: cert, authorization: 'Bearer static' })).toEqual({
      user: { name: 'alice', groups: ['dev', 'system:authenticated'] },
      anonymous: false,
    });
  });

  it('reads static and ServiceAccount bearer tokens', async () => {
    expect((await authn.authenticate({ authorization: 'Bearer static' })).user).toEqual({ name: 'bob', uid: '1', groups: ['ops', 'system:authenticated'] });
    const { token } = await issuer.issue({ namespace: 'a', name: 'robot', uid: 'uid' }, { audiences: [issuer.issuer], expirationSeconds: 600 });
    expect((await authn.authenticate({ authorization: `Bearer ${token}` })).user.name).toBe('system:serviceaccount:a:robot');
  });

  it('is anonymous without credentials, and 401 for credentials that fail', async () => {
    expect(await authn.authenticate({})).toEqual({ user: { name: 'system:anonymous', groups: ['system:unauthenticated'] }, anonymous: true });
    for (const creds of [
      { authorization: 'Bearer wrong' },
      { authorization: 'Basic YWxpY2U6cHc=' },
      { certificate: { ...cert, verified: false } },
      { certificate: { cert: { subject: {} }, verified: true } },
      { authorization: 'Bearer a.b.c' },
    ]) {
      const err = await authn.authenticate(creds).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).httpStatus).toBe(401);
    }
  });
});
