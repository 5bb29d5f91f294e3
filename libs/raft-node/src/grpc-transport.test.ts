// GrpcTransport on 127.0.0.1 with random ports: batches both ways, a snapshot in many
// chunks, back-pressure from a peer that stops reading, and reconnecting to a peer that
// restarted on the same address.

import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { Message, type NodeId, type SnapshotStatus } from '@keel/raft';
import { loadProto } from '@keel/protos';
import type { ProtoGrpcType } from '@keel/protos/raft';
import { freeLoopbackPort } from '@keel/process';
import { GrpcTransport } from './grpc-transport';
import type { TransportHandler } from './transport';

class Recorder implements TransportHandler {
  received: Message[] = [];
  unreachable: NodeId[] = [];
  snapshots: [NodeId, SnapshotStatus][] = [];
  receive(m: Message): void {
    this.received.push(m);
  }
  reportUnreachable(id: NodeId): void {
    this.unreachable.push(id);
  }
  reportSnapshot(id: NodeId, status: SnapshotStatus): void {
    this.snapshots.push([id, status]);
  }
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const app = (from: number, to: number, index: number, data = new Uint8Array([index % 256])) =>
  Message.create({ type: 'MsgApp', from, to, term: 3, logTerm: 2, index, commit: index, entries: [{ term: 3, index: index + 1, type: 'normal', data }] });

describe('GrpcTransport', () => {
  const started: { stop(): Promise<void> | void }[] = [];
  afterEach(async () => {
    for (const t of started.splice(0)) await t.stop();
  });

  async function transport(id: number, listen = '127.0.0.1:0', extra: Partial<ConstructorParameters<typeof GrpcTransport>[0]> = {}) {
    const t = new GrpcTransport({ id, listen, ...extra });
    const rec = new Recorder();
    await t.start(rec);
    started.push(t);
    return { t, rec };
  }

  it('carries batches of messages both ways, every field intact', async () => {
    const a = await transport(1);
    const b = await transport(2);
    a.t.setPeer(2, b.t.address);
    b.t.setPeer(1, a.t.address);
    const msgs = Array.from({ length: 50 }, (_, i) => app(1, 2, i));
    msgs.push(Message.create({ type: 'MsgHeartbeat', from: 1, to: 2, term: 3, commit: 7, context: new Uint8Array([1, 2, 3]) }));
    msgs.push(Message.create({ type: 'MsgVote', from: 1, to: 2, term: 4, logTerm: 3, index: 9 }));
    a.t.send(msgs);
    await until(() => b.rec.received.length === msgs.length);
    expect(b.rec.received).toEqual(msgs);
    expect(a.t.stats.batchesSent).toBe(1);
    b.t.send([Message.create({ type: 'MsgAppResp', from: 2, to: 1, term: 3, index: 51, reject: true, rejectHint: 40, logTerm: 2 })]);
    await until(() => a.rec.received.length === 1);
    expect(a.rec.received[0]).toMatchObject({ type: 'MsgAppResp', reject: true, rejectHint: 40, index: 51 });
    expect(a.rec.received[0]!.context).toBeUndefined();
  });

  it('splits what is queued into batches that stay under a byte budget', async () => {
    const a = await transport(1, '127.0.0.1:0', { maxBatchBytes: 10_000 });
    const b = await transport(2);
    a.t.setPeer(2, b.t.address);
    const msgs = Array.from({ length: 20 }, (_, i) => app(1, 2, i, new Uint8Array(4000)));
    a.t.send(msgs);
    await until(() => b.rec.received.length === 20);
    expect(b.rec.received.map((m) => m.index)).toEqual(msgs.map((m) => m.index));
    expect(a.t.stats.batchesSent).toBe(10);
  });

  it('sends a snapshot in chunks and reports how it went', async () => {
    const a = await transport(1, '127.0.0.1:0', { snapshotChunkSize: 1024 });
    const b = await transport(2);
    a.t.setPeer(2, b.t.address);
    const data = new Uint8Array(100_000).map((_, i) => (i * 7) % 251);
    const snap = Message.create({
      type: 'MsgSnap',
      from: 1,
      to: 2,
      term: 5,
      snapshot: { data, metadata: { index: 1000, term: 4, confState: { voters: [1, 2], learners: [3] } } },
    });
    a.t.send([snap]);
    await until(() => a.rec.snapshots.length === 1);
    expect(a.rec.snapshots).toEqual([[2, 'finish']]);
    expect(b.rec.received).toHaveLength(1);
    expect(b.rec.received[0]!.snapshot!.metadata).toEqual(snap.snapshot!.metadata);
    expect(Buffer.from(b.rec.received[0]!.snapshot!.data).equals(Buffer.from(data))).toBe(true);
    // To a peer that is not there: a failure, promptly.
    a.t.setPeer(3, '127.0.0.1:1');
    a.t.send([{ ...snap, to: 3 }]);
    await until(() => a.rec.snapshots.length === 2);
    expect(a.rec.snapshots[1]).toEqual([3, 'failure']);
  });

  it('drops and reports messages for a peer that stops reading, once its queue is full', async () => {
    // A peer that accepts the stream and never reads: HTTP/2 flow control pushes back.
    const proto = loadProto<ProtoGrpcType>('raft/raft.proto').keel.raft.v1;
    const server = new grpc.Server();
    server.addService(proto.Raft.service, {
      Send: (call: grpc.ServerReadableStream<unknown, unknown>) => call.pause(),
      SendSnapshot: (call: grpc.ServerReadableStream<unknown, unknown>) => call.pause(),
    });
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
    );
    started.push({ stop: () => server.forceShutdown() });
    const a = await transport(1, '127.0.0.1:0', { maxQueue: 8 });
    a.t.setPeer(2, `127.0.0.1:${port}`);
    const big = new Uint8Array(64 * 1024);
    for (let i = 0; i < 100; i++) {
      a.t.send([app(1, 2, i, big)]);
      await new Promise((r) => setImmediate(r));
    }
    await until(() => a.rec.unreachable.length > 0);
    expect(a.rec.unreachable.every((id) => id === 2)).toBe(true);
    expect(a.t.stats.messagesDropped).toBeGreaterThan(0);
    expect(a.t.stats.messagesSent + a.t.stats.messagesDropped).toBeLessThanOrEqual(100);
  });

  it('reconnects to a peer that restarted on the same address', async () => {
    const a = await transport(1, '127.0.0.1:0', { backoff: { initialMs: 20, maxMs: 200 } });
    // A port below the ephemeral range: while b is down, a's reconnects cannot self-connect to it.
    let b = await transport(2, `127.0.0.1:${await freeLoopbackPort()}`);
    const address = b.t.address;
    a.t.setPeer(2, address);
    a.t.send([app(1, 2, 1)]);
    await until(() => b.rec.received.length === 1);

    await b.t.stop();
    // Sends while it is down are dropped and reported, never thrown.
    await until(() => {
      a.t.send([app(1, 2, 2)]);
      return a.rec.unreachable.includes(2);
    });

    b = await transport(2, address);
    await until(() => {
      a.t.send([app(1, 2, 3)]);
      return b.rec.received.length > 0;
    }, 10_000);
    expect(b.rec.received[0]).toMatchObject({ type: 'MsgApp', from: 1, to: 2 });
  });

  it('refuses batches meant for another member', async () => {
    const a = await transport(1);
    const b = await transport(2);
    // Member 1 believes 3 lives where 2 does (3 was replaced by 2 on that address).
    a.t.setPeer(3, b.t.address);
    a.t.send([app(1, 3, 1)]);
    await until(() => a.rec.unreachable.includes(3));
    expect(b.rec.received).toHaveLength(0);
  });
});
