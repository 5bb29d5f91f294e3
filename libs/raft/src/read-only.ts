// The leader's queue of linearizable read requests (ReadIndex, Raft thesis §6.4). Each
// request remembers the commit index at the time it arrived; the heartbeat round that
// follows carries the request's context, and once a quorum of voters has acknowledged
// it the leader knows it was still the leader then, so that request and every one queued
// before it can be answered with their recorded index.

import type { Message, NodeId } from './types';

/**
 * - safe: confirm leadership with a heartbeat round per batch of reads (default).
 * - lease-based: trust the leader lease that CheckQuorum maintains and answer at once;
 *   correct only if clocks drift less than the election timeout.
 */
export type ReadOnlyOption = 'safe' | 'lease-based';

export interface ReadIndexStatus {
  readonly request: Message;
  readonly index: number;
  readonly acks: Set<NodeId>;
}

/** A request context as a map key. */
export function contextKey(ctx: Uint8Array | undefined): string {
  if (!ctx) return '';
  let s = '';
  for (const b of ctx) s += b.toString(16).padStart(2, '0');
  return s;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(readonly option: ReadOnlyOption) {}

  /** Queues a read request that arrived when the commit index was `index`. */
  addRequest(index: number, request: Message): void {
    const key = contextKey(request.context);
    if (this.pending.has(key)) return;
    this.pending.set(key, { request, index, acks: new Set() });
    this.queue.push(key);
  }

  /** Records a heartbeat acknowledgement carrying `ctx`; returns who has acknowledged it so far. */
  recvAck(id: NodeId, ctx: Uint8Array | undefined): ReadonlySet<NodeId> {
    const rs = this.pending.get(contextKey(ctx));
    if (!rs) return new Set();
    rs.acks.add(id);
    return rs.acks;
  }

  /**
   * Dequeues the request whose context `ctx` was confirmed by a quorum, and every request
   * queued before it (the same heartbeat round confirmed leadership for them too).
   */
  advance(ctx: Uint8Array | undefined): ReadIndexStatus[] {
    const key = contextKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of done) {
      const rs = this.pending.get(k);
      if (!rs) throw new Error('cannot find corresponding read state from pending map');
      this.pending.delete(k);
      out.push(rs);
    }
    return out;
  }

  /** The context of the newest pending request, to piggyback on the next heartbeat. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    return this.pending.get(this.queue[this.queue.length - 1])?.request.context;
  }

  pendingCount(): number {
    return this.queue.length;
  }
}
