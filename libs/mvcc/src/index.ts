// @keel/mvcc: the revisioned key-value store behind keel-store — revisions, ranges,
// transactions, compaction, watches, leases and snapshots over LevelDB, changed only by
// applying operations in log order. It knows nothing of Raft; apps/store joins the two.
export { MvccStore, type HashKVResult, type MvccOptions, type MvccSnapshot } from './store';
export { MvccError, GrpcCode, type MvccErrorCode } from './errors';
export { Watcher, type WatchFilter, type WatchMessage, type WatchOptions, type WatchLimits } from './watch';
export { prefixEnd } from './key-range';
export { MAX_LEASE_TTL } from './lessor';
export { encodeOperation, decodeOperation, validateOperation } from './operation';
export { fromEtcd, toEtcd, int, leaseId, type HeaderFor } from './etcd-wire';
export type * from './types';
