// @keel/etcd-client: a client for the etcd v3 gRPC API (KV, Watch, Lease, Cluster,
// Maintenance) over Keel's own protos; used by the apiserver's storage and the benchmarks,
// against keel-store and against etcd alike.
export {
  EtcdClient,
  type Compare,
  type CompareResult,
  type EndpointStatus,
  type EtcdClientOptions,
  type Header,
  type MemberInfo,
  type RangeOptions,
  type RangeResult,
  type TxnOp,
  type TxnOpResult,
  type TxnRequest,
  type TxnResult,
} from './client';
export { EtcdError, type EtcdErrorKind } from './errors';
export { LeaseKeepAlive } from './lease';
export { prefixEnd, toBuffer, type Bytes, type KeyValue, type WatchEvent } from './types';
export { type WatchHandlers, type WatchOptions, type Watcher } from './watch';
