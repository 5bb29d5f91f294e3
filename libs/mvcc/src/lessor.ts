// Leases in memory: which exist, their granted TTL, the keys attached to each, and when
// each expires by this member's clock. Grants, revokes and attachments are replicated
// (they change only by applying log entries, and MvccStore persists them); expiry is not:
// only the leader's clock decides, by proposing revokes for `expired(now)`, so every
// member deletes the same keys at the same revision. Keep-alives touch expiry only.
import { MvccError } from './errors';
import type { LeaseTimeToLive } from './types';
import { fromLatin1 } from './key-range';

/** etcd's upper bound on a lease TTL, in seconds. */
export const MAX_LEASE_TTL = 9_000_000_000;

export interface Lease {
  id: bigint;
  /** Granted TTL, seconds. */
  ttl: number;
  /** Milliseconds by the injected clock. */
  expiry: number;
  keys: Set<string>;
}

const INT63 = (1n << 63n) - 1n;

/** A well-mixed 63-bit value from the applied index (SplitMix64), so auto IDs look like etcd's. */
function mix(index: number): bigint {
  let z = (BigInt(index) + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
  return (z ^ (z >> 31n)) & INT63;
}

export class Lessor {
  private leases = new Map<bigint, Lease>();

  constructor(
    private readonly clock: () => number,
    private readonly minTtl: number,
  ) {}

  get(id: bigint): Lease | undefined {
    return this.leases.get(id);
  }

  /** The ID for a grant that named none: the same on every member applying entry `index`. */
  chooseId(index: number): bigint {
    let id = mix(index);
    while (id === 0n || this.leases.has(id)) id = (id + 1n) & INT63;
    return id;
  }

  /** The TTL a grant actually gets (raised to the minimum), or a refusal. */
  effectiveTtl(ttl: number): number {
    if (ttl > MAX_LEASE_TTL) throw new MvccError('LeaseTtlTooLarge');
    return Math.max(ttl, this.minTtl);
  }

  grant(id: bigint, ttl: number): Lease {
    if (id <= 0n) throw new MvccError('Invalid', `lease ID must be positive, got ${id}`);
    if (this.leases.has(id)) throw new MvccError('LeaseExists');
    const lease: Lease = { id, ttl, expiry: this.clock() + ttl * 1000, keys: new Set() };
    this.leases.set(id, lease);
    return lease;
  }

  /** Restores a persisted lease on open or after a snapshot, expiring a full TTL from now. */
  load(id: bigint, ttl: number): void {
    this.leases.set(id, { id, ttl, expiry: this.clock() + ttl * 1000, keys: new Set() });
  }

  remove(id: bigint): void {
    this.leases.delete(id);
  }

  attach(id: bigint, key: string): void {
    this.leases.get(id)?.keys.add(key);
  }

  detach(id: bigint, key: string): void {
    this.leases.get(id)?.keys.delete(key);
  }

  /** A keep-alive: pushes expiry a full TTL from `now`; answers the TTL. */
  renew(id: bigint, now: number = this.clock()): number {
    const lease = this.leases.get(id);
    if (!lease) throw new MvccError('LeaseNotFound');
    lease.expiry = now + lease.ttl * 1000;
    return lease.ttl;
  }

  timeToLive(id: bigint, withKeys: boolean, now: number = this.clock()): LeaseTimeToLive {
    const lease = this.leases.get(id);
    if (!lease) return { id, ttl: -1, grantedTtl: 0, keys: [] };
    const remaining = Math.max(0, Math.trunc((lease.expiry - now) / 1000));
    const keys = withKeys ? [...lease.keys].sort().map(fromLatin1) : [];
    return { id, ttl: remaining, grantedTtl: lease.ttl, keys };
  }

  list(): bigint[] {
    return [...this.leases.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Leases whose time is up by `now`, soonest first: what the leader should propose to revoke. */
  expired(now: number = this.clock()): bigint[] {
    return [...this.leases.values()]
      .filter((lease) => lease.expiry <= now)
      .sort((a, b) => a.expiry - b.expiry || (a.id < b.id ? -1 : 1))
      .map((lease) => lease.id);
  }

  /** Gives every lease a full TTL from `now`: for a new leader, whose clock never saw the old keep-alives. */
  resetExpiries(now: number = this.clock()): void {
    for (const lease of this.leases.values()) lease.expiry = now + lease.ttl * 1000;
  }

  clear(): void {
    this.leases.clear();
  }
}
