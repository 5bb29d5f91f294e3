import { describe, expect, it } from 'vitest';
import { LeaseManager } from './leases';

function fakeEtcd() {
  const granted: number[] = [];
  return { granted, leaseGrant: async (ttl: number) => ({ id: String(granted.push(ttl)), ttl }) };
}

describe('LeaseManager', () => {
  it('grants the TTL plus a reuse window, and shares the lease within the window', async () => {
    let now = 0;
    const etcd = fakeEtcd();
    const leases = new LeaseManager(etcd, () => now);
    expect(await leases.leaseFor(3600)).toBe('1');
    expect(etcd.granted).toEqual([3600 + 60]);
    now += 59_000;
    expect(await leases.leaseFor(3600)).toBe('1');
    // Past the window the old lease would not keep a new key for a full hour.
    now += 2_000;
    expect(await leases.leaseFor(3600)).toBe('2');
  });

  it('uses 5% of a short TTL as the window, and one grant for concurrent writes', async () => {
    const etcd = fakeEtcd();
    const leases = new LeaseManager(etcd, () => 0);
    const ids = await Promise.all([leases.leaseFor(100), leases.leaseFor(100), leases.leaseFor(100)]);
    expect(ids).toEqual(['1', '1', '1']);
    expect(etcd.granted).toEqual([105]);
  });

  it('takes a new lease for a longer TTL than the current one serves', async () => {
    const etcd = fakeEtcd();
    const leases = new LeaseManager(etcd, () => 0);
    await leases.leaseFor(10);
    await leases.leaseFor(7200);
    expect(etcd.granted).toEqual([10, 7200 + 60]);
  });
});
