// Keeping one lease alive: a LeaseKeepAlive stream on which the lease's ID is sent every
// third of its TTL. A broken stream is reopened with back-off; if the server reports the
// lease gone (TTL ≤ 0) or no renewal succeeds before the lease would have expired, the
// owner is told through `onLost` — leader election depends on hearing that promptly.
import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { LeaseClient } from '@keel/protos/etcdserverpb/Lease';
import type { LeaseKeepAliveRequest } from '@keel/protos/etcdserverpb/LeaseKeepAliveRequest';
import type { LeaseKeepAliveResponse__Output } from '@keel/protos/etcdserverpb/LeaseKeepAliveResponse';
import { EtcdError } from './errors';

export class LeaseKeepAlive {
  private call: grpc.ClientDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse__Output> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** When the lease expires if no renewal lands (ms since epoch). */
  private expiresAt: number;
  private lastTtl: number;

  constructor(
    private readonly client: LeaseClient,
    readonly id: string,
    ttlSeconds: number,
    private readonly onLost: ((err: EtcdError) => void) | undefined,
    private readonly onStop: () => void,
  ) {
    this.lastTtl = ttlSeconds;
    this.expiresAt = Date.now() + ttlSeconds * 1000;
    this.open();
    this.schedule(0);
  }

  /** The TTL the server granted at the last renewal, in seconds. */
  get ttl(): number {
    return this.lastTtl;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.call?.end();
    this.call = undefined;
    this.onStop();
  }

  private open(): void {
    const call = this.client.LeaseKeepAlive();
    this.call = call;
    call.on('data', (res: LeaseKeepAliveResponse__Output) => {
      const ttl = Number(res.TTL);
      if (ttl <= 0) {
        this.lose(new EtcdError('not-found', `lease ${this.id} expired or was revoked`, GrpcStatus.NOT_FOUND));
        return;
      }
      this.lastTtl = ttl;
      this.expiresAt = Date.now() + ttl * 1000;
    });
    call.on('error', () => {
      if (this.call === call) this.call = undefined;
    });
    call.on('end', () => {
      if (this.call === call) this.call = undefined;
    });
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.renew(), delayMs);
    this.timer.unref();
  }

  private renew(): void {
    if (this.stopped) return;
    if (Date.now() >= this.expiresAt) {
      this.lose(new EtcdError('unavailable', `lease ${this.id} could not be renewed before it expired`, GrpcStatus.UNAVAILABLE));
      return;
    }
    if (!this.call) this.open();
    this.call!.write({ ID: this.id });
    this.schedule(Math.max(100, (this.lastTtl * 1000) / 3));
  }

  private lose(err: EtcdError): void {
    if (this.stopped) return;
    this.stop();
    this.onLost?.(err);
  }
}
