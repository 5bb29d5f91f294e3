// Translation between etcd's gRPC messages (as @grpc/proto-loader hands them over: snake
// case, int64 as decimal strings, bytes as Buffers, oneofs named) and the store's own
// types. It is here, beside the types it mirrors, so the store app's handlers stay thin
// and every member decodes a request the same way. Bad numbers are refused naming the field.
import type { Compare__Output } from '@keel/protos/etcdserverpb/Compare';
import type { DeleteRangeRequest__Output } from '@keel/protos/etcdserverpb/DeleteRangeRequest';
import type { DeleteRangeResponse } from '@keel/protos/etcdserverpb/DeleteRangeResponse';
import type { PutRequest__Output } from '@keel/protos/etcdserverpb/PutRequest';
import type { PutResponse } from '@keel/protos/etcdserverpb/PutResponse';
import type { RangeRequest__Output } from '@keel/protos/etcdserverpb/RangeRequest';
import type { RangeResponse } from '@keel/protos/etcdserverpb/RangeResponse';
import type { RequestOp__Output } from '@keel/protos/etcdserverpb/RequestOp';
import type { ResponseHeader } from '@keel/protos/etcdserverpb/ResponseHeader';
import type { ResponseOp } from '@keel/protos/etcdserverpb/ResponseOp';
import type { TxnRequest__Output } from '@keel/protos/etcdserverpb/TxnRequest';
import type { TxnResponse } from '@keel/protos/etcdserverpb/TxnResponse';
import type { WatchCreateRequest__Output } from '@keel/protos/etcdserverpb/WatchCreateRequest';
import type { Event as PbEvent } from '@keel/protos/mvccpb/Event';
import type { KeyValue as PbKeyValue } from '@keel/protos/mvccpb/KeyValue';
import { MvccError } from './errors';
import type {
  Compare,
  DeleteRangeRequest,
  DeleteRangeResult,
  Event,
  KeyValue,
  PutRequest,
  PutResult,
  RangeRequest,
  RangeResult,
  RequestOp,
  ResponseOp as MvccResponseOp,
  TxnRequest,
  TxnResult,
} from './types';
import type { WatchOptions } from './watch';

/** Builds the header for an answer at a revision (the store adds cluster, member and term). */
export type HeaderFor = (revision: number) => ResponseHeader;

/** An int64 field that holds a revision, count or TTL: must fit a JavaScript number exactly. */
export function int(text: string | undefined, field: string): number {
  if (text === undefined || text === '') return 0;
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new MvccError('Invalid', `${field} is out of range: ${text}`);
  return n;
}

/** An int64 lease ID. */
export function leaseId(text: string | undefined): bigint {
  return text === undefined || text === '' ? 0n : BigInt(text);
}

export const fromEtcd = {
  rangeRequest(pb: RangeRequest__Output): RangeRequest {
    return {
      key: pb.key,
      rangeEnd: pb.range_end,
      limit: int(pb.limit, 'limit'),
      revision: int(pb.revision, 'revision'),
      sortOrder: pb.sort_order,
      sortTarget: pb.sort_target,
      keysOnly: pb.keys_only,
      countOnly: pb.count_only,
      minModRevision: int(pb.min_mod_revision, 'min_mod_revision'),
      maxModRevision: int(pb.max_mod_revision, 'max_mod_revision'),
      minCreateRevision: int(pb.min_create_revision, 'min_create_revision'),
      maxCreateRevision: int(pb.max_create_revision, 'max_create_revision'),
    };
  },

  putRequest(pb: PutRequest__Output): PutRequest {
    return {
      key: pb.key,
      value: pb.value,
      lease: leaseId(pb.lease),
      prevKv: pb.prev_kv,
      ignoreValue: pb.ignore_value,
      ignoreLease: pb.ignore_lease,
    };
  },

  deleteRangeRequest(pb: DeleteRangeRequest__Output): DeleteRangeRequest {
    return { key: pb.key, rangeEnd: pb.range_end, prevKv: pb.prev_kv };
  },

  compare(pb: Compare__Output): Compare {
    const c: Compare = { key: pb.key, rangeEnd: pb.range_end, result: pb.result, target: pb.target };
    // The operand is whichever target_union member was sent; an unset one compares as zero.
    switch (pb.target) {
      case 'VERSION':
        c.version = int(pb.version, 'compare.version');
        break;
      case 'CREATE':
        c.createRevision = int(pb.create_revision, 'compare.create_revision');
        break;
      case 'MOD':
        c.modRevision = int(pb.mod_revision, 'compare.mod_revision');
        break;
      case 'VALUE':
        c.value = pb.value ?? Buffer.alloc(0);
        break;
      case 'LEASE':
        c.lease = leaseId(pb.lease);
        break;
    }
    return c;
  },

  requestOp(pb: RequestOp__Output): RequestOp {
    switch (pb.request) {
      case 'request_range':
        return { requestRange: fromEtcd.rangeRequest(pb.request_range!) };
      case 'request_put':
        return { requestPut: fromEtcd.putRequest(pb.request_put!) };
      case 'request_delete_range':
        return { requestDeleteRange: fromEtcd.deleteRangeRequest(pb.request_delete_range!) };
      case 'request_txn':
        return { requestTxn: fromEtcd.txnRequest(pb.request_txn!) };
      default:
        throw new MvccError('Invalid', 'txn operation has no request');
    }
  },

  txnRequest(pb: TxnRequest__Output): TxnRequest {
    return {
      compare: pb.compare.map(fromEtcd.compare),
      success: pb.success.map(fromEtcd.requestOp),
      failure: pb.failure.map(fromEtcd.requestOp),
    };
  },

  watchCreateRequest(pb: WatchCreateRequest__Output): WatchOptions {
    return {
      key: pb.key,
      rangeEnd: pb.range_end,
      startRevision: int(pb.start_revision, 'start_revision'),
      prevKv: pb.prev_kv,
      filters: pb.filters,
    };
  },
};

export const toEtcd = {
  keyValue(kv: KeyValue): PbKeyValue {
    return {
      key: kv.key,
      create_revision: kv.createRevision,
      mod_revision: kv.modRevision,
      version: kv.version,
      value: kv.value,
      lease: kv.lease.toString(),
    };
  },

  event(event: Event): PbEvent {
    const pb: PbEvent = { type: event.type, kv: toEtcd.keyValue(event.kv) };
    if (event.prevKv) pb.prev_kv = toEtcd.keyValue(event.prevKv);
    return pb;
  },

  rangeResponse(result: RangeResult, header: HeaderFor): RangeResponse {
    return { header: header(result.revision), kvs: result.kvs.map(toEtcd.keyValue), more: result.more, count: result.count };
  },

  putResponse(result: PutResult, header: HeaderFor): PutResponse {
    return { header: header(result.revision), prev_kv: result.prevKv ? toEtcd.keyValue(result.prevKv) : null };
  },

  deleteRangeResponse(result: DeleteRangeResult, header: HeaderFor): DeleteRangeResponse {
    return { header: header(result.revision), deleted: result.deleted, prev_kvs: result.prevKvs.map(toEtcd.keyValue) };
  },

  responseOp(op: MvccResponseOp, header: HeaderFor): ResponseOp {
    if ('responseRange' in op) return { response_range: toEtcd.rangeResponse(op.responseRange, header) };
    if ('responsePut' in op) return { response_put: toEtcd.putResponse(op.responsePut, header) };
    if ('responseDeleteRange' in op) {
      return { response_delete_range: toEtcd.deleteRangeResponse(op.responseDeleteRange, header) };
    }
    return { response_txn: toEtcd.txnResponse(op.responseTxn, header) };
  },

  txnResponse(result: TxnResult, header: HeaderFor): TxnResponse {
    return {
      header: header(result.revision),
      succeeded: result.succeeded,
      responses: result.responses.map((op) => toEtcd.responseOp(op, header)),
    };
  },
};
