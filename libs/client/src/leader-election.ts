// Lease-based leader election (coordination.k8s.io/v1 Lease), as client-go's: of several
// replicas of a component, one leads and the rest wait.
//  - Acquire: every retry period, read the Lease; it is free when nobody holds it, when
//    this candidate holds it, or when the holder has not renewed it for leaseDuration as
//    measured on *our* clock since we last saw the record change (so clocks need not
//    agree). Taking it is an update with the resourceVersion read (a lost race is a
//    Conflict, and the other candidate leads).
//  - Renew: while leading, every retry period; if no renewal succeeds for renewDeadline
//    (shorter than leaseDuration, so we stop before another may start), step down.
//  - Release on stop(): holder cleared, so a successor need not wait out the lease.
// onStartedLeading gets an AbortSignal that fires when leadership ends.
import { ApiError, type Lease, type LeaseSpec } from '@keel/api';
import { systemClock, type Clock } from './clock';
import type { ResourceClient } from './client';

/** Where the Lease lives; LeaseLock over a ResourceClient<Lease> is the real one. */
export interface LeaseStore {
  /** The Lease, or undefined when it does not exist. */
  get(): Promise<Lease | undefined>;
  create(lease: Lease): Promise<Lease>;
  /** Compare-and-swap on metadata.resourceVersion (Conflict when it moved). */
  update(lease: Lease): Promise<Lease>;
  /** For messages: `namespace/name`. */
  describe(): string;
}

/** The Lease `namespace/name` through the apiserver. */
export class LeaseLock implements LeaseStore {
  constructor(
    private readonly leases: ResourceClient<Lease>,
    readonly namespace: string,
    readonly name: string,
  ) {}

  async get(): Promise<Lease | undefined> {
    try {
      return await this.leases.namespace(this.namespace).get(this.name);
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
      throw err;
    }
  }

  create(lease: Lease): Promise<Lease> {
    return this.leases.namespace(this.namespace).create({ ...lease, metadata: { ...lease.metadata, name: this.name, namespace: this.namespace } });
  }

  update(lease: Lease): Promise<Lease> {
    return this.leases.namespace(this.namespace).update(lease);
  }

  describe(): string {
    return `${this.namespace}/${this.name}`;
  }
}

export interface LeaderElectorOptions {
  lock: LeaseStore;
  /** This candidate's name: unique per replica (host name and a random suffix, say). */
  identity: string;
  /** How long a Lease holds without renewal. Default 15 s. */
  leaseDurationMs?: number;
  /** How long a leader keeps trying to renew before it steps down. Default 10 s. */
  renewDeadlineMs?: number;
  /** Pause between attempts. Default 2 s. */
  retryPeriodMs?: number;
  clock?: Clock;
  /** Uniform in [0,1), for jitter on the retry period. */
  random?: () => number;
  onStartedLeading?: (signal: AbortSignal) => void;
  onStoppedLeading?: () => void;
  /** The holder changed (ours or another's identity). */
  onNewLeader?: (identity: string) => void;
  onError?: (err: unknown) => void;
}

/** MicroTime, as Lease fields carry it: RFC 3339 with microseconds. */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private readonly clock: Clock;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly random: () => number;
  /** The record as last read or written, and when (our clock) it last changed. */
  private observed: { lease: Lease; at: number } | undefined;
  private leading = false;
  private stopping = false;
  private leadership: AbortController | undefined;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private lastLeader = '';

  constructor(private readonly opts: LeaderElectorOptions) {
    this.clock = opts.clock ?? systemClock;
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.random = opts.random ?? Math.random;
    if (this.renewDeadlineMs >= this.leaseDurationMs) throw new Error('leader election: renewDeadline must be shorter than leaseDuration');
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder as last observed ('' when none). */
  get leader(): string {
    return this.observed?.lease.spec?.holderIdentity ?? '';
  }

  /**
   * Campaigns until elected, leads until leadership is lost or stop() is called. Resolves
   * when it ends; a replica that lost leadership should exit (or call run() again).
   */
  run(): Promise<void> {
    this.running ??= this.loop().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops campaigning or leading; a leader releases the Lease. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
  }

  /** Waits retryPeriod (with jitter while campaigning), or less if stop() is called. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const cancel = this.clock.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        cancel();
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    this.stopping = false;
    // Campaign.
    while (!this.stopping) {
      if (await this.tryAcquireOrRenew()) break;
      await this.pause(this.retryPeriodMs * (1 + 0.2 * this.random()));
    }
    if (this.stopping) return;
    this.leading = true;
    this.leadership = new AbortController();
    this.opts.onStartedLeading?.(this.leadership.signal);
    // Lead: renew until a renewal deadline passes without success, or stop().
    let lastRenew = this.clock.now();
    while (!this.stopping) {
      await this.pause(this.retryPeriodMs);
      if (this.stopping) break;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = this.clock.now();
        continue;
      }
      // Someone else holds it now, or the renewals failed for too long: step down.
      if (this.leader !== this.opts.identity || this.clock.now() - lastRenew >= this.renewDeadlineMs) break;
    }
    if (this.stopping) await this.release();
    this.leading = false;
    this.leadership.abort();
    this.opts.onStoppedLeading?.();
  }

  private record(lease: Lease): void {
    const prev = this.observed?.lease;
    const changed = !prev || prev.metadata.resourceVersion !== lease.metadata.resourceVersion;
    this.observed = { lease, at: changed ? this.clock.now() : this.observed!.at };
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder && holder !== this.lastLeader) {
      this.lastLeader = holder;
      this.opts.onNewLeader?.(holder);
    }
  }

  /** One attempt; true when this candidate holds the Lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const { identity } = this.opts;
    const spec: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.leaseDurationMs / 1000)),
      acquireTime: formatMicroTime(now),
      renewTime: formatMicroTime(now),
      leaseTransitions: 0,
    };
    try {
      const current = await this.opts.lock.get();
      if (!current) {
        const created = await this.opts.lock.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: {}, spec });
        this.record(created);
        return true;
      }
      this.record(current);
      const holder = current.spec?.holderIdentity ?? '';
      const held = holder !== '' && holder !== identity;
      // The holder's own lease duration counts, from when we saw its last renewal.
      const holderDurationMs = (current.spec?.leaseDurationSeconds ?? this.leaseDurationMs / 1000) * 1000;
      if (held && this.observed!.at + holderDurationMs > now) return false;
      const old = current.spec ?? {};
      const next: Lease = {
        ...current,
        spec: {
          ...spec,
          // Renewing keeps the acquisition; taking over counts a transition.
          acquireTime: holder === identity ? (old.acquireTime ?? spec.acquireTime) : spec.acquireTime,
          leaseTransitions: holder === identity ? (old.leaseTransitions ?? 0) : (old.leaseTransitions ?? 0) + 1,
        },
      };
      this.record(await this.opts.lock.update(next));
      return true;
    } catch (err) {
      // A lost race (Conflict, AlreadyExists) is normal; anything else is worth a log line.
      if (!(err instanceof ApiError && (err.reason === 'Conflict' || err.reason === 'AlreadyExists'))) this.opts.onError?.(err);
      return false;
    }
  }

  /** Clears the holder so a successor can take over at once. */
  private async release(): Promise<void> {
    const lease = this.observed?.lease;
    if (!lease || lease.spec?.holderIdentity !== this.opts.identity) return;
    const now = formatMicroTime(this.clock.now());
    try {
      this.record(await this.opts.lock.update({ ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now } }));
    } catch (err) {
      this.opts.onError?.(err);
    }
  }
}
