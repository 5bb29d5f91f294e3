// @keel/tools-etcd-conformance: the etcd v3 behaviour Keel relies on, as a reusable Vitest
// suite, run here against Debian's etcd and by keel-store's tests against keel-store.
export { etcdApiSuite, type EtcdServerUnderTest } from './api-suite';
