// @keel/tools-etcd-conformance: the etcd v3 behaviour Keel relies on, as reusable Vitest
// suites (the API, and a watch across a member failure), run here against Debian's etcd and
// by keel-store's tests against keel-store.
export { etcdApiSuite, type EtcdServerUnderTest } from './api-suite';
export { watchFailoverSuite, type FailoverCluster } from './watch-failover';
