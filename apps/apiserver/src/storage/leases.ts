// Leases for objects that expire (Events, after --event-ttl): each write of such an object is
// put under an etcd lease, so the store itself deletes the key once the lease runs out, even
// if no apiserver is running then. One lease per write would flood the store with leases, so
// writes share one, as kube-apiserver's lease manager does: a lease granted a little longer
// than asked (the reuse window: 5% of the TTL, at most a minute) serves every write in that
// window, and each key still lives at least its TTL.
import type { EtcdClient } from '@keel/etcd-client';

const MAX_REUSE_SECONDS = 60;

export class LeaseManager {
  private current: { id: string; ttl: number; expiresAt: number } | undefined;
  private granting: Promise<string> | undefined;

  constructor(
    private readonly etcd: Pick<EtcdClient, 'leaseGrant'>,
    /** Milliseconds since the epoch; injected so tests can move time. */
    private readonly now: () => number = Date.now,
  ) {}

  /** A lease that keeps a key at least `ttlSeconds` (and at most the reuse window longer). */
  async leaseFor(ttlSeconds: number): Promise<string> {
    const reuse = Math.min(MAX_REUSE_SECONDS, Math.floor(ttlSeconds * 0.05));
    const now = this.now();
    const lease = this.current;
    // Reusable while it still outlives the TTL, and it outlives it by no more than the window.
    if (lease && lease.expiresAt >= now + ttlSeconds * 1000 && lease.expiresAt <= now + (ttlSeconds + reuse) * 1000) return lease.id;
    // Concurrent writes wait for one grant rather than each taking a lease.
    this.granting ??= this.grant(ttlSeconds + reuse, now).finally(() => (this.granting = undefined));
    return this.granting;
  }

  /** Stops reusing a lease the store no longer has (revoked, or lost with its data). */
  forget(id: string): void {
    if (this.current?.id === id) this.current = undefined;
  }

  private async grant(ttl: number, now: number): Promise<string> {
    const { id } = await this.etcd.leaseGrant(ttl);
    this.current = { id, ttl, expiresAt: now + ttl * 1000 };
    return id;
  }
}

/** The TTL rule of kube-apiserver's --event-ttl: Events (core and events.k8s.io) live that long after their last write. */
export function eventTtl(seconds: number): (ref: { group?: string; resource: string }) => number | undefined {
  return (ref) => (ref.resource === 'events' && (!ref.group || ref.group === 'events.k8s.io') ? seconds : undefined);
}
