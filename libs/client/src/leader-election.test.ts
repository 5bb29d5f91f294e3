import { ApiError, type Lease } from '@keel/api';
import { describe, expect, it } from 'vitest';
import { Client } from './client';
import { FakeClock, flushPromises } from './clock';
import { FakeApi } from './fake';
import { LeaderElector, LeaseLock, type LeaseStore } from './leader-election';

/** A LeaseStore that can be cut off, as a replica whose network (or process) failed. */
class Breakable implements LeaseStore {
  broken = false;
  constructor(private readonly inner: LeaseStore) {}
  private check(): void {
    if (this.broken) throw new ApiError('ServiceUnavailable', 'cut off');
  }
  async get() {
    this.check();
    return this.inner.get();
  }
  async create(lease: Lease) {
    this.check();
    return this.inner.create(lease);
  }
  async update(lease: Lease) {
    this.check();
    return this.inner.update(lease);
  }
  describe() {
    return this.inner.describe();
  }
}

function candidate(api: FakeApi, clock: FakeClock, identity: string) {
  const lock = new Breakable(new LeaseLock(new Client(api).leases(), 'kube-system', 'keel-scheduler'));
  const log: string[] = [];
  let signal: AbortSignal | undefined;
  const elector = new LeaderElector({
    lock,
    identity,
    clock,
    random: () => 0,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    onStartedLeading: (s) => {
      signal = s;
      log.push('started');
    },
    onStoppedLeading: () => log.push('stopped'),
    onNewLeader: (id) => log.push(`leader ${id}`),
  });
  return { elector, lock, log, signal: () => signal };
}

async function lease(api: FakeApi): Promise<Lease> {
  return (await new Client(api).leases('kube-system').get('keel-scheduler')) as Lease;
}

describe('LeaderElector', () => {
  it('acquires a Lease that does not exist, renews it, and releases it on stop', async () => {
    const api = new FakeApi();
    const clock = new FakeClock();
    const a = candidate(api, clock, 'a');
    const done = a.elector.run();
    await flushPromises();
    expect(a.elector.isLeader()).toBe(true);
    expect(a.log).toEqual(['leader a', 'started']);
    const first = await lease(api);
    expect(first.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    expect(first.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await clock.advance(2_000);
    const renewed = await lease(api);
    expect(Date.parse(renewed.spec!.renewTime!) - Date.parse(first.spec!.renewTime!)).toBe(2_000);
    expect(renewed.spec?.acquireTime).toBe(first.spec?.acquireTime);
    await a.elector.stop();
    await done;
    expect(a.log).toEqual(['leader a', 'started', 'stopped']);
    expect(a.signal()?.aborted).toBe(true);
    expect((await lease(api)).spec?.holderIdentity).toBe('');
  });

  it('lets exactly one of two candidates lead; the other takes over once the leader releases', async () => {
    const api = new FakeApi();
    const clock = new FakeClock();
    const a = candidate(api, clock, 'a');
    const b = candidate(api, clock, 'b');
    void a.elector.run();
    void b.elector.run();
    await flushPromises();
    await clock.advance(20_000);
    expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
    const [leader, follower] = a.elector.isLeader() ? [a, b] : [b, a];
    expect(follower.elector.leader).toBe(leader === a ? 'a' : 'b');
    await leader.elector.stop();
    await clock.advance(2_500);
    expect(follower.elector.isLeader()).toBe(true);
    expect((await lease(api)).spec?.leaseTransitions).toBe(1);
    await follower.elector.stop();
  });

  it('takes over from a leader that vanished once its lease runs out, measured on its own clock', async () => {
    const api = new FakeApi();
    const clock = new FakeClock();
    const a = candidate(api, clock, 'a');
    const b = candidate(api, clock, 'b');
    void a.elector.run();
    await flushPromises();
    expect(a.elector.isLeader()).toBe(true);
    void b.elector.run();
    await flushPromises();
    // a loses the apiserver: it cannot renew, nor release.
    a.lock.broken = true;
    await clock.advance(9_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    // a steps down when its renew deadline passes, before b may take over...
    await clock.advance(2_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.log).toEqual(['leader a', 'started', 'stopped']);
    expect(b.elector.isLeader()).toBe(false);
    // ...and b leads once the lease has not moved for a whole lease duration.
    await clock.advance(6_000);
    expect(b.elector.isLeader()).toBe(true);
    expect((await lease(api)).spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await b.elector.stop();
  });

  it('steps down when another candidate holds the Lease at renewal', async () => {
    const api = new FakeApi();
    const clock = new FakeClock();
    const a = candidate(api, clock, 'a');
    void a.elector.run();
    await flushPromises();
    // An operator (or a confused replica) hands the lease to someone else.
    const cur = await lease(api);
    await new Client(api).leases('kube-system').update({ ...cur, spec: { ...cur.spec, holderIdentity: 'intruder' } });
    await clock.advance(2_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.log).toEqual(['leader a', 'started', 'leader intruder', 'stopped']);
  });

  it('refuses a renew deadline as long as the lease', () => {
    expect(() => new LeaderElector({ lock: {} as LeaseStore, identity: 'x', leaseDurationMs: 10, renewDeadlineMs: 10 })).toThrow(/renewDeadline/);
  });
});
