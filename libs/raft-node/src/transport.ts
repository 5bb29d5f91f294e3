// Transport: how a host hands messages to its peers and learns of theirs. Raft tolerates
// loss, duplication and reordering, so a transport may drop messages (it then says so with
// reportUnreachable, which makes the leader probe that follower again) but must report how
// each snapshot ended (reportSnapshot), or the leader waits for it forever.
//
// LocalNetwork is the in-memory implementation for deterministic tests: delivery happens
// on a later microtask, in send order, and links can be cut and healed.

import type { Message, NodeId, SnapshotStatus } from '@keel/raft';

/** What a transport calls back into: the host that owns the Raft node. */
export interface TransportHandler {
  /** A message from a peer, to be stepped into the node. */
  receive(m: Message): void;
  /** A message to `id` was dropped (queue full, stream down). */
  reportUnreachable(id: NodeId): void;
  /** A snapshot sent to `id` was delivered ('finish') or not ('failure'). */
  reportSnapshot(id: NodeId, status: SnapshotStatus): void;
}

export interface Transport {
  /** Starts serving and sending; messages arrive through `handler`. */
  start(handler: TransportHandler): Promise<void>;
  /** Sends messages to their `to`; never blocks and never throws for a peer that is down. */
  send(messages: readonly Message[]): void;
  /** Adds a peer, or changes its address. */
  setPeer(id: NodeId, address: string): void;
  removePeer(id: NodeId): void;
  stop(): Promise<void>;
}

/** An in-memory network of transports, keyed by node id, with links that can be cut. */
export class LocalNetwork {
  private readonly handlers = new Map<NodeId, TransportHandler>();
  private readonly cut = new Set<string>();
  /** Every message delivered, for tests that look at the traffic. */
  delivered = 0;
  /** Called with every message handed to the network, delivered or not. */
  onSend: ((m: Message) => void) | undefined = undefined;

  transport(id: NodeId): Transport {
    return new LocalTransport(this, id);
  }

  /** Drops all messages between a and b, both ways, until heal(). */
  cutLink(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}-${b}`).add(`${b}-${a}`);
  }

  /** Cuts every link of `id`. */
  isolate(id: NodeId): void {
    for (const other of this.handlers.keys()) if (other !== id) this.cutLink(id, other);
  }

  heal(): void {
    this.cut.clear();
  }

  /** @internal */
  register(id: NodeId, handler: TransportHandler | undefined): void {
    if (handler) this.handlers.set(id, handler);
    else this.handlers.delete(id);
  }

  /** @internal Delivers on a later microtask, as a socket would deliver on a later event. */
  deliver(from: NodeId, m: Message): void {
    this.onSend?.(m);
    const sender = this.handlers.get(from);
    const receiver = this.handlers.get(m.to);
    if (!receiver || this.cut.has(`${from}-${m.to}`)) {
      if (m.type === 'MsgSnap') queueMicrotask(() => sender?.reportSnapshot(m.to, 'failure'));
      else queueMicrotask(() => sender?.reportUnreachable(m.to));
      return;
    }
    queueMicrotask(() => {
      // The receiver may have stopped since.
      const now = this.handlers.get(m.to);
      if (!now) return;
      this.delivered++;
      now.receive(m);
      if (m.type === 'MsgSnap') sender?.reportSnapshot(m.to, 'finish');
    });
  }
}

class LocalTransport implements Transport {
  constructor(
    private readonly network: LocalNetwork,
    private readonly id: NodeId,
  ) {}

  async start(handler: TransportHandler): Promise<void> {
    this.network.register(this.id, handler);
  }

  send(messages: readonly Message[]): void {
    for (const m of messages) this.network.deliver(this.id, m);
  }

  // Addresses mean nothing here: the network routes by id.
  setPeer(): void {
    return;
  }
  removePeer(): void {
    return;
  }

  async stop(): Promise<void> {
    this.network.register(this.id, undefined);
  }
}
