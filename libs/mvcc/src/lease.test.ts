// Leases: grant with a chosen or deterministic ID, TTL bounds, revoke deleting attached keys
// at one revision, time-to-live from an injected clock, expiry for the leader to act on,
// and leases with their attachments surviving a restart.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_LEASE_TTL } from './lessor';
import { b, TestStore, text } from './test-helpers';

describe('leases', () => {
  let t: TestStore;
  let now = 1_000_000;
  const clock = () => now;
  beforeEach(async () => {
    now = 1_000_000;
    t = await TestStore.create({ clock, minLeaseTtl: 2 });
  });
  afterEach(() => t.cleanup());

  it('grants with a requested ID, or one chosen from the log index the same way everywhere', async () => {
    expect(await t.apply({ type: 'leaseGrant', request: { ttl: 30, id: 42n } })).toMatchObject({ id: 42n, ttl: 30, revision: 1 });
    const auto = await t.store.apply({ type: 'leaseGrant', request: { ttl: 30 } }, 10);
    expect(auto.id).toBeGreaterThan(0n);
    const other = await TestStore.create({ clock });
    try {
      const again = await other.store.apply({ type: 'leaseGrant', request: { ttl: 30 } }, 10);
      expect(again.id).toBe(auto.id);
    } finally {
      await other.cleanup();
    }
    // Granting does not move the revision.
    expect(t.store.revision).toBe(1);
  });

  it('raises a short TTL to the minimum, refuses a huge one and a taken ID', async () => {
    expect((await t.apply({ type: 'leaseGrant', request: { ttl: 1, id: 1n } })).ttl).toBe(2);
    await expect(t.apply({ type: 'leaseGrant', request: { ttl: MAX_LEASE_TTL + 1, id: 2n } })).rejects.toMatchObject({
      code: 'LeaseTtlTooLarge',
    });
    await expect(t.apply({ type: 'leaseGrant', request: { ttl: 10, id: 1n } })).rejects.toMatchObject({ code: 'LeaseExists' });
  });

  it('revokes: deletes every attached key at one revision, then forgets the lease', async () => {
    await t.apply({ type: 'leaseGrant', request: { ttl: 10, id: 9n } });
    await t.put('x', '1', { lease: 9n });
    await t.put('y', '1', { lease: 9n });
    await t.put('z', '1');
    const revoke = await t.apply({ type: 'leaseRevoke', id: 9n });
    expect(revoke.revision).toBe(5);
    expect(await t.get('x')).toBeUndefined();
    expect(await t.get('y')).toBeUndefined();
    expect(text((await t.get('z'))?.value)).toBe('1');
    expect(t.store.leases()).toEqual([]);
    await expect(t.apply({ type: 'leaseRevoke', id: 9n })).rejects.toMatchObject({ code: 'LeaseNotFound' });
    // Revoking a lease with no keys does not move the revision.
    await t.apply({ type: 'leaseGrant', request: { ttl: 10, id: 10n } });
    expect((await t.apply({ type: 'leaseRevoke', id: 10n })).revision).toBe(5);
  });

  it('answers time-to-live from the clock, with keys; keep-alive renews; expired leases are listed', async () => {
    await t.apply({ type: 'leaseGrant', request: { ttl: 10, id: 1n } });
    await t.apply({ type: 'leaseGrant', request: { ttl: 20, id: 2n } });
    await t.put('k1', 'v', { lease: 1n });
    await t.put('k2', 'v', { lease: 1n });
    now += 3_500;
    expect(t.store.leaseTimeToLive(1n, true)).toEqual({ id: 1n, ttl: 6, grantedTtl: 10, keys: [b('k1'), b('k2')] });
    expect(t.store.leaseTimeToLive(3n)).toMatchObject({ ttl: -1 });
    expect(t.store.leases()).toEqual([1n, 2n]);
    expect(t.store.renewLease(1n)).toBe(10);
    expect(t.store.leaseTimeToLive(1n).ttl).toBe(10);
    expect(() => t.store.renewLease(3n)).toThrow('lease not found');
    now += 10_000;
    expect(t.store.expiredLeases()).toEqual([1n]);
    now += 10_000;
    // Soonest expiry first: lease 1 ran out 10 s ago, lease 2 just now.
    expect(t.store.expiredLeases()).toEqual([1n, 2n]);
  });

  it('keeps leases and attachments across a restart, with a full TTL from the new clock', async () => {
    await t.apply({ type: 'leaseGrant', request: { ttl: 10, id: 1n } });
    await t.put('k', 'v', { lease: 1n });
    await t.put('k2', 'v', { lease: 1n });
    await t.del('k2');
    now += 9_000;
    await t.reopen();
    expect(t.store.leases()).toEqual([1n]);
    expect(t.store.leaseTimeToLive(1n, true)).toEqual({ id: 1n, ttl: 10, grantedTtl: 10, keys: [b('k')] });
    await t.apply({ type: 'leaseRevoke', id: 1n });
    expect(await t.get('k')).toBeUndefined();
  });

  it('resets expiries when a member becomes leader', async () => {
    await t.apply({ type: 'leaseGrant', request: { ttl: 5, id: 1n } });
    now += 6_000;
    expect(t.store.expiredLeases()).toEqual([1n]);
    t.store.resetLeaseExpiries();
    expect(t.store.expiredLeases()).toEqual([]);
    expect(t.store.leaseTimeToLive(1n).ttl).toBe(5);
  });
});
