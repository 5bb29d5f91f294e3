// @keel/tools-etcd: a real etcd cluster on loopback for compatibility tests and benchmarks.
export { startEtcdCluster, type EtcdCluster, type EtcdClusterOptions, type EtcdMember } from './etcd';
