// GrpcTransport: Raft messages between members over gRPC (keel.raft.v1.Raft, protos/raft).
//
// Sending: one Peer per member, holding one long-lived client stream (Send). Each send()
// call writes what it got for that peer as one MessageBatch. When the stream cannot take
// more (HTTP/2 flow control: the peer is slow), messages wait in a bounded queue and go
// out as larger batches once it drains; when the queue is full they are dropped and
// reported unreachable, which Raft tolerates. When a stream fails, the Peer reports the
// peer unreachable, drops what was queued, and opens a new stream after a back-off that
// doubles up to a cap and resets once the peer answers.
// Snapshots go alone over SendSnapshot, in chunks, and end with reportSnapshot.
//
// Receiving: the server steps every message of every batch into the handler, and
// reassembles chunked snapshots before handing them over.

import * as grpc from '@grpc/grpc-js';
import type { Message, NodeId } from '@keel/raft';
import { loadProto } from '@keel/protos';
import type { ProtoGrpcType } from '@keel/protos/raft';
import type { MessageBatch, MessageBatch__Output } from '@keel/protos/keel/raft/v1/MessageBatch';
import type { RaftClient } from '@keel/protos/keel/raft/v1/Raft';
import type { SendResponse, SendResponse__Output } from '@keel/protos/keel/raft/v1/SendResponse';
import type { SnapshotChunk, SnapshotChunk__Output } from '@keel/protos/keel/raft/v1/SnapshotChunk';
import type { SnapshotResponse, SnapshotResponse__Output } from '@keel/protos/keel/raft/v1/SnapshotResponse';
import { RaftNodeError } from './errors';
import type { Transport, TransportHandler } from './transport';
import { messageFromWire, messageToWire } from './wire';

export interface GrpcTransportOptions {
  readonly id: NodeId;
  /** host:port to serve on; port 0 picks a free one (see `address` after start). Loopback in tests. */
  readonly listen: string;
  /** Peers' addresses (host:port) by id; more come with setPeer. */
  readonly peers?: ReadonlyMap<NodeId, string> | Record<number, string>;
  /** Messages waiting for one slow peer before new ones are dropped. Default 4096 (etcd's). */
  readonly maxQueue?: number;
  /** Most messages in one batch. Default 1024. */
  readonly maxBatch?: number;
  /** Most bytes (roughly) in one batch, beyond its first message. Default 4 MiB. */
  readonly maxBatchBytes?: number;
  /** Bytes of snapshot data per chunk. Default 1 MiB. */
  readonly snapshotChunkSize?: number;
  /** Reconnect back-off: first wait and cap, in ms. Default 50 and 1000. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** How long a snapshot may take to send. Default 60 s. */
  readonly snapshotTimeoutMs?: number;
  /** Called on transport trouble worth a log line. */
  readonly log?: (msg: string) => void;
}

let proto: ProtoGrpcType | undefined;
function raftProto(): ProtoGrpcType['keel']['raft']['v1'] {
  proto ??= loadProto<ProtoGrpcType>('raft/raft.proto');
  return proto.keel.raft.v1;
}

// Small reconnect back-off in the channel itself: the default (1 s, growing to 120 s)
// would keep a restarted member cut off for long after it is back.
const channelOptions: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 50,
  'grpc.min_reconnect_backoff_ms': 50,
  'grpc.max_reconnect_backoff_ms': 1000,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
};

export class GrpcTransport implements Transport {
  private server: grpc.Server | undefined;
  private handler: TransportHandler | undefined;
  private readonly peers = new Map<NodeId, Peer>();
  private boundPort = 0;
  private stopped = false;
  /** Counters for tests and metrics. */
  readonly stats = { batchesSent: 0, messagesSent: 0, messagesDropped: 0, batchesReceived: 0, messagesReceived: 0, snapshotsReceived: 0 };

  constructor(private readonly opts: GrpcTransportOptions) {
    const peers = opts.peers instanceof Map ? opts.peers : new Map(Object.entries(opts.peers ?? {}).map(([k, v]) => [Number(k), v]));
    for (const [id, address] of peers) if (id !== opts.id) this.setPeer(id, address);
  }

  /** The address the server listens on (host:port with the real port), once started. */
  get address(): string {
    const host = this.opts.listen.slice(0, this.opts.listen.lastIndexOf(':'));
    return `${host}:${this.boundPort}`;
  }

  get id(): NodeId {
    return this.opts.id;
  }

  async start(handler: TransportHandler): Promise<void> {
    this.handler = handler;
    const server = new grpc.Server(channelOptions);
    server.addService(raftProto().Raft.service, {
      Send: (call: grpc.ServerReadableStream<MessageBatch__Output, SendResponse>, cb: grpc.sendUnaryData<SendResponse>) =>
        this.serveSend(call, cb),
      SendSnapshot: (
        call: grpc.ServerReadableStream<SnapshotChunk__Output, SnapshotResponse>,
        cb: grpc.sendUnaryData<SnapshotResponse>,
      ) => this.serveSnapshot(call, cb),
    });
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(this.opts.listen, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(new RaftNodeError('transport', `cannot listen on ${this.opts.listen}: ${err.message}`, { cause: err })) : resolve(port),
      ),
    );
    this.server = server;
    for (const peer of this.peers.values()) peer.connect();
  }

  send(messages: readonly Message[]): void {
    if (this.stopped || !this.handler) return;
    // Group by peer so that each peer gets one batch per call.
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      if (m.type === 'MsgSnap') {
        this.sendSnapshot(m);
        continue;
      }
      let list = byPeer.get(m.to);
      if (!list) byPeer.set(m.to, (list = []));
      list.push(m);
    }
    for (const [to, list] of byPeer) {
      const peer = this.peers.get(to);
      if (!peer) {
        this.stats.messagesDropped += list.length;
        this.handler.reportUnreachable(to);
        continue;
      }
      peer.send(list);
    }
  }

  setPeer(id: NodeId, address: string): void {
    if (id === this.opts.id) return;
    const existing = this.peers.get(id);
    if (existing?.address === address) return;
    existing?.close();
    const peer = new Peer(this, id, address);
    this.peers.set(id, peer);
    if (this.server && !this.stopped) peer.connect();
  }

  removePeer(id: NodeId): void {
    this.peers.get(id)?.close();
    this.peers.delete(id);
  }

  /** The addresses of the peers this transport sends to. */
  peerAddresses(): Map<NodeId, string> {
    return new Map([...this.peers].map(([id, p]) => [id, p.address]));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    const server = this.server;
    if (!server) return;
    // Streams from peers never end on their own: give them a moment, then cut them.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 200);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  // ---- for Peer ---------------------------------------------------------------------------

  /** @internal */
  get options(): GrpcTransportOptions {
    return this.opts;
  }

  /** @internal */
  unreachable(id: NodeId, dropped: number): void {
    this.stats.messagesDropped += dropped;
    if (!this.stopped) this.handler?.reportUnreachable(id);
  }

  /** @internal */
  log(msg: string): void {
    this.opts.log?.(msg);
  }

  // ---- serving ------------------------------------------------------------------------------

  private serveSend(call: grpc.ServerReadableStream<MessageBatch__Output, SendResponse>, cb: grpc.sendUnaryData<SendResponse>): void {
    // Headers right away: the sender takes them as "connected" and resets its back-off.
    call.sendMetadata(new grpc.Metadata());
    let done = false;
    const finish = (err: grpc.ServiceError | null) => {
      if (done) return;
      done = true;
      cb(err, err ? undefined : {});
    };
    call.on('data', (batch: MessageBatch__Output) => {
      if (Number(batch.to) !== this.opts.id) {
        // A stream meant for a member that used to live at this address.
        finish(serviceError(grpc.status.FAILED_PRECONDITION, `this is member ${this.opts.id}, not ${batch.to}`));
        return;
      }
      this.stats.batchesReceived++;
      for (const pb of batch.messages) {
        this.stats.messagesReceived++;
        this.deliver(pb, undefined);
      }
    });
    call.on('end', () => finish(null));
    call.on('error', () => finish(null));
  }

  private serveSnapshot(call: grpc.ServerReadableStream<SnapshotChunk__Output, SnapshotResponse>, cb: grpc.sendUnaryData<SnapshotResponse>): void {
    let header: SnapshotChunk__Output['header'] | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: grpc.ServiceError | null) => {
      if (done) return;
      done = true;
      cb(err, err ? undefined : {});
    };
    call.on('data', (chunk: SnapshotChunk__Output) => {
      if (chunk.part === 'header') header = chunk.header;
      else if (chunk.part === 'data' && chunk.data) {
        chunks.push(chunk.data);
        size += chunk.data.length;
      }
    });
    call.on('end', () => {
      if (!header?.message) return finish(serviceError(grpc.status.INVALID_ARGUMENT, 'snapshot without header'));
      if (Number(header.message.to) !== this.opts.id) {
        return finish(serviceError(grpc.status.FAILED_PRECONDITION, `this is member ${this.opts.id}, not ${header.message.to}`));
      }
      if (size !== Number(header.data_size)) {
        return finish(serviceError(grpc.status.DATA_LOSS, `snapshot data is ${size} bytes, header says ${header.data_size}`));
      }
      const data = Buffer.concat(chunks, size);
      this.stats.snapshotsReceived++;
      const ok = this.deliver(header.message, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      finish(ok ? null : serviceError(grpc.status.INTERNAL, 'snapshot message refused'));
    });
    call.on('error', () => finish(null));
  }

  private deliver(pb: Parameters<typeof messageFromWire>[0], snapshotData: Uint8Array | undefined): boolean {
    try {
      this.handler?.receive(messageFromWire(pb, snapshotData));
      return true;
    } catch (e) {
      this.log(`raft transport ${this.opts.id}: dropped a message from ${pb.from}: ${(e as Error).message}`);
      return false;
    }
  }

  private sendSnapshot(m: Message): void {
    const peer = this.peers.get(m.to);
    const report = (status: 'finish' | 'failure') => {
      if (!this.stopped) this.handler?.reportSnapshot(m.to, status);
    };
    if (!peer || !m.snapshot) {
      report('failure');
      return;
    }
    peer.sendSnapshot(m).then(
      () => report('finish'),
      (e: Error) => {
        this.log(`raft transport ${this.opts.id}: snapshot to ${m.to} failed: ${e.message}`);
        report('failure');
      },
    );
  }
}

/** Roughly the bytes a message takes on the wire, to keep batches well under gRPC's message limit. */
function approximateSize(m: Message): number {
  let size = 64 + (m.context?.length ?? 0);
  for (const e of m.entries) size += 24 + e.data.length;
  return size;
}

function serviceError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** The sending side of one peer: a stream, a bounded queue and a reconnect back-off. */
class Peer {
  private readonly client: RaftClient;
  private call: grpc.ClientWritableStream<MessageBatch> | undefined;
  private queue: Message[] = [];
  /** The stream's buffer is full: wait for 'drain' before writing again. */
  private blocked = false;
  private backoffMs: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly transport: GrpcTransport,
    readonly id: NodeId,
    readonly address: string,
  ) {
    const RaftService = raftProto().Raft;
    this.client = new RaftService(address, grpc.credentials.createInsecure(), channelOptions);
    this.backoffMs = transport.options.backoff?.initialMs ?? 50;
  }

  connect(): void {
    if (this.closed || this.call) return;
    const call = this.client.Send((err: grpc.ServiceError | null, _res?: SendResponse__Output) => this.onEnd(call, err));
    this.call = call;
    this.blocked = false;
    call.on('metadata', () => {
      // The peer answered: the next failure starts the back-off from the beginning.
      this.backoffMs = this.transport.options.backoff?.initialMs ?? 50;
    });
    call.on('error', () => undefined); // reported through the callback
    call.on('drain', () => {
      this.blocked = false;
      this.flush();
    });
  }

  send(messages: Message[]): void {
    if (!this.call) {
      // Down, and waiting to reconnect: the messages would be stale by then.
      this.transport.unreachable(this.id, messages.length);
      return;
    }
    const max = this.transport.options.maxQueue ?? 4096;
    const room = max - this.queue.length;
    if (room < messages.length) {
      if (room > 0) this.queue.push(...messages.slice(0, room));
      this.transport.unreachable(this.id, messages.length - Math.max(room, 0));
    } else {
      this.queue.push(...messages);
    }
    this.flush();
  }

  private flush(): void {
    const call = this.call;
    const maxBatch = this.transport.options.maxBatch ?? 1024;
    const maxBytes = this.transport.options.maxBatchBytes ?? 4 * 1024 * 1024;
    while (call && !this.blocked && this.queue.length > 0) {
      // As many messages as fit both limits, and always at least one.
      let n = 0;
      let bytes = 0;
      while (n < this.queue.length && n < maxBatch) {
        bytes += approximateSize(this.queue[n]!);
        if (n > 0 && bytes > maxBytes) break;
        n++;
      }
      const batch = n === this.queue.length ? this.queue : this.queue.slice(0, n);
      this.queue = n === this.queue.length ? [] : this.queue.slice(n);
      let wire: MessageBatch;
      try {
        wire = { from: this.transport.id, to: this.id, messages: batch.map((m) => messageToWire(m)) };
      } catch (e) {
        this.transport.log(`raft transport: cannot encode a message to ${this.id}: ${(e as Error).message}`);
        continue;
      }
      this.transport.stats.batchesSent++;
      this.transport.stats.messagesSent += batch.length;
      if (!call.write(wire)) this.blocked = true;
    }
  }

  private onEnd(call: grpc.ClientWritableStream<MessageBatch>, err: grpc.ServiceError | null): void {
    if (this.call !== call) return;
    this.call = undefined;
    const dropped = this.queue.length;
    this.queue = [];
    if (this.closed) return;
    if (err) this.transport.log(`raft transport: stream to ${this.id} at ${this.address} ended: ${err.details || err.message}`);
    this.transport.unreachable(this.id, dropped);
    const max = this.transport.options.backoff?.maxMs ?? 1000;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, max);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, wait);
  }

  /** Sends one snapshot in chunks over its own stream; resolves once the peer took it. */
  async sendSnapshot(m: Message): Promise<void> {
    const snapshot = m.snapshot!;
    const chunkSize = this.transport.options.snapshotChunkSize ?? 1024 * 1024;
    const deadline = Date.now() + (this.transport.options.snapshotTimeoutMs ?? 60_000);
    let call!: grpc.ClientWritableStream<SnapshotChunk>;
    const answered = new Promise<void>((resolve, reject) => {
      call = this.client.SendSnapshot({ deadline }, (err: grpc.ServiceError | null, _res?: SnapshotResponse__Output) =>
        err ? reject(new RaftNodeError('transport', `snapshot to ${this.id}: ${err.details || err.message}`, { cause: err })) : resolve(),
      );
    });
    call.on('error', () => undefined); // reported through the callback
    const write = async (chunk: SnapshotChunk) => {
      // A failed call never drains: the answer (an error) ends the wait too.
      if (!call.write(chunk)) await Promise.race([new Promise<void>((resolve) => call.once('drain', resolve)), answered]);
    };
    try {
      await write({ header: { message: messageToWire(m, false), data_size: snapshot.data.length } });
      for (let off = 0; off < snapshot.data.length; off += chunkSize) {
        if (this.closed) throw new RaftNodeError('transport', `peer ${this.id} removed while sending a snapshot`);
        await write({ data: snapshot.data.subarray(off, off + chunkSize) });
      }
      call.end();
    } catch (e) {
      call.cancel();
      await answered.catch(() => undefined);
      throw e;
    }
    await answered;
  }

  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const call = this.call;
    this.call = undefined;
    this.queue = [];
    call?.end();
    this.client.close();
  }
}
