// The vocabulary of the MVCC store: key-values, events, and the requests and results of
// every operation, shaped after etcd's v3 messages (same meanings, same enum names as the
// proto loader produces) but in TypeScript's own terms: keys and values are Buffers,
// revisions are numbers (exact up to 2^53, far past any store's life), lease IDs are
// bigints (etcd lets clients choose any positive int64).

/** A point in the store's history: `main` counts applied writes, `sub` orders changes within one. */
export interface Revision {
  main: number;
  sub: number;
}

export interface KeyValue {
  key: Buffer;
  createRevision: number;
  modRevision: number;
  /** 1 on the put that creates the key; +1 on each later put. */
  version: number;
  value: Buffer;
  /** 0n: no lease. */
  lease: bigint;
}

export type EventType = 'PUT' | 'DELETE';

export interface Event {
  type: EventType;
  /** For a DELETE: the key, with modRevision the revision of the delete and the rest zero. */
  kv: KeyValue;
  prevKv?: KeyValue;
}

export type SortOrder = 'NONE' | 'ASCEND' | 'DESCEND';
export type SortTarget = 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';

/** A key range as etcd spells it: no rangeEnd is one key, `\0` is every key >= key. */
export interface KeyRange {
  key: Buffer;
  rangeEnd?: Buffer;
}

export interface RangeRequest extends KeyRange {
  /** 0 or absent: no limit. */
  limit?: number;
  /** <= 0 or absent: the newest revision. */
  revision?: number;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  keysOnly?: boolean;
  countOnly?: boolean;
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

export interface RangeResult {
  /** The store's revision when the read was served (etcd's header.revision). */
  revision: number;
  kvs: KeyValue[];
  more: boolean;
  /** Keys in the range at the read revision, before limit and filters. */
  count: number;
}

export interface PutRequest {
  key: Buffer;
  value?: Buffer;
  lease?: bigint;
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}

export interface PutResult {
  revision: number;
  prevKv?: KeyValue;
}

export interface DeleteRangeRequest extends KeyRange {
  prevKv?: boolean;
}

export interface DeleteRangeResult {
  revision: number;
  deleted: number;
  prevKvs: KeyValue[];
}

export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
export type CompareTarget = 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';

export interface Compare extends KeyRange {
  result: CompareResult;
  target: CompareTarget;
  /** The operand for the target: a number for VERSION/CREATE/MOD, a Buffer for VALUE, a bigint for LEASE. */
  version?: number;
  createRevision?: number;
  modRevision?: number;
  value?: Buffer;
  lease?: bigint;
}

export type RequestOp =
  | { requestRange: RangeRequest }
  | { requestPut: PutRequest }
  | { requestDeleteRange: DeleteRangeRequest }
  | { requestTxn: TxnRequest };

export type ResponseOp =
  | { responseRange: RangeResult }
  | { responsePut: PutResult }
  | { responseDeleteRange: DeleteRangeResult }
  | { responseTxn: TxnResult };

export interface TxnRequest {
  compare?: Compare[];
  success?: RequestOp[];
  failure?: RequestOp[];
}

export interface TxnResult {
  revision: number;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactResult {
  revision: number;
  /** Settles once the compacted revisions are gone from disk (what etcd's `physical` waits for). */
  physical: Promise<void>;
}

export interface LeaseGrantRequest {
  /** Seconds. */
  ttl: number;
  /** 0n or absent: the store picks one, deterministically from the applied index. */
  id?: bigint;
}

export interface LeaseGrantResult {
  revision: number;
  id: bigint;
  ttl: number;
}

export interface LeaseRevokeResult {
  revision: number;
}

export interface LeaseTimeToLive {
  id: bigint;
  /** Whole seconds left (truncated, as etcd reports), -1 when the lease does not exist. */
  ttl: number;
  grantedTtl: number;
  keys: Buffer[];
}

/** One replicated change, as the store app decodes it from a committed log entry. */
export type Operation =
  | { type: 'put'; request: PutRequest }
  | { type: 'deleteRange'; request: DeleteRangeRequest }
  | { type: 'txn'; request: TxnRequest }
  /** `physical`: apply() answers only once the removed revisions are gone from disk (etcd's CompactionRequest.physical). */
  | { type: 'compact'; revision: number; physical?: boolean }
  | { type: 'leaseGrant'; request: LeaseGrantRequest }
  | { type: 'leaseRevoke'; id: bigint };

/** What applying each kind of operation answers. */
export interface OperationResults {
  put: PutResult;
  deleteRange: DeleteRangeResult;
  txn: TxnResult;
  compact: CompactResult;
  leaseGrant: LeaseGrantResult;
  leaseRevoke: LeaseRevokeResult;
}

export type OperationResult<O extends Operation = Operation> = OperationResults[O['type']];
