// The wire translation end to end: bytes as etcd clients send them, decoded by the proto
// loader, turned into store requests, applied, and the answers encoded back and decoded
// the way a client would.
import * as protoLoader from '@grpc/proto-loader';
import { loaderOptions, protosRoot } from '@keel/protos';
import type { RangeRequest__Output } from '@keel/protos/etcdserverpb/RangeRequest';
import type { TxnRequest__Output } from '@keel/protos/etcdserverpb/TxnRequest';
import type { TxnResponse__Output } from '@keel/protos/etcdserverpb/TxnResponse';
import type { WatchRequest__Output } from '@keel/protos/etcdserverpb/WatchRequest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromEtcd, toEtcd, type HeaderFor } from './etcd-wire';
import { b, collect, TestStore } from './test-helpers';

const def = protoLoader.loadSync(['etcd/etcdserverpb/rpc.proto'], { ...loaderOptions, includeDirs: [protosRoot()] });
const codec = (name: string) =>
  def[`etcdserverpb.${name}`] as unknown as { serialize(v: object): Buffer; deserialize(b: Buffer): unknown };
/** What a server handler receives: client bytes decoded by the loader. */
const received = <T>(name: string, value: object): T => codec(name).deserialize(codec(name).serialize(value)) as T;

const header: HeaderFor = (revision) => ({ cluster_id: '1', member_id: '2', revision, raft_term: '3' });

describe('etcd wire translation', () => {
  let t: TestStore;
  beforeEach(async () => (t = await TestStore.create()));
  afterEach(() => t.cleanup());

  it('runs the create-if-absent txn Kubernetes sends and answers it in etcd shape', async () => {
    const request = received<TxnRequest__Output>('TxnRequest', {
      compare: [{ key: b('/registry/pods/default/p'), target: 'MOD', result: 'EQUAL', mod_revision: 0 }],
      success: [{ request_put: { key: b('/registry/pods/default/p'), value: b('{}') } }],
      failure: [{ request_range: { key: b('/registry/pods/default/p') } }],
    });
    const result = await t.apply({ type: 'txn', request: fromEtcd.txnRequest(request) });
    const reply = received<TxnResponse__Output>('TxnResponse', toEtcd.txnResponse(result, header));
    expect(reply.succeeded).toBe(true);
    expect(reply.header).toEqual({ cluster_id: '1', member_id: '2', revision: '2', raft_term: '3' });
    expect(reply.responses[0]!.response).toBe('response_put');

    // The same txn again fails its compare and reads the object back.
    const again = await t.apply({ type: 'txn', request: fromEtcd.txnRequest(request) });
    const second = received<TxnResponse__Output>('TxnResponse', toEtcd.txnResponse(again, header));
    expect(second.succeeded).toBe(false);
    const kv = second.responses[0]!.response_range!.kvs[0]!;
    expect(kv).toMatchObject({ mod_revision: '2', create_revision: '2', version: '1', lease: '0' });
    expect(kv.value.toString()).toBe('{}');
  });

  it('decodes ranges with every option and leases as int64', async () => {
    const { id } = await t.apply({ type: 'leaseGrant', request: { ttl: 60, id: 7_000_000_000_000_000_001n } });
    await t.put('a', '1', { lease: id });
    const request = received<RangeRequest__Output>('RangeRequest', {
      key: b('a'),
      range_end: Buffer.of(0),
      limit: 1,
      sort_order: 'DESCEND',
      sort_target: 'MOD',
      keys_only: true,
    });
    const decoded = fromEtcd.rangeRequest(request);
    expect(decoded).toMatchObject({ limit: 1, sortOrder: 'DESCEND', sortTarget: 'MOD', keysOnly: true, revision: 0 });
    const reply = toEtcd.rangeResponse(await t.store.range(decoded), header);
    expect(reply.kvs![0]!.lease).toBe('7000000000000000001');
    expect(() => fromEtcd.rangeRequest({ ...request, revision: '9223372036854775807' })).toThrow(/revision is out of range/);
  });

  it('turns a watch create request into watch options', async () => {
    const request = received<WatchRequest__Output>('WatchRequest', {
      create_request: { key: b('k'), start_revision: 1, filters: ['NODELETE'], prev_kv: true },
    });
    expect(request.request_union).toBe('create_request');
    const w = t.store.watch(fromEtcd.watchCreateRequest(request.create_request!));
    await t.put('k', 'v');
    await t.del('k');
    await t.put('k', 'w');
    const events = (await collect(w, (m) => m.flatMap((x) => (x.type === 'events' ? x.events : [])).length >= 2))
      .flatMap((m) => (m.type === 'events' ? m.events : []))
      .map(toEtcd.event);
    // The delete is filtered out; the second put re-creates the key, so it has no prev_kv.
    expect(events.map((e) => [e.type, e.kv?.mod_revision, e.prev_kv])).toEqual([
      ['PUT', 2, undefined],
      ['PUT', 4, undefined],
    ]);
  });
});
