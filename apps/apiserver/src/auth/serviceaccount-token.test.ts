// ServiceAccount JWTs: what the issuer signs verifies, and expiry, issuer, audience,
// signature, a deleted or recreated ServiceAccount, and claim tampering each fail.
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { looksLikeJwt, parseServiceAccountUser, publicKeysFromPem, TokenIssuer, TokenVerifier } from './serviceaccount-token';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const t0 = new Date('2026-01-01T00:00:00Z');
const sa = { namespace: 'a', name: 'robot', uid: 'uid-1' };
const issuer = 'https://kubernetes.default.svc';

function verifier(opts: { now?: Date; keys?: typeof rsa.publicKey[]; audiences?: string[]; issuers?: string[]; uid?: string | undefined } = {}) {
  return new TokenVerifier(opts.keys ?? [rsa.publicKey], {
    issuers: opts.issuers ?? [issuer],
    audiences: opts.audiences ?? [issuer],
    lookup: (ns, name) => (ns === 'a' && name === 'robot' ? ('uid' in opts ? opts.uid : 'uid-1') : undefined),
    now: () => opts.now ?? new Date(t0.getTime() + 60_000),
  });
}

describe('ServiceAccount tokens', () => {
  it('verifies what the issuer signed, as the ServiceAccount user', async () => {
    const { token, expiration } = await new TokenIssuer(rsa.privateKey, issuer, () => t0).issue(sa, {
      audiences: [issuer],
      expirationSeconds: 3600,
      pod: { name: 'p', uid: 'pod-uid' },
    });
    expect(expiration.toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(looksLikeJwt(token)).toBe(true);
    const res = await verifier().verify(token);
    expect(res).toMatchObject({
      user: {
        name: 'system:serviceaccount:a:robot',
        uid: 'uid-1',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:a', 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/pod-name': ['p'], 'authentication.kubernetes.io/pod-uid': ['pod-uid'] },
      },
    });
  });

  it('signs with EC keys too, and accepts any of several verification keys', async () => {
    const { token } = await new TokenIssuer(ec.privateKey, issuer, () => t0).issue(sa, { audiences: [issuer], expirationSeconds: 600 });
    expect(await verifier({ keys: [rsa.publicKey, ec.publicKey] }).verify(token)).toHaveProperty('user');
  });

  it('refuses expired tokens, other issuers and audiences, and foreign signatures', async () => {
    const issue = (key = rsa.privateKey, iss = issuer, aud = [issuer]) => new TokenIssuer(key, iss, () => t0).issue(sa, { audiences: aud, expirationSeconds: 600 }).then((t) => t.token);
    expect(await verifier({ now: new Date(t0.getTime() + 601_000) }).verify(await issue())).toEqual({ error: 'token has expired' });
    expect(await verifier().verify(await issue(rsa.privateKey, 'https://evil.example'))).toMatchObject({ error: expect.stringMatching(/^token iss is invalid/) });
    expect(await verifier().verify(await issue(rsa.privateKey, issuer, ['vault']))).toMatchObject({ error: expect.stringMatching(/^token audiences is invalid/) });
    expect(await verifier().verify(await issue(other.privateKey))).toEqual({ error: 'token signature is invalid' });
  });

  it('refuses a token whose ServiceAccount is gone or was recreated', async () => {
    const { token } = await new TokenIssuer(rsa.privateKey, issuer, () => t0).issue(sa, { audiences: [issuer], expirationSeconds: 600 });
    expect(await verifier({ uid: undefined }).verify(token)).toEqual({ error: 'serviceaccounts "robot" not found' });
    expect(await verifier({ uid: 'uid-2' }).verify(token)).toMatchObject({ error: expect.stringMatching(/is not the one this token was issued for/) });
  });

  it('refuses a token bound to a pod that is gone or was recreated, and takes one whose pod lives', async () => {
    const { token } = await new TokenIssuer(rsa.privateKey, issuer, () => t0).issue(sa, { audiences: [issuer], expirationSeconds: 3600, pod: { name: 'p', uid: 'pod-uid' } });
    const withPods = (pods: Record<string, string>) =>
      new TokenVerifier([rsa.publicKey], { issuers: [issuer], audiences: [issuer], lookup: () => 'uid-1', podLookup: (ns, name) => (ns === 'a' ? pods[name] : undefined), now: () => new Date(t0.getTime() + 60_000) });
    expect(await withPods({ p: 'pod-uid' }).verify(token)).toMatchObject({ user: { name: 'system:serviceaccount:a:robot' } });
    expect(await withPods({}).verify(token)).toEqual({ error: 'pods "p" not found' });
    expect(await withPods({ p: 'pod-uid-2' }).verify(token)).toMatchObject({ error: expect.stringContaining('is not the one this token was bound to') });
    // A token bound to no pod does not care.
    const { token: unbound } = await new TokenIssuer(rsa.privateKey, issuer, () => t0).issue(sa, { audiences: [issuer], expirationSeconds: 3600 });
    expect(await withPods({}).verify(unbound)).toMatchObject({ user: { name: 'system:serviceaccount:a:robot' } });
  });

  it('refuses a signed token whose subject disagrees with its claims', async () => {
    const iat = Math.floor(t0.getTime() / 1000);
    const token = await new SignJWT({ 'kubernetes.io': { namespace: 'a', serviceaccount: { name: 'robot', uid: 'uid-1' } } })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(issuer)
      .setAudience(issuer)
      .setSubject('system:serviceaccount:kube-system:admin')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 600)
      .sign(rsa.privateKey);
    expect(await verifier().verify(token)).toEqual({ error: 'token subject does not match its ServiceAccount claims' });
  });

  it('reads keys from PEM files holding several keys, private ones included', () => {
    const pem = [rsa.publicKey.export({ type: 'spki', format: 'pem' }), ec.privateKey.export({ type: 'pkcs8', format: 'pem' })].join('\n');
    expect(publicKeysFromPem(pem).map((k) => k.asymmetricKeyType)).toEqual(['rsa', 'ec']);
    expect(() => publicKeysFromPem('nothing here')).toThrow('no PEM-encoded key found');
  });

  it('tells JWTs from other tokens and splits ServiceAccount user names', () => {
    expect(looksLikeJwt('abc')).toBe(false);
    expect(looksLikeJwt('a.b.c')).toBe(false);
    expect(parseServiceAccountUser('system:serviceaccount:a:robot')).toEqual({ namespace: 'a', name: 'robot' });
    expect(parseServiceAccountUser('alice')).toBeUndefined();
  });
});
