import type { KubeObject, Pod } from '@keel/api';
import { Client, FakeApi, Resources, type TokenRequest } from '@keel/client';
import { describe, expect, it } from 'vitest';
import { refreshAtMs, ServiceAccountTokens } from './token-manager';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'team', uid: 'uid-web' }, spec: { serviceAccountName: 'robot', containers: [] } };

/** A FakeApi serving serviceaccounts/token: each answer is a new numbered token, expiring as asked (capped at `maxSeconds`). */
function setup(maxSeconds = Infinity) {
  let now = T0;
  const api = new FakeApi(() => new Date(now));
  api.seed(Resources.serviceAccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'team' } });
  const asked: TokenRequest[] = [];
  api.subresources.set('serviceaccounts/token', (_ns, _name, body: KubeObject) => {
    const req = body as TokenRequest;
    asked.push(req);
    const seconds = Math.min(req.spec.expirationSeconds ?? 3600, maxSeconds);
    return { ...req, spec: { ...req.spec, expirationSeconds: seconds }, status: { token: `token-${asked.length}`, expirationTimestamp: new Date(now + seconds * 1000).toISOString() } };
  });
  const tokens = new ServiceAccountTokens(new Client(api), () => now);
  return { api, asked, tokens, advance: (ms: number) => (now += ms) };
}

describe('ServiceAccount token manager', () => {
  it('refreshes at 80% of the lifetime, or after a day for longer tokens', () => {
    expect(refreshAtMs(T0 + 3607_000, 3607)).toBe(T0 + 0.8 * 3607_000);
    expect(refreshAtMs(T0 + 600_000, 600)).toBe(T0 + 480_000);
    // A year-long token is still renewed daily.
    expect(refreshAtMs(T0 + 365 * 86_400_000, 365 * 86_400)).toBe(T0 + 86_400_000);
  });

  it('asks TokenRequest once, bound to the pod, and again only once 80% of the lifetime has passed', async () => {
    const { asked, tokens, advance } = setup();
    const projection = { path: 'token', expirationSeconds: 3607 };
    expect(await tokens.token(pod, projection)).toBe('token-1');
    expect(asked[0]).toMatchObject({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { name: 'robot', namespace: 'team' },
      spec: { expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web', uid: 'uid-web' } },
    });
    expect(asked[0]!.spec.audiences).toBeUndefined();
    expect(tokens.nextRefresh('uid-web')).toBe(T0 + 0.8 * 3607_000);
    advance(0.8 * 3607_000 - 1000);
    expect(await tokens.token(pod, projection)).toBe('token-1');
    advance(1000);
    expect(await tokens.token(pod, projection)).toBe('token-2');
    expect(asked).toHaveLength(2);
  });

  it('goes by the lifetime the server granted, keeps a still-valid token when the apiserver fails, and forgets a pod', async () => {
    const { api, asked, tokens, advance } = setup(1000);
    const projection = { path: 'token', audience: 'vault', expirationSeconds: 7200 };
    expect(await tokens.token(pod, projection)).toBe('token-1');
    expect(asked[0]!.spec.audiences).toEqual(['vault']);
    expect(tokens.nextRefresh('uid-web')).toBe(T0 + 800_000);
    advance(800_000);
    api.failNext('create');
    expect(await tokens.token(pod, projection)).toBe('token-1');
    advance(300_000); // past expiry: a failure now is an error
    api.failNext('create');
    await expect(tokens.token(pod, projection)).rejects.toThrow('injected failure');
    expect(await tokens.token(pod, projection)).toBe('token-2');
    tokens.forget('uid-web');
    expect(tokens.nextRefresh('uid-web')).toBeUndefined();
  });
});
