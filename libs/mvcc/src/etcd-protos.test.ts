// The etcd protos under protos/etcd must match etcd's wire format, or etcdctl and the
// etcd3 client silently misread keel-store. These checks pin the names and numbers that
// matter, from etcd's published rpc.proto and kv.proto, and the bytes of real encodings.
import * as protoLoader from '@grpc/proto-loader';
import { loaderOptions, protosRoot } from '@keel/protos';
import { describe, expect, it } from 'vitest';

const def = protoLoader.loadSync(['etcd/etcdserverpb/rpc.proto', 'etcd/mvccpb/kv.proto'], {
  ...loaderOptions,
  includeDirs: [protosRoot()],
});

type MessageDef = {
  type: { field: { name: string; number: number }[] };
  serialize: (value: object) => Buffer;
  deserialize: (bytes: Buffer) => Record<string, unknown>;
};

function message(name: string): MessageDef {
  const found = def[name] as MessageDef | undefined;
  if (!found) throw new Error(`no message ${name}`);
  return found;
}

function numbers(name: string): Record<string, number> {
  return Object.fromEntries(message(name).type.field.map((f) => [f.name, f.number]));
}

describe('etcd protos', () => {
  it('keeps etcd field numbers where clients depend on them', () => {
    expect(numbers('mvccpb.KeyValue')).toEqual({
      key: 1,
      create_revision: 2,
      mod_revision: 3,
      version: 4,
      value: 5,
      lease: 6,
    });
    expect(numbers('mvccpb.Event')).toEqual({ type: 1, kv: 2, prev_kv: 3 });
    expect(numbers('etcdserverpb.ResponseHeader')).toEqual({ cluster_id: 1, member_id: 2, revision: 3, raft_term: 4 });
    expect(numbers('etcdserverpb.RangeRequest')).toMatchObject({
      key: 1,
      range_end: 2,
      limit: 3,
      revision: 4,
      sort_order: 5,
      sort_target: 6,
      serializable: 7,
      keys_only: 8,
      count_only: 9,
      min_mod_revision: 10,
      max_mod_revision: 11,
      min_create_revision: 12,
      max_create_revision: 13,
    });
    expect(numbers('etcdserverpb.RangeResponse')).toEqual({ header: 1, kvs: 2, more: 3, count: 4 });
    expect(numbers('etcdserverpb.PutRequest')).toEqual({
      key: 1,
      value: 2,
      lease: 3,
      prev_kv: 4,
      ignore_value: 5,
      ignore_lease: 6,
    });
    expect(numbers('etcdserverpb.Compare')).toEqual({
      result: 1,
      target: 2,
      key: 3,
      version: 4,
      create_revision: 5,
      mod_revision: 6,
      value: 7,
      lease: 8,
      range_end: 64,
    });
    expect(numbers('etcdserverpb.RequestOp')).toEqual({
      request_range: 1,
      request_put: 2,
      request_delete_range: 3,
      request_txn: 4,
    });
    expect(numbers('etcdserverpb.WatchCreateRequest')).toEqual({
      key: 1,
      range_end: 2,
      start_revision: 3,
      progress_notify: 4,
      filters: 5,
      prev_kv: 6,
      watch_id: 7,
      fragment: 8,
    });
    expect(numbers('etcdserverpb.WatchResponse')).toEqual({
      header: 1,
      watch_id: 2,
      created: 3,
      canceled: 4,
      compact_revision: 5,
      cancel_reason: 6,
      fragment: 7,
      events: 11,
    });
    expect(numbers('etcdserverpb.LeaseTimeToLiveResponse')).toEqual({ header: 1, ID: 2, TTL: 3, grantedTTL: 4, keys: 5 });
    expect(numbers('etcdserverpb.StatusResponse')).toMatchObject({ raftAppliedIndex: 7, dbSizeInUse: 9, isLearner: 10 });
    expect(numbers('etcdserverpb.HashKVResponse')).toEqual({ header: 1, hash: 2, compact_revision: 3 });
    expect(numbers('etcdserverpb.SnapshotResponse')).toEqual({ header: 1, remaining_bytes: 2, blob: 3 });
  });

  it('encodes a RangeRequest byte for byte as etcd does', () => {
    const bytes = message('etcdserverpb.RangeRequest').serialize({
      key: Buffer.from('a'),
      range_end: Buffer.from('b'),
      limit: 5,
      revision: 7,
      sort_order: 'DESCEND',
      sort_target: 'MOD',
      count_only: true,
      min_mod_revision: 3,
    });
    // tag = field << 3 | wire type: 0a=1/LEN 12=2/LEN 18=3 20=4 28=5 30=6 48=9 50=10 (varints).
    expect(bytes.toString('hex')).toBe('0a0161' + '120162' + '1805' + '2007' + '2802' + '3003' + '4801' + '5003');
  });

  it('puts Compare.range_end at 64 and the oneof target_union in 4..8', () => {
    const compare = message('etcdserverpb.Compare');
    const bytes = compare.serialize({
      result: 'GREATER',
      target: 'MOD',
      key: Buffer.from('k'),
      mod_revision: 9,
      range_end: Buffer.from('l'),
    });
    expect(bytes.toString('hex')).toBe('0801' + '1002' + '1a016b' + '3009' + '8204016c');
    expect(compare.deserialize(bytes)['target_union']).toBe('mod_revision');
  });

  it('decodes a watch response with events at field 11 and its oneofs by name', () => {
    const response = message('etcdserverpb.WatchResponse');
    const bytes = response.serialize({
      watch_id: 1,
      events: [{ type: 'DELETE', kv: { key: Buffer.from('x'), mod_revision: 4 } }],
    });
    expect(bytes.subarray(2, 3).toString('hex')).toBe('5a');
    const decoded = response.deserialize(bytes) as { events: { type: string; kv: { mod_revision: string } }[] };
    expect(decoded.events[0]).toMatchObject({ type: 'DELETE', kv: { mod_revision: '4' } });
    const request = message('etcdserverpb.WatchRequest').deserialize(
      message('etcdserverpb.WatchRequest').serialize({ progress_request: {} }),
    );
    expect(request['request_union']).toBe('progress_request');
  });

  it('serves etcd service paths and streaming shapes', () => {
    const method = (service: string, name: string) =>
      (def[`etcdserverpb.${service}`] as protoLoader.ServiceDefinition)[name]!;
    expect(method('KV', 'Range').path).toBe('/etcdserverpb.KV/Range');
    expect(method('KV', 'Compact').path).toBe('/etcdserverpb.KV/Compact');
    expect(method('Watch', 'Watch')).toMatchObject({ requestStream: true, responseStream: true });
    expect(method('Lease', 'LeaseKeepAlive')).toMatchObject({ requestStream: true, responseStream: true });
    expect(method('Lease', 'LeaseLeases').path).toBe('/etcdserverpb.Lease/LeaseLeases');
    expect(method('Cluster', 'MemberPromote').path).toBe('/etcdserverpb.Cluster/MemberPromote');
    expect(method('Maintenance', 'Snapshot')).toMatchObject({ requestStream: false, responseStream: true });
    expect(method('Maintenance', 'HashKV').path).toBe('/etcdserverpb.Maintenance/HashKV');
  });
});
