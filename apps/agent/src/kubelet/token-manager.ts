// ServiceAccount tokens for projected volumes, as kubelet's token manager keeps them: one
// TokenRequest (serviceaccounts/<name>/token, bound to the pod by boundObjectRef) per pod,
// audience and lifetime, cached, and asked for again once 80% of the token's lifetime has
// passed (or a day, for very long ones), so the file in the pod is always valid for a
// good while. The pod worker asks on every sync and writes whatever it gets; the schedule
// lives here alone (refreshAtMs, pure).
import type { Pod, ServiceAccountTokenProjection } from '@keel/api';
import type { Client, TokenRequest } from '@keel/client';

/** A token older than this is refreshed whatever its lifetime (kubelet's maxTTL). */
const MAX_TTL_MS = 24 * 3600 * 1000;

interface Held {
  token: string;
  /** When to ask again (ms since the epoch). */
  refreshAt: number;
  expiresAt: number;
}

/**
 * When a token issued for `lifetimeSeconds` that expires at `expiresAtMs` is due for a new
 * one: at 80% of its lifetime, or a day after it was issued, whichever comes first.
 */
export function refreshAtMs(expiresAtMs: number, lifetimeSeconds: number): number {
  const issuedAt = expiresAtMs - lifetimeSeconds * 1000;
  return Math.min(expiresAtMs - lifetimeSeconds * 200, issuedAt + MAX_TTL_MS);
}

export class ServiceAccountTokens {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly client: Client,
    private readonly now: () => number = Date.now,
  ) {}

  private key(pod: Pod, p: ServiceAccountTokenProjection): string {
    return `${pod.metadata.uid}/${p.audience ?? ''}/${p.expirationSeconds ?? 3600}`;
  }

  /** The token for the pod's projection: the cached one until it is due, else a new one. */
  async token(pod: Pod, p: ServiceAccountTokenProjection): Promise<string> {
    const key = this.key(pod, p);
    const now = this.now();
    const cached = this.held.get(key);
    if (cached && now < cached.refreshAt) return cached.token;
    const ns = pod.metadata.namespace ?? 'default';
    let answer: TokenRequest;
    try {
      answer = await this.client.createToken(ns, pod.spec?.serviceAccountName || 'default', {
        ...(p.audience ? { audiences: [p.audience] } : {}),
        expirationSeconds: p.expirationSeconds ?? 3600,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata.name!, uid: pod.metadata.uid! },
      });
    } catch (err) {
      // A token that still works is better than none while the apiserver is away.
      if (cached && now < cached.expiresAt) return cached.token;
      throw err;
    }
    const token = answer.status?.token;
    const expiresAt = Date.parse(answer.status?.expirationTimestamp ?? '');
    if (!token || !Number.isFinite(expiresAt)) throw new Error('TokenRequest answered without a token');
    // The server may shorten the lifetime (--service-account-max-token-expiration): go by its answer.
    const lifetime = answer.spec.expirationSeconds ?? p.expirationSeconds ?? 3600;
    this.held.set(key, { token, expiresAt, refreshAt: refreshAtMs(expiresAt, lifetime) });
    return token;
  }

  /** When the pod's next token is due (for tests and the worker's wake-up), or undefined. */
  nextRefresh(uid: string): number | undefined {
    let next: number | undefined;
    for (const [key, h] of this.held) if (key.startsWith(`${uid}/`)) next = Math.min(next ?? Infinity, h.refreshAt);
    return next;
  }

  /** Drops the pod's tokens (it is gone). */
  forget(uid: string): void {
    for (const key of [...this.held.keys()]) if (key.startsWith(`${uid}/`)) this.held.delete(key);
  }
}
