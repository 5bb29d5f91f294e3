// Lease-based leader election (client-go's leaderelection over a coordination.k8s.io Lease):
// acquire the Lease when it is free, ours, or expired (renewTime + leaseDurationSeconds is
// past by our clock), renew it every retry period, and give up leadership when a renewal has
// not succeeded within the renew deadline. On a clean stop the Lease is released (holder
// cleared, duration 1 s) so another replica takes over at once.
// Kept in this app until @keel/client ships its own election.
import { ApiError, formatMicroTime, type Lease } from '@keel/api';
import type { Client } from '@keel/client';
import type { Logger } from './log';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });

export class LeaderElector {
  private leaseResourceVersion: string | undefined;
  /** When we last saw the Lease change (our clock), and what it said. */
  private observed: { at: number; record: string } | undefined;

  constructor(
    private readonly client: Client,
    private readonly opts: LeaderElectionOptions,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** One attempt to acquire or renew; true when we hold the Lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const leases = this.client.leases(this.opts.namespace);
    const now = this.now();
    const spec = {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.ceil(this.opts.leaseDurationMs / 1000),
      acquireTime: formatMicroTime(now),
      renewTime: formatMicroTime(now),
      leaseTransitions: 0,
    };
    let current: Lease;
    try {
      current = await leases.get(this.opts.name);
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
      const created = await leases.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.opts.name, namespace: this.opts.namespace }, spec });
      this.leaseResourceVersion = created.metadata.resourceVersion;
      this.observed = { at: now, record: JSON.stringify(created.spec) };
      return true;
    }
    const record = JSON.stringify(current.spec ?? {});
    if (!this.observed || this.observed.record !== record) this.observed = { at: now, record };
    const holder = current.spec?.holderIdentity ?? '';
    const mine = holder === this.opts.identity;
    const expired = this.observed.at + (current.spec?.leaseDurationSeconds ?? 0) * 1000 < now;
    if (holder && !mine && !expired) return false;
    const next = {
      ...spec,
      acquireTime: mine ? (current.spec?.acquireTime ?? spec.acquireTime) : spec.acquireTime,
      leaseTransitions: (current.spec?.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
    const updated = await leases.update({ ...current, spec: next });
    this.leaseResourceVersion = updated.metadata.resourceVersion;
    this.observed = { at: now, record: JSON.stringify(updated.spec) };
    return true;
  }

  /**
   * Waits until elected, runs `lead` with a signal that aborts on lost leadership or on
   * `stop`, and returns when leading ended; `lost` tells which.
   */
  async run(stop: AbortSignal, lead: (signal: AbortSignal) => void): Promise<{ lost: boolean }> {
    while (!stop.aborted) {
      try {
        if (await this.tryAcquireOrRenew()) break;
      } catch (err) {
        this.log.warn('leader election: acquire failed', { err: (err as Error).message });
      }
      await sleep(this.opts.retryPeriodMs, stop);
    }
    if (stop.aborted) return { lost: false };
    this.log.info('leader election: became leader', { lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity });
    const leading = new AbortController();
    stop.addEventListener('abort', () => leading.abort(), { once: true });
    lead(leading.signal);
    let lastRenew = this.now();
    while (!stop.aborted) {
      await sleep(this.opts.retryPeriodMs, stop);
      if (stop.aborted) break;
      try {
        if (await this.tryAcquireOrRenew()) {
          lastRenew = this.now();
          continue;
        }
      } catch (err) {
        this.log.warn('leader election: renew failed', { err: (err as Error).message });
      }
      if (this.now() - lastRenew > this.opts.renewDeadlineMs) {
        this.log.error('leader election: lost the lease', { identity: this.opts.identity });
        leading.abort();
        return { lost: true };
      }
    }
    await this.release();
    return { lost: false };
  }

  /** Gives the Lease up so the next replica need not wait for it to expire. */
  async release(): Promise<void> {
    try {
      const leases = this.client.leases(this.opts.namespace);
      const current = await leases.get(this.opts.name);
      if (current.spec?.holderIdentity !== this.opts.identity) return;
      await leases.update({ ...current, spec: { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: formatMicroTime(this.now()) } });
    } catch (err) {
      this.log.warn('leader election: release failed', { err: (err as Error).message });
    }
  }
}
