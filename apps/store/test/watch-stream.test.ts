// The Watch stream at the wire level (raw gRPC, as etcd's Go client speaks it): many watches
// on one stream, a client-chosen watch ID, events with the header revision, progress
// requests, cancel, and a watch from a compacted revision (created, then canceled with the
// compact revision).
import * as grpc from '@grpc/grpc-js';
import { EtcdClient } from '@keel/etcd-client';
import { loadProto } from '@keel/protos';
import type { WatchResponse__Output } from '@keel/protos/etcdserverpb/WatchResponse';
import type { WatchRequest } from '@keel/protos/etcdserverpb/WatchRequest';
import type { WatchClient } from '@keel/protos/etcdserverpb/Watch';
import type { ProtoGrpcType } from '@keel/protos/rpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStoreCluster, type StoreCluster } from '@keel/tools-store';

let cluster: StoreCluster | undefined;
let client: EtcdClient;
let watchClient: WatchClient;
beforeAll(async () => {
  cluster = await startStoreCluster({ members: 1 });
  client = new EtcdClient({ endpoints: cluster.endpoints });
  const proto = loadProto<ProtoGrpcType>('etcd/etcdserverpb/rpc.proto').etcdserverpb;
  watchClient = new proto.Watch(cluster.endpoints[0]!, grpc.credentials.createInsecure()) as unknown as WatchClient;
}, 60_000);
afterAll(async () => {
  client?.close();
  (watchClient as unknown as grpc.Client | undefined)?.close();
  await cluster?.stop();
});

class Stream {
  readonly responses: WatchResponse__Output[] = [];
  private readonly call = watchClient.Watch();
  constructor() {
    this.call.on('data', (res: WatchResponse__Output) => this.responses.push(res));
    this.call.on('error', () => undefined);
  }
  send(req: WatchRequest): void {
    this.call.write(req);
  }
  async next(pred: (r: WatchResponse__Output) => boolean, ms = 5000): Promise<WatchResponse__Output> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.responses.findIndex(pred);
      if (i >= 0) return this.responses.splice(i, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no such response; have ${JSON.stringify(this.responses)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  end(): void {
    this.call.end();
  }
}

describe('the Watch stream', () => {
  it('multiplexes watches, answers progress and cancel, and cancels a compacted watch with the compact revision', async () => {
    const stream = new Stream();
    const key = (k: string) => Buffer.from(`/ws/${k}`);
    stream.send({ progress_request: {} });
    expect((await stream.next((r) => r.watch_id === '-1')).header?.revision).not.toBe('0');

    stream.send({ create_request: { key: key('a'), prev_kv: true } });
    const a = await stream.next((r) => r.created);
    stream.send({ create_request: { key: key(''), range_end: Buffer.from('/ws0'), watch_id: 42, filters: ['NODELETE'] } });
    const b = await stream.next((r) => r.created);
    expect(b.watch_id).toBe('42');
    expect(a.watch_id).not.toBe('42');

    const first = await client.put('/ws/a', '1');
    await client.put('/ws/a', '2');
    await client.delete('/ws/a');
    const onA = [await stream.next((r) => r.watch_id === a.watch_id), await stream.next((r) => r.watch_id === a.watch_id), await stream.next((r) => r.watch_id === a.watch_id)];
    expect(onA.map((r) => [r.events[0]!.type, r.header!.revision])).toEqual([
      ['PUT', String(first.revision)],
      ['PUT', String(first.revision + 1)],
      ['DELETE', String(first.revision + 2)],
    ]);
    expect(onA[1]!.events[0]!.prev_kv?.value.toString()).toBe('1');
    const onB = [await stream.next((r) => r.watch_id === '42'), await stream.next((r) => r.watch_id === '42')];
    expect(onB.map((r) => r.events[0]!.type)).toEqual(['PUT', 'PUT']);

    stream.send({ progress_request: {} });
    const progress = await stream.next((r) => r.watch_id === '42' && r.events.length === 0);
    expect(progress.header!.revision).toBe(String(first.revision + 2));

    stream.send({ cancel_request: { watch_id: 42 } });
    expect((await stream.next((r) => r.watch_id === '42')).canceled).toBe(true);
    await client.put('/ws/b', '3');
    await new Promise((r) => setTimeout(r, 200));
    expect(stream.responses.filter((r) => r.watch_id === '42')).toEqual([]);

    const latest = (await client.put('/ws/c', '4')).revision;
    await client.compact(latest, true);
    stream.send({ create_request: { key: key('c'), start_revision: first.revision } });
    const created = await stream.next((r) => r.created && r.watch_id !== a.watch_id);
    const canceled = await stream.next((r) => r.watch_id === created.watch_id && r.canceled);
    expect(canceled.compact_revision).toBe(String(latest));
    expect(canceled.cancel_reason).toBe('etcdserver: mvcc: required revision has been compacted');
    stream.end();
  });
});
